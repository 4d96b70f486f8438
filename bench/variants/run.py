"""Benchmark: score 100k variants batched vs one model call per variant (same run, same model).

Draws ``--n`` random variants (85% SNVs, 15% 1-10 bp indels) on the demo genome, writes them as a
VCF, then

* batched: ``seq2func.variants.score_vcf`` on all of them (reading, REF check, windows,
  strand-averaged predictions in chunks, as the workflow runs it);
* naive: for a random sample of ``--sample`` of the same variants, one forward call per variant
  (reference and alternate on both strands stacked in one batch of 4 via ``model(x)``, the
  cheapest per-variant call Keras offers; ``model.predict`` per variant is slower still).

Reports variants/s of both and their ratio, and checks that both give the same scores.

Usage (from the repository root, after the demo run)::

    python bench/variants/run.py --model results/demo/models/accessibility/basset/seed1/model.keras
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))


def write_random_vcf(genome_path: Path, out: Path, n: int, seed: int) -> None:
    """``n`` random variants (REF from the genome; positions on N are redrawn), sorted."""
    from seq2func.core.sequence import Genome, decode

    rng = np.random.default_rng(seed)
    g = Genome(genome_path)
    chroms = list(g.sizes)
    sizes = np.array([g.sizes[c] for c in chroms], dtype=float)
    pick = rng.choice(len(chroms), size=int(n * 1.1), p=sizes / sizes.sum())
    records = []
    for ci in range(len(chroms)):
        codes = g.codes(chroms[ci])
        pos0 = np.sort(rng.integers(1000, codes.size - 1000, size=int((pick == ci).sum())))
        kind = rng.random(pos0.size)
        for p, k in zip(pos0, kind, strict=True):
            ref = decode(codes[p : p + 1])
            if ref == "N":
                continue
            if k < 0.85:
                alt = "ACGT"[("ACGT".index(ref) + int(rng.integers(1, 4))) % 4]
            elif k < 0.925:  # deletion with anchor base
                ln = int(rng.integers(1, 11))
                ref = decode(codes[p : p + 1 + ln])
                alt = ref[0]
            else:
                alt = ref + "".join("ACGT"[i] for i in rng.integers(0, 4, int(rng.integers(1, 11))))
            records.append(f"{chroms[ci]}\t{p + 1}\t.\t{ref}\t{alt}\t.\tPASS\t.")
    if len(records) < n:
        raise SystemExit(f"only {len(records)} variants drawn, fewer than {n}")
    keep = np.sort(rng.choice(len(records), size=n, replace=False))
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    out.write_text("\n".join(lines + [records[i] for i in keep]) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--genome", default=str(REPO / "resources/demo/genome/genome.fa"))
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=str(REPO / ".tmp" / "bench_variants"))
    ap.add_argument("--out", default=str(REPO / "bench" / "variants" / "result.json"))
    args = ap.parse_args()

    from seq2func.train.runtime import configure_runtime

    configure_runtime(seed=0, deterministic=True, threads=2)
    import seq2func.variants as va
    from seq2func.core.sequence import Genome, one_hot
    from seq2func.models import load_model

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    vcf = work / "random.vcf"
    write_random_vcf(Path(args.genome), vcf, args.n, args.seed)
    model = load_model(args.model)
    model.predict(np.zeros((8, model.input_shape[1], 4), np.float32), verbose=0)  # warm-up
    tasks = [f"t{i}" for i in range(model.output["labels"].shape[-1])] if isinstance(
        model.output, dict) and "labels" in model.output else None
    if tasks is None:
        raise SystemExit("benchmark expects a classifier (basset) model")

    t0 = time.perf_counter()
    _, table, _, _ = va.score_vcf(vcf, args.genome, args.model, tasks, model_name="bench")
    batched_s = time.perf_counter() - t0
    n_ok = int((table["status"] == "ok").sum())

    rng = np.random.default_rng(args.seed + 1)
    ok = np.flatnonzero((table["status"] == "ok").to_numpy())
    sample = np.sort(rng.choice(ok, size=min(args.sample, ok.size), replace=False))
    genome = Genome(args.genome)
    length = int(model.input_shape[1])
    naive = np.zeros((sample.size, len(tasks)))
    t0 = time.perf_counter()
    for k, i in enumerate(sample):
        ref, alt = va.allele_windows(genome, table.iloc[[i]], length)
        x = one_hot(np.concatenate([ref, alt]))
        both = np.concatenate([x, x[:, ::-1, ::-1]])
        logit = np.asarray(model(both, training=False)["labels"], dtype=np.float64)
        p = 1 / (1 + np.exp(-logit))
        naive[k] = 0.5 * (p[1] + p[3]) - 0.5 * (p[0] + p[2])
    naive_s = time.perf_counter() - t0
    batched_vals = table.iloc[sample][[f"delta_p_{t}" for t in tasks]].to_numpy(float)
    max_diff = float(np.abs(batched_vals - naive).max())

    rec = {
        "n_variants": len(table), "n_scored": n_ok,
        "batched_seconds": round(batched_s, 2),
        "batched_variants_per_s": round(n_ok / batched_s, 1),
        "naive_sample": int(sample.size), "naive_seconds": round(naive_s, 2),
        "naive_variants_per_s": round(sample.size / naive_s, 1),
        "speedup_batched_vs_naive": round((n_ok / batched_s) / (sample.size / naive_s), 1),
        "naive_100k_extrapolated_minutes": round(n_ok / (sample.size / naive_s) / 60, 1),
        "max_abs_difference_batched_vs_naive": max_diff,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
        "model": args.model, "input_length": length, "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "machine": platform.platform(),
    }
    Path(args.out).write_text(json.dumps(rec, indent=2) + "\n")
    print(json.dumps(rec, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
