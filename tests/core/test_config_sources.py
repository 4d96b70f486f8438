"""Where each value of a study's configuration comes from (seq2func.core.config_sources)."""

from __future__ import annotations

from pathlib import Path

import yaml

from seq2func.core.config_sources import (
    BASELINE,
    SCHEMA_DEFAULT,
    annotated_yaml,
    merge_files,
    value_source,
)


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_later_files_win_and_mappings_merge_key_by_key(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.yaml", {"x": {"p": 1, "q": [1, 2]}, "y": 1})
    b = _write(tmp_path / "b.yaml", {"x": {"q": [3]}, "z": "b"})
    assert merge_files([a, b]) == {"x": {"p": 1, "q": [3]}, "y": 1, "z": "b"}
    # the first file is not changed by merging (no aliasing of its mappings)
    assert merge_files([a]) == {"x": {"p": 1, "q": [1, 2]}, "y": 1}


def test_value_source_is_the_last_file_setting_the_key() -> None:
    loaded = {"a.yaml": {"x": {"p": 1}}, "b.yaml": {"x": {"p": 2, "q": None}}}
    assert value_source(("x", "p"), loaded) == "b.yaml"
    assert value_source(("x", "q"), loaded) == "b.yaml"  # set to null is set
    assert value_source(("x", "r"), loaded) == SCHEMA_DEFAULT
    assert value_source(("y",), {"a.yaml": {"x": 1}}) == SCHEMA_DEFAULT


def test_annotated_yaml_loads_back_and_names_every_source(tmp_path: Path) -> None:
    study = _write(tmp_path / "study.yaml", {
        "study": "s", "accessibility": {"models": {"m": {"architecture": "basset"}}},
        "evaluate": {"gates": [{"name": "own", "model": "m"}]}})
    config = {"study": "s",
              "accessibility": {"models": {"m": {"architecture": "basset", "dropout": 0.3}},
                                "seeds": [1]},
              "evaluate": {"gates": [{"name": "m_beats_kmer_lr", "model": "m"},
                                     {"name": "own", "model": "m"}],
                           "bootstrap": 1000}}
    text = annotated_yaml(config, [study])
    assert yaml.safe_load(text) == config
    lines = {line.strip().split(":")[0].lstrip("- {"): line for line in text.splitlines()}
    assert lines["study"].endswith(f"# {study}")
    assert lines["architecture"].endswith(f"# {study}")
    assert lines["dropout"].endswith(f"# {SCHEMA_DEFAULT}")
    assert lines["seeds"].endswith(f"# {SCHEMA_DEFAULT}")
    gate_lines = [line for line in text.splitlines() if "name:" in line]
    assert gate_lines[0].endswith(f"# {BASELINE}") and gate_lines[1].endswith(f"# {study}")
