"""Studies on the real bundles, end to end, as a user runs them (``../shared/data``).

Each test runs ``snakemake`` with a study's ``--configfile`` (the examples of
``config/examples``, their paths made absolute for a temporary working directory) and then
``snakemake --report`` with no other flag. The study files set only their inputs, split and
chromosomes; for this test's time budget a second ``--configfile`` shortens training and
interpretation (a real run keeps the schema's defaults). Skipped when the bundles are absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO, SHARED_DATA, snakemake_cmd

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: what the tests shorten (the studies' own files are untouched)
QUICK = {"accessibility": {"train": {"max_epochs": 3}},
         "evaluate": {"bootstrap": 50, "tracks": {"stride": 1000}},
         "interpret": {"peaks_per_task": 40, "ism_peaks_per_task": 2,
                       "grammar": {"backgrounds": 4, "max_spacing": 10}},
         "variants": {"null_set": {"n_variants": 200}},
         "expression": {"train": {"max_epochs": 3}, "n_bootstrap": 50}}


def _absolute(value: str) -> str:
    """A path of the examples, absolute (the bundles and the repo's config files)."""
    if value.startswith("../shared/data/"):
        return str(SHARED_DATA / value.removeprefix("../shared/data/"))
    if value.startswith("config/"):
        return str(REPO / value)
    return value


def _study_workdir(tmp: Path, example: str, download: dict | None = None,
                   split: dict | None = None) -> Path:
    """A working directory holding ``example``'s study file and samples table, absolute paths
    (``download`` keys and the ``split`` replaced, if given)."""
    cfg = yaml.safe_load((REPO / "config" / "examples" / example).read_text())
    for key in ("genome", "blacklist", "annotation"):
        cfg["download"][key] = _absolute(cfg["download"][key])
    samples = pd.read_csv(REPO / cfg["samples"], sep="\t", comment="#", dtype=str)
    for column in ("signal", "peaks", "expression"):
        if column in samples:
            samples[column] = samples[column].map(_absolute)
    samples.to_csv(tmp / "samples.tsv", sep="\t", index=False)
    cfg["samples"] = str(tmp / "samples.tsv")
    cfg["download"].update(download or {})
    cfg["split"] = split or cfg["split"]
    (tmp / "study.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    (tmp / "quick.yaml").write_text(yaml.safe_dump(QUICK, sort_keys=False))
    return tmp


def _snakemake(wd: Path, *args: str, timeout: int = 1500) -> str:
    res = subprocess.run(
        snakemake_cmd("-s", str(REPO / "Snakefile"), "-d", str(wd), "--configfile",
                      str(wd / "study.yaml"), str(wd / "quick.yaml"), *args),
        capture_output=True, text=True, timeout=timeout, cwd=wd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    return out


def _gates(wd: Path, study: str) -> pd.DataFrame:
    return pd.read_csv(wd / "results" / study / "evaluation" / "gates.tsv", sep="\t")


def _report_names(wd: Path) -> list[str]:
    _snakemake(wd, "--report", str(wd / "report.zip"))
    with zipfile.ZipFile(wd / "report.zip") as zf:
        return zf.namelist()


@pytest.mark.skipif(not (SHARED_DATA / "human_hg38_borzoi_tiny_65regions").is_dir(),
                    reason="the hg38 bundle is absent")
def test_an_accessibility_only_human_study_runs_and_reports(tmp_path: Path) -> None:
    # 25 of the 65 windows (this test's time budget), split as the bundle splits them
    bed = pd.read_csv(SHARED_DATA / "human_hg38_borzoi_tiny_65regions" / "contigs.hg38.bed",
                      sep="\t")
    first = {s: list(bed.loc[bed["split"] == s, "#contig"][:n])
             for s, n in (("train", 15), ("valid", 5), ("test", 5))}
    wd = _study_workdir(tmp_path, "hg38_dnase.yaml",
                        download={"chromosomes": [c for v in first.values() for c in v]},
                        split={"valid": first["valid"], "test": first["test"]})
    out = _snakemake(wd, "--cores", "2")
    assert "an accessibility-only study (no expression stage)" in out
    results = wd / "results" / "hg38_dnase"
    assert not (results / "expression").exists() and not (results / "variants").exists()
    # the window contigs (names with '_') are all kept: one shard each
    meta = json.loads((results / "dataset" / "dataset.json").read_text())
    assert len(meta["shards"]) == 25 and len(meta["tasks"]) == 10
    qc = pd.read_csv(results / "qc" / "preprocess_qc.tsv", sep="\t")
    assert (qc["chrom_excluded"] == 0).all() and (qc["chrom_not_in_genome"] == 0).all()
    gates = _gates(wd, "hg38_dnase")
    assert {"basset_beats_kmer_lr", "gc_only_below_basset"} <= set(gates["gate"])
    assert set(gates["status"]) <= {"PASS", "FAIL", "NOT RUN"}
    assert not any(g.startswith("expression") for g in gates["gate"])
    names = _report_names(wd)
    assert any(n.endswith("gates.tsv") for n in names)
    assert not any("expression" in n for n in names)


@pytest.mark.skipif(not (SHARED_DATA / "yeast_sacCer3_atac_rnaseq").is_dir(),
                    reason="the yeast bundle is absent")
def test_a_yeast_study_from_the_bundles_own_files_runs_and_reports(tmp_path: Path) -> None:
    """ATAC fragments (BEDPE), Ensembl's GFF3 and one TPM table with both samples, as shipped;
    six of the 16 chromosomes (this test's time budget)."""
    wd = _study_workdir(tmp_path, "yeast_atac_rnaseq.yaml",
                        download={"chromosomes": ["chrI", "chrII", "chrIII", "chrV", "chrVI",
                                                  "chrIX"]},
                        split={"valid": ["chrIII"], "test": ["chrV"]})
    _snakemake(wd, "--cores", "2")
    res = wd / "resources" / "yeast"
    results = wd / "results" / "yeast"
    # the fragments became Tn5 cut-site bigWigs (the bundle's own tn5_cutsites.bw, per base)
    import pyBigWig

    made = pyBigWig.open(str(res / "signal" / "yeast_WT.bw"))
    shipped = pyBigWig.open(str(SHARED_DATA / "yeast_sacCer3_atac_rnaseq"
                                / "atac_SRR1822137_500k.tn5_cutsites.bw"))
    try:
        assert set(made.chroms()) == {"chrI", "chrII", "chrIII", "chrV", "chrVI", "chrIX"}
        for chrom, length in made.chroms().items():
            assert made.stats(chrom, 0, length, type="sum", exact=True) == shipped.stats(
                chrom, 0, length, type="sum", exact=True)
    finally:
        made.close()
        shipped.close()
    # both expression samples of the one table, genes from the GFF3
    expression = pd.read_csv(res / "expression" / "expression.tsv", sep="\t")
    assert {"yeast_WT", "yeast_snf2"} <= set(expression.columns)
    metrics = pd.read_csv(results / "evaluation" / "expression_metrics.tsv", sep="\t")
    assert {"seq_only", "kmer_ridge", "chromatin_ridge"} <= set(metrics["model"])
    assert {"yeast_WT", "yeast_snf2"} <= set(metrics["task"])
    gates = _gates(wd, "yeast")
    assert "expression_seq_only_beats_kmer_ridge" in set(gates["gate"])
    # the library passes ENCODE's ATAC FRiP bound (0.565 measured); no TSS standard for sacCer3
    status = dict(zip(gates["gate"], gates["status"], strict=True))
    assert status["library_frip_atac"] == "PASS"
    assert status["library_tss_enrichment_grch38"] == "NOT RUN"
    names = _report_names(wd)
    assert any("expression" in n for n in names)
