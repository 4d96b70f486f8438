"""The training input pipeline as a ``tf.data.Dataset`` (TensorFlow is imported here only)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from seq2func.dataset.meta import Dataset, PathLike, as_dataset
from seq2func.dataset.readers import TARGETS, check_targets, iter_batches
from seq2func.dataset.shards import verify_split


def make_tf_dataset(dataset: Dataset | PathLike, split: str, batch_size: int, *, shuffle: bool,
                    jitter: bool, reverse_complement: bool, seed: int,
                    targets: Sequence[str] = TARGETS, repeat: bool = False,
                    fold: str | None = None, drop_remainder: bool = False,
                    shuffle_buffer: int = 4096) -> Any:
    """A ``tf.data.Dataset`` of ``(one_hot, {target: tensor})`` batches (:mod:`seq2func.dataset`).

    ``one_hot`` is float32 ``[B, input_length, 4]``; ``labels`` and ``log_counts`` float32
    ``[B, T]``; ``profile`` float32 ``[B, profile_length // profile_bin, T]``. Batches come from
    :func:`~seq2func.dataset.readers.iter_batches` (deterministic given ``seed``); each new
    iteration over a non-repeating dataset is a new pass with its own shuffle (pass 0, 1, ...).
    Batches are prefetched.
    """
    import tensorflow as tf

    ds = as_dataset(dataset)
    verify_split(ds, split, fold)  # (errors inside the generator would reach TF, not the user)
    targets = check_targets(targets)
    T = ds.meta.n_tasks
    geo = ds.geometry
    shapes = {"labels": (None, T), "log_counts": (None, T), "profile": (None, geo.profile_bins, T)}
    signature = (tf.TensorSpec((None, geo.input_length, 4), tf.float32),
                 {k: tf.TensorSpec(shapes[k], tf.float32) for k in targets})
    passes = {"n": 0}

    def generator() -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        epoch = passes["n"]
        passes["n"] += 1
        yield from iter_batches(ds, split, batch_size, shuffle=shuffle, jitter=jitter,
                                reverse_complement=reverse_complement, seed=seed,
                                targets=targets, repeat=repeat, fold=fold,
                                drop_remainder=drop_remainder, shuffle_buffer=shuffle_buffer,
                                epoch=epoch)

    return tf.data.Dataset.from_generator(generator, output_signature=signature).prefetch(
        tf.data.AUTOTUNE)
