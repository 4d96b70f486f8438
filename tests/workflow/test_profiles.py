"""Snakemake profiles: profiles/default (workstation) and profiles/slurm (cluster).

These checks need no cluster; tests/test_slurm.py runs the workflow through profiles/slurm on a
real one.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import REPO, snakemake_cmd

DEFAULT = REPO / "profiles" / "default" / "config.yaml"
SLURM = REPO / "profiles" / "slurm" / "config.yaml"
PARTITIONS = REPO / "profiles" / "slurm" / "partitions.yaml"


def _profile(path: Path) -> dict:
    import yte

    with path.open() as fh:
        return yte.process_yaml(fh, require_use_yte=True)


def _snakemake_options() -> set[str]:
    from snakemake.cli import get_argument_parser

    return {opt for action in get_argument_parser()._actions for opt in action.option_strings}


@pytest.mark.parametrize("path", [DEFAULT, SLURM], ids=["default", "slurm"])
def test_profile_keys_are_snakemake_options(path: Path) -> None:
    options = _snakemake_options()
    unknown = [k for k in _profile(path) if f"--{k}" not in options]
    assert not unknown, f"{path}: not Snakemake options: {unknown}"


def test_slurm_profile_settings() -> None:
    p = _profile(SLURM)
    assert p["executor"] == "slurm"
    # status through squeue: works without accounting (sacct would hang such clusters)
    assert p["slurm-status-command"] == "squeue"
    assert p["retries"] >= 1
    assert p["latency-wait"] >= 30  # shared file systems
    assert {"mem_mb", "runtime"} <= set(p["default-resources"])
    assert (SLURM.parent / p["slurm-partition-config"]).is_file()
    # nothing that would cap the whole cluster at one machine's size
    assert "cores" not in p and not {"mem_mb", "gpu", "_cores"} & set(p.get("resources", {}))


def _fake_job(name: str, threads: int = 1, **resources) -> SimpleNamespace:
    return SimpleNamespace(name=name, threads=threads, resources=resources)


def test_gpu_jobs_go_to_the_gpu_partition() -> None:
    from snakemake_executor_plugin_slurm.partitions import get_best_partition, read_partition_file

    partitions = read_partition_file(PARTITIONS)
    log = logging.getLogger("test")
    train = _fake_job("train_model", threads=8, gpu=1, mem_mb=32000, runtime=600)
    preprocess = _fake_job("preprocess_job", mem_mb=1600, runtime=60)
    assert get_best_partition(partitions, train, log) == "gpu"
    assert get_best_partition(partitions, preprocess, log) == "cpu"


def test_default_profile_fits_the_workstation() -> None:
    p = _profile(DEFAULT)
    assert "executor" not in p
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    assert 0 < p["resources"]["mem_mb"] <= ram_mb
    # GPU rules still run on a machine without GPU: there, in parallel as cores allow
    assert p["resources"]["gpu"] >= 1
    assert {"mem_mb", "runtime"} <= set(p["default-resources"])


@pytest.mark.parametrize(("visible", "slots"), [("0", 1), ("0,1", 1), ("", None), ("-1", None)])
def test_default_profile_runs_one_gpu_job_at_a_time_only_with_gpus(monkeypatch, visible,
                                                                     slots) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    p = _profile(DEFAULT)
    assert p["resources"]["gpu"] == (slots or os.cpu_count())


def _dry_run(*args: str) -> str:
    res = subprocess.run(snakemake_cmd("-n", "--quiet", "rules", *args), cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    return out


def test_workflow_profile_slurm_replaces_the_workstation_profile() -> None:
    out = _dry_run("--workflow-profile", "profiles/slurm")
    assert "Using workflow specific profile profiles/slurm" in out
    assert "global resource limits" not in out


def test_warns_when_workstation_limits_reach_a_cluster_run() -> None:
    """`--profile profiles/slurm` keeps profiles/default's limits (Snakemake merges it last)."""
    out = _dry_run("--profile", "profiles/slurm")
    assert "cluster run with global resource limits" in out
    assert "--workflow-profile profiles/slurm" in out
