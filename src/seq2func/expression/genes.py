"""The gene table of the expression models: one TSS per gene, its split and log1p(TPM) targets.

Gene table (``genes.tsv``), one row per gene kept:

* TSS: one per gene, chosen as documented in :mod:`seq2func.core.genes` (canonical transcript,
  else the 5' end of the gene record);
* genes are matched to the expression table by gene ID without version suffix
  (``ENSG...14`` = ``ENSG...``); genes in only one of the two files are counted in the QC
  record, as are genes whose promoter or chromatin window leaves the chromosome (dropped),
  genes on excluded chromosomes or on chromosomes the genome does not have;
* ``split`` comes from the same ``split`` configuration as the accessibility training set, so
  both kinds of models are tested on the same held-out chromosomes;
* targets are ``log1p_tpm_<sample>`` = ``log(1 + TPM)`` (natural log).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.genes import promoter_windows, read_gene_tss, strip_version
from seq2func.core.io import write_text_atomic
from seq2func.expression.settings import ExpressionWindow

log = logging.getLogger(__name__)

TARGET_PREFIX = "log1p_tpm_"
ID_COLUMNS = ("gene_id", "gene_name")


# --------------------------------------------------------------------------- expression table


def read_expression_table(path: str | Path, samples: Sequence[str] | None = None
                          ) -> pd.DataFrame:
    """The canonical expression table: ``gene_id``, optional ``gene_name``, one TPM column per
    sample.

    Parameters
    ----------
    path
        TSV (``resources/<study>/expression/expression.tsv``).
    samples
        Sample columns to return, in this order (default: every column but the ID columns).

    Returns
    -------
    pandas.DataFrame
        Indexed by version-free gene ID; the sample columns as float64. Rows whose IDs differ
        only by their version (e.g. GENCODE's ``_PAR_Y`` copies) are summed, and the number
        summed is logged.

    Raises
    ------
    InputError
        For a missing ``gene_id`` or sample column, a value that is not a finite, non-negative
        number (naming line and sample) or a gene ID listed twice (naming both lines).
    """
    p = Path(path)
    try:
        df = pd.read_csv(p, sep="\t", dtype={"gene_id": str, "gene_name": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(p, f"not a tab-separated table ({str(exc).strip()})",
                         fix="the expression table needs gene_id, gene_name and one TPM column "
                             "per sample") from exc
    if "gene_id" not in df.columns:
        raise InputError(p, f"no 'gene_id' column (columns: {', '.join(map(str, df.columns))})",
                         1, "the expression table needs gene_id, gene_name and one TPM column "
                            "per sample")
    cols = [c for c in df.columns if c not in ID_COLUMNS] if samples is None else list(samples)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(p, f"no column for sample(s) {', '.join(missing)} (columns: "
                         f"{', '.join(map(str, df.columns))})", 1,
                         "name the TPM columns like the samples of config/samples.tsv or set "
                         "expression.samples")
    if not cols:
        raise InputError(p, "no sample columns", 1, "add one TPM column per sample")
    values = df[cols].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=np.float64)) | (values < 0).to_numpy()
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputError(p, f"TPM {df[cols[c]].iloc[r]!r} of sample {cols[c]!r} is not a "
                         "finite, non-negative number", int(r) + 2,
                         "TPM must be a number >= 0 (no NaN or inf; give TPM, not log values)")
    ids = df["gene_id"].astype(str)
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        lines = np.flatnonzero(ids == ids[dup].iloc[0]) + 2
        raise InputError(p, f"gene_id {ids[dup].iloc[0]!r} is listed twice (lines "
                         f"{', '.join(map(str, lines[:5]))})", int(lines[1]),
                         "give one row per gene")
    values.index = ids.map(strip_version).to_numpy()
    merged = int(values.index.duplicated().sum())
    if merged:
        log.info("%s: %d rows whose gene IDs differ only by version (e.g. _PAR_Y copies) "
                 "summed into their gene", p, merged)
    return values.groupby(level=0, sort=False).sum()


# --------------------------------------------------------------------------- gene table


def build_gene_table(
    annotation: str | Path,
    expression: str | Path | pd.DataFrame,
    chrom_sizes: Mapping[str, int],
    split: Mapping[str, Sequence[str]],
    window: ExpressionWindow,
    *,
    samples: Sequence[str] | None = None,
    exclude_regex: str | None = None,
    biotypes: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Genes with a TSS, an expression value in every sample and windows inside the genome.

    Parameters
    ----------
    annotation
        GTF or GFF3 (see :func:`seq2func.core.genes.read_gene_tss`).
    expression
        Canonical expression table (path) or the output of :func:`read_expression_table`.
    chrom_sizes
        Genome chromosome sizes (genome names).
    split
        The config's ``split`` section (``valid``, ``test``: chromosome lists); the others train.
    window
        Input geometry; a gene is kept only if both windows lie inside its chromosome.
    samples
        Expression samples (columns), in output order; default: all columns of the table.
    exclude_regex
        Chromosomes whose name matches are skipped (e.g. ``preprocess.exclude_chromosomes``).
    biotypes
        Keep only these gene biotypes (default: all).

    Returns
    -------
    (pandas.DataFrame, dict)
        The gene table (``gene_id, gene_name, chrom, tss, tes, strand, start, end, split,
        tss_source`` and ``log1p_tpm_<sample>``; ``tes`` is the gene's 3' end
        (:func:`seq2func.core.genes.read_gene_tss`), ``start``/``end`` the genomic promoter
        window) and the QC record (counts of matched, unmatched and dropped genes).
    """
    expr = (read_expression_table(expression, samples) if not isinstance(expression, pd.DataFrame)
            else expression)
    tss = read_gene_tss(annotation, biotypes=biotypes)
    qc: dict[str, Any] = {"annotation": str(annotation), "samples": list(expr.columns),
                          "tss_choice": "canonical transcript 5' end, else gene 5' end",
                          "window": asdict(window)}
    genes = _match_expression(tss, expr, annotation, qc)
    genes = _on_genome(genes, chrom_sizes, exclude_regex, qc)
    genes, win = _inside_chromosomes(genes, window, chrom_sizes, qc)
    out = pd.DataFrame({
        "gene_id": genes["gene_id"].to_numpy(), "gene_name": genes["gene_name"].to_numpy(),
        "chrom": genes["chrom"].to_numpy(), "tss": genes["tss"].to_numpy(),
        "tes": genes["tes"].to_numpy(),
        "strand": genes["strand"].to_numpy(), "start": win["start"].to_numpy(),
        "end": win["end"].to_numpy(), "split": _gene_splits(genes["chrom"], split, chrom_sizes),
        "tss_source": genes["tss_source"].to_numpy()})
    values = expr.loc[genes["gene_id_base"].to_numpy(), list(expr.columns)].to_numpy(
        dtype=np.float64)
    for j, s in enumerate(expr.columns):
        out[TARGET_PREFIX + s] = np.log1p(values[:, j])
    _count_kept(out, qc)
    return out, qc


def _match_expression(tss: pd.DataFrame, expr: pd.DataFrame, annotation: str | Path,
                      qc: dict[str, Any]) -> pd.DataFrame:
    """Annotated genes with an expression row (by version-free ID); counts go to ``qc``."""
    qc["annotated_genes"] = len(tss)
    qc["tss_source"] = {k: int(v) for k, v in tss["tss_source"].value_counts().items()}
    dup = tss["gene_id_base"].duplicated()
    qc["duplicate_ids_after_version_strip"] = int(dup.sum())
    tss = tss[~dup]
    qc["expression_genes"] = len(expr)
    in_expr = tss["gene_id_base"].isin(expr.index)
    qc["unmatched_annotation_genes"] = int((~in_expr).sum())
    unmatched_expr = expr.index[~expr.index.isin(tss["gene_id_base"])]
    qc["unmatched_expression_genes"] = len(unmatched_expr)
    qc["unmatched_expression_examples"] = [str(g) for g in unmatched_expr[:10]]
    qc["unmatched_annotation_examples"] = [str(g) for g in tss.loc[~in_expr, "gene_id"][:10]]
    qc["matched_genes"] = int(in_expr.sum())
    if not in_expr.any():
        raise InputError(annotation, f"no gene ID matches the expression table (e.g. "
                         f"{', '.join(map(str, expr.index[:3]))} vs "
                         f"{', '.join(tss['gene_id_base'][:3])})",
                         fix="use the annotation the expression was quantified with (gene IDs "
                             "are matched without version suffix)")
    return tss[in_expr].copy()


def _on_genome(genes: pd.DataFrame, chrom_sizes: Mapping[str, int], exclude_regex: str | None,
               qc: dict[str, Any]) -> pd.DataFrame:
    """Genes on chromosomes of the genome (renamed to the genome's names: ``chr`` prefix added
    or removed), minus those on excluded chromosomes; counts go to ``qc``."""
    from seq2func.core.chroms import exclusion_regex, match_names

    mapping = match_names(genes["chrom"].unique(), list(chrom_sizes)).mapping
    known = genes["chrom"].isin(list(mapping))
    qc["dropped_unknown_chromosome"] = int((~known).sum())
    genes = genes[known].copy()
    genes["chrom"] = genes["chrom"].map(mapping)
    rx = exclusion_regex(exclude_regex, "--exclude-regex", "preprocess.exclude_chromosomes")
    if rx is not None:
        excl = genes["chrom"].map(lambda c: bool(rx.search(c)))
    else:
        excl = pd.Series(False, index=genes.index)
    qc["dropped_excluded_chromosome"] = int(excl.sum())
    return genes[~excl.to_numpy()]


def _inside_chromosomes(genes: pd.DataFrame, window: ExpressionWindow,
                        chrom_sizes: Mapping[str, int], qc: dict[str, Any]
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Genes whose promoter, gene-end and chromatin windows lie inside their chromosome, and
    their promoter windows; the count dropped goes to ``qc``."""
    win = promoter_windows(genes, window.upstream, window.downstream)
    size = genes["chrom"].map(chrom_sizes).to_numpy()
    t = genes["tss"].to_numpy()
    inside = ((win["start"].to_numpy() >= 0) & (win["end"].to_numpy() <= size)
              & (t - window.chromatin_flank >= 0) & (t + window.chromatin_flank <= size))
    if window.end_length:
        from seq2func.expression.features import gene_end_windows

        end = gene_end_windows(genes, window)
        inside &= (end["start"].to_numpy() >= 0) & (end["end"].to_numpy() <= size)
    qc["dropped_window_outside_chromosome"] = int((~inside).sum())
    return genes[inside], win[inside]


def _gene_splits(chroms: pd.Series, split: Mapping[str, Sequence[str]],
                 chrom_sizes: Mapping[str, int]) -> np.ndarray:
    """``train``/``valid``/``test`` of each gene from its chromosome (``split`` names are
    harmonised with the genome's)."""
    from seq2func.core.chroms import resolve_names

    valid = resolve_names(split.get("valid", []), list(chrom_sizes), "configuration",
                          "split.valid")
    test = resolve_names(split.get("test", []), list(chrom_sizes), "configuration", "split.test")
    return np.where(chroms.isin(test), "test", np.where(chroms.isin(valid), "valid", "train"))


def _count_kept(out: pd.DataFrame, qc: dict[str, Any]) -> None:
    """Genes kept per split into ``qc``; an error if no gene trains or tests."""
    qc["genes_kept"] = len(out)
    qc["genes_per_split"] = {s: int((out["split"] == s).sum()) for s in ("train", "valid", "test")}
    for s in ("train", "test"):
        if qc["genes_per_split"][s] == 0:
            raise InputError("configuration", f"no gene with expression on the {s} chromosomes",
                             fix="check split.valid/split.test and the annotation's chromosomes")
    log.info("gene table: %d genes kept (%s); %d annotated genes without expression, %d "
             "expression genes without annotation, %d windows outside a chromosome",
             len(out), qc["genes_per_split"], qc["unmatched_annotation_genes"],
             qc["unmatched_expression_genes"], qc["dropped_window_outside_chromosome"])


def target_columns(genes: pd.DataFrame) -> list[str]:
    """The ``log1p_tpm_<sample>`` columns of a gene table."""
    return [c for c in genes.columns if c.startswith(TARGET_PREFIX)]


def gene_samples(genes: pd.DataFrame) -> list[str]:
    """Expression samples of a gene table, in column order."""
    return [c[len(TARGET_PREFIX):] for c in target_columns(genes)]


def split_targets(genes: pd.DataFrame, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a split (boolean mask) and their targets ``(n_split, samples)`` float64."""
    sel = genes["split"].to_numpy() == split
    return sel, genes[target_columns(genes)].to_numpy(dtype=np.float64)[sel]


def read_gene_table(path: str | Path) -> pd.DataFrame:
    """Read ``genes.tsv`` written by :func:`build_gene_table`."""
    return pd.read_csv(path, sep="\t", dtype={"gene_id": str, "gene_name": str, "chrom": str})


def write_qc(path: str | Path, qc: Mapping[str, Any]) -> None:
    """Write the gene-table QC record as JSON (atomically)."""
    write_text_atomic(path, json.dumps(qc, indent=2, sort_keys=True, default=str) + "\n")
