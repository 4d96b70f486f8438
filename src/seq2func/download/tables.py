"""Ingest tables of genomic features: peaks and blacklist (BED-like), annotation (GTF), VCF.

Chromosomes are renamed to the configured names and the others dropped; coordinates are checked
against the genome (a feature beyond a chromosome's end means another assembly).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.intervals import data_lines
from seq2func.core.io import (
    NARROWPEAK_COLUMNS,
    atomic_output,
    open_text,
    write_bed,
    write_narrowpeak,
)
from seq2func.core.naming import ChromRenamer
from seq2func.download.formats import BIGBED_MAGIC, PathLike, genome_sizes, magic32

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
    df = pd.read_csv(io.StringIO("\n".join(lines)), sep="\t", header=None, dtype=str,
                     keep_default_na=False)
    return df, np.asarray(numbers)


def _coords(df: pd.DataFrame, lines: np.ndarray, path: PathLike,
            sizes: Mapping[str, int]) -> pd.DataFrame:
    """Rename/filter chromosomes, validate start/end and sort a BED-like table.

    Raises
    ------
    InputError
        Naming the line of a non-integer coordinate or an interval outside its chromosome.
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
        bad = num.isna() | (num != num.round())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(path, f"column {col + 1} is not an integer: {df[col].iloc[i]!r}",
                             int(lines[i]))
        df[col] = num.astype(np.int64)
    size = df[0].map(sizes).to_numpy()
    bad = (df[1].to_numpy() < 0) | (df[2].to_numpy() <= df[1].to_numpy()) | \
        (df[2].to_numpy() > size)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = df.iloc[i]
        problem = f"bad interval {row[0]}:{row[1]}-{row[2]}"
        if row[2] > size[i]:
            problem += f" (beyond the end of {row[0]}, {size[i]:,} bp: another assembly?)"
        raise InputError(path, problem, int(lines[i]),
                         "use a file of the same genome assembly as the FASTA")
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
    df = _coords(df, lines, src, sizes)
    out_df = pd.DataFrame({"chrom": df[0], "start": df[1], "end": df[2]})
    for j, name in enumerate(NARROWPEAK_COLUMNS[3:]):
        col = j + 3
        if col >= df.shape[1]:
            out_df[name] = NARROWPEAK_DEFAULTS[j]
            continue
        values = df[col]
        if name in ("score", "peak"):
            values = pd.to_numeric(values, errors="coerce").fillna(NARROWPEAK_DEFAULTS[j])
            values = values.round().astype(np.int64)
        elif name in ("signalValue", "pValue", "qValue"):
            values = pd.to_numeric(values, errors="coerce").fillna(-1.0)
        out_df[name] = values.to_numpy()
    write_narrowpeak(out, out_df)
    return len(out_df)


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
    """Copy a GTF with renamed chromosomes, dropping other sequences (streamed).

    Returns
    -------
    int
        Number of feature lines written.

    Raises
    ------
    InputError
        For a line that is not GTF, a feature beyond its chromosome's end, or no chromosome
        of the genome in the file.
    """
    sizes = genome_sizes(chrom_sizes)
    renamer = ChromRenamer(list(sizes))
    cache: dict[str, str | None] = {}
    n = 0
    with open_text(src) as fh, atomic_output(out) as tmp, \
            open(tmp, "w", encoding="utf-8") as fo:
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("#"):
                fo.write(line)
                continue
            if not line.strip():
                continue
            tab = line.find("\t")
            if tab <= 0:
                raise InputError(src, "not a GTF line (no tab-separated columns)", lineno)
            chrom = line[:tab]
            if chrom not in cache:
                cache[chrom] = renamer(chrom)
            target = cache[chrom]
            if target is None:
                continue
            _check_gtf_end(line, target, sizes[target], src, lineno)
            fo.write(target + line[tab:])
            n += 1
    if n == 0:
        renamer.mapping(sorted(cache), src)  # raises with the names seen
    return n


def _check_gtf_end(line: str, chrom: str, length: int, src: PathLike, lineno: int) -> None:
    """Check that a GTF feature has 9 columns and ends within its chromosome."""
    fields = line.split("\t", 5)
    if len(fields) < 6:
        raise InputError(src, "a GTF line needs 9 tab-separated columns", lineno)
    try:
        end = int(fields[4])
    except ValueError as exc:
        raise InputError(src, f"end {fields[4]!r} is not an integer", lineno) from exc
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
        For a POS that is not an integer or lies outside its chromosome.
    """
    sizes = genome_sizes(chrom_sizes)
    renamer = ChromRenamer(list(sizes))
    n = 0
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
                fo.write(line)
                continue
            tab = line.find("\t")
            target = renamer(line[:tab]) if tab > 0 else None
            if target is None:
                continue
            pos_end = line.find("\t", tab + 1)
            try:
                pos = int(line[tab + 1 : pos_end])
            except ValueError as exc:
                raise InputError(src, "POS is not an integer", lineno) from exc
            if not 1 <= pos <= sizes[target]:
                raise InputError(src, f"POS {pos:,} outside {target} ({sizes[target]:,} bp)",
                                 lineno, "use a VCF of the same assembly as the FASTA")
            fo.write(target + line[tab:])
            n += 1
    return n
