"""The workflow runs on a real SLURM cluster through profiles/slurm (the slurm executor plugin).

The cluster (one node, partitions ``cpu`` and ``gpu``, one fake GPU) comes from the
``slurm_cluster`` fixture (tests/slurm_cluster.py); without SLURM packages or root these tests are
skipped with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import FAST_STAGES, REPO, SMALL_SIMULATION, TINY_ACCESSIBILITY, make_workdir
from slurm_cluster import SlurmCluster, SnakemakeRun

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GPU_SNAKEFILE = REPO / "tests" / "data" / "slurm" / "Snakefile"


def _job_blocks(text: str) -> list[dict[str, str]]:
    """The job blocks Snakemake printed: rule, jobid, output, resources, threads, whether local
    and whether part of a group job (indented under it)."""
    blocks = []
    for m in re.finditer(r"^(\s*)(local)?rule (\w+):\n((?:\1\s+\S.*\n)*)", text, flags=re.M):
        fields = dict(re.findall(r"^\s+(\w+): (.*)$", m.group(4), flags=re.M))
        fields.update(rule=m.group(3), local="yes" if m.group(2) else "",
                      in_group="yes" if m.group(1) else "")
        blocks.append(fields)
    return blocks


def _resources(block: dict[str, str]) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=([^,]+)", block.get("resources", "")))


def _mb(memory: str) -> int:
    """SLURM's memory display (600M, 2G, 1T) in MB."""
    return int(float(memory[:-1]) * {"M": 1, "G": 1024, "T": 1024**2}[memory[-1]])


def _minutes(time_limit: str) -> int:
    """SLURM's [D-]HH:MM:SS as minutes."""
    days, _, hms = time_limit.rpartition("-")
    hours, minutes, _ = (int(x) for x in hms.split(":"))
    return int(days or 0) * 1440 + hours * 60 + minutes


def _assert_ok(run: SnakemakeRun) -> None:
    assert run.returncode == 0, run.output[-6000:]


def test_demo_workflow_runs_through_slurm(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    """The default target, on a small genome: every job goes through sbatch with its resources."""
    wd = make_workdir(tmp_path, {"simulate": SMALL_SIMULATION,
                                 "split": {"valid": ["chr3"], "test": ["chr2"]},
                                 "accessibility": TINY_ACCESSIBILITY, **FAST_STAGES})
    run = slurm_cluster.snakemake(wd)
    _assert_ok(run)

    blocks = _job_blocks(run.output)
    remote = [b for b in blocks if not b["local"]]
    assert any(b["rule"] == "simulate_demo" for b in remote)
    submitted = run.submissions()
    # every job that is not a localrule was submitted (group jobs: once for the group)
    missing = [b["rule"] for b in remote if b["jobid"] not in submitted and not b["in_group"]]
    assert not missing, f"not submitted to SLURM: {missing}"
    # ... and SLURM ran it: each job's output line appears in some job's SLURM log
    slurm_logs = "\n".join(p.read_text(errors="replace") for p in run.slurm_logs())
    for b in remote:
        assert f"output: {b['output']}" in slurm_logs, f"rule {b['rule']} did not run in SLURM"
    # every SLURM job of the run completed (no failure left over from retries)
    states = slurm_cluster.job_states(run.run_id)
    assert set(submitted.values()) <= set(states), (submitted, states)
    assert {s for s, _ in states.values()} == {"COMPLETED"}, states
    # the rule's resources reached sbatch: memory, time limit, CPUs, partition (the last
    # attempt of each job)
    last = {b["jobid"]: b for b in remote if b["jobid"] in submitted}
    for b in last.values():
        job = slurm_cluster.show_job(submitted[b["jobid"]])
        res = _resources(b)
        assert _mb(job["MinMemoryNode"]) == int(res["mem_mb"]), (b["rule"], job["MinMemoryNode"])
        assert _minutes(job["TimeLimit"]) == int(res["runtime"]), (b["rule"], job["TimeLimit"])
        assert job["NumCPUs"] == b.get("threads", "1"), (b["rule"], job["NumCPUs"])
        assert job["Partition"] == ("gpu" if int(res.get("gpu", 0)) else "cpu"), b["rule"]
    # the real training rule ran as a GPU job: its run record names the SLURM job and partition
    # (the fake GPU is not a CUDA device, so TensorFlow trained on the CPU and said so)
    trained = sorted(wd.glob("results/demo/models/accessibility/*/seed*/run.json"))
    assert len(trained) == 2, trained
    for path in trained:
        record = json.loads(path.read_text())
        assert record["slurm"]["SLURM_JOB_PARTITION"] == "gpu", record.get("slurm")
        assert record["slurm"]["SLURM_JOB_ID"] in set(submitted.values())
        assert record["device_details"]["kind"] == "cpu"
    # nothing left to do
    again = slurm_cluster.snakemake(wd, "-n")
    assert "Nothing to be done" in again.output, again.output[-3000:]


def test_gpu_request_group_and_retry_reach_slurm(slurm_cluster: SlurmCluster,
                                                 tmp_path: Path) -> None:
    """`gpu=1` goes to the GPU partition with a GPU; small jobs share one SLURM job; a failed
    job is resubmitted with more memory."""
    run = slurm_cluster.snakemake(tmp_path, snakefile=GPU_SNAKEFILE, timeout=300)
    _assert_ok(run)
    assert "Auto-selected partition 'gpu' for job gpu_probe" in run.output

    probe = (tmp_path / "gpu_probe.txt").read_text()
    job = dict(re.findall(r"(\S+?)=(\S*)", probe))
    assert job["Partition"] == "gpu"
    assert job["TresPerJob"] == "gres:gpu:1"  # sbatch --gpus=1
    assert job["CUDA_VISIBLE_DEVICES"] != "" and job["SLURM_STEP_GPUS"] != ""  # GPU allocated

    small = [dict(re.findall(r"(\S+?)=(\S*)", p.read_text()))
             for p in sorted((tmp_path / "small").glob("*.txt"))]
    assert len(small) == 3
    assert len({s["SLURM_JOB_ID"] for s in small}) == 1, "group 'small' was not batched"
    assert small[0]["Partition"] == "cpu"

    retry = dict(re.findall(r"(\S+?)=(\S*)", (tmp_path / "retry_probe.txt").read_text()))
    assert _mb(retry["MinMemoryNode"]) == 400  # the second attempt asked for twice the memory
    assert "Trying to restart job" in run.output
    states = slurm_cluster.job_states(run.run_id)
    assert sorted(s for s, _ in states.values()) == ["COMPLETED"] * 3 + ["FAILED"], states
