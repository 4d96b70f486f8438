"""Ingest a bigWig signal track: renamed chromosomes, the others dropped, values exact.

Each chromosome is copied in fixed-size chunks, so memory does not grow with its length. NaN
values mean "no data" (:mod:`seq2func.core.bigwig`): intervals storing NaN are not copied, so
the output reads NaN there as before, and its header summary is finite. An infinite value stops
the ingestion, naming its position.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from seq2func.core.bigwig import check_bigwig_file
from seq2func.core.errors import InputError
from seq2func.core.io import atomic_output
from seq2func.core.naming import ChromRenamer
from seq2func.download.formats import BIGWIG_MAGIC, PathLike, assembly_hint, genome_sizes, magic32

log = logging.getLogger(__name__)


def value_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encode a float array: (starts, ends, values) of the runs that are not NaN."""
    n = values.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=values.dtype)
    nan = np.isnan(values)
    same = (values[1:] == values[:-1]) | (nan[1:] & nan[:-1])
    bounds = np.flatnonzero(~same) + 1
    starts = np.concatenate(([0], bounds)).astype(np.int64)
    ends = np.concatenate((bounds, [n])).astype(np.int64)
    keep = ~nan[starts]
    return starts[keep], ends[keep], values[starts[keep]]


def ingest_bigwig(src: PathLike, out: PathLike, chrom_sizes: PathLike | Mapping[str, int],
                  chunk: int = 1 << 24) -> dict[str, int]:
    """Rewrite a bigWig with the configured chromosome names, dropping the others.

    Values are copied exactly (uncovered bases stay uncovered, i.e. NaN on reading); each
    chromosome is read in ``chunk``-base pieces, so memory does not grow with its length.

    Parameters
    ----------
    src
        Input bigWig (any chromosome naming).
    out
        Output bigWig.
    chrom_sizes
        The canonical genome (``chrom.sizes`` path or mapping); also the output header.
    chunk
        Bases read at a time.

    Returns
    -------
    dict
        Output chromosome -> number of intervals written.

    Raises
    ------
    InputError
        For a file that is not a bigWig, a truncated or corrupt one, chromosomes of another
        assembly, or an infinite value.
    """
    import pyBigWig

    sizes = genome_sizes(chrom_sizes)
    if magic32(src) != BIGWIG_MAGIC:
        raise InputError(src, "not a bigWig file", fix="give the signal track as bigWig")
    check_bigwig_file(src)
    try:
        bw = pyBigWig.open(str(src))
    except RuntimeError:
        bw = None
    if bw is None:
        raise InputError(src, "pyBigWig cannot open this bigWig (truncated or corrupt)",
                         fix="re-download or regenerate the bigWig (compare its md5)")
    try:
        source_of = _source_chromosomes(bw, sizes, src)
        counts: dict[str, int] = {}
        with atomic_output(out) as tmp:
            ob = pyBigWig.open(str(tmp), "w")
            try:
                ob.addHeader(list(sizes.items()), maxZooms=10)
                for target, length in sizes.items():
                    s = source_of.get(target)
                    counts[target] = 0 if s is None else _copy_chromosome(
                        bw, ob, (s, target), length, chunk, src)
            finally:
                ob.close()
    finally:
        bw.close()
    return counts


def _source_chromosomes(bw: Any, sizes: Mapping[str, int], src: PathLike) -> dict[str, str]:
    """Canonical chromosome -> its name in the bigWig ``bw``, lengths checked.

    Raises
    ------
    InputError
        When no chromosome matches, or one has another length than in the genome.
    """
    src_chroms: dict[str, int] = dict(bw.chroms())
    mapping = ChromRenamer(list(sizes)).mapping(src_chroms, src)
    for s, t in mapping.items():
        if src_chroms[s] != sizes[t]:
            raise InputError(src, "assembly mismatch: " + assembly_hint(s, src_chroms[s],
                                                                          sizes[t]),
                             fix="use the file of the same genome assembly as the FASTA")
    inverse = {t: s for s, t in mapping.items()}
    absent = [c for c in sizes if c not in inverse]
    if absent:
        log.warning("%s has no signal on %s", src, ", ".join(absent))
    return inverse


def _copy_chromosome(bw: Any, ob: Any, names: tuple[str, str], length: int, chunk: int,
                     src: PathLike) -> int:
    """Copy chromosome ``names[0]`` of ``bw`` as ``names[1]`` of ``ob``; the intervals written.

    Raises
    ------
    InputError
        For data that cannot be read (a corrupt file) or an infinite value.
    """
    source, target = names
    n = 0
    for a in range(0, length, chunk):
        b = min(length, a + chunk)
        try:
            vals = np.asarray(bw.values(source, a, b, numpy=True), dtype=np.float32)
        except RuntimeError as exc:
            raise InputError(src, f"cannot read {source}:{a + 1}-{b} (truncated or corrupt "
                                  "bigWig)",
                             fix="re-download or regenerate the bigWig (compare its md5)"
                             ) from exc
        inf = np.flatnonzero(np.isinf(vals))
        if inf.size:
            raise InputError(src, f"infinite value at {source}:{a + int(inf[0]) + 1}",
                             fix="regenerate the bigWig without infinities (e.g. add a "
                                 "pseudocount before taking ratios or logs)")
        starts, ends, v = value_runs(vals)
        if starts.size:
            ob.addEntries([target] * int(starts.size), starts + a, ends=ends + a,
                          values=v.astype(np.float64))
            n += int(starts.size)
    log.info("%s -> %s: %d intervals", source, target, n)
    return n
