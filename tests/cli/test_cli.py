"""The command-line interface lists its subcommands and reports errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO
from seq2func.cli import build_parser, main


def test_help_lists_subcommands() -> None:
    res = subprocess.run([sys.executable, "-m", "seq2func", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0
    for cmd in ("simulate", "validate-config"):
        assert cmd in res.stdout


def test_help_does_not_import_tensorflow() -> None:
    code = "import sys; from seq2func.cli import build_parser; build_parser(); " \
           "print('tensorflow' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "False"


def test_validate_config_prints_defaults(capsys) -> None:
    import os

    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        assert main(["validate-config", "config/config.yaml"]) == 0
    finally:
        os.chdir(cwd)
    assert "n_variants: 2000" in capsys.readouterr().out


def test_bad_params_give_exit_code_2(tmp_path: Path, capsys) -> None:
    rc = main(["simulate", "--params", "{not json", "--samples", str(REPO / "config/samples.tsv"),
               "--motifs", "x", "--outdir", str(tmp_path)])
    assert rc == 2
    assert "--params is not valid JSON" in capsys.readouterr().err


def test_parser_has_no_duplicate_commands() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert len(sub.choices) == len(set(sub.choices))
