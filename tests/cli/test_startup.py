"""Start-up checks of the workflow (seq2func.cli.startup): which stages a study has."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from conftest import REPO
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
