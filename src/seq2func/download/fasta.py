"""Ingest a genome FASTA: the configured chromosomes, renamed, as plain FASTA + ``.fai``.

The input is streamed in blocks; only the chromosome being copied is held in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np

from seq2func.core.errors import InputError
from seq2func.core.io import FastaWriter, write_chrom_sizes
from seq2func.core.naming import ChromRenamer, naming_style
from seq2func.download.formats import PathLike, open_binary

log = logging.getLogger(__name__)


def fasta_records(path: PathLike, block: int = 1 << 24) -> Iterator[tuple[str, bytes | None]]:
    """Stream a FASTA file (plain or gzip).

    Yields ``(name, None)`` at each header, then ``("", chunk)`` sequence chunks (newlines and
    blanks removed) until the next header; ``block`` bytes are read at a time.

    Raises
    ------
    InputError
        For a header without a name or sequence before the first header.
    """
    with open_binary(path) as fh:
        tail = b""
        started = False
        lineno = 0
        while True:
            data = fh.read(block)
            if not data:
                if tail.strip():
                    data, tail = tail + b"\n", b""
                else:
                    break
            else:
                data = tail + data
                cut = data.rfind(b"\n")
                if cut < 0:
                    tail = data
                    continue
                data, tail = data[: cut + 1], data[cut + 1 :]
            for name, chunk in _block_records(data, path, lineno):
                if chunk is not None and not started:
                    raise InputError(path, "sequence before the first '>' header", 1,
                                     "is this a FASTA file?")
                started = True
                yield name, chunk
            lineno += data.count(b"\n")


def _block_records(data: bytes, path: PathLike, lineno: int
                   ) -> Iterator[tuple[str, bytes | None]]:
    """The records of ``data``, whole lines starting at line ``lineno + 1`` of the file."""
    pos = 0
    while pos < len(data):
        if data[pos : pos + 1] == b">":
            eol = data.index(b"\n", pos)
            header = data[pos + 1 : eol].decode("utf-8", "replace").strip()
            name = header.split()[0] if header.split() else ""
            if not name:
                raise InputError(path, "FASTA header without a name",
                                 lineno + data.count(b"\n", 0, pos) + 1,
                                 "every '>' header starts with the sequence's name")
            yield name, None
            pos = eol + 1
            continue
        nxt = data.find(b"\n>", pos)
        end = len(data) if nxt < 0 else nxt + 1
        chunk = data[pos:end]
        if chunk.strip():
            yield "", chunk.translate(None, b"\r\n \t")
        pos = end


def ingest_fasta(src: PathLike, out_fasta: PathLike, chromosomes: Sequence[str],
                 sizes_out: PathLike | None = None,
                 source_names: list[str] | None = None) -> dict[str, int]:
    """Write the configured chromosomes of a (gzipped) FASTA as plain FASTA + ``.fai``.

    Sequences keep their case (soft-masking) and ``N``; chromosomes are written in the order of
    the input.

    Parameters
    ----------
    src
        FASTA, plain or gzip/bgzip-compressed, any chromosome naming.
    out_fasta
        Output FASTA; its index is ``out_fasta + ".fai"``.
    chromosomes
        Configured chromosome names (also the output names).
    sizes_out
        Optional ``chrom.sizes`` to write.
    source_names
        If given, extended with the name of every sequence of ``src`` (kept or not), in
        order: what reads of this genome may name (:mod:`seq2func.download.cutsites`).

    Returns
    -------
    dict
        Output name -> length, in output order.

    Raises
    ------
    InputError
        When a configured chromosome is missing or appears twice (in two spellings).
    """
    renamer = ChromRenamer(chromosomes)
    sizes: dict[str, int] = {}
    seen_src: list[str] = []
    with FastaWriter(out_fasta) as writer:
        current: str | None = None
        buf = bytearray()
        for name, chunk in fasta_records(src):
            if chunk is not None:
                if current is not None:
                    buf.extend(chunk)
                continue
            _write_record(writer, current, buf, sizes)
            buf = bytearray()
            seen_src.append(name)
            current = renamer(name)
            if current is not None and current in sizes:
                raise InputError(src, f"chromosome {current!r} appears twice (as {name!r})",
                                 fix="use a FASTA with one record per chromosome")
        _write_record(writer, current, buf, sizes)
        missing = renamer.missing(seen_src)
        if missing:
            raise InputError(
                src, f"configured chromosome(s) {', '.join(missing)} not in the FASTA "
                f"({len(seen_src)} sequences, {naming_style(seen_src)} naming, e.g. "
                f"{', '.join(seen_src[:5])})",
                fix="remove them from download.chromosomes or use a FASTA of the whole genome")
    if sizes_out is not None:
        write_chrom_sizes(sizes_out, sizes)
    if source_names is not None:
        source_names.extend(seen_src)
    return sizes


def _write_record(writer: FastaWriter, name: str | None, seq: bytearray,
                  sizes: dict[str, int]) -> None:
    """Write one kept chromosome (``name`` None: the record is dropped) and note its length."""
    if name is None:
        return
    arr = np.frombuffer(seq, dtype=np.uint8)
    writer.write(name, arr)
    sizes[name] = int(arr.size)
    log.info("wrote %s (%d bp)", name, arr.size)
