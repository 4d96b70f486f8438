"""Basset-style multitask classifier of peak labels (Kelley et al. 2016)."""

from __future__ import annotations

import keras
from keras import layers

from seq2func.models.layers import replicas_in_sync
from seq2func.models.specs import BassetSpec


def build_basset(input_length: int, n_tasks: int, spec: BassetSpec, name: str = "basset"
                 ) -> keras.Model:
    """Convolution blocks, a dense layer and one logit per task.

    Each block is a bias-free convolution, batch normalisation, ReLU and max-pooling. Built
    inside a distribution strategy of several replicas (``MirroredStrategy``), the batch
    normalisation layers are synchronised: their statistics are those of the global batch, the
    same on every replica (:func:`~seq2func.models.layers.replicas_in_sync`).

    Parameters
    ----------
    input_length
        Bases of the one-hot input ``sequence`` ``[B, L, 4]``.
    n_tasks
        Outputs (one per sample).
    spec
        The sizes.
    name
        The model's name.

    Returns
    -------
    keras.Model
        Output ``labels``: logits ``[B, T]`` (trained with binary cross-entropy).

    Raises
    ------
    ValueError
        If ``conv_filters``, ``conv_kernels`` and ``pool_sizes`` differ in length.
    """
    if not (len(spec.conv_filters) == len(spec.conv_kernels) == len(spec.pool_sizes)):
        raise ValueError("conv_filters, conv_kernels and pool_sizes must have the same length")
    inp = keras.Input((input_length, 4), name="sequence")
    sync = replicas_in_sync() > 1
    x = inp
    for i, (f, k, p) in enumerate(zip(spec.conv_filters, spec.conv_kernels, spec.pool_sizes,
                                      strict=True)):
        x = layers.Conv1D(f, k, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = layers.BatchNormalization(momentum=0.9, synchronized=sync, name=f"bn{i + 1}")(x)
        x = layers.Activation("relu", name=f"relu{i + 1}")(x)
        x = layers.MaxPooling1D(p, name=f"pool{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(spec.dense_units, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(momentum=0.9, synchronized=sync, name="bn_dense")(x)
    x = layers.Activation("relu", name="relu_dense")(x)
    x = layers.Dropout(spec.dropout, name="dropout")(x)
    out = layers.Dense(n_tasks, dtype="float32", name="labels")(x)
    return keras.Model(inp, {"labels": out}, name=name)
