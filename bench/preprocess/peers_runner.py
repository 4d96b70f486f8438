"""One contender of ``bench/preprocess/peers.py``, timed inside this process (not a test).

Run by ``peers.py`` as ``python peers_runner.py SPEC.json OUT.json`` with the interpreter of
the contender: the main venv for ``ours`` (seq2func), the peers' venv (``peers_venv.sh``) for
the others. Imports happen before the clock starts, so interpreter start-up and imports are
never timed. Each contender extracts, for the same windows (seq2func's final regions), the
signal of every track over the stored signal window and (except ``crested`` and ``raw``) the
stored sequence window; the per-track sums and a digest of the sequences are computed after
the clock stops and returned for the identity check.

Contenders
----------
``ours``
    seq2func's whole job: plan, every chromosome job serially, gather (with the QC table).
``crested``
    ``crested.import_bigwigs(target="mean")`` on a BED file of the signal windows.
``pybigtools``
    A per-window loop: ``pybigtools`` ``values`` per window and track, pyfaidx per window.
``pybigwig``
    The same loop with ``pyBigWig.values(..., numpy=True)``.
``raw``
    ``pyBigWig.values(chrom, 0, size, numpy=True)`` for every chromosome and track, only.
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: ASCII byte -> code (A0 C1 G2 T3, anything else N4), as seq2func encodes
ASCII_TO_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate("ACGT"):
    ASCII_TO_CODE[ord(_b)] = _i
    ASCII_TO_CODE[ord(_b.lower())] = _i

Result = dict[str, Any]


def read_windows(spec: dict[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The windows per chromosome, in regions.tsv order: ``{chrom: (seq_start, sig_start)}``."""
    rows = np.loadtxt(spec["windows"], dtype=str, delimiter="\t", ndmin=2)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for chrom in dict.fromkeys(rows[:, 0]):
        m = rows[:, 0] == chrom
        out[str(chrom)] = (rows[m, 1].astype(np.int64), rows[m, 2].astype(np.int64))
    return out


class Checks:
    """Per-track signal sums and an md5 of the sequence codes, accumulated chromosome-wise."""

    def __init__(self, n_tracks: int) -> None:
        self.sums = np.zeros(n_tracks)
        self.md5 = hashlib.md5()
        self.windows = 0

    def add(self, signal: np.ndarray, codes: np.ndarray | None) -> None:
        """Add ``signal (n, T, W)`` and ``codes (n, L)`` (or None) of one chromosome."""
        self.sums += signal.sum(axis=(0, 2), dtype=np.float64)
        self.windows += signal.shape[0]
        if codes is not None and codes.size:
            self.md5.update(memoryview(np.ascontiguousarray(codes)).cast("B"))

    def result(self, with_sequence: bool = True) -> Result:
        return {"track_sums": self.sums.tolist(), "windows": self.windows,
                "sequence_md5": self.md5.hexdigest() if with_sequence else None}


def loop_contender(spec: dict[str, Any], open_track: Callable[[str], Any],
                   read: Callable[[Any, str, int, int], np.ndarray]) -> Result:
    """Per-window loop: one ``read`` per window and track, one pyfaidx fetch per window.

    Only the extraction into per-chromosome arrays is timed (the checks are not).
    """
    import pyfaidx

    windows = read_windows(spec)
    L, W = int(spec["sequence_length"]), int(spec["signal_length"])
    t0 = time.perf_counter()
    fa = pyfaidx.Fasta(spec["genome"], as_raw=True, sequence_always_upper=True)
    tracks = [open_track(p) for p in spec["bigwigs"]]
    seconds = time.perf_counter() - t0
    checks = Checks(len(tracks))
    for chrom, (seq_start, sig_start) in windows.items():
        t0 = time.perf_counter()
        n = seq_start.size
        codes = np.empty((n, L), dtype=np.uint8)
        signal = np.empty((n, len(tracks), W), dtype=np.float32)
        record = fa[chrom]
        for i in range(n):
            s = int(seq_start[i])
            codes[i] = ASCII_TO_CODE[np.frombuffer(record[s:s + L].encode("ascii"), np.uint8)]
            g = int(sig_start[i])
            for t, bw in enumerate(tracks):
                signal[i, t] = read(bw, chrom, g, g + W)
        seconds += time.perf_counter() - t0
        checks.add(signal, codes)
        del codes, signal  # one chromosome's arrays at a time
    return {"seconds": seconds, **checks.result()}


def run_pybigtools(spec: dict[str, Any]) -> Result:
    """pybigtools ``values`` per window and track (missing data = 0) + pyfaidx."""
    import pybigtools

    return loop_contender(spec, lambda p: pybigtools.open(p, "r"),
                          lambda bw, c, a, b: bw.values(c, a, b, missing=0.0))


def run_pybigwig(spec: dict[str, Any]) -> Result:
    """pyBigWig ``values(numpy=True)`` per window and track (NaN -> 0) + pyfaidx."""
    import pyBigWig

    return loop_contender(spec, pyBigWig.open,
                          lambda bw, c, a, b: np.nan_to_num(bw.values(c, a, b, numpy=True)))


def run_raw(spec: dict[str, Any]) -> Result:
    """Whole-chromosome reads of every track; only the reads are timed.

    The window sums are then taken from the arrays read (untimed), so the check also covers
    this contender.
    """
    import pyBigWig

    windows = read_windows(spec)
    W = int(spec["signal_length"])
    seconds = 0.0
    checks = Checks(len(spec["bigwigs"]))
    sums = np.zeros(len(spec["bigwigs"]))
    for t, path in enumerate(spec["bigwigs"]):
        t0 = time.perf_counter()
        bw = pyBigWig.open(path)
        seconds += time.perf_counter() - t0
        for chrom in spec["chromosomes"]:
            t0 = time.perf_counter()
            v = bw.values(chrom, 0, int(spec["sizes"][chrom]), numpy=True)
            seconds += time.perf_counter() - t0
            # window by window, so that the check adds no memory to the peak RSS
            for g in windows.get(chrom, (None, np.zeros(0, dtype=np.int64)))[1]:
                sums[t] += float(np.nansum(v[g:g + W], dtype=np.float64))
            del v
        bw.close()
    checks.sums = sums
    checks.windows = sum(w[1].size for w in windows.values())
    return {"seconds": seconds, **checks.result(with_sequence=False)}


def run_crested(spec: dict[str, Any]) -> Result:
    """``crested.import_bigwigs`` (region means, missing = 0) over the signal windows' BED."""
    import crested

    t0 = time.perf_counter()
    adata = crested.import_bigwigs(list(spec["bigwigs"]), spec["bed"],
                                   chromsizes_file=spec["chrom_sizes"], target="mean")
    seconds = time.perf_counter() - t0
    order = {p: i for i, p in enumerate(adata.obs["file_path"])}
    x = np.asarray(adata.X, dtype=np.float64)[[order[p] for p in spec["bigwigs"]]]
    return {"seconds": seconds, "track_sums": (x.sum(axis=1) * int(spec["signal_length"])).tolist(),
            "windows": int(x.shape[1]), "sequence_md5": None}


def run_ours(spec: dict[str, Any]) -> Result:
    """seq2func's whole job in this process (as bench/preprocess/run.py times it)."""
    import h5py

    from seq2func.preprocess import (
        PreprocessSettings,
        SampleInput,
        gather,
        make_plan,
        process_chromosome,
    )

    o = spec["ours"]
    out = Path(o["outdir"])
    shutil.rmtree(out, ignore_errors=True)
    samples = [SampleInput(**s) for s in o["samples"]]
    params = PreprocessSettings.from_config(o["params"])
    t0 = time.perf_counter()
    plan = make_plan(o["genome"], samples, params, o["split"], out / "plan", o["blacklist"],
                     o["study"])
    t1 = time.perf_counter()
    stages = {"plan": t1 - t0, "chromosome_jobs": 0.0, "gather": 0.0}
    for chrom in plan["chromosomes"]:
        st = process_chromosome(out / "plan", chrom, out / "shards" / f"{chrom}.h5",
                                out / "chroms" / f"{chrom}.stats.json", threads=1)
        for k, v in st["seconds"].items():
            stages[f"job.{k}"] = stages.get(f"job.{k}", 0.0) + v
    t2 = time.perf_counter()
    gather(out / "plan", out, out / "qc.tsv")
    seconds = time.perf_counter() - t0
    stages.update(chromosome_jobs=t2 - t1, gather=seconds - (t2 - t0))
    rss = peak_rss_mb()  # before the checks read the shards back
    checks = Checks(len(samples))
    for chrom in plan["chromosomes"]:
        with h5py.File(out / "shards" / f"{chrom}.h5", "r") as f:
            checks.add(f["signal"][:], f["sequence"][:])
    with open(out / "regions.tsv.gz", "rb") as fh:
        regions_md5 = hashlib.md5(fh.read()).hexdigest()
    return {"seconds": seconds, **checks.result(), "regions_md5": regions_md5,
            "peak_rss_mb": rss, "stages": stages}


CONTENDERS: dict[str, Callable[[dict[str, Any]], Result]] = {
    "ours": run_ours, "crested": run_crested, "pybigtools": run_pybigtools,
    "pybigwig": run_pybigwig, "raw": run_raw}


def peak_rss_mb() -> float:
    """Peak RSS of this process or of its largest child (CREsted's workers), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = CONTENDERS[spec["contender"]](spec)
    result.setdefault("peak_rss_mb", peak_rss_mb())
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
