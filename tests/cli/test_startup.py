"""Start-up checks of the workflow (seq2func.cli.startup): which stages a study has."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from conftest import REPO, url_study
from seq2func.cli.startup import accessibility_only, samples_with_expression
from seq2func.core.config import validate_config


@pytest.fixture()
def download_cfg() -> dict:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    validate_config(cfg, REPO / "workflow" / "schemas" / "config.schema.yaml")
    cfg["source"] = "download"
    return cfg


def _samples(expression: list[object] | None) -> pd.DataFrame:
    df = pd.DataFrame({"sample": ["A", "B"], "cell_type": ["a", "b"], "assay": ["ATAC"] * 2})
    if expression is not None:
        df["expression"] = expression
    return df


@pytest.mark.parametrize(("cells", "expected"), [
    (None, []),                       # no expression column
    ([float("nan"), ""], []),         # a column with empty cells (how pandas reads them)
    (["q.tsv", float("nan")], ["A"]),
    (["q.tsv", "r.tsv"], ["A", "B"]),
])
def test_samples_with_expression(download_cfg: dict, cells: list | None,
                                 expected: list[str]) -> None:
    assert samples_with_expression(download_cfg, _samples(cells)) == expected


def test_a_simulated_study_has_expression_for_every_sample(download_cfg: dict) -> None:
    download_cfg["source"] = "simulate"
    assert samples_with_expression(download_cfg, _samples(None)) == ["A", "B"]


def test_an_accessibility_only_study_drops_the_expression_stage_model(
        download_cfg: dict) -> None:
    download_cfg["variants"]["expression_model"] = "seq_only"
    notes = accessibility_only(download_cfg, _samples(None))
    assert download_cfg["variants"]["expression_model"] is None
    assert any("accessibility-only study" in n for n in notes)
    assert any("variants.expression_model" in n for n in notes)


def test_a_study_with_expression_keeps_its_settings(download_cfg: dict) -> None:
    download_cfg["variants"]["expression_model"] = "seq_only"
    before = copy.deepcopy(download_cfg)
    assert accessibility_only(download_cfg, _samples(["q.tsv", ""])) == []
    assert download_cfg == before


# ---------------------------------------------------------- a study reads nothing of the demo

def _study(tmp_path, **extra) -> dict:
    samples = tmp_path / "samples.tsv"
    samples.write_text("sample\tcell_type\tassay\tsignal\tpeaks\n"
                       "s1\tyeast\tATAC\ts1.bw\ts1.narrowPeak\n")
    return {**url_study("mine", samples), **extra}


def test_a_study_with_only_inputs_gets_the_schema_defaults_and_baseline_gates(tmp_path) -> None:
    from seq2func.cli.startup import check_study

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]
    cfg = _study(tmp_path)
    check_study(cfg, [], REPO / "workflow" / "schemas")
    assert cfg["accessibility"]["models"] == {"basset": {
        "architecture": "basset", **{k: v["default"] for k, v in props["accessibility"][
            "properties"]["models"]["additionalProperties"]["allOf"][0]["then"][
            "properties"].items()}}}
    assert cfg["preprocess"]["input_length"] == props["preprocess"]["properties"][
        "input_length"]["default"]
    assert cfg["evaluate"]["bootstrap"] == props["evaluate"]["properties"]["bootstrap"][
        "default"]
    # gates: the baseline gates of the one model, then every study's library QC gates; no
    # expression stage, no expression gates
    library = [g["name"] for g in props["evaluate"]["properties"]["baseline_gates"]["default"][
        "library"]]
    assert [g["name"] for g in cfg["evaluate"]["gates"]] == ["basset_beats_kmer_lr",
                                                            "gc_only_below_basset", *library]
    assert cfg["variants"]["expression_model"] is None


def test_baseline_gates_follow_the_models_and_can_be_turned_off(tmp_path) -> None:
    from seq2func.cli.startup import check_study

    models = {"m": {"architecture": "chrombpnet"}, "p": {"architecture": "bpnet"}}
    cfg = _study(tmp_path, accessibility={"models": models})
    check_study(cfg, [], REPO / "workflow" / "schemas")
    names = [g["name"] for g in cfg["evaluate"]["gates"]]
    assert names[:2] == ["m_counts_beat_kmer_ridge", "m_profile_beats_average"]
    assert "m_bias_free" in names and "p_profile_beats_average" in names
    assert not any(n.startswith("basset") for n in names)
    off = _study(tmp_path, accessibility={"models": models},
                 evaluate={"baseline_gates": {}})
    check_study(off, [], REPO / "workflow" / "schemas")
    assert off["evaluate"]["gates"] == []
