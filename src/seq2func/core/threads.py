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


#: glibc ``mallopt`` parameters (``malloc.h``)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

#: freed memory up to this size stays with the process (glibc's default returns it at 128 KiB)
RETAIN_BYTES = 1 << 30
#: blocks from this size up are mapped and unmapped on their own (glibc's ceiling for the
#: setting on 64-bit systems; a training step's tensors are smaller)
MMAP_BYTES = 32 << 20
#: extra memory requested from the system each time the heap grows
TOP_PAD_BYTES = 64 << 20


def retain_freed_memory() -> bool:
    """Keep memory that TensorFlow frees for its next step instead of returning it to the system.

    With glibc's defaults, the heaps of TensorFlow's worker threads shrink when a training
    step's tensors are freed and grow again in the next step, and the kernel zeroes every page
    anew: on this project's 2-core machine a third of the demo's chrombpnet training CPU time
    was spent in the kernel doing that (``perf``: ``clear_page_erms`` under page faults).
    Raising glibc's top pad, mmap and trim thresholds (``mallopt``, the settings of the
    ``MALLOC_*_`` environment variables, made from inside the process) keeps freed blocks for
    reuse: the chrombpnet training job is 1.5x faster with identical losses
    (``bench/threads/malloc.py``). The top pad is the setting that counts: TensorFlow's
    ``from_generator`` dataset sets the trim threshold back to 128 KiB when it starts (its log
    says "Memory patch applied"), and a trim still leaves the top pad in the heap; the mmap and
    trim thresholds only serve jobs without that dataset. The cost is resident memory: up to
    :data:`TOP_PAD_BYTES` per heap (and, where the trim threshold holds, up to
    :data:`RETAIN_BYTES` freed memory) stay with the process. Does nothing where the C library
    is not glibc.

    Returns
    -------
    bool
        Whether the C library accepted every setting.
    """
    import ctypes

    try:  # the symbols already loaded into the process, the C library's among them
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no mallopt (macOS) or no dynamic loading
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(bool(mallopt(param, value)) for param, value in (
        (M_MMAP_THRESHOLD, MMAP_BYTES), (M_TRIM_THRESHOLD, RETAIN_BYTES),
        (M_TOP_PAD, TOP_PAD_BYTES)))
