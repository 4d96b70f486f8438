"""Out-of-fold predictions: each region, or any window, predicted only by fold models that held
its chromosome out.

A run trained on a fold (``accessibility.folds``) records the fold in its ``run.json``; the
fold's test chromosomes are in the dataset (``split.folds``). A region is predicted by the
seed ensemble of every fold whose test set holds its chromosome (averaged over those folds if
several do; with automatic folds exactly one does), on both strands. Such predictions are
honest features for a downstream model trained on any chromosome (the expression stage's
cross-fitted predicted chromatin) and an honest genome-wide evaluation. Regions on chromosomes
no fold holds out get NaN and an empty ``fold``.

TensorFlow is imported only after :func:`~seq2func.train.runtime.configure_runtime`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.dataset.meta import Dataset, DatasetMeta

log = logging.getLogger(__name__)

#: outputs kept (per-base profiles of every region would be large and are not what
#: out-of-fold predictions are for)
OUTPUTS = ("labels", "log_counts")


def runs_by_fold(model_paths: Sequence[str | Path]) -> dict[str, list[str]]:
    """Model files grouped by the fold their ``run.json`` (next to each file) names.

    Raises
    ------
    InputError
        If a run record is missing or names no fold (a run on the default split).
    """
    out: dict[str, list[str]] = {}
    for path in model_paths:
        record = Path(path).parent / "run.json"
        try:
            fold = json.loads(record.read_text())["config"].get("fold")
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(record, f"cannot read the run record of {path} ({exc})",
                             fix="give model files of fold runs (train-accessibility --fold)"
                             ) from None
        if not fold:
            raise InputError(record, f"{path} was trained on the default split, not a fold",
                             fix="give the runs of accessibility.folds "
                                 "(.../folds/<fold>/seed<k>/model.keras)")
        out.setdefault(str(fold), []).append(str(path))
    return out


def held_out_by(meta: DatasetMeta, folds: Sequence[str]) -> dict[str, list[str]]:
    """Chromosome -> the ``folds`` whose test set holds it (chromosomes of no fold omitted).

    Raises
    ------
    KeyError
        If a fold is not in the dataset.
    """
    out: dict[str, list[str]] = {}
    for fold in folds:
        for chrom in meta.fold(fold).split.get("test", []):
            out.setdefault(chrom, []).append(fold)
    return out


class _Accumulator:
    """Sums of predictions and how many folds contributed, per row."""

    def __init__(self, n: int, n_tasks: int) -> None:
        self.sums = {k: np.zeros((n, n_tasks)) for k in OUTPUTS}
        self.count = np.zeros(n, dtype=np.int64)
        self.folds: list[list[str]] = [[] for _ in range(n)]
        self.seen: set[str] = set()

    def add(self, rows: np.ndarray, pred: Mapping[str, np.ndarray], fold: str) -> None:
        for k in OUTPUTS:
            if k in pred:
                self.sums[k][rows] += np.asarray(pred[k], dtype=np.float64)
                self.seen.add(k)
        self.count[rows] += 1
        for r in rows:
            self.folds[int(r)].append(fold)

    def result(self) -> dict[str, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            out = {k: (self.sums[k] / self.count[:, None]).astype(np.float32)
                   for k in OUTPUTS if k in self.seen}
        out["fold"] = np.array(["+".join(f) for f in self.folds])
        return out


def predict_regions(model_paths: Sequence[str | Path], dataset_dir: str | Path,
                    batch_size: int = 256) -> dict[str, np.ndarray]:
    """Out-of-fold predictions of every region of the dataset.

    Returns
    -------
    dict
        ``region_id`` (every region, in ``regions.tsv.gz`` order), ``fold`` (the folds that
        predicted it, ``+``-joined; empty: none) and the models' ``labels`` probabilities
        and/or ``log_counts``, ``(n, tasks)`` float32 (NaN where no fold held it out).
    """
    from seq2func.core.sequence import one_hot
    from seq2func.dataset import iter_numpy
    from seq2func.models.ensemble import load_ensemble
    from seq2func.models.predict import predict_both_strands

    ds = Dataset(dataset_dir)
    regions = ds.regions()
    index = pd.Series(np.arange(len(regions)), index=regions["region_id"].to_numpy())
    acc = _Accumulator(len(regions), ds.meta.n_tasks)
    for fold, paths in sorted(runs_by_fold(model_paths).items()):
        model = load_ensemble(paths)
        n = 0
        for piece in iter_numpy(ds, "test", fold=fold, with_profile=False):
            if not len(piece.regions):
                continue
            rows = index.loc[piece.regions["region_id"].to_numpy()].to_numpy()
            acc.add(rows, predict_both_strands(model, one_hot(piece.codes), batch_size), fold)
            n += rows.size
        log.info("fold %s (%d runs): %d test regions", fold, len(paths), n)
    out = {"region_id": regions["region_id"].to_numpy(), **acc.result()}
    missing = int((out["fold"] == "").sum())
    if missing:
        log.warning("%d regions lie on chromosomes no fold holds out: NaN", missing)
    return out


def read_windows(path: str | Path) -> pd.DataFrame:
    """chrom, start, end and name (the BED name column, else ``chrom:start-end``) of a BED
    file of windows, in file order (coordinates checked as peak files are)."""
    from seq2func.core.intervals import data_lines, read_peaks

    df = read_peaks(path).sort_values("line", kind="stable").reset_index(drop=True)
    lines, numbers = data_lines(path)
    fourth = {n: [*line.split("\t"), "", "", "", ""][3].strip()
              for line, n in zip(lines, numbers, strict=True)}
    out = df[["chrom", "start", "end"]].copy()
    default = out["chrom"] + ":" + out["start"].astype(str) + "-" + out["end"].astype(str)
    names = df["line"].map(fourth).fillna("")
    out["name"] = np.where(names.str.len() > 0, names, default)
    return out


def predict_windows(model_paths: Sequence[str | Path], dataset_dir: str | Path,
                    windows: pd.DataFrame, genome: str | Path, batch_size: int = 256
                    ) -> pd.DataFrame:
    """Out-of-fold predictions of arbitrary windows, each centred to the models' input.

    Parameters
    ----------
    model_paths
        The fold runs' ``model.keras``.
    dataset_dir
        The dataset the runs were trained on (its folds and geometry).
    windows
        ``chrom``, ``start``, ``end``, ``name`` (:func:`read_windows`).
    genome
        The genome FASTA (or 2bit).

    Returns
    -------
    pandas.DataFrame
        The windows, ``fold`` and one column per output and task (``labels_<task>``,
        ``log_counts_<task>``), NaN for windows on chromosomes no fold holds out.
    """
    from seq2func.core.sequence import Genome, extract_windows, one_hot
    from seq2func.models.ensemble import load_ensemble
    from seq2func.models.predict import predict_both_strands

    ds = Dataset(dataset_dir)
    length = ds.geometry.input_length
    by_fold = runs_by_fold(model_paths)
    held = held_out_by(ds.meta, sorted(by_fold))
    acc = _Accumulator(len(windows), ds.meta.n_tasks)
    centres = ((windows["start"].to_numpy() + windows["end"].to_numpy()) // 2).astype(np.int64)
    models: dict[str, Any] = {}
    with Genome(genome) as g:
        for chrom, rows in windows.groupby("chrom", sort=False).indices.items():
            folds = held.get(str(chrom), [])
            if not folds:
                continue
            codes = g.codes(str(chrom))
            x = one_hot(extract_windows(codes, centres[rows] - length // 2, length))
            for fold in folds:
                if fold not in models:
                    models[fold] = load_ensemble(by_fold[fold])
                acc.add(np.asarray(rows), predict_both_strands(models[fold], x, batch_size),
                        fold)
    result = acc.result()
    out = windows.reset_index(drop=True).copy()
    out["fold"] = result.pop("fold")
    for key, values in result.items():
        for i, task in enumerate(ds.tasks):
            out[f"{key}_{task}"] = values[:, i]
    missing = int((out["fold"] == "").sum())
    if missing:
        log.warning("%d of %d windows lie on chromosomes no fold holds out: NaN", missing,
                    len(out))
    return out


def run_out_of_fold(model_paths: Sequence[str | Path], dataset_dir: str | Path, *,
                    out: str | Path | None = None, windows: str | Path | None = None,
                    genome: str | Path | None = None, windows_out: str | Path | None = None,
                    threads: int = 0, batch_size: int = 256) -> None:
    """``predict-out-of-fold``: the dataset's regions (``out``) and/or windows, written
    atomically with provenance.

    Raises
    ------
    InputError
        Without an output, or with ``windows`` but no ``genome``/``windows_out``.
    """
    from seq2func.core.io import atomic_output
    from seq2func.core.provenance import write_provenance
    from seq2func.train.runtime import configure_runtime

    if out is None and windows is None:
        raise InputError("predict-out-of-fold", "nothing to predict",
                         fix="give --out (every region) and/or --windows with --windows-out")
    if windows is not None and (genome is None or windows_out is None):
        raise InputError(windows, "--windows needs --genome and --windows-out",
                         fix="add --genome <fasta> --windows-out <tsv>")
    device = configure_runtime(seed=0, deterministic=True, threads=threads)
    inputs = [*model_paths, Path(dataset_dir) / "dataset.json"]
    if out is not None:
        pred = predict_regions(model_paths, dataset_dir, batch_size)
        with atomic_output(out) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **pred)
        write_provenance(out, step="predict-out-of-fold", inputs=inputs,
                         device=device.description,
                         extra={"n_regions": int(pred["region_id"].size),
                                "folds": sorted(runs_by_fold(model_paths))})
    if windows is not None:
        assert genome is not None and windows_out is not None
        table = predict_windows(model_paths, dataset_dir, read_windows(windows), genome,
                                batch_size)
        with atomic_output(windows_out) as tmp:
            table.to_csv(tmp, sep="\t", index=False, float_format="%.6g", na_rep="NaN",
                         compression="gzip" if str(windows_out).endswith(".gz") else None)
        write_provenance(windows_out, step="predict-out-of-fold",
                         inputs=[*inputs, windows, genome], device=device.description,
                         extra={"n_windows": len(table)})
