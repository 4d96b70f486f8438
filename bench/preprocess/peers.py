"""seq2func's whole preprocessing job side by side with peers, in one run (not a test).

Every contender gets seq2func's own final windows (the regions of the dataset it built, with
the stored sequence and signal window lengths of its geometry) and every track, and runs as
its own process (``peers_runner.py``) timed inside (interpreter start-up and imports are not
timed). Contenders: ``ours`` (plan + every chromosome job serially + gather, with region
selection, background, QC and writing), ``crested`` (``crested.import_bigwigs``, region means
only), ``pybigtools`` and ``pybigwig`` (per-window loops with pyfaidx for the sequence) and
``raw`` (whole-chromosome ``pyBigWig`` reads only). Peers run in a separate venv
(``peers_venv.sh``); seq2func never depends on them.

Protocol: ``--rounds`` rounds (default 5), the order of contenders rotated each round; the
median time per contender, windows/s and the ratio ours/peer (> 1: the peer is faster). Every
run's per-track signal sums (CREsted: mean x window length) and sequence digest are checked
against seq2func's shards. Results: ``bench/out/preprocess/peers.json`` and a markdown table.

Usage::

    bash bench/preprocess/peers_venv.sh                   # /work/bench-venv
    PYTHON=python bash bench/preprocess/simulate.sh g40_4x10
    nice python bench/preprocess/peers.py [--cases yeast hg38 sim_dense sim_sparse]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))

from seq2func.core.config import load_samples  # noqa: E402
from seq2func.dataset import Dataset  # noqa: E402
from seq2func.preprocess import SampleInput, load_plan  # noqa: E402

RUNNER = Path(__file__).resolve().parent / "peers_runner.py"
OUT = REPO / "bench" / "out" / "preprocess"
DATA = Path("/work/shared/data")
CONTENDERS = ("ours", "crested", "pybigtools", "pybigwig", "raw")
#: relative tolerance of the per-track sums (CREsted's means are float32)
SUM_RTOL = 1e-5


@dataclass
class Case:
    """One benchmark case: seq2func's inputs and what the table says about them."""

    name: str
    genome: Path
    samples: list[SampleInput]
    split: dict[str, list[str]]
    params: dict[str, Any] = field(default_factory=dict)
    blacklist: Path | None = None
    description: str = ""


def yeast_case() -> Case:
    """Real yeast ATAC (Tn5 cut sites per base, MACS3 peaks), 16 nuclear chromosomes."""
    d = DATA / "yeast_sacCer3_atac_rnaseq"
    s = SampleInput("yeast_atac", "ATAC", "yeast", str(d / "atac_SRR1822137_500k.tn5_cutsites.bw"),
                    str(d / "atac_SRR1822137_500k.macs3_q0.01.narrowPeak"))
    return Case("yeast", d / "sacCer3_R64.fa", [s], {"valid": ["chrXI"], "test": ["chrIV"]},
                description="sacCer3 12 Mb (chrM excluded), 1 Tn5 cut-site track")


def hg38_case() -> Case:
    """Real human DNase (10 ENCODE tracks, 32-bp bins) over 65 contigs of 131 kb."""
    d = DATA / "human_hg38_borzoi_tiny_65regions"
    table = load_samples(REPO / "config" / "examples" / "hg38_dnase_samples.tsv")
    samples = [SampleInput(str(name), str(r["assay"]), str(r["cell_type"]),
                           str(d / "bigwig" / Path(r["signal"]).name),
                           str(d / "peaks" / Path(r["peaks"]).name))
               for name, r in table.iterrows()]
    bed = pd.read_csv(d / "contigs.hg38.bed", sep="\t")
    split = {s: bed.loc[bed["split"] == s, "#contig"].tolist() for s in ("valid", "test")}
    return Case("hg38", d / "regions_hg38.fa", samples, split,
                description="65 hg38 contigs x 131 kb (8.5 Mb), 10 DNase tracks")


def sim_case(name: str, params: dict[str, Any], description: str) -> Case:
    """The simulated 40 Mb genome ``bench/out/preprocess/g40_4x10`` (simulate.sh)."""
    root = OUT / "g40_4x10"
    table = load_samples(REPO / "bench" / "preprocess" / "samples.tsv")
    samples = [SampleInput(str(s), str(r["assay"]), str(r["cell_type"]),
                           str(root / "signal" / f"{s}.bw"),
                           str(root / "peaks" / f"{s}.narrowPeak"))
               for s, r in table.iterrows()]
    split = {"valid": ["chr2"], "test": ["chr1"]}
    return Case(name, root / "genome" / "genome.fa", samples, split, params,
                root / "genome" / "blacklist.bed", description)


def all_cases() -> dict[str, Case]:
    """Every case by name (the simulated ones need simulate.sh g40_4x10 first)."""
    return {
        "yeast": yeast_case(), "hg38": hg38_case(),
        "sim_dense": sim_case("sim_dense", {}, "simulated 4 x 10 Mb, 6 tracks, all peaks"),
        "sim_sparse": sim_case("sim_sparse", {"max_peaks_per_sample": 400},
                               "simulated 4 x 10 Mb, 6 tracks, max_peaks_per_sample 400")}


def base_spec(case: Case, workdir: Path) -> dict[str, Any]:
    """The part of a runner spec that every contender shares (ours' inputs included)."""
    return {"bigwigs": [s.bigwig for s in case.samples], "genome": str(case.genome),
            "ours": {"genome": str(case.genome),
                     "samples": [dataclasses.asdict(s) for s in case.samples],
                     "params": case.params, "split": case.split,
                     "blacklist": str(case.blacklist) if case.blacklist else None,
                     "study": case.name, "outdir": str(workdir / "ours")}}


def run_contender(spec: dict[str, Any], python: str, workdir: Path) -> dict[str, Any]:
    """Run one contender in its own process and return what its runner measured."""
    spec_path = workdir / f"spec.{spec['contender']}.json"
    out_path = workdir / f"result.{spec['contender']}.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") if spec["contender"] == "ours" else ""
    res = subprocess.run([python, str(RUNNER), str(spec_path), str(out_path)], env=env,
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{spec['contender']} failed:\n{res.stderr[-3000:]}")
    return json.loads(out_path.read_text())


def prepare_windows(case: Case, ref: Path, workdir: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Write the reference dataset's windows (TSV, BED, chrom sizes) and complete ``spec``.

    Parameters
    ----------
    case
        The case.
    ref
        The reference dataset seq2func built (its ``regions.tsv.gz`` and ``dataset.json``).
    workdir
        Where the window files go.
    spec
        The shared spec (updated in place with geometry, window files and chromosomes).

    Returns
    -------
    dict
        Facts about the windows for the table: count, lengths, chromosomes, genome size.
    """
    geo = Dataset(ref).meta.geometry
    plan, _ = load_plan(ref / "plan")
    regions = pd.read_csv(ref / "regions.tsv.gz", sep="\t", usecols=["chrom", "centre"])
    centre = regions["centre"].to_numpy(np.int64)
    seq_start = centre - geo.sequence_stored // 2
    sig_start = centre - geo.signal_stored // 2
    sizes = {c: int(plan["sizes"][c]) for c in plan["chromosomes"]}
    pd.DataFrame({"chrom": regions["chrom"], "seq": seq_start, "sig": sig_start}).to_csv(
        workdir / "windows.tsv", sep="\t", header=False, index=False)
    pd.DataFrame({"chrom": regions["chrom"], "start": sig_start,
                  "end": sig_start + geo.signal_stored}).to_csv(
        workdir / "windows.bed", sep="\t", header=False, index=False)
    pd.Series(plan["sizes"]).to_csv(workdir / "chrom.sizes", sep="\t", header=False)
    spec.update(windows=str(workdir / "windows.tsv"), bed=str(workdir / "windows.bed"),
                chrom_sizes=str(workdir / "chrom.sizes"), sequence_length=geo.sequence_stored,
                signal_length=geo.signal_stored, chromosomes=list(sizes), sizes=sizes)
    return {"windows": len(regions), "sequence_length": geo.sequence_stored,
            "signal_length": geo.signal_stored, "profile_bin": geo.profile_bin,
            "chromosomes": len(sizes), "genome_bp": sum(sizes.values()),
            "tracks": len(case.samples)}


def warm(paths: list[str]) -> None:
    """Read files once so that every contender starts on a warm page cache."""
    for p in paths:
        with open(p, "rb") as fh:
            while fh.read(1 << 24):
                pass


def check(result: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    """Compare a run's windows, per-track sums and sequence digest with the reference."""
    sums, want = np.asarray(result["track_sums"]), np.asarray(ref["track_sums"])
    rel = np.abs(sums - want) / np.maximum(np.abs(want), 1e-12)
    out = {"windows_equal": result["windows"] == ref["windows"],
           "max_rel_sum_diff": float(rel.max()), "sums_equal": bool(rel.max() <= SUM_RTOL),
           "sequence_equal": (None if result["sequence_md5"] is None
                              else result["sequence_md5"] == ref["sequence_md5"])}
    if "regions_md5" in result:
        out["regions_equal"] = result["regions_md5"] == ref["regions_md5"]
    return out


def run_case(case: Case, rounds: int, peer_python: str) -> dict[str, Any]:
    """Build the reference dataset, then time every contender over rotated rounds."""
    workdir = OUT / "peers" / case.name
    workdir.mkdir(parents=True, exist_ok=True)
    spec = base_spec(case, workdir)
    spec["ours"]["outdir"] = str(workdir / "reference")
    ref = run_contender({**spec, "contender": "ours"}, sys.executable, workdir)
    facts = prepare_windows(case, workdir / "reference", workdir, spec)
    spec["ours"]["outdir"] = str(workdir / "ours")
    warm([str(case.genome), *spec["bigwigs"]])
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in CONTENDERS}
    load = [os.getloadavg()[0]]
    for r in range(rounds):
        order = CONTENDERS[r % len(CONTENDERS):] + CONTENDERS[:r % len(CONTENDERS)]
        for name in order:
            python = sys.executable if name == "ours" else peer_python
            res = run_contender({**spec, "contender": name}, python, workdir)
            res["check"] = check(res, ref)
            res["round"] = r
            runs[name].append(res)
            print(f"  {case.name} round {r} {name}: {res['seconds']:.3f} s "
                  f"{res['check']}", flush=True)
        load.append(os.getloadavg()[0])
    return {"case": case.name, "description": case.description, "params": case.params,
            **facts, "reference": {k: ref[k] for k in ("track_sums", "sequence_md5",
                                                      "regions_md5", "windows")},
            "load_average_1min": load, "summary": summarise(runs, facts["windows"]),
            "runs": runs}


def summarise(runs: dict[str, list[dict[str, Any]]], windows: int) -> dict[str, Any]:
    """Median seconds, windows/s, ratio ours/peer, peak RSS and checks per contender."""
    med = {c: statistics.median(r["seconds"] for r in rs) for c, rs in runs.items()}
    out = {}
    for c, rs in runs.items():
        checks = [r["check"] for r in rs]
        out[c] = {"median_seconds": med[c], "seconds": [r["seconds"] for r in rs],
                  "windows_per_s": windows / med[c], "ratio_ours_over_peer": med["ours"] / med[c],
                  "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
                  "max_rel_sum_diff": max(k["max_rel_sum_diff"] for k in checks),
                  "sums_equal": all(k["sums_equal"] and k["windows_equal"] for k in checks),
                  "sequence_equal": (None if checks[0]["sequence_equal"] is None
                                     else all(k["sequence_equal"] for k in checks)),
                  "regions_equal": (all(k["regions_equal"] for k in checks)
                                    if "regions_equal" in checks[0] else None)}
        if "stages" in rs[0]:
            out[c]["stages_median"] = {k: statistics.median(r["stages"][k] for r in rs)
                                       for k in rs[0]["stages"]}
    return out


def markdown(results: list[dict[str, Any]]) -> str:
    """The results as one markdown table (a row per case and contender)."""
    head = ("| case | windows | contender | median (s) | windows/s | ours/peer | peak RSS (MB) |"
            " sums = ours | sequence = ours |")
    lines = [head, "| " + " | ".join(["---"] * 9) + " |"]
    for res in results:
        for c, s in res["summary"].items():
            seq = {None: "-", True: "yes", False: "NO"}[s["sequence_equal"]]
            sums = ("yes" if s["sums_equal"] else "NO") + f" ({s['max_rel_sum_diff']:.0e})"
            lines.append(f"| {res['case']} | {res['windows']} | {c} | {s['median_seconds']:.3f} |"
                         f" {s['windows_per_s']:,.0f} | {s['ratio_ours_over_peer']:.2f} |"
                         f" {s['peak_rss_mb']:.0f} | {sums} | {seq} |")
    lines += ["", "| case | seq2func stage medians (s) |", "| --- | --- |"]
    for res in results:
        stages = res["summary"]["ours"].get("stages_median", {})
        lines.append(f"| {res['case']} | "
                     + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=["yeast", "hg38", "sim_dense", "sim_sparse"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--peer-python", default="/work/bench-venv/bin/python")
    ap.add_argument("--out", default=str(OUT / "peers.json"))
    args = ap.parse_args()
    cases = all_cases()
    results = []
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    for name in args.cases:
        print(f"{name}: {cases[name].description}", flush=True)
        results.append(run_case(cases[name], args.rounds, args.peer_python))
    versions = subprocess.run(
        [args.peer_python, "-c", "from importlib.metadata import version as v; import json; "
         "print(json.dumps({p: v(p) for p in ('crested', 'pybigtools', 'pyBigWig', 'pyfaidx',"
         " 'numpy')}))"], capture_output=True, text=True, check=True).stdout
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"started": started, "rounds": args.rounds,
                                          "cpus": os.cpu_count(),
                                          "peer_versions": json.loads(versions),
                                          "results": results}, indent=1) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
