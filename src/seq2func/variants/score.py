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
   model call (both strands averaged, :func:`seq2func.models.predict_both_strands`) and gives,
   per task, ``delta_p_<task>`` (change of peak probability, classifier models) and
   ``log2fc_<task>`` (log2 fold change of predicted counts, count models).
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
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.sequence import Genome, one_hot
from seq2func.variants.vcf import check_alleles, read_vcf
from seq2func.variants.windows import allele_windows, promoter_allele_windows, promoter_hits

log = logging.getLogger(__name__)


def score_accessibility(model: Any, genome: Genome, variants: pd.DataFrame, tasks: Sequence[str],
                        chunk: int = 4096, batch_size: int = 512, progress: bool = False
                        ) -> pd.DataFrame:
    """Strand-averaged reference/alternate predictions of ``ok`` variants, in batches.

    Returns a frame indexed like ``variants`` with, per task, ``ref_p_, delta_p_<task>``
    (models with a ``labels`` output) and ``ref_log_counts_, log2fc_<task>`` (models with
    ``log_counts``); NaN for variants that are not ``ok``.
    """
    from seq2func.models import predict_both_strands

    length = int(model.input_shape[1])
    ok = np.flatnonzero((variants["status"] == "ok").to_numpy())
    cols: dict[str, np.ndarray] = {}
    it = range(0, ok.size, chunk)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="variants", unit="chunk")
    for a in it:
        rows = ok[a : a + chunk]
        ref_w, alt_w = allele_windows(genome, variants.iloc[rows], length)
        pred = predict_both_strands(model, one_hot(np.concatenate([ref_w, alt_w])),
                                    batch_size=batch_size)
        n = rows.size
        for ti, t in enumerate(tasks):
            if "labels" in pred:
                pr, pa = pred["labels"][:n, ti], pred["labels"][n:, ti]
                _put(cols, f"ref_p_{t}", rows, pr, len(variants))
                _put(cols, f"delta_p_{t}", rows, pa - pr, len(variants))
            if "log_counts" in pred:
                cr, ca = pred["log_counts"][:n, ti], pred["log_counts"][n:, ti]
                _put(cols, f"ref_log_counts_{t}", rows, cr, len(variants))
                _put(cols, f"log2fc_{t}", rows, (ca - cr) / math.log(2), len(variants))
    return pd.DataFrame(cols, index=variants.index)


def _put(cols: dict[str, np.ndarray], key: str, rows: np.ndarray, values: np.ndarray,
         n: int) -> None:
    if key not in cols:
        cols[key] = np.full(n, np.nan)
    cols[key][rows] = values


def expression_window(run_json: str | Path) -> dict[str, Any]:
    """``expression_window`` (``upstream, downstream, samples``) of an expression model."""
    from seq2func.core.io import read_json

    rec = read_json(run_json)
    win = rec.get("expression_window") or rec.get("config", {}).get("expression_window")
    if not win or not {"upstream", "downstream", "samples"} <= set(win):
        raise InputError(run_json, "no 'expression_window' with upstream, downstream and samples",
                         fix="train the expression model with this version of seq2func")
    return win


def score_expression(model: Any, genome: Genome, variants: pd.DataFrame, genes: pd.DataFrame,
                     window: Mapping[str, Any], batch_size: int = 256) -> pd.DataFrame:
    """Scores of variants in promoter windows with a sequence-only expression model.

    The expression model reads one strand-oriented window, so predictions are not averaged
    over strands. Returns one row per (variant, gene): ``vrow, gene_id, gene_name`` and
    ``delta_log1p_tpm_<sample>`` (alternate minus reference predicted ``log1p(TPM)``).
    """
    up, down = int(window["upstream"]), int(window["downstream"])
    samples = list(window["samples"])
    hits = promoter_hits(variants, genes, up, down)
    cols = ["vrow", "gene_id", "gene_name", *[f"delta_log1p_tpm_{s}" for s in samples]]
    if hits.empty:
        return pd.DataFrame(columns=cols)
    ref_w, alt_w = promoter_allele_windows(genome, variants, hits, up + down)
    x = one_hot(np.concatenate([ref_w, alt_w]))
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    if isinstance(pred, dict):
        pred = pred["expression"] if "expression" in pred else next(iter(pred.values()))
    pred = np.asarray(pred, dtype=np.float64)
    if pred.ndim != 2 or pred.shape[1] != len(samples):
        raise ValueError(f"expression model outputs {pred.shape}, expected (n, {len(samples)})")
    n = len(hits)
    g = genes.reset_index(drop=True).loc[hits["grow"]]
    out = pd.DataFrame({"vrow": hits["vrow"].to_numpy(), "gene_id": g["gene_id"].to_numpy(),
                        "gene_name": g.get("gene_name", g["gene_id"]).to_numpy()})
    for i, s in enumerate(samples):
        out[f"delta_log1p_tpm_{s}"] = pred[n:, i] - pred[:n, i]
    return out[cols]


def score_descriptions(columns: Sequence[str], model: str) -> dict[str, str]:
    """Human-readable description of each score column (for ``##INFO`` lines)."""
    out = {}
    for c in columns:
        if c.startswith("delta_p_"):
            out[c] = (f"{model}: change in predicted peak probability of {c[8:]} "
                      "(alt - ref, both strands averaged)")
        elif c.startswith("log2fc_"):
            out[c] = (f"{model}: log2 fold change of predicted counts of {c[7:]} "
                      "(alt / ref, both strands averaged)")
        elif c.startswith("delta_log1p_tpm_"):
            out[c] = (f"expression model: change in predicted log1p(TPM) of {c[16:]} for the "
                      "gene of S2F_expression_gene (largest absolute change if several)")
        elif c == "max_abs_score":
            out[c] = f"{model}: largest absolute accessibility score over tasks"
    return out


def score_vcf(vcf: str | Path, genome_path: str | Path, model_paths: Sequence[str | Path],
              tasks: Sequence[str], *, model_name: str = "model",
              expression_models: Sequence[str | Path] | None = None,
              genes_path: str | Path | None = None,
              max_allele_length: int = 50, chunk: int = 4096, batch_size: int = 512,
              progress: bool = False) -> tuple[list[str], pd.DataFrame, dict[str, str],
                                                dict[str, str]]:
    """Check and score every variant of a VCF with an accessibility model (and optionally
    a sequence-only expression model for promoter variants).

    Several ``model_paths`` (or ``expression_models``), e.g. the seeds of a model, score as
    their seed ensemble (:func:`seq2func.models.load_ensemble`): the mean of their predicted
    probabilities and log counts.

    Returns the VCF header lines, the table (input columns, ``status``, scores,
    ``max_abs_score``, and with an expression model ``expression_gene`` plus
    ``delta_log1p_tpm_<sample>`` of the gene with the largest absolute change), and the
    descriptions of float and string INFO fields for :func:`write_vcf`.
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
        scores = score_accessibility(model, genome, table, tasks, chunk=chunk,
                                     batch_size=batch_size, progress=progress)
        table = pd.concat([table, scores], axis=1)
        main = [c for c in scores if c.startswith(("delta_p_", "log2fc_"))]
        table["max_abs_score"] = (table[main].abs().max(axis=1, skipna=False) if main
                                  else np.nan)
        strings: dict[str, str] = {}
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
            main += ecols
    desc = score_descriptions([*main, "max_abs_score"], model_name)
    return header, table, desc, strings


def _resolvable(genome: Genome, chrom: str) -> bool:
    try:
        genome.resolve(chrom)
    except KeyError:
        return False
    return True
