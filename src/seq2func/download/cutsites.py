"""Reads to signal: a BAM or a fragments/BEDPE/BED file becomes a bigWig of cut sites per base.

An ATAC or DNase signal bigWig counts the enzyme's insertions (cut sites) per base. This module
makes one from what ATAC pipelines leave behind:

==========  ==========================================  ======================================
format      input                                       cut sites counted
==========  ==========================================  ======================================
bam         aligned reads (BAM, any order, no index)    each read's 5' end: + strand
                                                        ``reference_start + plus``, - strand
                                                        ``reference_end - 1 + minus``
fragments   10x/cellranger ``fragments.tsv.gz``         both ends of each fragment:
            (chrom, start, end, barcode, count)         ``start + plus`` and ``end - 1 + minus``
bedpe       MACS3 BEDPE (chrom, start, end) or          as fragments; a bedtools pair is the
            bedtools BEDPE (chrom1, start1, end1,       fragment ``min(start1, start2)`` ..
            chrom2, start2, end2, ...)                  ``max(end1, end2)``
bed         BED of fragments (chrom, start, end, ...)   as fragments
==========  ==========================================  ======================================

The shifts ``[plus, minus]`` are settings (:class:`CutSiteSettings`, the config's
``download.cutsites``). Their defaults follow ChromBPNet (``reads_to_bigwig.py``, which shifts
+ strand starts by ``plus`` and - strand ends by ``minus`` and counts 5' ends with ``bedtools
genomecov -5``): ATAC BAM +4/-4, DNase BAM 0/+1. Fragment files are taken as they are (0/0):
10x fragments are already Tn5-adjusted, and their insertions are ``start`` and ``end - 1`` as in
Signac and ArchR (ChromBPNet, which turns 10x's +4/-5 into its +4/-4, counts at ``end``: 0/+1).

Memory is bounded by one chromosome: one streaming pass (pandas chunks, or batches of BAM reads)
appends the int32 cut positions of each chromosome to a temporary file; then each chromosome's
positions are sorted, counted and written as runs of equal counts, in the order of the genome's
``chrom.sizes``. Sorting needs memory for the chromosome's cut sites only (a ``np.bincount``
over the chromosome's length would need 8 bytes per base: 2 GB for human chr1).

Records are dropped, and counted in the :class:`CutSiteReport`, when they lie on a sequence that
is not configured (mitochondria, alt, unplaced: ``other_sequences``), extend past the end of
their chromosome, have zero length, or (BAM) fail the flag and mapping-quality filters; a cut
site that a shift moves off its chromosome is dropped too. Malformed input stops the
conversion with an :class:`~seq2func.core.errors.InputError` naming the file, the line and the
fix: missing columns, coordinates that are not integers, a negative start or length, or more
than ``max_unknown_fraction`` of the records on sequences of another assembly or naming.
"""

from __future__ import annotations

import gzip
import logging
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np

from seq2func.core.errors import ConfigError, InputError
from seq2func.core.io import atomic_output
from seq2func.core.naming import ChromRenamer
from seq2func.core.settings import Settings
from seq2func.download.formats import PathLike, genome_sizes

log = logging.getLogger(__name__)

#: formats a samples table's ``signal`` may have (``signal_format``)
SIGNAL_FORMATS = ("bigwig", "bam", "fragments", "bedpe", "bed")
#: the formats this module converts (the others are bigWigs, ingested as they are)
READ_FORMATS = ("bam", "fragments", "bedpe", "bed")
#: name endings -> format, tried in order (``fragments.tsv.gz`` before ``.tsv.gz``)
_NAME_FORMATS = (
    (re.compile(r"\.(bw|bigwig)$", re.I), "bigwig"),
    (re.compile(r"\.bam$", re.I), "bam"),
    (re.compile(r"fragments\.tsv(\.b?gz)?$", re.I), "fragments"),
    (re.compile(r"\.bedpe(\.b?gz)?$", re.I), "bedpe"),
    (re.compile(r"\.bed(\.b?gz)?$", re.I), "bed"),
)
#: first words of the lines that precede the data of a text file (10x comments, BED tracks)
_HEADER_PREFIXES = ("#", "track", "browser")
#: the fix of every malformed-fragment error
_FRAGMENT_FIX = ("give one fragment per line: chrom<TAB>start<TAB>end with integer 0-based, "
                 "end-exclusive coordinates (BED); check that the file is complete")


@dataclass(frozen=True)
class CutSiteSettings(Settings):
    """How reads become cut sites (the config's ``download.cutsites``; defaults in the schema).

    Attributes
    ----------
    shift_atac_bam, shift_dnase_bam
        ``[plus, minus]`` of BAM reads, by assay (ChromBPNet: +4/-4 ATAC, 0/+1 DNase).
    shift_fragments, shift_bedpe, shift_bed
        ``[plus, minus]`` of the fragment formats (0/0: their ends are the insertions).
    bam_min_mapq
        BAM reads of a lower mapping quality are skipped.
    bam_exclude_flags
        BAM reads with one of these flag bits are skipped (2820: unmapped, secondary, QC fail,
        supplementary).
    other_sequences
        Regular expression of the sequence names that are dropped without complaint.
    max_unknown_fraction
        Largest fraction of records on unknown sequences before the conversion stops.
    chunk_lines
        Lines (or BAM reads) converted at a time.
    """

    SECTION: ClassVar[str] = "download.cutsites"

    shift_atac_bam: list[int]
    shift_dnase_bam: list[int]
    shift_fragments: list[int]
    shift_bedpe: list[int]
    shift_bed: list[int]
    bam_min_mapq: int
    bam_exclude_flags: int
    other_sequences: str
    max_unknown_fraction: float
    chunk_lines: int

    def shift(self, fmt: str, assay: str) -> tuple[int, int]:
        """``(plus, minus)`` of a format (and, for BAM, of the assay: ``ATAC`` or ``DNase``)."""
        if fmt == "bam":
            pair = self.shift_dnase_bam if assay.lower() == "dnase" else self.shift_atac_bam
        else:
            pair = getattr(self, f"shift_{fmt}")
        return int(pair[0]), int(pair[1])


@dataclass
class CutSiteReport:
    """What a conversion read, wrote and dropped (recorded in the output's provenance).

    Attributes
    ----------
    records
        Fragments read (text formats), or reads that passed the filters (BAM).
    cut_sites
        Cut sites written.
    per_chromosome
        Output chromosome -> cut sites written.
    other_sequences, unknown_sequences
        Records on sequences dropped as ``other_sequences`` / on unknown sequences, by name.
    outside
        Fragments extending past the end of their chromosome (dropped).
    empty
        Fragments of zero length (dropped).
    discordant
        bedtools BEDPE pairs whose mates lie on different chromosomes or are unmapped (dropped).
    filtered
        BAM reads skipped by ``bam_exclude_flags`` / ``bam_min_mapq`` (or without alignment).
    shifted_off
        Cut sites that the shift moved off their chromosome (dropped).
    seconds
        Wall time of the streaming pass (``read``) and of counting and writing (``write``).
    """

    records: int = 0
    cut_sites: int = 0
    per_chromosome: dict[str, int] = field(default_factory=dict)
    other_sequences: dict[str, int] = field(default_factory=dict)
    unknown_sequences: dict[str, int] = field(default_factory=dict)
    outside: int = 0
    empty: int = 0
    discordant: int = 0
    filtered: int = 0
    shifted_off: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data."""
        return asdict(self)

    def summary(self) -> str:
        """One line for the log."""
        other = sum(self.other_sequences.values())
        unknown = sum(self.unknown_sequences.values())
        return (f"{self.records:,} records -> {self.cut_sites:,} cut sites; dropped: "
                f"{other:,} on other sequences, {unknown:,} on unknown sequences, "
                f"{self.outside:,} past the chromosome end, {self.empty:,} of zero length, "
                f"{self.discordant:,} discordant pairs, {self.filtered:,} filtered reads, "
                f"{self.shifted_off:,} cut sites shifted off the chromosome")


# ----------------------------------------------------------------------------- format


def detect_format(path: PathLike, override: str | None = None, *, source: str = "samples",
                  key: str = "signal") -> str:
    """The format of a signal file: ``override`` if given, else from the file name.

    Parameters
    ----------
    path
        The file (or its source string).
    override
        The samples table's ``signal_format`` (empty or None: from the name).
    source, key
        The samples table and the cell, for error messages.

    Raises
    ------
    ConfigError
        For an unknown override or a name that tells no format.
    """
    if override:
        if override not in SIGNAL_FORMATS:
            raise ConfigError(source, f"{key} (signal_format)", f"unknown format {override!r}",
                              f"use one of {', '.join(SIGNAL_FORMATS)}")
        return override
    name = Path(str(path)).name
    for pattern, fmt in _NAME_FORMATS:
        if pattern.search(name):
            return fmt
    raise ConfigError(source, key, f"cannot tell the format of {name!r} from its name",
                      "name it .bw/.bigWig, .bam, fragments.tsv.gz, .bedpe[.gz] or .bed[.gz], or "
                      f"set the samples table's signal_format ({', '.join(SIGNAL_FORMATS)})")


def signal_formats(samples: Any, signal_paths: Mapping[str, str],
                   source: str = "samples") -> dict[str, str]:
    """Sample -> format of its signal file (the workflow's choice of rule per sample).

    Parameters
    ----------
    samples
        The samples table (pandas DataFrame with ``sample`` and optional ``signal_format``
        columns; empty cells are absent).
    signal_paths
        Sample -> its signal file (download path; its name tells the format).
    source
        The samples table's path, for error messages.

    Raises
    ------
    ConfigError
        Naming the sample, for an unknown format or a name that tells none.
    """
    overrides = samples["signal_format"] if "signal_format" in samples else None
    out: dict[str, str] = {}
    for i, sample in enumerate(samples["sample"]):
        override = str(overrides.iloc[i]).strip() if overrides is not None else ""
        out[sample] = detect_format(signal_paths[sample], override or None, source=source,
                                    key=f"sample {sample}, column signal")
    return out


# ----------------------------------------------------------------------------- chromosomes


class _Chromosomes:
    """Source sequence names -> index of the output chromosome (-1 other, -2 unknown)."""

    OTHER = -1
    UNKNOWN = -2

    def __init__(self, sizes: Mapping[str, int], other_sequences: str, path: PathLike,
                 genome_sequences: Sequence[str] = ()) -> None:
        self.path = path
        self.names = list(sizes)
        self.lengths = np.array([sizes[c] for c in self.names], dtype=np.int64)
        self._renamer = ChromRenamer(self.names)
        self._other = re.compile(other_sequences)
        # the genome's sequences that are not configured (any spelling): dropped as "other"
        self._genome = ChromRenamer([n for n in genome_sequences if self._renamer(n) is None])
        self._index: dict[str, int] = {}
        self._seen: dict[int, str] = {}

    def index(self, name: str) -> int:
        """The output index of one source name (cached)."""
        got = self._index.get(name)
        if got is None:
            target = self._renamer(name)
            if target is not None:
                got = self.names.index(target)
                if self._seen.setdefault(got, name) != name:
                    raise InputError(self.path, f"chromosomes {self._seen[got]!r} and {name!r} are "
                                     f"both {target!r} (mixed UCSC/Ensembl naming)",
                                     fix="use a file with one naming style")
            else:
                other = self._other.search(name) or self._genome(name) is not None
                got = self.OTHER if other else self.UNKNOWN
            self._index[name] = got
        return got

    def indices(self, names: Sequence[str]) -> np.ndarray:
        """Output indices of several names (int64)."""
        return np.array([self.index(n) for n in names], dtype=np.int64)


# ----------------------------------------------------------------------------- spooling


class _Spool:
    """Per-chromosome temporary files of int32 cut positions, in one temporary directory."""

    def __init__(self, n_chroms: int, directory: Path) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix=".cutsites.", dir=directory)
        self._paths = [Path(self._dir.name) / f"{i}.i32" for i in range(n_chroms)]
        self._files: list[IO[bytes]] = [open(p, "wb") for p in self._paths]
        self.counts = np.zeros(n_chroms, dtype=np.int64)

    def add(self, chrom_index: np.ndarray, positions: np.ndarray) -> None:
        """Append cut ``positions`` (valid ones only) to the file of their chromosome."""
        if positions.size == 0:
            return
        order = np.argsort(chrom_index, kind="stable")
        ci, pos = chrom_index[order], positions[order].astype(np.int32)
        bounds = np.searchsorted(ci, np.arange(len(self._files) + 1))
        for i in np.flatnonzero(np.diff(bounds)):
            part = pos[bounds[i]:bounds[i + 1]]
            part.tofile(self._files[i])
            self.counts[i] += part.size

    def read(self, i: int) -> np.ndarray:
        """Every position of chromosome ``i`` (the files are closed first)."""
        self.close_files()
        return np.fromfile(self._paths[i], dtype=np.int32)

    def close_files(self) -> None:
        """Close the files (idempotent)."""
        for fh in self._files:
            fh.close()

    def cleanup(self) -> None:
        """Remove the temporary directory."""
        self.close_files()
        self._dir.cleanup()


# ----------------------------------------------------------------------------- counting


#: sorted cut sites counted and written at a time (bounds the temporaries of :func:`count_runs`)
WRITE_BLOCK = 1 << 20


def count_runs(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut counts per base as runs: (starts, ends, counts) of consecutive bases of equal count.

    Parameters
    ----------
    positions
        Sorted cut positions on one chromosome.

    Returns
    -------
    tuple of numpy.ndarray
        int64 run starts and (exclusive) ends, float64 counts; bases without a cut are absent.

    Examples
    --------
    >>> [a.tolist() for a in count_runs(np.array([3, 3, 4, 4, 5, 9], dtype=np.int32))]
    [[3, 5, 9], [5, 6, 10], [2.0, 1.0, 1.0]]
    """
    if positions.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    first = np.flatnonzero(np.diff(positions)) + 1
    first = np.concatenate(([0], first))
    base = positions[first].astype(np.int64)
    counts = np.diff(np.concatenate((first, [positions.size])))
    new_run = np.ones(base.size, dtype=bool)
    new_run[1:] = (base[1:] != base[:-1] + 1) | (counts[1:] != counts[:-1])
    starts_i = np.flatnonzero(new_run)
    last_i = np.concatenate((starts_i[1:], [base.size])) - 1
    return base[starts_i], base[last_i] + 1, counts[starts_i].astype(np.float64)


def sorted_blocks(positions: np.ndarray, block: int) -> Iterator[np.ndarray]:
    """Consecutive slices of sorted ``positions`` of about ``block`` cut sites each.

    A slice never splits the cuts of one base (so each base is counted once); a run of equal
    counts may continue into the next slice, and is then written as two adjacent intervals.

    Examples
    --------
    >>> [b.tolist() for b in sorted_blocks(np.array([1, 2, 2, 2, 5, 6]), 2)]
    [[1, 2, 2, 2], [5, 6]]
    """
    n, a = positions.size, 0
    while a < n:
        b = min(n, a + block)
        if b < n:
            b = int(np.searchsorted(positions, positions[b - 1], side="right"))
        yield positions[a:b]
        a = b


def _write_bigwig(out: PathLike, spool: _Spool, chroms: _Chromosomes,
                  report: CutSiteReport) -> None:
    """Write every chromosome's counted cut sites, in genome order, atomically.

    Memory: the chromosome's cut sites (int32, sorted in place) and the temporaries of one
    :data:`WRITE_BLOCK` of them.
    """
    import pyBigWig
    from tqdm import tqdm

    with atomic_output(out) as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader(list(zip(chroms.names, (int(n) for n in chroms.lengths), strict=True)),
                         maxZooms=10)
            for i, name in enumerate(tqdm(chroms.names, desc="write", unit="chrom")):
                positions = spool.read(i)
                positions.sort()
                for part in sorted_blocks(positions, WRITE_BLOCK):
                    starts, ends, values = count_runs(part)
                    bw.addEntries([name] * int(starts.size), starts, ends=ends, values=values)
                report.per_chromosome[name] = int(positions.size)
                del positions
        finally:
            bw.close()
    report.cut_sites = int(spool.counts.sum())


# ----------------------------------------------------------------------------- text formats


def _header_lines(path: PathLike) -> int:
    """Number of comment/track lines before the data (10x ``#`` headers, BED tracks)."""
    from seq2func.core.io import open_text

    n = 0
    with open_text(path) as fh:
        for line in fh:
            if not line.startswith(_HEADER_PREFIXES):
                break
            n += 1
    return n


def _bedpe_layout(path: PathLike, skip: int) -> str:
    """``macs`` (chrom, start, end) or ``bedtools`` (chrom1, start1, end1, chrom2, start2, end2)."""
    from seq2func.core.io import open_text

    with open_text(path) as fh:
        for i, line in enumerate(fh):
            if i >= skip:
                fields = line.rstrip("\n").split("\t")
                numeric = [f.lstrip("-").isdigit() for f in fields[:6]]
                return ("bedtools" if len(fields) >= 6 and not numeric[3] and all(numeric[4:6])
                        else "macs")
    return "macs"


def _open_stream(path: PathLike) -> tuple[IO[bytes], IO[bytes]]:
    """(raw file, decompressed stream) of a plain or gzip/bgzip file."""
    raw = open(path, "rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return raw, gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw, raw


def _first_bad_line(path: PathLike, skip: int, columns: Sequence[int]) -> InputError:
    """The error of the first malformed data line, once the fast read failed.

    A line-by-line pass in Python: slow, but it runs only on the way to an error.
    """
    from seq2func.core.io import open_text

    need = max(columns) + 1
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if lineno <= skip:
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < need:
                return InputError(path, f"{len(fields)} tab-separated column(s), need at least "
                                  f"{need} (chrom, start, end)", lineno, _FRAGMENT_FIX)
            for c in columns[1:]:
                try:
                    int(fields[c])
                except ValueError:
                    return InputError(path, f"column {c + 1} is {fields[c]!r}, not an integer "
                                      "coordinate", lineno, _FRAGMENT_FIX)
    return InputError(path, "cannot be read as a table of fragments", fix=_FRAGMENT_FIX)


def _text_chunks(path: PathLike, fmt: str, chunk_lines: int
                 ) -> Iterator[tuple[int, list[str], np.ndarray, np.ndarray, np.ndarray]]:
    """Stream a fragment file: (first line number, chrom names, chrom codes, starts, ends).

    The codes index the names; a bedtools BEDPE pair that is no fragment (mates on different
    chromosomes, or unmapped) has code -3 (:func:`_chunk_arrays`).
    """
    import pandas as pd
    from tqdm import tqdm

    skip = _header_lines(path)
    layout = _bedpe_layout(path, skip) if fmt == "bedpe" else "macs"
    columns = [0, 1, 2, 3, 4, 5] if layout == "bedtools" else [0, 1, 2]
    dtype: dict[int, Any] = {0: "category", 1: np.int64, 2: np.int64}
    if layout == "bedtools":
        dtype.update({3: "category", 4: np.int64, 5: np.int64})
    raw, stream = _open_stream(path)
    size = Path(path).stat().st_size
    try:
        reader = pd.read_csv(stream, sep="\t", header=None, usecols=columns, dtype=dtype,
                             skiprows=skip, chunksize=chunk_lines, skip_blank_lines=False,
                             engine="c", na_filter=False, comment=None,
                             quoting=3, low_memory=True)
        line = skip + 1
        with tqdm(total=size, unit="B", unit_scale=True, desc="read") as bar:
            while True:
                try:
                    df = next(reader)
                except StopIteration:
                    break
                except (ValueError, pd.errors.ParserError) as exc:
                    if layout == "bedtools":
                        raise _bedtools_error(path, exc) from exc
                    raise _first_bad_line(path, skip, columns) from exc
                yield (line, *_chunk_arrays(df, layout))
                line += len(df)
                bar.update(raw.tell() - bar.n)
    finally:
        stream.close()
        raw.close()


def _bedtools_error(path: PathLike, exc: Exception) -> InputError:
    """The error of a bedtools BEDPE that pandas could not read."""
    return InputError(path, f"cannot be read as a bedtools BEDPE ({exc})",
                      fix="give chrom1, start1, end1, chrom2, start2, end2 with integer "
                          "coordinates (-1 for an unmapped mate), or the 3-column MACS3 BEDPE")


def _chunk_arrays(df: Any, layout: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(category names, codes, starts, ends) of one chunk; bedtools pairs become fragments."""
    chrom = df[0]
    names = [str(c) for c in chrom.cat.categories]
    codes = chrom.cat.codes.to_numpy(np.int64)
    start = df[1].to_numpy(np.int64)
    end = df[2].to_numpy(np.int64)
    if layout == "bedtools":
        chrom2 = df[3].astype(str).to_numpy()
        same = chrom2 == chrom.astype(str).to_numpy()
        s2 = df[4].to_numpy(np.int64)
        e2 = df[5].to_numpy(np.int64)
        start = np.minimum(start, s2)
        end = np.maximum(end, e2)
        # a pair whose mates are on different chromosomes (or unmapped: '.', -1) is no fragment
        codes = np.where(same & (start >= 0), codes, -3)
    return names, codes, start, end


def _check_coordinates(path: PathLike, first_line: int, start: np.ndarray,
                       end: np.ndarray, valid: np.ndarray) -> None:
    """Negative starts and negative lengths are malformed input (naming the first such line)."""
    bad = valid & ((start < 0) | (end < start))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        problem = (f"negative start {start[i]}" if start[i] < 0
                   else f"end {end[i]} before start {start[i]} (negative length)")
        raise InputError(path, problem, first_line + i, _FRAGMENT_FIX)


def _fragment_cuts(path: PathLike, fmt: str, shift: tuple[int, int], chroms: _Chromosomes,
                   spool: _Spool, report: CutSiteReport, chunk_lines: int) -> None:
    """Stream a fragment file into the spool: both ends of every kept fragment."""
    plus, minus = shift
    for first_line, names, codes, start, end in _text_chunks(path, fmt, chunk_lines):
        report.records += int(codes.size)
        lookup = chroms.indices(names)
        paired = codes >= 0
        report.discordant += int((~paired).sum())
        ci = np.where(paired, lookup[np.where(paired, codes, 0)], -3)
        _count_dropped_names(ci, codes, names, report)
        kept = ci >= 0
        _check_coordinates(path, first_line, start, end, kept)
        length = chroms.lengths[np.where(kept, ci, 0)]
        outside = kept & (end > length)
        empty = kept & (end == start)
        report.outside += int(outside.sum())
        report.empty += int((empty & ~outside).sum())
        kept &= ~outside & ~empty
        ci, start, end, length = ci[kept], start[kept], end[kept], length[kept]
        _spool_cuts(spool, report, np.concatenate((ci, ci)),
                    np.concatenate((start + plus, end - 1 + minus)),
                    np.concatenate((length, length)))


def _count_dropped_names(ci: np.ndarray, codes: np.ndarray, names: Sequence[str],
                         report: CutSiteReport) -> None:
    """Add the records on other and unknown sequences to the report, by name."""
    for kind, target in ((_Chromosomes.OTHER, report.other_sequences),
                         (_Chromosomes.UNKNOWN, report.unknown_sequences)):
        sel = ci == kind
        if sel.any():
            per = np.bincount(codes[sel], minlength=len(names))
            for j in np.flatnonzero(per):
                target[names[j]] = target.get(names[j], 0) + int(per[j])


def _spool_cuts(spool: _Spool, report: CutSiteReport, ci: np.ndarray, pos: np.ndarray,
                length: np.ndarray) -> None:
    """Spool cut positions that lie on their chromosome; count those shifted off it."""
    on = (pos >= 0) & (pos < length)
    report.shifted_off += int((~on).sum())
    spool.add(ci[on], pos[on])


# ----------------------------------------------------------------------------- BAM


def _bam_cuts(path: PathLike, shift: tuple[int, int], settings: CutSiteSettings,
              chroms: _Chromosomes, spool: _Spool, report: CutSiteReport) -> None:
    """Stream a BAM into the spool: the shifted 5' end of every read that passes the filters."""
    plus, minus = shift
    lookup, names, lengths = _bam_references(path, chroms)
    for rid, five, reverse in _bam_batches(path, settings, report):
        report.records += int(rid.size)
        ci = lookup[rid]
        _count_dropped_names(ci, rid, names, report)
        kept = ci >= 0
        if (five[kept] >= lengths[rid[kept]]).any():
            raise InputError(path, "a read ends past its reference sequence (a corrupt BAM?)",
                             fix="check the BAM with samtools quickcheck / samtools view")
        ci, five, reverse = ci[kept], five[kept], reverse[kept]
        pos = five + np.where(reverse, minus, plus)
        _spool_cuts(spool, report, ci, pos, chroms.lengths[ci])


def _bam_references(path: PathLike,
                    chroms: _Chromosomes) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(reference id -> output index, reference names, lengths) of a BAM, lengths checked."""
    import pysam

    from seq2func.download.formats import assembly_hint

    try:
        with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
            names = list(bam.references)
            lengths = np.array(bam.lengths, dtype=np.int64)
    except (OSError, ValueError) as exc:
        raise InputError(path, f"cannot be read as BAM ({exc})",
                         fix="give a BAM file (samtools view -b), complete (compare its md5)"
                         ) from exc
    lookup = chroms.indices(names)
    for j in np.flatnonzero(lookup >= 0):
        expected = int(chroms.lengths[lookup[j]])
        if lengths[j] != expected:
            raise InputError(path, "assembly mismatch: " + assembly_hint(names[j],
                                                                          int(lengths[j]),
                                                                          expected),
                             fix="use reads aligned to the same assembly as the FASTA")
    return lookup, names, lengths


def _bam_batches(path: PathLike, settings: CutSiteSettings,
                 report: CutSiteReport) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Stream a BAM: batches of (reference id, unshifted 5' position, is reverse) of kept reads.

    Reads are iterated one by one (pysam) into preallocated arrays; everything after is numpy.
    """
    import pysam
    from tqdm import tqdm

    n = settings.chunk_lines
    rid = np.empty(n, dtype=np.int64)
    five = np.empty(n, dtype=np.int64)
    rev = np.empty(n, dtype=bool)
    exclude, min_mapq = settings.bam_exclude_flags, settings.bam_min_mapq
    k = 0
    with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam, \
            tqdm(unit=" reads", unit_scale=True, desc="read") as bar:
        for read in bam.fetch(until_eof=True):
            end = read.reference_end
            if read.flag & exclude or read.mapping_quality < min_mapq or end is None:
                report.filtered += 1
                continue
            rid[k] = read.reference_id
            if read.is_reverse:
                rev[k], five[k] = True, end - 1
            else:
                rev[k], five[k] = False, read.reference_start
            k += 1
            if k == n:
                yield rid.copy(), five.copy(), rev.copy()
                bar.update(k)
                k = 0
        if k:
            yield rid[:k].copy(), five[:k].copy(), rev[:k].copy()
            bar.update(k)


# ----------------------------------------------------------------------------- entry point


def reads_to_cutsites(src: PathLike, out: PathLike, chrom_sizes: PathLike | Mapping[str, int],
                      fmt: str, *, assay: str = "ATAC",
                      settings: CutSiteSettings | None = None,
                      shift: tuple[int, int] | None = None,
                      genome_sequences: Sequence[str] = ()) -> CutSiteReport:
    """Convert a BAM or fragment file into a base-resolution bigWig of cut-site counts.

    Parameters
    ----------
    src
        The BAM, 10x fragments, BEDPE or BED file (text: plain or gzip/bgzip).
    out
        The output bigWig (written atomically); its chromosomes are those of ``chrom_sizes``,
        in that order.
    chrom_sizes
        The canonical genome (``chrom.sizes`` path or mapping); other chromosome spellings
        (``1`` for ``chr1``) are renamed.
    fmt
        One of :data:`READ_FORMATS`.
    assay
        ``ATAC`` or ``DNase`` (the default shift of BAM reads).
    settings
        The config's ``download.cutsites`` (None: the schema's defaults).
    shift
        ``(plus, minus)`` instead of the settings' shift of ``fmt``.
    genome_sequences
        Every sequence of the source genome, kept or not (its ingestion's provenance): reads on
        one that is not configured (a chromosome the study leaves out, chrY, alt contigs) are
        dropped and counted like ``other_sequences``; only names the genome does not have
        count as unknown.

    Returns
    -------
    CutSiteReport
        What was read, written and dropped.

    Raises
    ------
    InputError
        For malformed input (naming the file and line), a chromosome of another length, too
        many records on unknown sequences, or no cut site on the configured chromosomes.
    """
    if fmt not in READ_FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {READ_FORMATS}")
    settings = settings or CutSiteSettings.from_config({})
    shift = shift if shift is not None else settings.shift(fmt, assay)
    chroms = _Chromosomes(genome_sizes(chrom_sizes), settings.other_sequences, src,
                          genome_sequences)
    report = CutSiteReport()
    log.info("%s (%s, %s): cut sites shifted %+d/%+d", src, fmt, assay, *shift)
    out_dir = Path(out).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    spool = _Spool(len(chroms.names), out_dir)
    try:
        t0 = time.perf_counter()
        if fmt == "bam":
            _bam_cuts(src, shift, settings, chroms, spool, report)
        else:
            _fragment_cuts(src, fmt, shift, chroms, spool, report, settings.chunk_lines)
        spool.close_files()
        _check_totals(src, report, spool, settings.max_unknown_fraction)
        t1 = time.perf_counter()
        _write_bigwig(out, spool, chroms, report)
        report.seconds = {"read": round(t1 - t0, 3), "write": round(time.perf_counter() - t1, 3)}
    finally:
        spool.cleanup()
    log.info("%s", report.summary())
    return report


def _check_totals(src: PathLike, report: CutSiteReport, spool: _Spool,
                  max_unknown: float) -> None:
    """Stop on too many records of unknown sequences, or on no cut site at all."""
    unknown = sum(report.unknown_sequences.values())
    if report.records and unknown / report.records > max_unknown:
        worst = sorted(report.unknown_sequences.items(), key=lambda kv: -kv[1])[:5]
        listed = ", ".join(f"{n} ({c:,})" for n, c in worst)
        raise InputError(src, f"{unknown:,} of {report.records:,} records "
                         f"({unknown / report.records:.2%}) lie on sequences that are neither "
                         f"configured nor other_sequences: {listed}",
                         fix="use reads of the configured assembly and naming; to drop these "
                             "sequences add them to download.cutsites.other_sequences (or raise "
                             "download.cutsites.max_unknown_fraction)")
    if spool.counts.sum() == 0:
        raise InputError(src, f"no cut site on the configured chromosomes ({report.summary()})",
                         fix="check that the file holds reads of this genome (and, for a BAM, "
                             "the flag and mapping-quality filters)")


def genome_sequences(provenance: PathLike) -> list[str]:
    """Every sequence name of the source genome, from its ingestion's provenance record
    (``source_sequences``, written by ``seq2func ingest fasta``).

    Raises
    ------
    InputError
        For a record that cannot be read or has no ``source_sequences``, with the fix.
    """
    import json

    try:
        names = json.loads(Path(provenance).read_text()).get("source_sequences")
    except (OSError, ValueError) as exc:
        raise InputError(provenance, f"cannot be read as the genome's provenance ({exc})",
                         fix="rerun ingest_genome (delete the file to rebuild it)") from None
    if not isinstance(names, list):
        raise InputError(provenance, "has no source_sequences (ingested by an older version)",
                         fix="rerun ingest_genome: snakemake --forcerun ingest_genome")
    return [str(n) for n in names]


def cutsites_with_provenance(src: PathLike, out: PathLike, chrom_sizes: PathLike, fmt: str, *,
                             assay: str, settings: CutSiteSettings, shift: tuple[int, int],
                             sources: Sequence[PathLike] = (),
                             genome_provenance: PathLike | None = None) -> CutSiteReport:
    """:func:`reads_to_cutsites`, then the output's provenance record (step ``ingest-cutsites``:
    input, format, assay, shift, settings, what was counted and dropped, the download records
    of ``sources``). ``genome_provenance``: see :func:`genome_sequences`."""
    from seq2func.core.provenance import write_provenance
    from seq2func.download.fetch import source_records

    genome = genome_sequences(genome_provenance) if genome_provenance else []
    report = reads_to_cutsites(src, out, chrom_sizes, fmt, assay=assay, settings=settings,
                               shift=shift, genome_sequences=genome)
    write_provenance(out, step="ingest-cutsites", extra={
        "input": str(src), "format": fmt, "assay": assay, "shift": list(shift),
        "settings": settings.to_config(), "records": report.to_dict(),
        "sources": source_records([str(s) for s in sources])})
    return report
