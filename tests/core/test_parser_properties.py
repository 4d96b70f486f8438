"""Property tests of the parsers: any input either parses or raises the project's InputError.

Inputs are drawn as lines of tab-separated tokens that look like the formats (chromosome names,
integers of any sign, floats, NaN, infinities, overflowing numbers, dots, empty fields,
comments, headers, odd characters), as raw text, and as arbitrary bytes (also gzip-wrapped).
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seq2func.core.errors import InputError

SIZES = {"chr1": 5000, "chr2": 3000}
TOKENS = st.sampled_from([
    "chr1", "chr2", "1", "chrM", "scaffold_9", "0", "1", "10", "99", "4999", "5000", "6000",
    "-5", "1.5", "1e3", "1e400", "-1e400", "nan", "NaN", "inf", "-inf", ".", "", " ", "+", "-",
    "gene", "exon", "transcript", "mRNA", "ncRNA_gene", "A", "C", "N", "AC", "X", "<DEL>", "*",
    'gene_id "G1";', 'gene_id "G1"; transcript_id "T1";', "ID=gene:G1;gene_id=G1",
    "ID=T1;Parent=gene:G1", "Parent=T1", "TPM", "FPKM", "gene_id", "Name", "Length",
    "EffectiveLength", "NumReads", "target_id", "tpm", "est_counts", "length", "eff_length",
    "Geneid", "Chr", "Start", "End", "Strand", "expected_count", "transcript_id(s)", "PASS",
    "é", "\x00", "G1", "G1.1", "ENSG00000000001.5", "%3B", "=", ";", '"'])
LINE = st.one_of(
    st.lists(TOKENS, min_size=0, max_size=11).map("\t".join),
    st.sampled_from(["#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO", "##fileformat=VCFv4.2",
                     "##gff-version 3", "##FASTA", ">chr1", "track name=x", "browser x",
                     "# comment", "##contig=<ID=1,length=5000>"]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
TEXT = st.lists(LINE, max_size=12).map(lambda lines: "\n".join(lines) + "\n")
DATA = st.one_of(TEXT.map(lambda t: t.encode("utf-8")), st.binary(max_size=300),
                 TEXT.map(lambda t: gzip.compress(t.encode("utf-8"), mtime=0)))
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def parses_or_input_error(data: bytes, name: str, parse: Callable[[Path, Path], object]) -> None:
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / name
        src.write_bytes(data)
        try:
            parse(src, Path(d))
        except InputError:
            pass


@SETTINGS
@given(DATA)
def test_peaks_and_bed(data: bytes) -> None:
    from seq2func.core.intervals import read_peaks

    parses_or_input_error(data, "p.narrowPeak", lambda p, d: read_peaks(p))


@SETTINGS
@given(DATA)
def test_peaks_ingestion(data: bytes) -> None:
    from seq2func.download.tables import ingest_bed, ingest_peaks

    parses_or_input_error(data, "p.bed", lambda p, d: ingest_peaks(p, d / "o.narrowPeak", SIZES))
    parses_or_input_error(data, "b.bed", lambda p, d: ingest_bed(p, d / "o.bed", SIZES))


@SETTINGS
@given(DATA, st.sampled_from(["a.gtf", "a.gff3"]))
def test_gtf_and_gff3(data: bytes, name: str) -> None:
    from seq2func.core.genes import read_gene_tss, transcript_genes
    from seq2func.download.expression import read_gtf_genes
    from seq2func.download.tables import ingest_gtf

    parses_or_input_error(data, name, lambda p, d: read_gene_tss(p))
    parses_or_input_error(data, name, lambda p, d: transcript_genes(p))
    parses_or_input_error(data, name, lambda p, d: read_gtf_genes(p))
    parses_or_input_error(data, name, lambda p, d: ingest_gtf(p, d / "o.gtf", SIZES))


@SETTINGS
@given(DATA)
def test_vcf(data: bytes) -> None:
    from seq2func.download.tables import ingest_vcf
    from seq2func.variants.vcf import read_vcf

    parses_or_input_error(data, "v.vcf", lambda p, d: read_vcf(p))
    parses_or_input_error(data, "v.vcf", lambda p, d: ingest_vcf(p, d / "o.vcf", SIZES))


@SETTINGS
@given(DATA, st.sampled_from([None, "TPM", "tpm", "a.bam", "value"]))
def test_expression_tables(data: bytes, column: str | None) -> None:
    from seq2func.download.quantification import read_table, tpm_values
    from seq2func.expression.genes import read_expression_table

    parses_or_input_error(data, "q.tsv", lambda p, d: tpm_values(read_table(p), column))
    parses_or_input_error(data, "e.tsv", lambda p, d: read_expression_table(p))


@pytest.mark.parametrize("text", [
    "gene_id\tTPM\nG1\t1e400\n", "gene_id\tTPM\nG1\tnan\n", "gene_id\tTPM\nG1\t1\nG1\t2\n",
    "gene_id\tFPKM\nG1\t1\n", "a\tb\tc\n1\t2\n3\t4\t5\t6\n", "\x00\x01", ""])
def test_known_hostile_tables_are_input_errors(text: str, tmp_path: Path) -> None:
    from seq2func.download.quantification import read_table, tpm_values

    (tmp_path / "q.tsv").write_text(text)
    with pytest.raises(InputError):
        tpm_values(read_table(tmp_path / "q.tsv"))
