"""Warm-started chromatin variants: they start at seq_only's predictions (sequence tower copied,
chromatin output weights zero), frozen or fine-tuned, and the start competes in early stopping
as epoch 0, so the kept model is never worse than it on the validation data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seq2func.expression.settings import ExpressionModelSpec

pytest.importorskip("tensorflow")

SPEC = ExpressionModelSpec.from_config({"capacity": "fixed", "conv_filters": [6],
                                        "conv_kernels": [5], "pool_sizes": [1],
                                        "dense_units": 4, "chromatin_units": 3})


def _pair(spec: ExpressionModelSpec = SPEC):  # type: ignore[no-untyped-def]
    """A seq_only model with random (non-zero) weights and a fresh seq_observed."""
    from seq2func.expression.models import build_expression_model

    rng = np.random.default_rng(0)
    seq = build_expression_model("seq_only", 200, 2, SPEC, target_mean=[3.0, 1.0],
                                 target_sd=[2.0, 0.5])
    seq.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) if layer.trainable
                     else w for layer in seq.layers for w in layer.get_weights()])
    chrom = build_expression_model("seq_observed", 200, 2, spec, n_bins=8, n_tracks=2,
                                   target_mean=[3.0, 1.0], target_sd=[2.0, 0.5])
    return seq, chrom


def _inputs(n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    seq = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, 200))]
    return seq, rng.normal(size=(n, 8, 2)).astype(np.float32)


@pytest.mark.parametrize("mode", ["frozen", "fine_tune"])
def test_warm_start_predicts_what_seq_only_predicts(mode: str) -> None:
    from seq2func.expression.models import warm_start_from

    seq, chrom = _pair()
    x, c = _inputs()
    before = chrom.predict({"sequence": x, "chromatin": c}, verbose=0)
    warm_start_from(chrom, seq, mode)
    after = chrom.predict({"sequence": x, "chromatin": c}, verbose=0)
    want = seq.predict(x, verbose=0)
    assert not np.allclose(before, want, atol=1e-3)  # the fresh model is another function
    np.testing.assert_allclose(after, want, rtol=1e-5, atol=1e-5)
    # whatever the chromatin, the start is seq_only's prediction (its weights are zero)
    np.testing.assert_allclose(chrom.predict({"sequence": x, "chromatin": 10 * c}, verbose=0),
                               want, rtol=1e-5, atol=1e-5)
    tower = [chrom.get_layer(n) for n in ("seq_conv1", "seq_dense")]
    assert all(layer.trainable == (mode == "fine_tune") for layer in tower)
    assert chrom.get_layer("chrom_dense").trainable and chrom.get_layer("expression_z").trainable


def test_warm_start_none_leaves_the_model_and_bad_modes_fail() -> None:
    from seq2func.expression.models import warm_start_from

    seq, chrom = _pair()
    w = [np.array(v) for v in chrom.get_weights()]
    warm_start_from(chrom, seq, "none")
    assert all(np.array_equal(a, b) for a, b in zip(w, chrom.get_weights(), strict=True))
    with pytest.raises(ValueError, match="warm_start must be one of"):
        warm_start_from(chrom, seq, "hot")
    with pytest.raises(ValueError, match="needs a chromatin variant"):
        warm_start_from(seq, seq, "frozen")


def test_warm_start_from_a_model_of_other_sizes_fails_clearly() -> None:
    from dataclasses import replace

    from seq2func.expression.models import warm_start_from

    seq, chrom = _pair(replace(SPEC, dense_units=7))
    with pytest.raises(ValueError, match=r"layer 'seq_dense'.*other settings"):
        warm_start_from(chrom, seq, "frozen")


@pytest.mark.slow
def test_fit_keeps_the_start_when_no_epoch_beats_it(tmp_path: Path) -> None:
    """A start at the least-squares optimum, trained at a learning rate that ruins it: the kept
    model is the start (epoch 0), and its validation loss is recorded."""
    import keras
    import tensorflow as tf

    from seq2func.models import load_model
    from seq2func.train.loop import fit
    from seq2func.train.runtime import configure_runtime
    from seq2func.train.settings import TrainSettings

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + rng.normal(0, 0.1, (256, 1))).astype(np.float32)
    coef, *_ = np.linalg.lstsq(np.c_[x[:192], np.ones(192)], y[:192], rcond=None)

    def build():  # type: ignore[no-untyped-def]
        inp = keras.Input((3,))
        m = keras.Model(inp, keras.layers.Dense(1, name="out")(inp))
        m.get_layer("out").set_weights([coef[:3], coef[3]])
        return m

    def compile_model(model, lr):  # type: ignore[no-untyped-def]
        model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")

    def data(a: int, b: int):  # type: ignore[no-untyped-def]
        return tf.data.Dataset.from_tensor_slices((x[a:b], y[a:b])).batch(64)

    settings = TrainSettings.from_config({"batch_size": 64, "max_epochs": 3,
                                          "learning_rate": 0.9, "lr_patience": 10})
    device = configure_runtime(seed=1, deterministic=True, threads=1)
    rec = fit(build_model=build, compile_model=compile_model, train_data=lambda e: data(0, 192),
              val_data=lambda: data(192, 256), settings=settings, outdir=tmp_path,
              run_config={"test": "warm"}, device=device, start_is_candidate=True)
    start = float(np.mean((np.c_[x[192:], np.ones(64)] @ coef - y[192:]) ** 2))
    assert rec["best_epoch"] == 0 and rec["epochs_run"] == 3
    assert rec["start_val_loss"] == pytest.approx(start, rel=1e-4)
    assert rec["best_val_loss"] == pytest.approx(start, rel=1e-4)
    kept = load_model(tmp_path / "model.keras").get_layer("out").get_weights()
    np.testing.assert_allclose(kept[0], coef[:3], rtol=1e-5)
    assert json.loads((tmp_path / "run.json").read_text())["best_epoch"] == 0
    # without the flag the same run keeps its best trained epoch
    rec2 = fit(build_model=build, compile_model=compile_model,
               train_data=lambda e: data(0, 192), val_data=lambda: data(192, 256),
               settings=settings, outdir=tmp_path / "cold", run_config={"test": "cold"},
               device=device)
    assert rec2["best_epoch"] >= 1 and rec2["start_val_loss"] is None
    assert rec2["best_val_loss"] > start
