"""DownloadSettings: the transport part of the config's download section, defaults from the
schema, and its JSON round trip through the environment of the download jobs."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from seq2func.cli import main
from seq2func.core.errors import ConfigError
from seq2func.core.settings import schema_fields, section_schema
from seq2func.download import SETTINGS_ENV, DownloadPlan, DownloadSettings


def test_fields_are_the_schema_properties_less_the_files() -> None:
    names = {f.name for f in fields(DownloadSettings)}
    assert names | set(DownloadSettings.NOT_FIELDS) == schema_fields("download")
    assert not names & set(DownloadSettings.NOT_FIELDS)


def test_defaults_come_from_the_schema() -> None:
    s = DownloadSettings.from_config({})
    props = section_schema("download")["properties"]
    for f in fields(DownloadSettings):
        assert getattr(s, f.name) == props[f.name]["default"], f.name
    assert s.chunk_bytes == 1 << 20 and s.assembly == "GRCh38" and s.mirror is None


def test_built_from_the_whole_validated_section() -> None:
    from seq2func.core.config import validate_config

    cfg = validate_config(yaml.safe_load((REPO / "config" / "encode_hg38.yaml").read_text()),
                          REPO / "workflow" / "schemas" / "config.schema.yaml")
    s = DownloadSettings.from_config(cfg["download"])
    assert s.retries == cfg["download"]["retries"] and not hasattr(s, "genome")


def test_json_round_trip() -> None:
    s = DownloadSettings.from_config({"retries": 2, "mirror": "/m", "offline": True})
    assert DownloadSettings.from_config(json.loads(s.to_json())) == s


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match=r"(?s)download\.retires.*did you mean 'retries'"):
        DownloadSettings.from_config({"retires": 2})
    with pytest.raises(ConfigError, match=r"download\.chunk_bytes"):
        DownloadSettings.from_config({"chunk_bytes": 0})


def test_fetch_reads_the_settings_from_the_environment(tmp_path: Path, capsys, caplog,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.bed"
    src.write_text("chr1\t0\t10\n")
    args = ["fetch", "--source", str(src), "--output", str(tmp_path / "out.bed")]
    monkeypatch.setenv(SETTINGS_ENV, DownloadSettings.from_config({"offline": True}).to_json())
    with caplog.at_level(logging.INFO, logger="seq2func"):
        assert main(args) == 0
    assert '"offline": true' in caplog.text
    monkeypatch.setenv(SETTINGS_ENV, '{"retires": 1}')
    assert main(args) == 2
    assert "did you mean 'retries'" in capsys.readouterr().err
    assert main([*args, "--settings", "{offline"]) == 2
    assert "--settings: not valid JSON" in capsys.readouterr().err


def test_frozen() -> None:
    s = DownloadSettings.from_config({})
    with pytest.raises(AttributeError):
        s.retries = 1  # type: ignore[misc]
    assert dataclasses.replace(s, retries=1).retries == 1


def test_old_module_paths_still_export_what_the_rules_import() -> None:
    from seq2func.download.fetch import SETTINGS_ENV as env
    from seq2func.download.fetch import DownloadSettings as settings
    from seq2func.download.plan import DownloadPlan as plan

    assert (env, settings, plan) == (SETTINGS_ENV, DownloadSettings, DownloadPlan)
