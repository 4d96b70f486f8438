"""The Bayes ceiling of a simulated study: the simulator's own accessibility probabilities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError

#: largest distance (bp) between a region centre and a CRE core for the ceiling to use the CRE
CEILING_MAX_DISTANCE = 150


def bayes_ceiling_scores(regions: pd.DataFrame, tasks: Sequence[str],
                         cell_types: Mapping[str, str], truth_dir: str | Path) -> np.ndarray:
    """The simulator's true accessibility probability of each region, ``(n, T)``.

    A region maps to the CRE whose 300 bp core lies within :data:`CEILING_MAX_DISTANCE` bp of
    the region centre (the nearest core when several do); its score for a task is the CRE's
    ``p_<cell type>``, the probability with which the simulator drew the element's open state
    from its sequence grammar. Regions with no such CRE get 0: the simulator opens chromatin
    only at CREs - elsewhere the signal is the Poisson background (simulate/signal.py), and
    peaks there are false calls of the peak caller, which no sequence feature predicts.

    This is the ranking an oracle of the generative grammar would give; it is not a strict upper
    bound on label auROC (labels also carry Poisson noise and peak-calling errors, which a model
    can partly learn from sequence, e.g. GC-dependent background), but a model far below it has
    room to improve.
    """
    path = Path(truth_dir) / "cres.tsv"
    if not path.is_file():
        raise InputError(path, "simulator truth not found",
                         fix="the Bayes ceiling needs a simulated study (source: simulate)")
    cres = pd.read_csv(path, sep="\t", dtype={"chrom": str})
    need = [f"p_{cell_types[t]}" for t in tasks]
    missing = [c for c in ["chrom", "core_start", "core_end", *need] if c not in cres.columns]
    if missing:
        raise InputError(path, f"columns {missing} are missing",
                         fix="regenerate the demo with this version of seq2func")
    out = np.zeros((len(regions), len(tasks)), dtype=np.float64)
    centres = regions["centre"].to_numpy(dtype=np.int64)
    chroms = regions["chrom"].to_numpy().astype(str)
    for chrom in np.unique(chroms):
        rows = np.flatnonzero(chroms == chrom)
        sub = cres[cres["chrom"] == chrom].sort_values("core_start")
        if sub.empty:
            continue
        starts = sub["core_start"].to_numpy(np.int64)
        ends = sub["core_end"].to_numpy(np.int64)  # exclusive
        probs = sub[need].to_numpy(np.float64)
        c = centres[rows]
        # candidate cores: the one starting at or before c and the next one (cores never nest)
        i = np.searchsorted(starts, c, side="right") - 1
        best_d = np.full(c.size, np.iinfo(np.int64).max)
        best = np.full(c.size, -1)
        for j in (i, i + 1, i - 1):
            ok = (j >= 0) & (j < starts.size)
            jj = np.clip(j, 0, starts.size - 1)
            d = np.maximum(0, np.maximum(starts[jj] - c, c - (ends[jj] - 1)))
            better = ok & (d < best_d)
            best_d[better], best[better] = d[better], jj[better]
        hit = (best >= 0) & (best_d <= CEILING_MAX_DISTANCE)
        out[rows[hit]] = probs[best[hit]]
    return out
