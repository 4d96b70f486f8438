"""The training input pipeline as a ``tf.data.Dataset`` (TensorFlow is imported here only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from seq2func.dataset.meta import Dataset, PathLike, as_dataset
from seq2func.dataset.readers import TARGETS, Selection, check_targets, iter_batches
from seq2func.dataset.shards import verify_split


def make_tf_dataset(dataset: Dataset | PathLike, split: str, batch_size: int, *, shuffle: bool,
                    jitter: bool, reverse_complement: bool, seed: int,
                    targets: Sequence[str] = TARGETS, repeat: bool = False,
                    fold: str | None = None, drop_remainder: bool = False,
                    shuffle_buffer: int = 4096, workers: int = 1,
                    select: Selection | None = None,
                    transform: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
                    | None = None, n_outputs: int | None = None) -> Any:
    """A ``tf.data.Dataset`` of ``(one_hot, {target: tensor})`` batches (:mod:`seq2func.dataset`).

    ``one_hot`` is float32 ``[B, input_length, 4]``; ``labels`` and ``log_counts`` float32
    ``[B, T]``; ``profile`` float32 ``[B, profile_length // profile_bin, T]``. Batches come from
    :func:`~seq2func.dataset.readers.iter_batches` (deterministic given ``seed``); each new
    iteration over a non-repeating dataset is a new pass with its own shuffle (pass 0, 1, ...).
    Batches are prefetched.

    With ``workers`` > 1, that many readers (one generator each, over its share of the shuffled
    block groups; each holds its own ``shuffle_buffer`` rows) run in parallel and their batches
    are interleaved in a fixed round-robin order, so the batches are still deterministic given
    ``seed`` (but not those of one reader). ``workers=1`` is one reader.

    ``select`` restricts the regions (:func:`~seq2func.dataset.readers.iter_batches`);
    ``transform`` maps each batch's targets to new ones with ``n_outputs`` tracks instead of
    the dataset's tasks (e.g. the pooled tracks of a bias model's groups).
    """
    import tensorflow as tf

    ds = as_dataset(dataset)
    verify_split(ds, split, fold)  # (errors inside the generator would reach TF, not the user)
    targets = check_targets(targets)
    T = n_outputs or ds.meta.n_tasks
    geo = ds.geometry
    shapes = {"labels": (None, T), "log_counts": (None, T), "profile": (None, geo.profile_bins, T)}
    signature = (tf.TensorSpec((None, geo.input_length, 4), tf.float32),
                 {k: tf.TensorSpec(shapes[k], tf.float32) for k in targets})
    passes = dict.fromkeys(range(workers), 0)

    def generator(worker: Any = 0) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        worker = int(worker)
        epoch = passes[worker]
        passes[worker] += 1
        batches = iter_batches(ds, split, batch_size, shuffle=shuffle, jitter=jitter,
                               reverse_complement=reverse_complement, seed=seed,
                               targets=targets, repeat=repeat, fold=fold,
                               drop_remainder=drop_remainder, shuffle_buffer=shuffle_buffer,
                               epoch=epoch, workers=workers, worker=worker, select=select)
        if transform is None:
            yield from batches
        else:
            for x, y in batches:
                yield x, transform(y)

    if workers == 1:
        out = tf.data.Dataset.from_generator(generator, output_signature=signature)
    else:
        out = tf.data.Dataset.range(workers).interleave(
            lambda w: tf.data.Dataset.from_generator(generator, args=(w,),
                                                     output_signature=signature),
            cycle_length=workers, block_length=1, num_parallel_calls=workers,
            deterministic=True)
    return out.prefetch(tf.data.AUTOTUNE)
