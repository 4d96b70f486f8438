"""The workflow follows Snakemake conventions: lint clean, snakefmt clean, complete rules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, snakemake_cmd

SMK_FILES = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]


def test_snakemake_lint_is_clean() -> None:
    res = subprocess.run(snakemake_cmd("--lint"), cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "Congratulations, your workflow is in a good condition!" in out, out


def test_snakefmt_check_is_clean() -> None:
    res = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "--diff", "."], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr


def _rules(path: Path) -> list[tuple[str, str]]:
    """(name, body) of every rule in a Snakemake file."""
    text = path.read_text()
    out = []
    for m in re.finditer(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", text, flags=re.M):
        out.append((m.group(1), m.group(2)))
    return out


def test_every_rule_declares_log_conda_threads_resources() -> None:
    rules = [(p, name, body) for p in SMK_FILES for name, body in _rules(p)]
    assert rules, "no rules found"
    problems = []
    for path, name, body in rules:
        if name == "all" or re.search(r"^\s+localrule: True", body, flags=re.M):
            continue
        for directive in ("log:", "conda:", "threads:", "resources:", "mem_mb=", "runtime="):
            if directive not in body:
                problems.append(f"{path.name}: rule {name} lacks {directive}")
        env = re.search(r'conda:\n\s+"([^"]+)"', body)
        if env and not (path.parent / env.group(1)).resolve().exists():
            problems.append(f"{path.name}: rule {name} names missing env {env.group(1)}")
    assert not problems, "\n".join(problems)


def test_dry_run_default_config() -> None:
    res = subprocess.run(snakemake_cmd("-n", "--forceall", "--quiet", "rules"), cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "simulate_demo" in res.stdout + res.stderr
