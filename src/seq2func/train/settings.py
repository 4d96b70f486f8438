"""Optimisation settings of every trained model (the config's ``*.train`` sections)."""

from __future__ import annotations

from dataclasses import dataclass

from seq2func.core.settings import Settings


@dataclass(frozen=True)
class TrainSettings(Settings):
    """The epoch loop of :func:`seq2func.train.loop.fit` (``expression.train``).

    Attributes
    ----------
    batch_size
        Examples per optimisation step and replica: under a ``MirroredStrategy`` of N GPUs a
        step holds ``N * batch_size`` examples (the learning rate is not rescaled).
    max_epochs
        Upper bound on epochs (early stopping usually ends sooner).
    learning_rate
        Initial Adam learning rate.
    patience, lr_patience
        Epochs without a validation improvement of ``min_delta`` before stopping, and before
        the learning rate is multiplied by ``lr_factor`` (not below ``min_lr``).
    deterministic
        TensorFlow's deterministic ops (exact reruns and resumes): ``true``, ``false`` or
        ``auto`` (on for the CPU, off on GPUs).
    mixed_precision
        ``auto`` (float16 compute on GPUs of compute capability >= 7.0), ``on`` or ``off``.
        Models are saved in float32 whatever the training precision.
    steps_per_execution
        Training steps per call of the compiled step function, or ``auto`` (1 on the CPU, 16
        on GPUs).
    """

    SECTION = "expression.train"

    batch_size: int
    max_epochs: int
    learning_rate: float
    patience: int
    lr_patience: int
    lr_factor: float
    min_lr: float
    min_delta: float
    deterministic: bool | str
    mixed_precision: str
    steps_per_execution: int | str


@dataclass(frozen=True)
class AccessibilityTrainSettings(TrainSettings):
    """:class:`TrainSettings` plus the sequence augmentation (``accessibility.train``).

    Attributes
    ----------
    jitter
        Random shifts of up to ``preprocess.max_jitter`` bases (whole profile bins).
    reverse_complement
        Reverse-complement half of the examples (profiles are flipped with them).
    input_workers
        Parallel readers of the training shards (:func:`seq2func.dataset.make_tf_dataset`).
    """

    SECTION = "accessibility.train"

    jitter: bool
    reverse_complement: bool
    input_workers: int
