"""bigWig input: integrity checks, chromosome-name mapping and block-wise reading (pyBigWig).

Preprocessing reads every chromosome of a bigWig once, block by block (or, where windows are
sparse, only the merged spans of its windows and peaks: :mod:`seq2func.preprocess.chrom`), and
cuts windows from what it read in numpy; it never asks pyBigWig for one window at a time. NaN
means "no data", as for bases no interval covers, and reads as 0 - whether the base is uncovered
or an interval stores NaN explicitly (ingestion drops such intervals). Infinite values are an
error; negative values are an error or clipped to 0 (``negative="error"`` or ``"clip"``). The
header's summary (minimum, maximum, sum) says whether a file can hold such values at all: when
it cannot, blocks are passed on as read (the "fast path", no per-base work) and only the windows
cut from them are cleaned (:func:`clean`). A summary that is itself NaN (a file storing NaN
values) says nothing, so such files take the slow path, where every value read is checked.

The header is read from the file's bytes (:func:`read_bigwig_header`), not with pyBigWig's
``header()``, which crashes the process on a file storing NaN (pyBigWig 0.3.29).
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seq2func.core.chroms import NameMatch, match_names, require_overlap
from seq2func.core.errors import InputError

BIGWIG_MAGIC = 0x888FFC26
BIGBED_MAGIC = 0x8789F2EB
#: the fixed part of a bigWig header and of one zoom-level header (UCSC bigWig spec)
_HEADER = struct.Struct("<IHHQQQHHQQIQ")
_ZOOM = struct.Struct("<IIQQ")
#: the total summary: bases covered, minimum, maximum, sum, sum of squares
_SUMMARY = struct.Struct("<Qdddd")
#: bytes of an R-tree / B+ tree index header (the least that must follow an index offset)
_INDEX_HEADER_BYTES = 32


def check_bigwig_file(path: str | os.PathLike[str]) -> dict[str, int]:
    """Check that ``path`` is a complete bigWig by reading its header only (no data).

    Every section offset in the header (chromosome tree, data, index, zoom levels, summary)
    must lie inside the file; a download cut short fails here, before any job starts.

    Returns
    -------
    dict
        ``{"bytes": file size, "zoom_levels": n}``.

    Raises
    ------
    InputError
        Missing file, a bigBed or other format, or a truncated file.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "bigWig file not found", fix="check the path of the signal track")
    size = p.stat().st_size
    with open(p, "rb") as fh:
        head = fh.read(_HEADER.size)
        if len(head) < _HEADER.size:
            raise InputError(p, f"only {size} bytes: not a bigWig (truncated or empty file)",
                             fix="re-download or regenerate the bigWig")
        fields = _HEADER.unpack(head)
        magic, _version, zoom_levels = fields[0], fields[1], fields[2]
        if magic == BIGBED_MAGIC:
            raise InputError(p, "this is a bigBed, not a bigWig",
                             fix="give the signal track (bigWig), not peaks as bigBed")
        if magic != BIGWIG_MAGIC:
            raise InputError(p, "not a bigWig (wrong magic number)",
                             fix="give a bigWig file (UCSC format, e.g. from bedGraphToBigWig)")
        offsets = {"chromosome tree": fields[3], "data": fields[4], "index": fields[5],
                   "summary": fields[9]}
        zooms = fh.read(_ZOOM.size * zoom_levels)
        if len(zooms) < _ZOOM.size * zoom_levels:
            raise InputError(p, "truncated bigWig (header cut short)",
                             fix="re-download or regenerate the bigWig (compare its md5)")
        for i in range(zoom_levels):
            _, _, data_off, index_off = _ZOOM.unpack_from(zooms, i * _ZOOM.size)
            offsets[f"zoom level {i + 1} data"] = data_off
            offsets[f"zoom level {i + 1} index"] = index_off
    for what, off in offsets.items():
        need = off + (_INDEX_HEADER_BYTES if "index" in what or "tree" in what else 1)
        if off and need > size:
            raise InputError(p, f"truncated bigWig: its {what} starts at byte {off} but the "
                                f"file has only {size} bytes",
                             fix="re-download or regenerate the bigWig (compare its md5)")
    return {"bytes": size, "zoom_levels": zoom_levels}


def read_bigwig_header(path: str | os.PathLike[str]) -> dict[str, float]:
    """The header summary of a bigWig, read from its bytes (keys as pyBigWig's ``header()``).

    Returns
    -------
    dict
        ``version``, ``nLevels`` (zoom levels), ``nBasesCovered``, ``minVal``, ``maxVal``,
        ``sumData``, ``sumSquared`` as floats; the last five are 0 when the file has no total
        summary. Values may be NaN or infinite (a file that stores them).

    Raises
    ------
    InputError
        As :func:`check_bigwig_file`, which runs first.
    """
    check_bigwig_file(path)
    with open(path, "rb") as fh:
        fields = _HEADER.unpack(fh.read(_HEADER.size))
        covered, lo, hi, total, squares = 0, 0.0, 0.0, 0.0, 0.0
        if fields[9]:
            fh.seek(fields[9])
            raw = fh.read(_SUMMARY.size)
            if len(raw) < _SUMMARY.size:
                raise InputError(path, "truncated bigWig (summary cut short)",
                                 fix="re-download or regenerate the bigWig (compare its md5)")
            covered, lo, hi, total, squares = _SUMMARY.unpack(raw)
    return {"version": float(fields[1]), "nLevels": float(fields[2]),
            "nBasesCovered": float(covered), "minVal": lo, "maxVal": hi, "sumData": total,
            "sumSquared": squares}


@dataclass
class SignalStats:
    """Problems seen while reading a track (for QC)."""

    negative_bases: int = 0
    min_value: float = math.inf

    def as_dict(self) -> dict[str, float | int | None]:
        return {"negative_bases": self.negative_bases,
                "min_value": None if math.isinf(self.min_value) else self.min_value}


class BigWig:
    """A bigWig opened for block-wise reading, with chromosome names mapped onto the genome's.

    Parameters
    ----------
    path
        The bigWig file.
    genome_sizes
        Chromosome sizes of the genome (genome names); the bigWig's names are harmonised onto
        them and its lengths must agree (else the assemblies differ).
    negative
        ``"error"`` (default) or ``"clip"``: what to do with negative values.
    check
        Run :func:`check_bigwig_file` first.
    """

    def __init__(self, path: str | os.PathLike[str], genome_sizes: dict[str, int] | None = None,
                 negative: str = "error", check: bool = True) -> None:
        import pyBigWig

        self.path = Path(path)
        if negative not in ("error", "clip"):
            raise ValueError("negative must be 'error' or 'clip'")
        self.negative = negative
        if check:
            check_bigwig_file(self.path)
        try:
            bw = pyBigWig.open(str(self.path))
        except RuntimeError as exc:
            raise InputError(self.path, "pyBigWig cannot open this file (truncated or corrupt)",
                             fix="re-download or regenerate the bigWig (compare its md5)"
                             ) from exc
        if bw is None or not bw.isBigWig():
            raise InputError(self.path, "not a bigWig", fix="give a bigWig signal track")
        self._bw = bw
        self.file_chroms: dict[str, int] = dict(bw.chroms())
        self.header: dict[str, float] = read_bigwig_header(self.path)
        self.stats = SignalStats()
        self.match: NameMatch = NameMatch({c: c for c in self.file_chroms})
        if genome_sizes is not None:
            self.match = match_names(self.file_chroms, genome_sizes)
            require_overlap(self.match, list(genome_sizes), self.path, "bigWig")
            bad = [(g, self.file_chroms[s], genome_sizes[g]) for s, g in self.match.mapping.items()
                   if self.file_chroms[s] != genome_sizes[g]]
            if bad:
                shown = "; ".join(f"{g}: {a} bp in the bigWig, {b} bp in the genome"
                                  for g, a, b in bad[:5])
                raise InputError(self.path, f"chromosome lengths differ from the genome's "
                                            f"({shown}): different assemblies?",
                                 fix="use a bigWig made on the same genome assembly as the FASTA")
        self._to_file = self.match.reverse()
        lo, hi = self.header["minVal"], self.header["maxVal"]
        has_summary = self.header["nBasesCovered"] > 0 and math.isfinite(
            self.header["sumData"])  # (a NaN sum: the file stores NaN, the summary says nothing)
        if has_summary and not math.isfinite(hi):
            raise InputError(self.path, "the bigWig holds infinite values (header maximum)",
                             fix="regenerate it without infinities (e.g. add a pseudocount "
                                 "before taking ratios or logs)")
        if has_summary and lo < 0 and negative == "error":
            self._raise_negative(lo)
        #: True when the header guarantees finite, non-negative values (the fast path)
        self.clean_by_header = bool(has_summary and lo >= 0 and math.isfinite(hi))

    def _raise_negative(self, lo: float) -> None:
        where = ""
        for chrom, n in self.file_chroms.items():
            for b0 in range(0, n, 1 << 24):
                v = self._bw.values(chrom, b0, min(n, b0 + (1 << 24)), numpy=True)
                neg = np.flatnonzero(v < 0)
                if neg.size:
                    gname = self.match.mapping.get(chrom, chrom)
                    where = f" at {gname}:{b0 + int(neg[0]) + 1} ({float(v[neg[0]]):g})"
                    break
            if where:
                break
        raise InputError(self.path, f"negative signal{where}; its minimum is {lo:g}. Counts "
                                    "and coverage cannot be negative",
                         fix="use a count/coverage/fold-enrichment bigWig (not log-ratios), or "
                             "set preprocess.negative_signal: clip to set negative values to 0")

    def chrom_total(self, chrom: str) -> float:
        """Sum of the signal on ``chrom`` from the zoom-level summaries (no data read)."""
        if chrom not in self._to_file:
            return 0.0
        name = self._to_file[chrom]
        n = self.file_chroms[name]
        try:
            mean = self._bw.stats(name, 0, n, type="mean")[0]
            cov = self._bw.stats(name, 0, n, type="coverage")[0]
        except RuntimeError as exc:
            raise InputError(self.path, f"cannot read the summary of {chrom} (truncated or "
                                        "corrupt bigWig)",
                             fix="re-download or regenerate the bigWig (compare its md5)"
                             ) from exc
        return 0.0 if mean is None or cov is None else float(mean) * float(cov) * n

    def raw(self, chrom: str, start: int, end: int) -> np.ndarray:
        """float32 values as stored (NaN = no data) on the fast path, else :meth:`values`."""
        if not self.clean_by_header:
            return self.values(chrom, start, end)
        if chrom not in self._to_file:
            return np.zeros(end - start, dtype=np.float32)
        try:
            v = self._bw.values(self._to_file[chrom], int(start), int(end), numpy=True)
        except RuntimeError as exc:
            raise InputError(self.path, f"cannot read {chrom}:{start}-{end} (truncated or "
                                        "corrupt bigWig)",
                             fix="re-download or regenerate the bigWig (compare its md5)"
                             ) from exc
        return np.asarray(v, dtype=np.float32)

    def has(self, chrom: str) -> bool:
        """Whether the bigWig has data for the genome chromosome ``chrom``."""
        return chrom in self._to_file

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Cleaned float32 values of ``chrom:start-end`` (genome name; zeros if absent).

        NaN becomes 0; negative values raise or are clipped (see class docstring); the
        :attr:`stats` are updated.
        """
        if chrom not in self._to_file:
            return np.zeros(end - start, dtype=np.float32)
        try:
            v = self._bw.values(self._to_file[chrom], int(start), int(end), numpy=True)
        except RuntimeError as exc:
            raise InputError(self.path, f"cannot read {chrom}:{start}-{end} (truncated or "
                                        "corrupt bigWig)",
                             fix="re-download or regenerate the bigWig (compare its md5)"
                             ) from exc
        v = np.asarray(v, dtype=np.float32)
        if np.isinf(v).any():
            pos = int(np.flatnonzero(np.isinf(v))[0]) + start
            raise InputError(self.path, f"infinite value at {chrom}:{pos + 1}",
                             fix="regenerate the bigWig without infinities (e.g. add a "
                                 "pseudocount before taking ratios or logs)")
        neg = v < 0  # (NaN compares false)
        if neg.any():
            first = int(np.flatnonzero(neg)[0])
            if self.negative == "error":
                raise InputError(
                    self.path,
                    f"negative signal ({float(v[first]):g} at {chrom}:{first + start + 1}); "
                    "counts and coverage cannot be negative",
                    fix="use a count/coverage/fold-enrichment bigWig (not log-ratios), or set "
                        "preprocess.negative_signal: clip to set negative values to 0")
            self.stats.negative_bases += int(np.count_nonzero(neg))
            self.stats.min_value = min(self.stats.min_value, float(np.nanmin(v)))
        return clean(v)

    def close(self) -> None:
        if self._bw is not None:
            self._bw.close()
            self._bw = None

    def __enter__(self) -> BigWig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def clean(values: np.ndarray) -> np.ndarray:
    """Set NaN (no data) and negative values to 0 in place (one SIMD pass) and return them."""
    return np.fmax(values, 0.0, out=values)


def is_integral(values: np.ndarray) -> bool:
    """Whether every value is a whole number (checked in place, no large temporaries)."""
    return bool(np.array_equal(values, np.rint(values))) if values.size else True


def sample_is_integral(bw: BigWig, chroms: Sequence[str], sizes: dict[str, int],
                       n_bases: int = 1_000_000) -> bool:
    """Whether a sample of a bigWig's values (the middle of up to 3 chromosomes) is integral."""
    for chrom in [c for c in chroms if bw.has(c)][:3]:
        mid = sizes[chrom] // 2
        a, b = max(0, mid - n_bases // 2), min(sizes[chrom], mid + n_bases // 2)
        if not is_integral(bw.values(chrom, a, b)):
            return False
    return True
