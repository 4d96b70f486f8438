"""Build the expression table: per-sample gene quantifications joined on the annotation's genes.

ENCODE's RSEM gene quantifications (or any TSV of gene -> value) are matched to the canonical
GTF's genes by version-free gene ID; the output is wide (``gene_id``, ``gene_name``, one TPM
column per sample).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.io import open_text, write_tsv_atomic
from seq2func.download.formats import PathLike

log = logging.getLogger(__name__)

_GTF_ATTR = re.compile(r'(\w+) "([^"]*)"')


def gene_key(gene_id: str) -> str:
    """Version-free gene ID (``ENSG00000182378.13_PAR_Y`` -> ``ENSG00000182378_PAR_Y``)."""
    base, _, rest = gene_id.partition(".")
    if rest and "_" in rest:
        return base + rest[rest.index("_"):]
    return base if rest.isdigit() or not rest else gene_id


def read_gtf_genes(path: PathLike) -> pd.DataFrame:
    """``gene_id``, ``gene_name`` of the ``gene`` records of a GTF, in file order.

    Raises
    ------
    InputError
        When the GTF has no ``gene`` records.
    """
    rows = []
    with open_text(path) as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 9 or fields[2] != "gene":
                continue
            attrs = dict(_GTF_ATTR.findall(fields[8]))
            gid = attrs.get("gene_id")
            if gid:
                rows.append((gid, attrs.get("gene_name", gid)))
    if not rows:
        raise InputError(path, "no 'gene' records in the GTF",
                         fix="use a GENCODE/Ensembl GTF (it has one 'gene' line per gene)")
    return pd.DataFrame(rows, columns=["gene_id", "gene_name"]).drop_duplicates("gene_id")


def read_quantification(path: PathLike, column: str = "TPM") -> pd.Series:
    """Gene -> expression from an ENCODE RSEM gene quantification or a plain TSV.

    Accepted layouts: RSEM ``genes.results`` (``gene_id``, ``transcript_id(s)``, ``length``,
    ``effective_length``, ``expected_count``, ``TPM``, ``FPKM``, ...); any TSV with a
    ``gene_id`` (or first) column and a ``column`` column; a two-column TSV (gene, value).

    Returns
    -------
    pandas.Series
        Indexed by version-free gene ID; duplicated IDs are summed.

    Raises
    ------
    InputError
        For an empty table, no value column, or a value that is not a number.
    """
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    if df.empty:
        raise InputError(path, "empty quantification table")
    cols = list(df.columns)
    gene_col = "gene_id" if "gene_id" in cols else cols[0]
    lower = {c.lower(): c for c in cols}
    if column in cols:
        value_col = column
    elif column.lower() in lower:
        value_col = lower[column.lower()]
    elif len(cols) == 2:
        value_col = cols[1]
    else:
        raise InputError(path, f"no {column!r} column (columns: {', '.join(map(str, cols))})",
                         1, f"give a gene quantification with a {column} column")
    values = pd.to_numeric(df[value_col].str.strip(), errors="coerce")
    if values.isna().any():
        i = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise InputError(path, f"{value_col} value {df[value_col].iloc[i]!r} is not a number",
                         i + 2)
    keys = df[gene_col].astype(str).map(gene_key)
    return values.groupby(keys.to_numpy(), sort=False).sum()


def build_expression(quants: Mapping[str, PathLike], gtf: PathLike, out: PathLike,
                     column: str = "TPM", min_match: float = 0.5) -> pd.DataFrame:
    """Build the wide expression table (gene_id, gene_name, one column per sample).

    Genes are those of the (canonical, chromosome-filtered) GTF that every sample quantifies;
    gene IDs are matched without their version suffix.

    Parameters
    ----------
    quants
        Sample -> quantification file.
    gtf
        The canonical annotation (gene IDs and names come from it).
    out
        Output TSV.
    column
        Quantity to take (``TPM``).
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
    for sample, path in quants.items():
        table[sample] = _sample_values(path, table.index, gtf, column, min_match)
        log.info("%s: %d of %d annotated genes quantified", sample,
                 int(table[sample].notna().sum()), len(table))
    if quants:
        before = len(table)
        table = table.dropna(subset=list(quants))
        log.info("%d genes quantified in every sample (%d annotated genes dropped)", len(table),
                 before - len(table))
    write_tsv_atomic(out, table.reset_index(drop=True), float_format="%.4f")
    return table.reset_index(drop=True)


def _sample_values(path: PathLike, genes: pd.Index, gtf: PathLike, column: str,
                   min_match: float) -> pd.Series:
    """One sample's quantification on the annotation's ``genes`` (NaN where absent).

    Raises
    ------
    InputError
        When too few of its Ensembl genes are in the annotation (see ``min_match``).
    """
    series = read_quantification(path, column)
    ens = series[series.index.str.startswith("ENS")]
    matched = ens.index.isin(genes).sum()
    if len(ens) and matched < min_match * len(ens) and matched < min_match * len(genes):
        raise InputError(
            path, f"only {matched} of its {len(ens)} Ensembl genes are in the annotation "
            f"{gtf} ({len(genes)} genes)",
            fix="use the annotation the quantification was made with (ENCODE's RSEM files "
                "use GENCODE V29 for GRCh38) or a quantification of the same species")
    return series.reindex(genes)
