"""Evaluation metrics with bootstrap confidence intervals and an explicit aggregation axis.

Every metric function takes plain numpy arrays. :func:`metric_row` / :func:`evaluate_tasks`
return tidy rows whose ``aggregation`` column says exactly what was averaged over what, because
published numbers are only reproducible when that is stated (e.g. ChromBPNet reports the *median*
profile JSD over peaks; Basenji reports Pearson R of log counts per track, then the mean over
tracks).

Aggregation vocabulary used in the tables:

* ``per task, across regions`` - one value per task, computed over all regions of the split;
* ``macro mean over tasks`` - the unweighted mean of the per-task values;
* ``pooled over tasks and regions`` - one value from all (region, task) pairs together;
* ``median over regions, per task`` - for per-region metrics such as profile JSD;
* ``per sample, across genes`` - expression metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

PER_TASK = "per task, across regions"
MACRO = "macro mean over tasks"
POOLED = "pooled over tasks and regions"
MEDIAN_REGIONS = "median over regions, per task"
PER_SAMPLE_GENES = "per sample, across genes"


# --------------------------------------------------------------------------- point metrics


def auroc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties).

    Returns NaN when ``y`` has a single class.
    """
    y = np.asarray(y).astype(bool).ravel()
    s = np.asarray(score, dtype=np.float64).ravel()
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def threshold_counts(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives at every distinct score threshold, highest threshold first.

    Tied scores form one threshold (the count after the whole tied block), as in
    scikit-learn's curves. Shared by :func:`auprc`, :func:`roc_curve` and :func:`pr_curve`.
    """
    y = np.asarray(y).astype(bool).ravel()
    s = np.asarray(score, dtype=np.float64).ravel()
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    # keep the last index of each block of tied scores
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.size - 1]
    tp = np.cumsum(y[order])[last]
    return tp, (last + 1) - tp


def auprc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision (step interpolation, as in
    scikit-learn): ``sum_k (R_k - R_{k-1}) P_k`` over distinct score thresholds.

    Returns NaN when there is no positive.
    """
    n_pos = int(np.asarray(y).astype(bool).sum())
    if n_pos == 0:
        return float("nan")
    tp, fp = threshold_counts(y, score)
    precision = tp / (tp + fp)
    recall = tp / n_pos
    recall_prev = np.r_[0.0, recall[:-1]]
    return float(np.sum((recall - recall_prev) * precision))


def roc_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates at every distinct threshold, from (0, 0)."""
    pos = int(np.asarray(y).astype(bool).sum())
    tp, fp = threshold_counts(y, score)
    neg = np.asarray(y).size - pos
    return np.r_[0.0, fp / max(1, neg)], np.r_[0.0, tp / max(1, pos)]


def pr_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recall and precision at every distinct threshold (the step curve of :func:`auprc`)."""
    pos = int(np.asarray(y).astype(bool).sum())
    tp, fp = threshold_counts(y, score)
    precision = tp / (tp + fp)
    recall = tp / max(1, pos)
    return np.r_[0.0, recall], np.r_[precision[0] if precision.size else 1.0, precision]


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation (NaN when either input is constant or has < 2 values)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.size < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (Pearson of average ranks)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.size < 2:
        return float("nan")
    return pearson(stats.rankdata(x), stats.rankdata(y))


def mse(x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error."""
    d = np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return float(np.mean(d * d))


def profile_jsd(observed: np.ndarray, predicted: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Jensen-Shannon distance (base 2, in [0, 1]) between observed and predicted profiles.

    Parameters
    ----------
    observed
        ``(n, L)`` non-negative counts (or any non-negative profile) per region.
    predicted
        ``(n, L)`` non-negative predicted profile (probabilities or counts).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` distances; NaN for regions whose observed or predicted profile sums to zero.
    """
    p = np.asarray(observed, dtype=np.float64)
    q = np.asarray(predicted, dtype=np.float64)
    ps = p.sum(axis=-1, keepdims=True)
    qs = q.sum(axis=-1, keepdims=True)
    valid = (ps[..., 0] > 0) & (qs[..., 0] > 0)
    p = p / np.where(ps > 0, ps, 1)
    q = q / np.where(qs > 0, qs, 1)
    m = 0.5 * (p + q)

    def kl(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(a > 0, a * (np.log2(a + eps) - np.log2(b + eps)), 0.0)
        return t.sum(axis=-1)

    js = 0.5 * kl(p, m) + 0.5 * kl(q, m)
    out = np.sqrt(np.clip(js, 0.0, 1.0))
    return np.where(valid, out, np.nan)


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "auROC": auroc,
    "auPRC": auprc,
    "pearson": pearson,
    "spearman": spearman,
    "mse": mse,
}


# --------------------------------------------------------------------------- bootstrap


def bootstrap_ci(
    fn: Callable[..., float],
    *arrays: np.ndarray,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Point estimate and percentile bootstrap interval, resampling rows (axis 0) jointly.

    Parameters
    ----------
    fn
        Metric taking the arrays in the same order.
    arrays
        Arrays with the same first dimension (the unit that is resampled: regions or genes).
    n_boot
        Bootstrap replicates (0 disables the interval: NaN bounds).
    alpha
        1 - coverage of the interval (0.05 -> 95% interval).
    seed
        Seed of the resampling (intervals are reproducible).

    Returns
    -------
    tuple
        ``(estimate, low, high)``. Replicates where the metric is undefined (NaN, e.g. one class
        only) are dropped.
    """
    n = arrays[0].shape[0]
    for a in arrays:
        if a.shape[0] != n:
            raise ValueError("bootstrap_ci: arrays must have the same first dimension")
    est = fn(*arrays)
    if n_boot <= 0 or n < 2:
        return est, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        reps[b] = fn(*(a[idx] for a in arrays))
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return est, float("nan"), float("nan")
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return est, float(lo), float(hi)


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class MetricRow:
    """One line of a metric table."""

    model: str
    split: str
    metric: str
    task: str
    aggregation: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    chromosome: str = "all"


def metric_row(model: str, split: str, metric: str, task: str, aggregation: str,
               fn: Callable[..., float], *arrays: np.ndarray, n_boot: int = 1000, seed: int = 0,
               chromosome: str = "all") -> MetricRow:
    """Compute ``fn(*arrays)`` with a bootstrap interval and wrap it as a :class:`MetricRow`."""
    est, lo, hi = bootstrap_ci(fn, *arrays, n_boot=n_boot, seed=seed)
    return MetricRow(model, split, metric, task, aggregation, est, lo, hi,
                     int(arrays[0].shape[0]), chromosome)


def _macro(fn: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    def wrapped(y: np.ndarray, s: np.ndarray) -> float:
        vals = [fn(y[:, t], s[:, t]) for t in range(y.shape[1])]
        return float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")
    return wrapped


def _pooled(fn: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    def wrapped(y: np.ndarray, s: np.ndarray) -> float:
        return fn(y.ravel(), s.ravel())
    return wrapped


def evaluate_tasks(
    model: str,
    split: str,
    metric: str,
    y: np.ndarray,
    score: np.ndarray,
    tasks: Sequence[str],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    chromosome: str = "all",
) -> list[MetricRow]:
    """Per-task, macro-mean and pooled values of ``metric`` for ``(n_regions, n_tasks)`` arrays.

    The macro and pooled intervals resample regions (rows), keeping tasks together.
    """
    fn = METRICS[metric]
    y = np.asarray(y)
    score = np.asarray(score)
    if y.shape != score.shape or y.ndim != 2 or y.shape[1] != len(tasks):
        raise ValueError(f"evaluate_tasks: shapes {y.shape} and {score.shape} do not match "
                         f"{len(tasks)} tasks")
    rows = [metric_row(model, split, metric, t, PER_TASK, fn, y[:, i], score[:, i],
                       n_boot=n_boot, seed=seed, chromosome=chromosome)
            for i, t in enumerate(tasks)]
    rows.append(metric_row(model, split, metric, "all", MACRO, _macro(fn), y, score,
                           n_boot=n_boot, seed=seed, chromosome=chromosome))
    rows.append(metric_row(model, split, metric, "all", POOLED, _pooled(fn), y, score,
                           n_boot=n_boot, seed=seed, chromosome=chromosome))
    return rows


def median_jsd_rows(model: str, split: str, observed: np.ndarray, predicted: np.ndarray,
                    tasks: Sequence[str], *, n_boot: int = 1000, seed: int = 0
                    ) -> list[MetricRow]:
    """Median profile JSD over regions, per task, for ``(n, L, T)`` observed/predicted profiles.

    Regions with an empty observed profile are skipped (their JSD is undefined).
    """
    rows = []
    for i, t in enumerate(tasks):
        jsd = profile_jsd(observed[:, :, i], predicted[:, :, i])
        jsd = jsd[np.isfinite(jsd)]
        rows.append(metric_row(model, split, "profile_JSD", t, MEDIAN_REGIONS,
                               lambda v: float(np.median(v)) if v.size else float("nan"), jsd,
                               n_boot=n_boot, seed=seed))
    return rows


def rows_to_frame(rows: Sequence[MetricRow]) -> pd.DataFrame:
    """Metric rows as a data frame with a fixed column order."""
    cols = list(MetricRow.__dataclass_fields__)
    return pd.DataFrame([asdict(r) for r in rows], columns=cols)
