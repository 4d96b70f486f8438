"""Build an accessibility model from its spec, with its losses and loss weights."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from seq2func.dataset.geometry import Geometry
from seq2func.models.basset import build_basset
from seq2func.models.bpnet import build_bpnet
from seq2func.models.layers import MultinomialNLL
from seq2func.models.specs import BassetSpec, ModelSpec


def build_accessibility_model(spec: ModelSpec, geometry: Geometry, n_tasks: int,
                              mean_log_counts: Sequence[float] | None = None) -> keras.Model:
    """The model named by ``spec`` for a dataset's window geometry and task count.

    Parameters
    ----------
    spec
        Architecture and sizes (missing sizes take the schema's defaults).
    geometry
        The dataset's windows (input length; profile length and bin of BPNet models).
    n_tasks
        Outputs per head.
    mean_log_counts
        Initialises a count head (see :func:`seq2func.models.bpnet.build_bpnet`).

    Returns
    -------
    keras.Model
        Uncompiled; its outputs are named like the dataset's targets (:meth:`ModelSpec.outputs`).
    """
    sizes = spec.sizes
    if isinstance(sizes, BassetSpec):
        return build_basset(geometry.input_length, n_tasks, sizes, name=spec.name)
    return build_bpnet(geometry.input_length, n_tasks, geometry.profile_length,
                       geometry.profile_bin, sizes, name=spec.name,
                       mean_log_counts=mean_log_counts)


def losses_for(spec: ModelSpec, counts_loss_weight: float = 1.0
               ) -> tuple[dict[str, Any], dict[str, float]]:
    """Losses and loss weights, by output name, of an accessibility model.

    Basset: binary cross-entropy of the label logits. BPNet: the profile's multinomial NLL
    (weight 1) and the count MSE (weight ``counts_loss_weight``).
    """
    if spec.architecture == "basset":
        return {"labels": keras.losses.BinaryCrossentropy(from_logits=True)}, {"labels": 1.0}
    return ({"profile": MultinomialNLL(), "log_counts": keras.losses.MeanSquaredError()},
            {"profile": 1.0, "log_counts": float(counts_loss_weight)})


def auto_counts_loss_weight(log_counts: np.ndarray, own: np.ndarray | None = None) -> float:
    """ChromBPNet's heuristic: the median total count in training peaks divided by 10 (>= 1).

    Parameters
    ----------
    log_counts
        The natural-log targets ``log(1 + counts)`` of training peak regions, ``(n, tasks)``.
    own
        ``(n, tasks)``: whether each region is a peak *of that task*. ChromBPNet trains one
        sample on its own peaks; a model of several samples on their merged peaks takes the
        median over each task's own peaks (pooled), not over the regions that are another
        sample's peaks, where a task has few counts. None: every value counts.
    """
    values = np.asarray(log_counts, dtype=np.float64)
    if own is not None:
        values = values[np.asarray(own, dtype=bool)]
    if values.size == 0:
        return 1.0
    return float(max(np.median(np.expm1(values)) / 10.0, 1.0))
