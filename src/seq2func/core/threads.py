"""Thread settings of a seq2func process that must be made before heavy libraries start."""

from __future__ import annotations

import os


def keep_openmp_out_of_tensorflow(environ: dict[str, str] | None = None) -> None:
    """One OpenMP thread when ``OMP_NUM_THREADS`` is set above 1 (TensorFlow uses its own pools).

    Snakemake exports ``OMP_NUM_THREADS={threads}`` to every job. With it set above 1,
    TensorFlow's CPU kernels run OpenMP threads beside its own thread pools (sized by
    ``--threads``, ``train.runtime.configure_runtime``) and they contend: the demo's
    chrombpnet training job took 217 s under Snakemake and 161 s alone, with identical losses
    (``bench/threads/run_bench.py``). The job's thread count is kept for BLAS
    (``OPENBLAS_NUM_THREADS``, unless already set), which reads it at import. Must run before
    TensorFlow starts its runtime; unset, nothing changes (TensorFlow's own default).

    Parameters
    ----------
    environ
        The environment to change (``os.environ``, the default).
    """
    env = os.environ if environ is None else environ
    omp = env.get("OMP_NUM_THREADS")
    if omp is None or omp.strip() == "1":
        return
    env.setdefault("OPENBLAS_NUM_THREADS", omp)
    env["OMP_NUM_THREADS"] = "1"
