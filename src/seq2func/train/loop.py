"""Training machinery shared by every model: devices, determinism, checkpoints and exact resume.

:func:`configure_runtime` picks the device (all visible GPUs through ``MirroredStrategy``, one GPU
directly, otherwise the CPU with a loud warning), mixed precision where the GPU supports it, seeds
and TensorFlow's deterministic mode. :func:`fit` runs an epoch loop that

* draws each epoch's training data from a pipeline seeded by ``(seed, epoch)``;
* applies early stopping and learning-rate reduction on plateau of the validation loss (its own
  bookkeeping, saved with the checkpoint, unlike Keras callbacks);
* checkpoints every epoch into a fresh directory (model with optimizer state, the random-generator
  states of dropout layers, the loop state) and then atomically points ``state.json`` at it.

A job killed at any moment therefore resumes from its last complete epoch, and on the CPU a resumed
run ends with the same weights and history as an uninterrupted one. Outputs: ``model.keras`` (the
best epoch), ``history.tsv`` and ``run.json`` (the run record: device, seeds, timings, inputs,
versions).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.io import atomic_output, write_text_atomic, write_tsv_atomic
from seq2func.core.provenance import config_hash, make_record
from seq2func.train.settings import AccessibilityTrainSettings, TrainSettings

log = logging.getLogger(__name__)

CPU_WARNING = (
    "\n" + "=" * 78 + "\n"
    "seq2func: NO GPU IS VISIBLE TO TENSORFLOW - TRAINING ON THE CPU.\n"
    "This is fine for the demo, but real studies will be 10-100x slower.\n"
    "Check `nvidia-smi`, CUDA_VISIBLE_DEVICES and that the TensorFlow build has CUDA\n"
    "(pip install 'tensorflow[and-cuda]' or the train conda env, envs/train.yaml).\n"
    + "=" * 78
)


@dataclass
class DeviceInfo:
    """What the run actually used."""

    kind: str
    n_gpus: int
    names: list[str]
    mixed_precision: bool
    deterministic: bool
    description: str
    tensorflow: str
    built_with_cuda: bool
    strategy: Any = field(default=None, repr=False)

    def record(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "strategy"}
        d["strategy"] = type(self.strategy).__name__
        return d


def configure_runtime(seed: int, deterministic: bool = True, threads: int = 0,
                      mixed_precision: str = "auto") -> DeviceInfo:
    """Configure TensorFlow/Keras for a run and report the device used.

    Must be called before any model is built. ``threads`` > 0 bounds TensorFlow's CPU thread
    pools (Snakemake's ``threads``). ``mixed_precision``: ``"auto"`` (on for GPUs of compute
    capability >= 7.0), ``"on"`` or ``"off"``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        except RuntimeError:  # already initialised in this process
            log.debug("TensorFlow thread pools already initialised")
    gpus = tf.config.list_physical_devices("GPU")
    for g in gpus:
        try:
            tf.config.experimental.set_memory_growth(g, True)
        except RuntimeError:
            pass
    names = []
    capable = bool(gpus)
    for g in gpus:
        details = tf.config.experimental.get_device_details(g)
        names.append(str(details.get("device_name", g.name)))
        cc = details.get("compute_capability") or (0, 0)
        capable = capable and tuple(cc) >= (7, 0)
    use_mp = (mixed_precision == "on") or (mixed_precision == "auto" and capable)
    keras.mixed_precision.set_global_policy("mixed_float16" if use_mp else "float32")
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    if len(gpus) > 1:
        strategy = tf.distribute.MirroredStrategy()
        desc = f"{len(gpus)} GPUs (MirroredStrategy): {', '.join(names)}"
    elif len(gpus) == 1:
        strategy = tf.distribute.OneDeviceStrategy("/gpu:0")
        desc = f"1 GPU: {names[0]}"
    else:
        strategy = tf.distribute.get_strategy()
        desc = "CPU (no GPU visible to TensorFlow)"
        log.warning(CPU_WARNING)
    if use_mp:
        desc += ", mixed precision (float16)"
    info = DeviceInfo(kind="gpu" if gpus else "cpu", n_gpus=len(gpus), names=names,
                      mixed_precision=use_mp, deterministic=deterministic, description=desc,
                      tensorflow=tf.__version__, built_with_cuda=tf.test.is_built_with_cuda(),
                      strategy=strategy)
    log.info("device: %s", desc)
    return info


# --------------------------------------------------------------------------- checkpoints


def _seed_states(model: Any) -> list[np.ndarray]:
    """States of the model's random seed generators (dropout), in a stable order.

    Keras does not restore them when loading a ``.keras`` file; exact resume needs them.
    """
    return [np.asarray(v.numpy()) for v in model.variables if "seed_generator" in v.path]


def _restore_seed_states(model: Any, states: Sequence[np.ndarray]) -> None:
    variables = [v for v in model.variables if "seed_generator" in v.path]
    if len(variables) != len(states):
        raise RuntimeError("checkpoint does not match the model's random generators")
    for v, s in zip(variables, states, strict=True):
        v.assign(s)


@dataclass
class LoopState:
    """Bookkeeping of the epoch loop, saved with every checkpoint."""

    config_hash: str
    epochs_done: int = 0
    learning_rate: float = 1e-3
    best_val: float = float("inf")
    best_epoch: int = -1
    wait: int = 0
    lr_wait: int = 0
    stopped_early: bool = False
    checkpoint: str = ""
    history: list[dict[str, float]] = field(default_factory=list)


def _save_checkpoint(model: Any, state: LoopState, ckpt_root: Path) -> None:
    """Write a complete checkpoint directory, then atomically point ``state.json`` at it."""
    name = f"epoch_{state.epochs_done:04d}"
    tmp_dir = ckpt_root / f".{name}.partial"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    model.save(tmp_dir / "model.keras")
    np.savez(tmp_dir / "seed_states.npz", *_seed_states(model))
    final = ckpt_root / name
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp_dir, final)
    state.checkpoint = name
    write_text_atomic(ckpt_root / "state.json", json.dumps(asdict(state), indent=1) + "\n")
    # only now is the new checkpoint the one to resume from: remove every other one, including
    # any a kill left behind (between this write and the removal, or in a partial write)
    for old in [*ckpt_root.glob("epoch_*"), *ckpt_root.glob(".epoch_*.partial")]:
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def _load_checkpoint(ckpt_root: Path, want_hash: str) -> tuple[LoopState, Path] | None:
    path = ckpt_root / "state.json"
    if not path.exists():
        return None
    state = LoopState(**json.loads(path.read_text()))
    if state.config_hash != want_hash:
        log.warning("checkpoint in %s was made with another configuration; starting afresh",
                    ckpt_root)
        return None
    ckpt = ckpt_root / state.checkpoint
    if not (ckpt / "model.keras").exists():
        log.warning("checkpoint %s is incomplete; starting afresh", ckpt)
        return None
    return state, ckpt


# --------------------------------------------------------------------------- the loop


def fit(
    *,
    build_model: Callable[[], Any],
    compile_model: Callable[[Any, float], None],
    train_data: Callable[[int], Any],
    val_data: Callable[[], Any],
    settings: TrainSettings,
    outdir: str | Path,
    run_config: Mapping[str, Any],
    device: DeviceInfo,
    inputs: Sequence[str | Path] = (),
    n_train: int | None = None,
) -> dict[str, Any]:
    """Train with checkpoints and exact resume, writing model.keras, history.tsv and run.json.

    Parameters
    ----------
    build_model
        Returns a new, uncompiled Keras model (called inside the distribution strategy scope).
    compile_model
        ``compile_model(model, learning_rate)`` compiles it (optimizer, losses, weights).
    train_data
        ``train_data(epoch)`` returns that epoch's training ``tf.data.Dataset`` (shuffled and
        augmented with a seed derived from ``epoch``, so a resumed run sees the same data).
    val_data
        Returns the validation dataset (no augmentation).
    settings
        Optimisation settings.
    outdir
        Output directory; checkpoints go to ``outdir/checkpoints``.
    run_config
        Everything that defines the run (model spec, settings, dataset checksum, seed); its hash
        guards against resuming a checkpoint made with another configuration.
    device
        From :func:`configure_runtime`.
    inputs
        Files recorded (with checksums) in the run record.
    n_train
        Number of training examples (for the examples/s column).

    Returns
    -------
    dict
        The run record (also written to ``run.json``).
    """
    import keras

    out = Path(outdir)
    ckpt_root = out / "checkpoints"
    ckpt_root.mkdir(parents=True, exist_ok=True)
    want = config_hash(run_config)
    loaded = _load_checkpoint(ckpt_root, want)
    resumed_from = None
    with device.strategy.scope():
        if loaded is None:
            shutil.rmtree(ckpt_root, ignore_errors=True)
            ckpt_root.mkdir(parents=True)
            state = LoopState(config_hash=want, learning_rate=settings.learning_rate)
            model = build_model()
            compile_model(model, settings.learning_rate)
        else:
            state, ckpt = loaded
            resumed_from = state.epochs_done
            model = keras.models.load_model(ckpt / "model.keras", safe_mode=True, compile=True)
            with np.load(ckpt / "seed_states.npz") as z:
                _restore_seed_states(model, [z[k] for k in sorted(z.files,
                                                                   key=lambda s: int(s[4:]))])
            log.info("resuming after epoch %d from %s", state.epochs_done, ckpt)
    t_start = time.time()
    for epoch in range(state.epochs_done, settings.max_epochs):
        if state.stopped_early:
            break
        model.optimizer.learning_rate.assign(state.learning_rate)
        t0 = time.time()
        # (the datasets shuffle themselves, seeded per epoch: Keras's own shuffle is off)
        hist = model.fit(train_data(epoch), validation_data=val_data(), epochs=epoch + 1,
                         initial_epoch=epoch, verbose=2, shuffle=False)
        seconds = time.time() - t0
        row = {"epoch": epoch + 1, "learning_rate": state.learning_rate,
               **{k: float(v[-1]) for k, v in hist.history.items()},
               "seconds": round(seconds, 3)}
        if n_train:
            row["train_examples_per_s"] = round(n_train / seconds, 1)
        state.history.append(row)
        val = row.get("val_loss", float("nan"))
        state.epochs_done = epoch + 1
        if val < state.best_val - settings.min_delta:
            state.best_val, state.best_epoch, state.wait, state.lr_wait = val, epoch + 1, 0, 0
            with atomic_output(ckpt_root / "best.keras") as tmp:
                model.save(tmp)
        else:
            state.wait += 1
            state.lr_wait += 1
            if state.lr_wait >= settings.lr_patience and state.learning_rate > settings.min_lr:
                state.learning_rate = max(settings.min_lr,
                                          state.learning_rate * settings.lr_factor)
                state.lr_wait = 0
                log.info("validation loss plateaued: learning rate -> %g", state.learning_rate)
            if state.wait >= settings.patience:
                state.stopped_early = True
                log.info("early stopping after epoch %d (best %d)", epoch + 1, state.best_epoch)
        _save_checkpoint(model, state, ckpt_root)
    best = ckpt_root / "best.keras"
    if not best.exists():  # validation loss never finite: keep the last model, say so
        log.warning("validation loss was never finite; saving the last epoch's model")
        with atomic_output(best) as tmp:
            model.save(tmp)
    with atomic_output(out / "model.keras") as tmp:
        shutil.copyfile(best, tmp)
    history = pd.DataFrame(state.history)
    write_tsv_atomic(out / "history.tsv", history, float_format="%.6g")
    record = make_record(
        step="train", inputs=inputs, config=dict(run_config), device=device.description,
        extra={
            "device_details": device.record(),
            "epochs_run": state.epochs_done,
            "best_epoch": state.best_epoch,
            "best_val_loss": state.best_val,
            "stopped_early": state.stopped_early,
            "resumed_after_epoch": resumed_from,
            "train_seconds_this_process": round(time.time() - t_start, 2),
            "parameters": int(model.count_params()),
        })
    write_text_atomic(out / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


# --------------------------------------------------------------------------- accessibility


def train_accessibility(
    dataset_dir: str | Path,
    name: str,
    spec: Mapping[str, Any],
    settings: AccessibilityTrainSettings,
    seed: int,
    outdir: str | Path,
    threads: int = 0,
) -> dict[str, Any]:
    """Train one accessibility model (one seed) on a preprocessed dataset.

    Parameters
    ----------
    dataset_dir
        Output of preprocessing (see :mod:`seq2func.dataset`).
    name
        Model name (the config key).
    spec
        The model's config: ``architecture`` (``basset`` or ``bpnet``) and its sizes.
    settings
        Optimisation settings.
    seed
        Replicate seed: initialisation, data order, augmentation and dropout.
    outdir
        Where ``model.keras``, ``history.tsv``, ``run.json`` and ``checkpoints/`` go.
    threads
        CPU threads for TensorFlow (0: its default).
    """
    device = configure_runtime(seed, settings.deterministic, threads, settings.mixed_precision)
    import keras

    from seq2func.dataset import Dataset, make_tf_dataset
    from seq2func.models import accessibility as models

    ds = Dataset(dataset_dir)
    meta = ds.meta
    params = {k: v for k, v in spec.items() if k != "architecture"}
    mspec = models.ModelSpec(name, str(spec["architecture"]), params)
    targets = mspec.outputs()
    weight = params.get("counts_loss_weight", "auto")
    mean_log_counts = None
    if "log_counts" in targets:
        train_rows = ds.regions("train")
        cols = ds.columns("log_counts")
        mean_log_counts = [float(v) for v in train_rows[cols].mean().to_numpy()]
        if weight == "auto":
            peaks = train_rows[train_rows["source"] == "peak"]
            weight = models.auto_counts_loss_weight(peaks[cols].to_numpy())
            log.info("counts loss weight (auto: median peak counts / 10) = %.2f", weight)
    losses, loss_weights = models.losses_for(mspec, float(weight) if weight != "auto" else 1.0)
    metrics = ({"labels": [keras.metrics.AUC(from_logits=True, name="auroc")]}
               if "labels" in targets else None)

    def build() -> Any:
        return models.build_accessibility_model(mspec, meta.geometry, meta.n_tasks,
                                                mean_log_counts=mean_log_counts)

    def compile_model(model: Any, lr: float) -> None:
        model.compile(optimizer=keras.optimizers.Adam(lr), loss=losses,
                      loss_weights=loss_weights, metrics=metrics)

    def train_data(epoch: int) -> Any:
        return make_tf_dataset(
            ds, "train", settings.batch_size, shuffle=True, jitter=settings.jitter,
            reverse_complement=settings.reverse_complement, seed=seed * 100_003 + epoch,
            targets=targets)

    def val_data() -> Any:
        return make_tf_dataset(ds, "valid", settings.batch_size, shuffle=False, jitter=False,
                               reverse_complement=False, seed=0, targets=targets)

    n_train = int(meta.n_regions["train"])
    run_config = {"model": name, "spec": dict(spec), "settings": asdict(settings),
                  "seed": int(seed), "targets": list(targets),
                  "counts_loss_weight": weight, "dataset": meta.checksums}
    return fit(build_model=build, compile_model=compile_model, train_data=train_data,
               val_data=val_data, settings=settings, outdir=outdir, run_config=run_config,
               device=device, inputs=[ds.metadata_path], n_train=n_train)
