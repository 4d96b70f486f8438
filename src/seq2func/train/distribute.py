"""Training on several replicas (GPUs under ``MirroredStrategy``): safe batches, no read-ahead.

``MirroredStrategy`` splits each global batch across its replicas. A short last batch with fewer
examples than replicas leaves a replica empty, and batch normalisation of an empty batch is NaN
(loss, then weights). :func:`replica_safe` therefore drops the short training batches (each
pass reshuffles, so no example is left out for good) and pads the short validation batches with
zero-weight examples (the validation loss stays finite and every example is scored; the padded
rows count in the batch size, so the validation loss is scaled by examples / padded examples, the
same factor every epoch). One replica (a CPU or one GPU) gets its batches unchanged.

Keras's ``fit`` and ``evaluate`` under a strategy start by reading one batch of their data to
build the model, a read thrown away (with a generator pipeline: a pass started and discarded).
:func:`fit_reads_once` builds from the dataset's element spec instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


def replica_safe(dataset: Any, global_batch: int, replicas: int, *, training: bool) -> Any:
    """``dataset`` of ``(x, y)`` batches made safe for ``replicas`` replicas.

    Parameters
    ----------
    dataset
        A ``tf.data.Dataset`` of ``(x, y)`` batches of at most ``global_batch`` examples
        (``x`` and ``y`` tensors or dicts of tensors).
    global_batch
        Examples per step over all replicas.
    replicas
        ``strategy.num_replicas_in_sync``; 1 returns ``dataset`` itself.
    training
        Drop the short batches (training) or pad them to ``global_batch`` with zero-weight
        examples, adding a sample weight to every batch (validation).

    Returns
    -------
    tf.data.Dataset
        ``(x, y)`` batches of ``global_batch`` (training) or ``(x, y, weight)`` batches of
        ``global_batch`` (validation).
    """
    if replicas <= 1:
        return dataset
    import tensorflow as tf

    def size(x: Any) -> Any:
        return tf.shape(tf.nest.flatten(x)[0])[0]

    if training:
        return dataset.filter(lambda x, y: tf.equal(size(x), global_batch))

    def pad(x: Any, y: Any) -> tuple[Any, Any, Any]:
        n = size(x)
        missing = global_batch - n

        def pad_rows(t: Any) -> Any:
            return tf.pad(t, [[0, missing]] + [[0, 0]] * (t.shape.rank - 1))

        weight = tf.concat([tf.ones([n], tf.float32), tf.zeros([missing], tf.float32)], axis=0)
        return tf.nest.map_structure(pad_rows, x), tf.nest.map_structure(pad_rows, y), weight

    return dataset.map(pad, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


@contextlib.contextmanager
def fit_reads_once(model: Any, dataset: Any) -> Iterator[None]:
    """Within the block, ``model.fit``/``evaluate`` under a strategy read no extra batch.

    Keras 3's TensorFlow trainer builds a model created in a strategy scope from one batch it
    reads and discards at every ``fit`` and ``evaluate``; here the model (metrics, losses,
    optimizer) is built from ``dataset.element_spec`` once, and that read is skipped. Outside a
    strategy (the CPU, :func:`tf.distribute.get_strategy` default) Keras reads nothing extra
    and nothing is changed.

    Parameters
    ----------
    model
        A compiled Keras model.
    dataset
        A ``tf.data.Dataset`` of its training batches (only the element spec is used).
    """
    if getattr(model, "_distribute_strategy", None) is None:
        yield
        return
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=dataset.element_spec)
    model._maybe_symbolic_build = _built_already
    try:
        yield
    finally:
        del model._maybe_symbolic_build


def _built_already(iterator: Any = None, data_batch: Any = None) -> None:
    """Stands in for Keras's ``_maybe_symbolic_build`` once the model is built."""
