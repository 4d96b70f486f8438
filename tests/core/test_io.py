"""Atomic writing, FASTA with index, chrom.sizes parsing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyfaidx
import pytest

from seq2func.core.errors import InputError
from seq2func.core.io import (
    FastaWriter,
    atomic_output,
    file_checksum,
    open_text,
    read_chrom_sizes,
    write_chrom_sizes,
)


def test_atomic_output_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_replaces_on_success(tmp_path: Path) -> None:
    import os
    import stat

    target = tmp_path / "sub" / "out.txt"
    with atomic_output(target) as tmp:
        assert tmp.suffix == ".txt" and tmp.parent == target.parent
        tmp.write_text("done")
    assert target.read_text() == "done"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]
    umask = os.umask(0)
    os.umask(umask)
    # readable by the group/others as allowed by the umask (shared cluster directories)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_fasta_writer_index_matches_pyfaidx(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    seqs = {
        "chr1": np.frombuffer(b"ACGTacgtNN" * 37 + b"A", dtype=np.uint8),
        "chr2": np.frombuffer(bytes(rng.choice(list(b"ACGTN"), size=120)), dtype=np.uint8),
        "chrEmptyLine": np.frombuffer(b"A" * 60, dtype=np.uint8),
    }
    path = tmp_path / "g.fa"
    with FastaWriter(path) as fw:
        for name, s in seqs.items():
            fw.write(name, s)
    ours = (tmp_path / "g.fa.fai").read_text()
    (tmp_path / "g.fa.fai").unlink()
    fa = pyfaidx.Fasta(str(path), sequence_always_upper=False)
    for name, s in seqs.items():
        assert str(fa[name][:]) == s.tobytes().decode()
    assert (tmp_path / "g.fa.fai").read_text() == ours


def test_fasta_writer_discards_on_error(tmp_path: Path) -> None:
    path = tmp_path / "g.fa"
    with pytest.raises(ValueError):
        with FastaWriter(path) as fw:
            fw.write("chr1", np.frombuffer(b"ACGT", dtype=np.uint8))
            raise ValueError("stop")
    assert list(tmp_path.iterdir()) == []


def test_chrom_sizes_roundtrip_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "c.sizes"
    write_chrom_sizes(p, {"chr1": 10, "chrX": 5})
    assert read_chrom_sizes(p) == {"chr1": 10, "chrX": 5}
    p.write_text("chr1\t10\nchr2\tten\n")
    with pytest.raises(InputError, match="line 2"):
        read_chrom_sizes(p)
    p.write_text("chr1\t10\nchr1\t11\n")
    with pytest.raises(InputError, match="listed twice"):
        read_chrom_sizes(p)


def test_open_text_reads_gzip(tmp_path: Path) -> None:
    import gzip

    p = tmp_path / "x.txt.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("hello\n")
    with open_text(p) as fh:
        assert fh.read() == "hello\n"
    assert len(file_checksum(p)) == 32
