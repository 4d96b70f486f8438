"""Observed targets and every model's predictions on the regions of one split.

Every model is scored on the same regions: the rows of ``Dataset(dir).regions(split)`` (peaks
and GC-matched background of the held-out chromosomes), in that order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.io import load_npz
from seq2func.dataset import Dataset, DatasetMeta, iter_numpy


@dataclass
class SplitScores:
    """Observed targets and every model's predictions for the regions of one split.

    ``labels``/``log_counts`` are ``(n, T)``; ``label_scores``/``count_preds`` map a model name
    to an ``(n, T)`` array.
    """

    tasks: list[str]
    regions: pd.DataFrame
    labels: np.ndarray
    log_counts: np.ndarray
    label_scores: dict[str, np.ndarray] = field(default_factory=dict)
    count_preds: dict[str, np.ndarray] = field(default_factory=dict)
    profiles: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def save(self, path: str | Path) -> None:
        """Write the observed targets and predictions as a compressed ``.npz`` (no profiles).

        Keys: ``region_id``, ``chrom``, ``source``, ``tasks``, ``labels``, ``log_counts``,
        ``label_models`` + ``label_scores`` ``(M, n, T)``, ``count_models`` + ``count_preds``.
        """
        from seq2func.core.io import atomic_output

        n, t = self.labels.shape
        arrays = {
            "region_id": self.regions["region_id"].to_numpy(),
            "chrom": self.regions["chrom"].to_numpy().astype(str),
            "source": self.regions["source"].to_numpy().astype(str),
            "tasks": np.array(self.tasks, dtype=str),
            "labels": self.labels.astype(np.uint8),
            "log_counts": self.log_counts.astype(np.float32),
            "label_models": np.array(list(self.label_scores), dtype=str),
            "label_scores": (np.stack(list(self.label_scores.values())).astype(np.float32)
                             if self.label_scores else np.zeros((0, n, t), np.float32)),
            "count_models": np.array(list(self.count_preds), dtype=str),
            "count_preds": (np.stack(list(self.count_preds.values())).astype(np.float32)
                            if self.count_preds else np.zeros((0, n, t), np.float32)),
        }
        with atomic_output(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def load_scores(path: str | Path) -> SplitScores:
    """Read a file written by :meth:`SplitScores.save`."""
    z = load_npz(path, ("region_id", "tasks", "labels", "label_scores"))
    regions = pd.DataFrame({"region_id": z["region_id"], "chrom": z["chrom"],
                            "source": z["source"]})
    return SplitScores(
        tasks=[str(t) for t in z["tasks"]], regions=regions, labels=z["labels"],
        log_counts=z["log_counts"],
        label_scores={str(m): z["label_scores"][i] for i, m in enumerate(z["label_models"])},
        count_preds={str(m): z["count_preds"][i] for i, m in enumerate(z["count_models"])})


# --------------------------------------------------------------------------- inputs


def read_split(dataset_dir: str | Path, split: str, with_profile: bool = False,
               fold: str | None = None
               ) -> tuple[DatasetMeta, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray,
                          np.ndarray | None]:
    """Metadata, regions, codes, labels, log counts (and profiles) of a split (of the default
    split, or of ``fold``), centred.

    Rows follow ``Dataset(dataset_dir).regions(split, fold)``.
    """
    ds = Dataset(dataset_dir)
    parts: dict[str, list] = {"regions": [], "codes": [], "labels": [], "log_counts": [],
                              "profile": []}
    for piece in iter_numpy(ds, split, with_profile=with_profile, fold=fold):
        if not len(piece.regions):
            continue
        parts["regions"].append(piece.regions)
        parts["codes"].append(piece.codes)
        parts["labels"].append(piece.labels)
        parts["log_counts"].append(piece.log_counts)
        if with_profile:
            parts["profile"].append(piece.profile)
    if not parts["regions"]:
        raise InputError(Path(dataset_dir) / "regions.tsv.gz", f"split {split!r} has no regions",
                         fix="check the split: chromosomes in the config")
    regions = pd.concat(parts["regions"], ignore_index=True)
    profile = np.concatenate(parts["profile"]) if with_profile else None
    return (ds.meta, regions, np.concatenate(parts["codes"]), np.concatenate(parts["labels"]),
            np.concatenate(parts["log_counts"]), profile)


def load_model_predictions(paths: Mapping[str, Sequence[str | Path]], region_ids: np.ndarray
                           ) -> dict[str, dict[str, np.ndarray]]:
    """Per-seed and seed-ensemble predictions of deep models, aligned to ``region_ids``.

    Parameters
    ----------
    paths
        Model name -> prediction files of its seeds (``.../<model>/seed<k>/<split>.npz``).
    region_ids
        The split's region ids, in the order the evaluation uses.

    Returns
    -------
    dict
        ``<model>/seed<k>`` and ``<model>`` (mean over seeds) -> ``{output: array}``.
    """
    out: dict[str, dict[str, np.ndarray]] = {}
    for model, files in paths.items():
        seeds = []
        for f in files:
            z = load_npz(f, ("region_id",))
            if not np.array_equal(z["region_id"], region_ids):
                raise InputError(f, "region ids differ from the dataset split",
                                 fix="rerun predict-accessibility on the current dataset")
            seed = Path(f).parent.name  # seed<k>
            pred = {k: np.asarray(v, dtype=np.float64) for k, v in z.items() if k != "region_id"}
            out[f"{model}/{seed}"] = pred
            seeds.append(pred)
        if not seeds:
            continue
        out[model] = {k: np.mean([s[k] for s in seeds], axis=0) for k in seeds[0]}
    return out
