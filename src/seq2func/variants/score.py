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
   model call (both strands averaged, :func:`seq2func.models.accessibility.predict_both_strands`) and gives,
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

import gzip
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.sequence import ASCII_TO_CODE, N_CODE, Genome, one_hot, reverse_complement

log = logging.getLogger(__name__)

VCF_COLUMNS = ("chrom", "pos", "id", "ref", "alt", "qual", "filter", "info")
_ALLELE = re.compile(r"^[ACGTNacgtn]+$")
#: statuses of :func:`check_alleles`; only ``ok`` is scored
STATUSES = ("ok", "ref_mismatch", "unknown_chrom", "symbolic", "too_long", "outside_chrom")


# --------------------------------------------------------------------------- reading


def _open_vcf(path: Path):  # type: ignore[no-untyped-def]
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":  # gzip or bgzip (a series of gzip members): gzip reads both
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_vcf(path: str | Path) -> tuple[list[str], pd.DataFrame]:
    """Read a VCF (plain or gzip/bgzip-compressed).

    Returns
    -------
    header
        The ``##`` meta lines (without newlines).
    variants
        One row per alternate allele: ``record`` (0-based record number), ``line`` (1-based line
        in the file), ``chrom, pos`` (1-based), ``id, ref, alt, qual, filter, info``;
        ``variant_id`` is the ID or, if ``.``, ``chrom:pos:ref:alt``.

    Raises
    ------
    InputError
        Missing file, no ``#CHROM`` header, a record with fewer than 8 columns or a position
        that is not a positive integer (the line is named).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "VCF not found", fix="check the path (config variants.vcf)")
    header: list[str] = []
    rows: list[tuple[Any, ...]] = []
    seen_chrom_line = False
    n_records = 0
    try:
        with _open_vcf(p) as fh:
            for lineno, line in enumerate(fh, start=1):
                line = line.rstrip("\n\r")
                if not line:
                    continue
                if line.startswith("##"):
                    header.append(line)
                    continue
                if line.startswith("#"):
                    seen_chrom_line = True
                    continue
                if not seen_chrom_line:
                    raise InputError(p, "record before the #CHROM header line", lineno,
                                     "a VCF needs a '#CHROM POS ID REF ALT QUAL FILTER INFO' "
                                     "line before its records")
                f = line.split("\t")
                if len(f) < 8:
                    raise InputError(p, f"{len(f)} tab-separated columns, a VCF record needs 8",
                                     lineno, "separate columns with tabs (not spaces)")
                try:
                    pos = int(f[1])
                except ValueError:
                    pos = 0
                if pos < 1:
                    raise InputError(p, f"POS {f[1]!r} is not a positive integer", lineno,
                                     "VCF positions are 1-based integers")
                n_records += 1
                for alt in f[4].split(","):
                    rows.append((n_records - 1, lineno, f[0], pos, f[2], f[3].upper(), alt.upper()
                                 if _ALLELE.match(alt) else alt, f[5], f[6], f[7]))
    except (UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(p, f"cannot read the VCF ({exc})",
                         fix="give a plain-text VCF or one compressed with gzip/bgzip") from exc
    if not seen_chrom_line:
        raise InputError(p, "no '#CHROM' header line", fix="is this a VCF file?")
    df = pd.DataFrame(rows, columns=["record", "line", *VCF_COLUMNS])
    vid = df["chrom"] + ":" + df["pos"].astype(str) + ":" + df["ref"] + ":" + df["alt"]
    df["variant_id"] = np.where(df["id"].isin([".", ""]), vid, df["id"])
    multi = df.duplicated("record", keep=False)
    df.loc[multi & ~df["id"].isin([".", ""]), "variant_id"] = (
        df["id"] + ":" + df["alt"])[multi & ~df["id"].isin([".", ""])]
    return header, df


def check_alleles(variants: pd.DataFrame, genome: Genome, max_allele_length: int = 50
                  ) -> pd.DataFrame:
    """Add ``status`` (see :data:`STATUSES`) and ``genome_chrom`` (the genome's name).

    The REF of ``ok`` variants equals the genome (case-insensitive) at ``pos``. Each chromosome
    is read once.
    """
    df = variants.copy()
    status = np.full(len(df), "ok", dtype=object)
    gchrom = np.full(len(df), "", dtype=object)
    is_seq = df["ref"].str.match(_ALLELE) & df["alt"].str.match(_ALLELE)
    status[~is_seq.to_numpy()] = "symbolic"
    too_long = (df["ref"].str.len() > max_allele_length) | (df["alt"].str.len()
                                                             > max_allele_length)
    status[(status == "ok") & too_long.to_numpy()] = "too_long"
    for chrom in dict.fromkeys(df["chrom"]):
        rows = np.flatnonzero((df["chrom"] == chrom).to_numpy())
        try:
            name = genome.resolve(chrom)
        except KeyError:
            status[rows] = np.where(status[rows] == "ok", "unknown_chrom", status[rows])
            continue
        gchrom[rows] = name
        rows = rows[status[rows] == "ok"]
        if not rows.size:
            continue
        codes = genome.codes(name)
        p0 = df["pos"].to_numpy()[rows] - 1
        ref = df["ref"].to_numpy()[rows]
        lens = np.array([len(r) for r in ref])
        outside = p0 + lens > codes.size
        status[rows[outside]] = "outside_chrom"
        rows, p0, ref, lens = rows[~outside], p0[~outside], ref[~outside], lens[~outside]
        width = int(lens.max()) if lens.size else 0
        obs = _allele_codes(ref, width)
        idx = np.minimum(p0[:, None] + np.arange(width)[None, :], codes.size - 1)
        got = codes[idx]
        mask = np.arange(width)[None, :] < lens[:, None]
        match = np.all((got == obs) | ~mask, axis=1)
        status[rows[~match]] = "ref_mismatch"
    df["status"] = status
    df["genome_chrom"] = gchrom
    return df


def _allele_codes(alleles: Sequence[str] | np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` uint8 codes of allele strings (padded with N)."""
    out = np.full((len(alleles), max(width, 1)), N_CODE, dtype=np.uint8)
    if len(alleles):
        joined = np.frombuffer("".join(a.ljust(width, "N") for a in alleles).encode("ascii"),
                               dtype=np.uint8)
        out[:, :width] = ASCII_TO_CODE[joined].reshape(len(alleles), width)
    return out


# --------------------------------------------------------------------------- windows


def splice(left: np.ndarray, left_len: np.ndarray, allele: np.ndarray, allele_len: np.ndarray,
           right: np.ndarray, length: int) -> np.ndarray:
    """Row-wise ``left[:left_len] + allele[:allele_len] + right`` truncated to ``length``.

    All inputs are uint8 code arrays; ``right`` must have at least ``length`` columns.
    """
    n = left.shape[0]
    j = np.arange(length)[None, :]
    ll, al = np.asarray(left_len)[:, None], np.asarray(allele_len)[:, None]
    rows = np.arange(n)[:, None]
    out = right[rows, np.clip(j - ll - al, 0, right.shape[1] - 1)]
    in_allele = (j >= ll) & (j < ll + al)
    a = allele[rows, np.clip(j - ll, 0, max(allele.shape[1] - 1, 0))]
    out = np.where(in_allele, a, out)
    lft = left[rows, np.clip(j, 0, max(left.shape[1] - 1, 0))]
    return np.where(j < ll, lft, out).astype(np.uint8)


def allele_windows(genome: Genome, variants: pd.DataFrame, length: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Reference and alternate input windows ``(n, length)`` with the allele at ``length // 2``.

    ``variants`` needs ``genome_chrom, pos, ref, alt`` (only ``ok`` variants should be given).
    """
    h = length // 2
    chroms = variants["genome_chrom"].to_numpy(str)
    p0 = variants["pos"].to_numpy(np.int64) - 1
    ref = variants["ref"].to_numpy(str)
    alt = variants["alt"].to_numpy(str)
    lr = np.char.str_len(ref).astype(np.int64) if len(ref) else np.zeros(0, np.int64)
    la = np.char.str_len(alt).astype(np.int64) if len(alt) else np.zeros(0, np.int64)
    ref_win = genome.windows(chroms, p0 - h, length)
    left = ref_win[:, :h]
    right = genome.windows(chroms, p0 + lr, length)
    alt_codes = _allele_codes(alt, int(la.max()) if la.size else 1)
    alt_win = splice(left, np.full(len(p0), h), alt_codes, la, right, length)
    return ref_win, alt_win


# --------------------------------------------------------------------------- accessibility


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


# --------------------------------------------------------------------------- expression


def expression_window(run_json: str | Path) -> dict[str, Any]:
    """``expression_window`` (``upstream, downstream, samples``) of an expression model."""
    import json

    rec = json.loads(Path(run_json).read_text(encoding="utf-8"))
    win = rec.get("expression_window") or rec.get("config", {}).get("expression_window")
    if not win or not {"upstream", "downstream", "samples"} <= set(win):
        raise InputError(run_json, "no 'expression_window' with upstream, downstream and samples",
                         fix="train the expression model with this version of seq2func")
    return win


def promoter_hits(variants: pd.DataFrame, genes: pd.DataFrame, upstream: int, downstream: int
                  ) -> pd.DataFrame:
    """Pairs (variant row, gene row) where the variant's REF starts inside the gene's window.

    ``genes``: ``gene_id, gene_name, chrom, tss, strand``. Windows follow
    :func:`seq2func.core.genes.promoter_windows`. Returns ``vrow, grow, start, end, strand``.
    """
    from seq2func.core.genes import promoter_windows

    win = promoter_windows(genes.reset_index(drop=True), upstream, downstream)
    out = []
    ok = variants[variants["status"] == "ok"]
    for chrom, g in win.groupby("chrom", sort=False):
        v = ok[ok["genome_chrom"] == chrom]
        if v.empty:
            continue
        order = np.argsort(g["start"].to_numpy(), kind="stable")
        gs, ge = g["start"].to_numpy()[order], g["end"].to_numpy()[order]
        p0 = v["pos"].to_numpy() - 1
        width = int((ge - gs).max())
        lo = np.searchsorted(gs, p0 - width + 1, side="left")
        hi = np.searchsorted(gs, p0, side="right")
        for k in range(int((hi - lo).max()) if len(hi) else 0):  # windows overlapping a point
            cand = lo + k
            valid = cand < hi
            c = np.minimum(cand, len(gs) - 1)
            hit = valid & (p0 >= gs[c]) & (p0 < ge[c])
            if hit.any():
                gi = g.index.to_numpy()[order][c[hit]]
                out.append(pd.DataFrame({"vrow": v.index.to_numpy()[hit], "grow": gi}))
    if not out:
        return pd.DataFrame(columns=["vrow", "grow", "start", "end", "strand"])
    hits = pd.concat(out, ignore_index=True).sort_values(["vrow", "grow"], ignore_index=True)
    w = win.loc[hits["grow"]]
    hits["start"] = w["start"].to_numpy()
    hits["end"] = w["end"].to_numpy()
    hits["strand"] = w["strand"].to_numpy()
    return hits


def promoter_allele_windows(genome: Genome, variants: pd.DataFrame, hits: pd.DataFrame,
                            length: int) -> tuple[np.ndarray, np.ndarray]:
    """Strand-oriented reference/alternate promoter windows ``(n_hits, length)``.

    The TSS stays at its offset: on ``+`` genes the bases left of the variant are kept and the
    window is truncated/extended on the right; on ``-`` genes the same happens in transcription
    direction (the sequence is built on the reverse strand).
    """
    v = variants.loc[hits["vrow"]]
    chroms = v["genome_chrom"].to_numpy(str)
    p0 = v["pos"].to_numpy(np.int64) - 1
    lr = np.char.str_len(v["ref"].to_numpy(str)).astype(np.int64)
    alt = v["alt"].to_numpy(str)
    la = np.char.str_len(alt).astype(np.int64)
    start, end = hits["start"].to_numpy(np.int64), hits["end"].to_numpy(np.int64)
    minus = hits["strand"].to_numpy(str) == "-"
    strands = np.where(minus, "-", "+")
    ref_w = genome.windows(chroms, start, length, strands)
    alt_codes = _allele_codes(alt, int(la.max()) if la.size else 1)
    # forward strand: left = window start .. variant; right = after the REF allele
    left_len = np.where(minus, end - (p0 + lr), p0 - start)
    right = np.empty((len(p0), length), dtype=np.uint8)
    plus_rows, minus_rows = np.flatnonzero(~minus), np.flatnonzero(minus)
    if plus_rows.size:
        right[plus_rows] = genome.windows(chroms[plus_rows], p0[plus_rows] + lr[plus_rows],
                                          length)
    if minus_rows.size:  # reverse strand: "right" is the genome left of the variant, read 3'->5'
        right[minus_rows] = genome.windows(chroms[minus_rows], p0[minus_rows] - length, length,
                                           np.full(minus_rows.size, "-"))
        for r in minus_rows:  # reverse-complement the allele in place (short strings)
            alt_codes[r, : la[r]] = reverse_complement(alt_codes[r, : la[r]])
    alt_w = splice(ref_w, np.clip(left_len, 0, length), alt_codes, la, right, length)
    return ref_w, alt_w


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


# --------------------------------------------------------------------------- output


def info_key(column: str) -> str:
    """INFO key of a score column (``S2F_`` prefix; characters outside the VCF set replaced)."""
    return "S2F_" + re.sub(r"[^0-9A-Za-z_.]", "_", column)


def write_vcf(path: str | Path, header: Sequence[str], table: pd.DataFrame,
              score_columns: Mapping[str, str], source: str,
              string_columns: Mapping[str, str] | None = None) -> None:
    """Write the variants with ``S2F_STATUS`` and the score columns as INFO fields.

    ``score_columns`` maps column -> description; each becomes an ``##INFO`` line
    (``Number=1,Type=Float``; ``.`` when missing); ``string_columns`` likewise as
    ``Type=String``. Split multi-allelic records are written one
    ALT per line. Existing INFO content is kept. Written atomically.
    """
    from seq2func.core.io import write_text_atomic

    lines = [h for h in header if not h.startswith("##fileformat")]
    out = ["##fileformat=VCFv4.2", *lines,
           f"##seq2func={source}",
           '##INFO=<ID=S2F_STATUS,Number=1,Type=String,Description="seq2func allele check: '
           + ", ".join(STATUSES) + ' (only ok is scored)">']
    for col, desc in score_columns.items():
        out.append(f'##INFO=<ID={info_key(col)},Number=1,Type=Float,Description="{desc}">')
    for col, desc in (string_columns or {}).items():
        out.append(f'##INFO=<ID={info_key(col)},Number=1,Type=String,Description="{desc}">')
    out.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    info = "S2F_STATUS=" + table["status"].astype(str)
    for col in string_columns or {}:
        txt = table[col].astype(object).where(table[col].notna(), "").astype(str)
        txt = txt.str.replace(r"[;=\s,]", "_", regex=True)
        info = info + np.where(txt == "", "", f";{info_key(col)}=" + txt)
    for col in score_columns:
        vals = table[col].to_numpy(dtype=float)
        txt = np.where(np.isfinite(vals), np.char.mod("%.5g", np.nan_to_num(vals)), ".")
        info = info + f";{info_key(col)}=" + txt
    keep = table["info"].astype(str)
    info = np.where(keep.isin([".", ""]), info, keep + ";" + info)
    body = (table["chrom"].astype(str) + "\t" + table["pos"].astype(str) + "\t"
            + table["id"].astype(str) + "\t" + table["ref"] + "\t" + table["alt"] + "\t"
            + table["qual"].astype(str) + "\t" + table["filter"].astype(str) + "\t" + info)
    write_text_atomic(path, "\n".join([*out, *body.tolist()]) + "\n")


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


# --------------------------------------------------------------------------- driver


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
    their seed ensemble (:func:`seq2func.models.accessibility.load_ensemble`): the mean of their predicted
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
