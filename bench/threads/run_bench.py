"""Benchmark: a training job under Snakemake's ``OMP_NUM_THREADS`` with and without
:func:`seq2func.core.threads.keep_openmp_out_of_tensorflow`.

Snakemake exports ``OMP_NUM_THREADS={threads}`` to every job. Both arms run the same
``seq2func train-accessibility`` command in a fresh process with that variable set to
``--threads``:

* ``snakemake_env`` (baseline) - the subcommand is dispatched without the CLI's ``main()``, so
  OpenMP keeps the job's thread count, as before the fix;
* ``seq2func`` - the ``seq2func`` entry point (``main()``), which gives TensorFlow's kernels one
  OpenMP thread.

Runs alternate (``--pairs`` pairs); each records wall and CPU seconds, the process's own training
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
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out" / "threads"

#: dispatches a subcommand the way ``seq2func.cli.main`` does, minus the OpenMP setting
WITHOUT_MAIN = ("import sys; from seq2func.cli import build_parser; "
                "a = build_parser().parse_args(sys.argv[1:]); sys.exit(a.func(a) or 0)")


def train_subcommand(args: argparse.Namespace, threads: int, outdir: Path) -> list[str]:
    """The ``train-accessibility`` arguments of the workflow's job for ``args.model`` (the
    config's spec and settings with ``args.epochs``), run with ``threads``."""
    import yaml

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    spec = dict(cfg["accessibility"]["models"][args.model], max_epochs=args.epochs)
    settings = dict(cfg["accessibility"]["train"], max_epochs=args.epochs)
    sub = ["train-accessibility", "--dataset-dir", str(args.dataset), "--name", args.model,
           "--spec", json.dumps(spec), "--settings", json.dumps(settings), "--seed", "1",
           "--threads", str(threads), "--outdir", str(outdir)]
    if args.bias_model:
        sub += ["--bias-model", str(args.bias_model)]
    return sub


def timed_run(label: str, command: Callable[[Path], list[str]], threads: int) -> dict:
    """Run ``command(outdir)`` in a fresh process under ``OMP_NUM_THREADS=threads`` (as
    Snakemake sets it) and return its wall and CPU seconds (user + system, ``getrusage``; the
    system part also on its own), the
    cores it kept busy, its own training seconds (``run.json``) and its last history row."""
    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp) / "run"
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        env.pop("OPENBLAS_NUM_THREADS", None)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(command(outdir), env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{label} failed:\n{proc.stderr[-3000:]}")
        run = json.loads((outdir / "run.json").read_text())
        last = (outdir / "history.tsv").read_text().splitlines()[-1]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"arm": label, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "sys_s": round(after.ru_stime - before.ru_stime, 2),
            "cores_busy": round(cpu / wall, 2),
            "train_s": run["train_seconds_this_process"], "last_history_row": last}


def alternating(arms: tuple[str, str], pairs: int) -> Iterator[tuple[int, str]]:
    """``(pair, arm)`` for ``pairs`` pairs, the two arms' order swapped every pair."""
    for i in range(pairs):
        for arm in arms if i % 2 == 0 else arms[::-1]:
            yield i, arm


def training_parser(doc: str, model: str) -> argparse.ArgumentParser:
    """The arguments both thread benches take (``--threads`` is the caller's to add)."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--dataset", type=Path, required=True)
    p.add_argument("--model", default=model)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--bias-model", type=Path, default=None,
                   help="a chrombpnet model's trained bias model.keras")
    return p


def run_pairs(arms: tuple[str, str], args: argparse.Namespace,
              command: Callable[[str, argparse.Namespace, Path], list[str]],
              threads: Callable[[str], int], extra: dict, out_name: str
              ) -> dict[str, list[dict]]:
    """:func:`timed_run` of each arm in ``args.pairs`` :func:`alternating` pairs; each row
    (with ``pair``, ``model``, ``epochs``, ``cpus`` and ``extra``) printed and appended as a
    JSON line to ``OUT / out_name``. Returns the rows by arm, in pair order."""
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, arm in alternating(arms, args.pairs):
        row = timed_run(arm, partial(command, arm, args), threads(arm)) | {
            "pair": i, "model": args.model, "epochs": args.epochs, **extra,
            "cpus": os.cpu_count()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    with open(OUT / out_name, "a") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    return {a: [r for r in rows if r["arm"] == a] for a in arms}


def entry_point_arms(baseline_code: str) -> Callable[[str, argparse.Namespace, Path], list[str]]:
    """The training command of each arm, for :func:`run_pairs`: arm ``seq2func`` runs the
    ``seq2func`` entry point (``main()``), any other arm ``python -c baseline_code`` with the
    same arguments (``args.threads`` threads)."""
    def command(arm: str, args: argparse.Namespace, outdir: Path) -> list[str]:
        head = [sys.executable, "-m", "seq2func"] if arm == "seq2func" else [
            sys.executable, "-c", baseline_code]
        return head + train_subcommand(args, args.threads, outdir)
    return command


def speed_up_summary(by: dict[str, list[dict]], baseline: str, new: str) -> str:
    """Median wall seconds of both arms and the median paired ratio baseline / new."""
    ratio = statistics.median(b["wall_s"] / n["wall_s"]
                              for b, n in zip(by[baseline], by[new], strict=True))
    return (f"wall seconds, median: {baseline} "
            f"{statistics.median(r['wall_s'] for r in by[baseline]):.1f}, {new} "
            f"{statistics.median(r['wall_s'] for r in by[new]):.1f}; speed-up {ratio:.2f}x")


def identical_losses(by: dict[str, list[dict]]) -> bool:
    """Whether every run of every arm ended on the same losses (its last history row without
    the timing columns)."""
    return len({r["last_history_row"].rsplit("\t", 2)[0] for rs in by.values() for r in rs}) == 1


def main() -> int:
    p = training_parser(__doc__, "basset")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    by = run_pairs(("snakemake_env", "seq2func"), args, entry_point_arms(WITHOUT_MAIN),
                   lambda arm: args.threads, {"threads": args.threads}, "results.jsonl")
    print(f"{speed_up_summary(by, 'snakemake_env', 'seq2func')}; "
          f"identical losses: {identical_losses(by)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
