"""Training shared by every model, and the accessibility stage's entry points.

Modules: :mod:`~seq2func.train.settings` (the ``*.train`` config sections),
:mod:`~seq2func.train.runtime` (device, strategy, precision, seeds, determinism),
:mod:`~seq2func.train.checkpoints` (loop state, checkpoints, exact resume),
:mod:`~seq2func.train.loop` (:func:`~seq2func.train.loop.fit`, the epoch loop) and
:mod:`~seq2func.train.accessibility` (``train-accessibility`` and ``predict-accessibility``).
Nothing here imports TensorFlow at import time: :func:`~seq2func.train.runtime.configure_runtime`
comes first.
"""
