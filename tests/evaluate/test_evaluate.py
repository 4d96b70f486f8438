"""Accessibility evaluation: truth-ceiling mapping, metric rows and their aggregation labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seq2func.core.errors import InputError
from seq2func.dataset import average_peak_profile
from seq2func.evaluate import accessibility as ev
from seq2func.evaluate import ceiling, scores


def _truth(tmp_path, rows):
    cres = pd.DataFrame(rows, columns=["chrom", "core_start", "core_end", "p_ery", "p_hep"])
    d = tmp_path / "truth"
    d.mkdir()
    cres.to_csv(d / "cres.tsv", sep="\t", index=False)
    return d


def test_bayes_ceiling_maps_centres_within_150_bp_of_a_core(tmp_path) -> None:
    truth = _truth(tmp_path, [["chr1", 1000, 1300, 0.9, 0.1], ["chr1", 5000, 5300, 0.2, 0.7],
                              ["chr2", 1000, 1300, 0.5, 0.5]])
    regions = pd.DataFrame({"chrom": ["chr1"] * 6 + ["chr3"],
                            # inside; 150 bp left of core; 151 left; 150 right of last base;
                            # 151 right; nearer the second core; chromosome without CREs
                            "centre": [1100, 850, 849, 1449, 1450, 4900, 1100]})
    p = ceiling.bayes_ceiling_scores(regions, ["erythroid", "hepatocyte"],
                                {"erythroid": "ery", "hepatocyte": "hep"}, truth)
    expected = np.array([[0.9, 0.1], [0.9, 0.1], [0, 0], [0.9, 0.1], [0, 0], [0.2, 0.7],
                         [0, 0]])
    np.testing.assert_allclose(p, expected)


def test_bayes_ceiling_requires_truth(tmp_path) -> None:
    with pytest.raises(InputError, match="simulator truth not found"):
        ceiling.bayes_ceiling_scores(pd.DataFrame({"chrom": ["chr1"], "centre": [1]}), ["a"],
                                {"a": "a"}, tmp_path)


def _scores() -> scores.SplitScores:
    rng = np.random.default_rng(0)
    n = 60
    labels = np.zeros((n, 2), dtype=np.uint8)
    labels[:30, 0] = 1
    labels[::2, 1] = 1
    regions = pd.DataFrame({"region_id": np.arange(n), "chrom": ["chr1"] * 40 + ["chr2"] * 20,
                            "source": ["peak"] * 30 + ["background"] * 30,
                            "centre": np.arange(n) * 1000, "is_peak_a": labels[:, 0],
                            "is_peak_b": labels[:, 1]})
    lc = rng.normal(size=(n, 2))
    sc = scores.SplitScores(tasks=["a", "b"], regions=regions, labels=labels, log_counts=lc)
    sc.label_scores["perfect"] = labels.astype(float)
    sc.label_scores["reversed"] = 1.0 - labels
    sc.count_preds["same"] = lc.copy()
    return sc


def test_metric_rows_values_aggregations_and_chromosomes() -> None:
    rows = ev.metric_rows(_scores(), "test", n_boot=20, seed=1)
    df = pd.DataFrame([r.__dict__ for r in rows])
    macro = df[(df.model == "perfect") & (df.metric == "auROC") & (df.task == "all")
               & (df.aggregation == "macro mean over tasks") & (df.chromosome == "all")]
    assert macro["value"].tolist() == [1.0]
    rev = df[(df.model == "reversed") & (df.metric == "auROC") & (df.task == "a")
             & (df.chromosome == "all")]
    assert rev["value"].tolist() == [0.0]
    # counts: all regions and peak regions are separate rows, with the subset in the name
    cnt = df[(df.model == "same") & (df.metric == "log_counts_pearson") & (df.task == "a")
             & (df.chromosome == "all")]
    assert set(cnt["aggregation"]) == {"per task, across regions",
                                       "per task, across peak regions"}
    assert np.allclose(cnt["value"], 1.0)
    assert set(cnt["n"]) == {60, 30}
    macro_peaks = df[(df.metric == "log_counts_pearson") & (df.task == "all")]
    assert "macro mean over tasks, peak regions" in set(macro_peaks["aggregation"])
    # per-chromosome rows: chr2 holds only rows 40..59
    chr2 = df[(df.model == "perfect") & (df.metric == "auROC") & (df.task == "b")
              & (df.chromosome == "chr2")]
    assert chr2["n"].tolist() == [20]
    # no duplicated keys
    key = ["model", "metric", "task", "aggregation", "chromosome"]
    assert not df.duplicated(key).any()


def test_scores_round_trip(tmp_path) -> None:
    sc = _scores()
    sc.save(tmp_path / "s.npz")
    back = scores.load_scores(tmp_path / "s.npz")
    assert back.tasks == ["a", "b"]
    assert list(back.label_scores) == ["perfect", "reversed"]
    np.testing.assert_allclose(back.count_preds["same"], sc.count_preds["same"], rtol=1e-6)
    assert back.regions["source"].tolist() == sc.regions["source"].tolist()


def test_model_predictions_seed_ensemble_is_the_mean(tmp_path) -> None:
    ids = np.arange(4)
    for seed, v in ((1, 0.2), (2, 0.6)):
        d = tmp_path / "basset" / f"seed{seed}"
        d.mkdir(parents=True)
        np.savez(d / "test.npz", region_id=ids, labels=np.full((4, 2), v))
    files = sorted(str(p) for p in tmp_path.glob("basset/seed*/test.npz"))
    out = scores.load_model_predictions({"basset": files}, ids)
    assert set(out) == {"basset", "basset/seed1", "basset/seed2"}
    np.testing.assert_allclose(out["basset"]["labels"], 0.4)
    with pytest.raises(InputError, match="region ids differ"):
        scores.load_model_predictions({"basset": files}, ids[::-1])


def test_average_peak_profile_is_the_mean_normalised_training_peak_profile(
        tmp_path_factory) -> None:
    from preprocess_inputs import SMALL_PARAMS, build_dataset, make_study

    study = make_study(tmp_path_factory.mktemp("avgprof_study"), seed=3)
    out = build_dataset(study, tmp_path_factory.mktemp("avgprof_dataset"))
    _, regions, _, _, _, prof = scores.read_split(out, "train", with_profile=True)
    tasks = [c.removeprefix("is_peak_") for c in regions.columns if c.startswith("is_peak_")]
    want = []
    for t, task in enumerate(tasks):  # each task's own peaks
        own = prof[(regions[f"is_peak_{task}"] == 1).to_numpy(), :, t].astype(np.float64)
        want.append(np.mean([p / p.sum() for p in own if p.sum() > 0], axis=0))
    want = np.stack(want, axis=1)
    got = average_peak_profile(out, "train")
    assert got.shape == (SMALL_PARAMS["profile_length"], len(tasks))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(got.sum(axis=0), 1.0)
