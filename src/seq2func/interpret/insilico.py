"""In-silico experiments: what a model predicts when a motif is written into background sequences.

As tangermeme's ``ersatz.substitute`` / ``marginalize`` and gReLU's marginalisation: a motif
(its consensus, or any sequence) replaces the bases of many background sequences at one
position, the model predicts the sequences with and without it, and the difference averaged
over the backgrounds is the motif's effect, free of the context any one genomic site has.

Everything is vectorised over backgrounds; the model is called in batches on both strands
(:func:`seq2func.models.predict_both_strands`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from seq2func.core.sequence import encode, one_hot


def motif_codes(motif: str | np.ndarray) -> np.ndarray:
    """Codes (A0 C1 G2 T3 N4) of a motif given as a string or already as codes."""
    return encode(motif) if isinstance(motif, str) else np.asarray(motif, dtype=np.uint8)


def consensus_codes(ppm: np.ndarray) -> np.ndarray:
    """The most likely base of each column of a ``(w, 4)`` position probability matrix."""
    return np.asarray(ppm, dtype=np.float64).argmax(axis=1).astype(np.uint8)


def substitute(codes: np.ndarray, motif: str | np.ndarray, start: int | np.ndarray | None = None
               ) -> np.ndarray:
    """A copy of ``codes`` ``(n, L)`` with ``motif`` written at ``start`` (centred if None).

    ``start`` may be one position for every sequence or one per sequence.

    Raises
    ------
    ValueError
        If the motif does not fit inside the sequences at ``start``.
    """
    m = motif_codes(motif)
    out = np.array(codes, dtype=np.uint8, copy=True)
    n, length = out.shape
    if start is None:
        start = (length - m.size) // 2
    starts = np.broadcast_to(np.asarray(start, dtype=np.int64), (n,))
    if (starts < 0).any() or (starts + m.size > length).any():
        raise ValueError(f"a motif of {m.size} bases does not fit at {start} in {length} bases")
    cols = starts[:, None] + np.arange(m.size)
    np.put_along_axis(out, cols, np.broadcast_to(m, (n, m.size)), axis=1)
    return out


def predict_codes(model: Any, codes: np.ndarray, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Strand-averaged predictions of ``model`` for ``(n, L)`` codes (probabilities, counts)."""
    from seq2func.models import predict_both_strands

    return predict_both_strands(model, one_hot(codes), batch_size=batch_size)


def marginalize(model: Any, backgrounds: np.ndarray, motif: str | np.ndarray,
                start: int | None = None, batch_size: int = 256
                ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Predictions for the backgrounds without and with ``motif`` at ``start`` (centred).

    Returns
    -------
    tuple of dict
        ``(before, after)``: the model's strand-averaged outputs for every background.
    """
    before = predict_codes(model, backgrounds, batch_size)
    after = predict_codes(model, substitute(backgrounds, motif, start), batch_size)
    return before, after


def footprint(profiles: np.ndarray) -> np.ndarray:
    """The mean predicted profile ``(bins, T)`` over sequences ``(n, bins, T)``."""
    return np.asarray(profiles, dtype=np.float64).mean(axis=0)


def insertion_effects(model: Any, backgrounds: np.ndarray, motifs: Sequence[str | np.ndarray],
                      output: str, start: int | None = None, batch_size: int = 256
                      ) -> np.ndarray:
    """The change of one output per task for each motif: ``(motifs, backgrounds, T)``.

    ``output`` is ``labels`` (change of peak probability) or ``log_counts`` (change of log
    counts); the backgrounds' own predictions are computed once.
    """
    base = predict_codes(model, backgrounds, batch_size)[output]
    return np.stack([predict_codes(model, substitute(backgrounds, m, start), batch_size)[output]
                     - base for m in motifs])
