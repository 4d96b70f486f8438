"""Entry points of the preprocessing stage (one per subcommand) and the all-in-one run.

The workflow runs :func:`~seq2func.preprocess.plan.make_plan`, one
:func:`~seq2func.preprocess.chrom.process_job` per planned job, :func:`gather_dataset`
and :func:`draw_qc` as separate jobs; :func:`run_all` runs the same steps in one process (for
scripts, tests and the benchmark).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from seq2func.core.provenance import write_provenance
from seq2func.dataset import Dataset, DatasetMeta
from seq2func.preprocess.chrom import process_job
from seq2func.preprocess.gather import gather, shard_dir, stats_paths
from seq2func.preprocess.jobs import plan_jobs
from seq2func.preprocess.plan import load_plan, make_plan
from seq2func.preprocess.samples import SampleInput
from seq2func.preprocess.settings import PreprocessSettings


def _plan_inputs(plan: Mapping[str, Any]) -> list[str]:
    """The files a dataset is made from (recorded with checksums in its provenance)."""
    inputs = [plan["genome"]["path"]] + [s["bigwig"] for s in plan["samples"]]
    inputs += [s["peaks"] for s in plan["samples"]]
    return inputs + ([plan["blacklist"]] if plan["blacklist"] else [])


def gather_dataset(plan_dir: str | Path, dataset_dir: str | Path, qc_table: str | Path,
                   stats_files: Sequence[str | Path] | None = None) -> DatasetMeta:
    """:func:`~seq2func.preprocess.gather.gather`, with provenance of ``dataset.json`` and QC."""
    meta = gather(plan_dir, dataset_dir, qc_table, stats_files)
    plan, _ = load_plan(plan_dir)
    for out in (Path(dataset_dir) / "dataset.json", Path(qc_table)):
        write_provenance(out, step="preprocess", inputs=_plan_inputs(plan), config=plan["params"],
                         extra={"n_regions": meta.n_regions})
    return meta


def draw_qc(plan_dir: str | Path, dataset_dir: str | Path, table: str | Path,
            figure: str | Path) -> None:
    """The per-sample QC figure (format from the suffix: .svg or .pdf), with provenance."""
    import pandas as pd

    from seq2func.preprocess.qc import qc_figure

    plan, _ = load_plan(plan_dir)
    ds = Dataset(dataset_dir)
    qc_figure(pd.read_csv(table, sep="\t"), ds.regions(), plan, figure)
    write_provenance(figure, step="preprocess-qc", inputs=[table, ds.dir / "regions.tsv.gz"],
                     config=plan["params"])


def run_all(genome: str | Path, samples: Sequence[SampleInput], params: PreprocessSettings,
            split_cfg: Mapping[str, Any], dataset_dir: str | Path,
            blacklist: str | Path | None = None, qc_table: str | Path | None = None,
            study: str = "study", progress: bool = False, threads: int = 1,
            qc_figure: str | Path | None = None) -> DatasetMeta:
    """Plan, run every job and gather in this process (the workflow's steps and layout).

    ``qc_table`` (and ``qc_figure``) are written when given.
    """
    ddir = Path(dataset_dir)
    plan = make_plan(genome, samples, params, split_cfg, ddir / "plan", blacklist, study)
    jobs = [j["name"] for j in plan_jobs(plan)]
    stats = stats_paths(ddir, jobs)
    for job, path in tqdm(list(zip(jobs, stats, strict=True)), desc="jobs",
                          disable=not progress):
        process_job(ddir / "plan", job, shard_dir(ddir, job), path, threads=threads)
    if qc_table is None:
        return gather(ddir / "plan", ddir, None, stats)
    meta = gather_dataset(ddir / "plan", ddir, qc_table, stats)
    if qc_figure is not None:
        draw_qc(ddir / "plan", ddir, qc_table, qc_figure)
    return meta
