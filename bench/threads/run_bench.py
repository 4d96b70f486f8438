"""Benchmark: a training job under Snakemake's ``OMP_NUM_THREADS`` with and without
:func:`seq2func.core.threads.keep_openmp_out_of_tensorflow`.

Snakemake exports ``OMP_NUM_THREADS={threads}`` to every job. Both arms run the same
``seq2func train-accessibility`` command in a fresh process with that variable set to
``--threads``:

* ``snakemake_env`` (baseline) - the subcommand is dispatched without the CLI's ``main()``, so
  OpenMP keeps the job's thread count, as before the fix;
* ``seq2func`` - the ``seq2func`` entry point (``main()``), which gives TensorFlow's kernels one
  OpenMP thread.

Runs alternate (``--pairs`` pairs); each records wall seconds, the process's own training
seconds (``run.json``) and the final losses, which must be equal. Results are appended as JSON
lines to ``bench/out/threads/results.jsonl``; the summary prints the median ratio.

Usage (after a demo run; a chrombpnet model also needs its trained bias model)::

    python bench/threads/run_bench.py --dataset results/demo/dataset --model chrombpnet \\
        --bias-model results/demo/models/accessibility/chrombpnet/bias/model.keras \\
        --epochs 3 --pairs 2
    python bench/threads/run_bench.py --dataset results/demo/dataset --model basset \\
        --epochs 4 --pairs 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "threads"

#: dispatches a subcommand the way ``seq2func.cli.main`` does, minus the OpenMP setting
WITHOUT_MAIN = ("import sys; from seq2func.cli import build_parser; "
                "a = build_parser().parse_args(sys.argv[1:]); sys.exit(a.func(a) or 0)")


def _command(arm: str, args: argparse.Namespace, outdir: Path) -> list[str]:
    import yaml

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    spec = dict(cfg["accessibility"]["models"][args.model], max_epochs=args.epochs)
    settings = dict(cfg["accessibility"]["train"], max_epochs=args.epochs)
    sub = ["train-accessibility", "--dataset-dir", str(args.dataset), "--name", args.model,
           "--spec", json.dumps(spec), "--settings", json.dumps(settings), "--seed", "1",
           "--threads", str(args.threads), "--outdir", str(outdir)]
    if args.bias_model:
        sub += ["--bias-model", str(args.bias_model)]
    head = [sys.executable, "-m", "seq2func"] if arm == "seq2func" else [
        sys.executable, "-c", WITHOUT_MAIN]
    return head + sub


def _run(arm: str, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp) / "run"
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        env.pop("OPENBLAS_NUM_THREADS", None)
        t0 = time.perf_counter()
        proc = subprocess.run(_command(arm, args, outdir), env=env, capture_output=True,
                              text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{arm} failed:\n{proc.stderr[-3000:]}")
        run = json.loads((outdir / "run.json").read_text())
        last = (outdir / "history.tsv").read_text().splitlines()[-1]
    return {"arm": arm, "wall_s": round(wall, 2),
            "train_s": run["train_seconds_this_process"], "last_history_row": last}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", type=Path, required=True)
    p.add_argument("--model", default="basset")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--bias-model", type=Path, default=None,
                   help="a chrombpnet model's trained bias model.keras")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(args.pairs):
        for arm in ("snakemake_env", "seq2func") if i % 2 == 0 else ("seq2func",
                                                                      "snakemake_env"):
            row = _run(arm, args) | {"pair": i, "model": args.model, "epochs": args.epochs,
                                     "threads": args.threads, "cpus": os.cpu_count()}
            rows.append(row)
            print(json.dumps(row))
    with open(OUT / "results.jsonl", "a") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    by = {a: [r for r in rows if r["arm"] == a] for a in ("snakemake_env", "seq2func")}
    same = {r["last_history_row"].rsplit("\t", 2)[0] for r in rows}
    ratio = statistics.median(b["wall_s"] / f["wall_s"]
                              for b, f in zip(by["snakemake_env"], by["seq2func"], strict=True))
    print(f"wall seconds, median: snakemake_env "
          f"{statistics.median(r['wall_s'] for r in by['snakemake_env']):.1f}, seq2func "
          f"{statistics.median(r['wall_s'] for r in by['seq2func']):.1f}; "
          f"speed-up {ratio:.2f}x; identical losses: {len(same) == 1}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
