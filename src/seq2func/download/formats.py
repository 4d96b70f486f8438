"""What every ingester needs: compressed input, binary signatures, the canonical genome.

Shared by the ingesters of :mod:`seq2func.download.ingest` (one module per input kind).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Mapping
from typing import IO

from seq2func.core.io import read_chrom_sizes

PathLike = str | os.PathLike[str]

#: chr1 of hg19/GRCh37, to recognise the most common assembly mix-up in error messages
HG19_CHR1 = 249_250_621
BIGBED_MAGIC = 0x8789F2EB
BIGWIG_MAGIC = 0x888FFC26


def open_binary(path: PathLike) -> IO[bytes]:
    """Open a file for reading bytes, decompressing it if it is gzip (or bgzip)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def magic32(path: PathLike) -> int:
    """The first four bytes of a file as a little-endian integer (0 for a shorter file)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    return int.from_bytes(head, "little") if len(head) == 4 else 0


def assembly_hint(name: str, length: int, expected: int) -> str:
    """Explain a chromosome length that differs from the genome's (naming hg19 if it is)."""
    hint = f"{name} is {length:,} bp in this file but {expected:,} bp in the genome"
    if length == HG19_CHR1:
        hint += " (249,250,621 bp is chr1 of hg19/GRCh37)"
    return hint


def genome_sizes(chrom_sizes: PathLike | Mapping[str, int]) -> dict[str, int]:
    """The canonical genome: chromosome -> length, from a ``chrom.sizes`` path or a mapping."""
    if isinstance(chrom_sizes, Mapping):
        return dict(chrom_sizes)
    return read_chrom_sizes(chrom_sizes)
