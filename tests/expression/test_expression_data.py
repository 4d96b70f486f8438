"""Gene table, targets and features of the expression models (no TensorFlow)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seq2func.core.errors import ConfigError, InputError
from seq2func.core.sequence import Genome, decode, reverse_complement
from seq2func.expression.features import (
    match_chromatin_samples,
    observed_chromatin,
    promoter_codes,
    sequence_codes,
)
from seq2func.expression.genes import build_gene_table, read_expression_table
from seq2func.expression.settings import ExpressionSettings, ExpressionWindow

SIZES = {"chr1": 4000, "chr2": 3000}
WINDOW = ExpressionWindow(upstream=100, downstream=50, chromatin_flank=200, chromatin_bin=50)


def _gtf_line(chrom: str, start: int, end: int, strand: str, gid: str) -> str:
    attrs = f'gene_id "{gid}"; gene_name "{gid[:4]}{gid[-3:]}"; gene_type "protein_coding";'
    return "\t".join([chrom, "t", "gene", str(start), str(end), ".", strand, ".", attrs])


@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    fa = tmp_path / "genome.fa"
    seqs = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in SIZES.items()}
    fa.write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    gtf = tmp_path / "genes.gtf"
    gtf.write_text("\n".join([
        _gtf_line("chr1", 1001, 1500, "+", "ENSG00000000001.3"),   # TSS 1000 (0-based)
        _gtf_line("chr1", 2001, 2600, "-", "ENSG00000000002.1"),   # TSS 2599
        _gtf_line("chr1", 101, 900, "+", "ENSG00000000003.2"),     # window off chr1 start
        _gtf_line("chr2", 1001, 1400, "+", "ENSG00000000004.1"),   # test chromosome
        _gtf_line("chr1", 3001, 3300, "+", "ENSG00000000005.1"),   # no expression
    ]) + "\n")
    expr = tmp_path / "expression.tsv"
    expr.write_text("gene_id\tgene_name\tA\tB\n"
                    "ENSG00000000001.7\tg1\t0\t1\n"
                    "ENSG00000000002.1\tg2\t3\t7\n"
                    "ENSG00000000003\tg3\t1\t1\n"
                    "ENSG00000000004.2\tg4\t15\t0.5\n"
                    "ENSG00000000099.1\tg99\t2\t2\n")
    return {"fa": fa, "gtf": gtf, "expr": expr, "seqs": seqs}  # type: ignore[dict-item]


def test_gene_table_matches_versions_drops_and_counts(inputs: dict) -> None:
    genes, qc = build_gene_table(inputs["gtf"], inputs["expr"], SIZES,
                                 {"valid": [], "test": ["chr2"]}, WINDOW)
    assert list(genes["gene_id"]) == ["ENSG00000000001.3", "ENSG00000000002.1",
                                      "ENSG00000000004.1"]
    assert qc["matched_genes"] == 4  # versions ignored on both sides
    assert qc["unmatched_annotation_genes"] == 1 and qc["unmatched_expression_genes"] == 1
    assert qc["unmatched_expression_examples"] == ["ENSG00000000099"]
    assert qc["dropped_window_outside_chromosome"] == 1
    assert list(genes["split"]) == ["train", "train", "test"]
    g2 = genes.iloc[1]
    assert (g2["tss"], g2["start"], g2["end"]) == (2599, 2599 - 50 + 1, 2599 + 100 + 1)
    np.testing.assert_allclose(genes["log1p_tpm_B"], np.log1p([1, 7, 0.5]), rtol=1e-12)
    json.dumps(qc)  # serialisable


def test_gene_table_harmonises_split_names_and_reports_no_match(inputs: dict,
                                                                tmp_path: Path) -> None:
    genes, _ = build_gene_table(inputs["gtf"], inputs["expr"], SIZES, {"test": ["2"]}, WINDOW)
    assert (genes.loc[genes["chrom"] == "chr2", "split"] == "test").all()
    other = tmp_path / "other.tsv"
    other.write_text("gene_id\tA\nFOO\t1\n")
    with pytest.raises(InputError, match="no gene ID matches"):
        build_gene_table(inputs["gtf"], other, SIZES, {"test": ["chr2"]}, WINDOW)


def test_expression_table_errors_name_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "e.tsv"
    bad.write_text("gene_id\tgene_name\tA\nG1\tg\t1\nG2\tg\t-3\n")
    with pytest.raises(InputError, match="line 3"):
        read_expression_table(bad)
    with pytest.raises(InputError, match="no column for sample"):
        read_expression_table(bad, ["B"])


def test_promoters_are_oriented_with_tss_at_upstream(inputs: dict) -> None:
    genes, _ = build_gene_table(inputs["gtf"], inputs["expr"], SIZES, {"test": ["chr2"]}, WINDOW)
    with Genome(inputs["fa"]) as genome:
        codes = promoter_codes(genome, genes, WINDOW)
    seq = inputs["seqs"]["chr1"]
    assert codes.shape == (3, 150)
    assert decode(codes[0]) == seq[900:1050]  # plus: TSS 1000 at offset 100
    minus = decode(reverse_complement(codes[1]))
    assert minus == seq[2550:2700]
    # the TSS base (2599) read on the minus strand is at offset `upstream`
    comp = {"A": "T", "C": "G", "G": "C", "T": "A"}
    assert decode(codes[1])[100] == comp[seq[2599]]


def test_observed_chromatin_bins_and_strand(inputs: dict, tmp_path: Path) -> None:
    import pyBigWig

    genes, _ = build_gene_table(inputs["gtf"], inputs["expr"], SIZES, {"test": ["chr2"]}, WINDOW)
    bw_path = tmp_path / "s.bw"
    bw = pyBigWig.open(str(bw_path), "w")
    bw.addHeader(list(SIZES.items()))
    # one count at every base of chr1 [800, 850) (bin 0 of gene 1) and 5 at 2410 (gene 2)
    bw.addEntries("chr1", list(range(800, 850)), values=[1.0] * 50, span=1)
    bw.addEntries("chr1", [2410], values=[5.0], span=1)
    bw.close()
    x = observed_chromatin([bw_path], genes, WINDOW, SIZES)
    assert x.shape == (3, 8, 1)
    np.testing.assert_allclose(x[0, :, 0], np.log1p([50, 0, 0, 0, 0, 0, 0, 0]), rtol=1e-6)
    # gene 2 (minus, TSS 2599): genomic bins from 2399; 2410 is in genomic bin 0 -> last bin
    np.testing.assert_allclose(x[1, :, 0], np.log1p([0] * 7 + [5]), rtol=1e-6)
    assert not x[2].any()


def test_chromatin_sample_matching() -> None:
    assert match_chromatin_samples(["b", "a"], ["a", "b", "c"]) == ([1, 0], "name")
    assert match_chromatin_samples(["WT"], ["atac"]) == ([0], "all")
    assert match_chromatin_samples(["a"], ["a", "b"], "all") == ([0, 1], "all")
    with pytest.raises(ConfigError, match=r"expression\.chromatin\.match"):
        match_chromatin_samples(["WT"], ["atac"], "name")


def test_window_geometry_checked() -> None:
    from seq2func.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"expression\.chromatin\.bin_size.*multiple"):
        ExpressionSettings.from_config({"chromatin": {"flank": 100, "bin_size": 30}})
    with pytest.raises(ValueError, match="multiple"):
        ExpressionWindow(10, 5, 100, 30)
    w = ExpressionSettings.from_config({"upstream": 10, "downstream": 5}).window
    assert (w.promoter_length, w.end_length, w.length, w.n_bins) == (15, 1000, 1065, 40)
    w = ExpressionSettings.from_config({"upstream": 10, "downstream": 5, "end_upstream": 0,
                                        "end_downstream": 0}).window
    assert (w.length, w.spacer) == (15, 0)
    with pytest.raises(ValueError, match="end_upstream"):
        ExpressionWindow(10, 5, 100, 50, end_upstream=-1)


END_WINDOW = ExpressionWindow(upstream=100, downstream=50, chromatin_flank=200, chromatin_bin=50,
                              end_upstream=30, end_downstream=20)


def test_gene_ends_and_the_gene_end_window_follow_the_strand(inputs: dict) -> None:
    genes, qc = build_gene_table(inputs["gtf"], inputs["expr"], SIZES, {"test": ["chr2"]},
                                 END_WINDOW)
    # + gene [1000, 1500): first base past its 3' end 1500; - gene [2000, 2600): 1999
    assert genes["tes"].tolist()[:2] == [1500, 1999]
    with Genome(inputs["fa"]) as genome:
        codes = sequence_codes(genome, genes, END_WINDOW)
    seq = inputs["seqs"]["chr1"]
    assert codes.shape == (3, 150 + 50 + 50)
    assert decode(codes[0, :150]) == seq[900:1050]
    assert (codes[:, 150:200] == 4).all()  # the N spacer
    assert decode(codes[0, 200:]) == seq[1470:1520]  # last 30 bases of the gene, 20 past it
    # minus gene: its last 30 bases are [2000, 2030), the 20 past its end [1980, 2000)
    assert decode(reverse_complement(codes[1, 200:])) == seq[1980:2030]
    assert qc["window"]["end_upstream"] == 30


def test_a_gene_end_window_off_the_chromosome_drops_the_gene(inputs: dict) -> None:
    from seq2func.expression.genes import _inside_chromosomes

    genes, _ = build_gene_table(inputs["gtf"], inputs["expr"], SIZES, {"test": ["chr2"]},
                                END_WINDOW)
    far = ExpressionWindow(upstream=100, downstream=50, chromatin_flank=200, chromatin_bin=50,
                           end_upstream=30, end_downstream=1650)
    qc: dict = {}
    kept, _ = _inside_chromosomes(genes, far, SIZES, qc)
    # the chr2 gene ends at 1400: 1400 + 1650 runs past chr2 (3000); the chr1 genes fit
    assert kept["gene_id"].tolist() == ["ENSG00000000001.3", "ENSG00000000002.1"]
    assert qc["dropped_window_outside_chromosome"] == 1
