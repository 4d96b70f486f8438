"""k-fold evaluation: the fold summary (per fold, mean with combined interval, min, max) and
gates on it."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from seq2func.core.metrics import MetricRow, rows_to_frame
from seq2func.core.tables import write_metric_table
from seq2func.evaluate.folds import Z95, fold_summary, run_fold_summary
from seq2func.evaluate.gates import evaluate_gates


def fold_table(auroc: float, half: float, n: int, extra: bool = True) -> pd.DataFrame:
    rows = [MetricRow("basset", "test", "auROC", "all", "macro mean over tasks", auroc,
                      auroc - half, auroc + half, n),
            MetricRow("kmer_lr", "test", "auROC", "all", "macro mean over tasks", 0.7,
                      0.68, 0.72, n),
            # per-chromosome rows stay in the fold's own table
            MetricRow("basset", "test", "auROC", "all", "macro mean over tasks", 0.5, 0.4,
                      0.6, n, chromosome="chrX")]
    if extra:
        rows.append(MetricRow("bpnet", "test", "auROC", "all", "macro mean over tasks", 0.8,
                              0.7, 0.9, n))
    return rows_to_frame(rows)


def test_summary_has_each_fold_and_the_mean_with_a_combined_interval() -> None:
    tables = {"fold_0": fold_table(0.90, 0.02, 100), "fold_1": fold_table(0.80, 0.04, 300),
              "fold_2": fold_table(0.85, 0.02, 200, extra=False)}
    out = fold_summary(tables)
    assert list(out.columns[:2]) == ["fold", "model"]
    assert set(out["chromosome"]) == {"all"}
    basset = out[out["model"] == "basset"].set_index("fold")
    assert list(basset.index) == ["fold_0", "fold_1", "fold_2", "mean", "min", "max"]
    assert basset.loc["mean", "value"] == pytest.approx(0.85)
    se = [0.02 / Z95, 0.04 / Z95, 0.02 / Z95]
    half = Z95 * math.sqrt(sum(s * s for s in se)) / 3
    assert basset.loc["mean", "ci_low"] == pytest.approx(0.85 - half)
    assert basset.loc["mean", "ci_high"] == pytest.approx(0.85 + half)
    assert basset.loc["mean", "n"] == 600
    assert basset.loc["min", "value"] == 0.80 and basset.loc["min", "n"] == 300
    assert basset.loc["max", "value"] == 0.90 and basset.loc["max", "ci_low"] == 0.88
    # a model missing from a fold gets its fold rows but no mean
    bpnet = out[out["model"] == "bpnet"]
    assert set(bpnet["fold"]) == {"fold_0", "fold_1"}


def test_a_fold_without_an_interval_gives_the_mean_none() -> None:
    a, b = fold_table(0.9, 0.02, 10), fold_table(0.8, 0.02, 10)
    b.loc[0, ["ci_low", "ci_high"]] = math.nan
    mean = fold_summary({"a": a, "b": b}).query("model == 'basset' and fold == 'mean'")
    assert mean["value"].iloc[0] == pytest.approx(0.85)
    assert mean[["ci_low", "ci_high"]].isna().all(axis=None)


def test_gates_read_the_fold_mean_unless_told_a_fold(tmp_path: Path) -> None:
    table = tmp_path / "accessibility_folds.tsv"
    run_fold_summary([("fold_0", _written(tmp_path / "f0.tsv", fold_table(0.9, 0.02, 10))),
                      ("fold_1", _written(tmp_path / "f1.tsv", fold_table(0.7, 0.02, 10)))],
                     table)
    assert table.with_name(table.name + ".provenance.json").is_file()
    gate = {"name": "g", "table": "accessibility_folds", "metric": "auROC", "model": "basset",
            "aggregation": "macro mean over tasks", "op": ">=", "compare_to": "kmer_lr",
            "margin": 0.05}
    res = evaluate_gates([gate, {**gate, "name": "worst", "fold": "min"},
                          {**gate, "name": "f0", "fold": "fold_0"}],
                         {"accessibility_folds": str(table)})
    got = dict(zip(res["gate"], zip(res["status"], res["value"], strict=True), strict=True))
    assert got["g"] == ("PASS", pytest.approx(0.8))
    assert got["worst"] == ("FAIL", pytest.approx(0.7))
    assert got["f0"] == ("PASS", pytest.approx(0.9))


def test_a_fold_selector_on_a_table_without_folds_is_a_config_error(tmp_path: Path) -> None:
    from seq2func.core.errors import ConfigError

    path = _written(tmp_path / "acc.tsv", fold_table(0.9, 0.02, 10))
    gate = {"name": "g", "table": "accessibility", "metric": "auROC", "model": "basset",
            "aggregation": "macro mean over tasks", "chromosome": "all", "threshold": 0.5,
            "fold": "mean"}
    with pytest.raises(ConfigError, match="has no fold column"):
        evaluate_gates([gate], {"accessibility": str(path)})


def _written(path: Path, table: pd.DataFrame) -> Path:
    write_metric_table(path, table)
    return path
