"""Benchmark the two bigWig read strategies of a chromosome job (not a test).

Three steps, each its own command (the seq2func on ``PYTHONPATH`` is the one measured)::

    # a plan of a real bundle or of the small simulated demo
    python bench/preprocess/read_strategy.py plan hg38 OUT/hg38
    python bench/preprocess/read_strategy.py plan yeast OUT/yeast
    python bench/preprocess/read_strategy.py plan demo OUT/demo
    # dense vs sparse on one chromosome, its windows subsampled to several densities
    python bench/preprocess/read_strategy.py density OUT/yeast chrIV --repeats 5
    # what one pyBigWig read costs: per base of whole blocks, per call of short spans
    python bench/preprocess/read_strategy.py calls TRACK.bw chrIV
    # every chromosome job of a plan (a forced strategy, or "auto"), repeated; digests
    python bench/preprocess/read_strategy.py jobs OUT/hg38 --strategy auto --repeats 3

``density`` times :func:`seq2func.preprocess.chrom._write_shard` (reading, cutting, compressing
and writing the shard) with both strategies in the same process on the same regions,
alternating, and prints the median seconds and ``sparse / dense``. ``jobs`` prints the median
wall time of each repeat (all chromosome jobs serially), then a digest per chromosome (shard
md5 and the statistics but their ``seconds``) and the md5 of ``regions.tsv.gz``, so that runs
of two code versions can be compared (``auto`` runs also work on code without strategies).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from seq2func.preprocess import (
    PreprocessSettings,
    SampleInput,
    gather,
    make_plan,
    process_chromosome,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = (REPO / ".." / "shared" / "data").resolve()
HG38 = SHARED / "human_hg38_borzoi_tiny_65regions"
YEAST = SHARED / "yeast_sacCer3_atac_rnaseq"


def _hg38_plan(out: Path) -> None:
    """The hg38_dnase example study: 10 DNase tracks over 65 windows, the bundle's split."""
    cfg = yaml.safe_load((REPO / "config/examples/hg38_dnase.yaml").read_text())
    table = pd.read_csv(REPO / cfg["samples"], sep="\t", comment="#", dtype=str)
    real = {p: str(SHARED / Path(*Path(p).parts[3:]))  # (../shared/data/...)
            for c in ("signal", "peaks") for p in table[c]}
    samples = [SampleInput(r["sample"], r["assay"], r["cell_type"], real[r["signal"]],
                           real[r["peaks"]]) for _, r in table.iterrows()]
    params = PreprocessSettings.from_config({"chromosomes": cfg["download"]["chromosomes"]})
    make_plan(HG38 / "regions_hg38.fa", samples, params, cfg["split"], out / "plan",
              REPO / cfg["download"]["blacklist"], "hg38_dnase")


def _yeast_plan(out: Path) -> None:
    """The yeast ATAC-seq samples of tests/preprocess/test_preprocess_yeast.py."""
    prefix = YEAST / "atac_SRR1822137_500k"
    samples = [SampleInput("cuts_macs3", "ATAC", "yeast", f"{prefix}.tn5_cutsites.bw",
                           f"{prefix}.macs3_q0.01.narrowPeak"),
               SampleInput("coverage_hmmratac", "ATAC", "yeast",
                           f"{prefix}.fragment_coverage.bw",
                           f"{prefix}.hmmratac_accessible.narrowPeak")]
    make_plan(YEAST / "sacCer3_R64.fa", samples, PreprocessSettings.from_config({}),
              {"valid": ["XI"], "test": ["chrIV"]}, out / "plan", None, "yeast")


def _demo_plan(out: Path, simulate: dict | None = None, split: dict | None = None,
               params: dict | None = None) -> None:
    """The demo study of ``config/config.yaml``: simulated (unless ``out/simulated`` holds a
    simulation), preprocessed as configured there (``simulate`` keys, the ``split`` and
    ``preprocess`` keys replaced, if given)."""
    from seq2func.core.config import load_samples
    from seq2func.simulate import DemoPaths, SimulationConfig, simulate_demo

    table = load_samples(REPO / "config/samples.tsv", REPO / "workflow/schemas/samples.schema.yaml")
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    sim = out / "simulated"
    if not (sim / "truth" / "simulation.json").is_file():
        simulate_demo(SimulationConfig.from_config({**cfg["simulate"], **(simulate or {})}),
                      table, REPO / "resources/motifs/jaspar2024_demo.jaspar", sim,
                      progress=False)
    paths = DemoPaths(sim)
    samples = [SampleInput(s, r["assay"], r["cell_type"], str(paths.bigwig(s)),
                           str(paths.peaks(s))) for s, r in table.iterrows()]
    split = split or {k: v for k, v in cfg["split"].items() if k in ("valid", "test")}
    settings = PreprocessSettings.from_config({**cfg.get("preprocess", {}), **(params or {})})
    make_plan(paths.fasta, samples, settings, split, out / "plan", paths.blacklist, "demo")


def _median_times(fns: dict[str, object], repeats: int) -> dict[str, float]:
    """Median seconds of each callable, run alternately ``repeats`` times."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _thinned(job: object, fraction: float, rng: np.random.Generator) -> object:
    """The job with a random ``fraction`` of its peaks (its windows follow: peaks and their
    GC-matched background)."""
    import dataclasses

    from seq2func.preprocess.regions import SummitSet

    s = job.summits  # type: ignore[attr-defined]
    keep = rng.random(len(s)) < fraction
    return dataclasses.replace(job, summits=SummitSet(s.sample[keep], s.start[keep],
                                                      s.end[keep], s.summit[keep],
                                                      s.score[keep]))


def density(plan_dir: Path, chrom: str, fractions: list[float], repeats: int,
            gap: int | None) -> None:
    """Time both strategies on ``chrom`` with its peaks subsampled to ``fractions``."""
    import seq2func.preprocess.chrom as chrom_module
    from seq2func.core.sequence import Genome
    from seq2func.preprocess.chrom import ChromJob, RegionRows, _chrom_rng, _Clock, _write_shard
    from seq2func.preprocess.plan import load_plan
    from seq2func.preprocess.regions import select_regions

    if gap is not None:
        chrom_module.SPAN_MERGE_GAP = gap  # (what the gap costs: bench only)
    plan, arrays = load_plan(plan_dir / "plan")
    full = ChromJob.from_plan(plan, arrays, chrom)
    with Genome(full.genome) as genome:
        codes = genome.codes(chrom)
    rng = np.random.default_rng(0)
    print(f"{chrom}: {full.size} bp, {len(full.summits)} peaks, {len(full.tasks)} tracks, "
          f"span merge gap {chrom_module.SPAN_MERGE_GAP}, {repeats} repeats (median)")
    print("| peaks kept | windows | windows/kb | span fraction | dense (s) | sparse (s) | "
          "sparse/dense | chosen |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for f in fractions:
            job = _thinned(full, f, rng)
            p = job.params
            sel = select_regions(chrom, job.size, codes, job.summits, job.blacklist, job.tasks,
                                 job.geometry, merge_distance=p.merge_distance,
                                 blacklist_flank=p.blacklist_flank,
                                 max_n_fraction=p.max_n_fraction,
                                 background_ratio=p.background_ratio, gc_bins=p.gc_bins,
                                 rng=_chrom_rng(p.seed, chrom))
            rows = RegionRows.of(sel.regions, job.tasks, job.geometry)

            def run(strategy: str, job: ChromJob = job, rows: RegionRows = rows) -> None:
                _write_shard(job, codes, rows, "float32", Path(tmp) / f"{strategy}.h5", 1,
                             False, _Clock(), strategy)

            t = _median_times({s: (lambda s=s: run(s)) for s in ("dense", "sparse")}, repeats)
            per_kb = rows.centre.size * 1000 / job.size
            need = chrom_module._needed_intervals(job, rows)
            frac = chrom_module.span_fraction(*need, job.size)
            chosen = chrom_module.choose_read_strategy(*need, job.size)
            print(f"| {f:g} | {rows.centre.size} | {per_kb:.3f} | {frac:.2f} | "
                  f"{t['dense']:.3f} | {t['sparse']:.3f} | {t['sparse'] / t['dense']:.2f} | "
                  f"{chosen} |", flush=True)


def calls(bigwig: Path, chrom: str, n_calls: int = 300) -> None:
    """What a pyBigWig read costs: per base of whole 1 Mb blocks, and per call of short spans."""
    import pyBigWig

    bw = pyBigWig.open(str(bigwig))
    n = bw.chroms()[chrom]
    t0 = time.perf_counter()
    for b0 in range(0, n, 1 << 20):
        bw.values(chrom, b0, min(n, b0 + (1 << 20)), numpy=True)
    per_base = (time.perf_counter() - t0) / n
    rng = np.random.default_rng(0)
    row = [f"{bigwig.name} {chrom}", f"{per_base * 1e9:.2f}"]
    for width in (100, 1128, 10_000):
        starts = np.sort(rng.integers(0, n - width, n_calls))
        t0 = time.perf_counter()
        for a in starts:
            bw.values(chrom, int(a), int(a) + width, numpy=True)
        row.append(f"{(time.perf_counter() - t0) / n_calls * 1e6:.0f}")
    per_call = float(row[3]) * 1e-6
    print("| " + " | ".join(row) + f" | {per_call / per_base / 1000:.0f} |")


def _digest(stats_path: Path) -> str:
    st = json.loads(stats_path.read_text())
    st.pop("seconds", None)
    st.pop("read_strategy", None)
    st.pop("shard", None)
    return hashlib.md5(json.dumps(st, sort_keys=True).encode()).hexdigest()


def jobs(plan_dir: Path, strategy: str, repeats: int, chroms: list[str] | None,
         out: Path) -> None:
    """Run every chromosome job ``repeats`` times; print median seconds and digests."""
    plan = json.loads((plan_dir / "plan" / "plan.json").read_text())
    todo = chroms or plan["chromosomes"]
    kw = {} if strategy == "auto" else {"read_strategy": strategy}
    out.mkdir(parents=True, exist_ok=True)
    walls, per_chrom = [], {c: [] for c in todo}
    for _ in range(repeats):
        t0 = time.perf_counter()
        for c in todo:
            t1 = time.perf_counter()
            process_chromosome(plan_dir / "plan", c, out / "shards" / f"{c}.h5",
                               out / "chroms" / f"{c}.stats.json", **kw)
            per_chrom[c].append(time.perf_counter() - t1)
        walls.append(time.perf_counter() - t0)
    print(f"{strategy}: {len(todo)} chromosome jobs, {repeats} repeats: "
          f"{' '.join(f'{w:.3f}' for w in walls)} s; median {statistics.median(walls):.3f} s")
    used = {json.loads((out / "chroms" / f"{c}.stats.json").read_text()).get(
        "read_strategy", "-") for c in todo}
    print(f"strategies used: {sorted(used)}")
    for c in todo:
        st = json.loads((out / "chroms" / f"{c}.stats.json").read_text())
        print(f"chrom {c} md5 {st['shard_md5']} stats {_digest(out / 'chroms' / f'{c}.stats.json')}"
              f" median {statistics.median(per_chrom[c]):.3f} s")
    if chroms is None:
        gather(plan_dir / "plan", out, None)
        with gzip.open(out / "regions.tsv.gz", "rb") as fh:  # the content (gzip has a mtime)
            print(f"regions.tsv.gz content md5 {hashlib.md5(fh.read()).hexdigest()}")
        print(f"regions.tsv.gz file md5 "
              f"{hashlib.md5((out / 'regions.tsv.gz').read_bytes()).hexdigest()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("plan")
    a.add_argument("study", choices=("hg38", "yeast", "demo"))
    a.add_argument("out", type=Path)
    a.add_argument("--simulate", type=json.loads, default=None,
                   help="demo: simulate keys to replace (JSON)")
    a.add_argument("--split", type=json.loads, default=None, help="demo: the split (JSON)")
    a.add_argument("--params", type=json.loads, default=None,
                   help="demo: preprocess keys to replace (JSON)")
    a = sub.add_parser("density")
    a.add_argument("plan", type=Path)
    a.add_argument("chrom")
    a.add_argument("--fractions", type=float, nargs="+", default=[1, 0.5, 0.25, 0.1, 0.03])
    a.add_argument("--repeats", type=int, default=3)
    a.add_argument("--gap", type=int, default=None, help="span merge gap (bases)")
    a = sub.add_parser("calls")
    a.add_argument("bigwig", type=Path)
    a.add_argument("chrom")
    a = sub.add_parser("jobs")
    a.add_argument("plan", type=Path)
    a.add_argument("--strategy", choices=("auto", "dense", "sparse"), default="auto")
    a.add_argument("--repeats", type=int, default=3)
    a.add_argument("--chroms", nargs="+", default=None)
    a.add_argument("--out", type=Path, default=None, help="default: PLAN/jobs.STRATEGY")
    args = ap.parse_args()
    if args.cmd == "plan":
        if args.study == "demo":
            _demo_plan(args.out, args.simulate, args.split, args.params)
        else:
            {"hg38": _hg38_plan, "yeast": _yeast_plan}[args.study](args.out)
    elif args.cmd == "calls":
        calls(args.bigwig, args.chrom)
    elif args.cmd == "density":
        density(args.plan, args.chrom, args.fractions, args.repeats, args.gap)
    else:
        jobs(args.plan, args.strategy, args.repeats, args.chroms,
             args.out or args.plan / f"jobs.{args.strategy}")


if __name__ == "__main__":
    main()
