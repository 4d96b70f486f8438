"""Quality gates: PASS / FAIL / NOT RUN over registered metric tables, enforcement message."""

from __future__ import annotations

import pandas as pd
import pytest

from seq2func.cli import main
from seq2func.core.errors import ConfigError
from seq2func.core.metrics import MACRO, PER_TASK, MetricRow, rows_to_frame
from seq2func.evaluate.gates import evaluate_gates, failed_message


@pytest.fixture()
def table(tmp_path):
    rows = [MetricRow("basset", "test", "auROC", "all", MACRO, 0.90, 0.88, 0.92, 100),
            MetricRow("kmer_lr", "test", "auROC", "all", MACRO, 0.84, 0.82, 0.86, 100),
            MetricRow("gc_only", "test", "auROC", "all", MACRO, 0.60, 0.55, 0.65, 100),
            MetricRow("basset", "test", "auROC", "a", PER_TASK, 0.91, 0.0, 1.0, 100),
            MetricRow("basset", "test", "auROC", "all", "pooled over tasks and regions", 0.9,
                      0.0, 1.0, 100)]
    path = tmp_path / "acc.tsv"
    rows_to_frame(rows).to_csv(path, sep="\t", index=False)
    return {"accessibility": str(path)}


GATE = {"table": "accessibility", "metric": "auROC", "aggregation": MACRO}


def test_threshold_comparison_and_not_run(table) -> None:
    gates = [{**GATE, "name": "beats_kmer", "model": "basset", "compare_to": "kmer_lr",
              "margin": 0.03},
             {**GATE, "name": "strict", "model": "basset", "compare_to": "kmer_lr",
              "margin": 0.1},
             {**GATE, "name": "abs", "model": "basset", "threshold": 0.85},
             {**GATE, "name": "gc", "model": "gc_only", "op": "<", "compare_to": "basset"},
             {**GATE, "name": "no_table", "table": "expression", "model": "x",
              "threshold": 0.5},
             {**GATE, "name": "no_model", "model": "bpnet", "threshold": 0.5}]
    out = evaluate_gates(gates, table).set_index("gate")
    assert out["status"].to_dict() == {"beats_kmer": "PASS", "strict": "FAIL", "abs": "PASS",
                                       "gc": "PASS", "no_table": "NOT RUN",
                                       "no_model": "NOT RUN"}
    assert out.loc["beats_kmer", "reference_value"] == pytest.approx(0.87)
    msg = failed_message(out.reset_index())
    assert "strict" in msg and "beats_kmer" not in msg and "0.94" in msg


def test_ambiguous_selection_is_a_config_error(table) -> None:
    gate = {"name": "vague", "table": "accessibility", "metric": "auROC", "model": "basset",
            "threshold": 0.5}
    with pytest.raises(ConfigError, match="aggregation"):
        evaluate_gates([gate], table)


def test_cli_enforce_fails_after_writing_the_table(table, tmp_path) -> None:
    import json

    gates = json.dumps([{**GATE, "name": "strict", "model": "basset", "threshold": 0.99}])
    out = tmp_path / "gates.tsv"
    assert main(["evaluate-gates", "--gates", gates, "--tables", json.dumps(table),
                 "--out", str(out)]) == 0
    assert pd.read_csv(out, sep="\t")["status"].tolist() == ["FAIL"]
    done = tmp_path / "gates.passed"
    assert main(["evaluate-gates", "--gates", gates, "--check", str(out), "--enforce",
                 "--done", str(done)]) == 2
    assert not done.exists()


def test_a_truth_metric_is_not_run_on_a_real_study_but_a_typo_is_an_error(tmp_path) -> None:
    """A real study's bias table has no bias_truth_pearson (no simulator): NOT RUN; a metric
    name no table can have is still a configuration error."""
    rows = [MetricRow("m:bias", "test", "bias_log_counts_pearson", "all",
                      "per task across background regions; worst task", 0.4, 0.3, 0.5, 10)]
    path = tmp_path / "bias.tsv"
    rows_to_frame(rows).to_csv(path, sep="\t", index=False)
    gate = {"name": "truth", "table": "bias", "metric": "bias_truth_pearson",
            "aggregation": "per task across bases of background regions; worst task",
            "model": "m:bias", "op": ">=", "threshold": 0.8}
    out = evaluate_gates([gate], {"bias": path})
    assert out["status"].tolist() == ["NOT RUN"] and "truth" in out["detail"].iloc[0]
    with pytest.raises(ConfigError, match="is not a metric"):
        evaluate_gates([{**gate, "metric": "bias_log_count_pearson"}], {"bias": path})


# ------------------------------------------------------------------ baseline gates (every study)

def test_baseline_gates_fill_each_model_of_an_architecture() -> None:
    from seq2func.evaluate.gates import baseline_gates

    templates = {"basset": [{"name": "{model}_beats_kmer_lr", "model": "{model}",
                             "compare_to": "kmer_lr"},
                            {"name": "gc_only_below_{model}", "model": "gc_only",
                             "compare_to": "{model}"}],
                 "chrombpnet": [{"name": "{model}_bias_free", "model": "{model}:bias",
                                 "threshold": 3.0}],
                 "seq_only": [{"name": "expr", "model": "seq_only", "compare_to": "kmer_ridge"}]}
    out = baseline_gates(templates, {"b1": "basset", "c": "chrombpnet", "b2": "basset",
                                     "p": "bpnet"}, ["seq_only", "seq_observed"])
    assert [g["name"] for g in out] == ["b1_beats_kmer_lr", "gc_only_below_b1", "c_bias_free",
                                        "b2_beats_kmer_lr", "gc_only_below_b2", "expr"]
    assert out[1] == {"name": "gc_only_below_b1", "model": "gc_only", "compare_to": "b1"}
    assert out[2]["model"] == "c:bias" and out[2]["threshold"] == 3.0
    # no expression stage: no expression gates; templates are not changed
    assert [g["name"] for g in baseline_gates(templates, {"b1": "basset"}, [])] == [
        "b1_beats_kmer_lr", "gc_only_below_b1"]
    assert templates["basset"][0]["name"] == "{model}_beats_kmer_lr"


def test_an_own_gate_replaces_the_baseline_gate_of_its_name() -> None:
    from seq2func.evaluate.gates import with_baseline_gates

    baseline = [{"name": "a", "threshold": 0}, {"name": "b", "threshold": 0}]
    own = [{"name": "b", "threshold": 1}, {"name": "c", "threshold": 2}]
    assert with_baseline_gates(own, baseline) == [{"name": "a", "threshold": 0},
                                                  {"name": "b", "threshold": 1},
                                                  {"name": "c", "threshold": 2}]
    with pytest.raises(ConfigError, match="used twice: c"):
        with_baseline_gates([*own, {"name": "c", "threshold": 3}], baseline)
