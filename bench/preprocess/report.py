"""Print the preprocessing benchmark results (bench/out/preprocess/*.result.json) as markdown."""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "bench" / "out" / "preprocess"


def main() -> None:
    rows = [json.loads(p.read_text()) for p in sorted(OUT.glob("*.result.json"))]
    if not rows:
        sys.exit(f"no results in {OUT}; run bench/preprocess/run.py first")
    print("| run | genome | largest chrom | tracks | peaks | regions | settings | raw read (s) "
          "| ours (s) | raw/ours | naive (s) | naive/ours | shards (MB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        s = r["seconds"]
        settings = ", ".join(f"{k}={v}" for k, v in r["params"].items()) or "defaults"
        settings += f", threads={r.get('threads', 1)}"
        naive = f"{s['naive']:.1f}" if "naive" in s else "-"
        speed = f"{r['speedup_vs_naive']:.1f}x" if "speedup_vs_naive" in r else "-"
        print(f"| {r['study']}.{r['tag']} | {r['genome_bp'] / 1e6:.0f} Mb | "
              f"{r['largest_chromosome_bp'] / 1e6:.0f} Mb | {r['bigwigs']} | {r['peaks']} | "
              f"{r['regions']} | {settings} | {s['raw']:.2f} | {s['ours']:.2f} | "
              f"{r['ratio_ours_over_raw_speed']:.2f} | {naive} | {speed} | "
              f"{r['shard_bytes'] / 1e6:.0f} |")
    print()
    print("| run | stage seconds (chromosome jobs, summed) |")
    print("| --- | --- |")
    for r in rows:
        st = r["seconds"].get("chromosome_stages", {})
        print(f"| {r['study']}.{r['tag']} | "
              + ", ".join(f"{k} {v:.2f}" for k, v in st.items()) + " |")
    print()
    print("| run | genome | largest chrom | peak RSS plan (MB) | chromosome job max (MB) "
          "| gather (MB) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if "peak_rss_mb" in r:
            m = r["peak_rss_mb"]
            print(f"| {r['study']}.{r['tag']} | {r['genome_bp'] / 1e6:.0f} Mb | "
                  f"{r['largest_chromosome_bp'] / 1e6:.0f} Mb | {m['plan']:.0f} | "
                  f"{m['chromosome_max']:.0f} | {m['gather']:.0f} |")


if __name__ == "__main__":
    main()
