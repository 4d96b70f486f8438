"""The TensorFlow runtime of a run: device, distribution strategy, precision, seeds, determinism.

:func:`configure_runtime` picks the device (all visible GPUs through ``MirroredStrategy``, one GPU
directly, otherwise the CPU with a loud warning), mixed precision where the GPU supports it (for
training; inference runs in float32 unless asked otherwise), seeds and TensorFlow's
deterministic mode (``auto``: on for the CPU, off on GPUs), and returns what the run used
(:class:`DeviceInfo`, recorded in every ``run.json``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: steps per execution of ``auto`` on GPUs
GPU_STEPS_PER_EXECUTION = 16

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
    """What the run actually used.

    Attributes
    ----------
    kind
        ``gpu`` or ``cpu``.
    n_gpus, names
        Visible GPUs and their device names.
    mixed_precision, deterministic
        Whether float16 compute and TensorFlow's deterministic ops are on.
    description
        One line for logs and provenance records.
    tensorflow, built_with_cuda
        The TensorFlow version and whether it was built with CUDA.
    strategy
        The ``tf.distribute`` strategy to build and train models under.
    """

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
        """The fields as plain values (the strategy by its class name), for ``run.json``."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "strategy"}
        d["strategy"] = type(self.strategy).__name__
        d["replicas"] = self.replicas
        return d

    @property
    def replicas(self) -> int:
        """Replicas training runs on (``strategy.num_replicas_in_sync``: the GPUs of a
        ``MirroredStrategy``, else 1); a training batch holds ``batch_size`` examples per
        replica."""
        return int(self.strategy.num_replicas_in_sync) if self.strategy is not None else 1

    def resume_key(self) -> dict[str, Any]:
        """What a checkpoint must have been made with to be resumed here (part of its
        configuration hash): the precision (a mixed-precision checkpoint holds a loss-scale
        optimizer that a float32 run cannot load, and vice versa) and the replicas (the global
        batch, hence the data of every step). The kind of device is not part of it: with the
        same precision and replicas the whole state loads on a CPU or a GPU node (bitwise equal
        continuations still need deterministic kernels on the same kind of device)."""
        return {"mixed_precision": self.mixed_precision, "replicas": self.replicas}

    def global_batch(self, per_replica: int) -> int:
        """Examples per training step over all replicas (``per_replica`` x replicas)."""
        return int(per_replica) * self.replicas

    def steps_per_execution(self, setting: int | str) -> int:
        """Training steps per call of the compiled step function: ``auto`` = 1 on the CPU,
        :data:`GPU_STEPS_PER_EXECUTION` on GPUs (fewer host round trips); else the setting."""
        if setting == "auto":
            return GPU_STEPS_PER_EXECUTION if self.kind == "gpu" else 1
        return int(setting)


def configure_runtime(seed: int, deterministic: bool | str = True, threads: int = 0,
                      mixed_precision: str = "off") -> DeviceInfo:
    """Configure TensorFlow/Keras for a run and report the device used.

    Must be called before any model is built.

    Parameters
    ----------
    seed
        Seeds Python, numpy and TensorFlow (``keras.utils.set_random_seed``).
    deterministic
        TensorFlow's deterministic ops: ``True``, ``False`` or ``"auto"`` (on for the CPU, off
        when a GPU is visible: deterministic GPU kernels forgo cuDNN autotuning).
    threads
        > 0 bounds TensorFlow's CPU thread pools (Snakemake's ``threads``).
    mixed_precision
        ``"auto"`` (on for GPUs of compute capability >= 7.0), ``"on"`` or ``"off"`` (the
        default: float32, as inference runs; training passes its setting). Without mixed
        precision TensorFloat-32 is off too, so float32 ops compute in float32 on any GPU.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    _limit_threads(tf, threads)
    gpus = tf.config.list_physical_devices("GPU")
    for g in gpus:
        try:
            tf.config.experimental.set_memory_growth(g, True)
        except RuntimeError:
            pass
    names, capable = _gpu_names(tf, gpus)
    use_mp = (mixed_precision == "on") or (mixed_precision == "auto" and capable)
    keras.mixed_precision.set_global_policy("mixed_float16" if use_mp else "float32")
    # float32 means float32: no TensorFloat-32 matmuls/convolutions (10-bit mantissa) on
    # Ampere and later GPUs, which TensorFlow otherwise uses for float32 ops
    tf.config.experimental.enable_tensor_float_32_execution(use_mp)
    keras.utils.set_random_seed(int(seed))
    determinism = resolve_deterministic(deterministic, bool(gpus))
    if determinism:
        tf.config.experimental.enable_op_determinism()
    strategy, desc = _strategy(tf, names)
    if use_mp:
        desc += ", mixed precision (float16)"
    info = DeviceInfo(kind="gpu" if gpus else "cpu", n_gpus=len(gpus), names=names,
                      mixed_precision=use_mp, deterministic=determinism, description=desc,
                      tensorflow=tf.__version__, built_with_cuda=tf.test.is_built_with_cuda(),
                      strategy=strategy)
    log.info("device: %s", desc)
    return info


def resolve_deterministic(setting: bool | str, gpu: bool) -> bool:
    """The ``deterministic`` setting resolved: ``auto`` is on for the CPU, off on a GPU.

    Raises
    ------
    ValueError
        For a string other than ``auto``.
    """
    if isinstance(setting, str):
        if setting != "auto":
            raise ValueError(f"deterministic must be true, false or 'auto', not {setting!r}")
        return not gpu
    return bool(setting)


def set_determinism(on: bool) -> None:
    """Turn TensorFlow's deterministic ops on or off, process-wide (TensorFlow's public API
    can only turn them on; ``seq2func check-gpu`` compares both)."""
    from tensorflow.python.framework import config

    if on:
        config.enable_op_determinism()
    else:
        config.disable_op_determinism()


def _limit_threads(tf: Any, threads: int) -> None:
    """Bound the intra-op pool to ``threads`` and the inter-op pool to ``min(2, threads)``."""
    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        except RuntimeError:  # already initialised in this process
            log.debug("TensorFlow thread pools already initialised")


def _gpu_names(tf: Any, gpus: list[Any]) -> tuple[list[str], bool]:
    """Device names of the GPUs, and whether all of them have compute capability >= 7.0
    (False without GPUs)."""
    names = []
    capable = bool(gpus)
    for g in gpus:
        details = tf.config.experimental.get_device_details(g)
        names.append(str(details.get("device_name", g.name)))
        cc = details.get("compute_capability") or (0, 0)
        capable = capable and tuple(cc) >= (7, 0)
    return names, capable


def _strategy(tf: Any, names: list[str]) -> tuple[Any, str]:
    """The distribution strategy for ``names`` GPUs and its description (CPU: a warning)."""
    if len(names) > 1:
        desc = f"{len(names)} GPUs (MirroredStrategy): {', '.join(names)}"
        return tf.distribute.MirroredStrategy(), desc
    if len(names) == 1:
        return tf.distribute.OneDeviceStrategy("/gpu:0"), f"1 GPU: {names[0]}"
    log.warning(CPU_WARNING)
    return tf.distribute.get_strategy(), "CPU (no GPU visible to TensorFlow)"
