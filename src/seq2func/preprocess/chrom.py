"""One chromosome of a training set: its regions, shard and statistics.

:func:`process_job` runs :func:`process_chromosome`'s work for every chromosome of a job (small
chromosomes share a job, :mod:`~seq2func.preprocess.jobs`) and writes one statistics file.

:func:`process_chromosome` reads the chromosome's sequence once and every bigWig once, block by
block; selects regions (:mod:`seq2func.preprocess.regions`); cuts sequence and binned signal
windows from the blocks in numpy and streams them into the chromosome's shard; and writes the
chromosome's QC statistics. Memory: the chromosome's codes (1 byte per base) plus one block per
track.

How a block of a track is read is chosen per chromosome from how much of it the windows and
peaks need (:func:`choose_read_strategy`): ``"dense"`` reads the whole block; ``"sparse"``
reads only the spans that the block's windows and the task's peaks cover (merged when closer
than :data:`SPAN_MERGE_GAP`). Both cut the same values, so the shard and the statistics are
byte-identical; a track whose header does not guarantee clean values is always read whole
(its total and cleaning statistics need every base, see :func:`_reads_spans`).
"""

from __future__ import annotations

import json
import logging
import math
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from seq2func.core.bigwig import BigWig, clean
from seq2func.core.chroms import format_names
from seq2func.core.errors import InputError
from seq2func.core.intervals import merge_intervals
from seq2func.core.io import write_text_atomic
from seq2func.core.sequence import Genome, extract_windows
from seq2func.dataset import FORMAT, FORMAT_VERSION, Geometry, ShardWriter
from seq2func.preprocess.histogram import HIST_BINS, HIST_VALUES_PER_BLOCK, hist_add
from seq2func.preprocess.jobs import plan_jobs
from seq2func.preprocess.plan import load_plan
from seq2func.preprocess.regions import RegionSelection, SummitSet, select_regions
from seq2func.preprocess.settings import PreprocessSettings

log = logging.getLogger(__name__)

#: bases per bigWig read (1 Mb: 4 MB of float32 per track; bounds memory in dense regions)
BLOCK_BASES = 1 << 20
#: spans closer than this many bases are read in one call: a pyBigWig call costs about as much
#: as reading 20 kb whole (it inflates a whole compressed data block, however short the span;
#: bench/preprocess/README.md)
SPAN_MERGE_GAP = 32_768
#: the sparse strategy is chosen when its merged spans cover less than this fraction of the
#: chromosome (:func:`choose_read_strategy`); measured by ``bench/preprocess/read_strategy.py``
SPARSE_BELOW_SPAN_FRACTION = 0.35
#: the read strategies (:func:`choose_read_strategy`)
READ_STRATEGIES = ("dense", "sparse")


class _NeedFloat(Exception):
    """Raised when integer storage would lose information (then retry with float32)."""


class _Clock:
    """Seconds spent per stage (reported in the statistics and by the benchmark)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._t
        self._t = now


@dataclass
class ChromJob:
    """What one chromosome's job reads from the plan."""

    chrom: str
    size: int
    split: str
    tasks: list[str]
    params: PreprocessSettings
    summits: SummitSet
    blacklist: tuple[np.ndarray, np.ndarray]
    genome: str
    bigwigs: list[str]
    sizes: dict[str, int]

    @property
    def geometry(self) -> Geometry:
        return self.params.geometry

    @classmethod
    def from_plan(cls, plan: dict[str, Any], arrays: dict[str, np.ndarray], chrom: str
                  ) -> ChromJob:
        ci = plan["chromosomes"].index(chrom)
        m = arrays["chrom"] == ci
        bm = arrays["bl_chrom"] == ci
        return cls(chrom=chrom, size=int(plan["sizes"][chrom]), split=plan["split"][chrom],
                   tasks=[s["name"] for s in plan["samples"]],
                   params=PreprocessSettings.from_config(plan["params"]),
                   summits=SummitSet(arrays["sample"][m].astype(np.int64), arrays["start"][m],
                                     arrays["end"][m], arrays["summit"][m], arrays["score"][m]),
                   blacklist=(arrays["bl_start"][bm], arrays["bl_end"][bm]),
                   genome=plan["genome"]["path"],
                   bigwigs=[s["bigwig"] for s in plan["samples"]], sizes=plan["sizes"])


@dataclass
class RegionRows:
    """Per-region columns of a shard, and where each region's stored windows start."""

    centre: np.ndarray
    seq_start: np.ndarray
    sig_start: np.ndarray
    labels: np.ndarray
    is_peak: np.ndarray
    source: np.ndarray
    origin: np.ndarray
    gc: np.ndarray
    n_fraction: np.ndarray

    @property
    def first(self) -> np.ndarray:
        """The first base any stored window of each region needs."""
        return np.minimum(self.seq_start, self.sig_start)

    @classmethod
    def of(cls, regions: pd.DataFrame, tasks: Sequence[str], geo: Geometry) -> RegionRows:
        centre = regions["centre"].to_numpy(dtype=np.int64)
        index = {t: i for i, t in enumerate(tasks)}
        return cls(centre=centre, seq_start=centre - geo.sequence_stored // 2,
                   sig_start=centre - geo.signal_stored // 2,
                   labels=regions[[f"label_{t}" for t in tasks]].to_numpy(dtype=np.uint8),
                   is_peak=regions[[f"is_peak_{t}" for t in tasks]].to_numpy(dtype=np.uint8),
                   source=(regions["source"] == "background").to_numpy(dtype=np.uint8),
                   origin=regions["origin"].map(lambda o: index.get(o, -1)).to_numpy(
                       dtype=np.int16),
                   gc=regions["gc"].to_numpy(dtype=np.float32),
                   n_fraction=regions["n_fraction"].to_numpy(dtype=np.float32))


@dataclass
class SignalTally:
    """Per-task signal statistics of a chromosome: totals, inside peaks, clip histogram."""

    n_tasks: int
    totals: np.ndarray = field(init=False)
    in_peaks: np.ndarray = field(init=False)
    hist: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.totals = np.zeros(self.n_tasks)
        self.in_peaks = np.zeros(self.n_tasks)
        self.hist = np.zeros((self.n_tasks, HIST_BINS), dtype=np.int64)


def _interval_positions(starts: np.ndarray, ends: np.ndarray, b0: int, b1: int) -> np.ndarray:
    """Positions (relative to ``b0``) of every base of disjoint intervals inside ``[b0, b1)``."""
    a = np.clip(starts, b0, b1) - b0
    b = np.clip(ends, b0, b1) - b0
    keep = b > a
    a, b = a[keep], b[keep]
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    lens = b - a
    offsets = np.repeat(a - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return np.arange(int(lens.sum()), dtype=np.int64) + offsets


def _chrom_rng(seed: int, chrom: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(chrom.encode())])


def span_fraction(starts: np.ndarray, ends: np.ndarray, size: int,
                  gap: int | None = None) -> float:
    """Fraction of a chromosome that the sparse strategy reads: intervals merged within ``gap``.

    Parameters
    ----------
    starts, ends
        Intervals ``[start, end)`` that must be read (window extents and peaks), any order.
    size
        The chromosome's length.
    gap
        Intervals closer than this are read as one span (default :data:`SPAN_MERGE_GAP`).

    Returns
    -------
    float
        Bases of the merged spans over ``size`` (0 for no intervals).
    """
    if size <= 0 or not np.size(starts):
        return 0.0
    s, e = merge_intervals(starts, ends, SPAN_MERGE_GAP if gap is None else gap)
    return float(np.clip(e, 0, size).sum() - np.clip(s, 0, size).sum()) / size


def choose_read_strategy(starts: np.ndarray, ends: np.ndarray, size: int,
                         threshold: float = SPARSE_BELOW_SPAN_FRACTION) -> str:
    """How to read a chromosome's bigWigs, from the intervals its windows and peaks need.

    A pyBigWig read costs a fixed ~0.1 ms (it inflates a whole compressed data block) plus
    ~3 ns per base (the benchmark's base-resolution tracks), so what decides is not the number
    of windows per kb but how much of the chromosome the spans, merged within
    :data:`SPAN_MERGE_GAP`, still cover (:func:`span_fraction`): evenly spread windows 16 kb
    apart (0.06 per kb) cover all of it, and reading them span by span is slower.

    Parameters
    ----------
    starts, ends
        Intervals ``[start, end)`` to read: every window's signal extent and every peak.
    size
        The chromosome's length.
    threshold
        Span fraction at and above which whole blocks are read.

    Returns
    -------
    str
        ``"sparse"`` (read only the spans) below ``threshold``, else ``"dense"`` (read every
        base, block by block).
    """
    return "sparse" if span_fraction(starts, ends, size) < threshold else "dense"


def _needed_intervals(job: ChromJob, rows: RegionRows) -> tuple[np.ndarray, np.ndarray]:
    """The intervals the chromosome's reads must cover: window signal extents and peaks."""
    width = job.geometry.signal_stored
    return (np.concatenate([rows.sig_start, job.summits.start]).astype(np.int64),
            np.concatenate([rows.sig_start + width, job.summits.end]).astype(np.int64))


def _reads_spans(bw: BigWig, strategy: str) -> bool:
    """Whether a track is read span by span: the sparse strategy on a header-clean track.

    A track whose header does not guarantee finite, non-negative values is read whole even
    when sparse: its chromosome total is summed from every base, and :meth:`BigWig.values`
    counts its negative values (``bw.stats``) over every base read, so both stay as in the
    dense strategy. A header-clean track has its total from the header and no values to count.
    """
    return strategy == "sparse" and bw.clean_by_header


def _clip_to_block(starts: np.ndarray, ends: np.ndarray, b0: int, b1: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The parts of intervals inside ``[b0, b1)`` (empty parts dropped)."""
    a, b = np.clip(starts, b0, b1), np.clip(ends, b0, b1)
    keep = b > a
    return a[keep], b[keep]


@dataclass
class _SpanBuffer:
    """Values of sorted disjoint spans, concatenated; genome positions map to buffer indices."""

    starts: np.ndarray
    offsets: np.ndarray
    values: np.ndarray

    @classmethod
    def read(cls, bw: BigWig, chrom: str, starts: np.ndarray, ends: np.ndarray
             ) -> _SpanBuffer:
        """One :meth:`BigWig.raw` call per span (values as stored; NaN = no data)."""
        offsets = np.concatenate([[0], np.cumsum(ends - starts)[:-1]]).astype(np.int64)
        values = np.concatenate([bw.raw(chrom, int(a), int(b)) for a, b in zip(starts, ends,
                                                                               strict=True)])
        return cls(starts, offsets, values)

    def index(self, positions: np.ndarray) -> np.ndarray:
        """Buffer indices of genome positions (each inside a span)."""
        k = np.searchsorted(self.starts, positions, side="right") - 1
        return self.offsets[k] + positions - self.starts[k]

    def gather(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """The values of every base of disjoint intervals, each inside one span, in order."""
        a = self.index(starts)
        return self.values[_interval_positions(a, a + (ends - starts), 0, self.values.size)]


def _bin_windows(win: np.ndarray, geo: Geometry) -> np.ndarray:
    """Windows ``(rows, signal_stored)`` summed per ``profile_bin``: ``(rows, bins)``."""
    if geo.profile_bin > 1:
        win = win.reshape(win.shape[0], geo.signal_bins, geo.profile_bin).sum(axis=2,
                                                                              dtype=np.float32)
    return win


def _cut_track(bw: BigWig, v: np.ndarray, starts: np.ndarray, b0: int, geo: Geometry,
               peaks: tuple[np.ndarray, np.ndarray], b1: int, t: int, tally: SignalTally
               ) -> np.ndarray | None:
    """One track's binned signal windows ``(rows, bins)`` cut from the block ``v`` at ``b0``.

    Also adds the block's signal to the tally (totals unless the header gave them, and the
    signal inside the task's peaks). NaN becomes 0 on whichever is smaller: the block or the
    windows cut from it.
    """
    width = geo.signal_stored
    if not bw.clean_by_header:
        tally.totals[t] += float(v[: b1 - b0].sum(dtype=np.float64))
    dense = starts.size * width > v.size
    if dense:
        clean(v)
    idx = _interval_positions(*peaks, b0, b1)
    if idx.size:
        tally.in_peaks[t] += float(clean(v[idx]).sum(dtype=np.float64))
    if not starts.size:
        return None
    win = np.lib.stride_tricks.sliding_window_view(v, width)[starts - b0]
    if not dense:
        clean(win)
    return _bin_windows(win, geo)


def _cut_track_spans(bw: BigWig, chrom: str, starts: np.ndarray, b0: int, geo: Geometry,
                     peaks: tuple[np.ndarray, np.ndarray], b1: int, t: int, tally: SignalTally
                     ) -> np.ndarray | None:
    """As :func:`_cut_track`, reading only the spans of the block's windows and peaks.

    Only for header-clean tracks (:func:`_reads_spans`): their totals come from the header.
    The signal inside peaks is gathered base by base in the order :func:`_cut_track` gathers
    it and summed the same way, so the tally is bit-identical; so are the windows (the values
    of a base do not depend on the span it is read with).
    """
    width = geo.signal_stored
    pa, pb = _clip_to_block(*peaks, b0, b1)
    if not starts.size and not pa.size:
        return None
    span_s, span_e = merge_intervals(np.concatenate([starts, pa]),
                                     np.concatenate([starts + width, pb]), SPAN_MERGE_GAP)
    buf = _SpanBuffer.read(bw, chrom, span_s, span_e)
    clean(buf.values)  # NaN (no data) to 0 once: the spans hold little but windows and peaks
    if pa.size:
        tally.in_peaks[t] += float(buf.gather(pa, pb).sum(dtype=np.float64))
    if not starts.size:
        return None
    win = np.lib.stride_tricks.sliding_window_view(buf.values, width)[buf.index(starts)]
    return _bin_windows(win, geo)


def _stored_signal(block_sig: np.ndarray, dtype: str, chrom: str) -> np.ndarray:
    """The block in its storage type; :class:`_NeedFloat` if that would lose information."""
    stored = block_sig.astype(dtype)
    if dtype == "uint16" and not np.array_equal(stored, block_sig):
        raise _NeedFloat(chrom)  # not integral, or too large
    if dtype == "float16" and not np.isfinite(stored).all():
        raise _NeedFloat(chrom)  # too large for float16
    return stored


def _tally_block(block_sig: np.ndarray, split: str, tally: SignalTally) -> None:
    """Add a block's training bins (subsampled) to the profile-clip histograms."""
    if split != "train":
        return
    rows, n_tasks, bins = block_sig.shape
    step = max(1, math.ceil(rows * bins * n_tasks / HIST_VALUES_PER_BLOCK))
    for t in range(n_tasks):
        hist_add(tally.hist[t], block_sig[::step, t, :])


def _track_windows(bw: BigWig, job: ChromJob, starts: np.ndarray, b0: int, b1: int,
                   peaks: tuple[np.ndarray, np.ndarray], t: int, tally: SignalTally,
                   strategy: str, clock: _Clock) -> np.ndarray | None:
    """One block of one track: read it (whole or its spans), tally it, cut its windows."""
    geo = job.geometry
    if _reads_spans(bw, strategy):
        win = _cut_track_spans(bw, job.chrom, starts, b0, geo, peaks, b1, t, tally)
        clock.lap("read_signal")  # (reading and cutting the spans)
        return win
    # one read per block and track; no per-base work on the fast path
    v = bw.raw(job.chrom, b0, min(job.size, b1 + geo.extent))
    clock.lap("read_signal")
    return _cut_track(bw, v, starts, b0, geo, peaks, b1, t, tally)


def _write_shard(job: ChromJob, codes: np.ndarray, rows: RegionRows, dtype: str,
                 shard_path: str | Path, threads: int, progress: bool, clock: _Clock,
                 strategy: str = "dense") -> tuple[str | None, SignalTally, list[BigWig]]:
    """Cut every region's windows block by block and stream them into the shard.

    ``strategy`` (:func:`choose_read_strategy`) says how blocks are read; the shard and the
    tally do not depend on it.

    Returns
    -------
    tuple
        The shard's md5, the signal tally and the (closed) bigWigs, whose ``stats`` count
        cleaned values.
    """
    geo, T = job.geometry, len(job.tasks)
    n = rows.centre.size
    counts = np.zeros((n, T), dtype=np.float32)
    tally = SignalTally(T)
    peaks = [merge_intervals(job.summits.of(t).start, job.summits.of(t).end) for t in range(T)]
    cb0, cbn = geo.count_offset_bins, geo.count_bins
    count_weights = np.ones((cbn, 1), dtype=np.float32)
    first = rows.first
    attrs = {"format": FORMAT, "format_version": FORMAT_VERSION, "chrom": job.chrom,
             "tasks": json.dumps(job.tasks), "split": job.split}
    bigwigs = [BigWig(p, job.sizes, negative=job.params.negative_signal, check=False)
               for p in job.bigwigs]
    clock.lap("select_regions")
    try:
        with ShardWriter(shard_path, n_tasks=T, sequence_length=geo.sequence_stored,
                         signal_bins=geo.signal_bins, signal_dtype=dtype,
                         compression=job.params.compression, chunk_rows=job.params.chunk_rows,
                         attrs=attrs, threads=threads) as writer:
            for t, bw in enumerate(bigwigs):
                if bw.clean_by_header:  # else summed block by block
                    tally.totals[t] = bw.chrom_total(job.chrom)
            for b0 in tqdm(range(0, job.size, BLOCK_BASES), desc=job.chrom, unit="block",
                           disable=not progress):
                b1 = min(job.size, b0 + BLOCK_BASES)
                idx = np.flatnonzero((first >= b0) & (first < b1))
                block_sig = np.zeros((idx.size, T, geo.signal_bins), dtype=np.float32)
                for t, bw in enumerate(bigwigs):
                    win = _track_windows(bw, job, rows.sig_start[idx], b0, b1, peaks[t], t,
                                         tally, strategy, clock)
                    if win is not None:
                        block_sig[:, t, :] = win
                    clock.lap("cut_windows")
                if not idx.size:
                    continue
                # (a batched dot product: 8x faster than a strided sum over bins)
                counts[idx] = np.matmul(block_sig[:, :, cb0 : cb0 + cbn], count_weights)[:, :, 0]
                _tally_block(block_sig, job.split, tally)
                stored = _stored_signal(block_sig, dtype, job.chrom)
                seq = extract_windows(codes, rows.seq_start[idx], geo.sequence_stored)
                clock.lap("cut_windows")
                writer.append(sequence=seq, signal=stored, counts=counts[idx],
                              labels=rows.labels[idx], is_peak=rows.is_peak[idx],
                              centre=rows.centre[idx], source=rows.source[idx],
                              origin=rows.origin[idx], gc=rows.gc[idx],
                              n_fraction=rows.n_fraction[idx])
                clock.lap("write_shard")
        clock.lap("write_shard")
        return writer.md5, tally, bigwigs
    finally:
        for bw in bigwigs:
            bw.close()


def _chrom_stats(job: ChromJob, sel: RegionSelection, dtype: str, shard: str | Path,
                 md5: str | None, tally: SignalTally, bigwigs: Sequence[BigWig], clock: _Clock
                 ) -> dict[str, Any]:
    regions = sel.regions
    return {
        "chrom": job.chrom, "split": job.split, "shard": str(shard), "n_regions": len(regions),
        "n_peak_regions": int((regions["source"] == "peak").sum()),
        "n_background": int((regions["source"] == "background").sum()),
        "signal_dtype": dtype, "shard_md5": md5,
        "fates": sel.fates, "background": sel.background,
        "signal": {name: {"total": float(tally.totals[t]), "in_peaks": float(tally.in_peaks[t]),
                          **bigwigs[t].stats.as_dict()}
                   for t, name in enumerate(job.tasks)},
        "profile_hist": {name: {str(k): int(c) for k, c in enumerate(tally.hist[t]) if c}
                         for t, name in enumerate(job.tasks)},
        "seconds": clock.seconds,
    }


def _process(job: ChromJob, dtype: str, shard_path: str | Path, progress: bool, threads: int,
             read_strategy: str | None) -> dict[str, Any]:
    clock = _Clock()
    p = job.params
    with Genome(job.genome) as genome:
        codes = genome.codes(job.chrom)
        clock.lap("read_sequence")
        sel = select_regions(job.chrom, job.size, codes, job.summits, job.blacklist, job.tasks,
                             job.geometry, merge_distance=p.merge_distance,
                             blacklist_flank=p.blacklist_flank, max_n_fraction=p.max_n_fraction,
                             background_ratio=p.background_ratio, gc_bins=p.gc_bins,
                             rng=_chrom_rng(p.seed, job.chrom))
        rows = RegionRows.of(sel.regions, job.tasks, job.geometry)
        strategy = read_strategy or choose_read_strategy(*_needed_intervals(job, rows),
                                                         job.size)
        md5, tally, bigwigs = _write_shard(job, codes, rows, dtype, shard_path, threads,
                                           progress, clock, strategy)
    stats = _chrom_stats(job, sel, dtype, shard_path, md5, tally, bigwigs, clock)
    stats["read_strategy"] = strategy
    log.info("%s: %d regions (%d peaks, %d background), split %s, %s reads; seconds: %s",
             job.chrom, stats["n_regions"], stats["n_peak_regions"], stats["n_background"],
             job.split, strategy, ", ".join(f"{k} {v:.2f}" for k, v in clock.seconds.items()))
    return stats


def chromosome_stats(plan: dict[str, Any], arrays: dict[str, np.ndarray], chrom: str,
                     shard_path: str | Path, progress: bool = False, threads: int = 1,
                     read_strategy: str | None = None, plan_dir: str | Path = "plan"
                     ) -> dict[str, Any]:
    """Select the regions of ``chrom``, write its shard and return its statistics.

    As :func:`process_chromosome`, from a loaded plan, without writing the statistics.

    Returns
    -------
    dict
        The chromosome's statistics, with the seconds spent per stage.

    Raises
    ------
    InputError
        If ``chrom`` is not planned (naming ``plan_dir/plan.json``).
    """
    if chrom not in plan["chromosomes"]:
        raise InputError(Path(plan_dir) / "plan.json", f"chromosome {chrom!r} is not planned",
                         fix=f"choose one of {format_names(plan['chromosomes'])}")
    if read_strategy not in (None, *READ_STRATEGIES):
        raise ValueError(f"read_strategy must be one of {READ_STRATEGIES} or None")
    job = ChromJob.from_plan(plan, arrays, chrom)
    try:
        return _process(job, plan["signal_dtype"], shard_path, progress, threads, read_strategy)
    except _NeedFloat:
        log.warning("%s: signal does not fit %s exactly; storing float32", chrom,
                    plan["signal_dtype"])
        return _process(job, "float32", shard_path, progress, threads, read_strategy)


def process_chromosome(plan_dir: str | Path, chrom: str, shard_path: str | Path,
                       stats_path: str | Path, progress: bool = False, threads: int = 1,
                       read_strategy: str | None = None) -> dict[str, Any]:
    """Select the regions of ``chrom`` and write its shard and statistics.

    ``threads`` > 1 compresses shard chunks in that many threads while reading goes on.
    ``read_strategy`` (``"dense"`` or ``"sparse"``) forces how the bigWigs are read; by
    default it is chosen from the chromosome's window density (:func:`choose_read_strategy`).
    The shard and the statistics are the same either way (but for ``seconds``).

    Returns
    -------
    dict
        The statistics (also written to ``stats_path``), with the seconds spent per stage.
    """
    plan, arrays = load_plan(plan_dir)
    stats = chromosome_stats(plan, arrays, chrom, shard_path, progress, threads, read_strategy,
                             plan_dir)
    write_text_atomic(stats_path, json.dumps(stats, indent=1) + "\n")
    return stats


def process_job(plan_dir: str | Path, job_name: str, shard_dir: str | Path,
                stats_path: str | Path, progress: bool = False, threads: int = 1
                ) -> dict[str, Any]:
    """Process every chromosome of one planned job (:mod:`~seq2func.preprocess.jobs`).

    Parameters
    ----------
    plan_dir
        Directory of ``plan.json`` and ``summits.npz``.
    job_name
        A job of the plan's ``jobs``.
    shard_dir
        Where the shards go, one per chromosome: ``shard_dir/<chrom>.h5``.
    stats_path
        The job's statistics: ``{"job": name, "chromosomes": [per-chromosome statistics]}``.
    progress, threads
        As :func:`process_chromosome`.

    Returns
    -------
    dict
        The job's statistics (also written to ``stats_path``).

    Raises
    ------
    InputError
        If the plan has no job ``job_name`` (naming ``plan.json``).
    """
    plan, arrays = load_plan(plan_dir)
    jobs = {j["name"]: j for j in plan_jobs(plan)}
    if job_name not in jobs:
        raise InputError(Path(plan_dir) / "plan.json", f"job {job_name!r} is not planned",
                         fix=f"choose one of {format_names(list(jobs))}, or rerun the plan "
                             "(snakemake reruns preprocess_plan)")
    shard_dir = Path(shard_dir)
    shard_dir.mkdir(parents=True, exist_ok=True)
    chroms = [chromosome_stats(plan, arrays, c, shard_dir / f"{c}.h5", progress, threads,
                               plan_dir=plan_dir)
              for c in jobs[job_name]["chromosomes"]]
    stats = {"job": job_name, "chromosomes": chroms}
    write_text_atomic(stats_path, json.dumps(stats, indent=1) + "\n")
    return stats
