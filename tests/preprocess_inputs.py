"""Small synthetic preprocessing inputs with exactly known content (genome, bigWigs, peaks).

Used by the preprocessing tests: every planted summit, signal value and base is known, so the
tests can compare the dataset with direct reads of the inputs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyBigWig

SAMPLES = ("alpha", "beta", "gamma")
#: a small geometry so that tests are fast (all sizes obey the preprocessing rules)
SMALL_PARAMS = {"input_length": 200, "max_jitter": 10, "profile_length": 100, "profile_bin": 1,
                "count_window": 100, "label_window": 50, "merge_distance": 50,
                "blacklist_flank": 20, "max_n_fraction": 0.05, "chunk_rows": 16}
SPLIT = {"valid": ["chr2"], "test": ["chr3"]}


@dataclass
class Study:
    """Paths of a synthetic study and its planted truth."""

    root: Path
    genome: Path
    samples_table: Path
    bigwigs: list[Path]
    peaks: list[Path]
    blacklist: Path
    sizes: dict[str, int]
    summits: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # sample -> chrom
    signal: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # sample -> chrom
    sequences: dict[str, str] = field(default_factory=dict)


def write_fasta(path: Path, seqs: dict[str, str], width: int = 60) -> None:
    with open(path, "w") as fh:
        for name, seq in seqs.items():
            fh.write(f">{name} synthetic\n")
            for i in range(0, len(seq), width):
                fh.write(seq[i : i + width] + "\n")


def write_2bit(path: Path, seqs: dict[str, str]) -> None:
    """A UCSC 2bit file (N blocks and soft-masking recorded), written from the spec."""
    code = {"T": 0, "C": 1, "A": 2, "G": 3}
    names = list(seqs)
    header = struct.pack("<IIII", 0x1A412743, 0, len(names), 0)
    index_len = sum(1 + len(n) + 4 for n in names)
    offset = len(header) + index_len
    records, index = [], b""
    for name in names:
        seq = seqs[name]
        arr = np.frombuffer(seq.encode(), dtype=np.uint8)
        upper = np.frombuffer(seq.upper().encode(), dtype=np.uint8)

        def blocks(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
            return edges[::2], edges[1::2] - edges[::2]

        n_starts, n_sizes = blocks(upper == ord("N"))
        m_starts, m_sizes = blocks(arr >= ord("a"))
        bits = np.array([code.get(chr(c), 0) for c in upper], dtype=np.uint8)
        pad = (-bits.size) % 4
        bits = np.concatenate([bits, np.zeros(pad, dtype=np.uint8)]).reshape(-1, 4)
        packed = (bits[:, 0] << 6 | bits[:, 1] << 4 | bits[:, 2] << 2 | bits[:, 3]).astype(
            np.uint8)
        rec = struct.pack("<II", len(seq), n_starts.size)
        rec += n_starts.astype("<u4").tobytes() + n_sizes.astype("<u4").tobytes()
        rec += struct.pack("<I", m_starts.size)
        rec += m_starts.astype("<u4").tobytes() + m_sizes.astype("<u4").tobytes()
        rec += struct.pack("<I", 0) + packed.tobytes()
        index += struct.pack("<B", len(name)) + name.encode() + struct.pack("<I", offset)
        offset += len(rec)
        records.append(rec)
    path.write_bytes(header + index + b"".join(records))


def write_bigwig(path: Path, sizes: dict[str, int], values: dict[str, np.ndarray],
                 names: dict[str, str] | None = None) -> None:
    """A bigWig with one value per base where ``values`` is non-zero (others: no data)."""
    names = names or {c: c for c in sizes}
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([(names[c], n) for c, n in sizes.items()], maxZooms=4)
    for c in sizes:
        v = values[c]
        nz = np.flatnonzero(v != 0)
        if nz.size:
            bw.addEntries(names[c], nz.astype(np.int64), values=v[nz].astype(np.float64),
                          span=1)
    bw.close()


def write_narrowpeak(path: Path, rows: list[tuple[str, int, int, float, int]]) -> None:
    """Rows of (chrom, start, end, pValue, summit offset)."""
    with open(path, "w") as fh:
        for i, (c, s, e, p, off) in enumerate(rows):
            fh.write(f"{c}\t{s}\t{e}\tpeak{i}\t100\t.\t5.0\t{p}\t{p / 2}\t{off}\n")


def make_study(root: Path, *, sizes: dict[str, int] | None = None, seed: int = 0,
               n_peaks: int = 25, float_signal: bool = False, peak_names: str = "chr",
               bigwig_names: str = "chr") -> Study:
    """Write a synthetic study: genome, one bigWig and narrowPeak file per sample, blacklist.

    Each sample has ``n_peaks`` planted summits per chromosome with a Gaussian bump of signal
    on a Poisson background; chromosome 1 has an N block and a soft-masked stretch.
    ``peak_names``/``bigwig_names`` = ``"bare"`` writes names without the ``chr`` prefix.
    """
    root.mkdir(parents=True, exist_ok=True)
    sizes = sizes or {"chr1": 60_000, "chr2": 40_000, "chr3": 40_000}
    rng = np.random.default_rng(seed)
    seqs = {}
    for c, n in sizes.items():
        s = rng.choice(list("ACGT"), n, p=[0.3, 0.2, 0.2, 0.3])
        seqs[c] = "".join(s)
    c1 = list(seqs["chr1"])  # (chr1 must be >= 31 kb)
    c1[30_000:31_000] = "N" * 1000
    c1[10_000:12_000] = [b.lower() for b in c1[10_000:12_000]]
    seqs["chr1"] = "".join(c1)
    genome = root / "genome.fa"
    write_fasta(genome, seqs)
    blacklist = root / "blacklist.bed"
    blacklist.write_text("chr2\t20000\t20500\tartefact\n")
    table = root / "samples.tsv"
    table.write_text("sample\tcell_type\tassay\n" + "".join(
        f"{s}\tcell_{s}\tATAC\n" for s in SAMPLES))
    study = Study(root, genome, table, [], [], blacklist, dict(sizes), sequences=seqs)
    x = np.arange(-60, 61)
    bump = np.exp(-0.5 * (x / 20.0) ** 2)
    for si, sample in enumerate(SAMPLES):
        study.summits[sample] = {}
        study.signal[sample] = {}
        rows = []
        for c, n in sizes.items():
            grid = np.arange(500, n - 500, 150)
            summits = np.sort(rng.choice(grid, min(n_peaks, grid.size), replace=False))
            lam = np.full(n, 0.05)
            for s in summits:
                lam[s - 60 : s + 61] += (5 + 3 * si) * bump
            vals = rng.poisson(lam).astype(np.float64)
            if float_signal:
                vals = vals * 0.37
            study.summits[sample][c] = summits
            study.signal[sample][c] = vals
            pc = c if peak_names == "chr" else c.removeprefix("chr")
            rows += [(pc, int(s) - 100, int(s) + 100, float(10 + k % 7), 100)
                     for k, s in enumerate(summits)]
        bw = root / f"{sample}.bw"
        names = None if bigwig_names == "chr" else {c: c.removeprefix("chr") for c in sizes}
        write_bigwig(bw, sizes, study.signal[sample], names)
        pk = root / f"{sample}.narrowPeak"
        write_narrowpeak(pk, rows)
        study.bigwigs.append(bw)
        study.peaks.append(pk)
    return study


def build_dataset(study: Study, out: Path, **params: object) -> Path:
    """Preprocess ``study`` into a dataset in ``out`` (``SMALL_PARAMS`` overridden by
    ``params``, split ``SPLIT``), in one process; returns ``out``."""
    from seq2func.preprocess import PreprocessSettings, run_all, samples_from_table

    samples = samples_from_table(study.samples_table, [str(b) for b in study.bigwigs],
                                 [str(x) for x in study.peaks])
    run_all(study.genome, samples, PreprocessSettings.from_config({**SMALL_PARAMS, **params}),
            SPLIT, out, study.blacklist)
    return out


def write_raw_bigwig(path: Path, sizes: dict[str, int],
                     intervals: dict[str, list[tuple[int, int, float]]]) -> None:
    """An uncompressed bigWig written from the UCSC spec, with any float32 value (pyBigWig's
    writer refuses infinities): one bedGraph section per chromosome, no zoom levels."""
    names = list(sizes)
    key = max(len(n) for n in names)
    values = [v for c in names for _, _, v in intervals.get(c, [])]
    finite = [v for v in values if np.isfinite(v)]
    covered = sum(e - s for c in names for s, e, _ in intervals.get(c, []))
    summary = struct.pack("<Qdddd", covered, min(values or [0.0]), max(values or [0.0]),
                          float(np.sum(finite)), float(np.sum(np.square(finite))))
    tree = struct.pack("<IIIIQQ", 0x78CA8C91, len(names), key, 8, len(names), 0)
    tree += struct.pack("<BBH", 1, 0, len(names)) + b"".join(
        n.encode().ljust(key, b"\0") + struct.pack("<II", i, sizes[n])
        for i, n in enumerate(names))
    head_size, summary_at = 64, 64
    tree_at = summary_at + len(summary)
    data_at = tree_at + len(tree)
    sections, leaves, offset = [], [], data_at + 8
    for i, c in enumerate(names):
        items = intervals.get(c, [])
        if not items:
            continue
        body = struct.pack("<IIIIIBBH", i, items[0][0], items[-1][1], 0, 0, 1, 0, len(items))
        body += b"".join(struct.pack("<IIf", s, e, v) for s, e, v in items)
        sections.append(body)
        leaves.append((i, items[0][0], i, items[-1][1], offset, len(body)))
        offset += len(body)
    data = struct.pack("<Q", len(sections)) + b"".join(sections)
    index_at = data_at + len(data)
    first, last = leaves[0], leaves[-1]
    index = struct.pack("<IIQIIIIQII", 0x2468ACE0, 256, len(leaves), first[0], first[1],
                        last[2], last[3], index_at, 1, 0)
    index += struct.pack("<BBH", 1, 0, len(leaves)) + b"".join(
        struct.pack("<IIIIQQ", *leaf) for leaf in leaves)
    header = struct.pack("<IHHQQQHHQQIQ", 0x888FFC26, 4, 0, tree_at, data_at, index_at, 0, 0, 0,
                         summary_at, 0, 0)
    assert len(header) == head_size
    path.write_bytes(header + summary + tree + data + index)
