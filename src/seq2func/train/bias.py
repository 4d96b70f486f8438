"""The enzyme-bias model of a ``chrombpnet`` model: training data, groups, training.

ChromBPNet trains its bias model on background regions (no peak) whose counts are below
``threshold_factor`` x the 1% quantile of the peak counts, so that almost all of their cuts
are enzyme preference rather than accessibility (chrombpnet ``find_bias_hyperparams.py``;
factor 0.5 for ATAC, 0.8 for DNase). A region is kept here when it is below the threshold of
every task. Each bias head serves a *group* of tasks (a sample, or an assay: see
:class:`~seq2func.models.specs.BiasSpec`); a group's targets are its tasks' counts summed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seq2func.core.errors import InputError
from seq2func.dataset import Dataset
from seq2func.train.loop import fit
from seq2func.train.runtime import configure_runtime
from seq2func.train.settings import AccessibilityTrainSettings

if TYPE_CHECKING:
    from seq2func.models.specs import BiasSpec, ModelSpec

log = logging.getLogger(__name__)

#: what the bias model's run record calls its heads and the tasks they were trained on
GROUPS_KEY = "bias_groups"


@dataclass(frozen=True)
class BiasGroups:
    """The bias heads of a dataset: their names and each task's head.

    Attributes
    ----------
    names
        One name per head (a sample name, or an assay).
    of_task
        For each task of the dataset, the index of its head.
    """

    names: tuple[str, ...]
    of_task: tuple[int, ...]

    @classmethod
    def of(cls, ds: Dataset, group_by: str) -> BiasGroups:
        """Groups by ``sample`` (one per task) or by ``assay``."""
        if group_by == "sample":
            return cls(tuple(ds.tasks), tuple(range(len(ds.tasks))))
        assays = [str(s["assay"]).upper() for s in ds.meta.samples]
        names = tuple(dict.fromkeys(assays))
        return cls(names, tuple(names.index(a) for a in assays))

    def pooled(self) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
        """Targets of the tasks -> targets of the heads: profiles summed, counts re-logged."""
        index = np.asarray(self.of_task)
        n = len(self.names)

        def pool(y: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            out = {}
            if "profile" in y:
                prof = y["profile"]
                out["profile"] = np.stack([prof[..., index == g].sum(axis=-1)
                                           for g in range(n)], axis=-1).astype(np.float32)
            if "log_counts" in y:
                counts = np.expm1(y["log_counts"].astype(np.float64))
                out["log_counts"] = np.log1p(np.stack([counts[:, index == g].sum(axis=1)
                                                       for g in range(n)], axis=1)
                                             ).astype(np.float32)
            return out

        return pool


def background_for_bias(ds: Dataset, spec: BiasSpec, fold: str | None = None
                        ) -> tuple[np.ndarray, dict[str, Any]]:
    """Regions that train the bias model: background below every task's count threshold
    (thresholds from the training peaks of the default split or of ``fold``).

    Returns
    -------
    tuple
        A boolean over the rows of ``regions.tsv.gz``, and the thresholds and counts (for
        the run record).

    Raises
    ------
    InputError
        If a task has no training peak (no threshold) or no background region is left.
    """
    regions = ds.regions()
    split = regions[ds.meta.split_column(fold)]
    train = (split == "train").to_numpy()
    keep = np.array(regions["source"] == "background", dtype=bool)
    thresholds = {}
    for task, sample in zip(ds.tasks, ds.meta.samples, strict=True):
        counts = regions[f"counts_{task}"].to_numpy(dtype=np.float64)
        peaks = counts[train & (regions[f"is_peak_{task}"] == 1).to_numpy()]
        if peaks.size == 0:
            raise InputError(ds.metadata_path, f"task {task!r} has no training peaks, so no "
                             "count threshold for its bias model",
                             fix="give the sample peaks, or leave it out of chrombpnet models")
        thresholds[task] = float(np.quantile(peaks, 0.01) * spec.factor(str(sample["assay"])))
        keep &= counts < thresholds[task]
    n = {part: int((keep & (split == part).to_numpy()).sum())
         for part in ("train", "valid")}
    if min(n.values()) == 0:
        raise InputError(ds.metadata_path, f"no background region is below the bias count "
                         f"thresholds {thresholds} in the train or valid split (kept: {n})",
                         fix="raise bias.threshold_factor, or preprocess.background_ratio")
    return keep, {"thresholds": thresholds, "regions": n}


def train_bias(dataset_dir: str | Path, spec: ModelSpec, settings: AccessibilityTrainSettings,
               seed: int, outdir: str | Path, threads: int = 0, fold: str | None = None
               ) -> dict[str, Any]:
    """Train the bias model of a ``chrombpnet`` model on low-count background.

    Parameters
    ----------
    dataset_dir
        The preprocessed dataset.
    spec
        The ``chrombpnet`` entry (its ``bias`` sizes and data settings).
    settings
        Optimisation settings (``max_epochs`` taken from ``bias.max_epochs``).
    seed
        Replicate seed.
    outdir
        Where ``model.keras``, ``history.tsv``, ``run.json`` and ``checkpoints/`` go.
    threads
        CPU threads for TensorFlow.
    fold
        Train on this fold of the dataset (``split.folds``) instead of the default split.

    Returns
    -------
    dict
        The run record; its ``bias_groups`` names the heads and the tasks they serve.
    """
    bias = spec.sizes.bias
    settings = dataclasses.replace(settings, max_epochs=bias.max_epochs)
    device = configure_runtime(seed, settings.deterministic, threads, settings.mixed_precision)
    import keras

    from seq2func.dataset import make_tf_dataset, selection
    from seq2func.models.chrombpnet import build_bias_model
    from seq2func.models.layers import MultinomialNLL

    ds = Dataset(dataset_dir)
    geo = ds.geometry
    groups = BiasGroups.of(ds, bias.group_by)
    keep, chosen = background_for_bias(ds, bias, fold)
    pooled = groups.pooled()
    rows = ds.regions()
    counts = np.expm1(rows[ds.columns("log_counts")].to_numpy(np.float64))
    group_counts = np.expm1(pooled({"log_counts": np.log1p(counts).astype(np.float32)})
                            ["log_counts"].astype(np.float64))
    train_rows = keep & (rows[ds.meta.split_column(fold)] == "train").to_numpy()
    mean_log = np.log1p(group_counts[train_rows]).mean(axis=0).tolist()
    weight = float(max(np.median(group_counts[train_rows]) / 10.0, 1.0))  # ChromBPNet's rule
    select = selection(ds, keep)
    batch = device.global_batch(settings.batch_size)

    def data(split: str, epoch: int | None) -> Any:
        training = epoch is not None
        return make_tf_dataset(
            ds, split, batch, shuffle=training,
            jitter=training and settings.jitter,
            reverse_complement=training and settings.reverse_complement,
            seed=seed * 100_003 + (epoch or 0), targets=("profile", "log_counts"),
            select=select, transform=pooled, n_outputs=len(groups.names), fold=fold,
            workers=settings.input_workers if training else 1)

    def compile_model(model: Any, lr: float) -> None:
        model.compile(optimizer=keras.optimizers.Adam(lr),
                      loss={"profile": MultinomialNLL(),
                            "log_counts": keras.losses.MeanSquaredError()},
                      loss_weights={"profile": 1.0, "log_counts": weight})

    record_groups = {"names": list(groups.names), "of_task": dict(zip(ds.tasks, groups.of_task,
                                                                       strict=True)),
                     "group_by": bias.group_by}
    run_config = {"model": spec.name, "part": "bias", "spec": spec.to_config(),
                  "settings": dataclasses.asdict(settings), "seed": int(seed), "fold": fold,
                  "counts_loss_weight": weight, "dataset": ds.meta.checksums,
                  GROUPS_KEY: record_groups, "training_regions": chosen}
    return fit(build_model=lambda: build_bias_model(geo.input_length, len(groups.names),
                                                    geo.profile_length, geo.profile_bin,
                                                    bias.network(), mean_log_counts=mean_log),
               compile_model=compile_model, train_data=lambda epoch: data("train", epoch),
               val_data=lambda: data("valid", None), settings=settings, outdir=outdir,
               run_config=run_config, device=device, inputs=[ds.metadata_path],
               n_train=chosen["regions"]["train"])


def bias_task_groups(bias_model: str | Path, ds: Dataset) -> list[int]:
    """For each task of ``ds``, the head of a trained bias model that serves it.

    The heads are named in the bias model's ``run.json`` (next to ``model.keras``): a task maps
    to the head of its name (heads by sample) or of its assay (heads by assay), so a bias
    model trained on another dataset serves the tasks of its samples or assays.

    Raises
    ------
    InputError
        If the run record is missing or a task has no head.
    """
    record_path = Path(bias_model).parent / "run.json"
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        groups = record["config"][GROUPS_KEY]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(record_path, f"not the run record of a seq2func bias model ({exc})",
                         fix="give bias.pretrained as a bias model.keras trained by seq2func "
                             "(its run.json next to it)") from exc
    names = list(groups["names"])
    out = []
    for task, sample in zip(ds.tasks, ds.meta.samples, strict=True):
        key = task if groups["group_by"] == "sample" else str(sample["assay"]).upper()
        if key not in names:
            raise InputError(record_path, f"the bias model has no head for task {task!r} "
                             f"({groups['group_by']} {key!r}; heads: {', '.join(names)})",
                             fix="train a bias model on samples of the same assay, or set "
                                 "bias.pretrained: null to train one")
        out.append(names.index(key))
    return out


def group_names(bias_model: str | Path) -> Sequence[str]:
    """The head names of a trained bias model (from its run record)."""
    record = json.loads((Path(bias_model).parent / "run.json").read_text(encoding="utf-8"))
    return list(record["config"][GROUPS_KEY]["names"])
