"""Turn downloaded public files into the workflow's canonical inputs.

Every function reads one downloaded file (plain or gzip/bgzip), renames its chromosomes to the
configured names (:mod:`seq2func.core.naming`), drops the chromosomes that are not configured, checks
coordinates against the genome (a chromosome of another length means another assembly), and
writes the canonical file atomically:

================  ===================================  =========================================
function          input                                canonical output
================  ===================================  =========================================
ingest_fasta      FASTA(.gz)                           genome.fa + .fai, chrom.sizes
ingest_bigwig     bigWig                               signal/<sample>.bw
ingest_peaks      narrowPeak/BED(.gz)                  peaks/<sample>.narrowPeak
ingest_bed        BED(.gz) (blacklist)                 genome/blacklist.bed (BED4)
ingest_gtf        GTF(.gz)                             genome/genes.gtf
ingest_vcf        VCF(.gz)                             variants/variants.vcf
build_expression  RSEM gene quantifications or TSV     expression/expression.tsv (TPM, wide)
================  ===================================  =========================================

Memory stays bounded: the FASTA is streamed in blocks and holds one chromosome at a time; the
bigWig is rewritten one chromosome at a time in fixed-size chunks.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.intervals import data_lines
from seq2func.core.io import (
    NARROWPEAK_COLUMNS,
    FastaWriter,
    atomic_output,
    open_text,
    read_chrom_sizes,
    write_bed,
    write_chrom_sizes,
    write_narrowpeak,
    write_tsv_atomic,
)
from seq2func.core.naming import ChromRenamer, naming_style

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: chr1 of hg19/GRCh37, to recognise the most common assembly mix-up in error messages
HG19_CHR1 = 249_250_621
_BIGBED_MAGIC = 0x8789F2EB
_BIGWIG_MAGIC = 0x888FFC26


def _open_binary(path: PathLike) -> IO[bytes]:
    import gzip

    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _magic32(path: PathLike) -> int:
    with open(path, "rb") as fh:
        head = fh.read(4)
    return int.from_bytes(head, "little") if len(head) == 4 else 0


def _assembly_hint(name: str, length: int, expected: int) -> str:
    hint = f"{name} is {length:,} bp in this file but {expected:,} bp in the genome"
    if length == HG19_CHR1:
        hint += " (249,250,621 bp is chr1 of hg19/GRCh37)"
    return hint


# ----------------------------------------------------------------------------- FASTA


def _fasta_records(path: PathLike, block: int = 1 << 24) -> Iterator[tuple[str, bytes | None]]:
    """Stream a FASTA file: yields ``(name, None)`` at each header, then ``("", chunk)``
    sequence chunks (newlines removed) until the next header."""
    with _open_binary(path) as fh:
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
            pos = 0
            while pos < len(data):
                if data[pos : pos + 1] == b">":
                    eol = data.index(b"\n", pos)
                    header = data[pos + 1 : eol].decode("utf-8", "replace").strip()
                    name = header.split()[0] if header.split() else ""
                    if not name:
                        raise InputError(path, "FASTA header without a name",
                                         lineno + data.count(b"\n", 0, pos) + 1)
                    started = True
                    yield name, None
                    pos = eol + 1
                    continue
                nxt = data.find(b"\n>", pos)
                end = len(data) if nxt < 0 else nxt + 1
                chunk = data[pos:end]
                if chunk.strip():
                    if not started:
                        raise InputError(path, "sequence before the first '>' header", 1,
                                         "is this a FASTA file?")
                    yield "", chunk.translate(None, b"\r\n \t")
                pos = end
            lineno += data.count(b"\n")


def ingest_fasta(src: PathLike, out_fasta: PathLike, chromosomes: Sequence[str],
                 sizes_out: PathLike | None = None) -> dict[str, int]:
    """Write the configured chromosomes of a (gzipped) FASTA as plain FASTA + ``.fai``.

    The input is streamed; only the chromosome being copied is held in memory. Sequences keep
    their case (soft-masking) and ``N``; chromosomes are written in the order of the input.

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

    Returns
    -------
    dict
        Output name -> length, in output order.
    """
    renamer = ChromRenamer(chromosomes)
    sizes: dict[str, int] = {}
    seen_src: list[str] = []
    with FastaWriter(out_fasta) as writer:
        current: str | None = None
        buf = bytearray()

        def flush() -> None:
            if current is not None:
                arr = np.frombuffer(buf, dtype=np.uint8)
                writer.write(current, arr)
                sizes[current] = int(arr.size)
                log.info("wrote %s (%d bp)", current, arr.size)

        for name, chunk in _fasta_records(src):
            if chunk is None:
                flush()
                buf = bytearray()
                seen_src.append(name)
                target = renamer(name)
                if target is not None and target in sizes:
                    raise InputError(src, f"chromosome {target!r} appears twice (as {name!r})",
                                     fix="use a FASTA with one record per chromosome")
                current = target
            elif current is not None:
                buf.extend(chunk)
        flush()
        missing = renamer.missing(seen_src)
        if missing:
            raise InputError(
                src, f"configured chromosome(s) {', '.join(missing)} not in the FASTA "
                f"({len(seen_src)} sequences, {naming_style(seen_src)} naming, e.g. "
                f"{', '.join(seen_src[:5])})",
                fix="remove them from download.chromosomes or use a FASTA of the whole genome")
    if sizes_out is not None:
        write_chrom_sizes(sizes_out, sizes)
    return sizes


# ----------------------------------------------------------------------------- bigWig


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encode a float array: (starts, ends, values) of runs that are not NaN."""
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
    """
    import pyBigWig

    sizes = read_chrom_sizes(chrom_sizes) if not isinstance(chrom_sizes, Mapping) \
        else dict(chrom_sizes)
    if _magic32(src) != _BIGWIG_MAGIC:
        raise InputError(src, "not a bigWig file", fix="give the signal track as bigWig")
    bw = pyBigWig.open(str(src))
    if bw is None:
        raise InputError(src, "pyBigWig cannot open this bigWig")
    try:
        src_chroms: dict[str, int] = dict(bw.chroms())
        mapping = ChromRenamer(list(sizes)).mapping(src_chroms, src)
        inverse = {t: s for s, t in mapping.items()}
        for s, t in mapping.items():
            if src_chroms[s] != sizes[t]:
                raise InputError(src, "assembly mismatch: " + _assembly_hint(s, src_chroms[s],
                                                                               sizes[t]),
                                 fix="use the file of the same genome assembly as the FASTA")
        absent = [c for c in sizes if c not in inverse]
        if absent:
            log.warning("%s has no signal on %s", src, ", ".join(absent))
        counts: dict[str, int] = {}
        with atomic_output(out) as tmp:
            ob = pyBigWig.open(str(tmp), "w")
            try:
                ob.addHeader(list(sizes.items()), maxZooms=10)
                for target, length in sizes.items():
                    s = inverse.get(target)
                    counts[target] = 0
                    if s is None:
                        continue
                    for a in range(0, length, chunk):
                        b = min(length, a + chunk)
                        vals = bw.values(s, a, b, numpy=True)
                        starts, ends, v = _runs(np.asarray(vals, dtype=np.float32))
                        if starts.size:
                            ob.addEntries([target] * int(starts.size), starts + a,
                                          ends=ends + a, values=v.astype(np.float64))
                            counts[target] += int(starts.size)
                    log.info("%s -> %s: %d intervals", s, target, counts[target])
            finally:
                ob.close()
    finally:
        bw.close()
    return counts


# ----------------------------------------------------------------------------- BED / peaks


def read_bed_like(path: PathLike) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a BED/narrowPeak file (plain or gzip) as strings + original line numbers."""
    if _magic32(path) == _BIGBED_MAGIC:
        raise InputError(path, "bigBed files are not supported",
                         fix="use the BED (bed.gz / narrowPeak) version of the file; ENCODE "
                             "offers both for every peak set")
    lines, numbers = data_lines(path)
    if not lines:
        return pd.DataFrame(), np.zeros(0, dtype=np.int64)
    df = pd.read_csv(io.StringIO("\n".join(lines)), sep="\t", header=None, dtype=str,
                     keep_default_na=False)
    return df, np.asarray(numbers)


def _coords(df: pd.DataFrame, lines: np.ndarray, path: PathLike,
            sizes: Mapping[str, int], renamer: ChromRenamer) -> pd.DataFrame:
    """Rename/filter chromosomes and validate start/end of a BED-like table."""
    if df.shape[1] < 3:
        raise InputError(path, f"expected at least 3 tab-separated columns, got {df.shape[1]}",
                         int(lines[0]) if lines.size else None, "give a BED file")
    mapping = renamer.mapping(df[0].unique(), path)
    keep = df[0].isin(list(mapping)).to_numpy()
    df = df.loc[keep].copy()
    lines = lines[keep]
    df[0] = df[0].map(mapping)
    for col in (1, 2):
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() | (num != num.round())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(path, f"column {col + 1} is not an integer: {df[col].iloc[i]!r}",
                             int(lines[i]))
        df[col] = num.astype(np.int64)
    size = df[0].map(sizes).to_numpy()
    bad = (df[1].to_numpy() < 0) | (df[2].to_numpy() <= df[1].to_numpy()) | \
        (df[2].to_numpy() > size)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = df.iloc[i]
        problem = f"bad interval {row[0]}:{row[1]}-{row[2]}"
        if row[2] > size[i]:
            problem += f" (beyond the end of {row[0]}, {size[i]:,} bp: another assembly?)"
        raise InputError(path, problem, int(lines[i]),
                         "use a file of the same genome assembly as the FASTA")
    order = {c: i for i, c in enumerate(sizes)}
    df["_order"] = df[0].map(order)
    df = df.sort_values(["_order", 1, 2], kind="stable").drop(columns="_order")
    return df.reset_index(drop=True)


def ingest_peaks(src: PathLike, out: PathLike,
                 chrom_sizes: PathLike | Mapping[str, int]) -> int:
    """Write peaks (narrowPeak or BED3-9, plain or gzip) as a sorted narrowPeak file.

    Missing narrowPeak columns are filled with the format's "unknown" values (name ``.``,
    score 0, strand ``.``, signal/p/q ``-1``, summit ``-1``).

    Returns
    -------
    int
        Number of peaks written.
    """
    sizes = read_chrom_sizes(chrom_sizes) if not isinstance(chrom_sizes, Mapping) \
        else dict(chrom_sizes)
    df, lines = read_bed_like(src)
    if df.empty:
        raise InputError(src, "no peaks in the file", fix="check the download")
    df = _coords(df, lines, src, sizes, ChromRenamer(list(sizes)))
    defaults: list[object] = [".", 0, ".", -1.0, -1.0, -1.0, -1]
    out_df = pd.DataFrame({"chrom": df[0], "start": df[1], "end": df[2]})
    for j, name in enumerate(NARROWPEAK_COLUMNS[3:]):
        col = j + 3
        if col < df.shape[1]:
            values = df[col]
            if name in ("score", "peak"):
                values = pd.to_numeric(values, errors="coerce").fillna(defaults[j])
                values = values.round().astype(np.int64)
            elif name in ("signalValue", "pValue", "qValue"):
                values = pd.to_numeric(values, errors="coerce").fillna(-1.0)
            out_df[name] = values.to_numpy()
        else:
            out_df[name] = defaults[j]
    write_narrowpeak(out, out_df)
    return len(out_df)


def ingest_bed(src: PathLike, out: PathLike, chrom_sizes: PathLike | Mapping[str, int]) -> int:
    """Write a BED file (e.g. a blacklist) as sorted BED4 (name ``.`` when absent)."""
    sizes = read_chrom_sizes(chrom_sizes) if not isinstance(chrom_sizes, Mapping) \
        else dict(chrom_sizes)
    df, lines = read_bed_like(src)
    if df.empty:
        write_bed(out, pd.DataFrame(columns=[0, 1, 2, 3]))
        return 0
    df = _coords(df, lines, src, sizes, ChromRenamer(list(sizes)))
    names = df[3] if df.shape[1] > 3 else pd.Series(["."] * len(df))
    bed = pd.DataFrame({0: df[0], 1: df[1], 2: df[2], 3: names.replace("", ".").to_numpy()})
    write_bed(out, bed)
    return len(bed)


# ----------------------------------------------------------------------------- GTF / VCF


def ingest_gtf(src: PathLike, out: PathLike, chrom_sizes: PathLike | Mapping[str, int]) -> int:
    """Copy a GTF with renamed chromosomes, dropping other sequences (streamed).

    Returns
    -------
    int
        Number of feature lines written.
    """
    sizes = read_chrom_sizes(chrom_sizes) if not isinstance(chrom_sizes, Mapping) \
        else dict(chrom_sizes)
    renamer = ChromRenamer(list(sizes))
    cache: dict[str, str | None] = {}
    n = 0
    seen: set[str] = set()
    with open_text(src) as fh, atomic_output(out) as tmp, \
            open(tmp, "w", encoding="utf-8") as fo:
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("#"):
                fo.write(line)
                continue
            if not line.strip():
                continue
            tab = line.find("\t")
            if tab <= 0:
                raise InputError(src, "not a GTF line (no tab-separated columns)", lineno)
            chrom = line[:tab]
            seen.add(chrom)
            if chrom not in cache:
                cache[chrom] = renamer(chrom)
            target = cache[chrom]
            if target is None:
                continue
            fields = line.split("\t", 5)
            if len(fields) < 6:
                raise InputError(src, "a GTF line needs 9 tab-separated columns", lineno)
            try:
                end = int(fields[4])
            except ValueError as exc:
                raise InputError(src, f"end {fields[4]!r} is not an integer", lineno) from exc
            if end > sizes[target]:
                raise InputError(src, f"feature ends at {end:,}, beyond {target} "
                                 f"({sizes[target]:,} bp): another assembly?", lineno,
                                 "use the annotation of the same assembly as the FASTA")
            fo.write(target + line[tab:])
            n += 1
    if n == 0:
        ChromRenamer(list(sizes)).mapping(sorted(seen), src)  # raises with the names seen
    return n


def ingest_vcf(src: PathLike, out: PathLike, chrom_sizes: PathLike | Mapping[str, int]) -> int:
    """Copy a VCF with renamed chromosomes (``##contig`` lines too), dropping the others."""
    sizes = read_chrom_sizes(chrom_sizes) if not isinstance(chrom_sizes, Mapping) \
        else dict(chrom_sizes)
    renamer = ChromRenamer(list(sizes))
    contig = re.compile(r"^##contig=<ID=([^,>]+)(.*)$")
    n = 0
    with open_text(src) as fh, atomic_output(out) as tmp, \
            open(tmp, "w", encoding="utf-8") as fo:
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("##"):
                m = contig.match(line.rstrip("\n"))
                if m:
                    target = renamer(m.group(1))
                    if target is None:
                        continue
                    line = f"##contig=<ID={target}{m.group(2)}\n"
                fo.write(line)
                continue
            if line.startswith("#") or not line.strip():
                fo.write(line)
                continue
            tab = line.find("\t")
            target = renamer(line[:tab]) if tab > 0 else None
            if target is None:
                continue
            pos_end = line.find("\t", tab + 1)
            try:
                pos = int(line[tab + 1 : pos_end])
            except ValueError as exc:
                raise InputError(src, "POS is not an integer", lineno) from exc
            if not 1 <= pos <= sizes[target]:
                raise InputError(src, f"POS {pos:,} outside {target} ({sizes[target]:,} bp)",
                                 lineno, "use a VCF of the same assembly as the FASTA")
            fo.write(target + line[tab:])
            n += 1
    return n


# ----------------------------------------------------------------------------- expression


_GTF_ATTR = re.compile(r'(\w+) "([^"]*)"')


def _gene_key(gene_id: str) -> str:
    """Version-free gene ID (``ENSG00000182378.13_PAR_Y`` -> ``ENSG00000182378_PAR_Y``)."""
    base, _, rest = gene_id.partition(".")
    if rest and "_" in rest:
        return base + rest[rest.index("_"):]
    return base if rest.isdigit() or not rest else gene_id


def read_gtf_genes(path: PathLike) -> pd.DataFrame:
    """``gene_id``, ``gene_name`` of the ``gene`` records of a GTF, in file order."""
    rows = []
    with open_text(path) as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 9 or fields[2] != "gene":
                continue
            attrs = dict(_GTF_ATTR.findall(fields[8]))
            gid = attrs.get("gene_id")
            if gid:
                rows.append((gid, attrs.get("gene_name", gid)))
    if not rows:
        raise InputError(path, "no 'gene' records in the GTF",
                         fix="use a GENCODE/Ensembl GTF (it has one 'gene' line per gene)")
    return pd.DataFrame(rows, columns=["gene_id", "gene_name"]).drop_duplicates("gene_id")


def read_quantification(path: PathLike, column: str = "TPM") -> pd.Series:
    """Gene -> expression from an ENCODE RSEM gene quantification or a plain TSV.

    Accepted layouts: RSEM ``genes.results`` (``gene_id``, ``transcript_id(s)``, ``length``,
    ``effective_length``, ``expected_count``, ``TPM``, ``FPKM``, ...); any TSV with a
    ``gene_id`` (or first) column and a ``column`` column; a two-column TSV (gene, value).

    Returns
    -------
    pandas.Series
        Indexed by version-free gene ID; duplicated IDs are summed.
    """
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    if df.empty:
        raise InputError(path, "empty quantification table")
    cols = list(df.columns)
    gene_col = "gene_id" if "gene_id" in cols else cols[0]
    lower = {c.lower(): c for c in cols}
    if column in cols:
        value_col = column
    elif column.lower() in lower:
        value_col = lower[column.lower()]
    elif len(cols) == 2:
        value_col = cols[1]
    else:
        raise InputError(path, f"no {column!r} column (columns: {', '.join(map(str, cols))})",
                         1, f"give a gene quantification with a {column} column")
    values = pd.to_numeric(df[value_col].str.strip(), errors="coerce")
    if values.isna().any():
        i = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise InputError(path, f"{value_col} value {df[value_col].iloc[i]!r} is not a number",
                         i + 2)
    keys = df[gene_col].astype(str).map(_gene_key)
    return values.groupby(keys.to_numpy(), sort=False).sum()


def build_expression(quants: Mapping[str, PathLike], gtf: PathLike, out: PathLike,
                     column: str = "TPM", min_match: float = 0.5) -> pd.DataFrame:
    """Build the wide expression table (gene_id, gene_name, one column per sample).

    Genes are those of the (canonical, chromosome-filtered) GTF that every sample quantifies;
    gene IDs are matched without their version suffix.

    Parameters
    ----------
    quants
        Sample -> quantification file.
    gtf
        The canonical annotation (gene IDs and names come from it).
    out
        Output TSV.
    column
        Quantity to take (``TPM``).
    min_match
        Fail when fewer than this fraction of a sample's genes are in the annotation (the
        quantification was made with another annotation or species).
    """
    genes = read_gtf_genes(gtf)
    genes["key"] = genes["gene_id"].map(_gene_key)
    genes = genes.drop_duplicates("key")
    table = genes.set_index("key")[["gene_id", "gene_name"]]
    if not quants:
        log.warning("no sample has an expression quantification; writing an empty table")
    for sample, path in quants.items():
        series = read_quantification(path, column)
        ens = series[series.index.str.startswith("ENS")]
        matched = ens.index.isin(table.index).sum()
        if len(ens) and matched < min_match * len(ens) and matched < min_match * len(table):
            raise InputError(
                path, f"only {matched} of its {len(ens)} Ensembl genes are in the annotation "
                f"{gtf} ({len(table)} genes)",
                fix="use the annotation the quantification was made with (ENCODE's RSEM files "
                    "use GENCODE V29 for GRCh38) or a quantification of the same species")
        table[sample] = series.reindex(table.index)
        log.info("%s: %d of %d annotated genes quantified", sample,
                 int(table[sample].notna().sum()), len(table))
    before = len(table)
    table = table.dropna(subset=list(quants)) if quants else table
    if quants:
        log.info("%d genes quantified in every sample (%d annotated genes dropped)", len(table),
                 before - len(table))
    write_tsv_atomic(out, table.reset_index(drop=True), float_format="%.4f")
    return table.reset_index(drop=True)
