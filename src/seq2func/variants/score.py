"""Variant effect prediction: VCF in, batched strand-averaged model scores out.

Steps
-----
1. :func:`read_vcf` reads a VCF (plain or gzip/bgzip) into one row per (variant, alternate
   allele); multi-allelic records are split.
2. :func:`check_alleles` compares every REF with the genome. Variants whose REF does not match,
   whose chromosome is not in the genome, or that are not sequence alleles (``<DEL>``, ``*``,
   breakends) or are longer than ``max_allele_length`` get a ``status`` other than ``ok`` and are
   reported but not scored.
3. :func:`allele_windows` builds the model input of both alleles, vectorised: each window holds
   ``left`` genome bases, then the allele, then the genome right of the REF allele, truncated to
   the input length (:func:`splice`). For accessibility models the allele starts at the window
   centre (``L // 2``), so SNVs and indels are compared at the same position.
4. :func:`score_accessibility` predicts reference and alternate windows of many variants per
   model call (both strands averaged, :func:`seq2func.models.predict_both_strands`; an ensemble
   averages seeds/folds) and gives, per task, ``delta_p_<task>`` (classifier models) or
   ``log2fc, jsd, aaq, ies, ips`` (count/profile models; :mod:`seq2func.variants.effects`; all
   signed scores are ALT relative to REF), and ``max_abs_<score>`` over tasks. The AAQ's
   reference set is :func:`reference_log_counts` (the dataset's peaks, same model, same job).
   :func:`score_null` scores the null (:mod:`seq2func.variants.null`) through the same code;
   :func:`add_pvalues` adds empirical p-values and Benjamini-Hochberg q-values of every score.
5. :func:`score_expression` scores variants inside promoter windows with a sequence-only
   expression model (input: the strand-oriented promoter window, TSS at offset ``upstream``;
   indels keep the TSS in place): ``delta_log1p_tpm_<sample>`` per gene and sample.
6. :func:`write_vcf` writes the input records with the scores as INFO fields (declared by
   ``##INFO`` header lines); :func:`seq2func.core.io.write_tsv_atomic` writes the same as a table.

Nothing loops over variants in Python except string parsing; windows are built with numpy
indexing per chromosome and predictions run in batches of ``chunk`` variants.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.sequence import Genome, distinct_rows, one_hot
from seq2func.variants import effects as ef
from seq2func.variants.vcf import check_alleles, read_vcf
from seq2func.variants.windows import allele_windows, gene_allele_windows

log = logging.getLogger(__name__)


def predict_allele_scores(model: Any, ref_w: np.ndarray, alt_w: np.ndarray,
                          ref_len: np.ndarray, alt_len: np.ndarray, tasks: Sequence[str],
                          reference: Sequence[np.ndarray] | None = None, profile_bin: int = 1,
                          batch_size: int = 512) -> dict[str, np.ndarray]:
    """Scores of one batch of variants from their reference/alternate windows.

    Both alleles' windows are predicted in one call on both strands
    (:func:`seq2func.models.predict_both_strands`: probabilities, profiles and log counts
    averaged over the strands; an ensemble model averages seeds/folds inside), each distinct
    window once (:func:`seq2func.core.sequence.distinct_rows`).

    Parameters
    ----------
    model
        Accessibility model or ensemble.
    ref_w, alt_w
        ``(n, L)`` codes of both alleles' windows (allele at ``L // 2``).
    ref_len, alt_len
        ``(n,)`` allele lengths (indel alignment of the profiles).
    tasks
        Task names (column suffixes), in the model's output order.
    reference
        Per task, predicted log counts of the reference windows (:func:`reference_log_counts`);
        without it ``aaq`` and ``ips`` are not computed.
    profile_bin
        Bases per profile bin.
    batch_size
        Windows per model call.

    Returns
    -------
    dict
        Column -> ``(n,)`` values: ``ref_p_<t>, delta_p_<t>`` (``labels``),
        ``ref_log_counts_<t>, log2fc_<t>`` and, with a reference, ``aaq_<t>, ips_<t>``
        (``log_counts``), ``jsd_<t>, ies_<t>`` (``profile`` and ``log_counts``); see
        :mod:`seq2func.variants.effects` for definitions and signs (alt relative to ref).
    """
    from seq2func.models import predict_both_strands

    n = ref_w.shape[0]
    # each distinct window once (alleles at one position share their reference window)
    distinct, inverse = distinct_rows(np.concatenate([ref_w, alt_w]))
    pred = {k: v[inverse] for k, v in predict_both_strands(model, one_hot(distinct),
                                                           batch_size=batch_size).items()}
    fam: dict[str, np.ndarray] = {}
    if "labels" in pred:
        pr, pa = pred["labels"][:n], pred["labels"][n:]
        fam["ref_p"], fam["delta_p"] = pr, pa - pr
    if "log_counts" in pred:
        cr, ca = pred["log_counts"][:n], pred["log_counts"][n:]
        fam["ref_log_counts"], fam["log2fc"] = cr, ef.log2_fold_change(cr, ca)
        if reference is not None:
            fam["aaq"] = ef.active_allele_quantile(cr, ca, list(reference))
        if "profile" in pred:
            prof = pred["profile"]
            length, bins = ref_w.shape[1], prof.shape[1]
            centre = (length // 2 - (length - bins * profile_bin) // 2) // profile_bin
            fam["jsd"] = ef.allele_jsd(prof[:n], prof[n:], ref_len, alt_len,
                                       int(np.clip(centre, 0, bins - 1)), profile_bin)
            fam["ies"] = np.abs(fam["log2fc"]) * fam["jsd"]
            if "aaq" in fam:
                fam["ips"] = fam["log2fc"] * fam["jsd"] * fam["aaq"]
    out: dict[str, np.ndarray] = {}
    for f, values in fam.items():
        if values.ndim != 2 or values.shape[1] != len(tasks):
            raise ValueError(f"model output {f} has shape {values.shape}, expected "
                             f"({n}, {len(tasks)}) for tasks {list(tasks)}")
        for ti, t in enumerate(tasks):
            out[f"{f}_{t}"] = np.asarray(values[:, ti], np.float64)
    return out


def _lengths(variants: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    ref = variants["ref"].to_numpy(str)
    alt = variants["alt"].to_numpy(str)
    if not len(ref):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.char.str_len(ref).astype(np.int64), np.char.str_len(alt).astype(np.int64)


def score_accessibility(model: Any, genome: Genome, variants: pd.DataFrame, tasks: Sequence[str],
                        chunk: int = 4096, batch_size: int = 512, progress: bool = False,
                        reference: Sequence[np.ndarray] | None = None, profile_bin: int = 1
                        ) -> pd.DataFrame:
    """Strand-averaged reference/alternate predictions of ``ok`` variants, in batches.

    Returns a frame indexed like ``variants`` with the columns of
    :func:`predict_allele_scores` (``delta_p_<task>`` for classifiers; ``log2fc, jsd, aaq,
    ies, ips`` per task for count/profile models) and ``max_abs_<score>`` per score family
    (:func:`add_max_abs`); NaN for variants that are not ``ok``.
    """
    length = int(model.input_shape[1])
    ok = np.flatnonzero((variants["status"] == "ok").to_numpy())
    cols: dict[str, np.ndarray] = {}
    it = range(0, ok.size, chunk)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="variants", unit="chunk")
    for a in it:
        rows = ok[a : a + chunk]
        part = variants.iloc[rows]
        ref_w, alt_w = allele_windows(genome, part, length)
        lr, la = _lengths(part)
        got = predict_allele_scores(model, ref_w, alt_w, lr, la, tasks, reference, profile_bin,
                                    batch_size)
        for key, values in got.items():
            _put(cols, key, rows, values, len(variants))
    return add_max_abs(pd.DataFrame(cols, index=variants.index), tasks)


NULL_METHODS = ("genome", "shuffle")


def score_null(model: Any, genome: Genome, variants: pd.DataFrame, tasks: Sequence[str],
               n: int, seed: int, chunk: int = 4096, batch_size: int = 512,
               reference: Sequence[np.ndarray] | None = None, profile_bin: int = 1,
               method: str = "genome", exclude: pd.DataFrame | None = None) -> pd.DataFrame:
    """Scores of ``n`` null variants, built by ``method`` (see :mod:`seq2func.variants.null`).

    * ``genome``: random variants at random genome positions (outside the ``exclude``
      intervals, e.g. the peak regions), GC-matched to the scored variants and with their
      allele shapes (:func:`~seq2func.variants.null.random_genome_variants`);
    * ``shuffle``: the scored variants' alleles in their dinucleotide-shuffled contexts
      (ChromBPNet's variant scorer; :func:`~seq2func.variants.null.shuffled_allele_windows`).

    Same score columns as :func:`score_accessibility`, one row per null variant (with
    ``chrom, pos, ref, alt`` and ``null_source``, the scored variant it copies).

    Raises
    ------
    ValueError
        For an unknown ``method``.
    """
    from seq2func.variants.null import (
        random_genome_variants,
        sample_null_variants,
        shuffled_allele_windows,
    )

    if method not in NULL_METHODS:
        raise ValueError(f"unknown null method {method!r}; use one of {NULL_METHODS}")
    length = int(model.input_shape[1])
    if method == "genome":
        null = random_genome_variants(genome, variants, n, length, seed, exclude=exclude)
    else:
        null = sample_null_variants(variants, n, seed)
    rng = np.random.default_rng(seed + 1)
    cols: dict[str, np.ndarray] = {}
    for a in range(0, len(null), chunk):
        rows = np.arange(a, min(a + chunk, len(null)))
        part = null.iloc[rows]
        if method == "genome":
            ref_w, alt_w = allele_windows(genome, part, length)
        else:
            ref_w, alt_w = shuffled_allele_windows(genome, part, length, rng)
        lr, la = _lengths(part)
        got = predict_allele_scores(model, ref_w, alt_w, lr, la, tasks, reference, profile_bin,
                                    batch_size)
        for key, values in got.items():
            _put(cols, key, rows, values, len(null))
    keep = null[["chrom", "pos", "ref", "alt", "null_source"]].reset_index(drop=True)
    scores = add_max_abs(pd.DataFrame(cols, index=keep.index), tasks)
    return pd.concat([keep, scores], axis=1)


def score_families(columns: Sequence[str], tasks: Sequence[str]) -> list[str]:
    """Score families (:data:`seq2func.variants.effects.COUNT_SCORES`, ``delta_p``) present as
    per-task columns ``<family>_<task>``."""
    have = set(columns)
    return [f for f in (*ef.CLASSIFIER_SCORES, *ef.COUNT_SCORES)
            if all(f"{f}_{t}" in have for t in tasks)]


def add_max_abs(scores: pd.DataFrame, tasks: Sequence[str]) -> pd.DataFrame:
    """Add ``max_abs_<family>``: the largest test statistic (``|score|`` of signed scores, the
    score of non-negative ones) over tasks, the variant's overall score of that family."""
    out = scores.copy()
    for f in score_families(list(scores), tasks):
        stat = np.stack([ef.null_statistic(f, scores[f"{f}_{t}"].to_numpy(float))
                         for t in tasks], axis=1)
        with np.errstate(invalid="ignore"):
            out[f"max_abs_{f}"] = (np.max(stat, axis=1) if stat.shape[1] else
                                   np.full(len(out), np.nan))
    return out


def tested_columns(columns: Sequence[str], tasks: Sequence[str]) -> list[tuple[str, str]]:
    """``(column, family)`` of every score column that gets a p-value."""
    out = []
    for f in score_families(columns, tasks):
        out += [(f"{f}_{t}", f) for t in tasks]
        if f"max_abs_{f}" in columns:
            out.append((f"max_abs_{f}", f))
    return out


def variant_class(variants: pd.DataFrame) -> np.ndarray:
    """``snv`` (REF and ALT of equal length: SNVs, MNPs) or ``indel`` per row."""
    lr, la = _lengths(variants)
    return np.where(lr == la, "snv", "indel")


def add_pvalues(scores: pd.DataFrame, null: pd.DataFrame, tasks: Sequence[str],
                classes: np.ndarray | None = None) -> pd.DataFrame:
    """Add ``pval_<column>`` and ``qval_<column>`` to every tested score column.

    p-value: ``(1 + #{null >= obs}) / (1 + n_null)`` on the test statistic (``|score|`` of
    signed scores; :func:`seq2func.variants.null.empirical_pvalues`), against the null
    variants of the same class (:func:`variant_class`: SNVs against SNVs, indels against
    indels, since indels move whole flanks and score higher; the whole null if it has none of
    the class) when ``classes`` (per row of ``scores``) is given and the null has
    ``ref``/``alt``. q-value: Benjamini-Hochberg over the variants that have the score (all
    classes together). NaN where the score is NaN.

    Raises
    ------
    ValueError
        If the null lacks a score column of ``scores`` or ``classes`` has the wrong length.
    """
    from seq2func.variants.null import bh_qvalues, empirical_pvalues

    if classes is not None and len(classes) != len(scores):
        raise ValueError(f"add_pvalues: {len(classes)} classes for {len(scores)} variants")
    null_classes = (variant_class(null) if classes is not None and {"ref", "alt"} <= set(null)
                    else None)
    out = scores.copy()
    for col, f in tested_columns(list(scores), tasks):
        if col not in null:
            raise ValueError(f"the null has no column {col!r} (scored by another model?)")
        obs = scores[col].to_numpy(float)
        bg = null[col].to_numpy(float)
        if not col.startswith("max_abs_"):
            obs, bg = ef.null_statistic(f, obs), ef.null_statistic(f, bg)
        if null_classes is None or classes is None:
            p = empirical_pvalues(obs, bg)
        else:
            p = np.full(obs.shape, np.nan)
            for c in np.unique(classes):
                rows = classes == c
                same = null_classes == c
                p[rows] = empirical_pvalues(obs[rows], bg[same] if same.any() else bg)
        out[f"pval_{col}"] = p
        out[f"qval_{col}"] = bh_qvalues(p)
    return out


def reference_log_counts(model: Any, genome: Genome, regions: pd.DataFrame,
                         tasks: Sequence[str], n: int, seed: int, batch_size: int = 512
                         ) -> list[np.ndarray]:
    """Predicted log counts of each task's reference windows: the AAQ's reference set.

    As ChromBPNet's scorer (``--peaks``, ``--max_peaks``): the task's peaks. Here up to ``n``
    peak regions of the dataset (any task's, all splits, drawn with ``seed``) are predicted,
    windows centred on the region centre, both strands averaged, by the same model as the
    variants; task ``t`` uses those that are its own peaks (``is_peak_<t>``; all drawn peaks
    if none is).

    Raises
    ------
    InputError
        If the region table has no peak column of a task or no peak at all.
    """
    from seq2func.models import predict_both_strands

    need = [f"is_peak_{t}" for t in tasks]
    missing = [c for c in need if c not in regions]
    if missing:
        raise InputError("regions.tsv.gz", f"no column(s) {missing}",
                         fix="score with the dataset the model was trained on")
    is_peak = regions[need].to_numpy(float) > 0
    peaks = np.flatnonzero(is_peak.any(axis=1))
    if peaks.size == 0:
        raise InputError("regions.tsv.gz", "no peak region: the active allele quantile needs "
                         "peaks as its reference", fix="check the dataset")
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(peaks, size=min(n, peaks.size), replace=False))
    sel = regions.iloc[pick]
    length = int(model.input_shape[1])
    chroms = [genome.resolve(c) for c in sel["chrom"].astype(str)]
    codes = genome.windows(chroms, sel["centre"].to_numpy(np.int64) - length // 2, length)
    lc = predict_both_strands(model, one_hot(codes), batch_size=batch_size)["log_counts"]
    own = is_peak[pick]
    out = []
    for ti in range(len(tasks)):
        mine = own[:, ti]
        out.append(np.asarray(lc[mine if mine.any() else slice(None), ti], np.float64))
    return out


def _put(cols: dict[str, np.ndarray], key: str, rows: np.ndarray, values: np.ndarray,
         n: int) -> None:
    if key not in cols:
        cols[key] = np.full(n, np.nan)
    cols[key][rows] = values


def expression_window(run_json: str | Path) -> dict[str, Any]:
    """``expression_window`` (``upstream, downstream, samples`` and, for models with a
    gene-end window, ``end_upstream, end_downstream, spacer``) of an expression model."""
    from seq2func.core.io import read_json

    rec = read_json(run_json)
    win = rec.get("expression_window") or rec.get("config", {}).get("expression_window")
    if not win or not {"upstream", "downstream", "samples"} <= set(win):
        raise InputError(run_json, "no 'expression_window' with upstream, downstream and samples",
                         fix="train the expression model with this version of seq2func")
    return win


def score_expression(model: Any, genome: Genome, variants: pd.DataFrame, genes: pd.DataFrame,
                     window: Mapping[str, Any], batch_size: int = 256) -> pd.DataFrame:
    """Scores of variants in the promoter or gene-end windows with a sequence-only expression
    model (inputs: :func:`~seq2func.variants.windows.gene_allele_windows`).

    The expression model reads one strand-oriented input, so predictions are not averaged
    over strands. Returns one row per (variant, gene): ``vrow, gene_id, gene_name`` and
    ``delta_log1p_tpm_<sample>`` (alternate minus reference predicted ``log1p(TPM)``).

    Raises
    ------
    seq2func.core.errors.InputError
        If the model has a gene-end window and the gene table no ``tes`` column
        (:func:`~seq2func.variants.windows.gene_allele_windows`).
    """
    samples = list(window["samples"])
    cols = ["vrow", "gene_id", "gene_name", *[f"delta_log1p_tpm_{s}" for s in samples]]
    pairs, ref_w, alt_w = gene_allele_windows(genome, variants, genes, dict(window))
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    distinct, inverse = distinct_rows(np.concatenate([ref_w, alt_w]))
    from seq2func.models import predict_batched

    pred = predict_batched(model, one_hot(distinct), batch_size)
    if isinstance(pred, dict):
        pred = pred["expression"] if "expression" in pred else next(iter(pred.values()))
    pred = np.asarray(pred, dtype=np.float64)[inverse]
    if pred.ndim != 2 or pred.shape[1] != len(samples):
        raise ValueError(f"expression model outputs {pred.shape}, expected (n, {len(samples)})")
    n = len(pairs)
    g = genes.reset_index(drop=True).loc[pairs["grow"]]
    out = pd.DataFrame({"vrow": pairs["vrow"].to_numpy(), "gene_id": g["gene_id"].to_numpy(),
                        "gene_name": g.get("gene_name", g["gene_id"]).to_numpy()})
    for i, s in enumerate(samples):
        out[f"delta_log1p_tpm_{s}"] = pred[n:, i] - pred[:n, i]
    return out[cols]


_FAMILY_TEXT = {
    "delta_p": "change in predicted peak probability of {t} (alt - ref; > 0: ALT more "
               "accessible)",
    "log2fc": "log2 fold change of predicted counts of {t}, log2(alt / ref) (> 0: ALT more "
              "accessible)",
    "jsd": "Jensen-Shannon distance (base 2, 0..1) between the alleles' predicted profiles of "
           "{t} (indels aligned; unsigned)",
    "aaq": "active allele quantile of {t}: quantile of the stronger allele's predicted counts "
           "among the task's peaks (unsigned)",
    "ies": "integrative effect size of {t}: |log2fc| x jsd (unsigned)",
    "ips": "integrative prioritisation score of {t}: log2fc x jsd x aaq (sign of log2fc)",
}


_NULL_TEXT = {"genome": "random GC-matched genome variants outside peaks with the scored "
                        "variants' allele shapes",
              "shuffle": "the variants in dinucleotide-shuffled contexts"}


def score_descriptions(columns: Sequence[str], model: str, tasks: Sequence[str] = (),
                       n_null: int = 0, null_method: str = "genome") -> dict[str, str]:
    """Human-readable description of each score column (for ``##INFO`` lines).

    Every model score is averaged over both strands and over the models given (seeds, folds).
    """
    avg = "both strands, seeds and folds averaged"
    out = {}
    per_task = {f"{f}_{t}": (f, t) for f in _FAMILY_TEXT for t in tasks}
    for c in columns:
        base = c[5:] if c.startswith(("pval_", "qval_")) else c
        if c.startswith("pval_"):
            out[c] = (f"{model}: empirical p-value of {base} against {n_null} null variants "
                      f"({_NULL_TEXT.get(null_method, null_method)}; SNVs against SNVs, "
                      "indels against indels): (1 + #null >= obs) / (1 + n_null) on |score| "
                      "(signed scores) or the score")
        elif c.startswith("qval_"):
            out[c] = f"{model}: Benjamini-Hochberg q-value of pval_{base} over the variants"
        elif c in per_task:
            f, t = per_task[c]
            out[c] = f"{model}: {_FAMILY_TEXT[f].format(t=t)}, {avg}"
        elif c.startswith("delta_p_"):
            out[c] = f"{model}: {_FAMILY_TEXT['delta_p'].format(t=c[8:])}, {avg}"
        elif c.startswith("log2fc_"):
            out[c] = f"{model}: {_FAMILY_TEXT['log2fc'].format(t=c[7:])}, {avg}"
        elif c.startswith("max_abs_") and c[8:] in _FAMILY_TEXT:
            out[c] = (f"{model}: largest |{c[8:]}| over tasks (the variant's overall "
                      f"{c[8:]} score)")
        elif c.startswith("delta_log1p_tpm_"):
            out[c] = (f"expression model: change in predicted log1p(TPM) of {c[16:]} for the "
                      "gene of S2F_expression_gene (largest absolute change if several)")
        elif c == "max_abs_score":
            out[c] = f"{model}: largest absolute accessibility score over tasks"
    return out


class ScoredVariants(NamedTuple):
    """What :func:`score_vcf` returns."""

    #: the input VCF's ``##`` header lines
    header: list[str]
    #: one row per (variant, ALT): input columns, ``status``, scores, p- and q-values
    table: pd.DataFrame
    #: float INFO fields (column -> description)
    floats: dict[str, str]
    #: string INFO fields (column -> description)
    strings: dict[str, str]
    #: scores of the null variants (empty without a null)
    null: pd.DataFrame


def score_vcf(vcf: str | Path, genome_path: str | Path, model_paths: Sequence[str | Path],
              tasks: Sequence[str], *, model_name: str = "model",
              expression_models: Sequence[str | Path] | None = None,
              genes_path: str | Path | None = None,
              max_allele_length: int = 50, chunk: int = 4096, batch_size: int = 512,
              progress: bool = False, regions: pd.DataFrame | None = None,
              null_variants: int = 0, null_seed: int = 0, null_method: str = "genome",
              n_reference: int = 500, profile_bin: int = 1) -> ScoredVariants:
    """Check and score every variant of a VCF with an accessibility model (and optionally
    a sequence-only expression model for promoter variants).

    Several ``model_paths`` (or ``expression_models``), e.g. the seeds or folds of a model,
    score as their ensemble (:func:`seq2func.models.load_ensemble`): the mean of their
    predicted probabilities, profiles and log counts.

    With ``regions`` (the dataset's region table) count models also get ``aaq`` and ``ips``
    (reference: ``n_reference`` peaks, :func:`reference_log_counts`); with ``null_variants``
    > 0 the null (:func:`score_null`, ``null_method``, seed ``null_seed``) is scored in the
    same job and every score gets ``pval_`` and ``qval_`` columns (:func:`add_pvalues`).

    Returns
    -------
    ScoredVariants
        The VCF header lines, the table (input columns, ``status``, scores, ``max_abs_score``,
        p/q-values, and with an expression model ``expression_gene`` plus
        ``delta_log1p_tpm_<sample>`` of the gene with the largest absolute change), the
        descriptions of float and string INFO fields for :func:`write_vcf`, the null's scores.
    """
    from seq2func.models import load_ensemble

    header, table = read_vcf(vcf)
    with Genome(genome_path) as genome:
        table = check_alleles(table, genome, max_allele_length)
        counts = table["status"].value_counts().to_dict()
        log.info("%d alleles: %s", len(table), counts)
        if counts.get("ref_mismatch"):
            bad = table[table["status"] == "ref_mismatch"].head(5)
            log.warning("%d variants whose REF does not match the genome are reported, not "
                        "scored (first: %s)", counts["ref_mismatch"],
                        ", ".join(f"line {r.line} {r.chrom}:{r.pos} {r.ref}"
                                  for r in bad.itertuples()))
        model = load_ensemble(model_paths)
        outputs = set(model.output) if isinstance(model.output, dict) else set()
        reference = None
        if regions is not None and "log_counts" in outputs:
            reference = reference_log_counts(model, genome, regions, tasks, n_reference,
                                             null_seed, batch_size)
            log.info("AAQ reference: %s peaks per task", [r.size for r in reference])
        scores = score_accessibility(model, genome, table, tasks, chunk=chunk,
                                     batch_size=batch_size, progress=progress,
                                     reference=reference, profile_bin=profile_bin)
        null = pd.DataFrame()
        n_ok = int((table["status"] == "ok").sum())
        if null_variants > 0 and n_ok:
            null = score_null(model, genome, table, tasks, null_variants, null_seed,
                              chunk=chunk, batch_size=batch_size, reference=reference,
                              profile_bin=profile_bin, method=null_method,
                              exclude=_peak_intervals(regions, tasks, genome))
            scores = add_pvalues(scores, null, tasks, variant_class(table))
            log.info("null: %d variants (%s)", len(null), null_method)
        table = pd.concat([table, scores], axis=1)
        main = [c for c in scores if c.startswith(("delta_p_", "log2fc_"))]
        table["max_abs_score"] = (table[main].abs().max(axis=1, skipna=False) if main
                                  else np.nan)
        described = [c for c in scores if not c.startswith(("ref_p_", "ref_log_counts_"))]
        strings: dict[str, str] = {}
        ecols: list[str] = []
        if expression_models:
            if genes_path is None:
                raise ValueError("an expression model needs the gene table (genes_path)")
            win = expression_window(Path(expression_models[0]).parent / "run.json")
            genes = pd.read_csv(genes_path, sep="\t", dtype={"chrom": str})
            genes = genes.assign(chrom=[genome.resolve(c) if c in genome.sizes
                                        or _resolvable(genome, c) else c
                                        for c in genes["chrom"]])
            expr = score_expression(load_ensemble(expression_models), genome, table, genes, win)
            ecols = [c for c in expr if c.startswith("delta_log1p_tpm_")]
            if len(expr):
                expr = expr.assign(_m=expr[ecols].abs().max(axis=1)).sort_values(
                    ["vrow", "_m"], ascending=[True, False], kind="stable")
                best = expr.drop_duplicates("vrow").set_index("vrow")
                table["expression_gene"] = best["gene_id"].reindex(table.index)
                for c in ecols:
                    table[c] = best[c].reindex(table.index)
            else:
                table["expression_gene"] = np.nan
                for c in ecols:
                    table[c] = np.nan
            strings["expression_gene"] = ("gene whose promoter window holds the variant "
                                          "(largest predicted expression change)")
    desc = score_descriptions([*described, *ecols, "max_abs_score"], model_name, tasks,
                              len(null), null_method)
    return ScoredVariants(header, table, desc, strings, null)


def _peak_intervals(regions: pd.DataFrame | None, tasks: Sequence[str], genome: Genome
                    ) -> pd.DataFrame | None:
    """Peak regions of the dataset (any task) as genome-named intervals, or None."""
    cols = [f"is_peak_{t}" for t in tasks]
    if regions is None or not set(cols) <= set(regions):
        return None
    peaks = regions[(regions[cols].to_numpy(float) > 0).any(axis=1)]
    return pd.DataFrame({"chrom": [genome.resolve(c) for c in peaks["chrom"].astype(str)],
                         "start": peaks["start"].to_numpy(np.int64),
                         "end": peaks["end"].to_numpy(np.int64)})


def _resolvable(genome: Genome, chrom: str) -> bool:
    try:
        genome.resolve(chrom)
    except KeyError:
        return False
    return True
