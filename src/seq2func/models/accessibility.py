"""Keras 3 models of chromatin accessibility (and the shared pieces of expression models).

Two families, chosen by ``architecture`` in the config:

* ``basset`` - a Basset-style multitask classifier: convolution/pooling blocks, a dense layer and
  one logit per task (output ``labels``), trained with binary cross-entropy on peak labels;
* ``bpnet`` - a BPNet/ChromBPNet-style dilated residual network with two heads: a base-resolution
  (optionally binned) profile head (output ``profile``: logits ``[B, bins, T]``, multinomial NLL
  against observed counts) and a total-count head (output ``log_counts``: ``[B, T]``, MSE).

Output names equal the target names of :mod:`seq2func.dataset`, so ``model.fit`` pairs them
by name. Every custom object is registered with Keras, so models load with ``safe_mode=True`` (no
arbitrary code from files) once this module is imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from seq2func.dataset.geometry import Geometry

PACKAGE = "seq2func"

# --------------------------------------------------------------------------- custom objects


@keras.saving.register_keras_serializable(package=PACKAGE)
class CenterCrop1D(layers.Layer):
    """Keep the central ``length`` positions of a ``[B, L, C]`` tensor."""

    def __init__(self, length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.length = int(length)

    def call(self, x):  # type: ignore[no-untyped-def]
        total = ops.shape(x)[1]
        start = (total - self.length) // 2
        return ops.slice(x, [0, start, 0], [ops.shape(x)[0], self.length, ops.shape(x)[2]])

    def compute_output_shape(self, input_shape):  # type: ignore[no-untyped-def]
        return (input_shape[0], self.length, input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "length": self.length}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LogSumExpBin(layers.Layer):
    """Bin base-level profile logits ``[B, L, T]`` into ``[B, L // bin, T]`` by log-sum-exp.

    The softmax over bins of the result equals the sum of the base-level probabilities in each
    bin, so a binned multinomial stays exact.
    """

    def __init__(self, bin_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bin_size = int(bin_size)

    def call(self, x):  # type: ignore[no-untyped-def]
        if self.bin_size == 1:
            return x
        shape = ops.shape(x)
        x = ops.reshape(x, (shape[0], shape[1] // self.bin_size, self.bin_size, shape[2]))
        return ops.logsumexp(x, axis=2)

    def compute_output_shape(self, input_shape):  # type: ignore[no-untyped-def]
        length = None if input_shape[1] is None else input_shape[1] // self.bin_size
        return (input_shape[0], length, input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bin_size": self.bin_size}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LogSumExpPool(layers.Layer):
    """``[B, L, T]`` -> ``[B, T]``: log-sum-exp over positions (log of summed rates)."""

    def call(self, x):  # type: ignore[no-untyped-def]
        return ops.logsumexp(x, axis=1)

    def compute_output_shape(self, input_shape):  # type: ignore[no-untyped-def]
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package=PACKAGE)
class EnsembleMean(layers.Layer):
    """Mean of several models' outputs, taken where the evaluation takes it.

    ``kind`` says what the members' output is: ``sigmoid`` (logits, e.g. ``labels``: the mean
    is of the sigmoid probabilities), ``softmax`` (logits over axis 1, e.g. ``profile``: the mean
    is of the softmax distributions) or ``mean`` (values, e.g. ``log_counts``: their mean). The
    result is returned in the members' own space (logit of the mean probability; log of the
    mean distribution), so code written for one model reads an ensemble unchanged and the
    ensemble agrees with the seed ensemble of :mod:`seq2func.evaluate.accessibility` (mean of the members'
    probabilities).
    """

    KINDS = ("sigmoid", "softmax", "mean")

    def __init__(self, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kind not in self.KINDS:
            raise ValueError(f"EnsembleMean kind must be one of {self.KINDS}, not {kind!r}")
        self.kind = kind

    def call(self, members):  # type: ignore[no-untyped-def]
        stacked = ops.stack([ops.cast(m, "float32") for m in members], axis=0)
        if self.kind == "mean":
            return ops.mean(stacked, axis=0)
        if self.kind == "sigmoid":
            # logit(mean p) = logsumexp(log p) - logsumexp(log(1 - p)), with
            # log p = -softplus(-z) and log(1 - p) = -softplus(z): stable for any z
            log_p = ops.logsumexp(-ops.softplus(-stacked), axis=0)
            log_q = ops.logsumexp(-ops.softplus(stacked), axis=0)
            return log_p - log_q
        n = float(len(members))
        return ops.logsumexp(ops.log_softmax(stacked, axis=2), axis=0) - np.log(n)

    def compute_output_shape(self, input_shape):  # type: ignore[no-untyped-def]
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kind": self.kind}


#: how :func:`load_ensemble` averages each named output (others: ``mean``)
ENSEMBLE_KINDS = {"labels": "sigmoid", "profile": "softmax"}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MultinomialNLL(keras.losses.Loss):
    """Multinomial negative log-likelihood of observed profile counts given profile logits.

    ``y_true``: counts ``[B, bins, T]``; ``y_pred``: logits ``[B, bins, T]``. Per example and task,
    ``-sum_bins counts * log_softmax(logits)`` (the multinomial coefficient does not depend on the
    model and is omitted), averaged over tasks. As in BPNet/ChromBPNet, the loss scales with the
    number of reads, which the count-loss weight balances.
    """

    def __init__(self, name: str = "multinomial_nll", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):  # type: ignore[no-untyped-def]
        y_true = ops.cast(y_true, "float32")
        logp = ops.log_softmax(ops.cast(y_pred, "float32"), axis=1)
        nll = -ops.sum(y_true * logp, axis=1)  # [B, T]
        return ops.mean(nll, axis=-1)


# --------------------------------------------------------------------------- specifications


@dataclass
class BassetSpec:
    """Sizes of a Basset-style classifier (config keys of the same names)."""

    conv_filters: Sequence[int] = (64, 64, 64)
    conv_kernels: Sequence[int] = (19, 11, 7)
    pool_sizes: Sequence[int] = (3, 4, 4)
    dense_units: int = 128
    dropout: float = 0.3


@dataclass
class BPNetSpec:
    """Sizes of a BPNet-style model (config keys of the same names)."""

    filters: int = 64
    conv1_kernel: int = 21
    n_dilated_layers: int = 8
    profile_kernel: int = 75
    counts_loss_weight: float | str = "auto"
    counts_head: str = "gap"


@dataclass
class ModelSpec:
    """A model of the config: its architecture and sizes."""

    name: str
    architecture: str
    params: dict[str, Any] = field(default_factory=dict)

    def outputs(self) -> tuple[str, ...]:
        """Target names this model predicts."""
        return ("labels",) if self.architecture == "basset" else ("profile", "log_counts")


BASSET_KEYS = set(BassetSpec.__dataclass_fields__)
BPNET_KEYS = set(BPNetSpec.__dataclass_fields__)
#: keys every model entry may carry besides its sizes
COMMON_KEYS = {"architecture", "seeds"}


def parse_model_config(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Check one entry of ``accessibility.models`` and return it.

    Raises :class:`~seq2func.core.errors.ConfigError` naming ``accessibility.models.<name>.<key>``
    for an unknown architecture or a key that belongs to the other architecture.
    """
    from seq2func.core.errors import ConfigError

    arch = spec.get("architecture")
    where = f"accessibility.models.{name}"
    if arch not in ("basset", "bpnet"):
        raise ConfigError("config", f"{where}.architecture",
                          f"{arch!r} is not a known architecture", "use 'basset' or 'bpnet'")
    allowed = (BASSET_KEYS if arch == "basset" else BPNET_KEYS) | COMMON_KEYS
    for key in spec:
        if key not in allowed:
            raise ConfigError("config", f"{where}.{key}",
                              f"not a setting of a {arch} model",
                              f"allowed: {', '.join(sorted(allowed))}")
    return {k: v for k, v in spec.items() if k != "seeds"}


def build_basset(input_length: int, n_tasks: int, spec: BassetSpec, name: str = "basset"
                 ) -> keras.Model:
    """Basset-style multitask classifier; output ``labels`` holds logits ``[B, T]``."""
    if not (len(spec.conv_filters) == len(spec.conv_kernels) == len(spec.pool_sizes)):
        raise ValueError("conv_filters, conv_kernels and pool_sizes must have the same length")
    inp = keras.Input((input_length, 4), name="sequence")
    x = inp
    for i, (f, k, p) in enumerate(zip(spec.conv_filters, spec.conv_kernels, spec.pool_sizes,
                                      strict=True)):
        x = layers.Conv1D(f, k, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{i + 1}")(x)
        x = layers.Activation("relu", name=f"relu{i + 1}")(x)
        x = layers.MaxPooling1D(p, name=f"pool{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(spec.dense_units, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(momentum=0.9, name="bn_dense")(x)
    x = layers.Activation("relu", name="relu_dense")(x)
    x = layers.Dropout(spec.dropout, name="dropout")(x)
    out = layers.Dense(n_tasks, dtype="float32", name="labels")(x)
    return keras.Model(inp, {"labels": out}, name=name)


def build_bpnet(input_length: int, n_tasks: int, profile_length: int, profile_bin: int,
                spec: BPNetSpec, name: str = "bpnet",
                mean_log_counts: Sequence[float] | None = None) -> keras.Model:
    """BPNet-style dilated residual network with profile and count heads.

    Convolutions use ``same`` padding; the profile head is cropped to the central
    ``profile_length`` bases, then binned by log-sum-exp (:class:`LogSumExpBin`).
    ``mean_log_counts`` (per task, from the training set) initialises the count head's bias so
    that training starts at the mean: Adam moves a bias by about one learning rate per step, so
    starting from 0 costs hundreds of steps on a target near 5 (a small demo has no such
    budget).
    """
    counts_init = (keras.initializers.Constant(np.asarray(mean_log_counts, dtype=float).tolist())
                   if mean_log_counts is not None else "zeros")
    rate_init = (keras.initializers.Constant(
        (np.asarray(mean_log_counts, dtype=float) - np.log(profile_length)).tolist())
        if mean_log_counts is not None else "zeros")
    if profile_length > input_length or profile_length % profile_bin:
        raise ValueError("profile_length must be <= input_length and a multiple of profile_bin")
    inp = keras.Input((input_length, 4), name="sequence")
    x = layers.Conv1D(spec.filters, spec.conv1_kernel, padding="same", activation="relu",
                      name="conv1")(inp)
    for i in range(1, spec.n_dilated_layers + 1):
        conv = layers.Conv1D(spec.filters, 3, padding="same", dilation_rate=2**i,
                             activation="relu", name=f"dil_conv{i}")(x)
        x = layers.Add(name=f"residual{i}")([x, conv])
    prof = layers.Conv1D(n_tasks, spec.profile_kernel, padding="same", name="profile_conv")(x)
    prof = CenterCrop1D(profile_length, name="profile_crop")(prof)
    prof = LogSumExpBin(profile_bin, name="profile_bin")(prof)
    prof = layers.Activation("linear", dtype="float32", name="profile")(prof)
    cnt = CenterCrop1D(profile_length, name="counts_crop")(x)
    if spec.counts_head == "gap":  # BPNet/ChromBPNet: global average pooling, then dense
        cnt = layers.GlobalAveragePooling1D(name="counts_pool")(cnt)
        cnt = layers.Dense(n_tasks, dtype="float32", bias_initializer=counts_init,
                           name="log_counts")(cnt)
    elif spec.counts_head == "logsumexp":
        # per-base log-rates, summed in linear space: log(total) = logsumexp over positions
        cnt = layers.Conv1D(n_tasks, 1, bias_initializer=rate_init, name="counts_rate")(cnt)
        cnt = LogSumExpPool(name="counts_pool")(cnt)
        cnt = layers.Activation("linear", dtype="float32", name="log_counts")(cnt)
    else:
        raise ValueError(f"counts_head must be 'gap' or 'logsumexp', not {spec.counts_head!r}")
    return keras.Model(inp, {"profile": prof, "log_counts": cnt}, name=name)


def build_accessibility_model(spec: ModelSpec, geometry: Geometry, n_tasks: int,
                              mean_log_counts: Sequence[float] | None = None) -> keras.Model:
    """Build the model named by ``spec`` for a dataset's window geometry and task count.

    ``mean_log_counts`` initialises a count head (see :func:`build_bpnet`).
    """
    p = dict(spec.params)
    if spec.architecture == "basset":
        known = set(BassetSpec.__dataclass_fields__)
        return build_basset(geometry.input_length, n_tasks,
                            BassetSpec(**{k: v for k, v in p.items() if k in known}),
                            name=spec.name)
    if spec.architecture == "bpnet":
        known = set(BPNetSpec.__dataclass_fields__)
        return build_bpnet(geometry.input_length, n_tasks, geometry.profile_length,
                           geometry.profile_bin,
                           BPNetSpec(**{k: v for k, v in p.items() if k in known}),
                           name=spec.name, mean_log_counts=mean_log_counts)
    raise ValueError(f"unknown architecture {spec.architecture!r}; use 'basset' or 'bpnet'")


def losses_for(spec: ModelSpec, counts_loss_weight: float = 1.0
               ) -> tuple[dict[str, Any], dict[str, float]]:
    """Losses and loss weights (by output name) of an accessibility model."""
    if spec.architecture == "basset":
        return {"labels": keras.losses.BinaryCrossentropy(from_logits=True)}, {"labels": 1.0}
    return ({"profile": MultinomialNLL(), "log_counts": keras.losses.MeanSquaredError()},
            {"profile": 1.0, "log_counts": float(counts_loss_weight)})


def auto_counts_loss_weight(log_counts: np.ndarray) -> float:
    """ChromBPNet's heuristic: the median total count in training peaks divided by 10.

    ``log_counts`` are the natural-log targets ``log(1 + counts)`` of training regions.
    """
    return float(max(np.median(np.expm1(np.asarray(log_counts))) / 10.0, 1.0))


# --------------------------------------------------------------------------- prediction


def reverse_complement_onehot(x: np.ndarray) -> np.ndarray:
    """Reverse complement of one-hot ``[B, L, 4]`` (A C G T order)."""
    return x[:, ::-1, ::-1]


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def predict_both_strands(model: keras.Model, x: np.ndarray, batch_size: int = 256
                         ) -> dict[str, np.ndarray]:
    """Predict on the sequences and their reverse complements and average the two strands.

    Returns probabilities for ``labels`` (sigmoid), per-bin probabilities for ``profile``
    (softmax over bins, the reverse-strand profile flipped back), and ``log_counts``.
    """
    fwd = model.predict(x, batch_size=batch_size, verbose=0)
    rev = model.predict(reverse_complement_onehot(x), batch_size=batch_size, verbose=0)
    out: dict[str, np.ndarray] = {}
    if "labels" in fwd:
        sig = lambda z: 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))  # noqa: E731
        out["labels"] = 0.5 * (sig(fwd["labels"]) + sig(rev["labels"]))
    if "profile" in fwd:
        pf = _softmax(np.asarray(fwd["profile"], dtype=np.float64), axis=1)
        pr = _softmax(np.asarray(rev["profile"], dtype=np.float64), axis=1)[:, ::-1, :]
        out["profile"] = 0.5 * (pf + pr)
    if "log_counts" in fwd:
        out["log_counts"] = 0.5 * (np.asarray(fwd["log_counts"]) + np.asarray(rev["log_counts"]))
    return out


def load_model(path: str, compile: bool = False) -> keras.Model:
    """Load a seq2func model with Keras safe mode (custom objects are the registered ones)."""
    return keras.models.load_model(path, safe_mode=True, compile=compile)


def load_ensemble(paths: Sequence[str | Path], name: str | None = None) -> keras.Model:
    """One model averaging the outputs of the models at ``paths`` (e.g. the seeds of a model).

    A single path gives that model itself. Several give a functional model with the members'
    input and outputs, each output the :class:`EnsembleMean` of the members' (probabilities for
    ``labels`` and ``profile``, values for any other output such as ``log_counts`` or an
    expression model's single output), so predictions, gradients and variant scores of the
    ensemble are those of the seed ensemble the evaluation reports.

    Raises
    ------
    ValueError
        If there is no path.
    seq2func.core.errors.InputError
        If a member has several inputs, or the members' input shapes or output names differ
        (the message names the file).
    """
    from seq2func.core.errors import InputError

    if not paths:
        raise ValueError("load_ensemble needs at least one model path")
    members = [load_model(str(p)) for p in paths]
    if len(members) == 1:
        return members[0]

    def signature(model: keras.Model) -> tuple[Any, ...]:
        out = sorted(model.output) if isinstance(model.output, dict) else None
        return len(model.inputs), tuple(model.inputs[0].shape[1:]), out

    first = signature(members[0])
    for path, member in zip(paths, members, strict=True):
        sig = signature(member)
        if sig[0] != 1:
            raise InputError(path, f"an ensemble needs single-input models, this one has "
                             f"{sig[0]} inputs", fix="pass one such model (no ensemble)")
        if sig != first:
            raise InputError(
                path, f"input shape {sig[1]} and outputs {sig[2]} differ from {paths[0]} "
                f"({first[1]}, {first[2]})",
                fix="ensemble only seeds of one model trained on one dataset")
    for i, member in enumerate(members):
        member.name = f"member{i}"
    x = keras.Input(shape=first[1], name="sequence")
    results = [member(x) for member in members]
    if first[2] is None:
        averaged: Any = EnsembleMean("mean", name="ensemble_mean")(results)
    else:
        averaged = {k: EnsembleMean(ENSEMBLE_KINDS.get(k, "mean"), name=k)([r[k] for r in results])
                    for k in first[2]}
    return keras.Model(x, averaged, name=name or f"ensemble_of_{len(members)}")


def predict_split(model_path: str, dataset_dir: str, split: str, batch_size: int = 256
                  ) -> dict[str, np.ndarray]:
    """Strand-averaged predictions of a model for every region of a dataset split.

    Returns ``region_id`` and the model's outputs (see :func:`predict_both_strands`), in the
    order of the split's rows in ``regions.tsv.gz``.
    """
    from seq2func.core.sequence import one_hot
    from seq2func.dataset import iter_numpy

    model = load_model(model_path)
    parts: dict[str, list[np.ndarray]] = {}
    for piece in iter_numpy(dataset_dir, split, with_profile=False):
        if len(piece.regions) != piece.codes.shape[0]:  # splits are whole chromosomes
            raise ValueError(f"{dataset_dir}: shard piece of {piece.chrom} mixes splits")
        if not len(piece.regions):
            continue
        pred = predict_both_strands(model, one_hot(piece.codes), batch_size=batch_size)
        parts.setdefault("region_id", []).append(piece.regions["region_id"].to_numpy())
        for k, v in pred.items():
            parts.setdefault(k, []).append(v.astype(np.float32))
    if not parts:
        raise ValueError(f"split {split!r} of {dataset_dir} has no regions")
    return {k: np.concatenate(v) for k, v in parts.items()}
