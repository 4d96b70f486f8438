"""The evaluation stage on a small simulated study, end to end: metric table, gates, predicted
bigWigs, paper figures (byte-identical rebuilds) and the Snakemake HTML report."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import FAST_STAGES, SMALL_SIMULATION, TINY_ACCESSIBILITY, make_workdir, run_snakemake

EVALUATE = {"bootstrap": 20, "tracks": {"models": ["basset"], "stride": 250}}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wd = make_workdir(tmp_path_factory.mktemp("eval_wf"),
                      {"simulate": SMALL_SIMULATION,
                       "split": {"valid": ["chr3"], "test": ["chr2"]},
                       "accessibility": TINY_ACCESSIBILITY, **FAST_STAGES,
                       "evaluate": EVALUATE})
    res = run_snakemake(wd, "--cores", "2", timeout=1200)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return wd


def test_metric_table_has_every_model_and_gates_are_evaluated(workdir: Path) -> None:
    out = workdir / "results" / "demo" / "evaluation"
    df = pd.read_csv(out / "accessibility_metrics.tsv", sep="\t", keep_default_na=False)
    assert {"basset", "basset/seed1", "bpnet", "kmer_lr", "kmer_ridge", "gc_only",
            "kmer_shuffled", "bayes_ceiling", "average_profile"} <= set(df["model"])
    assert {"auROC", "auPRC", "log_counts_pearson", "log_counts_spearman",
            "profile_JSD"} <= set(df["metric"])
    assert set(df["chromosome"]) == {"all", "chr2"}
    assert (workdir / "results/demo/evaluation/accessibility_metrics.tsv.provenance.json"
            ).is_file()
    gates = pd.read_csv(out / "gates.tsv", sep="\t")
    configured = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    own = [g["name"] for g in configured["evaluate"]["gates"]]
    # the baseline gates of every configured model first (those the config names replaced)
    assert list(gates["gate"])[-len(own):] == own
    assert "basset_beats_kmer_lr" in set(gates["gate"])
    assert set(gates["status"]) <= {"PASS", "FAIL", "NOT RUN"}
    # the ceiling separates labels well on the simulator's own truth
    ceil = df[(df.model == "bayes_ceiling") & (df.metric == "auROC") & (df.task == "all")
              & (df.aggregation == "macro mean over tasks") & (df.chromosome == "all")]
    assert float(ceil["value"].iloc[0]) > 0.8


def test_predicted_tracks_tile_the_test_chromosome(workdir: Path) -> None:
    import pyBigWig

    bw = pyBigWig.open(str(workdir / "results/demo/tracks/accessibility/basset/"
                                     "erythroid.bw"))
    try:
        assert bw.chroms() == {"chr2": 400_000}
        v = bw.values("chr2", 0, 400_000, numpy=True)
        covered = np.isfinite(v)
        # windows of 500 bp every 250 bp report their central 250 bp: 125 .. 399875
        assert not covered[:125].any() and covered[125:399_875].all()
        assert ((v[covered] >= 0) & (v[covered] <= 1)).all()
    finally:
        bw.close()


def test_figure_rebuild_is_byte_identical(workdir: Path, tmp_path: Path) -> None:
    fig = workdir / "results/demo/figures/accessibility_task_bars"
    for fmt in ("pdf", "svg", "png"):
        assert fig.with_name(f"{fig.name}.{fmt}").stat().st_size > 0
    table = workdir / "results/demo/evaluation/accessibility_metrics.tsv"
    again = tmp_path / "again"
    res = subprocess.run([sys.executable, "-m", "seq2func", "figure", "task-bars", "--table",
                          str(table), "--out", str(again)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    for fmt in ("svg", "pdf"):
        assert fig.with_name(f"{fig.name}.{fmt}").read_bytes() == \
            again.with_name(f"again.{fmt}").read_bytes()
    assert (again.parent / "again.provenance.json").is_file()


def test_figures_target_and_html_report(workdir: Path, tmp_path: Path) -> None:
    res = run_snakemake(workdir, "--cores", "1", "figures", "-n")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Nothing to be done" in res.stdout + res.stderr
    report = tmp_path / "report.zip"
    res = run_snakemake(workdir, "--report", str(report), timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    with zipfile.ZipFile(report) as zf:
        names = zf.namelist()
        text = "".join(zf.read(n).decode("utf-8", "replace") for n in names
                       if n.endswith((".html", ".js", ".json", ".rst", ".txt")))
    for stem in ("accessibility_roc_pr", "accessibility_task_bars", "accessibility_locus",
                 "accessibility_training_curves", "accessibility_counts_scatter"):
        assert any(n.endswith(f"{stem}.png") for n in names), stem
    assert any(n.endswith("gates.tsv") for n in names)
    assert any(n.endswith("accessibility_metrics.tsv") for n in names)
    assert "Quality gates" in text and "bootstrap intervals over regions" in text
