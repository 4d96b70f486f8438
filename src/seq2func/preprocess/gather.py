"""The gather: per-chromosome shards and the jobs' statistics -> one training set.

:func:`gather` concatenates the shards' region columns, computes the clipping thresholds on the
training regions, writes ``regions.tsv.gz``, ``dataset.json``
(:class:`~seq2func.dataset.DatasetMeta`) and the QC table.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.io import file_checksum, write_text_atomic, write_tsv_atomic, write_tsv_gz_atomic
from seq2func.dataset import SPLITS, DatasetMeta, Fold, Geometry, ShardInfo
from seq2func.preprocess.histogram import HIST_BINS, hist_quantile
from seq2func.preprocess.jobs import plan_jobs
from seq2func.preprocess.plan import load_plan
from seq2func.preprocess.settings import PreprocessSettings

log = logging.getLogger(__name__)


def stats_paths(dataset_dir: str | Path, jobs: Sequence[str]) -> list[Path]:
    """Where the preprocessing jobs write their statistics (``chroms/<job>.stats.json``)."""
    return [Path(dataset_dir) / "chroms" / f"{j}.stats.json" for j in jobs]


def shard_dir(dataset_dir: str | Path, job: str) -> Path:
    """Where a job's shards go by default (``shards/<job>/``, one ``<chrom>.h5`` each)."""
    return Path(dataset_dir) / "shards" / job


def shard_path(dataset_dir: str | Path, chrom: str, job: str | None = None) -> Path:
    """Where a chromosome's shard goes by default (``shards/<job>/<chrom>.h5``; without a job
    ``shards/<chrom>.h5``, the layout of ``preprocess-chrom`` jobs)."""
    base = Path(dataset_dir) / "shards"
    return (base if job is None else base / job) / f"{chrom}.h5"


def _chromosome_entries(st: Any, path: str | Path) -> list[dict[str, Any]]:
    """The per-chromosome statistics of a file: a job's (``chromosomes``) or one chromosome's."""
    if isinstance(st, dict) and isinstance(st.get("chromosomes"), list):
        entries = st["chromosomes"]
    elif isinstance(st, dict) and "chrom" in st:
        entries = [st]
    else:
        raise InputError(path, "not the statistics of a preprocessing job",
                         fix="rerun that preprocessing job")
    if not all(isinstance(e, dict) and "chrom" in e for e in entries):
        raise InputError(path, "a chromosome entry lacks its name",
                         fix="rerun that preprocessing job")
    return entries


def read_stats(paths: Sequence[str | Path], plan: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The statistics of every planned chromosome (each names its shard), by chromosome.

    Each file holds a job's statistics (``{"job": ..., "chromosomes": [...]}``) or one
    chromosome's (written by ``preprocess-chrom``).

    Raises
    ------
    InputError
        If a file is missing or unreadable, a planned chromosome has none or more than one, or
        a shard is missing.
    """
    stats: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            st = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(path, f"cannot read the job's statistics ({exc})",
                             fix="rerun that preprocessing job") from exc
        for entry in _chromosome_entries(st, path):
            if entry["chrom"] in stats:
                raise InputError(path, f"statistics of {entry['chrom']} given twice",
                                 fix="pass each preprocessing job's statistics once")
            stats[entry["chrom"]] = entry
    for chrom in plan["chromosomes"]:
        if chrom not in stats:
            raise InputError(f"statistics of {chrom}", "missing for a planned chromosome",
                             fix=f"rerun the preprocessing job of {chrom}")
        if not Path(stats[chrom]["shard"]).is_file():
            raise InputError(stats[chrom]["shard"], "shard missing",
                             fix=f"rerun the preprocessing job of {chrom}")
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


def _region_table(plan: Mapping[str, Any], stats: Mapping[str, Mapping[str, Any]],
                  shards: Mapping[str, str], geo: Geometry) -> pd.DataFrame:
    """Every shard's regions, with windows, shard, split and fold columns, in plan order."""
    tasks = [s["name"] for s in plan["samples"]]
    frames = []
    for chrom in plan["chromosomes"]:
        df = _shard_table(Path(stats[chrom]["shard"]), tasks, chrom)
        df.insert(1, "start", df["centre"] - geo.input_length // 2)
        df.insert(2, "end", df["centre"] - geo.input_length // 2 + geo.input_length)
        df["shard"] = shards[chrom]
        df["split"] = plan["split"][chrom]
        for f in plan["folds"]:
            df[f"split_{f['name']}"] = f["split"][chrom]
        frames.append(df)
    regions = pd.concat(frames, ignore_index=True)
    regions.insert(0, "region_id", np.arange(len(regions)))
    return regions


def _clipping(regions: pd.DataFrame, stats: Mapping[str, Mapping[str, Any]],
              tasks: Sequence[str], params: PreprocessSettings) -> dict[str, Any]:
    """Clip thresholds of counts and profile bins on training regions; adds ``log_counts_*``."""
    train = regions["split"] == "train"
    clip_counts: dict[str, float | None] = {}
    clip_signal: dict[str, float | None] = {}
    q, qs = params.counts_clip_quantile, params.profile_clip_quantile
    for t in tasks:
        vals = regions.loc[train, f"counts_{t}"].to_numpy(dtype=np.float64)
        clip_counts[t] = (float(np.quantile(vals, q)) if q is not None and q < 1 and vals.size
                          else None)
        hist = np.zeros(HIST_BINS, dtype=np.int64)
        for st in stats.values():
            for k, c in st["profile_hist"][t].items():
                hist[int(k)] += c
        clip_signal[t] = hist_quantile(hist, qs) if qs is not None and qs < 1 else None
        c = regions[f"counts_{t}"].to_numpy(dtype=np.float64)
        if clip_counts[t] is not None:
            c = np.minimum(c, clip_counts[t])
        regions[f"log_counts_{t}"] = np.log1p(c).astype(np.float32)
    return {"counts_quantile": q, "counts": clip_counts, "signal_quantile": qs,
            "signal": clip_signal, "computed_on": "train regions (default split)"}


def _tidy(regions: pd.DataFrame, tasks: Sequence[str], folds: Sequence[Mapping[str, Any]]
          ) -> pd.DataFrame:
    """Columns in their documented order, numbers rounded for a compact table."""
    first = ["region_id", "chrom", "start", "end", "centre", "split"]
    first += [f"split_{f['name']}" for f in folds]
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
    return regions


def _split_summary(regions: pd.DataFrame, tasks: Sequence[str]
                   ) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Regions per split and source, and positive labels per split and task."""
    n_regions: dict[str, int] = {}
    positives: dict[str, dict[str, int]] = {}
    for part in SPLITS:
        sub = regions[regions["split"] == part]
        n_regions[part] = len(sub)
        n_regions[f"{part}_peak"] = int((sub["source"] == "peak").sum())
        n_regions[f"{part}_background"] = int((sub["source"] == "background").sum())
        positives[part] = {t: int(sub[f"label_{t}"].sum()) for t in tasks}
    n_regions["total"] = len(regions)
    return n_regions, positives


def _relative_shard(path: str | Path, ddir: Path) -> str:
    """A shard's path relative to the dataset directory (it must lie inside it)."""
    rel = os.path.relpath(Path(path).resolve(), ddir.resolve())
    if rel.startswith(".."):
        raise InputError(path, "the shard lies outside the dataset directory",
                         fix=f"write shards under {ddir}")
    return Path(rel).as_posix()


def gather(plan_dir: str | Path, dataset_dir: str | Path, qc_table: str | Path | None = None,
           stats_files: Sequence[str | Path] | None = None) -> DatasetMeta:
    """Combine per-chromosome outputs into ``regions.tsv.gz``, ``dataset.json`` and QC.

    Parameters
    ----------
    plan_dir
        Directory of ``plan.json``.
    dataset_dir
        The dataset directory (shards must lie inside it).
    qc_table
        Where to write the per-sample QC table (None: not written).
    stats_files
        The statistics written by :func:`~seq2func.preprocess.chrom.process_job` for every
        planned job (or by :func:`~seq2func.preprocess.chrom.process_chromosome` per
        chromosome; each chromosome names its shard); default: :func:`stats_paths` of the
        plan's jobs.
    """
    plan, _ = load_plan(plan_dir)
    params = PreprocessSettings.from_config(plan["params"])
    ddir = Path(dataset_dir)
    tasks = [s["name"] for s in plan["samples"]]
    jobs = [j["name"] for j in plan_jobs(plan)]
    stats = read_stats(stats_files or stats_paths(ddir, jobs), plan)
    shards = {c: _relative_shard(stats[c]["shard"], ddir) for c in plan["chromosomes"]}
    geo = params.geometry
    regions = _region_table(plan, stats, shards, geo)
    clipping = _clipping(regions, stats, tasks, params)
    regions = _tidy(regions, tasks, plan["folds"])
    ddir.mkdir(parents=True, exist_ok=True)
    write_tsv_gz_atomic(ddir / "regions.tsv.gz", regions, level=1)

    def split_lists(table: Mapping[str, str]) -> dict[str, list[str]]:
        return {p: [c for c in plan["chromosomes"] if table[c] == p] for p in SPLITS}

    n_regions, positives = _split_summary(regions, tasks)
    infos = tuple(ShardInfo(chrom=c, path=shards[c], split=plan["split"][c],
                            n_regions=int(stats[c]["n_regions"]),
                            signal_dtype=stats[c]["signal_dtype"], md5=stats[c]["shard_md5"])
                  for c in plan["chromosomes"])
    meta = DatasetMeta(
        study=plan["study"], tasks=tuple(tasks),
        samples=[{k: s[k] for k in ("name", "assay", "cell_type", "bigwig", "peaks")}
                 for s in plan["samples"]],
        genome=plan["genome"], geometry=geo, merge_distance=params.merge_distance,
        clipping=clipping, split=split_lists(plan["split"]),
        folds=tuple(Fold(f["name"], split_lists(f["split"])) for f in plan["folds"]),
        n_regions=n_regions, positives=positives, shards=infos,
        checksums={"regions.tsv.gz": file_checksum(ddir / "regions.tsv.gz"),
                   **{s.path: s.md5 for s in infos}},
        params=plan["params"])
    if qc_table is not None:
        from seq2func.preprocess.qc import qc_table as make_qc

        write_tsv_atomic(qc_table, make_qc(plan, stats, regions), float_format="%.6g")
    write_text_atomic(ddir / "dataset.json", json.dumps(meta.to_json(), indent=1) + "\n")
    log.info("dataset: %d regions (train %d, valid %d, test %d)", n_regions["total"],
             n_regions["train"], n_regions["valid"], n_regions["test"])
    return meta
