"""Integration: library QC of real data in ../shared/data (skipped when absent).

Measured (2026-12-01): yeast ATAC SRR1822137 (500k fragments), Tn5 cut sites with the MACS3
q 0.01 peaks: FRiP 0.565, TSS enrichment 2.02 over 7,025 TSSs (6,985 with the whole +/-2 kb
window inside the chromosome; the maximum at -221 bp, yeast's nucleosome-depleted promoter);
fragment coverage: FRiP 0.542, TSS enrichment 1.82. Human hg38 windows (Borzoi's DNase
targets over 65 windows): with ``no_data: missing`` the 40 TSSs inside the target windows are
the only complete ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SHARED_DATA
from seq2func.core.io import read_chrom_sizes
from seq2func.preprocess.library_qc import (
    LibraryQCSettings,
    annotation_tss,
    library_qc_table,
    sample_library_qc,
)

YEAST = SHARED_DATA / "yeast_sacCer3_atac_rnaseq"
HUMAN = SHARED_DATA / "human_hg38_borzoi_tiny_65regions"
pytestmark = pytest.mark.integration


@pytest.mark.skipif(not (YEAST / "sacCer3.chrom.sizes").exists(),
                    reason="real yeast bundle not available (../shared/data)")
def test_yeast_atac_frip_and_tss_enrichment() -> None:
    sizes = read_chrom_sizes(YEAST / "sacCer3.chrom.sizes")
    chroms = [c for c in sizes if c != "chrM"]
    tss, note = annotation_tss(YEAST / "Saccharomyces_cerevisiae.R64-1-1.99.chrnames.gff3.gz",
                               sizes, chroms)
    assert note == "" and 6500 < len(tss) < 7500
    prefix = YEAST / "atac_SRR1822137_500k"
    r = sample_library_qc("yeast", "ATAC", f"{prefix}.tn5_cutsites.bw",
                          f"{prefix}.macs3_q0.01.narrowPeak", sizes, chroms, tss,
                          LibraryQCSettings.from_config({}))
    assert r.counts  # cut sites: whole counts, as ENCODE's standards assume
    assert 0.5 < r.frip < 0.65
    assert 1.7 < r.tss.score < 2.4
    assert r.profile.n_complete > 0.99 * r.profile.n_tss
    # the open promoter lies just upstream of the TSS (reversed minus-strand windows)
    summit = int(r.profile.offsets[np.nanargmax(r.tss.smoothed)])
    assert -400 < summit < 0
    table = library_qc_table([r], "unspecified")
    assert table.query("metric == 'frip' and task == 'all'")["value"].iloc[0] == r.frip


@pytest.mark.skipif(not (HUMAN / "regions_hg38.chrom.sizes").exists(),
                    reason="human hg38 windows not available (../shared/data)")
def test_windows_only_coverage_counts_only_covered_tss() -> None:
    sizes = read_chrom_sizes(HUMAN / "regions_hg38.chrom.sizes")
    tss, _ = annotation_tss(HUMAN / "genes_local.gtf", sizes, list(sizes))
    name = "dnase_ENCFF427FEF_GM12865"
    r = sample_library_qc(name, "DNase", HUMAN / "bigwig" / f"{name}.bw",
                          HUMAN / "peaks" / f"{name}.peaks.narrowPeak", sizes, list(sizes), tss,
                          LibraryQCSettings.from_config({"no_data": "missing"}))
    # PROVENANCE.md: 40 of the genes' TSSs lie inside the 65 target windows
    assert r.profile.n_complete == 40
    assert not r.counts  # transformed targets: the table notes it
    assert r.tss.score > 5
    assert 0.3 < r.frip < 0.6
