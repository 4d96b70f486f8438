"""No value from the config or the samples table runs as a shell command, and odd paths work.

The static test (``test_rule_shell_quoting.py``) checks that every placeholder is quoted; this
one runs the workflow from a working directory and with a samples table whose paths hold
``$(touch X)``, backticks, ``;`` and spaces, with a config regex holding braces, through
simulation, preprocessing and the expression stage's preparation, and checks that the jobs
succeed and that no file ``X`` appears anywhere. (Braces in a file path cannot reach a rule:
Snakemake reads them as wildcards, so the start-up check refuses such paths.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import REPO, SMALL_SIMULATION, make_workdir, run_snakemake

HOSTILE = "$(touch X) `touch X` ;touch X"


def _no_x(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("X")]


@pytest.mark.slow
def test_paths_with_shell_syntax_run_and_execute_nothing(tmp_path: Path) -> None:
    wd = make_workdir(tmp_path / f"work dir {HOSTILE}", {
        "simulate": SMALL_SIMULATION, "split": {"valid": ["chr3"], "test": ["chr2"]},
        # braces: Snakemake would read a params string as a wildcard pattern
        "preprocess": {"exclude_chromosomes": r"_|^chrM$|^chr\d{3}$"}})
    samples = wd / "config" / f"sam ples {HOSTILE}.tsv"
    shutil.move(wd / "config" / "samples.tsv", samples)
    cfg_path = wd / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["samples"] = str(samples)  # an absolute path: it reaches the shell commands as it is
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    targets = ["results/demo/dataset/dataset.json", "results/demo/qc/preprocess_qc.svg",
               "results/demo/expression/genes.tsv"]
    res = run_snakemake(wd, "--cores", "2", *targets, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert not _no_x(tmp_path, REPO), _no_x(tmp_path, REPO)
    meta = json.loads((wd / targets[0]).read_text())
    assert meta["tasks"] == ["erythroid", "hepatocyte", "fibroblast"]
    assert meta["params"]["exclude_chromosomes"] == r"_|^chrM$|^chr\d{3}$"
    assert (wd / targets[2]).stat().st_size > 0
