"""Peaks and intervals: narrowPeak/BED reading, vectorised overlap queries, summit merging.

All queries work on sorted numpy arrays of one chromosome (``searchsorted`` and prefix maxima),
so they cost O(n log n) whatever the number of intervals; nothing loops per base or per window.
"""

from __future__ import annotations

import bisect
import logging
import os
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.io import open_text

#: columns of :func:`read_peaks`
PEAK_COLUMNS = ["chrom", "start", "end", "summit", "score", "line"]


def data_lines(path: str | Path) -> tuple[list[str], list[int]]:
    """Non-empty lines that are not comments, ``track`` or ``browser`` lines, without line
    endings, with their 1-based numbers (BED-like files, plain or gzip)."""
    lines, numbers = [], []
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            lines.append(line.rstrip("\n\r"))
            numbers.append(lineno)
    return lines, numbers


def _fast_fields(path: Path) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Columns of a regular BED/narrowPeak file via pandas' C parser, or None if irregular.

    Leading ``track``/``browser``/``#`` lines and one header line are skipped; anything
    unusual (e.g. non-integer coordinates) returns None so that the line-by-line parser
    reports the exact line.
    """
    skip = 0
    with open_text(path) as fh:
        for line in fh:
            if not line.strip() or line.startswith(("#", "track", "browser")):
                skip += 1
                continue
            f = line.split("\t")
            if len(f) >= 3 and not f[1].strip().lstrip("-").isdigit():
                skip += 1
            break
        else:
            return pd.DataFrame(), np.zeros(0, dtype=np.int64)
    try:
        df = pd.read_csv(path, sep="\t", header=None, skiprows=skip, dtype={0: str},
                         skip_blank_lines=False, engine="c", low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeDecodeError,
            OSError, EOFError, zlib.error):
        return None  # (the line-by-line parser names the problem)
    if df.shape[1] < 3 or not all(pd.api.types.is_integer_dtype(df[c]) for c in (1, 2)):
        return None
    return df, np.arange(len(df), dtype=np.int64) + skip + 1


def _parse_int_column(values: pd.Series, numbers: np.ndarray, path: Path, what: str
                      ) -> np.ndarray:
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() | (num != np.floor(num.fillna(0))) | ~(num.abs() < 2**62)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(path, f"{what} {values.iloc[i]!r} is not an integer", int(numbers[i]),
                         "peaks must be tab-separated BED/narrowPeak: chrom, start, end, ...")
    return num.to_numpy(dtype=np.int64)


def read_peaks(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a narrowPeak or BED3+ file (plain or gzip) into one row per peak.

    The summit is ``start + column 10`` for narrowPeak files with a valid summit offset, else
    the midpoint. The score used to rank summits is the narrowPeak ``pValue`` (column 8) when it
    is given (>= 0), else ``signalValue`` (column 7), else the BED score (column 5), else 0.
    ``track``/``browser``/``#`` lines and one header line are skipped.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PEAK_COLUMNS` (``line`` is the 1-based line number in the file) and the
        attribute ``attrs["summit_from_midpoint"]``: how many summits were missing or invalid.

    Raises
    ------
    InputError
        For lines with fewer than three columns or non-integer coordinates (naming the line).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "peak file not found", fix="check the path of the peaks")
    parsed = _fast_fields(p)
    if parsed is None:  # irregular file: parse line by line, for precise error messages
        lines, numbers = data_lines(p)
        if lines:
            first = lines[0].split("\t")
            if len(first) >= 3 and not first[1].strip().lstrip("-").isdigit():
                lines, numbers = lines[1:], numbers[1:]  # a header line
        fields = (pd.Series(lines).str.split("\t", expand=True) if lines
                  else pd.DataFrame())
        nums = np.asarray(numbers)
    else:
        fields, nums = parsed
    if fields.empty:
        df = pd.DataFrame({c: pd.Series(dtype="int64") for c in PEAK_COLUMNS})
        df["chrom"] = df["chrom"].astype(str)
        df["score"] = df["score"].astype("float64")
        df.attrs["summit_from_midpoint"] = 0
        return df
    ncol = fields.shape[1]
    if ncol < 3 or fields[2].isna().any():
        i = int(np.flatnonzero(fields[2].isna().to_numpy())[0]) if ncol >= 3 else 0
        raise InputError(p, "fewer than 3 tab-separated columns", int(nums[i]),
                         "peaks must be BED (chrom, start, end, ...) or narrowPeak")
    start = _parse_int_column(fields[1], nums, p, "start")
    end = _parse_int_column(fields[2], nums, p, "end")
    mid = (start + end) // 2
    summit = mid.copy()
    n_mid = len(fields)
    if ncol >= 10:
        off = pd.to_numeric(fields[9], errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(off) & (off >= 0) & (start + np.nan_to_num(off) < end)
        summit[ok] = start[ok] + off[ok].astype(np.int64)
        n_mid = int((~ok).sum())
    score = np.zeros(len(fields), dtype=np.float64)
    for col in (7, 6, 4):  # narrowPeak pValue, signalValue, BED score (-1 = not given)
        if ncol > col:
            vals = pd.to_numeric(fields[col], errors="coerce").to_numpy(dtype=np.float64)
            if np.isfinite(vals).any() and (vals[np.isfinite(vals)] >= 0).all():
                score = np.nan_to_num(vals, nan=0.0)
                break
    df = pd.DataFrame({"chrom": fields[0].astype(str).to_numpy(), "start": start, "end": end,
                       "summit": summit, "score": score, "line": nums})
    df.attrs["summit_from_midpoint"] = n_mid
    return df


def read_bed_intervals(path: str | os.PathLike[str] | None) -> pd.DataFrame:
    """Read chrom, start, end of a BED file (e.g. a blacklist); empty frame if ``path`` is None."""
    if path is None:
        return pd.DataFrame({"chrom": pd.Series(dtype=str), "start": pd.Series(dtype="int64"),
                             "end": pd.Series(dtype="int64")})
    df = read_peaks(path)
    return df[["chrom", "start", "end"]].reset_index(drop=True)


# ----------------------------------------------------------------------------- interval algebra


def merge_intervals(starts: np.ndarray, ends: np.ndarray, gap: int = 0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Union of intervals ``[start, end)`` as sorted, disjoint intervals; with ``gap`` > 0,
    intervals less than ``gap`` + 1 bases apart are joined into one span too."""
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    if starts.size == 0:
        return starts.copy(), ends.copy()
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    run_end = np.maximum.accumulate(e)
    new = np.concatenate([[True], s[1:] > run_end[:-1] + gap])
    grp = np.cumsum(new) - 1
    out_e = np.zeros(int(grp[-1]) + 1, dtype=np.int64)
    np.maximum.at(out_e, grp, e)
    return s[new], out_e


def overlaps_any(q_starts: np.ndarray, q_ends: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray) -> np.ndarray:
    """For each query ``[qs, qe)``, whether any interval ``[s, e)`` overlaps it."""
    q_starts = np.asarray(q_starts, dtype=np.int64)
    q_ends = np.asarray(q_ends, dtype=np.int64)
    if len(starts) == 0 or q_starts.size == 0:
        return np.zeros(q_starts.size, dtype=bool)
    order = np.argsort(starts, kind="stable")
    s = np.asarray(starts, dtype=np.int64)[order]
    run_end = np.maximum.accumulate(np.asarray(ends, dtype=np.int64)[order])
    k = np.searchsorted(s, q_ends, side="left")  # intervals with start < qe
    out = np.zeros(q_starts.size, dtype=bool)
    has = k > 0
    out[has] = run_end[k[has] - 1] > q_starts[has]
    return out


def count_points(q_starts: np.ndarray, q_ends: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each query ``[qs, qe)``, how many ``points`` fall inside."""
    pts = np.sort(np.asarray(points, dtype=np.int64))
    return (np.searchsorted(pts, q_ends, side="left")
            - np.searchsorted(pts, q_starts, side="left"))


def nms_positions(positions: np.ndarray, order: np.ndarray, min_distance: int) -> np.ndarray:
    """Greedy non-maximum suppression of summits (iterative overlap removal, as in ArchR).

    Summits are visited in ``order`` (best first); a summit is kept unless a kept summit lies
    closer than ``min_distance`` bp. Costs O(n log n) with a sorted list of kept positions.

    Returns
    -------
    numpy.ndarray
        Boolean mask of kept summits (same order as ``positions``).
    """
    pos = np.asarray(positions, dtype=np.int64)
    keep = np.zeros(pos.size, dtype=bool)
    kept: list[int] = []
    d = int(min_distance)
    plist = pos.tolist()
    for i in np.asarray(order).tolist():
        p = plist[i]
        j = bisect.bisect_left(kept, p - d + 1)
        if j < len(kept) and kept[j] < p + d:
            continue
        kept.insert(j, p)
        keep[i] = True
    return keep


#: bad intervals of a file (past their chromosome's end, or with end <= start), as a fraction of
#: its intervals, that are dropped with a warning; more stop the run (past the ends: as a likely
#: assembly mix-up). Ingestion and preprocessing apply the same rule (:func:`fit_to_chromosomes`).
PAST_END_TOLERANCE = 0.01


def _tolerate(bad: np.ndarray, df: pd.DataFrame, path: str | os.PathLike[str], what: str,
              problem: str, cause: str, fix: str, tolerance: float | None) -> None:
    """Log the ``bad`` rows of ``df`` (to be dropped), or raise if they are too many.

    ``problem`` is formatted with ``row`` (the first bad row) and ``size`` (its chromosome's
    length, when ``df`` has a ``size`` column).
    """
    n = int(bad.sum())
    if n == 0:
        return
    row = df.iloc[int(np.flatnonzero(bad)[0])]
    line = int(row["line"]) if "line" in df else None
    where = (f"{n:,} of {len(df):,} {what}s ({n / len(df):.1%}) {problem.format(row=row)}")
    if n > (PAST_END_TOLERANCE if tolerance is None else tolerance) * len(df):
        raise InputError(path, f"{where}: {cause}", line, fix)
    at = f" (first on line {line})" if line is not None else ""
    logging.getLogger(__name__).warning("%s: %s%s; dropping them", path, where, at)


def check_past_chromosome_ends(df: pd.DataFrame, sizes: Mapping[str, int],
                               path: str | os.PathLike[str], what: str = "interval",
                               tolerance: float | None = None) -> np.ndarray:
    """Rows of ``df`` that start (or, for peaks, have their summit) past the chromosome end.

    ``df`` has ``chrom`` (names of ``sizes``), ``start``, ``end`` and optionally ``summit`` and
    ``line`` (1-based line numbers for the message). Up to ``tolerance`` of the rows may lie
    past the ends (default :data:`PAST_END_TOLERANCE`): they are returned (to be dropped) and
    logged. Intervals that only overhang the end are not counted here (callers clip them).

    Raises
    ------
    InputError
        If more than ``tolerance`` of the rows lie past the ends, naming the first such line
        and the likely cause (a file of another assembly).
    """
    size = df["chrom"].map(sizes).to_numpy(dtype=np.int64)
    past = df["start"].to_numpy() >= size
    if "summit" in df:
        past |= df["summit"].to_numpy() >= size
    _tolerate(past, df.assign(size=size), path, what,
              "lie past their chromosome's end, e.g. {row[chrom]}:{row[start]:,}-{row[end]:,} "
              "({row[chrom]} has {row[size]:,} bp)",
              "the file is probably of another genome assembly",
              "use a file made on the same assembly as the genome FASTA", tolerance)
    return past


def check_invalid_intervals(df: pd.DataFrame, path: str | os.PathLike[str],
                            what: str = "interval", tolerance: float | None = None
                            ) -> np.ndarray:
    """Rows of ``df`` with ``start < 0`` or ``end <= start`` (to be dropped, and logged).

    Raises
    ------
    InputError
        If they are more than ``tolerance`` of the rows (default :data:`PAST_END_TOLERANCE`).
    """
    start, end = df["start"].to_numpy(), df["end"].to_numpy()
    bad = (start < 0) | (end <= start)
    _tolerate(bad, df, path, what,
              "have a negative start or end <= start, e.g. {row[chrom]}:{row[start]}-{row[end]}",
              "the file is not a valid BED/narrowPeak file",
              "BED intervals are 0-based, half-open: 0 <= start < end", tolerance)
    return bad


def fit_to_chromosomes(df: pd.DataFrame, sizes: Mapping[str, int],
                       path: str | os.PathLike[str], what: str = "interval"
                       ) -> tuple[pd.DataFrame, dict[str, int]]:
    """The one rule for intervals of a file against the genome (ingestion and preprocessing).

    Invalid intervals (:func:`check_invalid_intervals`) and intervals past their chromosome's
    end (:func:`check_past_chromosome_ends`) are dropped with a warning, or stop the run when
    they are more than :data:`PAST_END_TOLERANCE` of the file; intervals that overhang the end
    are clipped to it (logged).

    Parameters
    ----------
    df
        ``chrom`` (names of ``sizes``), ``start``, ``end``, optionally ``summit`` and ``line``.

    Returns
    -------
    (pandas.DataFrame, dict)
        The rows kept, ``end`` clipped; and the counts ``invalid_interval``,
        ``past_chrom_end`` and ``clipped_at_chrom_end``.
    """
    invalid = check_invalid_intervals(df, path, what)
    df = df[~invalid]
    past = check_past_chromosome_ends(df, sizes, path, what=what)
    df = df[~past]
    csize = df["chrom"].map(sizes).to_numpy(dtype=np.int64)
    over = df["end"].to_numpy() > csize
    if over.any():
        logging.getLogger(__name__).warning("%s: %d %s(s) overhang their chromosome's end; "
                                            "clipped to it", path, int(over.sum()), what)
    counts = {"invalid_interval": int(invalid.sum()), "past_chrom_end": int(past.sum()),
              "clipped_at_chrom_end": int(over.sum())}
    return df.assign(end=np.minimum(df["end"].to_numpy(), csize)), counts
