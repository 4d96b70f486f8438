"""k-fold evaluation: each fold's metrics on its own test chromosomes, and their mean.

Every fold of ``accessibility.folds`` is evaluated as the default split is
(:func:`seq2func.evaluate.accessibility.run_evaluation` with ``fold``): the models' runs on that
fold against baselines fitted on the fold's training chromosomes, with bootstrap intervals
over the fold's test regions. :func:`fold_summary` stacks the genome-wide rows of the folds
(``fold`` column: the fold's name) and adds, for every row present in all folds:

* ``fold = mean`` - the mean over folds. Its interval combines the folds' bootstrap intervals
  as independent normal errors: ``se_f = (ci_high - ci_low) / (2 * 1.96)`` per fold, the mean's
  ``se = sqrt(sum se_f^2) / k`` and ``mean +- 1.96 se`` (the folds' test regions are disjoint
  when every chromosome is in one fold's test set). ``n`` is the total of the folds' regions.
* ``fold = min`` / ``max`` - the worst and best fold (with that fold's interval): how much the
  answer depends on which chromosomes were held out.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

#: z of a two-sided 95% interval
Z95 = 1.959964
#: the columns that identify a row across folds
KEY = ["model", "split", "metric", "task", "aggregation"]
#: summary rows' fold names
MEAN, MIN, MAX = "mean", "min", "max"


def _combined_interval(mean: float, lows: np.ndarray, highs: np.ndarray) -> tuple[float, float]:
    """``mean +- 1.96 se`` with ``se`` from the folds' intervals (NaN if any is missing)."""
    se = (highs - lows) / (2 * Z95)
    if not np.isfinite(se).all():
        return math.nan, math.nan
    half = Z95 * float(np.sqrt((se ** 2).sum())) / se.size
    return mean - half, mean + half


def fold_summary(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The folds' genome-wide rows with a ``fold`` column, then the mean, min and max rows.

    Parameters
    ----------
    tables
        Fold name -> its metric table (:class:`~seq2func.core.metrics.MetricRow` columns).

    Returns
    -------
    pandas.DataFrame
        Metric-table columns plus ``fold``; rows in the order of the first fold's table.
    """
    folds = list(tables)
    parts = []
    for fold, table in tables.items():
        rows = table[table["chromosome"].astype(str) == "all"].copy()
        rows.insert(0, "fold", fold)
        parts.append(rows)
    stacked = pd.concat(parts, ignore_index=True)
    summary = []
    for key, group in stacked.groupby(KEY, sort=False):
        if group["fold"].nunique() != len(folds):
            log.info("%s: not in every fold, no fold mean", " / ".join(map(str, key)))
            continue
        values = group["value"].to_numpy(dtype=np.float64)
        lows = group["ci_low"].to_numpy(dtype=np.float64)
        highs = group["ci_high"].to_numpy(dtype=np.float64)
        base = dict(zip(KEY, key, strict=True), chromosome="all")
        mean = float(values.mean())
        low, high = _combined_interval(mean, lows, highs)
        summary.append({**base, "fold": MEAN, "value": mean, "ci_low": low, "ci_high": high,
                        "n": int(group["n"].sum())})
        if np.isfinite(values).all():
            for name, pick in ((MIN, int(np.argmin(values))), (MAX, int(np.argmax(values)))):
                row = group.iloc[pick]
                summary.append({**base, "fold": name, "value": row["value"],
                                "ci_low": row["ci_low"], "ci_high": row["ci_high"],
                                "n": int(row["n"])})
    out = pd.concat([stacked, pd.DataFrame(summary)], ignore_index=True)
    return out[["fold", *[c for c in stacked.columns if c != "fold"]]]


def run_fold_summary(tables: Sequence[tuple[str, str | Path]], out: str | Path) -> pd.DataFrame:
    """:func:`fold_summary` of the fold tables at these paths, written with provenance."""
    from seq2func.core.provenance import write_provenance
    from seq2func.core.tables import read_metric_table, write_metric_table

    summary = fold_summary({fold: read_metric_table(path) for fold, path in tables})
    write_metric_table(out, summary)
    write_provenance(out, step="fold-summary", inputs=[p for _, p in tables],
                     extra={"folds": [f for f, _ in tables]})
    return summary
