"""Subcommands of the variants stage: variant effects (``score-variants``, ``variant-metrics``)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from seq2func.cli.args import (
    add_dataset,
    add_genome,
    add_params,
    add_runtime,
    json_arg,
    unique_pairs,
)

log = logging.getLogger("seq2func")


def _add_score_variants(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score-variants", help="predict variant effects (VCF in, annotated VCF + TSV out)",
        description="Check REF alleles against the genome (mismatches reported, not scored), "
                    "build reference/alternate windows of SNVs and indels, predict both in "
                    "batches on both strands, and write per-task scores.")
    p.add_argument("--vcf", required=True, help="VCF, plain or gzip/bgzip-compressed")
    add_genome(p)
    p.add_argument("--model", required=True, nargs="+",
                   help="accessibility model.keras (several: their seed ensemble)")
    p.add_argument("--model-name", required=True, help="model name (INFO descriptions)")
    add_dataset(p, "dataset directory (task names)")
    add_params(p, "variants")
    p.add_argument("--expression-model", nargs="+",
                   help="sequence-only expression model.keras (several: their seed ensemble)")
    p.add_argument("--genes", help="gene table genes.tsv of the expression stage")
    p.add_argument("--out-vcf", required=True)
    p.add_argument("--out-tsv", required=True)
    add_runtime(p, progress=True)
    p.set_defaults(func=_run_score_variants)


def _run_score_variants(args: argparse.Namespace) -> int:
    from seq2func.variants import VariantSettings
    from seq2func.variants.run import score_variants

    settings = VariantSettings.from_config(json_arg(args.params, "--params"), source="--params")
    score_variants(args.vcf, args.genome, args.model, args.dataset_dir, settings, args.out_vcf,
                   args.out_tsv, model_name=args.model_name,
                   expression_models=args.expression_model, genes=args.genes,
                   threads=args.threads, progress=not args.no_progress)
    return 0


def _add_variant_metrics(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "variant-metrics", help="auROC of true-effect vs neutral variants (demo truth)",
        description="Join each model's variants.tsv to the simulator's truth and write "
                    "auROC/auPRC rows (bootstrap CIs) and a figure.")
    p.add_argument("--scores", nargs="+", required=True, help="MODEL=variants.tsv ...")
    p.add_argument("--truth", required=True, help="truth/variants.tsv of the simulator")
    p.add_argument("--simulation", default=None,
                   help="truth/simulation.json of the simulator (the true-effect threshold); "
                        "default: simulation.json next to --truth")
    add_dataset(p, "dataset (tasks, test chromosomes)")
    p.add_argument("--samples", required=True, help="samples table (task -> cell type)")
    p.add_argument("--n-boot", type=int, default=None,
                   help="bootstrap replicates of the intervals (default: the schema's "
                        "variants.bootstrap)")
    p.add_argument("--out", required=True, help="variant_metrics.tsv")
    p.add_argument("--figure", required=True, help="figure stem (.pdf/.svg/.png)")
    p.set_defaults(func=_run_variant_metrics)


def _run_variant_metrics(args: argparse.Namespace) -> int:
    from seq2func.variants import VariantSettings
    from seq2func.variants.run import variant_metrics

    n_boot = args.n_boot if args.n_boot is not None else VariantSettings.from_config().bootstrap
    simulation = args.simulation or Path(args.truth).with_name("simulation.json")
    variant_metrics(unique_pairs(args.scores, "--scores", "MODEL=PATH"), args.truth, simulation,
                    args.dataset_dir, args.samples, args.out, args.figure, n_boot=n_boot)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_score_variants(sub)
    _add_variant_metrics(sub)
