"""Subcommands of the preprocess stage: training sets (``preprocess``, ``preprocess-plan``,
``-chrom``, ``-gather``, ``-qc``) and the library QC before training (``library-qc``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from seq2func.cli.args import add_dataset, add_params, json_arg

log = logging.getLogger("seq2func")


def _add_inputs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--genome", required=True,
                   help="genome FASTA (plain or bgzip) or 2bit; chromosome names are the "
                        "reference the other files are harmonised to")
    p.add_argument("--samples", required=True,
                   help="samples table (TSV): task order, assay, cell type")
    p.add_argument("--bigwigs", nargs="+", default=None,
                   help="bigWigs in samples-table order (default: the table's 'signal' column)")
    p.add_argument("--peaks", nargs="+", default=None,
                   help="narrowPeak/BED files in table order (default: the 'peaks' column)")
    p.add_argument("--blacklist", default=None, help="BED of regions to avoid (optional)")
    add_params(p, "preprocess")
    p.add_argument("--split", required=True,
                   help='JSON object: the config\'s \'split\' section, e.g. '
                        '\'{"valid": ["chr5"], "test": ["chr2"]}\'')
    p.add_argument("--study", default="study", help="study name recorded in the metadata")


def _inputs(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from seq2func.preprocess import PreprocessSettings, samples_from_table

    params = PreprocessSettings.from_config(json_arg(args.params, "--params"), source="--params")
    samples = samples_from_table(args.samples, args.bigwigs, args.peaks)
    return params, samples, json_arg(args.split, "--split")


def _add_preprocess(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess", help="build a training set in one process (plan, every "
                                          "chromosome, gather, QC)",
                       description="Build a training set from a genome, bigWigs and peaks in "
                                   "one process. The workflow runs the same steps as separate "
                                   "jobs (preprocess-plan, -job, -gather, -qc).")
    _add_inputs_args(p)
    p.add_argument("--outdir", required=True, help="dataset directory")
    p.add_argument("--qc-dir", default=None, help="where to write the QC table and figure")
    p.add_argument("--threads", type=int, default=1,
                   help="threads compressing shard chunks while reading goes on")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=_run_preprocess)


def _run_preprocess(args: argparse.Namespace) -> int:
    from seq2func.preprocess import run_all

    params, samples, split = _inputs(args)
    qc_dir = Path(args.qc_dir) if args.qc_dir else None
    meta = run_all(args.genome, samples, params, split, args.outdir, args.blacklist,
                   qc_dir / "preprocess_qc.tsv" if qc_dir else None, study=args.study,
                   progress=not args.no_progress, threads=args.threads,
                   qc_figure=qc_dir / "preprocess_qc.svg" if qc_dir else None)
    log.info("dataset with %d regions in %s", meta.n_regions["total"], args.outdir)
    return 0


def _add_preprocess_plan(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess-plan", help="check preprocessing inputs, plan the "
                                               "preprocessing jobs",
                       description="Check genome, bigWigs, peaks, blacklist and split; write "
                                   "plan.json and summits.npz into OUTDIR.")
    _add_inputs_args(p)
    p.add_argument("--outdir", required=True, help="plan directory (dataset/plan)")
    p.set_defaults(func=_run_preprocess_plan)


def _run_preprocess_plan(args: argparse.Namespace) -> int:
    from seq2func.preprocess import make_plan

    params, samples, split = _inputs(args)
    make_plan(args.genome, samples, params, split, args.outdir, args.blacklist, args.study)
    return 0


def _add_preprocess_chrom(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess-chrom", help="build the shard of one chromosome",
                       description="Select regions of one chromosome and write its HDF5 shard "
                                   "and statistics.")
    p.add_argument("--chrom", required=True, help="chromosome (genome name)")
    p.add_argument("--shard", required=True, help="output HDF5 shard")
    _add_shard_job_args(p, stats="output statistics (.json)")
    p.set_defaults(func=_run_preprocess_chrom)


def _add_shard_job_args(p: argparse.ArgumentParser, stats: str) -> None:
    """Arguments shared by the jobs that write shards (preprocess-chrom, preprocess-job)."""
    p.add_argument("--plan-dir", required=True, help="directory of plan.json and summits.npz")
    p.add_argument("--stats", required=True, help=stats)
    p.add_argument("--threads", type=int, default=1,
                   help="threads compressing shard chunks while reading goes on")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _run_preprocess_chrom(args: argparse.Namespace) -> int:
    from seq2func.preprocess import process_chromosome

    process_chromosome(args.plan_dir, args.chrom, args.shard, args.stats,
                       progress=not args.no_progress, threads=args.threads)
    return 0


def _add_preprocess_job(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess-job", help="build the shards of one planned job",
                       description="Select regions of every chromosome of one job of the plan "
                                   "(a large chromosome, or a group of small ones) and write "
                                   "SHARD_DIR/<chrom>.h5 per chromosome and the job's "
                                   "statistics.")
    p.add_argument("--job", required=True, help="job name (plan.json: jobs)")
    p.add_argument("--shard-dir", required=True, help="output directory of the shards")
    _add_shard_job_args(p, stats="output statistics of the job (.json)")
    p.set_defaults(func=_run_preprocess_job)


def _run_preprocess_job(args: argparse.Namespace) -> int:
    from seq2func.preprocess import process_job

    process_job(args.plan_dir, args.job, args.shard_dir, args.stats,
                progress=not args.no_progress, threads=args.threads)
    return 0


def _add_preprocess_gather(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess-gather", help="gather per-chromosome shards into a dataset",
                       description="Write regions.tsv.gz, dataset.json and the QC table.")
    p.add_argument("--plan-dir", required=True, help="directory of plan.json and summits.npz")
    add_dataset(p, "dataset directory")
    p.add_argument("--qc-table", required=True, help="output per-sample QC table (TSV)")
    p.add_argument("--stats", nargs="+", default=None,
                   help="statistics of every preprocessing job (each chromosome names its "
                        "shard); default: DATASET_DIR/chroms/<job>.stats.json of every "
                        "planned job")
    p.set_defaults(func=_run_preprocess_gather)


def _run_preprocess_gather(args: argparse.Namespace) -> int:
    from seq2func.preprocess import gather_dataset

    gather_dataset(args.plan_dir, args.dataset_dir, args.qc_table, args.stats)
    return 0


def _add_preprocess_qc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess-qc", help="draw the preprocessing QC figure",
                       description="Draw the per-sample QC figure (vector format from the "
                                   "suffix: .svg or .pdf).")
    p.add_argument("--plan-dir", required=True, help="directory of plan.json")
    add_dataset(p, "dataset directory")
    p.add_argument("--qc-table", required=True, help="QC table written by preprocess-gather")
    p.add_argument("--figure", required=True, help="output figure (.svg or .pdf)")
    p.set_defaults(func=_run_preprocess_qc)


def _run_preprocess_qc(args: argparse.Namespace) -> int:
    from seq2func.preprocess import draw_qc

    draw_qc(args.plan_dir, args.dataset_dir, args.qc_table, args.figure)
    return 0


def _add_library_qc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("library-qc", help="FRiP and TSS enrichment of every sample (ENCODE)",
                       description="FRiP (signal in merged peaks / signal on the kept "
                                   "chromosomes) and TSS enrichment (ENCODE/ArchR) of every "
                                   "sample of a preprocessing plan: a metric table (library_qc) "
                                   "the quality gates read, the TSS profiles and a figure.")
    p.add_argument("--plan-dir", required=True, help="directory of plan.json")
    p.add_argument("--annotation", default=None,
                   help="GTF/GFF3 of the genome (without: TSS enrichment is not available)")
    p.add_argument("--assembly", default="unspecified",
                   help="assembly name recorded in the table (gates select their standard by "
                        "it, e.g. GRCh38)")
    add_params(p, "library_qc")
    p.add_argument("--table", required=True, help="output metric table (TSV)")
    p.add_argument("--profiles", required=True, help="output TSS profiles (TSV)")
    p.add_argument("--figure", default=None, help="output figure (.svg or .pdf)")
    p.set_defaults(func=_run_library_qc)


def _run_library_qc(args: argparse.Namespace) -> int:
    from seq2func.preprocess.library_qc import LibraryQCSettings, run_library_qc

    settings = LibraryQCSettings.from_config(json_arg(args.params, "--params"),
                                             source="--params")
    run_library_qc(args.plan_dir, args.annotation, args.assembly, settings, args.table,
                   args.profiles, args.figure)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""

    _add_preprocess(sub)
    _add_preprocess_plan(sub)
    _add_preprocess_chrom(sub)
    _add_preprocess_job(sub)
    _add_preprocess_gather(sub)
    _add_preprocess_qc(sub)
    _add_library_qc(sub)
