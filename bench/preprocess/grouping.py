"""Workflow wall time of preprocessing with small chromosomes grouped into jobs or not.

Runs the real Snakemake workflow on a study (default: the 65-contig human example,
``config/examples/hg38_dnase.yaml``) in a scratch directory: once up to the ingested inputs,
then, alternating for ``--rounds`` rounds, the preprocessing steps from scratch (the dataset
directory deleted; plan, chromosome jobs, gather) with ``preprocess.group_bases`` at its
default (small contigs share a job) and at 1 (one job per contig, the layout before). Both
must give the same regions and shards (checked: ``regions.tsv.gz`` without its shard column
and the md5 of every shard). Prints the median seconds of each and the ratio.

    python bench/preprocess/grouping.py --workdir /tmp/grouping --rounds 3
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _snakemake(workdir: Path, configs: list[Path], target: str, cores: int,
               fresh: Path | None = None) -> float:
    cmd = [sys.executable, "-m", "snakemake", target, "-s", str(REPO / "Snakefile"),
           "-d", str(workdir), "--cores", str(cores), "--quiet", "all",
           "--configfile", *map(str, configs)]
    if fresh is not None:  # the dataset is rebuilt from scratch (plan, jobs, gather)
        shutil.rmtree(fresh, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=workdir, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _content(dataset: Path) -> str:
    """md5 of the regions (without the shard column) and of every shard, in order."""
    h = hashlib.md5()
    with gzip.open(dataset / "regions.tsv.gz", "rt") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        drop = header.index("shard")
        for line in fh:
            cols = line.rstrip("\n").split("\t")
            h.update("\t".join(c for i, c in enumerate(cols) if i != drop).encode())
    for s in json.loads((dataset / "dataset.json").read_text())["shards"]:
        h.update(s["md5"].encode() if "md5" in s else (dataset / s["path"]).read_bytes())
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=str(REPO / "config/examples/hg38_dnase.yaml"))
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    wd = Path(args.workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    for name in ("config", "resources"):  # relative paths of the example configs
        link = wd / name
        if not link.exists():
            link.symlink_to(REPO / name)
    lines = Path(args.config).read_text().splitlines()
    study = next(ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("study:"))
    target = f"results/{study}/dataset/dataset.json"
    one = wd / "one_job_per_chromosome.yaml"
    one.write_text("preprocess:\n  group_bases: 1\n")
    base = [Path(args.config)]
    _snakemake(wd, base, target, args.cores)  # ingest + a first build (untimed)
    times: dict[str, list[float]] = {"grouped": [], "per_chromosome": []}
    content: dict[str, str] = {}
    jobs: dict[str, int] = {}
    for r in range(args.rounds):
        order = ["grouped", "per_chromosome"] if r % 2 == 0 else ["per_chromosome", "grouped"]
        for which in order:
            cfg = base if which == "grouped" else [*base, one]
            times[which].append(_snakemake(wd, cfg, target, args.cores,
                                           fresh=wd / f"results/{study}/dataset"))
            content[which] = _content(wd / f"results/{study}/dataset")
            plan = json.loads((wd / f"results/{study}/dataset/plan/plan.json").read_text())
            jobs[which] = len(plan["jobs"])
    med = {k: statistics.median(v) for k, v in times.items()}
    print(json.dumps({"study": study, "chromosomes": len(plan["chromosomes"]),
                      "jobs": jobs, "seconds": times, "median": med,
                      "ratio_per_chromosome_over_grouped": med["per_chromosome"] / med["grouped"],
                      "same_content": content["grouped"] == content["per_chromosome"]}, indent=1))


if __name__ == "__main__":
    main()
