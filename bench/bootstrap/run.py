"""Benchmark: bootstrap intervals with weighted kernels vs resampling rows (same run, same data).

A genome-wide test split has ~10^5 regions. Every metric row of the accessibility table carries
a percentile bootstrap interval, so the evaluation computes ``n_boot`` replicates of auROC and
auPRC (per task, macro mean, pooled) for every model and of Pearson/Spearman of log counts.

* resampling (the baseline): draw row indices with replacement, gather the replicate arrays,
  recompute the metric (a sort per replicate for ROC/PR and Spearman);
* weighted (``seq2func.core.metrics`` default): the same draws turned into per-row counts
  (``bincount``) and fed to the metric's kernel, which sorted the rows once.

Both use the same random draws, so they give the same intervals; the script checks that and
reports the time of each and their ratio, per metric, on ``evaluate_tasks`` as the workflow
calls it.

Usage (from the repository root)::

    python bench/bootstrap/run.py --regions 100000 --tasks 3 --n-boot 200
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))


def synthetic_split(n: int, n_tasks: int, seed: int) -> dict[str, np.ndarray]:
    """Labels and scores like a test split: ~25% positives per task, scores with ties (float32
    probabilities rounded to 4 decimals, as in the predictions files), log counts and their
    predictions."""
    rng = np.random.default_rng(seed)
    labels = (rng.random((n, n_tasks)) < 0.25).astype(np.int8)
    logit = 1.5 * labels + rng.normal(size=(n, n_tasks))
    scores = np.round(1 / (1 + np.exp(-logit)), 4)
    log_counts = rng.normal(4.0, 1.0, size=(n, n_tasks)) + labels
    predicted = 0.6 * log_counts + rng.normal(0.0, 0.8, size=(n, n_tasks))
    return {"labels": labels, "scores": scores, "log_counts": log_counts,
            "predicted": predicted}


def time_metric(metric: str, y: np.ndarray, s: np.ndarray, n_boot: int, weighted: bool,
                repeats: int) -> tuple[float, list[tuple[float, float, float]]]:
    """Best-of-``repeats`` seconds of ``evaluate_tasks`` and its (value, low, high) rows."""
    from seq2func.core import metrics
    original = metrics.bootstrap_ci
    tasks = [f"t{i}" for i in range(y.shape[1])]

    def forced(*args, **kw):  # type: ignore[no-untyped-def]
        return original(*args, **{**kw, "weighted": weighted})

    best, rows = float("inf"), []
    metrics.bootstrap_ci = forced  # evaluate_tasks -> metric_row -> bootstrap_ci
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = metrics.evaluate_tasks("m", "test", metric, y, s, tasks, n_boot=n_boot, seed=0)
            best = min(best, time.perf_counter() - t0)
            rows = [(r.value, r.ci_low, r.ci_high) for r in out]
    finally:
        metrics.bootstrap_ci = original
    return best, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--regions", type=int, default=100_000)
    ap.add_argument("--tasks", type=int, default=3)
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=2, help="best of this many timings")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(REPO / "bench" / "bootstrap" / "result.json"))
    args = ap.parse_args()

    data = synthetic_split(args.regions, args.tasks, args.seed)
    cases = [("auROC", "labels", "scores"), ("auPRC", "labels", "scores"),
             ("pearson", "log_counts", "predicted"), ("spearman", "log_counts", "predicted")]
    results = []
    for metric, a, b in cases:
        slow, slow_rows = time_metric(metric, data[a], data[b], args.n_boot, False, args.repeats)
        fast, fast_rows = time_metric(metric, data[a], data[b], args.n_boot, True, args.repeats)
        diff = float(np.nanmax(np.abs(np.asarray(slow_rows) - np.asarray(fast_rows))))
        results.append({"metric": metric, "rows": len(fast_rows), "resampling_s": round(slow, 3),
                        "weighted_s": round(fast, 3), "speedup": round(slow / fast, 2),
                        "max_abs_difference": diff})
        print(f"{metric:9s} {len(fast_rows)} rows x {args.n_boot} replicates: resampling "
              f"{slow:7.2f} s, weighted {fast:6.2f} s, speed-up {slow / fast:5.2f}x, "
              f"max |difference| {diff:.2e}", flush=True)
    total_slow = sum(r["resampling_s"] for r in results)
    total_fast = sum(r["weighted_s"] for r in results)
    print(f"all       resampling {total_slow:.2f} s, weighted {total_fast:.2f} s, "
          f"speed-up {total_slow / total_fast:.2f}x")
    record = {
        "regions": args.regions, "tasks": args.tasks, "n_boot": args.n_boot,
        "repeats": args.repeats, "results": results,
        "total": {"resampling_s": round(total_slow, 3), "weighted_s": round(total_fast, 3),
                  "speedup": round(total_slow / total_fast, 2)},
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "cpus": os.cpu_count(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d"),
    }
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    return 0 if all(r["max_abs_difference"] < 1e-9 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
