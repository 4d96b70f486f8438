"""Benchmark: 100k variants, the new scorer (every score + null) vs the current one, same run.

Draws ``--n`` random variants (85% SNVs, 15% 1-10 bp indels) on the demo genome, writes them as a
VCF, then, in one process with one model:

* current: the scorer before issue 19 (:func:`legacy_scores`: reading, REF check, vectorised
  windows, strand-averaged predictions in chunks; ``delta_p_``/``log2fc_`` only, no null);
* new: ``seq2func.variants.score_vcf`` as the ``score_variants`` rule runs it: every score
  (``log2fc, jsd, aaq, ies, ips`` per task and overall), the AAQ's reference peaks, the null
  (``variants.null_set``, schema defaults) in the same job, p- and q-values of every score;
* naive: a random sample of ``--sample`` of the same variants, one forward call per variant
  (reference and alternate on both strands stacked in one batch of 4 via ``model(x)``), the
  main score only.

Reports wall time and variants/s of each, the new/current cost per variant, and checks that the
main score is identical in all three.

Usage (from the repository root, after the demo run)::

    python bench/variants/run.py \\
        --model results/demo/models/accessibility/chrombpnet/seed1/nobias.keras
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


def legacy_scores(model, genome, table, tasks, chunk: int, batch_size: int):  # type: ignore[no-untyped-def]
    """The scorer before issue 19 (``delta_p_``/``log2fc_`` only, no null), for comparison:
    the same windows and strand-averaged predictions, nothing else computed."""
    import math

    import pandas as pd

    import seq2func.variants as va
    from seq2func.core.sequence import one_hot
    from seq2func.models import predict_both_strands

    length = int(model.input_shape[1])
    ok = np.flatnonzero((table["status"] == "ok").to_numpy())
    cols: dict[str, np.ndarray] = {}
    for a in range(0, ok.size, chunk):
        rows = ok[a : a + chunk]
        ref_w, alt_w = va.allele_windows(genome, table.iloc[rows], length)
        pred = predict_both_strands(model, one_hot(np.concatenate([ref_w, alt_w])),
                                    batch_size=batch_size)
        n = rows.size
        for ti, t in enumerate(tasks):
            if "labels" in pred:
                cols.setdefault(f"delta_p_{t}", np.full(len(table), np.nan))[rows] = (
                    pred["labels"][n:, ti] - pred["labels"][:n, ti])
            if "log_counts" in pred:
                cols.setdefault(f"log2fc_{t}", np.full(len(table), np.nan))[rows] = (
                    pred["log_counts"][n:, ti] - pred["log_counts"][:n, ti]) / math.log(2)
    return pd.DataFrame(cols, index=table.index)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True,
                    help="accessibility model (a chrombpnet nobias.keras gives every score)")
    ap.add_argument("--dataset", default=str(REPO / "results/demo/dataset"),
                    help="dataset directory (tasks; peaks: the AAQ reference, the null's "
                         "excluded regions)")
    ap.add_argument("--genome", default=str(REPO / "resources/demo/genome/genome.fa"))
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=300)
    ap.add_argument("--null", type=int, default=None,
                    help="null variants (default: the schema's variants.null_set.n_variants)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=str(REPO / ".tmp" / "bench_variants"))
    ap.add_argument("--out", default=str(REPO / "bench" / "variants" / "result.json"))
    args = ap.parse_args()

    from seq2func.train.runtime import configure_runtime

    configure_runtime(seed=0, deterministic=True, threads=2)
    import seq2func.variants as va
    from seq2func.core.sequence import Genome, one_hot
    from seq2func.dataset import Dataset
    from seq2func.models import load_model

    settings = va.VariantSettings.from_config()
    n_null = settings.null_set.n_variants if args.null is None else args.null
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    vcf = work / "random.vcf"
    write_random_vcf(Path(args.genome), vcf, args.n, args.seed)
    model = load_model(args.model)
    model.predict(np.zeros((8, model.input_shape[1], 4), np.float32), verbose=0)  # warm-up
    dataset = Dataset(args.dataset)
    tasks = list(dataset.tasks)
    regions = dataset.regions()

    # current scorer: parse + check + windows + predictions, delta_p/log2fc only
    t0, c0 = time.perf_counter(), time.process_time()
    _, table = va.read_vcf(vcf)
    genome = Genome(args.genome)
    table = va.check_alleles(table, genome, settings.max_allele_length)
    old = legacy_scores(model, genome, table, tasks, settings.chunk, settings.batch_size)
    legacy_s, legacy_cpu = time.perf_counter() - t0, time.process_time() - c0
    n_ok = int((table["status"] == "ok").sum())

    # new scorer: every score, AAQ reference peaks, the null and p/q-values, as the rule runs
    t0, c0 = time.perf_counter(), time.process_time()
    scored = va.score_vcf(vcf, args.genome, [args.model], tasks, model_name="bench",
                          chunk=settings.chunk, batch_size=settings.batch_size,
                          regions=regions, null_variants=n_null,
                          null_seed=settings.null_set.seed, null_method=settings.null_set.method,
                          n_reference=settings.aaq_reference_peaks,
                          profile_bin=int(dataset.meta.geometry.profile_bin))
    new_s, new_cpu = time.perf_counter() - t0, time.process_time() - c0
    new = scored.table
    main_cols = list(old.columns)
    same = float(np.nanmax(np.abs(new[main_cols].to_numpy(float) - old.to_numpy(float))))
    score_cols = [c for c in new if c.startswith(("log2fc_", "jsd_", "aaq_", "ies_", "ips_",
                                                  "delta_p_", "max_abs_"))]
    pq_cols = [c for c in new if c.startswith(("pval_", "qval_"))]

    # naive: one forward call per variant (main score only), a sample
    rng = np.random.default_rng(args.seed + 1)
    ok = np.flatnonzero((table["status"] == "ok").to_numpy())
    sample = np.sort(rng.choice(ok, size=min(args.sample, ok.size), replace=False))
    length = int(model.input_shape[1])
    head = "labels" if "labels" in model.output else "log_counts"
    naive = np.zeros((sample.size, len(tasks)))
    t0 = time.perf_counter()
    for k, i in enumerate(sample):
        ref, alt = va.allele_windows(genome, table.iloc[[i]], length)
        x = one_hot(np.concatenate([ref, alt]))
        both = np.concatenate([x, x[:, ::-1, ::-1]])
        out = np.asarray(model(both, training=False)[head], dtype=np.float64)
        if head == "labels":
            out = 1 / (1 + np.exp(-out))
            naive[k] = 0.5 * (out[1] + out[3]) - 0.5 * (out[0] + out[2])
        else:
            naive[k] = (0.5 * (out[1] + out[3]) - 0.5 * (out[0] + out[2])) / np.log(2)
    naive_s = time.perf_counter() - t0
    max_diff = float(np.abs(old.iloc[sample].to_numpy(float) - naive).max())

    rec = {
        "n_variants": len(table), "n_scored": n_ok, "n_null": len(scored.null),
        "n_aaq_reference_peaks": settings.aaq_reference_peaks,
        "current_scorer_seconds": round(legacy_s, 2),
        "current_scorer_variants_per_s": round(n_ok / legacy_s, 1),
        "current_scorer_columns": len(main_cols),
        "new_scorer_seconds": round(new_s, 2),
        "new_scorer_variants_per_s": round(n_ok / new_s, 1),
        "new_scorer_score_columns": len(score_cols), "new_scorer_pq_columns": len(pq_cols),
        "current_scorer_cpu_seconds": round(legacy_cpu, 2),
        "new_scorer_cpu_seconds": round(new_cpu, 2),
        "cost_per_variant_new_vs_current": round(new_s / legacy_s, 3),
        "cpu_cost_per_variant_new_vs_current": round(new_cpu / legacy_cpu, 3),
        "max_abs_difference_main_score_new_vs_current": same,
        "naive_sample": int(sample.size), "naive_seconds": round(naive_s, 2),
        "naive_variants_per_s": round(sample.size / naive_s, 1),
        "speedup_current_batched_vs_naive": round((n_ok / legacy_s) / (sample.size / naive_s),
                                                  1),
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
