"""Subcommands of the expression stage: expression models (``expression-prepare``,
``expression-predicted-chromatin``, ``train-expression``, ``evaluate-expression``).
"""

from __future__ import annotations

import argparse

from seq2func.cli.args import add_genome, add_params, add_runtime, json_arg, pairs, unique_pairs


def _add_expression_prepare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "expression-prepare", help="gene table, QC and features of the expression models",
        description="One TSS per gene, log1p(TPM) targets matched by version-free gene ID, "
                    "the split of each gene, oriented promoter sequences and binned observed "
                    "chromatin around each TSS. Writes OUTDIR/genes.tsv, genes_qc.json and "
                    "features.npz.")
    p.add_argument("--annotation", required=True, help="GTF or GFF3")
    p.add_argument("--expression", required=True,
                   help="expression table (gene_id, gene_name, one TPM column per sample)")
    add_genome(p)
    p.add_argument("--bigwigs", nargs="+", required=True,
                   help="SAMPLE=PATH accessibility bigWigs (the chromatin tracks)")
    p.add_argument("--split", required=True, help="JSON: the config's split section")
    add_params(p, "expression")
    p.add_argument("--exclude-regex", default=None,
                   help="skip chromosomes matching this regex (preprocess.exclude_chromosomes)")
    p.add_argument("--outdir", required=True, help="output directory")
    p.set_defaults(func=_run_expression_prepare)


def _run_expression_prepare(args: argparse.Namespace) -> int:
    from seq2func.expression.run import prepare
    from seq2func.expression.settings import ExpressionSettings

    settings = ExpressionSettings.from_config(json_arg(args.params, "--params"))
    prepare(args.annotation, args.expression, args.genome,
            unique_pairs(args.bigwigs, "--bigwigs", "SAMPLE=PATH"), json_arg(args.split, "--split"),
            settings, args.outdir, exclude_regex=args.exclude_regex)
    return 0


def _add_expression_predicted_chromatin(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "expression-predicted-chromatin",
        help="accessibility predicted by trained models around each TSS",
        description="Tile each gene's chromatin window with accessibility-model inputs centred "
                    "on its bins (on multiples of expression.chromatin.predict_grid, so that "
                    "overlapping genes share windows, each predicted once), predict on both "
                    "strands and average (over strands and the models given). Writes a .npz "
                    "with 'predicted' (genes, bins, tasks).")
    p.add_argument("--genes", required=True, help="genes.tsv of expression-prepare")
    add_genome(p)
    p.add_argument("--models", nargs="*", default=[],
                   help="accessibility model.keras files (one model for every gene)")
    p.add_argument("--fold-models", nargs="*", default=[],
                   help="FOLD=model.keras (repeat per seed): cross-fitted, each gene predicted "
                        "by the fold holding its chromosome out (needs --dataset)")
    p.add_argument("--dataset", default=None,
                   help="dataset.json of the training set (the folds' test chromosomes)")
    p.add_argument("--tasks", nargs="+", required=True,
                   help="the accessibility models' task (sample) names, in output order")
    add_params(p, "expression")
    add_runtime(p, progress=True)
    p.add_argument("--out", required=True, help="output .npz")
    p.set_defaults(func=_run_expression_predicted_chromatin)


def _run_expression_predicted_chromatin(args: argparse.Namespace) -> int:
    from seq2func.expression.run import predicted_chromatin
    from seq2func.expression.settings import ExpressionSettings

    settings = ExpressionSettings.from_config(json_arg(args.params, "--params"))
    folds: dict[str, list[str]] = {}
    for fold, path in pairs(args.fold_models, "--fold-models", "FOLD=PATH"):
        folds.setdefault(fold, []).append(path)
    if not folds and not args.models:
        from seq2func.core.errors import Seq2FuncError

        raise Seq2FuncError("expression-predicted-chromatin: give --models or --fold-models")
    predicted_chromatin(args.genes, args.genome, args.models, args.tasks, settings, args.out,
                        threads=args.threads, progress=not args.no_progress,
                        fold_models=folds or None,
                        dataset_json=args.dataset)
    return 0


def _add_train_expression(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-expression", help="train one expression model variant (one seed)",
        description="Train seq_only, seq_observed or seq_predicted on the genes of the training "
                    "chromosomes (early stopping on the validation chromosomes), with "
                    "checkpoints and resume; writes model.keras, history.tsv, run.json and "
                    "predictions.npz (every gene).")
    p.add_argument("--genes", required=True, help="genes.tsv of expression-prepare")
    p.add_argument("--features", required=True, help="features.npz of expression-prepare")
    p.add_argument("--predicted", default=None, help="predicted chromatin (.npz; seq_predicted)")
    p.add_argument("--variant", required=True, choices=["seq_only", "seq_observed",
                                                        "seq_predicted"])
    p.add_argument("--warm-start", default=None,
                   help="trained seq_only model.keras (same seed) a chromatin variant starts "
                        "from (expression.chromatin.warm_start)")
    add_params(p, "expression")
    p.add_argument("--seed", type=int, required=True, help="replicate seed")
    add_runtime(p)
    p.add_argument("--outdir", required=True, help="output directory")
    p.set_defaults(func=_run_train_expression)


def _run_train_expression(args: argparse.Namespace) -> int:
    from seq2func.expression.run import train
    from seq2func.expression.settings import ExpressionSettings

    settings = ExpressionSettings.from_config(json_arg(args.params, "--params"))
    train(args.genes, args.features, args.variant, settings, args.seed, args.outdir,
          predicted=args.predicted, threads=args.threads, warm_start=args.warm_start)
    return 0


def _add_evaluate_expression(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate-expression", help="baselines, metrics, ablation and figures of expression",
        description="Fit the k-mer ridge and chromatin-only ridge baselines on training genes; "
                    "score all models (Pearson/Spearman per sample across test genes, bootstrap "
                    "intervals); write the metric table (MetricRow format), the ablation table, "
                    "figures and, with --truth, the explainable variance captured (demo).")
    p.add_argument("--genes", required=True)
    p.add_argument("--features", required=True)
    p.add_argument("--predictions", nargs="*", default=[],
                   help="VARIANT=predictions.npz (repeat a variant for its seeds)")
    add_params(p, "expression")
    p.add_argument("--metrics", required=True, help="output metric table (TSV)")
    p.add_argument("--ablation", required=True, help="output ablation table (TSV)")
    p.add_argument("--scatter", default=None, help="figure stem: observed vs predicted")
    p.add_argument("--ablation-figure", default=None, help="figure stem: ablation bars")
    p.add_argument("--truth", default=None, help="simulator truth expression_terms.tsv")
    p.add_argument("--truth-out", default=None, help="output explainable-variance table")
    p.set_defaults(func=_run_evaluate_expression)


def _run_evaluate_expression(args: argparse.Namespace) -> int:
    from seq2func.expression.run import evaluate
    from seq2func.expression.settings import ExpressionSettings

    settings = ExpressionSettings.from_config(json_arg(args.params, "--params"))
    preds: dict[str, list[str]] = {}
    for variant, path in pairs(args.predictions, "--predictions", "VARIANT=PATH"):
        preds.setdefault(variant, []).append(path)
    stems = {k: v for k, v in (("scatter", args.scatter),
                               ("ablation", args.ablation_figure)) if v}
    evaluate(args.genes, args.features, preds, settings, args.metrics, args.ablation, stems,
             truth=args.truth, truth_out=args.truth_out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_expression_prepare(sub)
    _add_expression_predicted_chromatin(sub)
    _add_train_expression(sub)
    _add_evaluate_expression(sub)
