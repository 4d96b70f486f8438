"""Stage entry points of the accessibility models: train one model and seed, predict a split.

TensorFlow (and :mod:`seq2func.models`) is imported only after
:func:`~seq2func.train.runtime.configure_runtime`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seq2func.core.errors import InputError
from seq2func.core.io import atomic_output, file_checksum
from seq2func.core.provenance import write_provenance
from seq2func.train.loop import fit
from seq2func.train.runtime import configure_runtime
from seq2func.train.settings import AccessibilityTrainSettings

if TYPE_CHECKING:  # seq2func.models imports TensorFlow: only after configure_runtime
    from seq2func.models.specs import ModelSpec

log = logging.getLogger(__name__)


def train_accessibility(
    dataset_dir: str | Path,
    spec: ModelSpec,
    settings: AccessibilityTrainSettings,
    seed: int,
    outdir: str | Path,
    threads: int = 0,
    bias_model: str | Path | None = None,
    fold: str | None = None,
) -> dict[str, Any]:
    """Train one accessibility model (one seed) on a preprocessed dataset.

    Parameters
    ----------
    dataset_dir
        Output of preprocessing (see :mod:`seq2func.dataset`).
    spec
        The model (:meth:`ModelSpec.from_config <seq2func.models.specs.ModelSpec.from_config>`
        of its entry in ``accessibility.models``).
    settings
        Optimisation settings.
    seed
        Replicate seed: initialisation, data order, augmentation and dropout.
    outdir
        Where ``model.keras``, ``history.tsv``, ``run.json`` and ``checkpoints/`` go.
    threads
        CPU threads for TensorFlow (0: its default).
    bias_model
        ``chrombpnet`` models: the trained bias ``model.keras`` (:mod:`seq2func.train.bias`),
        frozen inside the model; the bias-free model is also written, as ``nobias.keras``.
    fold
        Train and validate on this fold of the dataset (``split.folds``) instead of the
        default split; recorded in ``run.json`` (out-of-fold prediction reads it there).

    Returns
    -------
    dict
        The run record (``run.json``).
    """
    if spec.factorised and (bias_model is None or not Path(bias_model).is_file()):
        raise InputError(bias_model or "--bias-model", f"{spec.name} is a chrombpnet model: it "
                         "needs its trained bias model.keras",
                         fix="train it first (seq2func train-bias; the workflow does) or set "
                             "bias.pretrained")
    device = configure_runtime(seed, settings.deterministic, threads, settings.mixed_precision)
    import keras

    from seq2func.dataset import Dataset, make_tf_dataset, selection
    from seq2func.models import build_accessibility_model, losses_for

    ds = Dataset(dataset_dir)
    meta = ds.meta
    if fold is not None:
        meta.fold(fold)  # KeyError naming the dataset's folds
    targets = spec.outputs()
    mean_log_counts, weight = _count_head(ds, spec, fold)
    losses, loss_weights = losses_for(spec, float(weight) if weight != "auto" else 1.0)
    # weighted: the zero-weight rows that pad validation batches on several replicas don't count
    metrics = ({"labels": [keras.metrics.AUC(from_logits=True, name="auroc")]}
               if "labels" in targets else None)
    batch = device.global_batch(settings.batch_size)

    def build() -> Any:
        if spec.factorised:
            model = _factorised(spec, ds, bias_model, mean_log_counts)
        else:
            model = build_accessibility_model(spec, meta.geometry, meta.n_tasks,
                                              mean_log_counts=mean_log_counts)
        prior = _average_profile(ds, spec, fold)  # a resumed run has its prior in its weights
        if prior is not None:
            from seq2func.models.bpnet import set_profile_prior

            set_profile_prior(model, prior)
        return model

    def compile_model(model: Any, lr: float) -> None:
        model.compile(optimizer=keras.optimizers.Adam(lr), loss=losses,
                      loss_weights=loss_weights, weighted_metrics=metrics)

    ratio = getattr(spec.sizes, "background_sampling_ratio", None)

    def train_data(epoch: int) -> Any:
        keep = (None if ratio is None else
                epoch_regions(ds.regions(), meta.split_column(fold), ratio, seed, epoch))
        return make_tf_dataset(
            ds, "train", batch, shuffle=True, jitter=settings.jitter,
            reverse_complement=settings.reverse_complement, seed=seed * 100_003 + epoch,
            targets=targets, workers=settings.input_workers, fold=fold,
            select=None if keep is None else selection(ds, keep))

    # validation holds the same share of background as training, one fixed draw (as
    # ChromBPNet's validation set): a loss on every background region would judge the model
    # on a mix it is not trained for, and early stopping would follow the count error there
    valid_keep = (None if ratio is None else
                  epoch_regions(ds.regions(), meta.split_column(fold), ratio, seed, 0,
                                part="valid"))

    def val_data() -> Any:
        return make_tf_dataset(ds, "valid", batch, shuffle=False, jitter=False,
                               reverse_complement=False, seed=0, targets=targets, fold=fold,
                               select=None if valid_keep is None else selection(ds, valid_keep))

    run_config = {"model": spec.name, "spec": spec.to_config(), "settings": asdict(settings),
                  "seed": int(seed), "fold": fold, "targets": list(targets),
                  "counts_loss_weight": weight, "dataset": meta.checksums}
    inputs = [ds.metadata_path]
    if bias_model is not None:
        run_config["bias_model"] = file_checksum(bias_model)
        inputs.append(Path(bias_model))
    n_train = meta.n_examples("train", fold)
    if ratio is not None:
        n_train = int(epoch_regions(ds.regions(), meta.split_column(fold), ratio, seed, 0).sum())
    record = fit(build_model=build, compile_model=compile_model, train_data=train_data,
                 val_data=val_data, settings=settings, outdir=outdir, run_config=run_config,
                 device=device, inputs=inputs, n_train=n_train)
    if spec.factorised:
        save_bias_free(Path(outdir) / "model.keras", Path(outdir) / NOBIAS_FILE)
    return record


#: the bias-free model of a chrombpnet model, next to its ``model.keras``
NOBIAS_FILE = "nobias.keras"


def epoch_regions(regions: Any, split_column: str, ratio: float, seed: int, epoch: int,
                  part: str = "train") -> np.ndarray:
    """The regions of one epoch with background sampling (ChromBPNet's
    ``negative_sampling_ratio``): every peak region of ``part``, and ``ratio`` background
    regions of ``part`` per peak region drawn without replacement - afresh for each epoch and
    seed in ``train``; for ``valid`` one draw per seed (``epoch`` 0), the fixed validation set.

    Returns
    -------
    numpy.ndarray
        A boolean over the rows of ``regions`` (``regions.tsv.gz``), False outside ``part``.
    """
    inside = (regions[split_column] == part).to_numpy()
    peaks = inside & (regions["source"] == "peak").to_numpy()
    background = np.flatnonzero(inside & ~peaks)
    n = min(background.size, round(ratio * int(peaks.sum())))
    key = [int(seed), int(epoch), 7919] + ([] if part == "train" else [1])
    rng = np.random.default_rng(key)
    keep = peaks.copy()
    keep[rng.choice(background, size=n, replace=False)] = True
    return keep


def _factorised(spec: ModelSpec, ds: Any, bias_model: str | Path,
                mean_log_counts: list[float] | None) -> Any:
    """A chrombpnet model: the frozen bias model plus a new bias-free BPNet."""
    from seq2func.models import load_model
    from seq2func.models.chrombpnet import build_chrombpnet
    from seq2func.train.bias import bias_task_groups

    geo = ds.geometry
    return build_chrombpnet(load_model(str(bias_model)), geo.input_length, ds.meta.n_tasks,
                            geo.profile_length, geo.profile_bin, spec.sizes,
                            bias_task_groups(bias_model, ds), name=spec.name,
                            mean_log_counts=mean_log_counts)


def save_bias_free(model_path: Path, out: Path) -> None:
    """Write the bias-free model inside a trained chrombpnet model (atomically)."""
    from seq2func.models import load_model, save_float32
    from seq2func.models.chrombpnet import bias_free

    with atomic_output(out) as tmp:
        save_float32(bias_free(load_model(str(model_path))), tmp)


def _average_profile(ds: Any, spec: ModelSpec, fold: str | None = None) -> np.ndarray | None:
    """The training peaks' average profile ``(bins, tasks)`` a profile head's position prior
    starts at (``profile_prior``), or None for a model without one.

    Raises
    ------
    InputError
        When a task has no training peak with reads (its prior would be undefined).
    """
    if not getattr(spec.sizes, "profile_prior", False):
        return None
    from seq2func.dataset import average_peak_profile

    avg = average_peak_profile(ds, "train", fold)
    if avg is None:
        raise InputError(ds.metadata_path, "a task has no training peak with reads, so the "
                         "profile head's position prior (profile_prior) has no start",
                         fix=f"set accessibility.models.{spec.name}.profile_prior: false, or "
                             "check the task's peaks and signal")
    return avg


def _count_head(ds: Any, spec: ModelSpec, fold: str | None = None
                ) -> tuple[list[float] | None, float | str]:
    """Mean training log counts per task (the count head's starting bias) and the count-loss
    weight (``auto`` resolved on the training peaks).

    A model without a count head (basset) gets ``(None, "auto")``, as its run record has
    always said.
    """
    if "log_counts" not in spec.outputs():
        return None, "auto"
    from seq2func.dataset import own_peaks
    from seq2func.models import auto_counts_loss_weight

    train_rows = ds.regions("train", fold)
    cols = ds.columns("log_counts")
    mean_log_counts = [float(v) for v in train_rows[cols].mean().to_numpy()]
    weight = spec.sizes.counts_loss_weight
    if weight == "auto":
        peaks = train_rows[train_rows["source"] == "peak"]
        weight = auto_counts_loss_weight(peaks[cols].to_numpy(), own_peaks(peaks, ds.tasks))
        log.info("counts loss weight (auto: median counts in each task's own training "
                 "peaks / 10) = %.2f", weight)
    return mean_log_counts, weight


def predict_accessibility(model: str | Path, dataset_dir: str | Path, split: str,
                          out: str | Path, *, threads: int = 0, batch_size: int = 256,
                          fold: str | None = None) -> dict[str, np.ndarray]:
    """Strand-averaged predictions of a model for every region of a split, with provenance.

    Writes ``out`` (compressed ``.npz``: ``region_id`` and the model's outputs, see
    :func:`seq2func.models.predict_split`) and its provenance record.

    Parameters
    ----------
    model
        ``model.keras``.
    dataset_dir
        The preprocessed dataset.
    split
        ``train``, ``valid`` or ``test``.
    fold
        ``split`` of this fold (``split.folds``) instead of the default split.
    out
        Output ``.npz``.
    threads
        CPU threads for TensorFlow (0: its default).
    batch_size
        Examples per prediction batch.

    Returns
    -------
    dict
        The arrays written.
    """
    device = configure_runtime(seed=0, deterministic=True, threads=threads)
    from seq2func.models import predict_split

    pred = predict_split(model, dataset_dir, split, batch_size=batch_size, fold=fold)
    with atomic_output(out) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **pred)
    write_provenance(out, step="predict-accessibility",
                     inputs=[model, Path(dataset_dir) / "dataset.json"],
                     device=device.description,
                     extra={"split": split, "fold": fold,
                            "n_regions": int(pred["region_id"].size),
                            "outputs": sorted(k for k in pred if k != "region_id")})
    log.info("predicted %d %s regions -> %s", pred["region_id"].size, split, out)
    return pred

