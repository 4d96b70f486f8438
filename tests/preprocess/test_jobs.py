"""Preprocessing jobs: small chromosomes packed into one job, each still its own shard."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import dataset_json
from preprocess_inputs import SMALL_PARAMS, SPLIT, make_study
from seq2func.core.errors import InputError
from seq2func.preprocess import PreprocessSettings, process_job, run_all, samples_from_table
from seq2func.preprocess.gather import read_stats
from seq2func.preprocess.jobs import group_chromosomes, plan_jobs


def _names(jobs: list[dict]) -> list[str]:
    return [j["name"] for j in jobs]


def test_small_chromosomes_fill_jobs_up_to_the_limit() -> None:
    sizes = {"a": 40, "b": 60, "c": 50, "d": 50, "e": 1}
    jobs = group_chromosomes(list(sizes), sizes, 100)
    # a + b is exactly 100 (kept together), c + d too; e starts the next job
    assert jobs == [{"name": "a..b", "chromosomes": ["a", "b"]},
                    {"name": "c..d", "chromosomes": ["c", "d"]},
                    {"name": "e", "chromosomes": ["e"]}]


def test_a_large_chromosome_is_its_own_job_and_ends_a_group() -> None:
    sizes = {"s1": 10, "s2": 10, "big": 500, "s3": 10, "edge": 100, "s4": 10}
    jobs = group_chromosomes(list(sizes), sizes, 100)
    assert _names(jobs) == ["s1..s2", "big", "s3", "edge", "s4"]
    assert [c for j in jobs for c in j["chromosomes"]] == list(sizes)  # plan order, once each


def test_all_small_chromosomes_make_one_job() -> None:
    sizes = {f"chr{i}": 1000 for i in range(1, 6)}
    assert group_chromosomes(list(sizes), sizes, 20_000_000) == [
        {"name": "chr1..chr5", "chromosomes": list(sizes)}]
    # group_bases 1: every chromosome is at least that large, so each is its own job
    assert _names(group_chromosomes(list(sizes), sizes, 1)) == list(sizes)


def test_job_names_must_not_be_chromosome_names() -> None:
    sizes = {"a": 1, "b": 1, "a..b": 5}
    with pytest.raises(ValueError, match="also chromosome names"):
        group_chromosomes(list(sizes), sizes, 3)
    with pytest.raises(ValueError, match="at least 1"):
        group_chromosomes(["a"], {"a": 1}, 0)


def test_plan_without_jobs_has_one_job_per_chromosome() -> None:
    assert plan_jobs({"chromosomes": ["x", "y"]}) == [{"name": "x", "chromosomes": ["x"]},
                                                      {"name": "y", "chromosomes": ["y"]}]


def _build(study, out: Path, group_bases: int) -> dict:
    p = PreprocessSettings.from_config({**SMALL_PARAMS, "group_bases": group_bases})
    samples = samples_from_table(study.samples_table, [str(b) for b in study.bigwigs],
                                 [str(x) for x in study.peaks])
    run_all(study.genome, samples, p, SPLIT, out, study.blacklist, study="synthetic")
    return dataset_json(out)


def test_grouped_and_separate_jobs_write_the_same_data(tmp_path: Path) -> None:
    study = make_study(tmp_path / "in")
    one = _build(study, tmp_path / "one", 10**9)  # every chromosome in one job
    each = _build(study, tmp_path / "each", 1)  # one job per chromosome
    plan_one = json.loads((tmp_path / "one/plan/plan.json").read_text())
    plan_each = json.loads((tmp_path / "each/plan/plan.json").read_text())
    assert len(plan_one["jobs"]) == 1 and len(plan_each["jobs"]) == len(plan_each["chromosomes"])
    job = plan_one["jobs"][0]["name"]
    for s in one["shards"]:
        assert s["path"] == f"shards/{job}/{s['chrom']}.h5"
    for s in each["shards"]:
        assert s["path"] == f"shards/{s['chrom']}/{s['chrom']}.h5"
    ra = pd.read_csv(tmp_path / "one/regions.tsv.gz", sep="\t").drop(columns="shard")
    rb = pd.read_csv(tmp_path / "each/regions.tsv.gz", sep="\t").drop(columns="shard")
    pd.testing.assert_frame_equal(ra, rb)
    for sa, sb in zip(one["shards"], each["shards"], strict=True):
        assert sa["chrom"] == sb["chrom"] and sa["md5"] == sb["md5"]
        with h5py.File(tmp_path / "one" / sa["path"]) as a, \
                h5py.File(tmp_path / "each" / sb["path"]) as b:
            assert sorted(a) == sorted(b)
            for key in a:
                assert np.array_equal(a[key][:], b[key][:]), key
    # the job's statistics hold every chromosome's, which gather reads
    st = json.loads((tmp_path / f"one/chroms/{job}.stats.json").read_text())
    assert st["job"] == job
    assert [c["chrom"] for c in st["chromosomes"]] == [s["chrom"] for s in one["shards"]]
    with pytest.raises(InputError, match="given twice"):
        read_stats([tmp_path / f"one/chroms/{job}.stats.json"] * 2, plan_one)
    with pytest.raises(InputError, match="is not planned"):
        process_job(tmp_path / "one/plan", "nojob", tmp_path / "x", tmp_path / "x.json")
