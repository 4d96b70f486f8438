"""Benchmark preprocessing on a simulated genome (not a test): throughput and peak memory.

In ONE process, on warm page cache, with the same inputs:

* ``raw``: read every chromosome of every bigWig whole (``pyBigWig.values(chrom, 0, size,
  numpy=True)``) and nothing else: the speed limit of any method that reads the signal;
* ``ours``: the full preprocessing (plan, every chromosome, gather) as the workflow runs it,
  including region selection, GC-matched background, sequence, binning, compression and writing;
* ``naive``: a per-window loop over the final regions: ``pyBigWig.values`` for each region and
  track, and the region's sequence from pyfaidx (extraction only: no selection, no writing).

Throughput is genome bases x tracks per second. Reported: ``raw / ours`` time ratio (goal >=
0.5) and ``naive / ours`` (speed-up). Then peak RSS of each step run as its own process
(``/usr/bin/time -v``), as the workflow runs them.

Usage::

    python bench/preprocess/run.py g200_8x25 [--params '{"signal_dtype": "float32"}']
        [--skip-naive] [--tag NAME]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pyfaidx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from seq2func.core.config import load_samples  # noqa: E402
from seq2func.core.sequence import encode  # noqa: E402
from seq2func.preprocess import (  # noqa: E402
    PreprocessSettings,
    SampleInput,
    gather,
    make_plan,
    process_chromosome,
)

SPLIT = {"valid": ["chr2"], "test": ["chr1"]}


def warm(paths: list[Path]) -> None:
    for p in paths:
        with open(p, "rb") as fh:
            while fh.read(1 << 24):
                pass


def raw_read(bigwigs: list[Path], sizes: dict[str, int]) -> float:
    t0 = time.perf_counter()
    total = 0.0
    for p in bigwigs:
        bw = pyBigWig.open(str(p))
        for c, n in sizes.items():
            v = bw.values(c, 0, n, numpy=True)
            total += float(np.nansum(v[:10]))  # touch the result
        bw.close()
    return time.perf_counter() - t0


def naive(regions: pd.DataFrame, bigwigs: list[Path], genome: Path, seq_len: int,
          sig_len: int) -> float:
    t0 = time.perf_counter()
    fa = pyfaidx.Fasta(str(genome), as_raw=True, sequence_always_upper=True)
    bws = [pyBigWig.open(str(p)) for p in bigwigs]
    chroms = regions["chrom"].to_numpy()
    centres = regions["centre"].to_numpy()
    seqs = np.empty((len(regions), seq_len), dtype=np.uint8)
    sig = np.empty((len(regions), sig_len, len(bws)), dtype=np.float32)
    for i in range(len(regions)):
        c, m = chroms[i], int(centres[i])
        seqs[i] = encode(fa[c][m - seq_len // 2 : m - seq_len // 2 + seq_len])
        for t, bw in enumerate(bws):
            sig[i, :, t] = np.nan_to_num(bw.values(c, m - sig_len // 2, m - sig_len // 2
                                                   + sig_len, numpy=True))
    return time.perf_counter() - t0


def max_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd`` under /usr/bin/time -v: (peak RSS in MB, wall seconds)."""
    t0 = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr).group(1))
    return kb / 1024, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("name", help="simulated study under bench/out/preprocess/")
    ap.add_argument("--params", default="{}", help="preprocess parameter overrides (JSON)")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--tag", default="default")
    ap.add_argument("--threads", type=int, default=1,
                    help="compression threads of the chromosome jobs (the workflow uses 2)")
    ap.add_argument("--root", default=None, help="inputs (default bench/out/preprocess/NAME)")
    ap.add_argument("--samples", default=str(REPO / "bench" / "preprocess" / "samples.tsv"))
    args = ap.parse_args()

    root = Path(args.root) if args.root else REPO / "bench" / "out" / "preprocess" / args.name
    out = REPO / "bench" / "out" / "preprocess" / f"{args.name}.{args.tag}.dataset"
    table = load_samples(args.samples)
    samples = [SampleInput(s, r["assay"], r["cell_type"], str(root / "signal" / f"{s}.bw"),
                           str(root / "peaks" / f"{s}.narrowPeak"))
               for s, r in table.iterrows()]
    genome = root / "genome" / "genome.fa"
    blacklist = root / "genome" / "blacklist.bed"
    bigwigs = [Path(s.bigwig) for s in samples]
    params = PreprocessSettings.from_config(json.loads(args.params))
    sizes = {k: int(v) for k, v in (line.split("\t") for line in
                                    (root / "genome" / "chrom.sizes").read_text().split("\n")
                                    if line)}
    n_peaks = sum(sum(1 for _ in open(s.peaks)) for s in samples)
    genome_bp = sum(sizes.values())
    print(f"{args.name}: {genome_bp / 1e6:.0f} Mb, {len(sizes)} chromosomes, "
          f"{len(bigwigs)} bigWigs, {n_peaks} peaks", flush=True)

    warm([genome, *bigwigs])
    t_raw = raw_read(bigwigs, sizes)
    print(f"raw whole-chromosome read: {t_raw:.2f} s", flush=True)

    t0 = time.perf_counter()
    make_plan(genome, samples, params, SPLIT, out / "plan", blacklist, args.name)
    t_plan = time.perf_counter() - t0
    t_chroms = {}
    stage_seconds: dict[str, float] = {}
    for chrom in sizes:
        t1 = time.perf_counter()
        st = process_chromosome(out / "plan", chrom, out / "shards" / f"{chrom}.h5",
                                out / "chroms" / f"{chrom}.stats.json", threads=args.threads)
        for k, v in st["seconds"].items():
            stage_seconds[k] = stage_seconds.get(k, 0.0) + v
        t_chroms[chrom] = time.perf_counter() - t1
    t1 = time.perf_counter()
    meta = gather(out / "plan", out, out / "qc.tsv")
    t_gather = time.perf_counter() - t1
    t_ours = time.perf_counter() - t0
    print(f"ours: {t_ours:.2f} s (plan {t_plan:.2f}, chromosomes {sum(t_chroms.values()):.2f},"
          f" gather {t_gather:.2f})", flush=True)
    regions = pd.read_csv(out / "regions.tsv.gz", sep="\t", usecols=["chrom", "centre"])
    shard_bytes = sum((out / s["path"]).stat().st_size for s in meta["shards"])

    result = {
        "study": args.name, "tag": args.tag, "params": json.loads(args.params),
        "threads": args.threads,
        "genome_bp": genome_bp, "chromosomes": len(sizes),
        "largest_chromosome_bp": max(sizes.values()), "bigwigs": len(bigwigs),
        "peaks": n_peaks, "regions": int(meta["n_regions"]["total"]),
        "signal_dtype": meta["shards"][0]["signal_dtype"], "compression": params.compression,
        "shard_bytes": shard_bytes,
        "seconds": {"raw": t_raw, "ours": t_ours, "plan": t_plan,
                    "chromosomes": sum(t_chroms.values()), "gather": t_gather,
                    "chromosome_stages": stage_seconds},
        "raw_mbases_per_s": genome_bp * len(bigwigs) / t_raw / 1e6,
        "ours_mbases_per_s": genome_bp * len(bigwigs) / t_ours / 1e6,
        "ratio_ours_over_raw_speed": t_raw / t_ours,
    }
    if not args.skip_naive:
        g = params.geometry
        t_naive = naive(regions, bigwigs, genome, g.sequence_stored, g.signal_stored)
        result["seconds"]["naive"] = t_naive
        result["speedup_vs_naive"] = t_naive / t_ours
        print(f"naive per-window loop: {t_naive:.2f} s", flush=True)
    if not args.skip_rss:
        py = sys.executable
        plan_dir = out / "plan"
        rss = {}
        rss["plan"], _ = max_rss_mb([
            py, "-m", "seq2func", "preprocess-plan", "--genome", str(genome), "--samples",
            args.samples, "--bigwigs", *map(str, bigwigs),
            "--peaks", *[s.peaks for s in samples], "--blacklist", str(blacklist),
            "--params", args.params, "--split", json.dumps(SPLIT), "--outdir", str(plan_dir)])
        per_chrom = {}
        for chrom in sizes:
            per_chrom[chrom], _ = max_rss_mb([
                py, "-m", "seq2func", "preprocess-chrom", "--plan-dir", str(plan_dir),
                "--chrom", chrom, "--shard", str(out / "shards" / f"{chrom}.h5"),
                "--stats", str(out / "chroms" / f"{chrom}.stats.json"), "--no-progress",
                "--threads", str(args.threads)])
        rss["chromosome_max"] = max(per_chrom.values())
        rss["per_chromosome"] = per_chrom
        rss["gather"], _ = max_rss_mb([
            py, "-m", "seq2func", "preprocess-gather", "--plan-dir", str(plan_dir),
            "--dataset-dir", str(out), "--qc-table", str(out / "qc.tsv")])
        result["peak_rss_mb"] = rss
        print(f"peak RSS (MB): plan {rss['plan']:.0f}, chromosome job max "
              f"{rss['chromosome_max']:.0f}, gather {rss['gather']:.0f}", flush=True)
    dest = REPO / "bench" / "out" / "preprocess" / f"{args.name}.{args.tag}.result.json"
    dest.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "peak_rss_mb"}, indent=1))


if __name__ == "__main__":
    main()
