"""Subcommands of the variants stage: variant effects (``score-variants``, ``variant-metrics``)."""

from __future__ import annotations

import argparse
import logging

from seq2func.cli.args import json_arg, unique_pairs

log = logging.getLogger("seq2func")


def _add_score_variants(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score-variants", help="predict variant effects (VCF in, annotated VCF + TSV out)",
        description="Check REF alleles against the genome (mismatches reported, not scored), "
                    "build reference/alternate windows of SNVs and indels, predict both in "
                    "batches on both strands, and write per-task scores.")
    p.add_argument("--vcf", required=True, help="VCF, plain or gzip/bgzip-compressed")
    p.add_argument("--genome", required=True, help="genome FASTA/2bit")
    p.add_argument("--model", required=True, nargs="+",
                   help="accessibility model.keras (several: their seed ensemble)")
    p.add_argument("--model-name", required=True, help="model name (INFO descriptions)")
    p.add_argument("--dataset-dir", required=True, help="dataset directory (task names)")
    p.add_argument("--params", default="{}", help="JSON: the config's variants section")
    p.add_argument("--expression-model", nargs="+",
                   help="sequence-only expression model.keras (several: their seed ensemble)")
    p.add_argument("--genes", help="gene table genes.tsv of the expression stage")
    p.add_argument("--out-vcf", required=True)
    p.add_argument("--out-tsv", required=True)
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_run_score_variants)


def _run_score_variants(args: argparse.Namespace) -> int:
    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.provenance import write_provenance
    from seq2func.dataset import Dataset
    from seq2func.train.runtime import configure_runtime

    params = json_arg(args.params, "--params")
    device = configure_runtime(seed=0, deterministic=True, threads=args.threads)
    from seq2func.variants import score as va
    tasks = list(Dataset(args.dataset_dir).tasks)
    header, table, desc, strings = va.score_vcf(
        args.vcf, args.genome, args.model, tasks, model_name=args.model_name,
        expression_models=args.expression_model, genes_path=args.genes,
        max_allele_length=int(params.get("max_allele_length", 50)),
        chunk=int(params.get("chunk", 4096)), batch_size=int(params.get("batch_size", 512)),
        progress=not args.no_progress)
    va.write_vcf(args.out_vcf, header, table, desc, f"score-variants model={args.model_name}",
                 strings)
    cols = [c for c in table if c not in ("record", "line", "qual", "filter", "info",
                                          "genome_chrom")]
    write_tsv_atomic(args.out_tsv, table[cols], float_format="%.6g")
    inputs = [args.vcf, *args.model, *(args.expression_model or [])]
    extra = {"status_counts": {str(k): int(v)
                               for k, v in table["status"].value_counts().items()}}
    for out in (args.out_vcf, args.out_tsv):
        write_provenance(out, step="score-variants", inputs=inputs, config=params,
                         device=device.description, extra=extra)
    log.info("scored %s", extra["status_counts"])
    return 0


def _add_variant_metrics(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "variant-metrics", help="auROC of true-effect vs neutral variants (demo truth)",
        description="Join each model's variants.tsv to the simulator's truth and write "
                    "auROC/auPRC rows (bootstrap CIs) and a figure.")
    p.add_argument("--scores", nargs="+", required=True, help="MODEL=variants.tsv ...")
    p.add_argument("--truth", required=True, help="truth/variants.tsv of the simulator")
    p.add_argument("--dataset-dir", required=True, help="dataset (tasks, test chromosomes)")
    p.add_argument("--samples", required=True, help="samples table (task -> cell type)")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--out", required=True, help="variant_metrics.tsv")
    p.add_argument("--figure", required=True, help="figure stem (.pdf/.svg/.png)")
    p.set_defaults(func=_run_variant_metrics)


def _run_variant_metrics(args: argparse.Namespace) -> int:
    import pandas as pd

    from seq2func.core.config import load_samples
    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.metrics import rows_to_frame
    from seq2func.core.plotting import save_figure
    from seq2func.core.provenance import write_provenance
    from seq2func.dataset import Dataset
    from seq2func.variants import truth as vm

    meta = Dataset(args.dataset_dir).meta
    samples = load_samples(args.samples)
    cells = dict(zip(samples["sample"], samples["cell_type"], strict=True))
    truth = vm.read_truth(args.truth)
    rows, joined = [], {}
    score_files = unique_pairs(args.scores, "--scores", "MODEL=PATH")
    for model, path in score_files.items():
        table = pd.read_csv(path, sep="\t", dtype={"chrom": str, "ref": str, "alt": str},
                            keep_default_na=False, na_values=[""])
        joined[model] = vm.join_truth(table, truth)
        rows += vm.variant_rows(model, joined[model], list(meta.tasks), cells,
                                meta.split["test"], n_boot=args.n_boot)
    write_tsv_atomic(args.out, rows_to_frame(rows), float_format="%.4g")
    inputs = [args.truth, *score_files.values()]
    write_provenance(args.out, step="variant-metrics", inputs=inputs,
                     extra={"n_boot": args.n_boot})
    save_figure(vm.plot_variant_effects(joined), args.figure, inputs=inputs)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_score_variants(sub)
    _add_variant_metrics(sub)
