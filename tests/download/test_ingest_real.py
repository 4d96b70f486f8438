"""Ingestion round trip on REAL data (../shared/data yeast bundle): the sacCer3 genome, a real
ATAC Tn5 cut-site bigWig and MACS3 peaks are renamed to Ensembl style (I..XVI, Mito) as Ensembl
ships them, then ingested back to the UCSC names; the result must equal the originals exactly."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SHARED_DATA
from seq2func.core.io import read_chrom_sizes
from seq2func.download.ingest import ingest_bigwig, ingest_fasta, ingest_peaks

YEAST = SHARED_DATA / "yeast_sacCer3_atac_rnaseq"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (YEAST / "sacCer3_R64.fa").exists(),
                       reason="shared real-data bundle not available"),
]


def ensembl(name: str) -> str:
    return "Mito" if name == "chrM" else name.removeprefix("chr")


def test_real_yeast_round_trip(tmp_path: Path) -> None:
    import pyBigWig

    sizes = read_chrom_sizes(YEAST / "sacCer3.chrom.sizes")
    # genome, as Ensembl names it, gzipped
    text = (YEAST / "sacCer3_R64.fa").read_text()
    ens_fa = tmp_path / "Saccharomyces_cerevisiae.R64.dna.toplevel.fa.gz"
    with gzip.open(ens_fa, "wt", compresslevel=1) as fh:
        for line in text.splitlines(keepends=True):
            fh.write(f">{ensembl(line[1:].strip())} dna:chromosome\n" if line.startswith(">")
                     else line)
    out = tmp_path / "genome.fa"
    got = ingest_fasta(ens_fa, out, list(sizes), tmp_path / "chrom.sizes")
    assert got == sizes
    assert out.read_bytes() == (YEAST / "sacCer3_R64.fa").read_bytes()
    assert (tmp_path / "genome.fa.fai").read_text() == (YEAST / "sacCer3_R64.fa.fai").read_text()

    # real Tn5 cut-site bigWig, copied interval by interval under Ensembl names
    src = pyBigWig.open(str(YEAST / "atac_SRR1822137_500k.tn5_cutsites.bw"))
    ens_bw = tmp_path / "ensembl.bw"
    w = pyBigWig.open(str(ens_bw), "w")
    w.addHeader([(ensembl(c), n) for c, n in src.chroms().items()])
    for c in src.chroms():
        iv = src.intervals(c) or ()
        if iv:
            w.addEntries([ensembl(c)] * len(iv), [a for a, _, _ in iv], ends=[b for _, b, _ in iv],
                         values=[float(v) for _, _, v in iv])
    w.close()
    ingest_bigwig(ens_bw, tmp_path / "cuts.bw", tmp_path / "chrom.sizes")
    res = pyBigWig.open(str(tmp_path / "cuts.bw"))
    assert res.chroms() == src.chroms()
    for c, n in src.chroms().items():
        np.testing.assert_array_equal(res.values(c, 0, n, numpy=True),
                                      src.values(c, 0, n, numpy=True))
    assert res.header()["sumData"] == src.header()["sumData"]

    # real MACS3 peaks, Ensembl names, shuffled and gzipped
    peaks = pd.read_csv(YEAST / "atac_SRR1822137_500k.macs3_q0.01.narrowPeak", sep="\t",
                        header=None)
    shuffled = peaks.sample(frac=1.0, random_state=0)
    shuffled[0] = shuffled[0].map(ensembl)
    ens_peaks = tmp_path / "peaks.narrowPeak.gz"
    shuffled.to_csv(ens_peaks, sep="\t", header=False, index=False, compression="gzip")
    n = ingest_peaks(ens_peaks, tmp_path / "peaks.narrowPeak", tmp_path / "chrom.sizes")
    back = pd.read_csv(tmp_path / "peaks.narrowPeak", sep="\t", header=None)
    order = {c: i for i, c in enumerate(sizes)}
    expected = peaks.sort_values([0, 1, 2], kind="stable",
                                 key=lambda col: col.map(order) if col.name == 0 else col)
    assert n == len(peaks) == 1411
    pd.testing.assert_frame_equal(back, expected.reset_index(drop=True), check_exact=False,
                                  rtol=1e-4)
