"""Ingest tables of genomic features: peaks and blacklist (BED-like), annotation (GTF), VCF.

Chromosomes are renamed to the configured names and the others dropped; coordinates are checked
against the genome. Peaks and blacklist intervals follow the rule preprocessing applies
(:func:`~seq2func.core.intervals.fit_to_chromosomes`: overhangs clipped, a few bad intervals
dropped with a warning, more refused as another assembly); an annotation feature beyond a
chromosome's end stops the ingestion.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.genes import is_gff3, record_coordinates
from seq2func.core.intervals import data_lines, fit_to_chromosomes
from seq2func.core.io import (
    NARROWPEAK_COLUMNS,
    atomic_output,
    open_text,
    write_bed,
    write_narrowpeak,
)
from seq2func.core.naming import ChromRenamer
from seq2func.core.vcf import check_record
from seq2func.download.formats import BIGBED_MAGIC, PathLike, genome_sizes, magic32

log = logging.getLogger(__name__)

#: narrowPeak's "unknown" values of columns 4-10 (name, score, strand, signal, p, q, summit)
NARROWPEAK_DEFAULTS: tuple[object, ...] = (".", 0, ".", -1.0, -1.0, -1.0, -1)
_VCF_CONTIG = re.compile(r"^##contig=<ID=([^,>]+)(.*)$")


def read_bed_like(path: PathLike) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a BED/narrowPeak file (plain or gzip) as strings + original line numbers.

    Raises
    ------
    InputError
        For a bigBed file.
    """
    if magic32(path) == BIGBED_MAGIC:
        raise InputError(path, "bigBed files are not supported",
                         fix="use the BED (bed.gz / narrowPeak) version of the file; ENCODE "
                             "offers both for every peak set")
    lines, numbers = data_lines(path)
    if not lines:
        return pd.DataFrame(), np.zeros(0, dtype=np.int64)
    fields = pd.Series(lines).str.split("\t")
    short = np.flatnonzero(fields.str.len().to_numpy() < 3)
    if short.size:
        raise InputError(path, f"fewer than 3 tab-separated columns: {lines[short[0]][:80]!r}",
                         int(numbers[short[0]]),
                         "give a BED/narrowPeak file (chrom, start, end, ...; tab-separated)")
    width = int(fields.str.len().max())
    df = pd.DataFrame([f + [""] * (width - len(f)) for f in fields], dtype=str)
    return df, np.asarray(numbers)


def _coords(df: pd.DataFrame, lines: np.ndarray, path: PathLike,
            sizes: Mapping[str, int], what: str = "interval") -> pd.DataFrame:
    """Rename/filter chromosomes, validate start/end and sort a BED-like table.

    Intervals are checked against the genome by the rule preprocessing applies too
    (:func:`~seq2func.core.intervals.fit_to_chromosomes`): overhangs are clipped, a few invalid
    or past-the-end intervals dropped with a warning, more stop the ingestion.

    Raises
    ------
    InputError
        Naming the line of a non-integer coordinate, or too many bad intervals.
    """
    if df.shape[1] < 3:
        raise InputError(path, f"expected at least 3 tab-separated columns, got {df.shape[1]}",
                         int(lines[0]) if lines.size else None, "give a BED file")
    mapping = ChromRenamer(list(sizes)).mapping(df[0].unique(), path)
    keep = df[0].isin(list(mapping)).to_numpy()
    df = df.loc[keep].copy()
    lines = lines[keep]
    df[0] = df[0].map(mapping)
    for col in (1, 2):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() | (num != num.round()) | ~(num.abs() < 2**62)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(path, f"column {col + 1} is not an integer: {df[col].iloc[i]!r}",
                             int(lines[i]), "BED columns 2 and 3 are 0-based integer positions")
        df[col] = num.astype(np.int64)
    check = pd.DataFrame({"chrom": df[0].to_numpy(), "start": df[1].to_numpy(),
                          "end": df[2].to_numpy(), "line": lines}, index=df.index)
    if df.shape[1] >= 10:  # narrowPeak: a summit past the end counts as past the end
        off = pd.to_numeric(df[9], errors="coerce").to_numpy(dtype=np.float64)
        check["summit"] = check["start"] + np.where(np.isfinite(off) & (off >= 0), off, 0
                                                    ).astype(np.int64)
    kept, _ = fit_to_chromosomes(check, sizes, path, what)
    df = df.loc[kept.index]
    df[2] = kept["end"].to_numpy()
    order = {c: i for i, c in enumerate(sizes)}
    df["_order"] = df[0].map(order)
    df = df.sort_values(["_order", 1, 2], kind="stable").drop(columns="_order")
    return df.reset_index(drop=True)


def ingest_peaks(src: PathLike, out: PathLike,
                 chrom_sizes: PathLike | Mapping[str, int]) -> int:
    """Write peaks (narrowPeak or BED3-9, plain or gzip) as a sorted narrowPeak file.

    Missing narrowPeak columns are filled with the format's "unknown" values
    (:data:`NARROWPEAK_DEFAULTS`: name ``.``, score 0, strand ``.``, signal/p/q ``-1``,
    summit ``-1``).

    Returns
    -------
    int
        Number of peaks written.
    """
    sizes = genome_sizes(chrom_sizes)
    df, lines = read_bed_like(src)
    if df.empty:
        raise InputError(src, "no peaks in the file", fix="check the download")
    df = _coords(df, lines, src, sizes, "peak")
    out_df = pd.DataFrame({"chrom": df[0], "start": df[1], "end": df[2]})
    for j, name in enumerate(NARROWPEAK_COLUMNS[3:]):
        col = j + 3
        if col >= df.shape[1]:
            out_df[name] = NARROWPEAK_DEFAULTS[j]
            continue
        values = df[col]
        if name in ("score", "signalValue", "pValue", "qValue", "peak"):
            values = _numeric_or_unknown(values, NARROWPEAK_DEFAULTS[j], name, src)
        out_df[name] = values.to_numpy()
    write_narrowpeak(out, out_df)
    return len(out_df)


def _numeric_or_unknown(values: pd.Series, unknown: object, name: str, src: PathLike
                        ) -> pd.Series:
    """A numeric narrowPeak column; values that are not finite numbers become the format's
    "unknown" value (logged when any was more than an empty field or ``.``)."""
    num = pd.to_numeric(values, errors="coerce")
    bad = ~np.isfinite(num.to_numpy(dtype=np.float64)) | ~(num.abs() < 2**62).to_numpy()
    odd = bad & ~values.isin(["", "."]).to_numpy()
    if odd.any():
        log.warning("%s: %d %s value(s) are not finite numbers (e.g. %r); read as unknown (%s)",
                    src, int(odd.sum()), name, values[odd].iloc[0], unknown)
    num = num.where(~bad, unknown)
    return num.round().astype(np.int64) if isinstance(unknown, int) else num.astype(float)


def ingest_bed(src: PathLike, out: PathLike, chrom_sizes: PathLike | Mapping[str, int]) -> int:
    """Write a BED file (e.g. a blacklist) as sorted BED4 (name ``.`` when absent).

    The number of intervals written is returned.
    """
    sizes = genome_sizes(chrom_sizes)
    df, lines = read_bed_like(src)
    if df.empty:
        write_bed(out, pd.DataFrame(columns=[0, 1, 2, 3]))
        return 0
    df = _coords(df, lines, src, sizes)
    names = df[3] if df.shape[1] > 3 else pd.Series(["."] * len(df))
    bed = pd.DataFrame({0: df[0], 1: df[1], 2: df[2], 3: names.replace("", ".").to_numpy()})
    write_bed(out, bed)
    return len(bed)


def ingest_gtf(src: PathLike, out: PathLike, chrom_sizes: PathLike | Mapping[str, int]) -> int:
    """Copy a GTF or GFF3 annotation with renamed chromosomes, dropping other sequences.

    Streamed. Every record is checked (9 columns, ``1 <= start <= end``,
    :func:`~seq2func.core.genes.record_coordinates`); a GFF3's ``##FASTA`` section is not
    copied, its ``##sequence-region`` lines are renamed like the records, and a GFF3 without a
    ``##gff-version 3`` line gets one (the canonical ``genes.gtf`` then holds GFF3, which every
    reader recognises by that line).

    Returns
    -------
    int
        Number of feature lines written.

    Raises
    ------
    InputError
        For a line that is not GTF/GFF3, a feature beyond its chromosome's end, or no
        chromosome of the genome in the file.
    """
    sizes = genome_sizes(chrom_sizes)
    renamer = ChromRenamer(list(sizes))
    cache: dict[str, str | None] = {}
    gff3 = is_gff3(src)
    n = 0
    with open_text(src) as fh, atomic_output(out) as tmp, \
            open(tmp, "w", encoding="utf-8") as fo:
        header = False
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("#"):
                if line.startswith("##FASTA"):
                    break
                header = header or line.startswith("##gff-version")
                line = _renamed_region(line, renamer)
                if line:
                    fo.write(line)
                continue
            if not line.strip():
                continue
            if gff3 and not header:
                fo.write("##gff-version 3\n")
                header = True
            fields = line.rstrip("\n\r").split("\t")
            if len(fields) != 9:
                raise InputError(src, f"not a GTF/GFF3 record: {len(fields)} tab-separated "
                                      "columns (9 needed)", lineno,
                                 "give a GTF or GFF3 annotation (tab-separated, 9 columns)")
            chrom = fields[0]
            if chrom not in cache:
                cache[chrom] = renamer(chrom)
            target = cache[chrom]
            if target is None:
                continue
            _check_gtf_end(fields, target, sizes[target], src, lineno)
            fo.write(target + line[len(chrom):])
            n += 1
    if n == 0:
        renamer.mapping(sorted(cache), src)  # raises with the names seen
    return n


def _renamed_region(line: str, renamer: ChromRenamer) -> str:
    """A ``##sequence-region`` line with its sequence renamed ("" if dropped); other comment
    lines unchanged."""
    if not line.startswith("##sequence-region"):
        return line
    parts = line.split()
    target = renamer(parts[1]) if len(parts) > 1 else None
    return "" if target is None else " ".join(["##sequence-region", target, *parts[2:]]) + "\n"


def _check_gtf_end(fields: list[str], chrom: str, length: int, src: PathLike,
                   lineno: int) -> None:
    """Check a record's positions and that it ends within its chromosome."""
    _, end = record_coordinates(fields, src, lineno)
    if end > length:
        raise InputError(src, f"feature ends at {end:,}, beyond {chrom} ({length:,} bp): "
                         "another assembly?", lineno,
                         "use the annotation of the same assembly as the FASTA")


def ingest_vcf(src: PathLike, out: PathLike, chrom_sizes: PathLike | Mapping[str, int]) -> int:
    """Copy a VCF with renamed chromosomes (``##contig`` lines too), dropping the others.

    Returns
    -------
    int
        Number of variant lines written.

    Raises
    ------
    InputError
        For a record that is not VCF (:func:`seq2func.core.vcf.check_record`) or a POS
        outside its chromosome.
    """
    sizes = genome_sizes(chrom_sizes)
    renamer = ChromRenamer(list(sizes))
    n = 0
    seen_header = False
    with open_text(src) as fh, atomic_output(out) as tmp, \
            open(tmp, "w", encoding="utf-8") as fo:
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("##"):
                m = _VCF_CONTIG.match(line.rstrip("\n"))
                if m:
                    target = renamer(m.group(1))
                    if target is None:
                        continue
                    line = f"##contig=<ID={target}{m.group(2)}\n"
                fo.write(line)
                continue
            if line.startswith("#") or not line.strip():
                seen_header = seen_header or line.startswith("#CHROM")
                fo.write(line)
                continue
            if not seen_header:
                raise InputError(src, "record before the #CHROM header line", lineno,
                                 "a VCF needs a '#CHROM POS ID REF ALT QUAL FILTER INFO' line "
                                 "before its records")
            pos = check_record(line.rstrip("\n\r").split("\t"), src, lineno)
            tab = line.find("\t")
            target = renamer(line[:tab])
            if target is None:
                continue
            if not 1 <= pos <= sizes[target]:
                raise InputError(src, f"POS {pos:,} outside {target} ({sizes[target]:,} bp)",
                                 lineno, "use a VCF of the same assembly as the FASTA")
            fo.write(target + line[tab:])
            n += 1
    return n
