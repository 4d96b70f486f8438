"""TensorFlow jobs get one OpenMP thread when Snakemake exports OMP_NUM_THREADS."""

from __future__ import annotations

import os

import pytest

from seq2func.cli import main
from seq2func.core.threads import keep_openmp_out_of_tensorflow


def test_a_job_thread_count_moves_to_blas_and_openmp_gets_one() -> None:
    env = {"OMP_NUM_THREADS": "4"}
    keep_openmp_out_of_tensorflow(env)
    assert env == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "4"}


def test_an_explicit_blas_setting_is_kept() -> None:
    env = {"OMP_NUM_THREADS": "4", "OPENBLAS_NUM_THREADS": "2"}
    keep_openmp_out_of_tensorflow(env)
    assert env == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "2"}


@pytest.mark.parametrize("env", [{}, {"OMP_NUM_THREADS": "1"}])
def test_unset_or_one_changes_nothing(env: dict[str, str]) -> None:
    before = dict(env)
    keep_openmp_out_of_tensorflow(env)
    assert env == before


def test_the_cli_applies_it_before_running_a_subcommand(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    # any subcommand: this one fails at once on its missing file (exit code 2, no traceback)
    assert main(["validate-config", str(tmp_path / "missing.yaml")]) == 2
    assert os.environ["OMP_NUM_THREADS"] == "1"
    assert os.environ["OPENBLAS_NUM_THREADS"] == "3"
