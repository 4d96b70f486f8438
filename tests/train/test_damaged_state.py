"""Damaged training state is detected and never trusted: a truncated ``state.json`` or a damaged
checkpoint falls back to a complete checkpoint or a fresh start (logged); a loss that is never
finite fails the job without writing a model."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from seq2func.core.errors import Seq2FuncError

pytestmark = pytest.mark.slow  # TensorFlow


def _fit(out: Path, epochs: int, nan_labels: bool = False) -> dict:
    """A tiny model trained on planted words by seq2func.train.loop.fit."""
    import keras
    import tensorflow as tf

    from seq2func.models import BassetSpec, build_basset
    from seq2func.train.loop import fit
    from seq2func.train.runtime import configure_runtime
    from seq2func.train.settings import TrainSettings

    settings = TrainSettings.from_config({"batch_size": 32, "max_epochs": epochs,
                                          "patience": 10})
    device = configure_runtime(seed=3, deterministic=True, threads=1)
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, size=(256, 40))
    y = (rng.random(256) < 0.5).astype(np.float32)
    codes[y == 1, 5:11] = [0, 2, 0, 3, 0, 0]
    x = np.eye(4, dtype=np.float32)[codes]
    labels = np.stack([y, 1 - y], axis=1)
    if nan_labels:
        labels[:] = np.nan

    def data(a: int, b: int):  # type: ignore[no-untyped-def]
        return tf.data.Dataset.from_tensor_slices((x[a:b], {"labels": labels[a:b]})).batch(32)

    def compile_model(model, lr):  # type: ignore[no-untyped-def]
        model.compile(optimizer=keras.optimizers.Adam(lr),
                      loss={"labels": keras.losses.BinaryCrossentropy(from_logits=True)})

    return fit(build_model=lambda: build_basset(40, 2, BassetSpec(
                   conv_filters=[4], conv_kernels=[5], pool_sizes=[4], dense_units=4,
                   dropout=0.0)),
               compile_model=compile_model, train_data=lambda e: data(0, 192),
               val_data=lambda: data(192, 256), settings=settings, outdir=out,
               run_config={"test": "damaged"}, device=device)


def test_truncated_state_falls_back_to_the_checkpoint_copy(tmp_path: Path, caplog) -> None:
    _fit(tmp_path, 2)
    state = tmp_path / "checkpoints" / "state.json"
    state.write_text(state.read_text()[:40])  # a disk that filled up mid-write
    with caplog.at_level(logging.WARNING):
        record = _fit(tmp_path, 3)
    assert "state.json is damaged" in caplog.text
    assert "resuming from" in caplog.text and "its own state" in caplog.text
    assert record["resumed_after_epoch"] == 2 and record["epochs_run"] == 3


@pytest.mark.parametrize("damage", ["model", "seed_states", "best"])
def test_damaged_checkpoint_starts_afresh(tmp_path: Path, caplog, damage: str) -> None:
    _fit(tmp_path, 2)
    ckpt = tmp_path / "checkpoints" / "epoch_0002"
    target = {"model": ckpt / "model.keras", "seed_states": ckpt / "seed_states.npz",
              "best": tmp_path / "checkpoints" / "best.keras"}[damage]
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING):
        record = _fit(tmp_path, 2)
    assert "incomplete or damaged" in caplog.text and "starting afresh" in caplog.text
    assert record["resumed_after_epoch"] is None and record["epochs_run"] == 2
    from seq2func.models.ensemble import check_model_file

    check_model_file(tmp_path / "model.keras")


def test_a_loss_never_finite_fails_without_a_model(tmp_path: Path) -> None:
    with pytest.raises(Seq2FuncError, match=r"validation loss was never finite in 2 epoch"):
        _fit(tmp_path, 2, nan_labels=True)
    assert not (tmp_path / "model.keras").exists()
    assert not (tmp_path / "history.tsv").exists() and not (tmp_path / "run.json").exists()
    assert not (tmp_path / "checkpoints").exists()  # a rerun starts afresh


def test_state_json_names_its_checkpoint_copy(tmp_path: Path) -> None:
    _fit(tmp_path, 1)
    root = json.loads((tmp_path / "checkpoints" / "state.json").read_text())
    copy = json.loads((tmp_path / "checkpoints" / "epoch_0001" / "state.json").read_text())
    assert root == copy and root["checkpoint"] == "epoch_0001"
