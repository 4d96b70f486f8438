"""TSS per gene from GTF/GFF3 and strand-aware promoter windows."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED_DATA
from seq2func.core.errors import InputError
from seq2func.core.genes import promoter_windows, read_gene_tss, strip_version

GTF = """\
#!genome-build GRCh38
chr1\tHAV\tgene\t11\t100\t.\t+\t.\tgene_id "G1.5"; gene_type "protein_coding"; gene_name "A";
chr1\tHAV\ttranscript\t11\t100\t.\t+\t.\tgene_id "G1.5"; transcript_id "T1"; tag "basic";
chr1\tHAV\ttranscript\t21\t100\t.\t+\t.\tgene_id "G1.5"; transcript_id "t"; tag "Ensembl_canonical";
chr1\tHAV\texon\t21\t40\t.\t+\t.\tgene_id "G1.5"; transcript_id "T2";
chr1\tHAV\tgene\t201\t300\t.\t-\t.\tgene_id "G2.1"; gene_type "lncRNA"; gene_name "B";
chr2\tHAV\tgene\t5\t50\t.\t-\t.\tgene_id "G3.2_PAR_Y"; gene_type "protein_coding"; gene_name "C";
"""


def test_gtf_tss_choice(tmp_path: Path) -> None:
    p = tmp_path / "a.gtf.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(GTF)
    df = read_gene_tss(p)
    assert df["gene_id"].tolist() == ["G1.5", "G2.1", "G3.2_PAR_Y"]
    # G1: canonical transcript T2 starts at 21 (1-based) -> 20
    # G2: minus strand, gene end 300 (1-based, inclusive) -> 299
    assert df["tss"].tolist() == [20, 299, 49]
    assert df["tss_source"].tolist() == ["canonical_transcript", "gene_5prime_end",
                                         "gene_5prime_end"]
    assert df["gene_id_base"].tolist() == ["G1", "G2", "G3"]
    assert read_gene_tss(p, chromosomes=["chr2"])["gene_name"].tolist() == ["C"]
    assert read_gene_tss(p, biotypes=["lncRNA"])["gene_id"].tolist() == ["G2.1"]


def test_strip_version() -> None:
    assert strip_version("ENSG00000141510.17") == "ENSG00000141510"
    assert strip_version("ENSG00000182378.14_PAR_Y") == "ENSG00000182378"
    assert strip_version("YAL001C") == "YAL001C"


def test_promoter_windows_are_strand_aware() -> None:
    import pandas as pd

    tss = pd.DataFrame({"chrom": ["c", "c"], "tss": [1000, 1000], "strand": ["+", "-"]})
    w = promoter_windows(tss, upstream=100, downstream=50)
    assert w[["start", "end"]].values.tolist() == [[900, 1050], [951, 1101]]
    # both windows hold the TSS base at offset `upstream` in transcription direction
    assert 1000 - w["start"][0] == 100
    assert (w["end"][1] - 1) - 1000 == 100


def test_bad_annotation(tmp_path: Path) -> None:
    p = tmp_path / "bad.gtf"
    p.write_text("chr1\tx\tgene\t1\n")
    with pytest.raises(InputError, match="line 1"):
        read_gene_tss(p)
    p.write_text("chr1\tx\texon\t1\t10\t.\t+\t.\tgene_id \"a\";\n")
    with pytest.raises(InputError, match="no gene records"):
        read_gene_tss(p)


def test_demo_gtf(small_demo) -> None:
    paths, _ = small_demo
    df = read_gene_tss(paths.gtf)
    truth = paths.truth("expression_terms.tsv")
    import pandas as pd

    t = pd.read_csv(truth, sep="\t").drop_duplicates("gene_id").set_index("gene_id")
    got = df.set_index("gene_id")
    assert set(got.index) == set(t.index)
    np.testing.assert_array_equal(got.loc[t.index, "tss"], t["tss"])
    assert (got.loc[t.index, "strand"] == t["strand"]).all()


YEAST_GFF = SHARED_DATA / "yeast_sacCer3_atac_rnaseq" / \
    "Saccharomyces_cerevisiae.R64-1-1.99.chrnames.gff3.gz"


@pytest.mark.integration
@pytest.mark.skipif(not YEAST_GFF.exists(), reason="shared yeast data not available")
def test_yeast_gff3_matches_bundle_tss_table() -> None:
    import pandas as pd

    df = read_gene_tss(YEAST_GFF).set_index("gene_id")
    ref = pd.read_csv(YEAST_GFF.parent / "genes_tss.sacCer3.bed", sep="\t", header=None,
                      names=["chrom", "tss", "tss1", "gene_id", "name", "strand", "biotype"])
    ref = ref.set_index("gene_id")
    common = ref.index.intersection(df.index)
    assert len(common) > 6500
    np.testing.assert_array_equal(df.loc[common, "tss"], ref.loc[common, "tss"])
    assert (df.loc[common, "strand"] == ref.loc[common, "strand"]).all()
