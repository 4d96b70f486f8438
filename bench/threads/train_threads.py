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
import statistics
import sys
from pathlib import Path

from run_bench import run_pairs, train_subcommand, training_parser

ARMS = {"threads2": 2, "threads1": 1}


def _command(arm: str, args: argparse.Namespace, outdir: Path) -> list[str]:
    return [sys.executable, "-m", "seq2func", *train_subcommand(args, ARMS[arm], outdir)]


def main() -> int:
    args = training_parser(__doc__, "chrombpnet").parse_args()
    by = run_pairs(("threads2", "threads1"), args, _command, ARMS.__getitem__, {},
                   "train_threads.jsonl")
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
