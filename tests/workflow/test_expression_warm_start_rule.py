"""The workflow wires the expression warm start: a chromatin variant's training job waits for
seq_only of the same seed and passes it (``--warm-start``); ``warm_start: none`` or a study
without seq_only trains from scratch. Checked on the commands a dry run prints."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import MOTIFS, REPO, snakemake_cmd

MODEL = "results/demo/models/expression/{variant}/seed1/model.keras"


def _commands(wd: Path, extra: dict, variant: str) -> list[str]:
    """The train-expression commands of a dry run for ``variant``'s seed-1 model."""
    (wd / "extra.yaml").write_text(yaml.safe_dump(extra))
    res = subprocess.run(
        snakemake_cmd("-s", str(REPO / "Snakefile"), "-d", str(wd), "-n", "-p",
                      "--configfile", "config/config.yaml", "extra.yaml", "--",
                      MODEL.format(variant=variant)),
        capture_output=True, text=True, timeout=300, cwd=wd,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    return [line for line in out.splitlines() if "seq2func train-expression" in line]


@pytest.fixture()
def wd(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    for name in ("config.yaml", "samples.tsv"):
        shutil.copy(REPO / "config" / name, tmp_path / "config" / name)
    (tmp_path / "resources" / "motifs").mkdir(parents=True)
    shutil.copy(MOTIFS, tmp_path / "resources" / "motifs" / MOTIFS.name)
    return tmp_path


def test_chromatin_variants_start_from_seq_only_of_their_seed(wd: Path) -> None:
    cmds = _commands(wd, {}, "seq_observed")
    seq_only = [c for c in cmds if "--variant seq_only" in c]
    observed = [c for c in cmds if "--variant seq_observed" in c]
    assert len(seq_only) == 1 and len(observed) == 1  # seq_only is trained first
    assert "--warm-start" not in seq_only[0]
    assert f"--warm-start {MODEL.format(variant='seq_only')}" in observed[0]


@pytest.mark.parametrize("extra", [
    {"expression": {"chromatin": {"warm_start": "none"}}},
    {"expression": {"variants": ["seq_observed", "seq_predicted"]}},
], ids=["none", "no_seq_only"])
def test_no_warm_start_trains_from_scratch(wd: Path, extra: dict) -> None:
    cmds = _commands(wd, extra, "seq_observed")
    assert len(cmds) == 1 and "--variant seq_observed" in cmds[0]
    assert "--warm-start" not in cmds[0]
