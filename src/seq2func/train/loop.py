"""The epoch loop shared by every model: early stopping, learning-rate schedule, exact resume.

:func:`fit` runs an epoch loop that

* draws each epoch's training data from a pipeline seeded by ``(seed, epoch)``;
* applies early stopping and learning-rate reduction on plateau of the validation loss (its own
  bookkeeping, saved with the checkpoint, unlike Keras callbacks);
* checkpoints every epoch (:mod:`seq2func.train.checkpoints`);
* on several replicas, drops short training batches and pads short validation batches
  (:mod:`seq2func.train.distribute`).

A job killed at any moment therefore resumes from its last complete epoch, and on the CPU a resumed
run ends with the same weights and history as an uninterrupted one. A checkpoint is resumed only
by a run of the same configuration, precision and replicas (:meth:`DeviceInfo.resume_key
<seq2func.train.runtime.DeviceInfo.resume_key>` is part of its hash). Outputs: ``model.keras``
(the best epoch, in float32 whatever the training precision: :func:`seq2func.models.save_float32`),
``history.tsv`` and ``run.json`` (the run record: device, seeds, timings, inputs, versions).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from seq2func.core.errors import Seq2FuncError, format_message
from seq2func.core.io import atomic_output, write_text_atomic, write_tsv_atomic
from seq2func.core.provenance import config_hash, make_record
from seq2func.train.checkpoints import (
    LoopState,
    load_checkpoint,
    load_checkpoint_model,
    save_checkpoint,
)
from seq2func.train.distribute import fit_reads_once, replica_safe
from seq2func.train.runtime import DeviceInfo
from seq2func.train.settings import TrainSettings

log = logging.getLogger(__name__)


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
    start_is_candidate: bool = False,
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
        augmented with a seed derived from ``epoch``, so a resumed run sees the same data), in
        batches of ``device.global_batch(settings.batch_size)``.
    val_data
        Returns the validation dataset (no augmentation), batched the same way.
    settings
        Optimisation settings.
    outdir
        Output directory; checkpoints go to ``outdir/checkpoints``.
    run_config
        Everything that defines the run (model spec, settings, dataset checksum, seed); its hash
        guards against resuming a checkpoint made with another configuration.
    device
        From :func:`seq2func.train.runtime.configure_runtime`.
    inputs
        Files recorded (with checksums) in the run record.
    n_train
        Number of training examples (for the examples/s column).
    start_is_candidate
        The model ``build_model`` returns is already a fit worth keeping (a warm start): its
        validation loss is measured before training and it competes as "epoch 0", so the
        kept model is never worse on the validation data than the start
        (``best_epoch`` 0 when no epoch beat it).

    Returns
    -------
    dict
        The run record (also written to ``run.json``).
    """
    out = Path(outdir)
    ckpt_root = out / "checkpoints"
    want_hash = config_hash({**run_config, "runtime": device.resume_key()})
    model, state, resumed_from = _start(build_model, compile_model, settings, ckpt_root,
                                        want_hash, device)
    model.steps_per_execution = device.steps_per_execution(settings.steps_per_execution)
    batch = device.global_batch(settings.batch_size)

    def epoch_data(epoch: int) -> tuple[Any, Any]:
        return (replica_safe(train_data(epoch), batch, device.replicas, training=True),
                replica_safe(val_data(), batch, device.replicas, training=False))

    if start_is_candidate and resumed_from is None:
        _score_start(model, state, epoch_data(0)[1], ckpt_root)

    t_start = time.time()
    for epoch in range(state.epochs_done, settings.max_epochs):
        if state.stopped_early:
            break
        _train_epoch(model, state, epoch, epoch_data, n_train)
        saved = _save_best(model, ckpt_root) if _update_schedule(state, settings) else None
        save_checkpoint(model, state, ckpt_root, model_file=saved)
    _write_model_and_history(model, state, out)
    record = make_record(
        step="train", inputs=inputs, config=dict(run_config), device=device.description,
        extra={
            "device_details": device.record(),
            "global_batch_size": batch,
            "steps_per_execution": int(model.steps_per_execution),
            "epochs_run": state.epochs_done,
            "best_epoch": state.best_epoch,
            "best_val_loss": state.best_val,
            "start_val_loss": state.start_val,
            "stopped_early": state.stopped_early,
            "resumed_after_epoch": resumed_from,
            "train_seconds_this_process": round(time.time() - t_start, 2),
            "parameters": int(model.count_params()),
        })
    write_text_atomic(out / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


def _start(build_model: Callable[[], Any], compile_model: Callable[[Any, float], None],
           settings: TrainSettings, ckpt_root: Path, want_hash: str, device: DeviceInfo
           ) -> tuple[Any, LoopState, int | None]:
    """The model and loop state to continue from: the last checkpoint of this configuration
    if there is one (and the epoch it resumes after), else a new model (and None)."""
    ckpt_root.mkdir(parents=True, exist_ok=True)
    loaded = load_checkpoint(ckpt_root, want_hash)
    with device.strategy.scope():
        if loaded is None:
            shutil.rmtree(ckpt_root, ignore_errors=True)
            ckpt_root.mkdir(parents=True)
            model = build_model()
            compile_model(model, settings.learning_rate)
            return model, LoopState(config_hash=want_hash,
                                    learning_rate=settings.learning_rate), None
        state, ckpt = loaded
        try:
            model = load_checkpoint_model(ckpt)
        except (Seq2FuncError, RuntimeError) as exc:  # e.g. a model of another shape
            log.warning("cannot resume from %s (%s); starting afresh", ckpt,
                        str(exc).splitlines()[0])
            shutil.rmtree(ckpt_root, ignore_errors=True)
            return _start(build_model, compile_model, settings, ckpt_root, want_hash, device)
    log.info("resuming after epoch %d from %s", state.epochs_done, ckpt)
    return model, state, state.epochs_done


def _score_start(model: Any, state: LoopState, val: Any, ckpt_root: Path) -> None:
    """Make the untrained (warm-started) model the best so far, as epoch 0, at its
    validation loss (a non-finite loss leaves it out)."""
    import math

    value = model.evaluate(val, verbose=0, return_dict=True)["loss"]
    state.start_val = float(value)
    if math.isfinite(state.start_val):
        state.best_val, state.best_epoch = state.start_val, 0
        _save_best(model, ckpt_root)
    log.info("starting model: validation loss %.6g (epoch 0 of early stopping)",
             state.start_val)


def _save_best(model: Any, ckpt_root: Path) -> Path | None:
    """Write ``best.keras`` (float32: :func:`~seq2func.models.save_float32`); returns its path
    when that file is the model itself, optimizer included, so the epoch's checkpoint can copy
    it instead of saving the model a second time (~0.7 s an epoch for a small model)."""
    from seq2func.models.precision import as_float32

    best = ckpt_root / "best.keras"
    saved = as_float32(model)  # the model itself if it computes in float32, else a copy
    with atomic_output(best) as tmp:
        saved.save(tmp)
    return best if saved is model else None


def _train_epoch(model: Any, state: LoopState, epoch: int,
                 epoch_data: Callable[[int], tuple[Any, Any]], n_train: int | None) -> None:
    """One epoch at the state's learning rate; its history row is appended to the state."""
    model.optimizer.learning_rate.assign(state.learning_rate)
    t0 = time.time()
    train, val = epoch_data(epoch)
    # (the datasets shuffle themselves, seeded per epoch: Keras's own shuffle is off; each
    # epoch gets a dataset of its own, read once, so Keras's "ran out of data" is expected)
    with fit_reads_once(model, train), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        hist = model.fit(train, validation_data=val, epochs=epoch + 1, initial_epoch=epoch,
                         verbose=2, shuffle=False)
    seconds = time.time() - t0
    row = {"epoch": epoch + 1, "learning_rate": state.learning_rate,
           **{k: float(v[-1]) for k, v in hist.history.items()},
           "seconds": round(seconds, 3)}
    if n_train:
        row["train_examples_per_s"] = round(n_train / seconds, 1)
    state.history.append(row)
    state.epochs_done = epoch + 1


def _update_schedule(state: LoopState, settings: TrainSettings) -> bool:
    """Early stopping and learning-rate reduction after the state's last epoch.

    Returns
    -------
    bool
        Whether that epoch is the new best (its model is then the one to keep).
    """
    val = state.history[-1].get("val_loss", float("nan"))
    if val < state.best_val - settings.min_delta:
        state.best_val, state.best_epoch, state.wait, state.lr_wait = val, state.epochs_done, 0, 0
        return True
    state.wait += 1
    state.lr_wait += 1
    if state.lr_wait >= settings.lr_patience and state.learning_rate > settings.min_lr:
        state.learning_rate = max(settings.min_lr, state.learning_rate * settings.lr_factor)
        state.lr_wait = 0
        log.info("validation loss plateaued: learning rate -> %g", state.learning_rate)
    if state.wait >= settings.patience:
        state.stopped_early = True
        log.info("early stopping after epoch %d (best %d)", state.epochs_done, state.best_epoch)
    return False


def _write_model_and_history(model: Any, state: LoopState, out: Path) -> None:
    """``model.keras`` (the best epoch's model) and ``history.tsv``.

    Raises
    ------
    Seq2FuncError
        When the validation loss was never finite (no epoch to keep): nothing is written and
        the checkpoints are removed, so that a rerun starts afresh.
    """
    best = out / "checkpoints" / "best.keras"
    if not best.exists():
        last = state.history[-1] if state.history else {}
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
        raise Seq2FuncError(format_message(
            str(out), f"the validation loss was never finite in {state.epochs_done} epoch(s) "
            f"(last: loss {last.get('loss', float('nan')):g}, val_loss "
            f"{last.get('val_loss', float('nan')):g}); no model is written",
            "check the training data for NaN/inf values (signal, TPM) and lower the "
            "learning rate; the checkpoints were removed, so a rerun starts afresh"))
    with atomic_output(out / "model.keras") as tmp:
        shutil.copyfile(best, tmp)
    write_tsv_atomic(out / "history.tsv", pd.DataFrame(state.history), float_format="%.6g")
