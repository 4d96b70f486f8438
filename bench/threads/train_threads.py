"""Benchmark: a training job with one thread against the same job with two.

The question is the schedule of a small machine: a 2-thread training job holds both cores of a
2-core run, so nothing else runs beside it. That only pays if the second thread makes the job
faster. Both arms run the same ``seq2func train-accessibility`` command as the workflow does
(``OMP_NUM_THREADS`` and ``--threads`` set to the arm's count, as Snakemake sets them):

* ``threads2`` (baseline) - two threads, what the rules gave every training job;
* ``threads1`` - one thread.

Runs alternate (``--pairs`` pairs). Each records wall seconds, the CPU seconds of the process
(user + system, from ``getrusage``) and so the cores it kept busy on average, and the final
losses. Results are appended as JSON lines to ``bench/out/threads/train_threads.jsonl``; the
summary prints the median wall ratio ``threads1 / threads2`` and the median cores in use.

Usage (after a demo run; a chrombpnet model also needs its trained bias model)::

    python bench/threads/train_threads.py --dataset results/demo/dataset --model chrombpnet \\
        --bias-model results/demo/models/accessibility/chrombpnet/bias/model.keras \\
        --epochs 3 --pairs 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from functools import partial
from pathlib import Path

from run_bench import OUT, alternating, timed_run, train_subcommand

ARMS = {"threads2": 2, "threads1": 1}


def _command(arm: str, args: argparse.Namespace, outdir: Path) -> list[str]:
    return [sys.executable, "-m", "seq2func", *train_subcommand(args, ARMS[arm], outdir)]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", type=Path, required=True)
    p.add_argument("--model", default="chrombpnet")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--bias-model", type=Path, default=None,
                   help="a chrombpnet model's trained bias model.keras")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, arm in alternating(("threads2", "threads1"), args.pairs):
        row = timed_run(arm, partial(_command, arm, args), ARMS[arm]) | {
            "pair": i, "model": args.model, "epochs": args.epochs, "cpus": os.cpu_count()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    with open(OUT / "train_threads.jsonl", "a") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    by = {a: [r for r in rows if r["arm"] == a] for a in ARMS}
    ratio = statistics.median(one["wall_s"] / two["wall_s"]
                              for two, one in zip(by["threads2"], by["threads1"], strict=True))
    print(f"wall seconds, median: threads2 "
          f"{statistics.median(r['wall_s'] for r in by['threads2']):.1f} "
          f"(cores busy {statistics.median(r['cores_busy'] for r in by['threads2']):.2f}), "
          f"threads1 {statistics.median(r['wall_s'] for r in by['threads1']):.1f} "
          f"(cores busy {statistics.median(r['cores_busy'] for r in by['threads1']):.2f}); "
          f"threads1 / threads2 wall {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
