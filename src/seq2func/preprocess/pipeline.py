"""Preprocessing: genome + bigWigs + peaks -> training set, scattered per chromosome.

Three steps, each a CLI subcommand and a Snakemake rule (``workflow/rules/preprocess.smk``):

``plan`` (:func:`make_plan`, one job, seconds)
    Checks every input without reading data: genome index, bigWig headers (truncation,
    assembly, chromosome names), peak files (names harmonised onto the genome's, peaks past
    chromosome ends clipped or dropped, optional top-N per sample), blacklist, split
    chromosomes. Writes ``plan/plan.json`` (chromosomes to process, name maps, per-sample peak
    counts) and ``plan/summits.npz`` (every peak kept so far, all samples, genome coordinates).
``chrom`` (:func:`process_chromosome`, one job per chromosome)
    Reads the chromosome's sequence once and every bigWig once, block by block; selects regions
    (:mod:`seq2func.preprocess.regions`); cuts sequence and binned signal windows from the blocks in numpy
    and streams them into ``shards/<chrom>.h5``; writes the chromosome's region table and QC
    statistics. Memory: the chromosome's codes (1 byte/base) plus one block per track.
``gather`` (:func:`gather`, one job)
    Concatenates the region tables, computes clipping thresholds on training regions, writes
    ``regions.tsv.gz``, ``dataset.json`` (see :mod:`seq2func.dataset`) and the QC table.

:func:`run_all` runs the three in one process (for scripts, tests and the benchmark).
"""

from __future__ import annotations

import json
import logging
import math
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from seq2func.core.bigwig import BigWig, clean, sample_is_integral
from seq2func.core.chroms import (
    check_safe_names,
    filter_chromosomes,
    format_names,
    match_names,
    require_overlap,
    resolve_names,
)
from seq2func.core.config import load_samples
from seq2func.core.errors import ConfigError, InputError
from seq2func.core.intervals import merge_intervals, read_bed_intervals, read_peaks
from seq2func.core.io import (
    atomic_output,
    file_checksum,
    write_text_atomic,
    write_tsv_atomic,
    write_tsv_gz_atomic,
)
from seq2func.core.sequence import Genome, extract_windows
from seq2func.dataset import (
    FORMAT,
    FORMAT_VERSION,
    DatasetMeta,
    Fold,
    Geometry,
    ShardInfo,
    ShardWriter,
)
from seq2func.preprocess.regions import SummitSet, select_regions

log = logging.getLogger(__name__)

PLAN_VERSION = 1
#: bases per bigWig read (1 Mb: 4 MB of float32 per track; bounds memory in dense regions)
BLOCK_BASES = 1 << 20
#: profile-clip histogram: 16 log-spaced bins per octave over 2^-64 .. 2^64
HIST_SUB = 16
HIST_EXP = 64
HIST_BINS = (2 * HIST_EXP + 1) * HIST_SUB
#: values histogrammed per block and task at most (rows are subsampled beyond that)
HIST_VALUES_PER_BLOCK = 200_000


@dataclass
class PreprocessParams:
    """The ``preprocess`` section of the config (defaults mirror the JSON schema)."""

    input_length: int = 1000
    max_jitter: int = 64
    profile_length: int = 1000
    profile_bin: int = 1
    count_window: int | None = None
    label_window: int = 200
    merge_distance: int = 200
    background_ratio: float = 1.0
    gc_bins: int = 50
    blacklist_flank: int = 500
    max_n_fraction: float = 0.05
    counts_clip_quantile: float | None = 0.9999
    profile_clip_quantile: float | None = 0.9999
    max_peaks_per_sample: int | None = None
    chromosomes: list[str] = field(default_factory=list)
    exclude_chromosomes: str | None = r"_|^chrM$|^MT$|^M$|^chrEBV$|^HLA-"
    negative_signal: str = "error"
    allow_empty_peaks: bool = False
    signal_dtype: str = "auto"
    compression: str = "gzip"
    chunk_rows: int = 64
    seed: int = 1

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None,
                    source: str = "config") -> PreprocessParams:
        """Build from a config section, checking the relations between sizes."""
        section = dict(section or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(source, f"preprocess.{unknown[0]}", "unknown key",
                              f"allowed keys: {', '.join(sorted(known))}")
        p = cls(**section)
        if p.count_window is None:
            p.count_window = p.profile_length
        p.validate(source)
        return p

    def validate(self, source: str = "config") -> None:
        def bad(key: str, problem: str, fix: str) -> ConfigError:
            return ConfigError(source, f"preprocess.{key}", problem, fix)

        cw = int(self.count_window or self.profile_length)
        for key in ("input_length", "profile_length", "profile_bin", "label_window",
                    "merge_distance", "chunk_rows", "gc_bins"):
            if int(getattr(self, key)) < 1:
                raise bad(key, "must be a positive integer", "give a value >= 1")
        for key, val in (("input_length", self.input_length),
                         ("profile_length", self.profile_length), ("count_window", cw)):
            if val % 2:
                raise bad(key, f"{val} is odd", "use an even number so windows share a centre "
                                                "(reverse complement stays exact)")
        b = self.profile_bin
        for key, val in (("profile_length", self.profile_length), ("count_window", cw),
                         ("max_jitter", self.max_jitter)):
            if val % b:
                raise bad(key, f"{val} is not a multiple of profile_bin ({b})",
                          "use multiples of profile_bin (jitter moves by whole bins)")
        if (max(self.profile_length, cw) - min(self.profile_length, cw)) % (2 * b):
            raise bad("count_window", "profile_length and count_window differ by an odd "
                                      "number of bins", "make their difference a multiple "
                                                        "of 2 * profile_bin")
        if max(self.profile_length, cw) > self.input_length:
            raise bad("profile_length", "profile_length and count_window must not exceed "
                                        "input_length", "shorten them or lengthen the input")
        if self.max_jitter < 0:
            raise bad("max_jitter", "must be >= 0", "give 0 to disable jitter")
        if not 0 <= self.max_n_fraction <= 1:
            raise bad("max_n_fraction", "must be in [0, 1]", "e.g. 0.05")
        if self.background_ratio < 0:
            raise bad("background_ratio", "must be >= 0", "e.g. 1.0")
        for key in ("counts_clip_quantile", "profile_clip_quantile"):
            q = getattr(self, key)
            if q is not None and not 0 < q <= 1:
                raise bad(key, "must be in (0, 1] or null", "e.g. 0.9999; null disables")
        if self.negative_signal not in ("error", "clip"):
            raise bad("negative_signal", "must be 'error' or 'clip'", "choose one")
        if self.signal_dtype not in ("auto", "float32", "float16", "uint16"):
            raise bad("signal_dtype", "must be auto, float32, float16 or uint16", "choose one")
        if self.compression not in ("gzip", "none"):
            raise bad("compression", "must be gzip or none", "choose one")

    @property
    def geometry(self) -> Geometry:
        return Geometry(self.input_length, self.max_jitter, self.profile_length,
                        int(self.count_window or self.profile_length), self.profile_bin,
                        self.label_window)


@dataclass
class SampleInput:
    """One task: its name, metadata and files."""

    name: str
    assay: str
    cell_type: str
    bigwig: str
    peaks: str


# ----------------------------------------------------------------------------- plan


def _split_tables(split_cfg: Mapping[str, Any], chroms: Sequence[str], source: str
                  ) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Per-chromosome split of the default split and of each fold (names harmonised)."""

    def one(valid: Sequence[str], test: Sequence[str], key: str) -> dict[str, str]:
        v = resolve_names(valid, chroms, source, f"{key}.valid")
        t = resolve_names(test, chroms, source, f"{key}.test")
        both = sorted(set(v) & set(t))
        if both:
            raise ConfigError(source, key, f"{format_names(both)} in both valid and test",
                              "each chromosome belongs to one split")
        table = {c: "train" for c in chroms}
        for c in v:
            table[c] = "valid"
        for c in t:
            table[c] = "test"
        return table

    default = one(split_cfg.get("valid", []), split_cfg.get("test", []), "split")
    folds = []
    for i, fold in enumerate(split_cfg.get("folds", []) or []):
        name = str(fold.get("name", f"fold{i + 1}"))
        folds.append({"name": name, "table": one(fold.get("valid", []), fold.get("test", []),
                                                  f"split.folds[{i}]")})
    return default, folds


def _rank_scores(scores: np.ndarray) -> np.ndarray:
    """Per-sample rank of peak scores scaled to (0, 1] (ties share the lowest rank)."""
    if scores.size == 0:
        return scores.astype(np.float32)
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(scores.size, dtype=np.float64)
    sorted_scores = scores[order]
    first = np.searchsorted(sorted_scores, sorted_scores, side="left")
    ranks[order] = first + 1
    return (ranks / scores.size).astype(np.float32)


def _width_histogram(widths: np.ndarray) -> dict[str, list[float]]:
    edges = np.unique(np.round(np.logspace(1, 5, 41)).astype(np.int64))
    counts, _ = np.histogram(np.clip(widths, edges[0], edges[-1] - 1), bins=edges)
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def make_plan(genome_path: str | Path, samples: Sequence[SampleInput],
              params: PreprocessParams, split_cfg: Mapping[str, Any], outdir: str | Path,
              blacklist: str | Path | None = None, study: str = "study",
              config_source: str = "config") -> dict[str, Any]:
    """Check all inputs and write the scatter plan (see module docstring).

    Returns
    -------
    dict
        The plan (also written to ``outdir/plan.json``).
    """
    outdir = Path(outdir)
    names = [s.name for s in samples]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError("samples table", f"duplicate sample name(s): {', '.join(dup)}",
                         fix="give every sample a unique name")
    with Genome(genome_path) as genome:
        sizes = dict(genome.sizes)
        gformat = genome.format
    chroms, skipped = filter_chromosomes(sizes, resolve_names(params.chromosomes, list(sizes),
                                                              config_source,
                                                              "preprocess.chromosomes")
                                         if params.chromosomes else [],
                                         params.exclude_chromosomes)
    if not chroms:
        raise ConfigError(config_source, "preprocess.exclude_chromosomes",
                          f"no chromosome of the genome is left ({format_names(sizes)})",
                          "loosen preprocess.chromosomes / exclude_chromosomes")
    check_safe_names(chroms, genome_path)
    split_default, folds = _split_tables(split_cfg, list(sizes), config_source)
    for table_name, table in [("split", split_default)] + [(f["name"], f["table"])
                                                           for f in folds]:
        for part in ("valid", "test"):
            dropped = [c for c, s in table.items() if s == part and c not in chroms]
            if dropped:
                raise ConfigError(config_source, f"{table_name}.{part}",
                                  f"{format_names(dropped)} excluded from preprocessing "
                                  f"({skipped.get(dropped[0], '')})",
                                  "list chromosomes that are processed, or stop excluding them")
            if not any(table[c] == part for c in chroms):
                raise ConfigError(config_source, f"{table_name}.{part}",
                                  "no processed chromosome in this split",
                                  "list at least one processed chromosome")
        if not any(table[c] == "train" for c in chroms):
            raise ConfigError(config_source, table_name, "no chromosome left for training",
                              "leave some chromosomes out of valid and test")
    chrom_index = {c: i for i, c in enumerate(chroms)}

    # ---- bigWigs: integrity, names, lengths, storage dtype
    sample_info: list[dict[str, Any]] = []
    dtype_integral = True
    max_val = 0.0
    for s in samples:
        with BigWig(s.bigwig, sizes, negative=params.negative_signal) as bw:
            missing = [c for c in chroms if not bw.has(c)]
            if missing:
                log.warning("%s: no data for %d processed chromosome(s) (%s); their signal "
                            "is 0", s.bigwig, len(missing), format_names(missing))
            max_val = max(max_val, float(bw.header.get("maxVal", 0.0)))
            if params.signal_dtype == "auto" and dtype_integral:
                dtype_integral = sample_is_integral(bw, chroms, sizes)
            sample_info.append({"name": s.name, "assay": s.assay, "cell_type": s.cell_type,
                                "bigwig": str(s.bigwig), "peaks": str(s.peaks),
                                "bigwig_names": bw.match.transform,
                                "bigwig_bases": int(sum(bw.file_chroms.values())),
                                "bigwig_missing_chromosomes": missing,
                                "bigwig_header": {k: float(v) for k, v in bw.header.items()}})
    signal_dtype = params.signal_dtype
    if signal_dtype == "auto":
        fits = max_val * params.profile_bin <= np.iinfo(np.uint16).max
        signal_dtype = "uint16" if dtype_integral and fits else "float32"

    # ---- peaks
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("chrom", "start", "end", "summit",
                                                          "sample", "score")}
    peak_qc: dict[str, dict[str, Any]] = {}
    for t, s in enumerate(samples):
        df = read_peaks(s.peaks)
        qc: dict[str, Any] = {"peaks_in_file": len(df),
                              "summit_from_midpoint": int(df.attrs["summit_from_midpoint"])}
        if df.empty:
            if not params.allow_empty_peaks:
                raise InputError(s.peaks, f"no peaks in the peak file of sample {s.name!r}",
                                 fix="check that peak calling succeeded; to keep the sample as "
                                     "a signal-only task set preprocess.allow_empty_peaks: true")
            log.warning("%s: empty peak file; sample %s has no positive labels", s.peaks, s.name)
        match = match_names(df["chrom"].unique().tolist(), list(sizes))
        if not df.empty:
            require_overlap(match, list(sizes), s.peaks, "peak file")
        gname = df["chrom"].map(match.mapping)
        in_genome = gname.notna().to_numpy()
        qc["chrom_not_in_genome"] = int((~in_genome).sum())
        if qc["chrom_not_in_genome"]:
            log.warning("%s: %d peaks on chromosomes not in the genome (%s)", s.peaks,
                        qc["chrom_not_in_genome"], format_names(match.unmatched))
        df = df[in_genome].assign(chrom=gname[in_genome])
        processed = df["chrom"].isin(chrom_index).to_numpy()
        qc["chrom_excluded"] = int((~processed).sum())
        df = df[processed]
        invalid = ((df["end"] <= df["start"]) | (df["start"] < 0)).to_numpy()
        qc["invalid_interval"] = int(invalid.sum())
        df = df[~invalid]
        csize = df["chrom"].map(sizes).to_numpy(dtype=np.int64)
        past = (df["start"].to_numpy() >= csize) | (df["summit"].to_numpy() >= csize)
        qc["past_chrom_end"] = int(past.sum())
        df, csize = df[~past], csize[~past]
        over = df["end"].to_numpy() > csize
        qc["clipped_at_chrom_end"] = int(over.sum())
        df = df.assign(end=np.minimum(df["end"].to_numpy(), csize))
        qc["below_top_n"] = 0
        if params.max_peaks_per_sample is not None and len(df) > params.max_peaks_per_sample:
            top = np.argsort(-df["score"].to_numpy(), kind="stable")[: params.max_peaks_per_sample]
            qc["below_top_n"] = len(df) - top.size
            df = df.iloc[np.sort(top)]
        qc["after_checks"] = len(df)
        qc["width_hist"] = _width_histogram((df["end"] - df["start"]).to_numpy())
        widths = (df["end"] - df["start"]).to_numpy()
        qc["median_width"] = float(np.median(widths)) if widths.size else None
        peak_qc[s.name] = qc
        cols["chrom"].append(df["chrom"].map(chrom_index).to_numpy(dtype=np.int32))
        cols["start"].append(df["start"].to_numpy(dtype=np.int64))
        cols["end"].append(df["end"].to_numpy(dtype=np.int64))
        cols["summit"].append(df["summit"].to_numpy(dtype=np.int64))
        cols["sample"].append(np.full(len(df), t, dtype=np.int16))
        cols["score"].append(_rank_scores(df["score"].to_numpy(dtype=np.float64)))
    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.lexsort((arrays["start"], arrays["chrom"]))
    arrays = {k: v[order] for k, v in arrays.items()}

    # ---- blacklist
    bl = read_bed_intervals(blacklist)
    bl_match = match_names(bl["chrom"].unique().tolist(), list(sizes))
    if not bl.empty:
        require_overlap(bl_match, list(sizes), str(blacklist), "blacklist")
    bl = bl.assign(chrom=bl["chrom"].map(bl_match.mapping))
    bl = bl[bl["chrom"].isin(chrom_index)]
    arrays["bl_chrom"] = bl["chrom"].map(chrom_index).to_numpy(dtype=np.int32)
    arrays["bl_start"] = bl["start"].to_numpy(dtype=np.int64)
    arrays["bl_end"] = bl["end"].to_numpy(dtype=np.int64)

    plan = {
        "plan_version": PLAN_VERSION,
        "study": study,
        "params": asdict(params),
        "genome": {"path": str(genome_path), "format": gformat},
        "chromosomes": chroms,
        "sizes": {c: sizes[c] for c in chroms},
        "skipped_chromosomes": skipped,
        "split": {c: split_default[c] for c in chroms},
        "folds": [{"name": f["name"], "split": {c: f["table"][c] for c in chroms}}
                  for f in folds],
        "samples": sample_info,
        "signal_dtype": signal_dtype,
        "blacklist": None if blacklist is None else str(blacklist),
        "blacklist_intervals": len(bl),
        "peak_qc": peak_qc,
    }
    outdir.mkdir(parents=True, exist_ok=True)
    with atomic_output(outdir / "summits.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    write_text_atomic(outdir / "plan.json", json.dumps(plan, indent=1) + "\n")
    log.info("plan: %d chromosomes, %d samples, %d peaks after checks, signal stored as %s",
             len(chroms), len(samples), int(arrays["sample"].size), signal_dtype)
    return plan


def load_plan(plan_dir: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read ``plan.json`` and ``summits.npz``."""
    plan_dir = Path(plan_dir)
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    with np.load(plan_dir / "summits.npz") as z:
        arrays = {k: z[k] for k in z.files}
    return plan, arrays


# ----------------------------------------------------------------------------- one chromosome


class _NeedFloat(Exception):
    """Raised when integer storage would lose information (then retry with float32)."""


def _hist_add(hist: np.ndarray, values: np.ndarray) -> None:
    """Add positive values to a log-binned histogram (HIST_SUB bins per octave)."""
    v = values[values > 0]
    if v.size == 0:
        return
    m, e = np.frexp(v.astype(np.float64))
    sub = np.minimum(((m - 0.5) * 2 * HIST_SUB).astype(np.int64), HIST_SUB - 1)
    idx = (np.clip(e, -HIST_EXP, HIST_EXP) + HIST_EXP) * HIST_SUB + sub
    hist += np.bincount(idx, minlength=HIST_BINS)


def hist_upper_edges() -> np.ndarray:
    """Upper edge of every bin of the profile-clip histogram."""
    k = np.arange(HIST_BINS)
    e = k // HIST_SUB - HIST_EXP
    sub = k % HIST_SUB
    return np.ldexp(0.5 + (sub + 1) / (2 * HIST_SUB), e)


def hist_quantile(hist: np.ndarray, q: float) -> float | None:
    """Upper edge of the bin holding quantile ``q`` (None for an empty histogram)."""
    total = hist.sum()
    if total == 0:
        return None
    k = int(np.searchsorted(np.cumsum(hist), q * total, side="left"))
    return float(hist_upper_edges()[min(k, HIST_BINS - 1)])


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


def process_chromosome(plan_dir: str | Path, chrom: str, shard_path: str | Path,
                       stats_path: str | Path, progress: bool = False, threads: int = 1
                       ) -> dict[str, Any]:
    """Select the regions of ``chrom`` and write its shard and statistics.

    ``threads`` > 1 compresses shard chunks in that many threads while reading goes on.

    Returns
    -------
    dict
        The statistics (also written to ``stats_path``), with the seconds spent per stage.
    """
    plan, arrays = load_plan(plan_dir)
    if chrom not in plan["chromosomes"]:
        raise InputError(Path(plan_dir) / "plan.json", f"chromosome {chrom!r} is not planned",
                         fix=f"choose one of {format_names(plan['chromosomes'])}")
    params = PreprocessParams.from_config(plan["params"])
    dtype = plan["signal_dtype"]
    try:
        return _process(plan, arrays, params, chrom, dtype, shard_path, stats_path, progress,
                        threads)
    except _NeedFloat:
        log.warning("%s: signal does not fit %s exactly; storing float32", chrom,
                    plan["signal_dtype"])
        return _process(plan, arrays, params, chrom, "float32", shard_path, stats_path,
                        progress, threads)


class _Clock:
    """Seconds spent per stage (reported in the statistics and by the benchmark)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._t
        self._t = now


def _process(plan: dict[str, Any], arrays: dict[str, np.ndarray], params: PreprocessParams,
             chrom: str, dtype: str, shard_path: str | Path, stats_path: str | Path,
             progress: bool, threads: int) -> dict[str, Any]:
    clock = _Clock()
    ci = plan["chromosomes"].index(chrom)
    size = int(plan["sizes"][chrom])
    tasks = [s["name"] for s in plan["samples"]]
    T = len(tasks)
    geo = params.geometry
    m = arrays["chrom"] == ci
    summits = SummitSet(arrays["sample"][m].astype(np.int64), arrays["start"][m],
                        arrays["end"][m], arrays["summit"][m], arrays["score"][m])
    bm = arrays["bl_chrom"] == ci
    blacklist = (arrays["bl_start"][bm], arrays["bl_end"][bm])
    split = plan["split"][chrom]

    with Genome(plan["genome"]["path"]) as genome:
        codes = genome.codes(chrom)
        clock.lap("read_sequence")
        sel = select_regions(chrom, size, codes, summits, blacklist, tasks, geo,
                             merge_distance=params.merge_distance,
                             blacklist_flank=params.blacklist_flank,
                             max_n_fraction=params.max_n_fraction,
                             background_ratio=params.background_ratio, gc_bins=params.gc_bins,
                             rng=_chrom_rng(params.seed, chrom))
        regions = sel.regions
        n = len(regions)
        centre = regions["centre"].to_numpy(dtype=np.int64)
        seq_start = centre - geo.sequence_stored // 2
        sig_start = centre - geo.signal_stored // 2
        first = np.minimum(seq_start, sig_start)
        labels = regions[[f"label_{t}" for t in tasks]].to_numpy(dtype=np.uint8)
        is_peak = regions[[f"is_peak_{t}" for t in tasks]].to_numpy(dtype=np.uint8)
        source = (regions["source"] == "background").to_numpy(dtype=np.uint8)
        origin_index = {t: i for i, t in enumerate(tasks)}
        origin = regions["origin"].map(lambda o: origin_index.get(o, -1)).to_numpy(
            dtype=np.int16)
        gc = regions["gc"].to_numpy(dtype=np.float32)
        nfrac = regions["n_fraction"].to_numpy(dtype=np.float32)
        counts = np.zeros((n, T), dtype=np.float32)
        peaks_union = [merge_intervals(summits.of(t).start, summits.of(t).end)
                       for t in range(T)]
        totals = np.zeros(T)
        in_peaks = np.zeros(T)
        hist = np.zeros((T, HIST_BINS), dtype=np.int64)
        cb0, cbn = geo.count_offset_bins, geo.count_window // geo.profile_bin
        count_weights = np.ones((cbn, 1), dtype=np.float32)
        bins, width = geo.signal_bins, geo.signal_stored
        attrs = {"format": FORMAT, "format_version": FORMAT_VERSION, "chrom": chrom,
                 "tasks": json.dumps(tasks), "split": split}
        bigwigs = [BigWig(s["bigwig"], plan["sizes"], negative=params.negative_signal,
                          check=False) for s in plan["samples"]]
        clock.lap("select_regions")
        try:
            with ShardWriter(shard_path, n_tasks=T, sequence_length=geo.sequence_stored,
                             signal_bins=bins, signal_dtype=dtype,
                             compression=params.compression, chunk_rows=params.chunk_rows,
                             attrs=attrs, threads=threads) as writer:
                for t, bw in enumerate(bigwigs):
                    if bw.clean_by_header:  # else summed block by block below
                        totals[t] = bw.chrom_total(chrom)
                for b0 in tqdm(range(0, size, BLOCK_BASES), desc=chrom, unit="block",
                               disable=not progress):
                    b1 = min(size, b0 + BLOCK_BASES)
                    rows = np.flatnonzero((first >= b0) & (first < b1))
                    block_sig = np.zeros((rows.size, T, bins), dtype=np.float32)
                    for t, bw in enumerate(bigwigs):
                        # one read per block and track; no per-base work on the fast path
                        v = bw.raw(chrom, b0, min(size, b1 + geo.extent))
                        clock.lap("read_signal")
                        if not bw.clean_by_header:
                            totals[t] += float(v[: b1 - b0].sum(dtype=np.float64))
                        # NaN -> 0 on whichever is smaller: the block or the windows cut from it
                        dense = rows.size * width > v.size
                        if dense:
                            clean(v)
                        idx = _interval_positions(*peaks_union[t], b0, b1)
                        if idx.size:
                            in_peaks[t] += float(clean(v[idx]).sum(dtype=np.float64))
                        if rows.size:
                            view = np.lib.stride_tricks.sliding_window_view(v, width)
                            win = view[sig_start[rows] - b0]
                            if not dense:
                                clean(win)
                            if geo.profile_bin > 1:
                                win = win.reshape(rows.size, bins, geo.profile_bin).sum(
                                    axis=2, dtype=np.float32)
                            block_sig[:, t, :] = win
                        clock.lap("cut_windows")
                    if rows.size:
                        # (a batched dot product: 8x faster than a strided sum over bins)
                        counts[rows] = np.matmul(block_sig[:, :, cb0 : cb0 + cbn],
                                                 count_weights)[:, :, 0]
                        if split == "train":
                            step = max(1, math.ceil(rows.size * bins * T
                                                    / HIST_VALUES_PER_BLOCK))
                            for t in range(T):
                                _hist_add(hist[t], block_sig[::step, t, :])
                        stored = block_sig.astype(dtype)
                        if dtype == "uint16" and not np.array_equal(stored, block_sig):
                            raise _NeedFloat(chrom)  # not integral, or too large
                        if dtype == "float16" and not np.isfinite(stored).all():
                            raise _NeedFloat(chrom)  # too large for float16
                        seq = extract_windows(codes, seq_start[rows], geo.sequence_stored)
                        clock.lap("cut_windows")
                        writer.append(sequence=seq, signal=stored, counts=counts[rows],
                                      labels=labels[rows], is_peak=is_peak[rows],
                                      centre=centre[rows], source=source[rows],
                                      origin=origin[rows], gc=gc[rows], n_fraction=nfrac[rows])
                        clock.lap("write_shard")
            md5 = writer.md5
            clock.lap("write_shard")
        finally:
            for bw in bigwigs:
                bw.close()

    stats = {
        "chrom": chrom, "split": split, "n_regions": n,
        "n_peak_regions": int((regions["source"] == "peak").sum()),
        "n_background": int((regions["source"] == "background").sum()),
        "signal_dtype": dtype, "shard_md5": md5,
        "fates": sel.fates, "background": sel.background,
        "signal": {name: {"total": float(totals[t]), "in_peaks": float(in_peaks[t]),
                          **bigwigs[t].stats.as_dict()}
                   for t, name in enumerate(tasks)},
        "profile_hist": {name: {str(k): int(c) for k, c in enumerate(hist[t]) if c}
                         for t, name in enumerate(tasks)},
        "seconds": clock.seconds,
    }
    write_text_atomic(stats_path, json.dumps(stats, indent=1) + "\n")
    log.info("%s: %d regions (%d peaks, %d background), split %s; seconds: %s", chrom, n,
             stats["n_peak_regions"], stats["n_background"], split,
             ", ".join(f"{k} {v:.2f}" for k, v in clock.seconds.items()))
    return stats


def _shard_table(path: Path, tasks: Sequence[str], chrom: str) -> pd.DataFrame:
    """The per-region columns of one shard (everything but sequence and signal)."""
    import h5py

    with h5py.File(path, "r") as f:
        centre = f["centre"][:]
        df = pd.DataFrame({"chrom": chrom, "centre": centre,
                           "source": np.where(f["source"][:] == 1, "background", "peak"),
                           "origin": np.asarray([*tasks, ""], dtype=object)[f["origin"][:]],
                           "gc": f["gc"][:].astype(np.float64),
                           "n_fraction": f["n_fraction"][:].astype(np.float64),
                           "shard_row": np.arange(centre.size)})
        for key in ("is_peak", "labels", "counts"):
            vals = f[key][:]
            prefix = "label" if key == "labels" else key
            for t, name in enumerate(tasks):
                df[f"{prefix}_{name}"] = vals[:, t]
    return df


# ----------------------------------------------------------------------------- gather


def gather(plan_dir: str | Path, dataset_dir: str | Path, qc_table: str | Path | None = None
           ) -> DatasetMeta:
    """Combine per-chromosome outputs into ``regions.tsv.gz``, ``dataset.json`` and QC.

    Expects ``dataset_dir/shards/<chrom>.h5`` and ``dataset_dir/chroms/<chrom>.stats.json``
    for every planned chromosome.
    """
    plan, _ = load_plan(plan_dir)
    params = PreprocessParams.from_config(plan["params"])
    ddir = Path(dataset_dir)
    tasks = [s["name"] for s in plan["samples"]]
    frames, stats = [], {}
    geo = params.geometry
    for chrom in plan["chromosomes"]:
        st = json.loads((ddir / "chroms" / f"{chrom}.stats.json").read_text(encoding="utf-8"))
        stats[chrom] = st
        shard = f"shards/{chrom}.h5"
        if not (ddir / shard).is_file():
            raise InputError(ddir / shard, "shard missing", fix="rerun the chromosome's job")
        df = _shard_table(ddir / shard, tasks, chrom)
        df.insert(1, "start", df["centre"] - geo.input_length // 2)
        df.insert(2, "end", df["centre"] - geo.input_length // 2 + geo.input_length)
        df["shard"] = shard
        df["split"] = plan["split"][chrom]
        for f in plan["folds"]:
            df[f"split_{f['name']}"] = f["split"][chrom]
        frames.append(df)
    regions = pd.concat(frames, ignore_index=True)
    regions.insert(0, "region_id", np.arange(len(regions)))
    train = regions["split"] == "train"

    clip_counts: dict[str, float | None] = {}
    clip_signal: dict[str, float | None] = {}
    for t in tasks:
        vals = regions.loc[train, f"counts_{t}"].to_numpy(dtype=np.float64)
        q = params.counts_clip_quantile
        clip_counts[t] = (float(np.quantile(vals, q)) if q is not None and q < 1 and vals.size
                          else None)
        hist = np.zeros(HIST_BINS, dtype=np.int64)
        for st in stats.values():
            for k, c in st["profile_hist"][t].items():
                hist[int(k)] += c
        qs = params.profile_clip_quantile
        clip_signal[t] = hist_quantile(hist, qs) if qs is not None and qs < 1 else None
        c = regions[f"counts_{t}"].to_numpy(dtype=np.float64)
        if clip_counts[t] is not None:
            c = np.minimum(c, clip_counts[t])
        regions[f"log_counts_{t}"] = np.log1p(c).astype(np.float32)

    first = ["region_id", "chrom", "start", "end", "centre", "split"]
    first += [f"split_{f['name']}" for f in plan["folds"]]
    first += ["source", "origin", "gc", "n_fraction", "shard", "shard_row"]
    per_task = [f"{k}_{t}" for k in ("is_peak", "label", "counts", "log_counts") for t in tasks]
    regions = regions[first + per_task].copy()
    # round instead of a float_format: pandas then writes numbers without a Python call each
    regions["gc"] = regions["gc"].round(4)
    regions["n_fraction"] = regions["n_fraction"].round(4)
    for t in tasks:
        c = regions[f"counts_{t}"].to_numpy()
        regions[f"counts_{t}"] = (c.astype(np.int64) if np.array_equal(c, np.rint(c))
                                  else np.round(c, 4))
        regions[f"log_counts_{t}"] = regions[f"log_counts_{t}"].round(5)
    ddir.mkdir(parents=True, exist_ok=True)
    write_tsv_gz_atomic(ddir / "regions.tsv.gz", regions, level=1)

    def split_lists(table: Mapping[str, str]) -> dict[str, list[str]]:
        return {p: [c for c in plan["chromosomes"] if table[c] == p]
                for p in ("train", "valid", "test")}

    n_regions: dict[str, Any] = {}
    positives: dict[str, dict[str, int]] = {}
    for part in ("train", "valid", "test"):
        sub = regions[regions["split"] == part]
        n_regions[part] = len(sub)
        n_regions[f"{part}_peak"] = int((sub["source"] == "peak").sum())
        n_regions[f"{part}_background"] = int((sub["source"] == "background").sum())
        positives[part] = {t: int(sub[f"label_{t}"].sum()) for t in tasks}
    n_regions["total"] = len(regions)
    shards = tuple(ShardInfo(chrom=c, path=f"shards/{c}.h5", split=plan["split"][c],
                             n_regions=int(stats[c]["n_regions"]),
                             signal_dtype=stats[c]["signal_dtype"], md5=stats[c]["shard_md5"])
                   for c in plan["chromosomes"])
    meta = DatasetMeta(
        study=plan["study"], tasks=tuple(tasks),
        samples=[{k: s[k] for k in ("name", "assay", "cell_type", "bigwig", "peaks")}
                 for s in plan["samples"]],
        genome=plan["genome"], geometry=geo, merge_distance=params.merge_distance,
        clipping={"counts_quantile": params.counts_clip_quantile, "counts": clip_counts,
                  "signal_quantile": params.profile_clip_quantile, "signal": clip_signal,
                  "computed_on": "train regions (default split)"},
        split=split_lists(plan["split"]),
        folds=tuple(Fold(f["name"], split_lists(f["split"])) for f in plan["folds"]),
        n_regions=n_regions, positives=positives, shards=shards,
        checksums={"regions.tsv.gz": file_checksum(ddir / "regions.tsv.gz"),
                   **{s.path: s.md5 for s in shards}},
        params=plan["params"])
    if qc_table is not None:
        from seq2func.preprocess.qc import qc_table as make_qc

        write_tsv_atomic(qc_table, make_qc(plan, stats, regions), float_format="%.6g")
    write_text_atomic(ddir / "dataset.json", json.dumps(meta.to_json(), indent=1) + "\n")
    log.info("dataset: %d regions (train %d, valid %d, test %d)", n_regions["total"],
             n_regions["train"], n_regions["valid"], n_regions["test"])
    return meta


# ----------------------------------------------------------------------------- all in one


def samples_from_table(table: str | Path, bigwigs: Sequence[str] | None = None,
                       peaks: Sequence[str] | None = None) -> list[SampleInput]:
    """Tasks from a samples table, with files given in table order or in its columns."""
    df = load_samples(table)
    n = len(df)
    if bigwigs is None:
        if "signal" not in df.columns:
            raise InputError(table, "no bigWigs given and no 'signal' column",
                             fix="pass --bigwigs in table order or add a 'signal' column")
        bigwigs = df["signal"].tolist()
    if peaks is None:
        if "peaks" not in df.columns:
            raise InputError(table, "no peaks given and no 'peaks' column",
                             fix="pass --peaks in table order or add a 'peaks' column")
        peaks = df["peaks"].tolist()
    if len(bigwigs) != n or len(peaks) != n:
        raise InputError(table, f"{n} samples but {len(bigwigs)} bigWigs and {len(peaks)} "
                                "peak files", fix="give one bigWig and one peak file per sample")
    return [SampleInput(str(r["sample"]), str(r["assay"]), str(r["cell_type"]), str(b), str(p))
            for (_, r), b, p in zip(df.iterrows(), bigwigs, peaks, strict=True)]


def run_all(genome: str | Path, samples: Sequence[SampleInput], params: PreprocessParams,
            split_cfg: Mapping[str, Any], dataset_dir: str | Path,
            blacklist: str | Path | None = None, qc_table: str | Path | None = None,
            study: str = "study", progress: bool = False, threads: int = 1) -> DatasetMeta:
    """Plan, process every chromosome and gather, in this process (see module docstring)."""
    ddir = Path(dataset_dir)
    plan = make_plan(genome, samples, params, split_cfg, ddir / "plan", blacklist, study)
    for chrom in tqdm(plan["chromosomes"], desc="chromosomes", disable=not progress):
        process_chromosome(ddir / "plan", chrom, ddir / "shards" / f"{chrom}.h5",
                           ddir / "chroms" / f"{chrom}.stats.json", threads=threads)
    return gather(ddir / "plan", ddir, qc_table)
