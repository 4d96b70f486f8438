"""The GPU path reproduced on the CPU: mixed precision, several replicas (issue 21).

Mixed precision runs on the CPU (``mixed_float16`` policies, float16 kernels); several GPUs are
emulated by two logical CPUs with ``TF_ENABLE_ONEDNN_OPTS=0`` (the generic kernels, as a GPU
build uses), in a subprocess because the devices must be set before TensorFlow starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import REPO

keras = pytest.importorskip("keras")

LENGTH, PROFILE, BIN, TASKS = 120, 60, 5, 2


@pytest.fixture
def mixed_policy() -> Iterator[None]:
    """Run under ``mixed_float16`` as training on a GPU does; float32 again afterwards."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _specs() -> dict[str, Any]:
    from seq2func.models import BassetSpec, BPNetSpec

    return {"basset": BassetSpec(conv_filters=[8, 8], conv_kernels=[7, 5], pool_sizes=[4, 2],
                                 dense_units=8, dropout=0.1),
            "bpnet": BPNetSpec(filters=8, conv1_kernel=7, n_dilated_layers=2, profile_kernel=9,
                               counts_loss_weight=1.0, counts_head="logsumexp")}


def _build(name: str) -> Any:
    from seq2func.models import build_basset, build_bpnet

    spec = _specs()[name]
    if name == "basset":
        return build_basset(LENGTH, TASKS, spec)
    return build_bpnet(LENGTH, TASKS, PROFILE, BIN, spec, mean_log_counts=[3.0, 4.0])


def _onehot(n: int, seed: int) -> np.ndarray:
    codes = np.random.default_rng(seed).integers(0, 4, (n, LENGTH))
    return np.eye(4, dtype=np.float32)[codes]


def _train_mixed(name: str, seed: int) -> Any:
    """A model built and trained for a few steps under the global ``mixed_float16`` policy."""
    from seq2func.models import MultinomialNLL

    keras.utils.set_random_seed(seed)
    model = _build(name)
    assert model.get_layer("conv1").compute_dtype == "float16"
    x = _onehot(64, seed)
    rng = np.random.default_rng(seed + 1)
    if name == "basset":
        y = {"labels": (rng.random((64, TASKS)) < 0.5).astype(np.float32)}
        loss = {"labels": keras.losses.BinaryCrossentropy(from_logits=True)}
    else:
        y = {"profile": rng.poisson(2.0, (64, PROFILE // BIN, TASKS)).astype(np.float32),
             "log_counts": rng.normal(4.0, 0.5, (64, TASKS)).astype(np.float32)}
        loss = {"profile": MultinomialNLL(), "log_counts": keras.losses.MeanSquaredError()}
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    hist = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    return model


def _float32_twin(model: Any) -> Any:
    """The same architecture built under the float32 policy, with the model's weights."""
    keras.mixed_precision.set_global_policy("float32")
    try:
        twin = _build("basset" if "labels" in model.output else "bpnet")
    finally:
        keras.mixed_precision.set_global_policy("mixed_float16")
    twin.set_weights(model.get_weights())
    return twin


def _snv_deltas(model: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """Strand-averaged alt - ref predictions of every non-reference base at the centre."""
    from seq2func.models import predict_both_strands

    ref = predict_both_strands(model, x)
    out: dict[str, list[np.ndarray]] = {}
    for shift in (1, 2, 3):
        alt = x.copy()
        alt[:, LENGTH // 2] = np.roll(x[:, LENGTH // 2], shift, axis=-1)
        pred = predict_both_strands(model, alt)
        for k in pred:
            out.setdefault(k, []).append(pred[k] - ref[k])
    return {k: np.stack(v) for k, v in out.items()}


@pytest.mark.parametrize("name", ["basset", "bpnet"])
def test_a_model_trained_in_mixed_precision_is_saved_and_loads_as_float32(
        name: str, mixed_policy: None, tmp_path: Path) -> None:
    from seq2func.models import load_model, save_float32
    from seq2func.models.precision import low_precision_layers

    model = _train_mixed(name, seed=1)
    save_float32(model, tmp_path / "model.keras")
    model.save(tmp_path / "legacy.keras")  # as earlier versions saved: per-layer mixed policies
    reference = _float32_twin(model)
    x = _onehot(16, seed=9)
    expected = reference.predict(x, verbose=0)
    mixed = model.predict(x, verbose=0)
    for path in ("model.keras", "legacy.keras"):
        loaded = load_model(tmp_path / path)  # the global policy is still mixed_float16
        assert low_precision_layers(loaded) == [], path
        got = loaded.predict(x, verbose=0)
        for k in expected:
            np.testing.assert_allclose(got[k], expected[k], rtol=1e-6, atol=1e-6, err_msg=path)
    # the float16 model itself is measurably off: the comparison above can tell them apart
    assert max(np.abs(mixed[k] - expected[k]).max() for k in expected) > 1e-5


def test_sensitive_layers_compute_in_float32_under_a_mixed_policy(mixed_policy: None) -> None:
    model = _build("bpnet")
    for layer in ("profile_conv", "profile_bin", "profile", "counts_rate", "counts_pool",
                  "log_counts"):
        assert model.get_layer(layer).compute_dtype == "float32", layer
    assert model.get_layer("conv1").compute_dtype == "float16"
    from seq2func.models import EnsembleMean

    assert EnsembleMean("mean").compute_dtype == "float32"
    value = keras.ops.convert_to_tensor(np.array([[5.123456]], dtype=np.float32))
    assert float(EnsembleMean("mean")([value, value])[0, 0]) == pytest.approx(5.123456, abs=1e-6)


def test_ensemble_of_mixed_precision_models_is_the_member_mean(mixed_policy: None,
                                                               tmp_path: Path) -> None:
    from seq2func.models import load_ensemble, load_model, save_float32
    from seq2func.models.predict import sigmoid, softmax

    for name in ("basset", "bpnet"):
        paths = []
        for seed in (1, 2):
            path = tmp_path / f"{name}{seed}.keras"
            save_float32(_train_mixed(name, seed), path)
            paths.append(path)
        x = _onehot(16, seed=5)
        members = [load_model(p).predict(x, verbose=0) for p in paths]
        ens = load_ensemble(paths).predict(x, verbose=0)
        if name == "basset":
            np.testing.assert_allclose(sigmoid(ens["labels"]),
                                       np.mean([sigmoid(m["labels"]) for m in members], axis=0),
                                       atol=1e-5)
            continue
        np.testing.assert_allclose(ens["log_counts"],
                                   np.mean([m["log_counts"] for m in members], axis=0),
                                   atol=1e-5)
        np.testing.assert_allclose(
            softmax(np.asarray(ens["profile"], np.float64), axis=1),
            np.mean([softmax(np.asarray(m["profile"], np.float64), axis=1) for m in members],
                    axis=0), atol=1e-5)


@pytest.mark.parametrize("name", ["basset", "bpnet"])
def test_snv_deltas_and_gradients_of_a_saved_model_equal_a_float32_model(
        name: str, mixed_policy: None, tmp_path: Path) -> None:
    from seq2func.interpret.attributions import gradients, target_outputs
    from seq2func.models import load_model, save_float32

    model = _train_mixed(name, seed=3)
    save_float32(model, tmp_path / "model.keras")
    saved = load_model(tmp_path / "model.keras")
    reference = _float32_twin(model)
    x = _onehot(8, seed=4)
    got, want = _snv_deltas(saved, x), _snv_deltas(reference, x)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)
        assert np.count_nonzero(got[k]) == got[k].size  # no delta rounded away to 0
    g_saved = gradients(target_outputs(saved), x, TASKS)
    g_ref = gradients(target_outputs(reference), x, TASKS)
    np.testing.assert_allclose(g_saved, g_ref, rtol=1e-5, atol=1e-7)


def test_load_model_keeps_the_precision_of_a_compiled_checkpoint(mixed_policy: None,
                                                                  tmp_path: Path) -> None:
    """Resuming training needs the loss-scale optimizer state: compiled loads stay mixed."""
    from seq2func.models import load_model

    model = _train_mixed("basset", seed=1)
    model.save(tmp_path / "ckpt.keras")
    resumed = load_model(tmp_path / "ckpt.keras", compile=True)
    assert isinstance(resumed.optimizer, keras.optimizers.LossScaleOptimizer)
    assert int(resumed.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())


def test_replica_safe_batches_drop_training_and_pad_validation_remainders() -> None:
    tf = pytest.importorskip("tensorflow")
    from seq2func.train.distribute import replica_safe

    x = np.arange(21, dtype=np.float32).reshape(21, 1)
    ds = tf.data.Dataset.from_tensor_slices((x, {"labels": x})).batch(8)
    assert replica_safe(ds, 8, 1, training=True) is ds
    train = list(replica_safe(ds, 8, 2, training=True).as_numpy_iterator())
    assert [b[0].shape[0] for b in train] == [8, 8]
    val = list(replica_safe(ds, 8, 2, training=False).as_numpy_iterator())
    assert [b[0].shape[0] for b in val] == [8, 8, 8]
    xs, ys, ws = (np.concatenate([b[i] if i != 1 else b[1]["labels"] for b in val])
                  for i in range(3))
    np.testing.assert_array_equal(xs[ws == 1][:, 0], np.arange(21))
    assert ws.sum() == 21 and (xs[ws == 0] == 0).all() and (ys[ws == 0] == 0).all()


@pytest.mark.slow
def test_two_replicas_with_a_last_batch_of_one_example(tmp_path: Path) -> None:
    """MirroredStrategy over 2 logical CPUs: finite losses, synchronised batch norm, one read
    of the data per epoch."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               TF_ENABLE_ONEDNN_OPTS="0", PYTHONPATH=str(REPO / "src"))
    res = subprocess.run([sys.executable, str(REPO / "tests" / "data" / "multi_replica.py"),
                          str(tmp_path)], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    out = json.loads((tmp_path / "result.json").read_text())
    assert out["replicas"] == 2
    fit = out["fit"]
    assert fit["global_batch_size"] == 16 and fit["n_train"] % 16 == 1 and fit["n_valid"] % 16 == 1
    assert np.isfinite(fit["losses"]).all() and fit["weights_finite"]
    # one pass per epoch over each split (Keras's build-time read under a strategy is gone)
    assert fit["train_batches_per_pass"] == [4, 4] and fit["valid_batches_per_pass"] == [2, 2]
    bn = out["batchnorm"]
    assert bn["synchronized"] and bn["n_replica_copies"] == 2 and bn["replica_copies_equal"]
    np.testing.assert_allclose(bn["moving_mean"], bn["global_mean"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn["moving_variance"], bn["global_variance"], rtol=1e-3,
                               atol=1e-5)
    # the global variance is not the replicas' average variance: the check above can tell
    assert np.max(np.abs(np.subtract(bn["global_variance"],
                                     bn["mean_of_replica_variances"]))) > 0.01


def test_determinism_auto_and_the_checkpoint_key() -> None:
    from seq2func.train.runtime import DeviceInfo, resolve_deterministic

    assert resolve_deterministic("auto", gpu=False) is True
    assert resolve_deterministic("auto", gpu=True) is False
    assert resolve_deterministic(True, gpu=True) is True
    with pytest.raises(ValueError):
        resolve_deterministic("sometimes", gpu=False)
    cpu = DeviceInfo(kind="cpu", n_gpus=0, names=[], mixed_precision=False, deterministic=True,
                     description="CPU", tensorflow="2", built_with_cuda=False)
    assert cpu.resume_key() == {"mixed_precision": False, "replicas": 1}
    assert cpu.global_batch(64) == 64 and cpu.steps_per_execution("auto") == 1
    assert cpu.steps_per_execution(4) == 4


def test_a_checkpoint_of_another_precision_is_not_resumed(tmp_path: Path) -> None:
    """The resolved precision is part of the checkpoint's hash: a run that resolves it
    differently starts over instead of loading an optimizer state that does not fit."""
    from dataclasses import replace

    tf = pytest.importorskip("tensorflow")
    from seq2func.train.loop import fit
    from seq2func.train.runtime import configure_runtime
    from seq2func.train.settings import TrainSettings

    device = configure_runtime(seed=0, deterministic=True, threads=1)
    x = _onehot(64, seed=1)
    y = {"labels": (np.random.default_rng(2).random((64, TASKS)) < 0.5).astype(np.float32)}

    def run(dev: Any, epochs: int) -> dict[str, Any]:
        return fit(build_model=lambda: _build("basset"),
                   compile_model=lambda m, lr: m.compile(
                       optimizer=keras.optimizers.Adam(lr),
                       loss={"labels": keras.losses.BinaryCrossentropy(from_logits=True)}),
                   train_data=lambda e: tf.data.Dataset.from_tensor_slices((x, y)).batch(16),
                   val_data=lambda: tf.data.Dataset.from_tensor_slices((x, y)).batch(16),
                   settings=TrainSettings.from_config({"max_epochs": epochs, "batch_size": 16}),
                   outdir=tmp_path, run_config={"test": "precision"}, device=dev)

    run(device, 1)
    assert run(device, 2)["resumed_after_epoch"] == 1
    other = replace(device, mixed_precision=True)  # as a node that resolves auto to float16
    assert run(other, 3)["resumed_after_epoch"] is None
