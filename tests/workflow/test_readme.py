"""The README starts with the two fresh-machine commands, and CI runs the test command."""

from __future__ import annotations

import re

from conftest import REPO

RUN_CMD = ("python3 -m venv .venv && . .venv/bin/activate && pip install -e . "
           "&& snakemake --cores all")
TEST_CMD = ('python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]" '
            "&& pytest")


def test_readme_starts_with_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    assert [b.strip() for b in blocks[:2]] == [RUN_CMD, TEST_CMD]
    # nothing but prose comes before them
    assert text.index(RUN_CMD) < text.index("## ")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert 'pip install -e ".[dev]" && pytest' in ci
    assert "python3 -m venv" in ci
    assert "-eq 5" in ci  # pytest's "no tests collected" exit code is a failure
