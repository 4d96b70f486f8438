"""bench/expression/run_bench.py: the scoring and the table of the benchmark (toy data)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "expression" / "run_bench.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_bench", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _genes(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    split = np.array(["train"] * 30 + ["valid"] * 10 + ["test"] * (n - 40))
    return pd.DataFrame({"gene_id": [f"g{i}" for i in range(n)], "split": split,
                         "log1p_tpm_a": rng.normal(3, 1, n), "log1p_tpm_b": rng.normal(2, 1, n)})


def test_score_ranks_a_perfect_model_above_noise(bench: ModuleType) -> None:
    genes = _genes()
    y = genes[["log1p_tpm_a", "log1p_tpm_b"]].to_numpy()
    noise = np.random.default_rng(1).normal(size=y.shape)
    table = bench.score(genes, {"perfect": (y, 1.0), "noise": (noise, 2.0)}, n_boot=20)
    t = table.set_index("model")
    assert t.loc["perfect", "pearson"] == pytest.approx(1.0)
    assert t.loc["perfect", "mse"] == pytest.approx(0.0)
    assert abs(t.loc["noise", "pearson"]) < 0.5 and t.loc["noise", "wall_s"] == 2.0
    assert (t["n_test"] == 20).all()
    assert (t["pearson_lo"] <= t["pearson"] + 1e-9).all()


def test_markdown_marks_a_constant_predictor(bench: ModuleType) -> None:
    table = pd.DataFrame([{"dataset": "d", "model": "mean_predictor", "pearson": np.nan,
                           "pearson_lo": np.nan, "pearson_hi": np.nan, "spearman": np.nan,
                           "spearman_lo": np.nan, "spearman_hi": np.nan, "mse": 1.5,
                           "n_test": 20, "wall_s": 0.0},
                          {"dataset": "d", "model": "m", "pearson": 0.5, "pearson_lo": 0.4,
                           "pearson_hi": 0.6, "spearman": 0.45, "spearman_lo": 0.3,
                           "spearman_hi": 0.55, "mse": 1.0, "n_test": 20, "wall_s": np.nan}])
    md = bench.markdown(table).splitlines()
    assert md[0].startswith("| dataset | model | Pearson")
    assert "n/a (constant)" in md[2] and "| 1.500 |" in md[2]
    assert "0.500 [0.400, 0.600]" in md[3] and md[3].endswith("| - |")


def test_yeast_splits_hold_out_disjoint_chromosomes(bench: ModuleType) -> None:
    for split in bench.YEAST_SPLITS.values():
        assert not set(split["valid"]) & set(split["test"])
        assert set(split["valid"]) | set(split["test"]) <= set(bench.NUCLEAR)


def test_baselines_include_the_training_mean(bench: ModuleType, tmp_path: Path) -> None:
    from seq2func.expression.settings import ExpressionSettings

    genes = _genes()
    rng = np.random.default_rng(2)
    np.savez(tmp_path / "features.npz", codes=rng.integers(0, 4, (60, 50)).astype(np.uint8),
             observed=rng.normal(size=(60, 4, 2)).astype(np.float32),
             tracks=np.asarray(["a", "b"]), gene_id=genes["gene_id"].to_numpy().astype(str))
    settings = ExpressionSettings.from_config({"baselines": {"k": 2}})
    out = bench.baselines(genes, tmp_path / "features.npz", settings)
    assert set(out) == {"kmer_ridge", "chromatin_ridge", "mean_predictor"}
    mean, wall = out["mean_predictor"]
    train = genes["split"] == "train"
    np.testing.assert_allclose(mean[0], genes.loc[train, ["log1p_tpm_a", "log1p_tpm_b"]].mean())
    assert mean.shape == (60, 2) and wall == 0.0
    assert out["kmer_ridge"][0].shape == (60, 2)
