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
    assert "--params: not valid JSON" in capsys.readouterr().err


#: the subcommands, one list per stage module of seq2func.cli (names are part of the interface)
SUBCOMMANDS = {
    "simulate": ["simulate"], "config": ["validate-config"],
    "download": ["fetch", "ingest", "cutsites"],
    "preprocess": ["preprocess", "preprocess-plan", "preprocess-chrom", "preprocess-job",
                   "preprocess-gather", "preprocess-qc", "library-qc"],
    "train": ["train-accessibility", "train-bias", "predict-accessibility",
              "predict-out-of-fold", "check-gpu"],
    "expression": ["expression-prepare", "expression-predicted-chromatin", "train-expression",
                   "evaluate-expression"],
    "evaluate": ["evaluate-accessibility", "fold-summary", "accessibility-tracks",
                 "evaluate-gates", "bias-qc"],
    "report": ["figure"],
    "interpret": ["explain", "discover-motifs", "motif-recovery", "grammar", "grammar-truth"],
    "variants": ["score-variants", "variant-metrics"],
}


def test_each_stage_module_registers_its_subcommands() -> None:
    import argparse
    import importlib

    from seq2func.cli import STAGES

    assert list(STAGES) == list(SUBCOMMANDS)
    for stage in STAGES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(f"seq2func.cli.{stage}").register(sub)
        assert list(sub.choices) == SUBCOMMANDS[stage], stage
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == [c for cmds in SUBCOMMANDS.values() for c in cmds]


def test_runners_only_parse_arguments_and_call_their_stage() -> None:
    """Every ``_run_*`` of the CLI is short: orchestration lives in the stage packages."""
    import ast

    long = []
    for path in sorted((REPO / "src" / "seq2func" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("_run_"):
                body = node.end_lineno - node.body[0].lineno + 1
                if body > 16:
                    long.append(f"{path.name}:{node.name} ({body} lines)")
    assert not long, long
