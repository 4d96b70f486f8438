"""Throughput of ingestion (seq2func.download.ingest) on synthetic files of realistic structure.

Each step is timed next to a baseline measured in the same run on the same file:

* FASTA: ``ingest_fasta`` (gunzip, parse, rename, write FASTA + .fai) vs. only gunzipping the
  file in 16 MB blocks (the unavoidable part).
* bigWig: ``ingest_bigwig`` (read in 16 Mb chunks, run-length encode, write a new bigWig with
  zoom levels) vs. only reading every value with ``pyBigWig.values(chrom, 0, size, numpy=True)``
  (the fast reading path of FINDINGS.md).
* GTF: ``ingest_gtf`` vs. only reading the lines.

The numbers per base / per line give the time estimates of README.md ("Running a real study").

    python bench/ingest_throughput.py [--mb 100] [--run-bp 40]

Writes bench/out/ingest_throughput.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from seq2func.core.io import open_text
from seq2func.download.ingest import ingest_bigwig, ingest_fasta, ingest_gtf


def _child(queue, fn, args) -> None:  # type: ignore[no-untyped-def]
    import resource

    t = time.perf_counter()
    fn(*args)
    queue.put((time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _timed(fn, *args) -> float:
    return _measured(fn, *args)[0]


def _measured(fn, *args) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of ``fn(*args)`` run in a fresh process."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, fn, args))
    proc.start()
    seconds, maxrss_kb = queue.get()
    proc.join()
    return seconds, maxrss_kb / 1024


def make_fasta(path: Path, sizes: dict[str, int], rng: np.random.Generator) -> None:
    alphabet = np.frombuffer(b"ACGTacgt", dtype=np.uint8)
    with gzip.open(path, "wb", compresslevel=6) as fh:
        for name, n in sizes.items():
            fh.write(f">{name} synthetic\n".encode())
            for a in range(0, n, 6_000_000):
                b = min(n, a + 6_000_000)
                seq = alphabet[rng.integers(0, 8, b - a)]
                lines = np.full(((b - a + 59) // 60) * 61, ord("\n"), dtype=np.uint8)
                full = (b - a) // 60
                lines[: full * 61].reshape(full, 61)[:, :60] = seq[: full * 60].reshape(full, 60)
                rest = seq[full * 60 :]
                if rest.size:
                    lines[full * 61 : full * 61 + rest.size] = rest
                    lines = lines[: full * 61 + rest.size + 1]
                fh.write(lines.tobytes())


def make_bigwig(path: Path, sizes: dict[str, int], run_bp: int,
                rng: np.random.Generator) -> int:
    import pyBigWig

    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(sizes.items()))
    n_total = 0
    for name, n in sizes.items():
        for a in range(0, n, 10_000_000):
            b = min(n, a + 10_000_000)
            lengths = rng.geometric(1 / run_bp, size=(b - a) // run_bp * 2)
            ends = a + np.cumsum(lengths)
            ends = ends[ends < b]
            starts = np.concatenate(([a], ends))
            ends = np.concatenate((ends, [b]))
            vals = np.round(rng.exponential(1.0, starts.size), 3)
            bw.addEntries([name] * starts.size, starts.astype(np.int64),
                          ends=ends.astype(np.int64), values=vals)
            n_total += starts.size
    bw.close()
    return n_total


def make_gtf(path: Path, n_lines: int, chrom_sizes: dict[str, int]) -> None:
    chroms = list(chrom_sizes)
    with gzip.open(path, "wt") as fh:
        for i in range(n_lines):
            c = chroms[i % len(chroms)]
            a = (i * 97) % (chrom_sizes[c] - 1000) + 1
            fh.write(f'{c}\tHAVANA\texon\t{a}\t{a + 200}\t.\t+\t.\tgene_id "ENSG{i:011d}.1"; '
                     f'transcript_id "ENST{i:011d}.1"; gene_type "protein_coding"; '
                     f'gene_name "G{i}"; exon_number 1; level 2;\n')


def gunzip_only(path: Path) -> None:
    with gzip.open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def read_only(path: Path) -> None:
    """Read every value of a bigWig, one whole chromosome at a time (the fast path)."""
    import pyBigWig

    bw = pyBigWig.open(str(path))
    for c, n in bw.chroms().items():
        bw.values(c, 0, n, numpy=True)
    bw.close()


def read_lines(path: Path) -> None:
    with open_text(path) as fh:
        for _ in fh:
            pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=100, help="genome size in Mb (2 chromosomes)")
    ap.add_argument("--run-bp", type=int, default=40,
                    help="mean length of constant-value runs in the bigWig")
    ap.add_argument("--gtf-lines", type=int, default=1_000_000)
    ap.add_argument("--out", default=str(Path(__file__).parent / "out" /
                                         "ingest_throughput.json"))
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    total = int(args.mb * 1e6)
    sizes_src = {"1": int(total * 0.6), "2": total - int(total * 0.6)}
    result: dict[str, object] = {"genome_bp": total, "run_bp": args.run_bp}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        make_fasta(d / "g.fa.gz", sizes_src, rng)

        t_base = _timed(gunzip_only, d / "g.fa.gz")
        t_fa, rss_fa = _measured(ingest_fasta, d / "g.fa.gz", d / "genome.fa", ["chr1", "chr2"],
                                 d / "chrom.sizes")
        result["fasta"] = {"gz_bytes": (d / "g.fa.gz").stat().st_size,
                           "baseline_gunzip_s": round(t_base, 2), "ingest_s": round(t_fa, 2),
                           "ratio_vs_gunzip": round(t_fa / t_base, 2),
                           "ingest_mbp_per_s": round(total / t_fa / 1e6, 1),
                           "ingest_peak_rss_mb": round(rss_fa),
                           "largest_chromosome_bp": max(sizes_src.values())}
        print("fasta", result["fasta"], flush=True)

        n_int = make_bigwig(d / "s.bw", sizes_src, args.run_bp, rng)
        t_base = _timed(read_only, d / "s.bw")
        t_bw, rss_bw = _measured(ingest_bigwig, d / "s.bw", d / "out.bw", d / "chrom.sizes")
        result["bigwig"] = {"bytes": (d / "s.bw").stat().st_size, "intervals": n_int,
                            "baseline_read_s": round(t_base, 2), "ingest_s": round(t_bw, 2),
                            "ratio_vs_read": round(t_bw / t_base, 2),
                            "ingest_mbp_per_s": round(total / t_bw / 1e6, 1),
                            "ingest_s_per_million_intervals": round(t_bw / n_int * 1e6, 3),
                            "ingest_peak_rss_mb": round(rss_bw)}
        print("bigwig", result["bigwig"], flush=True)

        make_gtf(d / "g.gtf.gz", args.gtf_lines, {"chr1": sizes_src["1"],
                                                  "chr2": sizes_src["2"]})

        t_base = _timed(read_lines, d / "g.gtf.gz")
        t_gtf = _timed(ingest_gtf, d / "g.gtf.gz", d / "genes.gtf", d / "chrom.sizes")
        result["gtf"] = {"lines": args.gtf_lines, "baseline_read_s": round(t_base, 2),
                         "ingest_s": round(t_gtf, 2), "ratio_vs_read": round(t_gtf / t_base, 2)}
        print("gtf", result["gtf"], flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
