"""Chromosome names: UCSC vs Ensembl vs NCBI spellings map to the configured names."""

from __future__ import annotations

import pytest

from seq2func.core.errors import InputError
from seq2func.core.naming import ChromRenamer, chrom_key, naming_style, to_ensembl, to_ucsc


@pytest.mark.parametrize(("name", "key"), [
    ("chr1", "1"), ("1", "1"), ("CHR1", "1"), ("chr01", "1"), ("chrX", "X"), ("x", "X"),
    ("chrM", "MT"), ("chrMT", "MT"), ("MT", "MT"), ("M", "MT"), ("Mito", "MT"),
    ("chrIV", "IV"), ("IV", "IV"),
    ("NC_000001.11", "1"), ("NC_000023.11", "X"), ("NC_012920.1", "MT"),
    ("CM000663.2", "1"), ("CM000684.2", "22"), ("CM000685.2", "X"), ("J01415.2", "MT"),
    ("chrUn_KI270302v1", "KI270302.1"), ("chr1_KI270706v1_random", "KI270706.1"),
    ("KI270706.1", "KI270706.1"), ("chrEBV", "EBV"), ("2L", "2L"),
])
def test_chrom_key(name: str, key: str) -> None:
    assert chrom_key(name) == key


def test_spelling_conversions() -> None:
    assert [to_ucsc(n) for n in ("1", "MT", "X", "chr2", "KI270706.1")] == \
        ["chr1", "chrM", "chrX", "chr2", "KI270706.1"]
    assert [to_ensembl(n) for n in ("chr1", "chrM", "chrX", "GL000009.2")] == \
        ["1", "MT", "X", "GL000009.2"]
    assert naming_style(["chr1", "chr2", "chrM"]) == "ucsc"
    assert naming_style(["1", "2", "MT", "KI270706.1"]) == "ensembl"
    assert naming_style(["chr1", "2"]) == "mixed"
    assert naming_style(["2L", "3R"]) == "other"


def test_renamer_keeps_configured_names_and_drops_the_rest() -> None:
    r = ChromRenamer(["chr1", "chr2", "chrX", "chrM"])
    assert r("1") == "chr1" and r("MT") == "chrM" and r("chrX") == "chrX"
    assert r("3") is None and r("KI270706.1") is None
    names = ["1", "2", "3", "X", "Y", "MT", "KI270706.1"]
    assert r.mapping(names, "f.bed") == {"1": "chr1", "2": "chr2", "X": "chrX", "MT": "chrM"}
    assert r.missing(["1", "X"]) == ["chr2", "chrM"]
    # Ensembl-style configured names work the same way
    assert ChromRenamer(["1", "MT"])("chrM") == "MT"


def test_renamer_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match="same sequence"):
        ChromRenamer(["chr1", "1"])
    with pytest.raises(InputError, match=r"'chr1' and '1' are both 'chr1'"):
        ChromRenamer(["chr1"]).mapping(["chr1", "1"], "mixed.bed")


def test_no_overlap_names_both_sides() -> None:
    with pytest.raises(InputError) as err:
        ChromRenamer(["chr1", "chr2"]).mapping(["2L", "2R", "3L"], "fly.bed")
    msg = str(err.value)
    assert "fly.bed" in msg and "chr1, chr2" in msg and "2L, 2R, 3L" in msg and "fix:" in msg
