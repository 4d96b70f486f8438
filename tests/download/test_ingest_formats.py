"""Inputs as users bring them: quantifications of every common tool, GFF3 of every common source,
and the explicit decisions for odd but valid values (NaN signal, ambiguous alleles, versions)."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from conftest import SHARED_DATA
from seq2func.core.errors import InputError
from seq2func.core.genes import read_gene_tss, transcript_genes
from seq2func.download.expression import build_expression, read_gtf_genes
from seq2func.download.tables import ingest_gtf

SIZES = {"chr1": 10_000, "chr2": 8_000}

GTF = "".join(
    f'{c}\tT\tgene\t{a}\t{a + 500}\t.\t+\t.\tgene_id "G{i}.3"; gene_name "N{i}";\n'
    f'{c}\tT\ttranscript\t{a}\t{a + 500}\t.\t+\t.\tgene_id "G{i}.3"; transcript_id "T{i}.1";\n'
    for i, (c, a) in enumerate([("chr1", 100), ("chr1", 2000), ("chr2", 300)], start=1))


@pytest.fixture()
def gtf(tmp_path: Path) -> Path:
    (tmp_path / "genes.gtf").write_text(GTF)
    return tmp_path / "genes.gtf"


def _build(tmp: Path, gtf: Path, text: str, name: str, column: str | None = None
           ) -> pd.DataFrame:
    src = tmp / name
    src.write_text(text)
    return build_expression({"s": src}, gtf, tmp / "expression.tsv",
                            {"s": column} if column else None).set_index("gene_id")


def test_salmon_transcripts_are_summed_per_gene(tmp_path: Path, gtf: Path) -> None:
    quant = ("Name\tLength\tEffectiveLength\tTPM\tNumReads\nT1.1\t500\t400\t10\t5\n"
             "T2.1\t500\t400\t20\t9\nT3.1\t500\t400\t5\t2\n")
    df = _build(tmp_path, gtf, quant, "quant.sf")
    assert df["s"].to_dict() == {"G1.3": 10, "G2.3": 20, "G3.3": 5}
    genes = "Name\tLength\tEffectiveLength\tTPM\tNumReads\nG1\t500\t400\t1\t5\nG2\t5\t4\t2\t9\n"
    assert _build(tmp_path, gtf, genes, "quant.genes.sf")["s"].to_dict() == {"G1.3": 1,
                                                                            "G2.3": 2}


def test_kallisto_abundance(tmp_path: Path, gtf: Path) -> None:
    quant = ("target_id\tlength\teff_length\test_counts\ttpm\nT1.1\t500\t400\t5\t3.5\n"
             "T2.1\t500\t400\t9\t1\nT3.1\t500\t400\t1\t0\n")
    assert _build(tmp_path, gtf, quant, "abundance.tsv")["s"].tolist() == [3.5, 1.0, 0.0]


def test_featurecounts_counts_become_tpm(tmp_path: Path, gtf: Path, caplog) -> None:
    table = ("# Program:featureCounts v2.0.3\nGeneid\tChr\tStart\tEnd\tStrand\tLength\ta.bam"
             "\tb.bam\nG1\tchr1\t100\t600\t+\t500\t10\t0\nG2\tchr1\t2000\t2500\t+\t1000\t20\t5\n"
             "G3\tchr2\t300\t800\t+\t500\t0\t5\n")
    with caplog.at_level(logging.INFO):
        df = _build(tmp_path, gtf, table, "counts.txt", "a.bam")
    # rates 10/500, 20/1000, 0 -> TPM 5e5, 5e5, 0
    np.testing.assert_allclose(df["s"].to_numpy(), [5e5, 5e5, 0.0], atol=0.01)
    assert "computed from featureCounts counts" in caplog.text


def test_rsem_isoforms_are_summed_per_gene(tmp_path: Path, gtf: Path) -> None:
    table = ("transcript_id\tgene_id\tlength\teffective_length\texpected_count\tTPM\tFPKM\n"
             "T1.1\tG1.3\t500\t400\t3\t2\t1\nT9.1\tG1.3\t500\t400\t3\t3\t1\n"
             "T2.1\tG2.3\t500\t400\t3\t4\t1\nT3.1\tG3.3\t500\t400\t3\t0\t1\n")
    assert _build(tmp_path, gtf, table, "x.isoforms.results")["s"].tolist() == [5, 4, 0]


def test_one_file_holds_several_samples(tmp_path: Path, gtf: Path) -> None:
    src = tmp_path / "tpm.tsv"
    src.write_text("gene_id\tgene_name\tmean_tpm_WT\tmean_tpm_mut\nG1\ta\t1\t2\nG2\tb\t3\t4\n"
                   "G3\tc\t5\t6\n")
    df = build_expression({"WT": src, "mut": src}, gtf, tmp_path / "e.tsv",
                          {"WT": "mean_tpm_WT", "mut": "mean_tpm_mut"})
    assert df["WT"].tolist() == [1, 3, 5] and df["mut"].tolist() == [2, 4, 6]


def test_versions_of_one_gene_are_one_gene(tmp_path: Path, gtf: Path) -> None:
    with pytest.raises(InputError, match=r"'G1' is listed twice \(lines 2, 3\)"):
        _build(tmp_path, gtf, "gene_id\tTPM\nG1.1\t1\nG1.2\t2\nG2\t3\n", "v.tsv")


GFF3 = {
    "gencode": ("##gff-version 3\n"
                "chr1\tHAVANA\tgene\t101\t600\t.\t+\t.\tID=ENSG1.5;gene_id=ENSG1.5;"
                "gene_type=protein_coding;gene_name=AAA\n"
                "chr1\tHAVANA\ttranscript\t151\t600\t.\t+\t.\tID=ENST1.2;Parent=ENSG1.5;"
                "gene_id=ENSG1.5;transcript_id=ENST1.2;tag=basic,Ensembl_canonical\n"
                "chr1\tHAVANA\texon\t151\t300\t.\t+\t.\tID=exon:ENST1.2:1;Parent=ENST1.2\n",
                "ENSG1.5", "AAA", 150),
    "ensembl": ("##gff-version 3\n"
                "1\tensembl\tgene\t101\t600\t.\t-\t.\tID=gene:ENSG2;biotype=lncRNA;"
                "gene_id=ENSG2;Name=BBB\n"
                "1\tensembl\tlnc_RNA\t101\t600\t.\t-\t.\tID=transcript:ENST2;Parent=gene:ENSG2\n"
                "1\tensembl\texon\t101\t200\t.\t-\t.\tParent=transcript:ENST2\n",
                "ENSG2", "BBB", 599),
    "refseq": ("##gff-version 3\n#!processor NCBI annotwriter\n"
               "NC_000001.11\tRefSeq\tregion\t1\t10000\t.\t+\t.\tID=NC_000001.11:1..10000\n"
               "NC_000001.11\tBestRefSeq\tgene\t201\t900\t.\t+\t.\tID=gene-TP53;"
               "Dbxref=GeneID:7157%2CHGNC:11998;Name=TP53;gene=TP53;gene_biotype=protein_coding\n"
               "NC_000001.11\tBestRefSeq\tmRNA\t201\t900\t.\t+\t.\tID=rna-NM_000546.6;"
               "Parent=gene-TP53;tag=MANE Select\n"
               "NC_000001.11\tBestRefSeq\texon\t201\t400\t.\t+\t.\tID=exon-1;"
               "Parent=rna-NM_000546.6\n",
               "TP53", "TP53", 200),
    "sgd": ("##gff-version 3\n"
            "chrI\tSGD\tgene\t335\t649\t.\t+\t.\tID=YAL069W;Name=YAL069W;"
            "Note=Dubious%20ORF;orf_classification=Dubious\n"
            "chrI\tSGD\tCDS\t335\t649\t.\t+\t0\tParent=YAL069W_mRNA;Name=YAL069W_CDS\n"
            "chrI\tSGD\ttRNA_gene\t1001\t1072\t.\t-\t.\tID=tP(UGG)A;Name=tP(UGG)A\n"
            "###\n##FASTA\n>chrI\nACGTACGT\n",
            "YAL069W", "YAL069W", 334),
}


@pytest.mark.parametrize("style", GFF3)
def test_gff3_of_every_source_ingests_and_gives_tss(style: str, tmp_path: Path) -> None:
    text, gene_id, name, tss = GFF3[style]
    src = tmp_path / f"{style}.gff3.gz"
    with gzip.open(src, "wt") as fh:
        fh.write(text)
    chrom = "chrI" if style == "sgd" else "chr1"
    out = tmp_path / "genes.gtf"
    assert ingest_gtf(src, out, {chrom: 10_000}) >= 2
    assert out.read_text().startswith("##gff-version 3") and "##FASTA" not in out.read_text()
    genes = read_gtf_genes(out)
    assert gene_id in genes["gene_id"].tolist()
    assert genes.set_index("gene_id").loc[gene_id, "gene_name"] == name
    table = read_gene_tss(out).set_index("gene_id")
    assert table.loc[gene_id, "tss"] == tss and table.loc[gene_id, "chrom"] == chrom


def test_gff3_without_header_is_recognised_and_gets_one(tmp_path: Path) -> None:
    src = tmp_path / "genes.txt"
    src.write_text("chr1\tx\tgene\t11\t60\t.\t+\t.\tID=gene:G1;gene_id=G1\n")
    ingest_gtf(src, tmp_path / "genes.gtf", SIZES)
    assert (tmp_path / "genes.gtf").read_text().splitlines()[0] == "##gff-version 3"
    assert read_gtf_genes(tmp_path / "genes.gtf")["gene_id"].tolist() == ["G1"]


def test_transcripts_map_to_their_genes(tmp_path: Path) -> None:
    src = tmp_path / "a.gff3"
    src.write_text(GFF3["ensembl"][0])
    assert transcript_genes(src) == {"ENST2": "ENSG2"}


YEAST = SHARED_DATA / "yeast_sacCer3_atac_rnaseq"


@pytest.mark.integration
@pytest.mark.skipif(not (YEAST / "sacCer3.chrom.sizes").exists(), reason="no yeast bundle")
def test_yeast_bundle_ingests_as_it_is(tmp_path: Path) -> None:
    """The bundle's Ensembl GFF3 and its two-sample TPM table give an expression table."""
    from seq2func.core.io import read_chrom_sizes

    sizes = read_chrom_sizes(YEAST / "sacCer3.chrom.sizes")
    gff = YEAST / "Saccharomyces_cerevisiae.R64-1-1.99.chrnames.gff3.gz"
    assert ingest_gtf(gff, tmp_path / "genes.gtf", sizes) > 20_000
    assert len(read_gene_tss(tmp_path / "genes.gtf")) == 7127
    tpm = YEAST / "expression_tpm_per_gene.tsv"
    df = build_expression({"WT": tpm, "snf2": tpm}, tmp_path / "genes.gtf", tmp_path / "e.tsv",
                          {"WT": "mean_tpm_WT", "snf2": "mean_tpm_snf2"})
    assert len(df) > 7000
    snf2 = df.set_index("gene_id").loc["YOR290C"]
    assert snf2["WT"] > 10 * snf2["snf2"]
    counts = YEAST / "rnaseq_counts_WT48_snf2_48.tsv.gz"
    with pytest.raises(InputError, match=r"sums to .* not TPM"):
        build_expression({"WT": counts}, tmp_path / "genes.gtf", tmp_path / "c.tsv",
                         {"WT": "WT_rep01_MID39"})


# ----------------------------------------------------------------------------- decisions


def _nan_bigwig(path: Path) -> Path:
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(SIZES.items()), maxZooms=2)
    bw.addEntries("chr1", [100, 200, 300], values=[2.0, float("nan"), 4.0], span=50)
    bw.addEntries("chr2", [10], values=[1.0], span=5)
    bw.close()
    return path


def test_nan_in_a_bigwig_is_no_data(tmp_path: Path) -> None:
    """pyBigWig's header() crashes the process on such a file; it is read from its bytes, the
    NaN intervals are dropped on ingestion and read as 0 everywhere."""
    import subprocess
    import sys

    from seq2func.core.bigwig import BigWig
    from seq2func.download.signal import ingest_bigwig

    src = _nan_bigwig(tmp_path / "nan.bw")
    code = ("from seq2func.core.bigwig import BigWig; import sys; "
            f"b = BigWig({str(src)!r}); print(b.clean_by_header, b.values('chr1', 140, 210)"
            ".tolist())")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr  # (pyBigWig's header(): exit -11)
    assert res.stdout.split()[0] == "False"  # a NaN summary: every value is checked
    with BigWig(src) as bw:
        assert bw.values("chr1", 140, 210).tolist() == [2.0] * 10 + [0.0] * 60
    out = tmp_path / "out.bw"
    assert ingest_bigwig(src, out, SIZES) == {"chr1": 2, "chr2": 1}
    with pyBigWig.open(str(out)) as bw:
        assert bw.intervals("chr1") == ((100, 150, 2.0), (300, 350, 4.0))
        assert bw.header()["maxVal"] == 4  # (a finite summary: pyBigWig reads it)


def test_ambiguous_alleles_are_reported_not_scored(tmp_path: Path, caplog) -> None:
    from seq2func.core.sequence import Genome
    from seq2func.variants.vcf import check_alleles, read_vcf, write_vcf

    (tmp_path / "g.fa").write_text(">chr1\n" + "ACGT" * 50 + "\n")
    vcf = tmp_path / "v.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   "chr1\t1\ta\tA\tN\t.\t.\t.\nchr1\t2\tb\tC\tR\t.\t.\t.\n"
                   "chr1\t3\tc\tG\tT\t.\t.\t.\nchr1\t4\td\tT\t<DEL>\t.\t.\t.\n")
    _, variants = read_vcf(vcf)
    with Genome(tmp_path / "g.fa") as genome, caplog.at_level(logging.WARNING):
        checked = check_alleles(variants, genome)
    assert checked["status"].tolist() == ["ambiguous", "ambiguous", "ok", "symbolic"]
    assert "2 variant allele(s) with ambiguity letters" in caplog.text
    write_vcf(tmp_path / "o.vcf", [], checked, {}, "test")
    assert "ambiguous (only ok is scored)" in (tmp_path / "o.vcf").read_text()


def test_download_names_are_file_name_safe() -> None:
    from seq2func.download.sources import download_name

    assert download_name("https://example.org/q/%24%28id%29.tsv", ".tsv") == "__id_.tsv"
    assert download_name("/data/my file `x`.bw", ".bigWig") == "my_file__x_.bw"
    assert download_name("https://example.org/gencode.v29.annotation.gtf.gz", ".gtf") == \
        "gencode.v29.annotation.gtf.gz"
    assert download_name("ENCFF356LFX", ".bed.gz") == "ENCFF356LFX.bed.gz"
