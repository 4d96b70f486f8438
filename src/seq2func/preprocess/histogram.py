"""A log-binned histogram of positive signal values: the profile-clip quantile, merged exactly.

Each chromosome adds its training bins' values; the gather sums the histograms and
reads the clipping quantile off them, without holding any values in memory.
"""

from __future__ import annotations

import numpy as np

#: bins per octave, and octaves either side of 1 (2^-64 .. 2^64)
HIST_SUB = 16
HIST_EXP = 64
HIST_BINS = (2 * HIST_EXP + 1) * HIST_SUB
#: values histogrammed per block and task at most (rows are subsampled beyond that)
HIST_VALUES_PER_BLOCK = 200_000


def hist_add(hist: np.ndarray, values: np.ndarray) -> None:
    """Add the positive ``values`` to ``hist`` (:data:`HIST_SUB` bins per octave), in place."""
    v = values[values > 0]
    if v.size == 0:
        return
    m, e = np.frexp(v.astype(np.float64))
    sub = np.minimum(((m - 0.5) * 2 * HIST_SUB).astype(np.int64), HIST_SUB - 1)
    idx = (np.clip(e, -HIST_EXP, HIST_EXP) + HIST_EXP) * HIST_SUB + sub
    hist += np.bincount(idx, minlength=HIST_BINS)


def hist_upper_edges() -> np.ndarray:
    """Upper edge of every bin."""
    k = np.arange(HIST_BINS)
    e = k // HIST_SUB - HIST_EXP
    sub = k % HIST_SUB
    return np.ldexp(0.5 + (sub + 1) / (2 * HIST_SUB), e)


def hist_quantile(hist: np.ndarray, q: float) -> float | None:
    """Upper edge of the bin holding quantile ``q`` (None for an empty histogram)."""
    total = hist.sum()
    if total == 0:
        return None
    k = int(np.searchsorted(np.cumsum(hist), q * total, side="left"))
    return float(hist_upper_edges()[min(k, HIST_BINS - 1)])
