"""Inputs of the expression models: the gene table, log1p(TPM) targets, promoter sequences and
chromatin features around each TSS.

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

Features, in the row order of the gene table:

* promoter: uint8 codes (A0 C1 G2 T3 N4) of ``[TSS - upstream, TSS + downstream)`` read in the
  direction of transcription (minus-strand windows reverse-complemented), so the TSS is at
  offset ``upstream`` for every gene;
* observed chromatin: ``log1p`` of the signal summed in ``n_bins`` bins of ``bin_size`` bp over
  ``[TSS - flank, TSS + flank)``, bins ordered 5'->3' in the gene's orientation; each bigWig
  chromosome is read once and all genes on it are sliced from its cumulative sum.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.genes import promoter_windows, read_gene_tss, strip_version

log = logging.getLogger(__name__)

TARGET_PREFIX = "log1p_tpm_"
ID_COLUMNS = ("gene_id", "gene_name")


@dataclass
class ExpressionWindow:
    """Geometry of the model inputs around each TSS."""

    upstream: int = 7000
    downstream: int = 3500
    chromatin_flank: int = 10000
    chromatin_bin: int = 500

    @property
    def length(self) -> int:
        """Promoter window length (bp)."""
        return self.upstream + self.downstream

    @property
    def n_bins(self) -> int:
        """Number of chromatin bins."""
        return 2 * self.chromatin_flank // self.chromatin_bin

    def check(self) -> None:
        """Raise ``ValueError`` for an inconsistent geometry."""
        if self.upstream < 0 or self.downstream < 1:
            raise ValueError("upstream must be >= 0 and downstream >= 1")
        if self.chromatin_bin < 1 or (2 * self.chromatin_flank) % self.chromatin_bin:
            raise ValueError("2 * chromatin_flank must be a multiple of chromatin_bin")

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ExpressionWindow:
        """From the config's ``expression`` section (keys ``upstream``, ``downstream`` and
        ``chromatin.flank`` / ``chromatin.bin_size``)."""
        chrom = section.get("chromatin", {})
        w = cls(int(section.get("upstream", cls.upstream)),
                int(section.get("downstream", cls.downstream)),
                int(chrom.get("flank", cls.chromatin_flank)),
                int(chrom.get("bin_size", cls.chromatin_bin)))
        w.check()
        return w


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
        Indexed by version-free gene ID; the sample columns as float64. Rows whose ID appears
        twice after removing versions are summed (e.g. ``_PAR_Y`` copies).
    """
    p = Path(path)
    df = pd.read_csv(p, sep="\t", dtype={"gene_id": str, "gene_name": str})
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
    bad = values.isna() | (values < 0)
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise InputError(p, f"TPM {df[cols[c]].iloc[r]!r} of sample {cols[c]!r} is not a "
                         "non-negative number", int(r) + 2,
                         "TPM must be >= 0 (give TPM, not log values)")
    values.index = df["gene_id"].astype(str).map(strip_version).to_numpy()
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
        The gene table (``gene_id, gene_name, chrom, tss, strand, start, end, split,
        tss_source`` and ``log1p_tpm_<sample>``; ``start``/``end`` are the genomic promoter
        window) and the QC record (counts of matched, unmatched and dropped genes).
    """
    from seq2func.core.chroms import match_names, resolve_names

    expr = (read_expression_table(expression, samples) if not isinstance(expression, pd.DataFrame)
            else expression)
    samples = list(expr.columns)
    tss = read_gene_tss(annotation, biotypes=biotypes)
    qc: dict[str, Any] = {"annotation": str(annotation), "samples": samples,
                          "tss_choice": "canonical transcript 5' end, else gene 5' end",
                          "window": asdict(window)}
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
    genes = tss[in_expr].copy()
    # chromosome names of the annotation onto the genome's (chr prefix added/removed)
    mapping = match_names(genes["chrom"].unique(), list(chrom_sizes)).mapping
    known = genes["chrom"].isin(list(mapping))
    qc["dropped_unknown_chromosome"] = int((~known).sum())
    genes = genes[known].copy()
    genes["chrom"] = genes["chrom"].map(mapping)
    if exclude_regex:
        rx = re.compile(exclude_regex)
        excl = genes["chrom"].map(lambda c: bool(rx.search(c)))
    else:
        excl = pd.Series(False, index=genes.index)
    qc["dropped_excluded_chromosome"] = int(excl.sum())
    genes = genes[~excl.to_numpy()]
    win = promoter_windows(genes, window.upstream, window.downstream)
    size = genes["chrom"].map(chrom_sizes).to_numpy()
    t = genes["tss"].to_numpy()
    inside = ((win["start"].to_numpy() >= 0) & (win["end"].to_numpy() <= size)
              & (t - window.chromatin_flank >= 0) & (t + window.chromatin_flank <= size))
    qc["dropped_window_outside_chromosome"] = int((~inside).sum())
    genes, win = genes[inside], win[inside]
    valid = resolve_names(split.get("valid", []), list(chrom_sizes), "configuration",
                          "split.valid")
    test = resolve_names(split.get("test", []), list(chrom_sizes), "configuration", "split.test")
    which = np.where(genes["chrom"].isin(test), "test",
                     np.where(genes["chrom"].isin(valid), "valid", "train"))
    out = pd.DataFrame({
        "gene_id": genes["gene_id"].to_numpy(), "gene_name": genes["gene_name"].to_numpy(),
        "chrom": genes["chrom"].to_numpy(), "tss": t[inside], "strand": genes["strand"].to_numpy(),
        "start": win["start"].to_numpy(), "end": win["end"].to_numpy(), "split": which,
        "tss_source": genes["tss_source"].to_numpy()})
    values = expr.loc[genes["gene_id_base"].to_numpy(), samples].to_numpy(dtype=np.float64)
    for j, s in enumerate(samples):
        out[TARGET_PREFIX + s] = np.log1p(values[:, j])
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
    return out, qc


def target_columns(genes: pd.DataFrame) -> list[str]:
    """The ``log1p_tpm_<sample>`` columns of a gene table."""
    return [c for c in genes.columns if c.startswith(TARGET_PREFIX)]


def gene_samples(genes: pd.DataFrame) -> list[str]:
    """Expression samples of a gene table, in column order."""
    return [c[len(TARGET_PREFIX):] for c in target_columns(genes)]


def read_gene_table(path: str | Path) -> pd.DataFrame:
    """Read ``genes.tsv`` written by :func:`build_gene_table`."""
    return pd.read_csv(path, sep="\t", dtype={"gene_id": str, "gene_name": str, "chrom": str})


# --------------------------------------------------------------------------- features


def promoter_codes(genome: Any, genes: pd.DataFrame, window: ExpressionWindow) -> np.ndarray:
    """``(n, upstream + downstream)`` uint8 codes of the oriented promoter windows.

    ``genome`` is a :class:`seq2func.core.sequence.Genome`; each chromosome is read once.
    """
    win = promoter_windows(genes, window.upstream, window.downstream)
    return genome.windows(genes["chrom"].to_numpy(), win["start"].to_numpy(), window.length,
                          genes["strand"].to_numpy())


def bin_edges(genes: pd.DataFrame, window: ExpressionWindow) -> np.ndarray:
    """Genomic bin edges ``(n, n_bins + 1)`` of the chromatin window (ascending)."""
    lo = genes["tss"].to_numpy(dtype=np.int64) - window.chromatin_flank
    return lo[:, None] + window.chromatin_bin * np.arange(window.n_bins + 1)[None, :]


def observed_chromatin(bigwigs: Sequence[str | Path], genes: pd.DataFrame,
                       window: ExpressionWindow, chrom_sizes: Mapping[str, int]) -> np.ndarray:
    """``log1p`` of binned signal around each TSS, ``(n, n_bins, n_tracks)`` float32.

    Bins are ordered in the direction of transcription (reversed for minus-strand genes). Each
    bigWig chromosome is read once as a whole; missing data counts as 0.
    """
    from seq2func.core.bigwig import BigWig

    n = len(genes)
    out = np.zeros((n, window.n_bins, len(bigwigs)), dtype=np.float32)
    edges = bin_edges(genes, window)
    chroms = genes["chrom"].to_numpy()
    minus = genes["strand"].to_numpy() == "-"
    for k, path in enumerate(bigwigs):
        with BigWig(path, dict(chrom_sizes), negative="clip") as bw:
            for chrom in dict.fromkeys(chroms.tolist()):
                rows = np.flatnonzero(chroms == chrom)
                if not bw.has(chrom):
                    log.warning("%s has no signal on %s: chromatin features are 0", path, chrom)
                    continue
                vals = bw.values(chrom, 0, int(chrom_sizes[chrom]))
                cs = np.zeros(vals.size + 1, dtype=np.float64)
                np.cumsum(vals, out=cs[1:])
                e = edges[rows]
                out[rows, :, k] = (cs[e[:, 1:]] - cs[e[:, :-1]]).astype(np.float32)
                del vals, cs
    out[minus] = out[minus, ::-1, :]
    return np.log1p(out)


def chromatin_tiles(genes: pd.DataFrame, window: ExpressionWindow, input_length: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Starts ``(n, n_bins)`` of accessibility-model input windows centred on each bin, and the
    chromosome of each row; used to predict chromatin with a trained accessibility model."""
    edges = bin_edges(genes, window)
    centres = (edges[:, :-1] + edges[:, 1:]) // 2
    return centres - input_length // 2, genes["chrom"].to_numpy()


def match_chromatin_samples(expression_samples: Sequence[str],
                            accessibility_samples: Sequence[str], mode: str = "auto"
                            ) -> tuple[list[int], str]:
    """Which accessibility tracks feed the chromatin input, and how they were chosen.

    ``name``: the track of the same name for each expression sample (error when one is
    missing); ``all``: every track; ``auto``: ``name`` when every expression sample has a
    track of the same name, else ``all``.

    Returns
    -------
    (list of int, str)
        Indices into ``accessibility_samples`` and the mode used.
    """
    acc = list(accessibility_samples)
    have = all(s in acc for s in expression_samples)
    if mode == "name" or (mode == "auto" and have):
        missing = [s for s in expression_samples if s not in acc]
        if missing:
            from seq2func.core.errors import ConfigError

            raise ConfigError("config", "expression.chromatin.match",
                              f"no accessibility sample named {', '.join(missing)}",
                              "use 'all' (every track feeds every expression sample) or "
                              "rename the samples")
        return [acc.index(s) for s in expression_samples], "name"
    if mode not in ("auto", "all"):
        raise ValueError(f"unknown chromatin match mode {mode!r}")
    return list(range(len(acc))), "all"


def write_qc(path: str | Path, qc: Mapping[str, Any]) -> None:
    """Write the gene-table QC record as JSON (atomically)."""
    from seq2func.core.io import write_text_atomic

    write_text_atomic(path, json.dumps(qc, indent=2, sort_keys=True, default=str) + "\n")
