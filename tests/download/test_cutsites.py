"""Reads to cut sites (seq2func.download.cutsites): every format on small synthetic files, the
shifts, what is dropped and counted, malformed input, the settings, and the CLI."""

from __future__ import annotations

import gzip
import itertools
import json
from collections import Counter
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seq2func.cli import main
from seq2func.core.errors import ConfigError, InputError
from seq2func.core.settings import schema_fields, section_schema
from seq2func.download.cutsites import (
    CutSiteSettings,
    count_runs,
    detect_format,
    reads_to_cutsites,
    signal_formats,
    sorted_blocks,
)

SIZES = {"chr1": 1000, "chr2": 500}


def write_text(path: Path, lines: list[str]) -> Path:
    text = "".join(line + "\n" for line in lines)
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def per_base(bw_path: Path) -> dict[str, np.ndarray]:
    """Chromosome -> counts per base (0 where nothing is stored)."""
    import pyBigWig

    bw = pyBigWig.open(str(bw_path))
    try:
        assert bw.chroms() == SIZES
        return {c: np.nan_to_num(np.asarray(bw.values(c, 0, n), dtype=float))
                for c, n in SIZES.items()}
    finally:
        bw.close()


def expected(cuts: list[tuple[str, int]]) -> dict[str, np.ndarray]:
    out = {c: np.zeros(n) for c, n in SIZES.items()}
    for (chrom, pos), n in Counter(cuts).items():
        out[chrom][pos] = n
    return out


def assert_counts(bw_path: Path, cuts: list[tuple[str, int]]) -> None:
    got, want = per_base(bw_path), expected(cuts)
    for c in SIZES:
        np.testing.assert_array_equal(got[c], want[c], err_msg=c)


def fragment_cuts(frags: list[tuple[str, int, int]], plus: int = 0,
                  minus: int = 0) -> list[tuple[str, int]]:
    return [cut for c, s, e in frags for cut in ((c, s + plus), (c, e - 1 + minus))]


FRAGS = [("chr1", 10, 60), ("chr1", 10, 200), ("chr1", 59, 120), ("chr2", 0, 500),
         ("chr1", 900, 1000), ("chr2", 100, 101)]


# ----------------------------------------------------------------------------- formats


@pytest.mark.parametrize(("name", "fmt"), [
    ("x.bw", "bigwig"), ("ENCFF000AAA.bigWig", "bigwig"), ("reads.bam", "bam"),
    ("pbmc_atac_fragments.tsv.gz", "fragments"), ("fragments.tsv", "fragments"),
    ("a.bedpe", "bedpe"), ("a.bedpe.gz", "bedpe"), ("frags.bed.gz", "bed"), ("f.BED", "bed"),
])
def test_format_from_the_name(name: str, fmt: str) -> None:
    assert detect_format(f"downloads/{name}") == fmt


def test_format_override_and_unknown_names() -> None:
    assert detect_format("cuts.txt.gz", "bed") == "bed"
    with pytest.raises(ConfigError, match=r"cannot tell the format of 'cuts\.txt\.gz'"):
        detect_format("cuts.txt.gz", source="s.tsv", key="sample a, column signal")
    with pytest.raises(ConfigError, match="unknown format 'sam'"):
        detect_format("x.bam", "sam")


def test_signal_formats_of_a_samples_table() -> None:
    table = pd.DataFrame({"sample": ["a", "b", "c"], "signal_format": ["", "bedpe", ""]})
    paths = {"a": "d/a.bigWig", "b": "d/b.txt.gz", "c": "d/c.bam"}
    assert signal_formats(table, paths) == {"a": "bigwig", "b": "bedpe", "c": "bam"}
    assert signal_formats(table.drop(columns="signal_format").iloc[[0, 2]], paths) == {
        "a": "bigwig", "c": "bam"}


def test_count_runs_merges_equal_neighbours() -> None:
    starts, ends, counts = count_runs(np.array([3, 3, 4, 4, 5, 5, 7, 9], dtype=np.int32))
    assert starts.tolist() == [3, 7, 9] and ends.tolist() == [6, 8, 10]
    assert counts.tolist() == [2.0, 1.0, 1.0]
    assert all(a.size == 0 for a in count_runs(np.zeros(0, dtype=np.int32)))


def test_sorted_blocks_never_split_a_base() -> None:
    positions = np.sort(np.random.default_rng(3).integers(0, 50, size=400))
    blocks = list(sorted_blocks(positions, 7))
    assert len(blocks) > 10
    np.testing.assert_array_equal(np.concatenate(blocks), positions)
    assert all(a[-1] != b[0] for a, b in itertools.pairwise(blocks))


def test_writing_in_small_blocks_gives_the_same_counts(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import seq2func.download.cutsites as cutsites

    rng = np.random.default_rng(5)
    starts = rng.integers(0, 400, size=3000)
    frags = [("chr2", int(s), int(s) + int(rng.integers(1, 90))) for s in starts]
    src = write_text(tmp_path / "f.bed", [f"{c}\t{s}\t{e}" for c, s, e in frags])
    monkeypatch.setattr(cutsites, "WRITE_BLOCK", 5)
    reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed")
    assert_counts(tmp_path / "o.bw", fragment_cuts(frags))


# ----------------------------------------------------------------------------- text formats


def test_bed_fragments_count_both_ends(tmp_path: Path) -> None:
    src = write_text(tmp_path / "f.bed", ["track name=frags"]
                     + [f"{c}\t{s}\t{e}\tname\t0\t+" for c, s, e in FRAGS])
    report = reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed")
    assert_counts(tmp_path / "o.bw", fragment_cuts(FRAGS))
    assert report.records == len(FRAGS) and report.cut_sites == 2 * len(FRAGS)
    assert report.per_chromosome == {"chr1": 8, "chr2": 4}


def test_10x_fragments_with_header_and_shift(tmp_path: Path) -> None:
    lines = ["# id=pbmc", "# reference_path=/refdata"] + [
        f"{c}\t{s}\t{e}\tAAACGA-1\t3" for c, s, e in FRAGS]
    src = write_text(tmp_path / "atac_fragments.tsv.gz", lines)
    reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "fragments")
    assert_counts(tmp_path / "o.bw", fragment_cuts(FRAGS))
    # ChromBPNet's convention for 10x: the minus end at `end`; two fragments end at the end of
    # their chromosome, so that cut is off it
    report = reads_to_cutsites(src, tmp_path / "s.bw", SIZES, "fragments", shift=(0, 1))
    kept = [cut for cut in fragment_cuts(FRAGS, 0, 1) if cut[1] < SIZES[cut[0]]]
    assert_counts(tmp_path / "s.bw", kept)
    assert report.shifted_off == 2 and report.cut_sites == 10


def test_shifts_from_the_settings(tmp_path: Path) -> None:
    frags = [*FRAGS, ("chr1", 997, 1000)]  # its start + 4 is off chr1
    src = write_text(tmp_path / "f.bed", [f"{c}\t{s}\t{e}" for c, s, e in frags])
    settings = CutSiteSettings.from_config({"shift_bed": [4, -4]})
    report = reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed", settings=settings)
    cuts = fragment_cuts(frags, 4, -4)
    assert_counts(tmp_path / "o.bw", [cut for cut in cuts if 0 <= cut[1] < SIZES[cut[0]]])
    assert report.shifted_off == sum(not 0 <= p < SIZES[c] for c, p in cuts) == 1


def test_macs_bedpe_in_several_chunks(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    starts = rng.integers(0, 900, size=2500)
    frags = [("chr1" if i % 3 else "chr2", int(s) // 2 if i % 3 == 0 else int(s),
              int(s) // 2 + 30 if i % 3 == 0 else int(s) + int(rng.integers(1, 100)))
             for i, s in enumerate(starts)]
    src = write_text(tmp_path / "f.bedpe.gz", [f"{c}\t{s}\t{e}" for c, s, e in frags])
    settings = CutSiteSettings.from_config({"chunk_lines": 1000})
    report = reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bedpe", settings=settings)
    assert_counts(tmp_path / "o.bw", fragment_cuts(frags))
    assert report.records == 2500


def test_bedtools_bedpe_pairs_become_fragments(tmp_path: Path) -> None:
    lines = ["chr1\t10\t60\tchr1\t150\t200\tr1\t60\t+\t-",   # fragment 10..200
             "chr1\t300\t350\tchr1\t280\t330\tr2\t60\t-\t+",  # fragment 280..350
             "chr1\t400\t450\tchr2\t10\t60\tr3\t60\t+\t-",    # discordant
             "chr2\t5\t55\t.\t-1\t-1\tr4\t0\t+\t."]           # unpaired
    src = write_text(tmp_path / "pairs.bedpe", lines)
    report = reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bedpe")
    assert_counts(tmp_path / "o.bw", fragment_cuts([("chr1", 10, 200), ("chr1", 280, 350)]))
    assert report.discordant == 2 and report.records == 4


def test_bgzip_fragments(tmp_path: Path) -> None:
    import pysam

    plain = write_text(tmp_path / "fragments.tsv", [f"{c}\t{s}\t{e}\tBC\t1" for c, s, e in FRAGS])
    src = tmp_path / "fragments.tsv.gz"
    pysam.tabix_compress(str(plain), str(src))
    assert detect_format(src) == "fragments"
    reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "fragments")
    assert_counts(tmp_path / "o.bw", fragment_cuts(FRAGS))


def test_bedtools_bedpe_with_a_bad_coordinate(tmp_path: Path) -> None:
    src = write_text(tmp_path / "pairs.bedpe", ["chr1\t10\t60\tchr1\t150\t200",
                                                "chr1\t10\t60\tchr1\tx\t200"])
    with pytest.raises(InputError, match="cannot be read as a bedtools BEDPE"):
        reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bedpe")


def test_dropped_fragments_are_counted(tmp_path: Path) -> None:
    lines = ["chr1\t10\t60",
             "chr1\t950\t1001",    # past the end of chr1
             "chr2\t40\t40",       # zero length
             "chrM\t1\t100",       # not configured, mitochondrial
             "chr1_KI270706v1_random\t1\t50"]
    src = write_text(tmp_path / "f.bed", lines)
    report = reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed")
    assert_counts(tmp_path / "o.bw", [("chr1", 10), ("chr1", 59)])
    assert (report.outside, report.empty) == (1, 1)
    assert report.other_sequences == {"chrM": 1, "chr1_KI270706v1_random": 1}
    assert report.unknown_sequences == {} and report.cut_sites == 2


def test_ensembl_names_are_renamed(tmp_path: Path) -> None:
    src = write_text(tmp_path / "f.bed", ["1\t10\t60", "2\t3\t9", "MT\t1\t9"])
    report = reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed")
    assert_counts(tmp_path / "o.bw", [("chr1", 10), ("chr1", 59), ("chr2", 3), ("chr2", 8)])
    assert report.other_sequences == {"MT": 1}


def test_mixed_naming_is_an_error(tmp_path: Path) -> None:
    src = write_text(tmp_path / "f.bed", ["1\t10\t60", "chr1\t3\t9"])
    with pytest.raises(InputError, match="'1' and 'chr1' are both 'chr1'"):
        reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed")


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("line", "problem"), [
    ("chr1\t10", "2 tab-separated column"),
    ("chr1\t10.5\t20", "column 2 is '10.5', not an integer"),
    ("chr1\t10\tend", "column 3 is 'end', not an integer"),
    ("chr1\t50\t20", "end 20 before start 50"),
    ("chr1\t-5\t20", "negative start -5"),
])
def test_malformed_lines_name_the_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    good = [f"chr1\t{i}\t{i + 10}" for i in range(1200)]
    src = write_text(tmp_path / "f.bed.gz", ["# header", *good, line, *good[:5]])
    settings = CutSiteSettings.from_config({"chunk_lines": 1000})
    with pytest.raises(InputError, match=problem) as err:
        reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed", settings=settings)
    assert err.value.line == 1202 and err.value.path == str(src)
    assert "fix:" in str(err.value)
    assert not (tmp_path / "o.bw").exists()


def test_unknown_chromosomes_beyond_the_fraction_stop(tmp_path: Path) -> None:
    lines = [f"chr1\t{i}\t{i + 50}" for i in range(900)]
    src = write_text(tmp_path / "few.bed", [*lines, "chrZ\t1\t50"])
    report = reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed",
                               settings=CutSiteSettings.from_config({"max_unknown_fraction": 0.01}))
    assert report.unknown_sequences == {"chrZ": 1}
    src = write_text(tmp_path / "many.bed", lines + ["chr7\t1\t50"] * 100)
    with pytest.raises(InputError, match=r"100 of 1,000 records \(10.00%\).*chr7 \(100\)"):
        reads_to_cutsites(src, tmp_path / "o2.bw", SIZES, "bed")
    assert not (tmp_path / "o2.bw").exists()


def test_reads_on_genome_sequences_the_study_leaves_out_are_dropped(tmp_path: Path) -> None:
    """A study keeping some chromosomes of a genome (chrY, chr7 left out; any spelling): their
    reads are dropped and counted as other sequences, not refused as another assembly's."""
    lines = [f"chr1\t{i}\t{i + 50}" for i in range(100)]
    src = write_text(tmp_path / "f.bed", [*lines, *["chr7\t1\t50"] * 300,
                                          *["Y\t5\t60"] * 50, "chrQ\t1\t50"])
    genome = ["chr1", "chr2", "chr7", "chrY"]
    report = reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed", genome_sequences=genome,
                               settings=CutSiteSettings.from_config({"max_unknown_fraction": 0.01}))
    assert report.other_sequences == {"chr7": 300, "Y": 50}
    assert report.unknown_sequences == {"chrQ": 1}
    assert report.cut_sites == 200
    # without the genome's sequences the same file is another assembly's
    with pytest.raises(InputError, match="neither configured nor other_sequences"):
        reads_to_cutsites(src, tmp_path / "o2.bw", SIZES, "bed")


def test_the_genome_provenance_names_every_source_sequence(tmp_path: Path) -> None:
    """ingest fasta records every sequence of its source; seq2func cutsites reads them."""
    fasta = write_text(tmp_path / "g.fa", [">chr1", "A" * 1000, ">chr2", "C" * 500,
                                           ">chr7", "G" * 80])
    out = tmp_path / "genome" / "genome.fa"
    assert main(["ingest", "fasta", "--input", str(fasta), "--output", str(out),
                 "--sizes-out", str(tmp_path / "genome" / "chrom.sizes"),
                 "--chromosomes", json.dumps(["chr1", "chr2"])]) == 0
    prov = json.loads((tmp_path / "genome" / "genome.fa.provenance.json").read_text())
    assert prov["source_sequences"] == ["chr1", "chr2", "chr7"]
    reads = write_text(tmp_path / "r.bed", ["chr1\t1\t50", "chr7\t1\t50", "chr7\t2\t50"])
    assert main(["cutsites", "--input", str(reads), "--format", "bed", "--output",
                 str(tmp_path / "o.bw"), "--chrom-sizes", str(tmp_path / "genome/chrom.sizes"),
                 "--genome-provenance", str(tmp_path / "genome/genome.fa.provenance.json")]) == 0
    assert (tmp_path / "o.bw").is_file()


def test_nothing_on_the_configured_chromosomes(tmp_path: Path) -> None:
    src = write_text(tmp_path / "f.bed", ["chrM\t1\t50"])
    with pytest.raises(InputError, match="no cut site on the configured chromosomes"):
        reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bed")


# ----------------------------------------------------------------------------- BAM


def write_bam(path: Path, reads: list[tuple[str, int, int, bool, int, int]],
              lengths: dict[str, int] | None = None) -> Path:
    """Reads as (chrom, start, aligned length, reverse, flag bits besides 16, mapq)."""
    import pysam

    lengths = lengths or {**SIZES, "chrM": 300}
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": c, "LN": n} for c, n in lengths.items()]}
    names = list(lengths)
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam:
        for i, (chrom, start, length, reverse, flag, mapq) in enumerate(reads):
            a = pysam.AlignedSegment(bam.header)
            a.query_name = f"r{i}"
            a.query_sequence = "A" * length
            a.flag = flag | (16 if reverse else 0)
            a.reference_id = names.index(chrom)
            a.reference_start = start
            a.mapping_quality = mapq
            a.cigartuples = [(0, length)]
            a.query_qualities = pysam.qualitystring_to_array("I" * length)
            bam.write(a)
    return path


BAM_READS = [("chr1", 100, 50, False, 0, 30), ("chr1", 100, 50, True, 0, 30),
             ("chr2", 0, 36, False, 0, 30), ("chr2", 464, 36, True, 0, 30),
             ("chr1", 500, 50, False, 256, 30),   # secondary
             ("chr1", 600, 50, False, 2048, 30),  # supplementary
             ("chr1", 700, 50, True, 1024, 30),   # duplicate: kept by default
             ("chr1", 800, 50, False, 0, 3),      # low mapq (kept by default)
             ("chrM", 10, 50, False, 0, 30)]


def bam_cuts(plus: int, minus: int, reads: list) -> list[tuple[str, int]]:
    cuts = [(c, s + length - 1 + minus) if rev else (c, s + plus)
            for c, s, length, rev, _, _ in reads]
    return [cut for cut in cuts if 0 <= cut[1] < SIZES[cut[0]]]


def test_bam_atac_and_dnase_shifts(tmp_path: Path) -> None:
    src = write_bam(tmp_path / "r.bam", BAM_READS)
    kept = [r for r in BAM_READS if r[4] in (0, 1024) and r[0] != "chrM"]
    report = reads_to_cutsites(src, tmp_path / "atac.bw", SIZES, "bam", assay="ATAC")
    assert_counts(tmp_path / "atac.bw", bam_cuts(4, -4, kept))
    assert report.filtered == 2 and report.other_sequences == {"chrM": 1}
    assert report.shifted_off == 0 and report.records == 7
    reads_to_cutsites(src, tmp_path / "dnase.bw", SIZES, "bam", assay="DNase")
    # DNase 0/+1: the last read of chr2 ends at its last base; +1 moves it off
    assert_counts(tmp_path / "dnase.bw", bam_cuts(0, 1, kept))


def test_bam_filters_from_the_settings(tmp_path: Path) -> None:
    src = write_bam(tmp_path / "r.bam", BAM_READS)
    settings = CutSiteSettings.from_config({"bam_min_mapq": 10,
                                            "bam_exclude_flags": 2820 + 1024})
    report = reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bam", settings=settings)
    kept = [r for r in BAM_READS if r[4] == 0 and r[5] >= 10 and r[0] != "chrM"]
    assert_counts(tmp_path / "o.bw", bam_cuts(4, -4, kept))
    assert report.filtered == 4


def test_bam_of_another_assembly(tmp_path: Path) -> None:
    src = write_bam(tmp_path / "r.bam", BAM_READS[:1], {"chr1": 2000, "chr2": 500})
    with pytest.raises(InputError, match="chr1 is 2,000 bp in this file but 1,000 bp"):
        reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bam")


def test_not_a_bam(tmp_path: Path) -> None:
    src = write_text(tmp_path / "r.bam", ["chr1\t1\t2"])
    with pytest.raises(InputError, match="cannot be read as BAM"):
        reads_to_cutsites(src, tmp_path / "o.bw", SIZES, "bam")


# ----------------------------------------------------------------------------- settings, CLI


def test_settings_fields_are_the_schema_properties() -> None:
    assert {f.name for f in fields(CutSiteSettings)} == schema_fields(CutSiteSettings.SECTION)
    props = section_schema(CutSiteSettings.SECTION)["properties"]
    s = CutSiteSettings.from_config({})
    for f in fields(CutSiteSettings):
        assert getattr(s, f.name) == props[f.name]["default"], f.name
    assert s.shift("bam", "ATAC") == (4, -4) and s.shift("bam", "DNase") == (0, 1)
    assert s.shift("fragments", "ATAC") == s.shift("bedpe", "DNase") == (0, 0)
    with pytest.raises(ConfigError, match=r"download\.cutsites\.shift_bed"):
        CutSiteSettings.from_config({"shift_bed": [1]})


def test_cli_writes_the_bigwig_and_its_provenance(tmp_path: Path) -> None:
    src = write_text(tmp_path / "f.bed", [f"{c}\t{s}\t{e}" for c, s, e in FRAGS])
    sizes = tmp_path / "chrom.sizes"
    sizes.write_text("".join(f"{c}\t{n}\n" for c, n in SIZES.items()))
    out = tmp_path / "signal" / "s.bw"
    rc = main(["cutsites", "--input", str(src), "--format", "bed", "--output", str(out),
               "--chrom-sizes", str(sizes), "--settings", '{"shift_bed": [1, -1]}'])
    assert rc == 0
    assert_counts(out, fragment_cuts(FRAGS, 1, -1))
    record = json.loads((tmp_path / "signal" / "s.bw.provenance.json").read_text())
    assert record["step"] == "ingest-cutsites" and record["shift"] == [1, -1]
    assert record["records"]["cut_sites"] == 12 and record["format"] == "bed"
    rc = main(["cutsites", "--input", str(src), "--format", "bed", "--output", str(out),
               "--chrom-sizes", str(sizes), "--shift", "2", "0"])
    assert rc == 0 and json.loads(
        (tmp_path / "signal" / "s.bw.provenance.json").read_text())["shift"] == [2, 0]


def test_a_genome_provenance_without_its_sequences_names_the_fix(tmp_path: Path) -> None:
    from seq2func.download.cutsites import genome_sequences

    old = tmp_path / "genome.fa.provenance.json"
    old.write_text(json.dumps({"step": "ingest-fasta"}))
    with pytest.raises(InputError, match="no source_sequences") as err:
        genome_sequences(old)
    assert "--forcerun ingest_genome" in str(err.value)
    old.write_text("{truncated")
    with pytest.raises(InputError, match="cannot be read as the genome's provenance"):
        genome_sequences(old)
