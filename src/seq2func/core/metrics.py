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
MACRO_MEDIAN_REGIONS = "macro mean over tasks of the median over regions"
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


def _tie_groups(values: np.ndarray, descending: bool = False) -> tuple[np.ndarray, int]:
    """Group index of each value in sorted order (tied values share a group), and the number
    of groups."""
    v = -values if descending else values
    order = np.argsort(v, kind="mergesort")
    sv = v[order]
    g_sorted = np.r_[0, np.cumsum(sv[1:] != sv[:-1])] if sv.size else np.zeros(0, np.int64)
    groups = np.empty(values.size, dtype=np.int64)
    groups[order] = g_sorted
    return groups, int(g_sorted[-1]) + 1 if sv.size else 0


def threshold_counts(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives at every distinct score threshold, highest threshold first.

    Tied scores form one threshold (the count after the whole tied block), as in
    scikit-learn's curves. Shared by :func:`auprc`, :func:`roc_curve` and :func:`pr_curve`.
    """
    y = np.asarray(y).astype(bool).ravel()
    groups, n_groups = _tie_groups(np.asarray(score, dtype=np.float64).ravel(), descending=True)
    tp = np.cumsum(np.bincount(groups, weights=y, minlength=n_groups)).astype(np.int64)
    seen = np.cumsum(np.bincount(groups, minlength=n_groups))
    return tp, seen - tp


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


def median(values: np.ndarray) -> float:
    """Median of ``values`` (NaN when empty), e.g. of per-region profile JSDs."""
    v = np.asarray(values, dtype=np.float64).ravel()
    return float(np.median(v)) if v.size else float("nan")


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


# --------------------------------------------------------------------------- weighted kernels
#
# A bootstrap replicate drawn with replacement is the original rows, each taken w_i times
# (w = bincount of the drawn indices). Every metric here is invariant to the order of rows, so
# its value on the replicate equals a frequency-weighted version of the metric on the original
# rows. A kernel prepares what does not depend on w once (sort orders, tie groups) and then
# computes each replicate in O(n) with bincount / cumsum, instead of gathering the replicate and
# sorting it again: same replicates, same numbers (up to rounding), several times faster
# (bench/bootstrap).

#: ``w -> metric value`` for bootstrap weights ``w`` (how often each row was drawn)
Kernel = Callable[[np.ndarray], float]


def _auroc_kernel(y: np.ndarray, score: np.ndarray) -> Kernel:
    pos = np.asarray(y).astype(bool).ravel().astype(np.float64)
    groups, n_groups = _tie_groups(np.asarray(score, dtype=np.float64).ravel())

    def k(w: np.ndarray) -> float:
        wp = np.bincount(groups, weights=w * pos, minlength=n_groups)
        wn = np.bincount(groups, weights=w * (1.0 - pos), minlength=n_groups)
        n_pos, n_neg = wp.sum(), wn.sum()
        if n_pos == 0 or n_neg == 0:
            return float("nan")
        below = np.cumsum(wn) - wn  # negatives scored below each tie group
        return float(np.dot(wp, below + 0.5 * wn) / (n_pos * n_neg))

    return k


def _auprc_kernel(y: np.ndarray, score: np.ndarray) -> Kernel:
    pos = np.asarray(y).astype(bool).ravel().astype(np.float64)
    groups, n_groups = _tie_groups(np.asarray(score, dtype=np.float64).ravel(), descending=True)

    def k(w: np.ndarray) -> float:
        tp = np.cumsum(np.bincount(groups, weights=w * pos, minlength=n_groups))
        seen = np.cumsum(np.bincount(groups, weights=w, minlength=n_groups))
        n_pos = tp[-1] if tp.size else 0.0
        if n_pos == 0:
            return float("nan")
        gain = np.diff(np.r_[0.0, tp])  # recall steps x n_pos; 0 where no positive was drawn
        hit = gain > 0
        return float(np.sum(gain[hit] * tp[hit] / seen[hit]) / n_pos)

    return k


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    total = w.sum()
    if total < 2:
        return float("nan")
    mx, my = np.dot(w, x) / total, np.dot(w, y) / total
    dx, dy = x - mx, y - my
    sxx, syy = np.dot(w, dx * dx), np.dot(w, dy * dy)
    # a constant replicate is NaN, as in pearson(); rounding leaves its variance tiny, not 0,
    # so only a tiny variance is checked exactly
    tiny = 1e-20 * total * (1.0 + mx * mx + my * my)
    if min(sxx, syy) <= tiny:
        drawn = w > 0
        if np.ptp(x[drawn]) == 0 or np.ptp(y[drawn]) == 0:
            return float("nan")
    return float(np.dot(w, dx * dy) / np.sqrt(sxx * syy))


def _pearson_kernel(x: np.ndarray, y: np.ndarray) -> Kernel:
    xf = np.asarray(x, dtype=np.float64).ravel()
    yf = np.asarray(y, dtype=np.float64).ravel()
    return lambda w: _weighted_pearson(xf, yf, w)


def _weighted_ranks(groups: np.ndarray, n_groups: int, w: np.ndarray) -> np.ndarray:
    """Average rank (1-based, ties averaged) of each row in the replicate that weights ``w``
    describe."""
    gw = np.bincount(groups, weights=w, minlength=n_groups)
    return (np.cumsum(gw) - gw + (gw + 1.0) / 2.0)[groups]


def _spearman_kernel(x: np.ndarray, y: np.ndarray) -> Kernel:
    gx, nx = _tie_groups(np.asarray(x, dtype=np.float64).ravel())
    gy, ny = _tie_groups(np.asarray(y, dtype=np.float64).ravel())
    return lambda w: _weighted_pearson(_weighted_ranks(gx, nx, w), _weighted_ranks(gy, ny, w), w)


def _mse_kernel(x: np.ndarray, y: np.ndarray) -> Kernel:
    d = np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    d2 = (d * d).ravel()
    return lambda w: float(np.dot(w, d2) / w.sum())


def _median_kernel(values: np.ndarray) -> Kernel:
    flat = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(flat, kind="mergesort")
    v = flat[order]

    def k(w: np.ndarray) -> float:
        total = int(w.sum())
        if total == 0:
            return float("nan")
        ends = np.cumsum(w[order])  # the replicate sorted: v[j] fills positions < ends[j]
        lo, hi = np.searchsorted(ends, [(total - 1) // 2, total // 2], side="right")
        return float(0.5 * (v[lo] + v[hi]))

    return k


#: weighted kernel of each point metric (metrics without one resample rows the slow way)
KERNELS: dict[Callable[..., float], Callable[..., Kernel]] = {
    auroc: _auroc_kernel,
    auprc: _auprc_kernel,
    pearson: _pearson_kernel,
    spearman: _spearman_kernel,
    mse: _mse_kernel,
    median: _median_kernel,
}


def kernel_for(fn: Callable[..., float], *arrays: np.ndarray) -> Kernel | None:
    """The weighted kernel of ``fn`` on ``arrays``, or None when ``fn`` has none."""
    if isinstance(fn, AcrossTasks):
        return fn.kernel(*arrays)
    make = KERNELS.get(fn)
    return make(*arrays) if make is not None else None


class AcrossTasks:
    """A per-column metric over ``(n, T)`` arrays: ``macro`` (mean over columns, NaN columns
    skipped) or ``pooled`` (all ``(row, column)`` pairs together). Rows stay the resampled unit.
    """

    def __init__(self, fn: Callable[..., float], how: str) -> None:
        if how not in ("macro", "pooled"):
            raise ValueError(f"how must be 'macro' or 'pooled', not {how!r}")
        self.fn, self.how = fn, how

    def __call__(self, y: np.ndarray, s: np.ndarray) -> float:
        if self.how == "pooled":
            return self.fn(y.ravel(), s.ravel())
        return _nanmean([self.fn(y[:, t], s[:, t]) for t in range(y.shape[1])])

    def kernel(self, y: np.ndarray, s: np.ndarray) -> Kernel | None:
        make = KERNELS.get(self.fn)
        if make is None:
            return None
        if self.how == "pooled":
            flat, n_cols = make(y.ravel(), s.ravel()), y.shape[1]
            return lambda w: flat(np.repeat(w, n_cols))  # row-major: a row's columns together
        columns = [make(y[:, t], s[:, t]) for t in range(y.shape[1])]
        return lambda w: _nanmean([k(w) for k in columns])


def _nanmean(values: Sequence[float]) -> float:
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def macro(fn: Callable[..., float]) -> AcrossTasks:
    """``fn`` per column of ``(n, T)`` arrays, then the unweighted mean over columns."""
    return AcrossTasks(fn, "macro")


def pooled(fn: Callable[..., float]) -> AcrossTasks:
    """``fn`` over all ``(row, column)`` pairs of ``(n, T)`` arrays together."""
    return AcrossTasks(fn, "pooled")


# --------------------------------------------------------------------------- bootstrap


def bootstrap_ci(
    fn: Callable[..., float],
    *arrays: np.ndarray,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    weighted: bool = True,
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
    weighted
        Compute each replicate from the original rows and how often each was drawn, with the
        metric's weighted kernel (:data:`KERNELS`; metrics without one are resampled). The
        replicates are the same either way; False forces resampling (for tests and benchmarks).

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
    kernel = kernel_for(fn, *arrays) if weighted else None
    reps = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        if kernel is not None:
            reps[b] = kernel(np.bincount(idx, minlength=n).astype(np.float64))
        else:
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
    rows.append(metric_row(model, split, metric, "all", MACRO, macro(fn), y, score,
                           n_boot=n_boot, seed=seed, chromosome=chromosome))
    rows.append(metric_row(model, split, metric, "all", POOLED, pooled(fn), y, score,
                           n_boot=n_boot, seed=seed, chromosome=chromosome))
    return rows


def median_jsd_rows(model: str, split: str, observed: np.ndarray, predicted: np.ndarray,
                    tasks: Sequence[str], *, n_boot: int = 1000, seed: int = 0,
                    regions: np.ndarray | None = None) -> list[MetricRow]:
    """Median profile JSD over regions, per task, for ``(n, L, T)`` observed/predicted profiles.

    ``regions`` ``(n, T)`` says which regions count for each task (e.g. the task's own peaks;
    default: all). Regions with an empty observed profile are skipped (their JSD is undefined).
    """
    rows = []
    all_jsd = np.full((observed.shape[0], len(tasks)), np.nan)
    for i, t in enumerate(tasks):
        sel = (np.ones(observed.shape[0], dtype=bool) if regions is None
               else np.asarray(regions[:, i], dtype=bool))
        jsd = profile_jsd(observed[sel, :, i], predicted[sel, :, i])
        all_jsd[np.flatnonzero(sel), i] = jsd
        jsd = jsd[np.isfinite(jsd)]
        rows.append(metric_row(model, split, "profile_JSD", t, MEDIAN_REGIONS,
                               median, jsd,
                               n_boot=n_boot, seed=seed))
    keep = np.isfinite(all_jsd).any(axis=1)
    if keep.any():
        # regions are resampled jointly, each task's median over its own rows (also for one
        # task, as the other metrics' macro rows: a gate on the macro row works for any study)
        rows.append(metric_row(model, split, "profile_JSD", "all", MACRO_MEDIAN_REGIONS,
                               macro_median, all_jsd[keep], n_boot=n_boot, seed=seed))
    return rows


def macro_median(values: np.ndarray) -> float:
    """Mean over columns (tasks) of each column's median over its finite rows (regions)."""
    meds = [np.median(c[np.isfinite(c)]) for c in np.asarray(values, dtype=np.float64).T
            if np.isfinite(c).any()]
    return float(np.mean(meds)) if meds else float("nan")


def rows_to_frame(rows: Sequence[MetricRow]) -> pd.DataFrame:
    """Metric rows as a data frame with a fixed column order."""
    cols = list(MetricRow.__dataclass_fields__)
    return pd.DataFrame([asdict(r) for r in rows], columns=cols)
