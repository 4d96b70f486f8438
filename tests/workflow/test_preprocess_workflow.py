"""The workflow builds the training set and its QC through the scatter over jobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SMALL_SIMULATION, make_workdir, run_snakemake


@pytest.mark.slow
def test_workflow_scatters_over_jobs_and_gathers(tmp_path: Path) -> None:
    wd = make_workdir(tmp_path, {"simulate": SMALL_SIMULATION,
                                 "split": {"valid": ["chr3"], "test": ["chr2"]}})
    targets = ["results/demo/dataset/dataset.json", "results/demo/qc/preprocess_qc.svg"]
    res = run_snakemake(wd, "--cores", "2", *targets, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    log = res.stdout + res.stderr
    meta = json.loads((wd / targets[0]).read_text())
    plan = json.loads((wd / "results/demo/dataset/plan/plan.json").read_text())
    # small chromosomes share a job (preprocess.group_bases); each still has its own shard
    assert log.count("rule preprocess_job:") == len(plan["jobs"])
    assert [c for j in plan["jobs"] for c in j["chromosomes"]] == plan["chromosomes"]
    assert [s["chrom"] for s in meta["shards"]] == ["chr1", "chr2", "chr3"]
    assert meta["split"] == {"train": ["chr1"], "valid": ["chr3"], "test": ["chr2"]}
    assert meta["tasks"] == ["erythroid", "hepatocyte", "fibroblast"]
    assert (wd / "results/demo/qc/preprocess_qc.tsv").exists()
    assert (wd / "results/demo/dataset/dataset.json.provenance.json").exists()
    again = run_snakemake(wd, "--cores", "2", "-n", *targets)
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout[-2000:]
