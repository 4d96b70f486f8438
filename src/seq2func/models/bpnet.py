"""BPNet/ChromBPNet-style dilated residual network with a profile and a count head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import layers

from seq2func.models.layers import CenterCrop1D, LogSumExpBin, LogSumExpPool, ProfilePrior
from seq2func.models.specs import BPNetSpec

#: the position prior of a profile head (``profile_prior``)
PRIOR_LAYER = "profile_prior"


def build_bpnet(input_length: int, n_tasks: int, profile_length: int, profile_bin: int,
                spec: BPNetSpec, name: str = "bpnet",
                mean_log_counts: Sequence[float] | None = None) -> keras.Model:
    """A first convolution, residual dilated convolutions, then the two heads.

    Convolutions use ``same`` padding; both heads read the central ``profile_length`` bases.

    Parameters
    ----------
    input_length, n_tasks
        Bases of the one-hot input ``sequence`` ``[B, L, 4]``, and tracks (one per sample).
    profile_length, profile_bin
        Bases of the profile window and bases per profile bin (a divisor of it).
    spec, name
        The sizes and the model's name.
    mean_log_counts
        Mean training log counts per task: the count head's bias starts there. Adam moves a
        bias by about one learning rate per step, so starting from 0 costs hundreds of steps
        on a target near 5 (a small demo has no such budget).

    Returns
    -------
    keras.Model
        Outputs ``profile`` (logits ``[B, profile_length / profile_bin, T]``, multinomial NLL
        against observed counts) and ``log_counts`` (``[B, T]``, MSE).

    Raises
    ------
    ValueError
        For a profile window longer than the input or not a multiple of ``profile_bin``, or an
        unknown ``counts_head``.
    """
    if profile_length > input_length or profile_length % profile_bin:
        raise ValueError("profile_length must be <= input_length and a multiple of profile_bin")
    inp = keras.Input((input_length, 4), name="sequence")
    x = layers.Conv1D(spec.filters, spec.conv1_kernel, padding="same", activation="relu",
                      name="conv1")(inp)
    for i in range(1, spec.n_dilated_layers + 1):
        conv = layers.Conv1D(spec.filters, 3, padding="same", dilation_rate=2**i,
                             activation="relu", name=f"dil_conv{i}")(x)
        x = layers.Add(name=f"residual{i}")([x, conv])
    prof = _profile_head(x, n_tasks, profile_length, profile_bin, spec.profile_kernel,
                         spec.profile_prior)
    cnt = _counts_head(x, n_tasks, profile_length, spec.counts_head, mean_log_counts)
    return keras.Model(inp, {"profile": prof, "log_counts": cnt}, name=name)


def _profile_head(x: Any, n_tasks: int, profile_length: int, profile_bin: int, kernel: int,
                  prior: bool = False) -> Any:
    """Per-base logits, cropped to the profile window, binned by log-sum-exp
    (:class:`~seq2func.models.layers.LogSumExpBin`: the binned multinomial stays exact), plus
    a learnt position prior per bin (``prior``; :class:`~seq2func.models.layers.ProfilePrior`).

    The logits of the softmax are computed in float32 under any policy (a float16 logit is
    off by up to 0.01 at |logit| ~ 10)."""
    prof = layers.Conv1D(n_tasks, kernel, padding="same", dtype="float32",
                         name="profile_conv")(x)
    prof = CenterCrop1D(profile_length, name="profile_crop")(prof)
    prof = LogSumExpBin(profile_bin, name="profile_bin")(prof)
    if prior:
        prof = ProfilePrior(name=PRIOR_LAYER)(prof)
    return layers.Activation("linear", dtype="float32", name="profile")(prof)


def _counts_head(x: Any, n_tasks: int, profile_length: int, kind: str,
                 mean_log_counts: Sequence[float] | None) -> Any:
    """Total log counts of the profile window: ``gap`` or ``logsumexp`` (see
    :class:`~seq2func.models.specs.BPNetSpec`). The head computes in float32 under any policy
    (from the pooling or the per-base log-rates on)."""
    cnt = CenterCrop1D(profile_length, name="counts_crop")(x)
    if kind == "gap":  # BPNet/ChromBPNet: global average pooling, then dense
        bias = (keras.initializers.Constant(np.asarray(mean_log_counts, dtype=float).tolist())
                if mean_log_counts is not None else "zeros")
        cnt = layers.GlobalAveragePooling1D(dtype="float32", name="counts_pool")(cnt)
        return layers.Dense(n_tasks, dtype="float32", bias_initializer=bias,
                            name="log_counts")(cnt)
    if kind == "logsumexp":
        # per-base log-rates, summed in linear space: log(total) = logsumexp over positions
        rate = (keras.initializers.Constant(
            (np.asarray(mean_log_counts, dtype=float) - np.log(profile_length)).tolist())
            if mean_log_counts is not None else "zeros")
        cnt = layers.Conv1D(n_tasks, 1, bias_initializer=rate, dtype="float32",
                            name="counts_rate")(cnt)
        cnt = LogSumExpPool(name="counts_pool")(cnt)
        return layers.Activation("linear", dtype="float32", name="log_counts")(cnt)
    raise ValueError(f"counts_head must be 'gap' or 'logsumexp', not {kind!r}")


def set_profile_prior(model: keras.Model, average_profile: np.ndarray,
                      floor: float = 1e-3) -> bool:
    """Start a BPNet's position prior at the log of ``average_profile`` (in place).

    Parameters
    ----------
    model
        A model of :func:`build_bpnet` (or a model holding one, e.g. a chrombpnet's bias-free
        model: every :data:`PRIOR_LAYER` inside is set).
    average_profile
        ``(bins, tasks)`` mean normalised profile of the training peaks
        (:func:`seq2func.dataset.average_peak_profile`).
    floor
        Fraction of a uniform bin's share below which a bin's average is raised (a bin no
        training peak reached would otherwise start at minus infinity).

    Returns
    -------
    bool
        Whether the model had a prior to set.
    """
    avg = np.asarray(average_profile, dtype=np.float64)
    logp = np.log(np.maximum(avg, floor / avg.shape[0]))
    logp -= logp.mean(axis=0, keepdims=True)
    priors = _prior_layers(model)
    for layer in priors:
        if tuple(layer.prior.shape) != avg.shape:
            raise ValueError(f"average profile {avg.shape} does not fit the prior "
                             f"{tuple(layer.prior.shape)}")
        layer.prior.assign(logp.astype("float32"))
    return bool(priors)


def clear_profile_prior(model: keras.Model) -> bool:
    """Set every position prior inside ``model`` to zero (a uniform prior), in place.

    The prior describes peak-centred windows; windows that tile a chromosome (predicted
    tracks) are not centred on anything, so they use the translation-equivariant rest of the
    profile head. Returns whether the model had a prior.
    """
    priors = _prior_layers(model)
    for layer in priors:
        layer.prior.assign(np.zeros(tuple(layer.prior.shape), dtype="float32"))
    return bool(priors)


def _prior_layers(model: keras.Model) -> list[ProfilePrior]:
    """The position priors inside ``model``, those of nested models (a chrombpnet's bias-free
    part, an ensemble's members) included."""
    return [layer for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, ProfilePrior)]
