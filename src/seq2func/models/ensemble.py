"""Load saved models with Keras safe mode, alone or as the seed ensemble of a model."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras

from seq2func.core.errors import InputError
from seq2func.models.layers import EnsembleMean
from seq2func.models.precision import as_float32

#: how :func:`load_ensemble` averages each named output (others: ``mean``)
ENSEMBLE_KINDS = {"labels": "sigmoid", "profile": "softmax"}


class UnsafeModelError(InputError, ValueError):
    """A model file that carries Python code (refused by Keras safe mode)."""


def check_model_file(path: str | Path) -> Path:
    """``path`` if it is a complete ``.keras`` archive (every member's CRC checked).

    Raises
    ------
    InputError
        Naming the file when it is missing or damaged (truncated, overwritten, bit-flipped).
    """
    p = Path(path)
    fix = "delete it and rerun the job that writes it (snakemake recreates it)"
    if not p.is_file():
        raise InputError(p, "model file not found", fix="train the model first (snakemake)")
    try:
        with zipfile.ZipFile(p) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(p, f"damaged model file, not a complete .keras archive ({exc})",
                         fix=fix) from exc
    if bad is not None:
        raise InputError(p, f"damaged model file: member {bad} fails its checksum", fix=fix)
    return p


def load_model(path: str | Path, compile: bool = False) -> keras.Model:
    """Load a seq2func model with Keras safe mode (custom objects are the registered ones).

    A file that carries Python code (e.g. a ``Lambda`` layer) is refused, not executed
    (:class:`UnsafeModelError`); a missing or damaged file is an InputError naming it
    (:func:`check_model_file`). Uncompiled (the default: inference) the model computes in
    float32, also when the file was saved in mixed precision (by earlier versions;
    :func:`~seq2func.models.precision.as_float32`). Compiled (``compile=True``: resuming
    training from a checkpoint) it keeps the precision it was saved with, so its optimizer
    state (a loss-scale optimizer under mixed precision) loads whole.
    """
    p = check_model_file(path)
    try:
        model = keras.models.load_model(p, safe_mode=True, compile=compile)
    except ValueError as exc:
        if "safe" in str(exc).lower():
            raise UnsafeModelError(p, "refused by Keras safe mode: the file carries Python "
                                      "code (e.g. a Lambda layer)",
                                   fix="use a model saved by seq2func") from exc
        raise InputError(p, f"cannot load the model ({str(exc).splitlines()[0][:200]})",
                         fix="delete it and rerun the job that writes it") from exc
    return model if compile else as_float32(model)


def load_ensemble(paths: Sequence[str | Path], name: str | None = None) -> keras.Model:
    """One model averaging the outputs of the models at ``paths`` (e.g. the seeds of a model).

    A single path gives that model itself. Several give a functional model with the members'
    input and outputs, each output the :class:`~seq2func.models.layers.EnsembleMean` of the
    members' (probabilities for ``labels`` and ``profile``, values for any other output such as
    ``log_counts`` or an expression model's single output), so predictions, gradients and
    variant scores of the ensemble are those of the seed ensemble the evaluation reports.

    Raises
    ------
    ValueError
        If there is no path.
    seq2func.core.errors.InputError
        If a member has several inputs, or the members' input shapes or output names differ
        (the message names the file).
    """
    if not paths:
        raise ValueError("load_ensemble needs at least one model path")
    members = [load_model(str(p)) for p in paths]
    if len(members) == 1:
        return members[0]
    shape, outputs = _check_members(paths, members)
    for i, member in enumerate(members):
        member.name = f"member{i}"
    x = keras.Input(shape=shape, name="sequence")
    results = [member(x) for member in members]
    if outputs is None:
        averaged: Any = EnsembleMean("mean", name="ensemble_mean")(results)
    else:
        averaged = {k: EnsembleMean(ENSEMBLE_KINDS.get(k, "mean"), name=k)([r[k] for r in results])
                    for k in outputs}
    return keras.Model(x, averaged, name=name or f"ensemble_of_{len(members)}")


def _signature(model: keras.Model) -> tuple[int, tuple[Any, ...], list[str] | None]:
    """Number of inputs, the first input's shape and the sorted output names (None: one
    unnamed output)."""
    out = sorted(model.output) if isinstance(model.output, dict) else None
    return len(model.inputs), tuple(model.inputs[0].shape[1:]), out


def _check_members(paths: Sequence[str | Path], members: Sequence[keras.Model]
                   ) -> tuple[tuple[Any, ...], list[str] | None]:
    """The members' common input shape and output names (see :func:`load_ensemble`)."""
    first = _signature(members[0])
    for path, member in zip(paths, members, strict=True):
        sig = _signature(member)
        if sig[0] != 1:
            raise InputError(path, f"an ensemble needs single-input models, this one has "
                             f"{sig[0]} inputs", fix="pass one such model (no ensemble)")
        if sig != first:
            raise InputError(
                path, f"input shape {sig[1]} and outputs {sig[2]} differ from {paths[0]} "
                f"({first[1]}, {first[2]})",
                fix="ensemble only seeds of one model trained on one dataset")
    return first[1], first[2]
