"""Cut sites of REAL fragments (../shared/data yeast bundle): converting the BEDPE of 467,908
ATAC fragments reproduces the bundle's Tn5 cut-site bigWig (both fragment ends, counted at start
and at end - 1) base for base on every chromosome."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_DATA
from seq2func.core.io import read_chrom_sizes
from seq2func.download.cutsites import reads_to_cutsites

YEAST = SHARED_DATA / "yeast_sacCer3_atac_rnaseq"
FRAGMENTS = YEAST / "atac_SRR1822137_500k.fragments.bedpe.gz"
CUTSITES = YEAST / "atac_SRR1822137_500k.tn5_cutsites.bw"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (FRAGMENTS.exists() and CUTSITES.exists()),
                       reason="shared real-data bundle not available"),
]


def test_yeast_bedpe_reproduces_the_bundle_cutsites(tmp_path: Path) -> None:
    import pyBigWig

    sizes = read_chrom_sizes(YEAST / "sacCer3.chrom.sizes")
    out = tmp_path / "cutsites.bw"
    report = reads_to_cutsites(FRAGMENTS, out, YEAST / "sacCer3.chrom.sizes", "bedpe")
    assert report.records == 467_908 and report.cut_sites == 2 * 467_908
    dropped = (report.outside, report.empty, report.shifted_off, report.discordant)
    assert dropped == (0, 0, 0, 0) and not report.other_sequences
    ref, got = pyBigWig.open(str(CUTSITES)), pyBigWig.open(str(out))
    try:
        assert list(got.chroms().items()) == list(sizes.items())
        assert got.chroms() == ref.chroms()
        for chrom, length in sizes.items():
            want = np.asarray(ref.values(chrom, 0, length), dtype=np.float64)
            have = np.asarray(got.values(chrom, 0, length), dtype=np.float64)
            # the same bases carry a value (NaN elsewhere), and the same value
            np.testing.assert_array_equal(np.isnan(have), np.isnan(want), err_msg=chrom)
            np.testing.assert_array_equal(have, want, err_msg=chrom)
        for key in ("nBasesCovered", "sumData", "sumSquared", "maxVal", "minVal"):
            assert got.header()[key] == ref.header()[key], key
    finally:
        ref.close()
        got.close()
