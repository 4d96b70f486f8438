"""Read gene (or transcript) quantifications as TPM, whatever tool wrote them.

Recognised by their documented columns (:data:`FORMATS`):

=============  =========================================  ===========  ========================
tool           file                                       ID column    value
=============  =========================================  ===========  ========================
RSEM           ``*.genes.results`` / ``*.isoforms.results``  ``gene_id``  ``TPM``
Salmon         ``quant.sf``, ``quant.genes.sf``           ``Name``     ``TPM``
kallisto       ``abundance.tsv``                          ``target_id``  ``tpm``
featureCounts  counts table (``Geneid``, ..., ``Length``)  ``Geneid``  TPM computed from counts
any TSV        a ``gene_id`` (or first) column            that one     the named or ``TPM`` column
=============  =========================================  ===========  ========================

A file may hold several samples: the samples table's ``expression_column`` (or the config's
``download.expression_column``) names each sample's column; without one, the ``TPM`` column (any
case), a featureCounts table's only count column or a two-column file's value column is taken.
featureCounts tables hold read counts, which are converted: ``TPM = 1e6 * (count / Length) /
sum(count / Length)`` over the file's genes (logged). Anything else that is not TPM is refused:
a column named like FPKM, RPKM, CPM, counts or log values, negative or non-finite values, and a
column whose values sum to more than 1e6 (TPM sums to 1e6 over all features of a sample, less
over a subset), e.g. read counts under another name. A gene ID listed twice is an error (naming
both lines); transcript IDs (Salmon, kallisto) are summed per gene by the caller.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.io import open_text
from seq2func.core.naming import format_names
from seq2func.download.formats import PathLike

log = logging.getLogger(__name__)

#: the most a TPM column may sum to: 1e6 plus 1% for rounding
MAX_TPM_SUM = 1.01e6
#: column names that hold something else than TPM (FPKM, counts, log values, lengths, ...)
NOT_TPM = re.compile(r"(?<![a-z])(fpkm|rpkm|cpm|counts?|numreads|reads|log\d*|length|len|"
                     r"effectivelength)(?![a-z])", re.IGNORECASE)


@dataclass(frozen=True)
class QuantFormat:
    """A quantification tool's layout: the columns that identify it, its ID and TPM columns."""

    name: str
    columns: frozenset[str]
    id_column: str
    tpm_column: str | None  # None: TPM computed from counts (featureCounts)


FORMATS = (
    QuantFormat("RSEM genes.results", frozenset({"gene_id", "transcript_id(s)", "TPM",
                                                 "expected_count"}), "gene_id", "TPM"),
    QuantFormat("RSEM isoforms.results", frozenset({"transcript_id", "gene_id", "TPM",
                                                    "expected_count"}), "gene_id", "TPM"),
    QuantFormat("Salmon", frozenset({"Name", "Length", "EffectiveLength", "TPM", "NumReads"}),
                "Name", "TPM"),
    QuantFormat("kallisto", frozenset({"target_id", "length", "eff_length", "est_counts",
                                       "tpm"}), "target_id", "tpm"),
    QuantFormat("featureCounts", frozenset({"Geneid", "Chr", "Start", "End", "Strand",
                                            "Length"}), "Geneid", None),
)
_FEATURECOUNTS_ANNOTATION = ("Geneid", "Chr", "Start", "End", "Strand", "Length")


@dataclass
class QuantTable:
    """A quantification file read as strings, with its format and the line of each row."""

    path: str
    df: pd.DataFrame
    lines: np.ndarray
    format: QuantFormat | None

    @property
    def id_column(self) -> str:
        if self.format is not None:
            return self.format.id_column
        return "gene_id" if "gene_id" in self.df.columns else str(self.df.columns[0])

    @property
    def what(self) -> str:
        return self.format.name if self.format is not None else "table"


def read_table(path: PathLike) -> QuantTable:
    """Read a quantification (plain or gzip TSV; leading ``#`` lines skipped) and its format.

    Raises
    ------
    InputError
        For a file that is not a readable TSV, or an empty one.
    """
    try:
        with open_text(path) as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(path, f"cannot read the quantification ({exc})",
                         fix="give a tab-separated text file (plain or gzip)") from exc
    lines = text.split("\n")
    skip = 0
    while skip < len(lines) and lines[skip].startswith("#"):
        skip += 1
    try:
        df = pd.read_csv(io.StringIO("\n".join(lines[skip:])), sep="\t", dtype=str,
                         keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"not a tab-separated table ({str(exc).strip()})", skip + 1,
                         "give a TSV with a header line and one row per gene") from exc
    if df.empty:
        raise InputError(path, "empty quantification table", skip + 1,
                         "give a quantification with a header line and one row per gene")
    df.columns = [str(c).strip() for c in df.columns]
    cols = set(df.columns)
    fmt = next((f for f in FORMATS if f.columns <= cols), None)
    return QuantTable(str(path), df, np.arange(len(df)) + skip + 2, fmt)


def _value_column(table: QuantTable, column: str | None) -> str:
    """The column holding the TPM of the sample (``column`` if given).

    Raises
    ------
    InputError
        If it is missing or named like something other than TPM.
    """
    cols = list(table.df.columns)
    lower = {c.lower(): c for c in cols}
    if column is not None:
        chosen = column if column in cols else lower.get(column.lower())
        if chosen is None:
            raise InputError(table.path, f"no column {column!r} (columns: {format_names(cols)})",
                             1, "set the samples table's expression_column to one of them")
    elif table.format is not None and table.format.tpm_column is not None:
        chosen = table.format.tpm_column
    elif "tpm" in lower:
        chosen = lower["tpm"]
    elif len(cols) == 2:
        chosen = cols[1]
    else:
        raise InputError(table.path, f"no 'TPM' column (columns: {format_names(cols)})", 1,
                         "give a quantification with a TPM column, or name the column of "
                         "each sample in the samples table's expression_column")
    if NOT_TPM.search(chosen) and chosen.lower() != "tpm":
        raise InputError(table.path, f"column {chosen!r} does not hold TPM", 1,
                         "give TPM (transcripts per million): FPKM/RPKM, CPM, read counts and "
                         "log values are not TPM; name the TPM column in the samples table's "
                         "expression_column")
    return chosen


def _numbers(table: QuantTable, column: str) -> np.ndarray:
    """The finite, non-negative values of ``column``.

    Raises
    ------
    InputError
        Naming the line and column of a value that is not such a number.
    """
    raw = table.df[column].astype(str).str.strip()
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "TPM" if column.lower() == "tpm" else f"{column} (TPM)"
        raise InputError(table.path, f"{what} value {raw.iloc[i]!r} is not a finite, "
                                     "non-negative number", int(table.lines[i]),
                         "TPM values are numbers >= 0 (no NaN, inf or log values)")
    return values


def _featurecounts_tpm(table: QuantTable, column: str | None) -> tuple[np.ndarray, str]:
    """TPM of one count column of a featureCounts table (``count / Length``, scaled to 1e6)."""
    samples = [c for c in table.df.columns if c not in _FEATURECOUNTS_ANNOTATION]
    if column is None:
        if len(samples) != 1:
            raise InputError(table.path, f"featureCounts table with {len(samples)} count "
                             f"columns ({format_names(samples)})", 1,
                             "name each sample's column in the samples table's "
                             "expression_column")
        column = samples[0]
    elif column not in samples:
        raise InputError(table.path, f"no count column {column!r} (count columns: "
                         f"{format_names(samples)})", 1,
                         "set the samples table's expression_column to one of them")
    counts = _numbers(table, column)
    length = _numbers(table, "Length")
    rate = np.divide(counts, length, out=np.zeros_like(counts), where=length > 0)
    total = rate.sum()
    log.info("%s: TPM of %s computed from featureCounts counts and gene lengths", table.path,
             column)
    return (rate / total * 1e6 if total > 0 else rate), column


def tpm_values(table: QuantTable, column: str | None = None) -> pd.Series:
    """One sample's TPM by (version-free) feature ID, checked (see module docstring).

    Parameters
    ----------
    table
        From :func:`read_table`.
    column
        The sample's column (None: the format's TPM column, see :func:`_value_column`).

    Raises
    ------
    InputError
        Naming the file, column and line of whatever is not TPM, or a duplicated ID.
    """
    if table.format is not None and table.format.tpm_column is None:
        values, column = _featurecounts_tpm(table, column)
    else:
        column = _value_column(table, column)
        values = _numbers(table, column)
        total = float(values.sum())
        if total > MAX_TPM_SUM:
            raise InputError(table.path, f"column {column!r} sums to {total:,.0f}, but TPM sums "
                             "to at most 1,000,000 per sample: these are not TPM (read counts?)",
                             1, "give TPM; for counts, use featureCounts' table (TPM is "
                                "computed from counts and lengths) or convert them first")
    ids = table.df[table.id_column].astype(str).str.strip()
    keys = ids.str.split("|").str[0].map(gene_key)  # (GENCODE transcript FASTA names)
    dup = keys.duplicated(keep=False).to_numpy()
    if dup.any() and not (table.format is not None and table.format.name.startswith(
            "RSEM isoforms")):
        first = keys[dup].iloc[0]
        where = table.lines[(keys == first).to_numpy()]
        raise InputError(table.path, f"{table.id_column} {first!r} is listed twice (lines "
                         f"{', '.join(map(str, where[:5]))})", int(where[1]),
                         "give one row per gene (a quantification of one sample; versions "
                         "such as .1/.2 of one ID count as the same gene)")
    series = pd.Series(values, index=keys.to_numpy(), name=column)
    if table.format is not None and table.format.name.startswith("RSEM isoforms"):
        series = series.groupby(level=0, sort=False).sum()  # (gene_id column: per gene)
    return series


def gene_key(gene_id: str) -> str:
    """Version-free gene ID (``ENSG00000182378.13_PAR_Y`` -> ``ENSG00000182378_PAR_Y``)."""
    base, _, rest = gene_id.partition(".")
    if rest and "_" in rest:
        return base + rest[rest.index("_"):]
    return base if rest.isdigit() or not rest else gene_id
