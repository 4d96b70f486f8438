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
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "threads"
ARMS = {"threads2": 2, "threads1": 1}


def _command(args: argparse.Namespace, threads: int, outdir: Path) -> list[str]:
    import yaml

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    spec = dict(cfg["accessibility"]["models"][args.model], max_epochs=args.epochs)
    settings = dict(cfg["accessibility"]["train"], max_epochs=args.epochs)
    cmd = [sys.executable, "-m", "seq2func", "train-accessibility", "--dataset-dir",
           str(args.dataset), "--name", args.model, "--spec", json.dumps(spec),
           "--settings", json.dumps(settings), "--seed", "1", "--threads", str(threads),
           "--outdir", str(outdir)]
    if args.bias_model:
        cmd += ["--bias-model", str(args.bias_model)]
    return cmd


def _run(arm: str, args: argparse.Namespace) -> dict:
    threads = ARMS[arm]
    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp) / "run"
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(_command(args, threads, outdir), env=env, capture_output=True,
                              text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{arm} failed:\n{proc.stderr[-3000:]}")
        run = json.loads((outdir / "run.json").read_text())
        last = (outdir / "history.tsv").read_text().splitlines()[-1]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"arm": arm, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "cores_busy": round(cpu / wall, 2),
            "train_s": run["train_seconds_this_process"], "last_history_row": last}


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
    for i in range(args.pairs):
        order = ("threads2", "threads1") if i % 2 == 0 else ("threads1", "threads2")
        for arm in order:
            row = _run(arm, args) | {"pair": i, "model": args.model, "epochs": args.epochs,
                                     "cpus": os.cpu_count()}
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
