"""Motif patterns from attributions: TF-MoDISco (modisco-lite), trimmed and saved.

* :func:`discover` runs ``modiscolite.tfmodisco.TFMoDISco`` on one task's one-hot sequences
  and hypothetical scores and returns :class:`Pattern` objects trimmed to their informative
  core (positions whose contribution is at least ``trim_threshold`` of the strongest, as the
  modisco-lite report trims);

The patterns are annotated (:mod:`~seq2func.interpret.annotate`), drawn
(:mod:`~seq2func.interpret.logos`) and, on the demo, scored against the planted motifs
(:mod:`~seq2func.interpret.recovery`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: TFMoDISco keyword arguments that the config may set (``interpret.modisco``)
MODISCO_KEYS = ("sliding_window_size", "flank_size", "target_seqlet_fdr",
                "max_seqlets_per_metacluster", "n_leiden_runs", "final_min_cluster_size",
                "min_metacluster_size")


@dataclass
class Pattern:
    """A discovered motif.

    Attributes
    ----------
    name
        ``<task>_pos_<i>`` or ``<task>_neg_<i>`` (metacluster sign, rank by seqlet count).
    task
        Task whose attributions produced it.
    n_seqlets
        Number of seqlets in the pattern.
    ppm
        ``(w, 4)`` position probability matrix of the trimmed pattern.
    cwm
        ``(w, 4)`` mean actual contribution (contribution weight matrix) of the trimmed pattern.
    """

    name: str
    task: str
    n_seqlets: int
    ppm: np.ndarray = field(repr=False)
    cwm: np.ndarray = field(repr=False)

    @property
    def consensus(self) -> str:
        """Most likely base per position (lower case where its probability is < 0.5)."""
        return "".join(("ACGT" if p.max() >= 0.5 else "acgt")[int(p.argmax())]
                       for p in self.ppm)


# --------------------------------------------------------------------------- discovery


def trim(ppm: np.ndarray, cwm: np.ndarray, threshold: float = 0.3, pad: int = 1
         ) -> tuple[np.ndarray, np.ndarray]:
    """Cut a pattern to the span of positions with ``|cwm|`` >= ``threshold`` x max (+ ``pad``)."""
    score = np.abs(cwm).sum(axis=1)
    if score.size == 0 or score.max() <= 0:
        return ppm, cwm
    keep = np.flatnonzero(score >= threshold * score.max())
    a, b = max(0, keep[0] - pad), min(score.size, keep[-1] + 1 + pad)
    return ppm[a:b], cwm[a:b]


def discover(one_hot: np.ndarray, hypothetical: np.ndarray, task: str,
             params: Mapping[str, Any] | None = None, trim_threshold: float = 0.3,
             include_negative: bool = False) -> list[Pattern]:
    """Run TF-MoDISco on one task and return trimmed patterns, largest first.

    Parameters
    ----------
    one_hot
        ``(n, L, 4)`` one-hot sequences.
    hypothetical
        ``(n, L, 4)`` hypothetical scores of this task.
    params
        TFMoDISco keyword arguments (keys of :data:`MODISCO_KEYS`).
    include_negative
        Also return patterns of the negative metacluster (contributions below zero).
    """
    from modiscolite import tfmodisco

    params = dict(params or {})
    unknown = set(params) - set(MODISCO_KEYS)
    if unknown:
        raise ValueError(f"unknown TF-MoDISco settings {sorted(unknown)}; use {MODISCO_KEYS}")
    x = np.ascontiguousarray(one_hot, dtype=np.float32)
    h = np.ascontiguousarray(hypothetical, dtype=np.float32)
    try:
        pos, neg = tfmodisco.TFMoDISco(one_hot=x, hypothetical_contribs=h, verbose=False,
                                       **params)
    except (ValueError, IndexError, ZeroDivisionError) as exc:
        # too few seqlets for any cluster; or no attribution of one sign at all, so that
        # modisco-lite's null distribution of that sign is empty (ZeroDivisionError)
        log.warning("TF-MoDISco found no patterns for %s (%s)", task, exc)
        return []
    out: list[Pattern] = []
    groups = [("pos", pos)] + ([("neg", neg)] if include_negative else [])
    for sign, pats in groups:
        pats = sorted(pats or [], key=lambda p: -len(p.seqlets))
        for i, p in enumerate(pats):
            ppm, cwm = trim(np.asarray(p.sequence), np.asarray(p.contrib_scores),
                            trim_threshold)
            out.append(Pattern(f"{task}_{sign}_{i}", task, len(p.seqlets), ppm, cwm))
    return out


def save_patterns(path: str | Path, patterns: Sequence[Pattern]) -> None:
    """Write patterns to an ``.npz`` (atomically): names, tasks, seqlet counts, PPMs and CWMs.

    PPM/CWM ``i`` is stored as ``ppm_<i>``/``cwm_<i>`` (patterns differ in length).
    """
    from seq2func.core.io import atomic_output

    arrays: dict[str, np.ndarray] = {
        "name": np.asarray([p.name for p in patterns], dtype=str),
        "task": np.asarray([p.task for p in patterns], dtype=str),
        "n_seqlets": np.asarray([p.n_seqlets for p in patterns], dtype=np.int64)}
    for i, p in enumerate(patterns):
        arrays[f"ppm_{i}"] = p.ppm.astype(np.float32)
        arrays[f"cwm_{i}"] = p.cwm.astype(np.float32)
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def load_patterns(path: str | Path) -> list[Pattern]:
    """Patterns written by :func:`save_patterns`."""
    from seq2func.core.io import load_npz

    d = load_npz(path, ("name", "task", "n_seqlets"))
    return [Pattern(str(n), str(t), int(k), d[f"ppm_{i}"].astype(np.float64),
                    d[f"cwm_{i}"].astype(np.float64))
            for i, (n, t, k) in enumerate(zip(d["name"], d["task"], d["n_seqlets"],
                                              strict=True))]
