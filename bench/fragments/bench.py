"""Speed and memory of reads -> cut sites (seq2func.download.cutsites), against a plain read.

For each input, in the same run and each step in a fresh process (so peak memory is its own):

* ``read``: ``pandas.read_csv`` of the (gzipped) file, the three coordinate columns, at once;
* ``convert``: :func:`~seq2func.download.cutsites.reads_to_cutsites` into a bigWig, split into
  its streaming pass (``pass_s``: parse, check, shift, spool) and counting + bigWig writing
  (``write_s``).

Inputs: the real yeast BEDPE (467,908 fragments, ../shared/data), a synthetic BEDPE of
``--fragments`` random fragments on three 50 Mb chromosomes (made here, gzip level 1), and a
synthetic BAM of ``--bam-reads`` reads (made here with pysam; its ``read`` step is pysam
iterating the reads, keeping nothing). Prints a table: records/s, the time ratio convert / read
and the peak resident memory of each step (``VmHWM`` of its process; modules are imported
before the clock starts).

Run from the repository (see README.md):
    PYTHONPATH=src nice python bench/fragments/bench.py
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
YEAST = (REPO / ".." / "shared" / "data" / "yeast_sacCer3_atac_rnaseq").resolve()
SYNTHETIC_SIZES = {"chrA": 50_000_000, "chrB": 50_000_000, "chrC": 50_000_000}


def _measure(step: str, path: str, fmt: str, sizes: Any, out: str, queue: Any) -> None:
    """Run one step in this (child) process and report seconds and peaks."""
    sys.path.insert(0, str(REPO / "src"))
    import pyBigWig  # noqa: F401
    import pysam
    import tqdm  # noqa: F401

    from seq2func.download.cutsites import CutSiteSettings, reads_to_cutsites

    settings = CutSiteSettings.from_config({})
    extra: dict[str, float] = {}
    t0 = time.perf_counter()
    if step == "read":
        if fmt == "bam":
            with pysam.AlignmentFile(path, "rb", check_sq=False) as bam:
                n = sum(1 for _ in bam.fetch(until_eof=True))
        else:
            n = len(pd.read_csv(path, sep="\t", header=None, usecols=[0, 1, 2]))
    else:
        report = reads_to_cutsites(path, out, sizes, fmt, settings=settings)
        n, extra = report.records, report.seconds
    seconds = time.perf_counter() - t0
    queue.put({"records": n, "seconds": seconds, "rss_mb": peak_rss_mb(), **extra})


def peak_rss_mb() -> float:
    """Peak resident memory of this process (``VmHWM``; ``ru_maxrss`` of a spawned child also
    counts the parent it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def measure(step: str, path: Path, fmt: str, sizes: Any, out: Path) -> dict[str, Any]:
    """One step in a fresh (spawned) process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(step, str(path), fmt, sizes, str(out), queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def synthetic_bedpe(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` random fragments (lengths 40-600) on :data:`SYNTHETIC_SIZES`, gzip level 1."""
    rng = np.random.default_rng(seed)
    names = np.array(list(SYNTHETIC_SIZES))
    chrom = rng.integers(0, len(names), size=n)
    start = rng.integers(0, 49_999_000, size=n)
    end = start + rng.integers(40, 600, size=n)
    df = pd.DataFrame({"c": names[chrom], "s": start, "e": end})
    df.to_csv(path, sep="\t", header=False, index=False,
              compression={"method": "gzip", "compresslevel": 1})
    return path


def synthetic_bam(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` random 50-bp reads (half reverse) on :data:`SYNTHETIC_SIZES`, unsorted."""
    import pysam

    rng = np.random.default_rng(seed)
    names = list(SYNTHETIC_SIZES)
    header = {"HD": {"VN": "1.6"}, "SQ": [{"SN": c, "LN": m} for c, m in SYNTHETIC_SIZES.items()]}
    chrom = rng.integers(0, len(names), size=n)
    start = rng.integers(0, 49_999_000, size=n)
    rev = rng.random(n) < 0.5
    quals = pysam.qualitystring_to_array("I" * 50)
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam:
        for i in range(n):
            a = pysam.AlignedSegment(bam.header)
            a.query_name = f"r{i}"
            a.query_sequence = "A" * 50
            a.flag = 16 if rev[i] else 0
            a.reference_id = int(chrom[i])
            a.reference_start = int(start[i])
            a.mapping_quality = 60
            a.cigartuples = [(0, 50)]
            a.query_qualities = quals
            bam.write(a)
    return path


def main() -> None:
    """Build the inputs, measure both steps on each, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fragments", type=int, default=4_000_000)
    parser.add_argument("--bam-reads", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_fragments.") as tmp_dir:
        tmp = Path(tmp_dir)
        inputs: list[tuple[str, Path, str, Any]] = []
        if (YEAST / "atac_SRR1822137_500k.fragments.bedpe.gz").exists():
            inputs.append(("yeast BEDPE (real)", YEAST / "atac_SRR1822137_500k.fragments.bedpe.gz",
                           "bedpe", str(YEAST / "sacCer3.chrom.sizes")))
        t0 = time.perf_counter()
        inputs.append((f"synthetic BEDPE ({args.fragments:,})",
                       synthetic_bedpe(tmp / "synthetic.bedpe.gz", args.fragments), "bedpe",
                       SYNTHETIC_SIZES))
        if args.bam_reads:
            inputs.append((f"synthetic BAM ({args.bam_reads:,})",
                           synthetic_bam(tmp / "synthetic.bam", args.bam_reads), "bam",
                           SYNTHETIC_SIZES))
        print(f"inputs made in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        rows = []
        for label, path, fmt, sizes in inputs:
            read = measure("read", path, fmt, sizes, tmp / "unused.bw")
            conv = measure("convert", path, fmt, sizes, tmp / "out.bw")
            assert read["records"] == conv["records"], (read, conv)
            rows.append({
                "input": label, "MB": round(path.stat().st_size / 2**20, 1),
                "records": conv["records"],
                "read_s": round(read["seconds"], 2), "convert_s": round(conv["seconds"], 2),
                "read_rec/s": f"{read['records'] / read['seconds']:,.0f}",
                "convert_rec/s": f"{conv['records'] / conv['seconds']:,.0f}",
                "pass_s": conv["read"], "write_s": conv["write"],
                "convert/read": round(conv["seconds"] / read["seconds"], 2),
                "pass/read": round(conv["read"] / read["seconds"], 2),
                "read_rss_MB": round(read["rss_mb"]), "convert_rss_MB": round(conv["rss_mb"]),
            })
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
