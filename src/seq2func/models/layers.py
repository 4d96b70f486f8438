"""Custom Keras objects of the seq2func models, registered as ``seq2func>ClassName``.

The registered names are what a saved ``.keras`` file refers to, so they must never change:
models saved by earlier layouts of the package (``tests/data/legacy_models/``) load through
them. Importing :mod:`seq2func.models` imports this module, after which every seq2func model
loads with Keras safe mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

#: package name of the registered objects (``seq2func>ClassName``)
PACKAGE = "seq2func"


def float32_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Layer keyword arguments with the dtype policy pinned to float32.

    The numerically sensitive layers below (log-sum-exp, the ensemble mean) compute in float32
    under any global policy and whatever policy a saved file gives them (models saved in mixed
    precision by earlier versions store ``mixed_float16``); their inputs are cast to float32.
    """
    return {**kwargs, "dtype": "float32"}


def replicas_in_sync() -> int:
    """Replicas of the ``tf.distribute`` strategy in scope (1 outside a strategy, or on
    another backend than TensorFlow)."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return int(tf.distribute.get_strategy().num_replicas_in_sync)


@keras.saving.register_keras_serializable(package=PACKAGE)
class CenterCrop1D(layers.Layer):
    """Keep the central ``length`` positions of a ``[B, L, C]`` tensor.

    Parameters
    ----------
    length
        Positions kept (``(L - length) // 2`` are dropped on the left).
    """

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
class ProfilePrior(layers.Layer):
    """Add a learnt logit per profile bin and task: ``[B, bins, T] + w[bins, T]``.

    A position prior for the profile of a peak-centred window: it starts (see
    :func:`set_profile_prior`) at the log of the training peaks' average profile, the
    ``average_profile`` baseline, so a profile model starts from that baseline and its
    convolutions learn how each sequence departs from it. The weights start at zero (a
    uniform prior) until set. Always float32.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**float32_kwargs(kwargs))

    def build(self, input_shape):  # type: ignore[no-untyped-def]
        self.prior = self.add_weight(name="prior", shape=(int(input_shape[1]),
                                                          int(input_shape[2])),
                                     initializer="zeros", dtype="float32")
        super().build(input_shape)

    def call(self, x):  # type: ignore[no-untyped-def]
        return ops.cast(x, "float32") + self.prior[None]


@keras.saving.register_keras_serializable(package=PACKAGE)
class LogSumExpBin(layers.Layer):
    """Bin base-level profile logits ``[B, L, T]`` into ``[B, L // bin, T]`` by log-sum-exp.

    The softmax over bins of the result equals the sum of the base-level probabilities in each
    bin, so a binned multinomial stays exact. Always float32 (:func:`float32_kwargs`).

    Parameters
    ----------
    bin_size
        Bases per bin (a divisor of ``L``; 1 returns the input).
    """

    def __init__(self, bin_size: int, **kwargs: Any) -> None:
        super().__init__(**float32_kwargs(kwargs))
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
    """``[B, L, T]`` -> ``[B, T]``: log-sum-exp over positions (log of summed rates), in float32
    (:func:`float32_kwargs`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**float32_kwargs(kwargs))

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
    ensemble agrees with the seed ensemble of :mod:`seq2func.evaluate.accessibility` (mean of
    the members' probabilities). Always float32 (:func:`float32_kwargs`): members' float16
    outputs are cast up, never float32 ones down.

    Parameters
    ----------
    kind
        One of :attr:`KINDS`.

    Raises
    ------
    ValueError
        For another ``kind``.
    """

    KINDS = ("sigmoid", "softmax", "mean")

    def __init__(self, kind: str, **kwargs: Any) -> None:
        super().__init__(**float32_kwargs(kwargs))
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


@keras.saving.register_keras_serializable(package=PACKAGE)
class LogAddExp(layers.Layer):
    """``log(exp(a) + exp(b))`` of two tensors of one shape, in float32 (counts that add)."""

    def call(self, inputs):  # type: ignore[no-untyped-def]
        a, b = inputs
        return ops.logaddexp(ops.cast(a, "float32"), ops.cast(b, "float32"))

    def compute_output_shape(self, input_shape):  # type: ignore[no-untyped-def]
        return tuple(input_shape[0])


@keras.saving.register_keras_serializable(package=PACKAGE)
class SelectTasks(layers.Layer):
    """Pick channels of the last axis: ``[..., G] -> [..., T]``, ``out[..., t] = x[..., index[t]]``.

    Parameters
    ----------
    index
        For each output channel (task), the input channel (bias group) it copies.
    """

    def __init__(self, index: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = [int(i) for i in index]

    def call(self, x):  # type: ignore[no-untyped-def]
        return ops.take(x, self.index, axis=-1)

    def compute_output_shape(self, input_shape):  # type: ignore[no-untyped-def]
        return (*tuple(input_shape)[:-1], len(self.index))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "index": self.index}


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


@keras.saving.register_keras_serializable(package=PACKAGE)
class StrandMaxConv1D(layers.Layer):
    """A convolution over one-hot DNA whose every filter also scans the reverse strand:
    ``out[:, i, f] = max(conv(x, W_f)[i], conv(x, rc(W_f))[i])`` (plus the bias), where
    ``rc(W)`` reverses ``W`` along positions and channels (A C G T -> T G C A). A motif is
    detected in either orientation at the same position, with one set of weights (half the
    filters a strand-blind model needs); one convolution with ``2 * filters`` kernels.

    Parameters
    ----------
    filters, kernel_size
        Filters and their width (``padding="same"``).
    kernel_regularizer
        Optional regulariser of the kernel (a Keras regulariser or its config).
    """

    def __init__(self, filters: int, kernel_size: int, kernel_regularizer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):  # type: ignore[no-untyped-def]
        self.kernel = self.add_weight(name="kernel", initializer="glorot_uniform",
                                      regularizer=self.kernel_regularizer,
                                      shape=(self.kernel_size, int(input_shape[-1]),
                                             self.filters))
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def call(self, x):  # type: ignore[no-untyped-def]
        w = ops.concatenate([self.kernel, ops.flip(self.kernel, axis=(0, 1))], axis=-1)
        y = ops.conv(x, ops.cast(w, x.dtype), padding="same")
        both = ops.maximum(y[..., : self.filters], y[..., self.filters :])
        return both + ops.cast(self.bias, x.dtype)

    def compute_output_shape(self, input_shape):  # type: ignore[no-untyped-def]
        return (*tuple(input_shape)[:-1], self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size,
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)
                if self.kernel_regularizer else None}
