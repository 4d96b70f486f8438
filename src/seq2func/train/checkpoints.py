"""Checkpoints of the epoch loop: the loop state, saving and resuming them exactly.

A checkpoint is a directory ``checkpoints/epoch_<n>/`` holding the model with its optimizer
state (``model.keras``), the states of its random seed generators (``seed_states.npz``:
dropout; Keras does not restore them when loading a ``.keras`` file, exact resume needs them)
and its own copy of the loop state (``state.json``). ``checkpoints/state.json`` (the
:class:`LoopState`) names the checkpoint to resume from; it is written only once that checkpoint
is complete, then every other checkpoint is removed.

Damaged state is detected, never trusted: a ``checkpoints/state.json`` that does not parse (a
disk that filled up, an editor) falls back to the newest complete checkpoint directory; a
checkpoint whose model archive fails its checksums, whose generator states do not load, or
whose ``best.keras`` (the best epoch's model) is missing or damaged is skipped; with no complete
checkpoint left, training starts afresh. Each decision is logged with the file concerned.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seq2func.core.io import write_text_atomic

log = logging.getLogger(__name__)


@dataclass
class LoopState:
    """Bookkeeping of the epoch loop, saved with every checkpoint.

    Attributes
    ----------
    config_hash
        Hash of the run's configuration: a checkpoint of another configuration is not resumed.
    epochs_done
        Epochs completed.
    learning_rate
        The current learning rate (reduced on plateaus).
    best_val, best_epoch
        Best validation loss so far and its epoch (1-based; -1: none yet; 0: the warm-started
        model before training, ``fit(start_is_candidate=True)``).
    start_val
        Validation loss of that starting model (None: not measured).
    wait, lr_wait
        Epochs since the last improvement, for early stopping and for the learning rate.
    stopped_early
        Whether early stopping ended the run.
    checkpoint
        Name of the checkpoint directory of this state.
    history
        One row per epoch (``history.tsv``).
    """

    config_hash: str
    epochs_done: int = 0
    learning_rate: float = 1e-3
    best_val: float = float("inf")
    best_epoch: int = -1
    start_val: float | None = None
    wait: int = 0
    lr_wait: int = 0
    stopped_early: bool = False
    checkpoint: str = ""
    history: list[dict[str, float]] = field(default_factory=list)


def seed_states(model: Any) -> list[np.ndarray]:
    """States of the model's random seed generators (dropout), in a stable order."""
    return [np.asarray(v.numpy()) for v in model.variables if "seed_generator" in v.path]


def restore_seed_states(model: Any, states: Sequence[np.ndarray]) -> None:
    """Assign :func:`seed_states` of a checkpoint back to the model's generators.

    Raises
    ------
    RuntimeError
        If the model has another number of generators.
    """
    variables = [v for v in model.variables if "seed_generator" in v.path]
    if len(variables) != len(states):
        raise RuntimeError("checkpoint does not match the model's random generators")
    for v, s in zip(variables, states, strict=True):
        v.assign(s)


def save_checkpoint(model: Any, state: LoopState, ckpt_root: Path,
                    model_file: Path | None = None) -> None:
    """Write a complete checkpoint directory, then atomically point ``state.json`` at it.

    ``model_file``, if given, is ``model`` already saved (with its optimizer state) in this
    state: it is copied instead of saving the model again.
    """
    name = f"epoch_{state.epochs_done:04d}"
    tmp_dir = ckpt_root / f".{name}.partial"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    if model_file is None:
        model.save(tmp_dir / "model.keras")
    else:
        shutil.copyfile(model_file, tmp_dir / "model.keras")
    np.savez(tmp_dir / "seed_states.npz", *seed_states(model))
    state.checkpoint = name
    text = json.dumps(asdict(state), indent=1) + "\n"
    (tmp_dir / "state.json").write_text(text)
    final = ckpt_root / name
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp_dir, final)
    write_text_atomic(ckpt_root / "state.json", text)
    # only now is the new checkpoint the one to resume from: remove every other one, including
    # any a kill left behind (between this write and the removal, or in a partial write)
    for old in [*ckpt_root.glob("epoch_*"), *ckpt_root.glob(".epoch_*.partial")]:
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def _read_state(path: Path) -> LoopState | None:
    """The loop state in ``path``, or None if it is missing or damaged (logged)."""
    if not path.exists():
        return None
    try:
        return LoopState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        log.warning("checkpoint state %s is damaged (%s); not using it", path, exc)
        return None


def _complete(ckpt_root: Path, state: LoopState) -> Path | None:
    """The directory of ``state``'s checkpoint if everything a resume reads is intact."""
    from seq2func.core.errors import InputError
    from seq2func.models.ensemble import check_model_file

    ckpt = ckpt_root / state.checkpoint
    try:
        if not state.checkpoint or not ckpt.is_dir():
            raise InputError(ckpt, "checkpoint directory missing")
        check_model_file(ckpt / "model.keras")
        with np.load(ckpt / "seed_states.npz") as z:
            [z[k] for k in z.files]
        if state.best_epoch > 0:
            check_model_file(ckpt_root / "best.keras")
    except (InputError, OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("checkpoint %s is incomplete or damaged (%s); not resuming from it",
                    ckpt, str(exc).splitlines()[0])
        return None
    return ckpt


def load_checkpoint(ckpt_root: Path, want_hash: str) -> tuple[LoopState, Path] | None:
    """The state and directory of the checkpoint to resume from, if any.

    ``state.json`` names it; if that file is damaged, the newest checkpoint directory with its
    own complete state is used. None (start afresh) when there is no checkpoint, when it was
    made with another configuration (hash) or when no complete one is left (all logged).
    """
    if not ckpt_root.is_dir():
        return None
    candidates = []
    main = _read_state(ckpt_root / "state.json")
    if main is not None:
        candidates.append(main)
    elif (ckpt_root / "state.json").exists() or any(ckpt_root.glob("epoch_*")):
        for d in sorted(ckpt_root.glob("epoch_*"), reverse=True):
            copy = _read_state(d / "state.json")
            if copy is not None and copy.checkpoint == d.name:
                candidates.append(copy)
    for state in candidates:
        if state.config_hash != want_hash:
            log.warning("checkpoint in %s was made with another configuration; starting afresh",
                        ckpt_root)
            return None
        ckpt = _complete(ckpt_root, state)
        if ckpt is not None:
            if state is not main:
                log.warning("resuming from %s (its own state), the newest complete checkpoint",
                            ckpt)
            return state, ckpt
    if candidates or (ckpt_root / "state.json").exists():
        log.warning("no complete checkpoint in %s; starting afresh", ckpt_root)
    return None


def load_checkpoint_model(ckpt: Path) -> Any:
    """The compiled model of a checkpoint directory, its seed generators restored."""
    from seq2func.models import load_model

    model = load_model(ckpt / "model.keras", compile=True)
    with np.load(ckpt / "seed_states.npz") as z:
        restore_seed_states(model, [z[k] for k in sorted(z.files, key=lambda s: int(s[4:]))])
    return model
