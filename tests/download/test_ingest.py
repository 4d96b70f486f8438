"""Ingestion: Ensembl-named downloads become canonical UCSC-named inputs, restricted to the
configured chromosomes, with coordinates checked against the genome."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seq2func.cli import main
from seq2func.core.errors import InputError, Seq2FuncError
from seq2func.core.io import read_chrom_sizes
from seq2func.download.fasta import fasta_records
from seq2func.download.ingest import (
    INGEST_KINDS,
    build_expression,
    ingest,
    ingest_bed,
    ingest_bigwig,
    ingest_fasta,
    ingest_gtf,
    ingest_peaks,
    ingest_vcf,
    read_quantification,
)
from seq2func.download.signal import value_runs

CHROMS = ["chr1", "chr2", "chrM"]


def _seq(rng: np.random.Generator, n: int) -> str:
    s = rng.choice(list("ACGTacgtN"), size=n, p=[.2, .2, .2, .2, .04, .04, .04, .04, .04])
    return "".join(s)


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    rng = np.random.default_rng(0)
    return {"1": _seq(rng, 5003), "2": _seq(rng, 3001), "KI270706.1": _seq(rng, 500),
            "MT": _seq(rng, 165)}


def _write_fasta(path: Path, seqs: dict[str, str], width: int = 70) -> Path:
    text = "".join(f">{n} some description\n" + "".join(
        s[i:i + width] + "\n" for i in range(0, len(s), width)) for n, s in seqs.items())
    with gzip.open(path, "wt") as fh:
        fh.write(text)
    return path


@pytest.fixture(scope="module")
def canonical(tmp_path_factory: pytest.TempPathFactory, genome: dict[str, str]) -> Path:
    d = tmp_path_factory.mktemp("canonical")
    src = _write_fasta(d / "ensembl.fa.gz", genome)
    ingest_fasta(src, d / "genome.fa", CHROMS, d / "chrom.sizes")
    return d


def test_fasta_renamed_restricted_and_indexed(canonical: Path, genome: dict[str, str]) -> None:
    import pyfaidx

    sizes = read_chrom_sizes(canonical / "chrom.sizes")
    assert sizes == {"chr1": 5003, "chr2": 3001, "chrM": 165}
    fa = pyfaidx.Fasta(str(canonical / "genome.fa"), sequence_always_upper=False)
    assert list(fa.keys()) == ["chr1", "chr2", "chrM"]
    assert str(fa["chr1"][:]) == genome["1"]  # case (soft-masking) and N kept
    assert str(fa["chrM"][100:165]) == genome["MT"][100:165]
    fai = (canonical / "genome.fa.fai").read_text().splitlines()
    assert fai[0].split("\t")[:2] == ["chr1", "5003"]


def test_fasta_stream_is_independent_of_block_size(tmp_path: Path,
                                                   genome: dict[str, str]) -> None:
    src = _write_fasta(tmp_path / "g.fa.gz", genome, width=13)

    def parse(block: int) -> dict[str, str]:
        out: dict[str, list[bytes]] = {}
        name = ""
        for n, chunk in fasta_records(src, block=block):
            if chunk is None:
                name = n
                out[name] = []
            else:
                out[name].append(chunk)
        return {k: b"".join(v).decode() for k, v in out.items()}

    assert parse(7) == parse(1 << 20) == genome


def test_fasta_missing_chromosome_is_an_error(tmp_path: Path, genome: dict[str, str]) -> None:
    src = _write_fasta(tmp_path / "g.fa.gz", {"1": genome["1"]})
    with pytest.raises(InputError, match=r"chr2, chrM not in the FASTA .*ensembl naming"):
        ingest_fasta(src, tmp_path / "out.fa", CHROMS)
    assert not (tmp_path / "out.fa").exists() and not (tmp_path / "out.fa.fai").exists()


def test_fasta_duplicate_spelling_is_an_error(tmp_path: Path, genome: dict[str, str]) -> None:
    src = _write_fasta(tmp_path / "g.fa.gz", {"1": "ACGT", "chr1": "ACGT"})
    with pytest.raises(InputError, match="appears twice"):
        ingest_fasta(src, tmp_path / "out.fa", ["chr1"])


def test_runs_encode_nan_gaps_exactly() -> None:
    v = np.array([np.nan, 1, 1, 2, np.nan, np.nan, 2, 2, 0, 0], dtype=np.float32)
    s, e, val = value_runs(v)
    assert s.tolist() == [1, 3, 6, 8] and e.tolist() == [3, 4, 8, 10]
    assert val.tolist() == [1, 2, 2, 0]


def _write_bigwig(path: Path, chroms: dict[str, int], rng: np.random.Generator
                  ) -> dict[str, np.ndarray]:
    import pyBigWig

    values = {}
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(chroms.items()))
    for c, n in chroms.items():
        v = np.round(rng.exponential(1.0, n), 1).astype(np.float32)
        v[rng.random(n) < 0.2] = np.nan
        v[100:400] = np.nan
        values[c] = v
        s, e, val = value_runs(v)
        bw.addEntries([c] * len(s), s, ends=e, values=val.astype(np.float64))
    bw.close()
    return values


def test_bigwig_renamed_chunked_and_exact(tmp_path: Path, canonical: Path) -> None:
    import pyBigWig

    rng = np.random.default_rng(1)
    src = tmp_path / "ensembl.bw"
    values = _write_bigwig(src, {"1": 5003, "2": 3001, "KI270706.1": 500}, rng)
    out = tmp_path / "out.bw"
    counts = ingest_bigwig(src, out, canonical / "chrom.sizes", chunk=997)
    bw = pyBigWig.open(str(out))
    assert bw.chroms() == {"chr1": 5003, "chr2": 3001, "chrM": 165}
    for c, e in (("chr1", "1"), ("chr2", "2")):
        got = bw.values(c, 0, bw.chroms(c), numpy=True)
        np.testing.assert_array_equal(got, values[e])
        assert counts[c] > 0
    assert np.isnan(bw.values("chrM", 0, 165, numpy=True)).all()  # no signal there
    assert counts["chrM"] == 0


def test_bigwig_of_another_assembly_is_refused(tmp_path: Path, canonical: Path) -> None:
    src = tmp_path / "hg19.bw"
    _write_bigwig(src, {"chr1": 5000, "chr2": 3001}, np.random.default_rng(2))
    with pytest.raises(InputError, match=r"assembly mismatch: chr1 is 5,000 bp .* 5,003 bp"):
        ingest_bigwig(src, tmp_path / "out.bw", canonical / "chrom.sizes")
    assert not (tmp_path / "out.bw").exists()
    (tmp_path / "not.bw").write_text("chr1\t0\t10\t1\n")
    with pytest.raises(InputError, match="not a bigWig"):
        ingest_bigwig(tmp_path / "not.bw", tmp_path / "out.bw", canonical / "chrom.sizes")


NARROWPEAK = """track name=peaks
2\t100\t300\tp1\t500\t.\t5.5\t12.25\t10.5\t90
1\t2000\t2400\tp2\t1000\t.\t8\t30\t28\t150
KI270706.1\t10\t50\tp3\t10\t.\t1\t2\t1\t5
1\t50\t250\tp4\t700\t.\t3\t9\t7\t60
MT\t0\t100\tp5\t100\t.\t2\t4\t3\t10
"""


def test_peaks_renamed_sorted_and_complete(tmp_path: Path, canonical: Path) -> None:
    src = tmp_path / "p.bed.gz"
    with gzip.open(src, "wt") as fh:
        fh.write(NARROWPEAK)
    out = tmp_path / "p.narrowPeak"
    assert ingest_peaks(src, out, canonical / "chrom.sizes") == 4
    df = pd.read_csv(out, sep="\t", header=None)
    assert df[0].tolist() == ["chr1", "chr1", "chr2", "chrM"]
    assert df[1].tolist() == [50, 2000, 100, 0]
    assert df.iloc[2].tolist() == ["chr2", 100, 300, "p1", 500, ".", 5.5, 12.25, 10.5, 90]


def test_bed3_peaks_get_narrowpeak_defaults(tmp_path: Path, canonical: Path) -> None:
    src = tmp_path / "p.bed"
    src.write_text("chr1\t10\t20\nchr2\t5\t9\n")
    ingest_peaks(src, tmp_path / "p.narrowPeak", canonical / "chrom.sizes")
    df = pd.read_csv(tmp_path / "p.narrowPeak", sep="\t", header=None)
    assert df.iloc[0].tolist() == ["chr1", 10, 20, ".", 0, ".", -1, -1, -1, -1]


def test_peaks_past_chromosome_ends_follow_the_preprocessing_rule(tmp_path: Path,
                                                                  canonical: Path) -> None:
    """Overhangs are clipped; a few peaks past the end are dropped (as in preprocessing), more
    stop the ingestion naming the first line and the likely assembly mix-up."""
    src = tmp_path / "p.bed"
    inside = "".join(f"chr1\t{10 * i}\t{10 * i + 5}\n" for i in range(1, 200))
    src.write_text("# comment\nchr2\t2990\t3100\n" + inside + "chr2\t3500\t3600\n")
    out = tmp_path / "p.narrowPeak"
    assert ingest_peaks(src, out, canonical / "chrom.sizes") == 200
    assert "chr2\t2990\t3001\t" in out.read_text()
    src.write_text("# comment\nchr1\t10\t20\nchr2\t3500\t3600\n")
    with pytest.raises(InputError, match=r"p\.bed, line 3: 1 of 2 peaks \(50\.0%\) lie past "
                                         r"their chromosome's end, e\.g\. chr2:3,500-3,600 "
                                         r"\(chr2 has 3,001 bp\).*another genome assembly"):
        ingest_peaks(src, out, canonical / "chrom.sizes")
    src.write_text("chr1\tten\t20\n")
    with pytest.raises(InputError, match="line 1: column 2 is not an integer"):
        ingest_peaks(src, tmp_path / "p.narrowPeak", canonical / "chrom.sizes")
    bigbed = tmp_path / "p.bb"
    bigbed.write_bytes((0x8789F2EB).to_bytes(4, "little") + b"\0" * 60)
    with pytest.raises(InputError, match="bigBed files are not supported"):
        ingest_peaks(bigbed, tmp_path / "p.narrowPeak", canonical / "chrom.sizes")


def test_blacklist_bed4(tmp_path: Path, canonical: Path) -> None:
    src = tmp_path / "bl.bed.gz"
    with gzip.open(src, "wt") as fh:
        fh.write("2\t0\t50\tHigh Signal Region\n1\t4000\t5003\tLow Mappability\nY\t1\t2\tx\n")
    assert ingest_bed(src, tmp_path / "bl.bed", canonical / "chrom.sizes") == 2
    assert (tmp_path / "bl.bed").read_text() == \
        "chr1\t4000\t5003\tLow Mappability\nchr2\t0\t50\tHigh Signal Region\n"


GTF = """##description: test
1\tHAVANA\tgene\t100\t900\t.\t+\t.\tgene_id "ENSG00000000001.5"; gene_name "AAA";
1\tHAVANA\texon\t100\t200\t.\t+\t.\tgene_id "ENSG00000000001.5"; gene_name "AAA";
2\tHAVANA\tgene\t10\t400\t.\t-\t.\tgene_id "ENSG00000000002.3"; gene_name "BBB";
GL000009.2\tENSEMBL\tgene\t1\t50\t.\t+\t.\tgene_id "ENSG00000000003.1"; gene_name "CCC";
MT\tENSEMBL\tgene\t10\t60\t.\t+\t.\tgene_id "ENSG00000000004.1"; gene_name "MT-X";
"""


@pytest.fixture()
def gtf(tmp_path: Path, canonical: Path) -> Path:
    src = tmp_path / "genes.gtf.gz"
    with gzip.open(src, "wt") as fh:
        fh.write(GTF)
    out = tmp_path / "genes.gtf"
    assert ingest_gtf(src, out, canonical / "chrom.sizes") == 4
    return out


def test_gtf_renamed(gtf: Path) -> None:
    lines = gtf.read_text().splitlines()
    assert lines[0] == "##description: test"
    assert [line.split("\t")[0] for line in lines[1:]] == ["chr1", "chr1", "chr2", "chrM"]
    assert lines[1].split("\t", 1)[1] == GTF.splitlines()[1].split("\t", 1)[1]


def test_gtf_beyond_end_is_an_error(tmp_path: Path, canonical: Path) -> None:
    src = tmp_path / "g.gtf"
    src.write_text('chr2\tX\tgene\t10\t3002\t.\t+\t.\tgene_id "G1";\n')
    with pytest.raises(InputError, match=r"line 1: feature ends at 3,002, beyond chr2"):
        ingest_gtf(src, tmp_path / "o.gtf", canonical / "chrom.sizes")


def test_vcf_renamed_with_contigs(tmp_path: Path, canonical: Path) -> None:
    src = tmp_path / "v.vcf.gz"
    with gzip.open(src, "wt") as fh:
        fh.write("##fileformat=VCFv4.2\n##contig=<ID=1,length=5003>\n##contig=<ID=3>\n"
                 "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                 "1\t10\trs1\tA\tG\t.\tPASS\t.\n3\t5\trs2\tC\tT\t.\tPASS\t.\n")
    assert ingest_vcf(src, tmp_path / "v.vcf", canonical / "chrom.sizes") == 1
    text = (tmp_path / "v.vcf").read_text()
    assert "##contig=<ID=chr1,length=5003>" in text and "ID=3" not in text
    assert text.splitlines()[-1].startswith("chr1\t10\trs1")


RSEM_HEADER = ("gene_id\ttranscript_id(s)\tlength\teffective_length\texpected_count\tTPM\tFPKM\t"
               "posterior_mean_count\n")


def _rsem(path: Path, rows: list[tuple[str, float]]) -> Path:
    path.write_text(RSEM_HEADER + "".join(
        f"{g}\tT1,T2\t1000\t900\t10\t{tpm}\t{tpm * 2}\t10\n" for g, tpm in rows))
    return path


def test_expression_from_rsem_and_plain_tsv(tmp_path: Path, gtf: Path) -> None:
    a = _rsem(tmp_path / "a.tsv", [("gSpikein_ERCC-00002", 5.0), ("ENSG00000000001.5", 1.5),
                                   ("ENSG00000000002.4", 20.0), ("ENSG00000000004.1", 3.0)])
    b = tmp_path / "b.tsv"
    b.write_text("gene\tvalue\nENSG00000000001\t2\nENSG00000000002.3\t0\n"
                 "ENSG00000000004.1\t7.25\n")
    out = tmp_path / "expression.tsv"
    build_expression({"K562": a, "HepG2": b}, gtf, out)
    df = pd.read_csv(out, sep="\t")
    assert list(df.columns) == ["gene_id", "gene_name", "K562", "HepG2"]
    assert df["gene_id"].tolist() == ["ENSG00000000001.5", "ENSG00000000002.3",
                                      "ENSG00000000004.1"]
    assert df["gene_name"].tolist() == ["AAA", "BBB", "MT-X"]
    assert df["K562"].tolist() == [1.5, 20.0, 3.0] and df["HepG2"].tolist() == [2, 0, 7.25]


def test_expression_checks(tmp_path: Path, gtf: Path) -> None:
    other = _rsem(tmp_path / "mouse.tsv", [(f"ENSMUSG{i:011d}.1", 1.0) for i in range(10)])
    with pytest.raises(InputError, match=r"only 0 of its 10 Ensembl genes are in the annot"):
        build_expression({"x": other}, gtf, tmp_path / "e.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("gene_id\tlength\tcounts\nENSG1\t1\t2\n")
    with pytest.raises(InputError, match="no 'TPM' column"):
        read_quantification(bad)
    bad.write_text("gene_id\tTPM\nENSG1\tn/a\n")
    with pytest.raises(InputError, match=r"line 2: TPM value 'n/a' is not a finite, "
                                         r"non-negative number"):
        read_quantification(bad)


def test_cli_ingest_records_sources(tmp_path: Path, canonical: Path) -> None:
    src = tmp_path / "ENCFF000XXX.bed.gz"
    with gzip.open(src, "wt") as fh:
        fh.write(NARROWPEAK)
    Path(str(src) + ".provenance.json").write_text(json.dumps(
        {"download": {"source": "ENCFF000XXX", "accession": "ENCFF000XXX", "md5": "0" * 32,
                      "url": "https://x/ENCFF000XXX.bed.gz", "assembly": "GRCh38"}}))
    out = tmp_path / "peaks" / "K562.narrowPeak"
    assert main(["ingest", "peaks", "--input", str(src), "--output", str(out),
                 "--chrom-sizes", str(canonical / "chrom.sizes"),
                 "--provenance", str(src) + ".provenance.json"]) == 0
    rec = json.loads(Path(str(out) + ".provenance.json").read_text())
    assert rec["step"] == "ingest-peaks" and rec["records"] == 4
    assert rec["sources"][0]["accession"] == "ENCFF000XXX"
    assert main(["ingest", "expression", "--input", "nonsense", "--output", "x",
                 "--gtf", "y"]) == 2


def _with_download_record(path: Path, accession: str) -> Path:
    """Write a fetched file's provenance sidecar next to ``path``; return the sidecar."""
    side = Path(str(path) + ".provenance.json")
    side.write_text(json.dumps({"download": {
        "source": accession, "accession": accession, "md5": "0" * 32, "role": "peaks",
        "url": f"https://x/{path.name}", "assembly": "GRCh38", "bytes": 1, "via": "network",
        "verified": True, "retrieved_utc": "2024-01-01T00:00:00Z", "transfer": {}}}))
    return side


def test_ingest_entry_point_writes_output_and_provenance(tmp_path: Path,
                                                         canonical: Path) -> None:
    src = tmp_path / "ENCFF000YYY.bed.gz"
    with gzip.open(src, "wt") as fh:
        fh.write(NARROWPEAK)
    side = _with_download_record(src, "ENCFF000YYY")
    out = tmp_path / "peaks" / "x.narrowPeak"
    extra = ingest("peaks", [src], out, chrom_sizes=canonical / "chrom.sizes",
                   provenance=[side, tmp_path / "no-record.bed"])
    assert extra["records"] == 4 == len(out.read_text().splitlines())
    # the sources keep the download record's identity, not its transfer details
    assert extra["sources"] == [{k: v for k, v in json.loads(side.read_text())["download"].items()
                                 if k != "transfer"}]
    rec = json.loads(Path(str(out) + ".provenance.json").read_text())
    assert rec["step"] == "ingest-peaks" and rec["sources"] == extra["sources"]
    # a single path is one input too, and the genome may be a mapping
    assert ingest("peaks", src, tmp_path / "y.narrowPeak",
                  chrom_sizes=read_chrom_sizes(canonical / "chrom.sizes"))["sources"] == []


def test_ingest_entry_point_by_kind(tmp_path: Path, canonical: Path, genome: dict[str, str],
                                    gtf: Path) -> None:
    fa = _write_fasta(tmp_path / "g.fa.gz", genome)
    extra = ingest("fasta", [fa], tmp_path / "g.fa", chromosomes=["chr1", "chr2"],
                   sizes_out=tmp_path / "g.sizes")
    assert extra["chromosomes"] == {"chr1": 5003, "chr2": 3001}
    assert read_chrom_sizes(tmp_path / "g.sizes") == extra["chromosomes"]
    bw = tmp_path / "s.bw"
    _write_bigwig(bw, {"1": 5003, "2": 3001}, np.random.default_rng(3))
    records = ingest("bigwig", [bw], tmp_path / "o.bw",
                     chrom_sizes=canonical / "chrom.sizes")["records"]
    assert set(records) == {"chr1", "chr2", "chrM"} and records["chrM"] == 0
    quant = _rsem(tmp_path / "q.tsv", [("ENSG00000000001.5", 1.5), ("ENSG00000000002.3", 2.0)])
    extra = ingest("expression", {"K562": quant}, tmp_path / "e.tsv", gtf=gtf)
    assert extra["samples"] == ["K562"] and extra["genes"] == 2
    assert ingest("expression", {}, tmp_path / "empty.tsv", gtf=gtf)["genes"] == 3


@pytest.mark.parametrize(("kind", "inputs", "kwargs", "message"), [
    ("bigwig", ["a.bw"], {}, "ingest bigwig needs --chrom-sizes"),
    ("fasta", ["a.fa"], {}, "ingest fasta needs --chromosomes"),
    ("expression", {}, {}, "ingest expression needs --gtf"),
    ("expression", ["a.tsv"], {"gtf": "g.gtf"}, "sample -> path pairs"),
    ("peaks", ["a.bed", "b.bed"], {"chrom_sizes": "c"}, "takes exactly one --input"),
    ("peaks", [], {"chrom_sizes": "c"}, "takes exactly one --input"),
    ("bigBed", ["a.bb"], {}, "unknown ingest kind 'bigBed'"),
])
def test_ingest_entry_point_argument_errors(tmp_path: Path, kind: str, inputs, kwargs: dict,
                                            message: str) -> None:
    with pytest.raises(Seq2FuncError, match=message):
        ingest(kind, inputs, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_cli_offers_the_kinds_of_the_entry_point() -> None:
    from seq2func.cli import download as cli_download

    assert cli_download.INGEST_KINDS == INGEST_KINDS
