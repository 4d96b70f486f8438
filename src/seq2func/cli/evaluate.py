"""Subcommands of the evaluate stage: evaluation (``evaluate-accessibility``,
``accessibility-tracks``, ``evaluate-gates``).
"""

from __future__ import annotations

import argparse
import logging

from seq2func.cli.args import (
    add_dataset,
    add_ensemble,
    add_fold,
    add_genome,
    add_params,
    add_runtime,
    json_arg,
    unique_pairs,
)
from seq2func.core.errors import Seq2FuncError

log = logging.getLogger("seq2func")


def _add_evaluate_accessibility(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate-accessibility", help="metrics of models, baselines and controls on a split",
        description="Score every accessibility model (per seed and seed ensemble) against "
                    "k-mer, GC-only and shuffled-label baselines fitted on the train split "
                    "(and, for simulated studies, the truth ceiling), with bootstrap intervals.")
    add_dataset(p)
    p.add_argument("--predictions", nargs="*", default=[],
                   help="prediction files .../<model>/seed<k>/<split>.npz")
    p.add_argument("--split", default="test", choices=["valid", "test"])
    p.add_argument("--samples", help="samples table (task -> cell type for the truth ceiling)")
    p.add_argument("--truth-dir", help="simulator truth directory (adds bayes_ceiling rows)")
    add_params(p, "evaluate")
    p.add_argument("--table", required=True, help="output metric table (TSV)")
    p.add_argument("--scores", required=True, help="output scores of every model (.npz)")
    add_fold(p)
    p.set_defaults(func=_run_evaluate_accessibility)


def _run_evaluate_accessibility(args: argparse.Namespace) -> int:
    from seq2func.evaluate.accessibility import run_evaluation
    from seq2func.evaluate.settings import EvaluateSettings

    settings = EvaluateSettings.from_config(json_arg(args.params, "--params"), source="--params")
    run_evaluation(args.dataset_dir, args.predictions, settings, args.table, args.scores,
                   split=args.split, samples=args.samples, truth_dir=args.truth_dir,
                   fold=args.fold)
    return 0


def _add_fold_summary(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fold-summary", help="k-fold metrics: every fold's rows and the fold mean",
        description="Stack the genome-wide rows of each fold's metric table (fold column) and "
                    "add the mean over folds (interval: the folds' bootstrap intervals "
                    "combined), the worst and the best fold.")
    p.add_argument("--tables", nargs="+", required=True,
                   help="FOLD=TABLE: each fold's metric table (evaluate-accessibility --fold)")
    p.add_argument("--out", required=True, help="output metric table (TSV)")
    p.set_defaults(func=_run_fold_summary)


def _run_fold_summary(args: argparse.Namespace) -> int:
    from seq2func.evaluate.folds import run_fold_summary

    run_fold_summary(list(unique_pairs(args.tables, "--tables", "FOLD=TABLE").items()),
                     args.out)
    return 0


def _add_accessibility_tracks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "accessibility-tracks", help="predicted accessibility bigWigs over whole chromosomes",
        description="Tile chromosomes with model input windows every STRIDE bp, predict on both "
                    "strands and write one bigWig per task (peak probability, or predicted "
                    "counts per base for profile models).")
    add_ensemble(p)
    add_dataset(p, "dataset (tasks, input length, split)")
    add_genome(p)
    p.add_argument("--split", default="test", choices=["valid", "test", "all"],
                   help="chromosomes to tile")
    p.add_argument("--stride", type=int, default=None,
                   help="bp between tiled windows (default: the schema's evaluate.tracks)")
    p.add_argument("--batch-size", type=int, default=None, help="windows per model call")
    add_runtime(p)
    p.add_argument("--outdir", required=True, help="directory of <task>.bw")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_accessibility_tracks)


def _run_accessibility_tracks(args: argparse.Namespace) -> int:
    from seq2func.evaluate.settings import TracksSettings
    from seq2func.evaluate.tracks import run_tracks

    given = {"stride": args.stride, "batch_size": args.batch_size}
    settings = TracksSettings.from_config({k: v for k, v in given.items() if v is not None},
                                          source="command line")
    run_tracks(args.model, args.dataset_dir, args.genome, args.outdir, settings,
               split=args.split, threads=args.threads, progress=not args.no_progress)
    return 0


def _add_evaluate_gates(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate-gates", help="check quality gates against metric tables",
        description="Evaluate the config's quality gates (evaluate.gates) against registered "
                    "metric tables; write a PASS/FAIL/NOT RUN table. With --enforce, exit with "
                    "an error listing failed gates (after writing the table).")
    p.add_argument("--gates", required=True, help="JSON list of gates")
    p.add_argument("--tables", default="{}", help="JSON: table name -> metric table path")
    p.add_argument("--out", help="output gates table (TSV)")
    p.add_argument("--check", help="an existing gates table to enforce (with --enforce)")
    p.add_argument("--enforce", action="store_true", help="fail when a gate failed")
    p.add_argument("--done", help="with --enforce: file written when no gate failed")
    p.set_defaults(func=_run_evaluate_gates)


def _run_evaluate_gates(args: argparse.Namespace) -> int:
    from seq2func.evaluate.gates import enforce_gates, run_gates

    if not args.out and not (args.enforce and args.check):
        raise Seq2FuncError("evaluate-gates needs --out (write the table) or --enforce "
                            "--check TABLE (fail on a written table's failed gates)")
    if args.out:
        run_gates(json_arg(args.gates, "--gates", list), json_arg(args.tables, "--tables"),
                  args.out)
    if args.enforce:
        enforce_gates(args.check or args.out, args.done)
    return 0


def _add_bias_qc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bias-qc", help="ChromBPNet's checks of a chrombpnet model's bias and bias-free parts",
        description="The bias model's count correlation in background and in peaks, the "
                    "bias-free model's marginal footprints of the enzyme patterns and its "
                    "enzyme-like TF-MoDISco patterns (and, with --truth, the bias model against "
                    "the simulated cut preference): a metric table.")
    p.add_argument("--name", required=True, help="the chrombpnet model's name")
    p.add_argument("--bias-model", required=True, help="its bias model.keras")
    add_ensemble(p, "--nobias-model")
    add_dataset(p)
    p.add_argument("--bias-patterns", required=True, help="patterns.npz of the bias model")
    p.add_argument("--nobias-patterns", required=True, help="patterns.npz of the model")
    p.add_argument("--truth", default=None, help="simulated studies: truth/enzyme_bias.tsv")
    add_params(p, "evaluate")
    p.add_argument("--out", required=True, help="output metric table (TSV)")
    add_runtime(p)
    p.set_defaults(func=_run_bias_qc)


def _run_bias_qc(args: argparse.Namespace) -> int:
    from seq2func.evaluate.bias import run_bias_qc
    from seq2func.evaluate.settings import EvaluateSettings

    settings = EvaluateSettings.from_config(json_arg(args.params, "--params"), source="--params")
    run_bias_qc(args.name, args.bias_model, args.nobias_model, args.dataset_dir,
                args.bias_patterns, args.nobias_patterns, args.out, truth=args.truth,
                n_boot=settings.bootstrap, seed=settings.seed, threads=args.threads)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_evaluate_accessibility(sub)
    _add_fold_summary(sub)
    _add_accessibility_tracks(sub)
    _add_evaluate_gates(sub)
    _add_bias_qc(sub)
