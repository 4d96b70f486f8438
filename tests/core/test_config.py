"""Configuration and samples-table validation gives errors that name the key and the fix."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from conftest import REPO, make_workdir, run_snakemake
from seq2func.core.config import load_config, load_samples, validate_config
from seq2func.core.errors import ConfigError, InputError

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SAMPLES_SCHEMA = REPO / "workflow" / "schemas" / "samples.schema.yaml"


@pytest.fixture()
def cfg() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_config_is_valid(cfg: dict) -> None:
    out = validate_config(copy.deepcopy(cfg), SCHEMA)
    assert out["study"] == "demo"
    assert out["simulate"]["seed"] == 1


def test_defaults_are_filled_in(cfg: dict) -> None:
    del cfg["simulate"]["n_variants"]
    out = validate_config(cfg, SCHEMA)
    assert out["simulate"]["n_variants"] == 2000


def test_wrong_type_names_the_key(cfg: dict) -> None:
    cfg["simulate"]["seed"] = "abc"
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA, source="my.yaml")
    msg = str(err.value)
    assert "my.yaml" in msg and "simulate.seed" in msg and "integer" in msg


def test_unknown_key_is_named_with_suggestion(cfg: dict) -> None:
    cfg["simulate"]["sede"] = 3
    with pytest.raises(ConfigError) as err:
        validate_config(cfg, SCHEMA)
    msg = str(err.value)
    assert "simulate.sede" in msg and "unknown key" in msg and "did you mean 'seed'" in msg


def test_unknown_top_level_key(cfg: dict) -> None:
    cfg["trian"] = {}
    with pytest.raises(ConfigError, match="'trian': unknown key"):
        validate_config(cfg, SCHEMA)


def test_missing_required_key(cfg: dict) -> None:
    del cfg["split"]
    with pytest.raises(ConfigError, match="'split': required key is missing"):
        validate_config(cfg, SCHEMA)


def test_bad_enum(cfg: dict) -> None:
    cfg["source"] = "internet"
    with pytest.raises(ConfigError, match=r"'source'.*not one of"):
        validate_config(cfg, SCHEMA)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("study: demo\nsource: [unclosed\n")
    with pytest.raises(InputError, match=r"c\.yaml, line"):
        load_config(p, SCHEMA)


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "samples.tsv"
    p.write_text(text)
    return p


def test_samples_table_ok() -> None:
    df = load_samples(REPO / "config" / "samples.tsv", SAMPLES_SCHEMA)
    assert list(df["sample"]) == ["erythroid", "hepatocyte", "fibroblast"]


def test_duplicate_sample_names(tmp_path: Path) -> None:
    p = _write(tmp_path, "sample\tcell_type\tassay\na\tx\tATAC\nb\tx\tATAC\na\ty\tDNase\n")
    with pytest.raises(InputError) as err:
        load_samples(p, SAMPLES_SCHEMA)
    assert "duplicate sample name(s): a" in str(err.value) and "line 4" in str(err.value)


def test_missing_column(tmp_path: Path) -> None:
    p = _write(tmp_path, "sample\tassay\na\tATAC\n")
    with pytest.raises(InputError, match="missing column 'cell_type'"):
        load_samples(p, SAMPLES_SCHEMA)


def test_bad_assay_names_row(tmp_path: Path) -> None:
    p = _write(tmp_path, "sample\tcell_type\tassay\na\tx\tATAC\nb\tx\tChIP\n")
    with pytest.raises(InputError) as err:
        load_samples(p, SAMPLES_SCHEMA)
    assert "line 3" in str(err.value) and "assay" in str(err.value)


def test_unsafe_sample_name(tmp_path: Path) -> None:
    p = _write(tmp_path, "sample\tcell_type\tassay\nmy sample\tx\tATAC\n")
    with pytest.raises(InputError, match="not file-name safe"):
        load_samples(p, SAMPLES_SCHEMA)


def test_snakemake_refuses_bad_config_at_startup(tmp_path: Path) -> None:
    wd = make_workdir(tmp_path, {"simulate": {"seed": "one"}})
    res = run_snakemake(wd, "-n", timeout=300)
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "simulate.seed" in out and "integer" in out
    assert not (wd / "resources" / "demo").exists()
