"""The scatter plan: every preprocessing input checked before any data is read.

:func:`make_plan` checks the genome index, the bigWig headers (truncation, assembly, chromosome
names), the peak files (names harmonised onto the genome's; intervals overhanging chromosome
ends clipped, invalid or past the ends dropped or - beyond
:data:`~seq2func.core.intervals.PAST_END_TOLERANCE` - refused; optional top-N per sample), the
blacklist and the split chromosomes. It writes ``plan/plan.json``
(chromosomes to process, the jobs processing them (:mod:`~seq2func.preprocess.jobs`), name
maps, per-sample peak counts) and ``plan/summits.npz`` (every peak kept, all samples, genome
coordinates), which the preprocessing jobs read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.bigwig import BigWig, sample_is_integral
from seq2func.core.chroms import (
    check_safe_names,
    filter_chromosomes,
    format_names,
    match_names,
    require_overlap,
    resolve_names,
)
from seq2func.core.errors import ConfigError, InputError
from seq2func.core.intervals import fit_to_chromosomes, read_bed_intervals, read_peaks
from seq2func.core.io import atomic_output, write_text_atomic
from seq2func.core.sequence import Genome
from seq2func.preprocess.folds import MIN_FOLDS, chromosome_folds
from seq2func.preprocess.jobs import group_chromosomes
from seq2func.preprocess.samples import SampleInput
from seq2func.preprocess.settings import PreprocessSettings

log = logging.getLogger(__name__)

PLAN_VERSION = 1
PEAK_COLUMNS = ("chrom", "start", "end", "summit", "sample", "score")


@dataclass(frozen=True)
class Chromosomes:
    """The genome's chromosomes, those processed, and the split of each."""

    sizes: dict[str, int]
    genome_format: str
    processed: list[str]
    skipped: dict[str, str]
    split: dict[str, str]
    folds: list[dict[str, Any]]

    @property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.processed)}


# ----------------------------------------------------------------------------- chromosomes


def fold_entries(split_cfg: Mapping[str, Any], processed_sizes: Mapping[str, int],
                 source: str = "config") -> list[dict[str, Any]]:
    """The ``split.folds`` entries: as listed, or ``k`` automatic folds over the processed
    chromosomes (:func:`seq2func.preprocess.folds.chromosome_folds`) when it is a number."""
    folds = split_cfg.get("folds") or []
    if isinstance(folds, int) and not isinstance(folds, bool):
        try:
            return chromosome_folds(processed_sizes, folds)
        except ValueError as exc:
            raise ConfigError(source, "split.folds", str(exc),
                              f"ask for {MIN_FOLDS} to {len(processed_sizes)} folds, or list "
                              "them (name, valid, test)") from None
    return [{"name": str(f.get("name", f"fold{i + 1}")), **f} for i, f in enumerate(folds)]


def _split_tables(split_cfg: Mapping[str, Any], chroms: Sequence[str], source: str,
                  processed_sizes: Mapping[str, int]
                  ) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Per-chromosome split of the default split and of each fold (names harmonised); each
    fold also keeps its config key (``split.folds[i]``) for error messages."""

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
    for i, fold in enumerate(fold_entries(split_cfg, processed_sizes, source)):
        key = f"split.folds[{i}]"
        folds.append({"name": fold["name"], "key": key,
                      "table": one(fold.get("valid", []), fold.get("test", []), key)})
    return default, folds


def _check_split(name: str, table: Mapping[str, str], processed: Sequence[str],
                 skipped: Mapping[str, str], source: str) -> None:
    """Every split (and fold) has processed chromosomes in valid, test and train."""
    for part in ("valid", "test"):
        dropped = [c for c, s in table.items() if s == part and c not in processed]
        if dropped:
            raise ConfigError(source, f"{name}.{part}",
                              f"{format_names(dropped)} excluded from preprocessing "
                              f"({skipped.get(dropped[0], '')})",
                              "list chromosomes that are processed, or stop excluding them")
        if not any(table[c] == part for c in processed):
            raise ConfigError(source, f"{name}.{part}", "no processed chromosome in this split",
                              "list at least one processed chromosome")
    if not any(table[c] == "train" for c in processed):
        raise ConfigError(source, name, "no chromosome left for training",
                          "leave some chromosomes out of valid and test")


def plan_chromosomes(genome_path: str | Path, params: PreprocessSettings,
                     split_cfg: Mapping[str, Any], source: str = "config") -> Chromosomes:
    """The chromosomes to process (``preprocess.chromosomes``/``exclude_chromosomes``) and splits.

    Raises
    ------
    ConfigError
        If no chromosome is left, or a split has none (naming the split key).
    """
    with Genome(genome_path) as genome:
        sizes = dict(genome.sizes)
        gformat = genome.format
    return choose_chromosomes(sizes, params, split_cfg, source, genome_path, gformat)


def choose_chromosomes(sizes: Mapping[str, int], params: PreprocessSettings,
                       split_cfg: Mapping[str, Any], source: str = "config",
                       genome_path: str | Path = "genome", genome_format: str = "") -> Chromosomes:
    """:func:`plan_chromosomes` for a genome given by its chromosome sizes (the start-up check
    runs it on the configured chromosomes, before any genome exists)."""
    sizes = dict(sizes)
    include = (resolve_names(params.chromosomes, list(sizes), source, "preprocess.chromosomes")
               if params.chromosomes else [])
    processed, skipped = filter_chromosomes(sizes, include, params.exclude_chromosomes)
    if not processed:
        raise ConfigError(source, "preprocess.exclude_chromosomes",
                          f"no chromosome of the genome is left ({format_names(sizes)})",
                          "loosen preprocess.chromosomes / exclude_chromosomes")
    check_safe_names(processed, genome_path)
    split, folds = _split_tables(split_cfg, list(sizes), source,
                                 {c: sizes[c] for c in processed})
    for key, table in [("split", split)] + [(f["key"], f["table"]) for f in folds]:
        _check_split(key, table, processed, skipped, source)
    return Chromosomes(sizes, genome_format, processed, skipped, split, folds)


# ----------------------------------------------------------------------------- bigWigs


def inspect_bigwigs(samples: Sequence[SampleInput], chroms: Chromosomes,
                    params: PreprocessSettings) -> tuple[list[dict[str, Any]], str]:
    """Header checks of every sample's bigWig, and the storage dtype of the signal.

    Returns
    -------
    tuple
        Per-sample records of the plan, and ``uint16`` (integral counts that fit) or the
        configured/``float32`` storage type.
    """
    info: list[dict[str, Any]] = []
    integral = True
    max_val = 0.0
    for s in samples:
        with BigWig(s.bigwig, chroms.sizes, negative=params.negative_signal) as bw:
            missing = [c for c in chroms.processed if not bw.has(c)]
            if missing:
                log.warning("%s: no data for %d processed chromosome(s) (%s); their signal "
                            "is 0", s.bigwig, len(missing), format_names(missing))
            max_val = max(max_val, float(bw.header.get("maxVal", 0.0)))
            if params.signal_dtype == "auto" and integral:
                integral = sample_is_integral(bw, chroms.processed, chroms.sizes)
            info.append({"name": s.name, "assay": s.assay, "cell_type": s.cell_type,
                         "bigwig": str(s.bigwig), "peaks": str(s.peaks),
                         "bigwig_names": bw.match.transform,
                         "bigwig_bases": int(sum(bw.file_chroms.values())),
                         "bigwig_missing_chromosomes": missing,
                         "bigwig_header": {k: float(v) for k, v in bw.header.items()}})
    dtype = params.signal_dtype
    if dtype == "auto":
        fits = max_val * params.profile_bin <= np.iinfo(np.uint16).max
        dtype = "uint16" if integral and fits else "float32"
    return info, dtype


# ----------------------------------------------------------------------------- peaks


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


def _peaks_on_genome(sample: SampleInput, df: pd.DataFrame, chroms: Chromosomes,
                     qc: dict[str, Any]) -> pd.DataFrame:
    """Peaks renamed onto the genome's names and restricted to processed chromosomes."""
    match = match_names(df["chrom"].unique().tolist(), list(chroms.sizes))
    if not df.empty:
        require_overlap(match, list(chroms.sizes), sample.peaks, "peak file")
    gname = df["chrom"].map(match.mapping)
    in_genome = gname.notna().to_numpy()
    qc["chrom_not_in_genome"] = int((~in_genome).sum())
    if qc["chrom_not_in_genome"]:
        log.warning("%s: %d peaks on chromosomes not in the genome (%s)", sample.peaks,
                    qc["chrom_not_in_genome"], format_names(match.unmatched))
    df = df[in_genome].assign(chrom=gname[in_genome])
    processed = df["chrom"].isin(chroms.index).to_numpy()
    qc["chrom_excluded"] = int((~processed).sum())
    return df[processed]


def _peaks_inside(sample: SampleInput, df: pd.DataFrame, sizes: Mapping[str, int],
                  qc: dict[str, Any]) -> pd.DataFrame:
    """Valid intervals, clipped at chromosome ends; past the ends dropped (or refused): the
    rule ingestion applies too (:func:`~seq2func.core.intervals.fit_to_chromosomes`)."""
    df, counts = fit_to_chromosomes(df, sizes, sample.peaks, what="peak")
    qc.update(counts)
    return df


def _top_peaks(df: pd.DataFrame, n: int | None, qc: dict[str, Any]) -> pd.DataFrame:
    """The ``n`` strongest peaks (all with ``n=None``), in file order."""
    qc["below_top_n"] = 0
    if n is not None and len(df) > n:
        top = np.argsort(-df["score"].to_numpy(), kind="stable")[:n]
        qc["below_top_n"] = len(df) - top.size
        df = df.iloc[np.sort(top)]
    return df


def read_sample_peaks(sample: SampleInput, chroms: Chromosomes, params: PreprocessSettings
                      ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One sample's checked peaks and the QC counts of each check (the peak fates)."""
    df = read_peaks(sample.peaks)
    qc: dict[str, Any] = {"peaks_in_file": len(df),
                          "summit_from_midpoint": int(df.attrs["summit_from_midpoint"])}
    if df.empty:
        if not params.allow_empty_peaks:
            raise InputError(sample.peaks, f"no peaks in the peak file of sample {sample.name!r}",
                             fix="check that peak calling succeeded; to keep the sample as a "
                                 "signal-only task set preprocess.allow_empty_peaks: true")
        log.warning("%s: empty peak file; sample %s has no positive labels", sample.peaks,
                    sample.name)
    df = _peaks_on_genome(sample, df, chroms, qc)
    df = _peaks_inside(sample, df, chroms.sizes, qc)
    df = _top_peaks(df, params.max_peaks_per_sample, qc)
    widths = (df["end"] - df["start"]).to_numpy()
    qc["after_checks"] = len(df)
    qc["width_hist"] = _width_histogram(widths)
    qc["median_width"] = float(np.median(widths)) if widths.size else None
    return df, qc


def collect_summits(samples: Sequence[SampleInput], chroms: Chromosomes,
                    params: PreprocessSettings
                    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Every sample's checked peaks as arrays sorted by chromosome and start, with their QC."""
    cols: dict[str, list[np.ndarray]] = {k: [] for k in PEAK_COLUMNS}
    peak_qc: dict[str, dict[str, Any]] = {}
    index = chroms.index
    for t, s in enumerate(samples):
        df, peak_qc[s.name] = read_sample_peaks(s, chroms, params)
        cols["chrom"].append(df["chrom"].map(index).to_numpy(dtype=np.int32))
        cols["start"].append(df["start"].to_numpy(dtype=np.int64))
        cols["end"].append(df["end"].to_numpy(dtype=np.int64))
        cols["summit"].append(df["summit"].to_numpy(dtype=np.int64))
        cols["sample"].append(np.full(len(df), t, dtype=np.int16))
        cols["score"].append(_rank_scores(df["score"].to_numpy(dtype=np.float64)))
    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.lexsort((arrays["start"], arrays["chrom"]))
    return {k: v[order] for k, v in arrays.items()}, peak_qc


def read_blacklist(blacklist: str | Path | None, chroms: Chromosomes) -> dict[str, np.ndarray]:
    """Blacklisted intervals on processed chromosomes (``bl_chrom``, ``bl_start``, ``bl_end``)."""
    bl = read_bed_intervals(blacklist)
    match = match_names(bl["chrom"].unique().tolist(), list(chroms.sizes))
    if not bl.empty:
        require_overlap(match, list(chroms.sizes), str(blacklist), "blacklist")
    bl = bl.assign(chrom=bl["chrom"].map(match.mapping))
    bl = bl[bl["chrom"].isin(chroms.index)]
    return {"bl_chrom": bl["chrom"].map(chroms.index).to_numpy(dtype=np.int32),
            "bl_start": bl["start"].to_numpy(dtype=np.int64),
            "bl_end": bl["end"].to_numpy(dtype=np.int64)}


# ----------------------------------------------------------------------------- the plan


def _check_unique(samples: Sequence[SampleInput]) -> None:
    names = [s.name for s in samples]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError("samples table", f"duplicate sample name(s): {', '.join(dup)}",
                         fix="give every sample a unique name")


def make_plan(genome_path: str | Path, samples: Sequence[SampleInput],
              params: PreprocessSettings, split_cfg: Mapping[str, Any], outdir: str | Path,
              blacklist: str | Path | None = None, study: str = "study",
              config_source: str = "config") -> dict[str, Any]:
    """Check all inputs and write the scatter plan (see module docstring).

    Returns
    -------
    dict
        The plan (also written to ``outdir/plan.json``).
    """
    _check_unique(samples)
    chroms = plan_chromosomes(genome_path, params, split_cfg, config_source)
    sample_info, signal_dtype = inspect_bigwigs(samples, chroms, params)
    arrays, peak_qc = collect_summits(samples, chroms, params)
    arrays.update(read_blacklist(blacklist, chroms))
    keep = chroms.processed
    try:
        jobs = group_chromosomes(keep, chroms.sizes, params.group_bases)
    except ValueError as exc:
        raise ConfigError(config_source, "preprocess.group_bases", str(exc),
                          "choose another group_bases") from None
    plan = {
        "plan_version": PLAN_VERSION,
        "study": study,
        "params": asdict(params),
        "genome": {"path": str(genome_path), "format": chroms.genome_format},
        "chromosomes": keep,
        "sizes": {c: chroms.sizes[c] for c in keep},
        "jobs": jobs,
        "skipped_chromosomes": chroms.skipped,
        "split": {c: chroms.split[c] for c in keep},
        "folds": [{"name": f["name"], "split": {c: f["table"][c] for c in keep}}
                  for f in chroms.folds],
        "samples": sample_info,
        "signal_dtype": signal_dtype,
        "blacklist": None if blacklist is None else str(blacklist),
        "blacklist_intervals": int(arrays["bl_chrom"].size),
        "peak_qc": peak_qc,
    }
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with atomic_output(outdir / "summits.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    write_text_atomic(outdir / "plan.json", json.dumps(plan, indent=1) + "\n")
    log.info("plan: %d chromosomes, %d samples, %d peaks after checks, signal stored as %s",
             len(keep), len(samples), int(arrays["sample"].size), signal_dtype)
    return plan


def load_plan(plan_dir: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read ``plan.json`` and ``summits.npz``.

    Raises
    ------
    InputError
        If either is missing or damaged (naming the file; the fix reruns the plan).
    """
    import zipfile

    plan_dir = Path(plan_dir)
    fix = "delete it and rerun preprocessing (snakemake reruns preprocess_plan)"
    path = plan_dir / "plan.json"
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(plan, dict) or "chromosomes" not in plan:
            raise ValueError("not a preprocessing plan")
        path = plan_dir / "summits.npz"
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError as exc:
        raise InputError(path, "preprocessing plan file not found", fix=fix) from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(path, f"damaged preprocessing plan file ({exc})", fix=fix) from exc
    return plan, arrays
