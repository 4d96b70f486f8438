"""Integration: preprocess real yeast ATAC-seq (sacCer3) from ../shared/data (skipped if absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED_DATA
from conftest import dataset_json as load_metadata
from conftest import dataset_regions as load_regions
from seq2func.dataset import iter_numpy
from seq2func.preprocess import PreprocessSettings, SampleInput, run_all

YEAST = SHARED_DATA / "yeast_sacCer3_atac_rnaseq"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (YEAST / "sacCer3_R64.fa").exists(),
                       reason="real yeast bundle not available (../shared/data)"),
]


@pytest.fixture(scope="module")
def yeast_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("yeast")
    prefix = YEAST / "atac_SRR1822137_500k"
    samples = [
        SampleInput("cuts_macs3", "ATAC", "yeast", f"{prefix}.tn5_cutsites.bw",
                    f"{prefix}.macs3_q0.01.narrowPeak"),
        SampleInput("coverage_hmmratac", "ATAC", "yeast", f"{prefix}.fragment_coverage.bw",
                    f"{prefix}.hmmratac_accessible.narrowPeak"),
    ]
    # Ensembl-style names in the config are harmonised onto the genome's UCSC names
    run_all(YEAST / "sacCer3_R64.fa", samples, PreprocessSettings.from_config({}),
            {"valid": ["XI"], "test": ["chrIV"]}, out, qc_table=out / "qc.tsv", study="yeast")
    return out


def test_yeast_dataset_is_built_from_real_data(yeast_dataset: Path) -> None:
    meta = load_metadata(yeast_dataset)
    assert meta["split"]["test"] == ["chrIV"] and meta["split"]["valid"] == ["chrXI"]
    assert "chrM" not in [s["chrom"] for s in meta["shards"]]  # excluded by default
    assert meta["n_regions"]["test"] > 300 and meta["n_regions"]["train"] > 2000
    assert all(s["signal_dtype"] == "uint16" for s in meta["shards"])  # integral counts
    qc = pd.read_csv(yeast_dataset / "qc.tsv", sep="\t").set_index("sample")
    assert (qc["chrom_excluded"] > 0).all()  # peaks on chrM
    assert (qc["signal_in_peaks_fraction"] > 0.3).all()
    assert (qc["gc_ks_positives_vs_background"] < 0.1).all()  # background is GC-matched
    assert qc.loc["cuts_macs3", "kept"] > 1000


def test_yeast_targets_separate_peaks_from_background(yeast_dataset: Path) -> None:
    r = load_regions(yeast_dataset, "test")
    for task in ("cuts_macs3", "coverage_hmmratac"):
        pos = r.loc[r[f"label_{task}"] == 1, f"log_counts_{task}"]
        bg = r.loc[r["source"] == "background", f"log_counts_{task}"]
        assert pos.median() > bg.median() + 1.0
    pieces = list(iter_numpy(yeast_dataset, "test"))
    n = sum(len(p.codes) for p in pieces)
    assert n == len(r)
    assert np.isfinite(np.concatenate([p.profile for p in pieces])).all()
