"""Genome access: FASTA, bgzip FASTA and 2bit give the same codes; windows; name harmonisation."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from Bio import bgzf

from preprocess_inputs import write_2bit, write_fasta
from seq2func.core.chroms import match_names, require_overlap, resolve_names
from seq2func.core.errors import InputError
from seq2func.core.sequence import (
    Genome,
    decode,
    encode,
    extract_windows,
    genome_format,
    window_composition,
)

SEQS = {"chr1": "ACGTacgtNNNNacgtACGT" * 50 + "ACG", "chr2": "TTTTGGGGCCCCAAAA" * 20,
        "chrM": "ACGTN" * 7}


@pytest.fixture(scope="module")
def genome_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("genome")
    fa = d / "g.fa"
    write_fasta(fa, SEQS, width=7)
    bgz = d / "g.fa.gz"
    with bgzf.BgzfWriter(str(bgz), "wb") as fh:
        fh.write(fa.read_bytes())
    tb = d / "g.2bit"
    write_2bit(tb, SEQS)
    return {"fasta": fa, "bgzf-fasta": bgz, "2bit": tb}


@pytest.mark.parametrize("fmt", ["fasta", "bgzf-fasta", "2bit"])
def test_every_format_gives_the_same_codes(genome_files: dict[str, Path], fmt: str) -> None:
    with Genome(genome_files[fmt]) as g:
        assert g.format == fmt
        assert g.sizes == {k: len(v) for k, v in SEQS.items()}
        for name, seq in SEQS.items():
            assert np.array_equal(g.codes(name), encode(seq))
            # case (soft-masking) is kept in the ASCII view
            assert g.ascii(name).tobytes().decode() == seq


def test_lowercase_encodes_like_uppercase() -> None:
    assert np.array_equal(encode("acgtn"), encode("ACGTN"))
    assert decode(encode("acgtRYn")) == "ACGTNNN"


def test_windows_are_padded_with_n_and_reverse_complemented(genome_files) -> None:
    g = Genome(genome_files["fasta"])
    seq = SEQS["chr2"]
    assert decode(g.fetch("chr2", -3, 5)) == "NNN" + seq[:5].upper()
    assert decode(g.fetch("chr2", len(seq) - 2, len(seq) + 2)) == seq[-2:] + "NN"
    w = g.windows(["chr2", "chr1", "chr2"], [0, 4, 10], 6, ["+", "+", "-"])
    comp = str.maketrans("ACGT", "TGCA")
    assert decode(w[0]) == seq[:6]
    assert decode(w[1]) == SEQS["chr1"][4:10].upper()
    assert decode(w[2]) == seq[10:16].translate(comp)[::-1]


def test_window_composition_matches_direct_counts() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, 10_000).astype(np.uint8)
    starts = rng.integers(0, 10_000 - 300, 500)
    gc, nn = window_composition(codes, starts, 300, chunk=1024)
    win = extract_windows(codes, starts, 300)
    assert np.array_equal(gc, ((win == 1) | (win == 2)).sum(1))
    assert np.array_equal(nn, (win == 4).sum(1))


def test_plain_gzip_is_rejected_with_a_fix(tmp_path: Path) -> None:
    p = tmp_path / "g.fa.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(">chr1\nACGT\n")
    with pytest.raises(InputError, match="bgzip"):
        genome_format(p)


def test_fasta_with_ragged_lines_fails_clearly(tmp_path: Path) -> None:
    p = tmp_path / "bad.fa"
    p.write_text(">chr1\nACGTACGT\nACG\nACGTACGT\n")
    with pytest.raises(InputError, match="same"):
        Genome(p)


def test_read_only_directory_keeps_the_index_in_a_cache(tmp_path: Path, monkeypatch) -> None:
    d = tmp_path / "ro"
    d.mkdir()
    write_fasta(d / "g.fa", SEQS)
    # (tests may run as root, who can write anywhere: pretend the directory is read-only)
    monkeypatch.setattr("seq2func.core.sequence.os.access", lambda *a, **k: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    g = Genome(d / "g.fa")
    assert np.array_equal(g.codes("chr2"), encode(SEQS["chr2"]))
    assert not (d / "g.fa.fai").exists()
    assert list((tmp_path / "cache" / "seq2func").glob("g.fa.*.fai"))


def test_name_harmonisation() -> None:
    genome = ["chr1", "chr2", "chrX", "chrM"]
    m = match_names(["1", "2", "X", "MT", "GL000220.1"], genome)
    assert m.mapping == {"1": "chr1", "2": "chr2", "X": "chrX", "MT": "chrM"}
    assert m.unmatched == ["GL000220.1"]
    m = match_names(["chr1", "chrM"], ["1", "MT"])
    assert m.mapping == {"chr1": "1", "chrM": "MT"}
    # a name present as is wins over a transformed one
    m = match_names(["chr1", "1"], ["chr1"])
    assert m.mapping == {"chr1": "chr1"} and m.unmatched == ["1"]
    assert resolve_names(["5"], ["chr5", "chr6"], "config", "split.test") == ["chr5"]


def test_name_matching_uses_the_ingestion_key() -> None:
    """One rule for preprocessing and ingestion (naming.chrom_key): accessions, scaffolds,
    Roman-numeral yeast chromosomes and Mito spellings map too; ambiguous keys do not."""
    from seq2func.core.chroms import AS_IS, RENAMED

    m = match_names(["NC_000001.11", "chrUn_KI270302v1", "chrMT"], ["1", "KI270302.1", "MT"])
    assert m.mapping == {"NC_000001.11": "1", "chrUn_KI270302v1": "KI270302.1", "chrMT": "MT"}
    assert m.transform == RENAMED
    m = match_names(["chrI", "chrXVI", "chrmt"], ["I", "XVI", "Mito"])
    assert m.mapping == {"chrI": "I", "chrXVI": "XVI", "chrmt": "Mito"}
    assert match_names(["chr1", "chr2"], ["chr1", "chr2", "chr3"]).transform == AS_IS
    # a genome spelling one chromosome twice: the key is ambiguous, only exact names map
    m = match_names(["1", "chrM"], ["chr1", "chrM", "MT"])
    assert m.mapping == {"1": "chr1", "chrM": "chrM"} and m.unmatched == []
    m = match_names(["M"], ["chrM", "MT"])
    assert m.mapping == {} and m.unmatched == ["M"]


def test_no_common_names_lists_both_sets() -> None:
    m = match_names(["scaffold_1", "scaffold_2"], ["chr1", "chr2"])
    with pytest.raises(InputError) as exc:
        require_overlap(m, ["chr1", "chr2"], "peaks.bed", "peak file")
    msg = str(exc.value)
    assert "scaffold_1" in msg and "chr1" in msg and "peaks.bed" in msg


# ------------------------------------------- preprocess.exclude_chromosomes: scaffolds, precisely

@pytest.mark.parametrize(("name", "excluded"), [
    ("chr1", False), ("chrX", False), ("chrI", False), ("chrXII", False), ("2L", False),
    # contigs named by their window (the human bundle), a '_' in the name: kept
    ("chr1_108224366_108355438", False), ("chr17_7661779_7687538", False),
    # UCSC hg38/hg19/mm10 scaffolds, GENCODE/Ensembl/NCBI accessions, organelles, EBV, HLA
    ("chr1_KI270706v1_random", True), ("chrUn_GL000195v1", True),
    ("chr1_KI270762v1_alt", True), ("chrX_KV766199v1_fix", True),
    ("chrUn_JTFH01000001v1_decoy", True), ("chr6_apd_hap1", True),
    ("chr1_gl000191_random", True), ("GL000192.1", True), ("KI270728.1", True),
    ("JH584299.1", True), ("chrM", True), ("MT", True), ("chrEBV", True),
    ("HLA-A*01:01:01:01", True),
])
def test_the_default_exclusion_drops_scaffolds_by_their_exact_naming(name: str,
                                                                     excluded: bool) -> None:
    import yaml

    from conftest import REPO
    from seq2func.core.chroms import exclusion_regex

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    default = schema["properties"]["preprocess"]["properties"]["exclude_chromosomes"]["default"]
    assert bool(exclusion_regex(default).search(name)) is excluded


def test_distinct_rows_index_back_to_every_row() -> None:
    import numpy as np

    from seq2func.core.sequence import distinct_rows

    rng = np.random.default_rng(0)
    base = rng.integers(0, 5, (4, 30)).astype(np.uint8)
    rows = base[[2, 0, 2, 3, 0, 1, 3]]
    distinct, inverse = distinct_rows(rows)
    np.testing.assert_array_equal(distinct[inverse], rows)
    np.testing.assert_array_equal(distinct, base[[2, 0, 3, 1]])  # order of first appearance
    empty, idx = distinct_rows(np.zeros((0, 30), np.uint8))
    assert empty.shape == (0, 30) and idx.size == 0
