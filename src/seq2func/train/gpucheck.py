"""``seq2func check-gpu``: a self-check of the GPU path, written as one JSON report.

Run it first on a GPU node (minutes) and report its JSON with any GPU problem. Every check
uses small models and data it generates itself (no dataset, no network) and runs the same code
as the workflow (:func:`~seq2func.train.runtime.configure_runtime`, :func:`~seq2func.train.loop.fit`
with its checkpoints, :func:`~seq2func.models.load_model`, :func:`~seq2func.models.load_ensemble`,
:func:`~seq2func.models.predict_both_strands` and the attribution gradients):

``environment``
    TensorFlow and its CUDA/cuDNN build, the GPUs with their compute capability, the driver,
    ``CUDA_VISIBLE_DEVICES`` and ``CUDA_CACHE_PATH`` (skipped without a GPU, saying so).
``training``
    Basset and BPNet train in mixed precision (float16 compute, loss scaling) with finite
    losses; a run interrupted after one epoch and resumed equals the uninterrupted run.
``float32_model``
    The saved model reloads as float32 and its predictions, SNV deltas and input gradients
    match a float32 model with the same weights (the float16 model's own deviation is reported
    beside them).
``ensemble``
    The seed ensemble of two models equals the mean of its members' probabilities.
``throughput``
    Training examples/s at two batch sizes with deterministic ops on and off (on the CPU the
    numbers are measured but say nothing about a GPU: the report says so).

The report's ``passed`` is true when no check failed (skipped ones do not count).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seq2func.core.io import write_text_atomic

log = logging.getLogger(__name__)

#: tolerances of the comparisons (absolute; predictions and log counts, probabilities)
TOLERANCE = {"float32_vs_reference": 1e-5, "ensemble_vs_member_mean": 1e-5,
             "resume_vs_uninterrupted": 0.0}
#: the oldest NVIDIA driver of the CUDA 12.5 level the TensorFlow 2.21 wheel is built with
MIN_DRIVER = (555, 42)


@dataclass(frozen=True)
class Scale:
    """Sizes of the check's models, data and timings (small on the CPU)."""

    length: int
    n_examples: int
    batch_sizes: tuple[int, int]
    timed_steps: int
    basset: dict[str, Any]
    bpnet: dict[str, Any]

    @classmethod
    def for_device(cls, gpu: bool) -> Scale:
        if gpu:
            return cls(length=1000, n_examples=4096, batch_sizes=(64, 256), timed_steps=60,
                       basset={"conv_filters": [300, 200, 200], "conv_kernels": [19, 11, 7],
                               "pool_sizes": [3, 4, 4], "dense_units": 1000, "dropout": 0.3},
                       bpnet={"filters": 64, "n_dilated_layers": 8, "conv1_kernel": 21,
                              "profile_kernel": 75, "counts_head": "gap"})
        return cls(length=200, n_examples=384, batch_sizes=(32, 64), timed_steps=8,
                   basset={"conv_filters": [16, 16], "conv_kernels": [9, 5],
                           "pool_sizes": [4, 4], "dense_units": 16, "dropout": 0.2},
                   bpnet={"filters": 8, "n_dilated_layers": 2, "conv1_kernel": 9,
                          "profile_kernel": 15, "counts_head": "logsumexp"})


PROFILE_BIN, TASKS = 5, 2


def check_gpu(out: str | Path, threads: int = 0, workdir: str | Path | None = None
              ) -> dict[str, Any]:
    """Run every check and write the JSON report to ``out``.

    Parameters
    ----------
    out
        The report (JSON).
    threads
        CPU threads for TensorFlow (0: its default).
    workdir
        Where the check's models go (default: a temporary directory, removed afterwards).

    Returns
    -------
    dict
        The report.
    """
    from seq2func.train.runtime import configure_runtime

    t0 = time.time()
    device = configure_runtime(seed=0, deterministic=True, threads=threads, mixed_precision="on")
    scale = Scale.for_device(device.kind == "gpu")
    root = Path(workdir or tempfile.mkdtemp(prefix="seq2func_check_gpu_"))
    try:
        checks = _run_checks(device, scale, root)
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    report = _report(device, checks, time.time() - t0)
    write_text_atomic(out, json.dumps(report, indent=2, sort_keys=True, default=_plain) + "\n")
    log.info("check-gpu: %s (%s); report in %s", "PASSED" if report["passed"] else "FAILED",
             device.description, out)
    return report


def _run_checks(device: Any, scale: Scale, root: Path) -> dict[str, dict[str, Any]]:
    """Every check, in order; one that raises is reported as failed with its error."""
    checks: dict[str, dict[str, Any]] = {"environment": _timed(lambda: environment(device))}
    models: dict[str, Path] = {}
    checks["training"] = _timed(lambda: training(device, scale, root, models))
    checks["float32_model"] = _timed(lambda: float32_model(scale, models))
    checks["ensemble"] = _timed(lambda: ensemble(device, scale, root, models))
    checks["throughput"] = _timed(lambda: throughput(device, scale))
    return checks


def _timed(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    t0 = time.time()
    try:
        result = check()
    except Exception as exc:  # a check that crashes is a failed check, the others still run
        log.exception("check failed")
        result = {"status": "fail", "error": f"{type(exc).__name__}: {exc}"}
    result["seconds"] = round(time.time() - t0, 2)
    return result


def _report(device: Any, checks: dict[str, dict[str, Any]], seconds: float) -> dict[str, Any]:
    from seq2func import __version__

    return {"seq2func": __version__, "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "host": platform.node(), "device": device.record(),
            "description": device.description, "checks": checks,
            "skipped": sorted(k for k, v in checks.items() if v["status"] == "skipped"),
            "failed": sorted(k for k, v in checks.items() if v["status"] == "fail"),
            "passed": all(v["status"] != "fail" for v in checks.values()),
            "tolerances": TOLERANCE, "seconds": round(seconds, 1)}


def _plain(value: Any) -> Any:
    """JSON for numpy scalars and arrays."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


# --------------------------------------------------------------------------- environment


def environment(device: Any) -> dict[str, Any]:
    """TensorFlow's build, the GPUs, the driver and the CUDA environment variables."""
    import tensorflow as tf

    build = dict(tf.sysconfig.get_build_info())
    info: dict[str, Any] = {
        "tensorflow": tf.__version__, "built_with_cuda": tf.test.is_built_with_cuda(),
        "cuda_version": build.get("cuda_version"), "cudnn_version": build.get("cudnn_version"),
        "cuda_compute_capabilities": build.get("cuda_compute_capabilities"),
        "env": {k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "CUDA_CACHE_PATH",
                                               "CUDA_CACHE_MAXSIZE", "TF_ENABLE_ONEDNN_OPTS")},
        "driver": _driver_version()}
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        info.update(status="skipped", reason="no GPU visible to TensorFlow: GPU details, "
                    "compute capability and driver checks need a GPU node")
        return info
    info["gpus"] = [_gpu_details(tf, g) for g in gpus]
    problems = _environment_problems(info)
    info.update(status="fail" if problems else "pass", problems=problems)
    return info


def _gpu_details(tf: Any, gpu: Any) -> dict[str, Any]:
    details = tf.config.experimental.get_device_details(gpu)
    cc = tuple(details.get("compute_capability") or (0, 0))
    return {"name": details.get("device_name", gpu.name), "compute_capability": list(cc)}


def _environment_problems(info: dict[str, Any]) -> list[str]:
    """What keeps the GPU path from working well, in words."""
    problems = []
    if not info["built_with_cuda"]:
        problems.append("TensorFlow is not built with CUDA (install tensorflow[and-cuda])")
    driver = info["driver"]
    if driver and tuple(driver["version"][:2]) < MIN_DRIVER:
        problems.append(f"NVIDIA driver {driver['text']} is older than "
                        f"{MIN_DRIVER[0]}.{MIN_DRIVER[1]} (CUDA 12.5)")
    built = {int(c.split("_")[1]) for c in info["cuda_compute_capabilities"] or []
             if c.startswith("sm_")}
    for g in info["gpus"]:
        cc = 10 * g["compute_capability"][0] + g["compute_capability"][1]
        if cc not in built and not info["env"]["CUDA_CACHE_PATH"]:
            problems.append(f"{g['name']} (sm_{cc}) has no prebuilt kernels: TensorFlow "
                            "JIT-compiles PTX at start-up; set CUDA_CACHE_PATH to a persistent "
                            "directory (and CUDA_CACHE_MAXSIZE=4294967296) to compile once")
    return problems


def _driver_version() -> dict[str, Any] | None:
    """The NVIDIA driver version from ``nvidia-smi`` (None without it)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        text = subprocess.run([exe, "--query-gpu=driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30, check=True
                              ).stdout.split("\n")[0].strip()
        return {"text": text, "version": [int(p) for p in text.split(".")[:2]]}
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


# --------------------------------------------------------------------------- data and models


def synthetic_data(scale: Scale, seed: int) -> dict[str, np.ndarray]:
    """One-hot sequences with a planted word in positives, peak labels, profile counts and
    log counts that grow with the word's presence."""
    rng = np.random.default_rng(seed)
    n, length = scale.n_examples, scale.length
    codes = rng.integers(0, 4, (n, length))
    labels = (rng.random((n, TASKS)) < 0.4).astype(np.float32)
    word = np.array([0, 2, 0, 3, 0, 0])  # AGATAA
    for i in np.flatnonzero(labels[:, 0]):
        p = rng.integers(0, length - len(word))
        codes[i, p : p + len(word)] = word
    rate = 1.0 + 3.0 * labels[:, None, :]
    profile = rng.poisson(np.broadcast_to(rate, (n, length // PROFILE_BIN // 2, TASKS)))
    return {"x": np.eye(4, dtype=np.float32)[codes], "labels": labels,
            "profile": profile.astype(np.float32),
            "log_counts": np.log1p(profile.sum(axis=1)).astype(np.float32)}


def _spec(family: str, scale: Scale) -> Any:
    from seq2func.models import ModelSpec

    sizes = scale.basset if family == "basset" else {**scale.bpnet, "counts_loss_weight": 1.0}
    return ModelSpec.from_config(family, {"architecture": family, **sizes})


def _build(family: str, scale: Scale, data: dict[str, np.ndarray]) -> Any:
    from seq2func.dataset.geometry import Geometry
    from seq2func.models import build_accessibility_model

    profile_length = scale.length // 2
    geometry = Geometry(input_length=scale.length, max_jitter=0, profile_length=profile_length,
                        count_window=profile_length, profile_bin=PROFILE_BIN,
                        label_window=profile_length)
    return build_accessibility_model(_spec(family, scale), geometry, TASKS,
                                     mean_log_counts=data["log_counts"].mean(axis=0).tolist())


def _compile(family: str, scale: Scale) -> Callable[[Any, float], None]:
    import keras

    from seq2func.models import losses_for

    losses, weights = losses_for(_spec(family, scale), 1.0)

    def compile_model(model: Any, lr: float) -> None:
        model.compile(optimizer=keras.optimizers.Adam(lr), loss=losses, loss_weights=weights)

    return compile_model


def _targets(family: str, data: dict[str, np.ndarray], rows: slice) -> dict[str, np.ndarray]:
    keys = ("labels",) if family == "basset" else ("profile", "log_counts")
    return {k: data[k][rows] for k in keys}


def _fit(family: str, device: Any, scale: Scale, data: dict[str, np.ndarray], outdir: Path,
         epochs: int, seed: int) -> dict[str, Any]:
    """Train with :func:`seq2func.train.loop.fit` (checkpoints, resume) for ``epochs``."""
    import keras
    import tensorflow as tf

    from seq2func.train.loop import fit
    from seq2func.train.settings import TrainSettings

    settings = TrainSettings.from_config({"batch_size": scale.batch_sizes[0],
                                          "max_epochs": epochs, "learning_rate": 3e-3,
                                          "patience": 5}, key="accessibility.train")
    batch = device.global_batch(settings.batch_size)
    n_train = scale.n_examples * 3 // 4
    train, valid = slice(0, n_train), slice(n_train, None)

    def train_data(epoch: int) -> Any:
        order = np.random.default_rng([seed, epoch]).permutation(n_train)
        ys = {k: v[order] for k, v in _targets(family, data, train).items()}
        return tf.data.Dataset.from_tensor_slices((data["x"][train][order], ys)).batch(batch)

    def val_data() -> Any:
        return tf.data.Dataset.from_tensor_slices(
            (data["x"][valid], _targets(family, data, valid))).batch(batch)

    def build() -> Any:
        keras.utils.set_random_seed(seed)
        return _build(family, scale, data)

    return fit(build_model=build, compile_model=_compile(family, scale), train_data=train_data,
               val_data=val_data, settings=settings, outdir=outdir, device=device,
               run_config={"check": "gpu", "family": family, "seed": seed}, n_train=n_train)


# --------------------------------------------------------------------------- checks


def training(device: Any, scale: Scale, root: Path, models: dict[str, Path]) -> dict[str, Any]:
    """Mixed-precision training with finite losses; resume after epoch 1 equals 2 epochs."""
    import pandas as pd

    from seq2func.models import load_model

    result: dict[str, Any] = {"mixed_precision": device.mixed_precision}
    ok = device.mixed_precision
    for family in ("basset", "bpnet"):
        data = synthetic_data(scale, seed=1)
        full, cut = root / f"{family}_full", root / f"{family}_resumed"
        _fit(family, device, scale, data, full, epochs=2, seed=1)
        _fit(family, device, scale, data, cut, epochs=1, seed=1)
        resumed = _fit(family, device, scale, data, cut, epochs=2, seed=1)
        hist = pd.read_csv(full / "history.tsv", sep="\t")
        a = load_model(full / "model.keras").get_weights()
        b = load_model(cut / "model.keras").get_weights()
        diff = max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))
        finite = bool(np.isfinite(hist[["loss", "val_loss"]].to_numpy()).all())
        resumed_ok = resumed["resumed_after_epoch"] == 1
        result[family] = {"losses": hist[["loss", "val_loss"]].to_numpy().tolist(),
                          "finite": finite, "resumed_after_epoch": resumed["resumed_after_epoch"],
                          "resume_max_abs_weight_difference": diff}
        ok = ok and finite and resumed_ok and diff <= TOLERANCE["resume_vs_uninterrupted"]
        models[family] = full
    result["status"] = "pass" if ok else "fail"
    return result


def float32_model(scale: Scale, models: dict[str, Path]) -> dict[str, Any]:
    """The saved model is float32 and matches a float32 model with its weights; beside it, the
    deviation of the same weights computing in float16 (what a mixed-precision file gave)."""
    from seq2func.models import load_model
    from seq2func.models.precision import low_precision_layers

    result: dict[str, Any] = {}
    ok = True
    x = synthetic_data(scale, seed=7)["x"][:16]
    for family, run in models.items():
        saved = load_model(run / "model.keras")
        reference = _twin(family, scale, saved, "float32")
        dev = {"saved_vs_float32": _deviations(saved, reference, x),
               "float16_vs_float32": _deviations(_twin(family, scale, saved, "mixed_float16"),
                                                 reference, x)}
        low = low_precision_layers(saved)
        worst = max(dev["saved_vs_float32"].values())
        ok = ok and not low and worst <= TOLERANCE["float32_vs_reference"]
        result[family] = {"low_precision_layers": low, **dev}
    result["status"] = "pass" if ok else "fail"
    return result


def _twin(family: str, scale: Scale, model: Any, policy: str) -> Any:
    """The architecture built under the dtype ``policy`` with ``model``'s weights."""
    import keras

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        twin = _build(family, scale, synthetic_data(scale, seed=1))
    finally:
        keras.mixed_precision.set_global_policy(before)
    twin.set_weights(model.get_weights())
    return twin


def _deviations(model: Any, reference: Any, x: np.ndarray) -> dict[str, float]:
    """Largest absolute differences of strand-averaged predictions, SNV deltas and input
    gradients (of the logit or the log counts) between two models."""
    from seq2func.interpret.attributions import gradients, target_outputs
    from seq2func.models import predict_both_strands

    out: dict[str, float] = {}
    pred = [predict_both_strands(m, x) for m in (model, reference)]
    deltas = [_snv_deltas(m, x, p) for m, p in zip((model, reference), pred, strict=True)]
    for k in pred[1]:
        out[f"prediction_{k}"] = float(np.abs(pred[0][k] - pred[1][k]).max())
        out[f"snv_delta_{k}"] = float(np.abs(deltas[0][k] - deltas[1][k]).max())
    g = [gradients(target_outputs(m), x, TASKS) for m in (model, reference)]
    out["gradient"] = float(np.abs(g[0] - g[1]).max())
    return out


def _snv_deltas(model: Any, x: np.ndarray, ref: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Alternate minus reference predictions of the three SNVs at the centre base."""
    from seq2func.models import predict_both_strands

    centre = x.shape[1] // 2
    out: dict[str, list[np.ndarray]] = {}
    for shift in (1, 2, 3):
        alt = x.copy()
        alt[:, centre] = np.roll(x[:, centre], shift, axis=-1)
        for k, v in predict_both_strands(model, alt).items():
            out.setdefault(k, []).append(v - ref[k])
    return {k: np.stack(v) for k, v in out.items()}


def ensemble(device: Any, scale: Scale, root: Path, models: dict[str, Path]) -> dict[str, Any]:
    """The ensemble of two seeds equals the mean of its members' probabilities."""
    from seq2func.models import load_ensemble, load_model, predict_both_strands

    result: dict[str, Any] = {}
    ok = True
    x = synthetic_data(scale, seed=7)["x"][:16]
    for family, run in models.items():
        other = root / f"{family}_seed2"
        _fit(family, device, scale, synthetic_data(scale, seed=1), other, epochs=1, seed=2)
        paths = [run / "model.keras", other / "model.keras"]
        ens = predict_both_strands(load_ensemble(paths), x)
        members = [predict_both_strands(load_model(p), x) for p in paths]
        diff = {k: float(np.abs(ens[k] - np.mean([m[k] for m in members], axis=0)).max())
                for k in ens}
        ok = ok and max(diff.values()) <= TOLERANCE["ensemble_vs_member_mean"]
        result[family] = {"max_abs_difference": diff}
    result["status"] = "pass" if ok else "fail"
    return result


def throughput(device: Any, scale: Scale) -> dict[str, Any]:
    """Training examples/s of Basset at two batch sizes, deterministic ops on and off."""
    from seq2func.train.runtime import set_determinism

    data = synthetic_data(scale, seed=1)
    rows: list[dict[str, Any]] = []
    try:
        for deterministic in (True, False):
            set_determinism(deterministic)
            for batch in scale.batch_sizes:
                rows.append({"deterministic": deterministic, "batch_size": batch,
                             "examples_per_s": _examples_per_s(device, scale, data, batch)})
    finally:
        set_determinism(device.deterministic)
    result: dict[str, Any] = {"status": "pass", "model": "basset", "rows": rows,
                              "mixed_precision": device.mixed_precision}
    for batch in scale.batch_sizes:
        on, off = (r["examples_per_s"] for r in rows if r["batch_size"] == batch)
        result[f"nondeterministic_speedup_batch_{batch}"] = round(off / on, 3)
    if device.kind != "gpu":
        result["note"] = ("measured on the CPU with a small model: says nothing about a GPU "
                          "(the GPU comparison needs a GPU node)")
    return result


def _examples_per_s(device: Any, scale: Scale, data: dict[str, np.ndarray], batch: int
                    ) -> float:
    """Steady training examples/s of a fresh Basset (in-memory batches, trace excluded)."""
    import keras
    import tensorflow as tf

    with device.strategy.scope():
        keras.utils.set_random_seed(0)
        model = _build("basset", scale, data)
        _compile("basset", scale)(model, 1e-3)
    global_batch = device.global_batch(batch)
    ds = (tf.data.Dataset.from_tensor_slices((data["x"], {"labels": data["labels"]}))
          .repeat().batch(global_batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    model.fit(ds, steps_per_epoch=3, epochs=1, verbose=0)  # trace, warm up
    t0 = time.perf_counter()
    model.fit(ds, steps_per_epoch=scale.timed_steps, epochs=1, verbose=0)
    return round(scale.timed_steps * global_batch / (time.perf_counter() - t0), 1)
