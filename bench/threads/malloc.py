"""Benchmark: a training job with and without :func:`seq2func.core.threads.retain_freed_memory`.

Both arms run the workflow's ``seq2func train-accessibility`` command for ``--model`` (the
config's spec and settings, ``--epochs`` epochs) in a fresh process under Snakemake's
``OMP_NUM_THREADS={threads}``:

* ``glibc_default`` (baseline) - the subcommand is dispatched with the CLI's OpenMP setting but
  without the malloc setting, so glibc maps and unmaps a training step's large tensors anew
  every step, as before the change;
* ``seq2func`` - the ``seq2func`` entry point (``main()``), which keeps freed memory for reuse.

Runs alternate (``--pairs`` pairs); each records wall and CPU seconds, the process's own training
seconds and the final losses, which must be equal. Rows are appended as JSON lines to
``bench/out/threads/malloc.jsonl``; the summary prints the median ratio and the system (kernel)
share of the CPU time of each arm.

Usage (after a demo run; a chrombpnet model also needs its trained bias model)::

    python bench/threads/malloc.py --dataset results/demo/dataset --model chrombpnet \\
        --bias-model results/demo/models/accessibility/chrombpnet/bias/model.keras \\
        --epochs 3 --pairs 2
"""

from __future__ import annotations

import statistics

from run_bench import (
    entry_point_arms,
    identical_losses,
    run_pairs,
    speed_up_summary,
    training_parser,
)

#: ``seq2func.cli.main`` minus :func:`retain_freed_memory`
WITHOUT_MALLOPT = (
    "import sys; from seq2func.cli import build_parser; "
    "from seq2func.core.threads import keep_openmp_out_of_tensorflow as k; k(); "
    "a = build_parser().parse_args(sys.argv[1:]); sys.exit(a.func(a) or 0)")


def main() -> int:
    p = training_parser(__doc__, "chrombpnet")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    by = run_pairs(("glibc_default", "seq2func"), args, entry_point_arms(WITHOUT_MALLOPT),
                   lambda arm: args.threads, {"threads": args.threads}, "malloc.jsonl")
    sys_share = {arm: statistics.median(r["sys_s"] / r["cpu_s"] for r in rows)
                 for arm, rows in by.items()}
    print(f"{speed_up_summary(by, 'glibc_default', 'seq2func')}; kernel share of CPU time "
          f"{sys_share['glibc_default']:.2f} -> {sys_share['seq2func']:.2f}; "
          f"identical losses: {identical_losses(by)}")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
