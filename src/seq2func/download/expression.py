"""Build the expression table: per-sample gene quantifications joined on the annotation's genes.

Quantifications (RSEM, Salmon, kallisto, featureCounts or any TSV, read as TPM by
:mod:`seq2func.download.quantification`) are matched to the canonical annotation's genes (GTF
or GFF3) by version-free gene ID; the output is wide (``gene_id``, ``gene_name``, one TPM column
per sample).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.genes import annotation_features, gene_name, transcript_genes
from seq2func.core.io import write_tsv_atomic
from seq2func.download.formats import PathLike
from seq2func.download.quantification import QuantTable, gene_key, read_table, tpm_values

log = logging.getLogger(__name__)


def read_gtf_genes(path: PathLike) -> pd.DataFrame:
    """``gene_id``, ``gene_name`` of the gene records of a GTF or GFF3, in file order.

    Raises
    ------
    InputError
        When the annotation has no gene records, or a malformed line.
    """
    rows = [(f.gene_id, gene_name(f)) for f in annotation_features(path, {"gene"})
            if f.gene_id]
    if not rows:
        raise InputError(path, "no gene records in the annotation",
                         fix="use a GENCODE/Ensembl/RefSeq GTF or GFF3 (one 'gene' record per "
                             "gene)")
    return pd.DataFrame(rows, columns=["gene_id", "gene_name"]).drop_duplicates("gene_id")


def read_quantification(path: PathLike, column: str | None = None) -> pd.Series:
    """Feature -> TPM of one sample of a quantification (RSEM, Salmon, kallisto,
    featureCounts or any TSV; :mod:`seq2func.download.quantification`).

    Returns
    -------
    pandas.Series
        Indexed by version-free feature ID.

    Raises
    ------
    InputError
        For an empty table, no TPM column, values that are not TPM or a duplicated ID.
    """
    return tpm_values(read_table(path), column)


def build_expression(quants: Mapping[str, PathLike], gtf: PathLike, out: PathLike,
                     columns: Mapping[str, str] | None = None,
                     min_match: float = 0.5) -> pd.DataFrame:
    """Build the wide expression table (gene_id, gene_name, one column per sample).

    Genes are those of the (canonical, chromosome-filtered) annotation that every sample
    quantifies; gene IDs are matched without their version suffix. Transcript-level
    quantifications (Salmon, kallisto) are summed per gene through the annotation's transcripts.

    Parameters
    ----------
    quants
        Sample -> quantification file (several samples may share one file).
    gtf
        The canonical annotation (GTF or GFF3; gene IDs and names come from it).
    out
        Output TSV.
    columns
        Sample -> the column of its TPM in its file (samples not listed: the format's TPM
        column, :mod:`seq2func.download.quantification`).
    min_match
        Fail when fewer than this fraction of a sample's genes are in the annotation (the
        quantification was made with another annotation or species).

    Returns
    -------
    pandas.DataFrame
        The table written to ``out``.
    """
    genes = read_gtf_genes(gtf)
    genes["key"] = genes["gene_id"].map(gene_key)
    genes = genes.drop_duplicates("key")
    table = genes.set_index("key")[["gene_id", "gene_name"]]
    if not quants:
        log.warning("no sample has an expression quantification; writing an empty table")
    matcher = _GeneMatcher(gtf, table.index)
    files: dict[str, QuantTable] = {}
    for sample, path in quants.items():
        if str(path) not in files:
            files[str(path)] = read_table(path)
        series = tpm_values(files[str(path)], (columns or {}).get(sample))
        table[sample] = matcher.on_genes(series, path, min_match)
        log.info("%s: %d of %d annotated genes quantified", sample,
                 int(table[sample].notna().sum()), len(table))
    if quants:
        before = len(table)
        table = table.dropna(subset=list(quants))
        log.info("%d genes quantified in every sample (%d annotated genes dropped)", len(table),
                 before - len(table))
    write_tsv_atomic(out, table.reset_index(drop=True), float_format="%.4f")
    return table.reset_index(drop=True)


class _GeneMatcher:
    """Puts one sample's quantification on the annotation's genes (version-free IDs)."""

    def __init__(self, gtf: PathLike, genes: pd.Index) -> None:
        self.gtf = gtf
        self.genes = genes
        self._transcripts: dict[str, str] | None = None

    @property
    def transcripts(self) -> dict[str, str]:
        """Version-free transcript ID -> version-free gene ID (read on first use)."""
        if self._transcripts is None:
            self._transcripts = {gene_key(t): gene_key(g)
                                 for t, g in transcript_genes(self.gtf).items()}
        return self._transcripts

    def on_genes(self, series: pd.Series, path: PathLike, min_match: float) -> pd.Series:
        """TPM per annotated gene (NaN where absent); transcripts summed per gene.

        Raises
        ------
        InputError
            When no ID, or too few Ensembl genes (``min_match``), match the annotation.
        """
        matched = int(series.index.isin(self.genes).sum())
        if matched < 0.5 * len(series):
            genes = series.index.map(self.transcripts)
            n_tx = int(genes.notna().sum())
            if n_tx > matched:
                log.info("%s: %d of %d IDs are transcripts of the annotation: TPM summed per "
                         "gene", path, n_tx, len(series))
                series = series[genes.notna()].groupby(genes[genes.notna()], sort=False).sum()
                matched = int(series.index.isin(self.genes).sum())
        self._check_ensembl(series, path, min_match)
        if matched == 0:
            raise InputError(path, f"no gene or transcript ID matches the annotation {self.gtf} "
                             f"(e.g. {', '.join(map(str, series.index[:3]))} vs "
                             f"{', '.join(map(str, self.genes[:3]))})",
                             fix="use the annotation the quantification was made with (IDs are "
                                 "matched without version suffix)")
        return series.reindex(self.genes)

    def _check_ensembl(self, series: pd.Series, path: PathLike, min_match: float) -> None:
        ens = series[series.index.str.startswith("ENS")]
        matched = ens.index.isin(self.genes).sum()
        if len(ens) and matched < min_match * len(ens) and matched < min_match * len(self.genes):
            raise InputError(
                path, f"only {matched} of its {len(ens)} Ensembl genes are in the annotation "
                f"{self.gtf} ({len(self.genes)} genes)",
                fix="use the annotation the quantification was made with (ENCODE's RSEM files "
                    "use GENCODE V29 for GRCh38) or a quantification of the same species")
