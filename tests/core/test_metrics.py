"""Metrics against values computed by hand, bootstrap intervals and aggregation labels."""

from __future__ import annotations

import numpy as np
import pytest

from seq2func.core.metrics import (
    MACRO,
    METRICS,
    PER_TASK,
    POOLED,
    auprc,
    auroc,
    bootstrap_ci,
    evaluate_tasks,
    kernel_for,
    macro,
    median,
    median_jsd_rows,
    pearson,
    pooled,
    profile_jsd,
    rows_to_frame,
    spearman,
)


def test_auroc_hand_computed() -> None:
    # positives 0.8, 0.4; negatives 0.6, 0.2: pairs (0.8>0.6, 0.8>0.2, 0.4<0.6, 0.4>0.2) -> 3/4
    assert auroc([1, 0, 1, 0], [0.8, 0.6, 0.4, 0.2]) == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half: (1 + 0.5) / 2
    assert auroc([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1]) == pytest.approx((2 + 1.5) / 4)
    assert auroc([1, 1, 0, 0], [1, 2, 3, 4]) == 0.0
    assert np.isnan(auroc([1, 1], [0.1, 0.2]))


def test_auprc_hand_computed() -> None:
    # ranking: 0.9(+) 0.8(-) 0.7(+) 0.1(-): AP = 1/2*1 + 1/2*(2/3) = 0.8333
    assert auprc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(0.5 + 1 / 3)
    # all positives ranked first -> 1
    assert auprc([0, 1, 1], [0.1, 0.5, 0.9]) == pytest.approx(1.0)
    # tied scores form one threshold: precision 2/4 at recall 1
    assert auprc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)
    assert np.isnan(auprc([0, 0], [0.1, 0.2]))


def test_auprc_matches_sklearn() -> None:
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    s = np.round(rng.random(500) + 0.5 * y, 2)  # rounding creates ties
    assert auprc(y, s) == pytest.approx(average_precision_score(y, s))
    assert auroc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_correlations_hand_computed() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([2.0, 4.0, 5.0, 4.0])
    # means 2.5 and 3.75; cov = (-1.5*-1.75 + -0.5*0.25 + 0.5*1.25 + 1.5*0.25) = 3.5
    # var_x = 5, var_y = 3.0625+0.0625+1.5625+0.0625 = 4.75
    assert pearson(x, y) == pytest.approx(3.5 / np.sqrt(5 * 4.75))
    # ranks of y: 1, 2.5, 4, 2.5 -> pearson of ranks
    assert spearman(x, y) == pytest.approx(pearson(x, [1, 2.5, 4, 2.5]))
    assert np.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_profile_jsd_hand_computed() -> None:
    p = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    q = np.array([[0.0, 1.0], [2.0, 2.0], [1.0, 0.0]])
    d = profile_jsd(p, q)
    assert d[0] == pytest.approx(1.0)  # disjoint supports: JS = 1 bit
    assert d[1] == pytest.approx(0.0)  # same shape after normalisation
    assert np.isnan(d[2])  # empty observed profile
    # half overlap: p=(1,0), q=(.5,.5), m=(.75,.25)
    # KL(p||m) = log2(4/3); KL(q||m) = .5 log2(2/3) + .5 log2(2)
    js = 0.5 * np.log2(4 / 3) + 0.5 * (0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25))
    assert profile_jsd(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]))[0] == pytest.approx(
        np.sqrt(js))


def test_bootstrap_interval_covers_estimate_and_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    y = rng.random(400) < 0.5
    s = rng.normal(size=400) + y
    est, lo, hi = bootstrap_ci(auroc, y, s, n_boot=300, seed=3)
    assert lo < est < hi and 0.6 < est < 0.85
    assert bootstrap_ci(auroc, y, s, n_boot=300, seed=3) == (est, lo, hi)
    est2, lo2, hi2 = bootstrap_ci(auroc, y, s, n_boot=0)
    assert est2 == est and np.isnan(lo2) and np.isnan(hi2)


def test_evaluate_tasks_states_aggregation() -> None:
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    s = np.array([[0.9, 0.2], [0.1, 0.8], [0.7, 0.3], [0.3, 0.1]])
    rows = evaluate_tasks("m", "test", "auROC", y, s, ["a", "b"], n_boot=50)
    df = rows_to_frame(rows)
    assert list(df["aggregation"]) == [PER_TASK, PER_TASK, MACRO, POOLED]
    a = auroc(y[:, 0], s[:, 0])
    b = auroc(y[:, 1], s[:, 1])
    assert df["value"].tolist()[:3] == pytest.approx([a, b, (a + b) / 2])
    assert df["value"].iloc[3] == pytest.approx(auroc(y.ravel(), s.ravel()))
    assert (df["n"] == 4).all()
    with pytest.raises(ValueError):
        evaluate_tasks("m", "test", "auROC", y, s[:, :1], ["a", "b"])


def test_median_jsd_rows() -> None:
    obs = np.zeros((3, 2, 1))
    obs[:, 0, 0] = 1.0
    pred = np.zeros((3, 2, 1))
    pred[0, 0, 0] = 1  # JSD 0
    pred[1, 1, 0] = 1  # JSD 1
    pred[2, :, 0] = 1  # intermediate
    rows = median_jsd_rows("m", "test", obs, pred, ["t"], n_boot=20)
    mid = profile_jsd(np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]]))[0]
    assert rows[0].value == pytest.approx(mid)
    assert rows[0].aggregation == "median over regions, per task"


def test_roc_and_pr_curves_match_scikit_learn_with_ties() -> None:
    from sklearn.metrics import precision_recall_curve
    from sklearn.metrics import roc_curve as sk_roc

    from seq2func.core.metrics import pr_curve, roc_curve

    rng = np.random.default_rng(2)
    y = rng.random(300) < 0.3
    s = np.round(rng.random(300) + y * 0.3, 1)  # many tied scores
    fpr, tpr = roc_curve(y, s)
    sk_fpr, sk_tpr, _ = sk_roc(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    rec, prec = pr_curve(y, s)
    sk_prec, sk_rec, _ = precision_recall_curve(y, s)
    # scikit-learn lists thresholds from the lowest; ours from the highest, after (0, P_1)
    np.testing.assert_allclose(rec[1:], sk_rec[::-1][1:])
    np.testing.assert_allclose(prec[1:], sk_prec[::-1][1:])


def _replicates(n: int, n_rep: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n, size=n) for _ in range(n_rep)]


@pytest.mark.parametrize("name", sorted(METRICS))
def test_weighted_kernels_equal_the_metric_on_the_drawn_replicate(name: str) -> None:
    """A replicate's rows drawn with replacement = the original rows weighted by their draw
    counts: each kernel gives the metric of the replicate itself, ties included."""
    rng = np.random.default_rng(7)
    n = 60
    if name in ("auROC", "auPRC"):
        a = (rng.random(n) < 0.3).astype(int)
        b = np.round(rng.normal(size=n) + a, 1)  # many tied scores
    else:
        a = np.round(rng.normal(size=n), 1)
        b = np.round(a + rng.normal(size=n), 1)
    fn = METRICS[name]
    kernel = kernel_for(fn, a, b)
    assert kernel is not None
    for idx in _replicates(n, 40, seed=1):
        w = np.bincount(idx, minlength=n).astype(float)
        assert kernel(w) == pytest.approx(fn(a[idx], b[idx]), rel=1e-10, abs=1e-12)
    # a degenerate replicate, one row drawn n times: one class only (ROC/PR: NaN), constant
    # inputs (correlations: NaN); the MSE is that row's squared error
    idx = np.full(n, 4)
    want, got = fn(a[idx], b[idx]), kernel(np.bincount(idx, minlength=n).astype(float))
    assert (np.isnan(got) and np.isnan(want)) if name != "mse" else got == pytest.approx(want)


@pytest.mark.parametrize("name", ["auROC", "auPRC", "spearman"])
def test_weighted_bootstrap_gives_the_same_interval_as_resampling(name: str) -> None:
    rng = np.random.default_rng(3)
    y = (rng.random((300, 3)) < 0.4).astype(int) if name != "spearman" else rng.normal(
        size=(300, 3))
    s = np.round(y + rng.normal(size=(300, 3)), 2)
    fn = METRICS[name]
    for metric, arrays in ((fn, (y[:, 0], s[:, 0])), (macro(fn), (y, s)), (pooled(fn), (y, s))):
        fast = bootstrap_ci(metric, *arrays, n_boot=200, seed=5)
        slow = bootstrap_ci(metric, *arrays, n_boot=200, seed=5, weighted=False)
        assert fast == pytest.approx(slow, rel=1e-10)
    assert macro(fn)(y, s) == pytest.approx(np.mean([fn(y[:, t], s[:, t]) for t in range(3)]))
    assert pooled(fn)(y, s) == pytest.approx(fn(y.ravel(), s.ravel()))
    # a metric without a kernel is resampled: the same result with or without `weighted`
    med = bootstrap_ci(lambda v: float(np.median(v)), s[:, 0], n_boot=50, seed=2)
    assert med == bootstrap_ci(lambda v: float(np.median(v)), s[:, 0], n_boot=50, seed=2,
                               weighted=False)


def test_weighted_median_equals_the_median_of_the_replicate() -> None:
    rng = np.random.default_rng(4)
    for n in (1, 2, 7, 50):  # odd and even replicate sizes, ties
        v = np.round(rng.normal(size=n), 1)
        kernel = kernel_for(median, v)
        assert kernel is not None
        for idx in _replicates(n, 30, seed=n):
            w = np.bincount(idx, minlength=n).astype(float)
            assert kernel(w) == pytest.approx(float(np.median(v[idx])), abs=1e-12)
    assert np.isnan(median(np.array([])))
    v = rng.random(101)
    assert bootstrap_ci(median, v, n_boot=100, seed=1) == pytest.approx(
        bootstrap_ci(median, v, n_boot=100, seed=1, weighted=False), rel=1e-12)


def test_profile_jsd_has_its_macro_row_for_a_single_task() -> None:
    """A one-sample study gets the same aggregations as a multitask one (gates use them)."""
    from seq2func.core.metrics import MACRO_MEDIAN_REGIONS, median_jsd_rows

    rng = np.random.default_rng(0)
    obs = rng.poisson(2.0, (30, 10, 1)).astype(float)
    pred = np.full((30, 10, 1), 0.1)
    rows = median_jsd_rows("m", "test", obs, pred, ["a"], n_boot=0)
    macro = [r for r in rows if r.aggregation == MACRO_MEDIAN_REGIONS]
    assert len(macro) == 1 and macro[0].value == pytest.approx(rows[0].value)
