"""Subcommands of the train stage: accessibility models (``train-accessibility``,
``train-bias``, ``predict-accessibility``) and the GPU self-check (``check-gpu``).
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from seq2func.cli.args import add_dataset, add_fold, add_runtime, json_arg

if TYPE_CHECKING:
    from seq2func.models.specs import ModelSpec
    from seq2func.train.settings import AccessibilityTrainSettings

log = logging.getLogger("seq2func")


def _add_train_accessibility(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-accessibility", help="train one accessibility model (one seed) on a dataset",
        description="Train a Basset- or BPNet-style model on a preprocessed dataset with "
                    "checkpoints every epoch; a rerun after interruption resumes from the last "
                    "checkpoint. Writes OUTDIR/model.keras, history.tsv and run.json.")
    _add_training_args(p, "JSON: the model's config (architecture, sizes)", "replicate seed")
    p.add_argument("--bias-model", default=None,
                   help="chrombpnet models: the trained bias model.keras (train-bias)")
    p.set_defaults(func=_run_train_accessibility)


def _add_training_args(p: argparse.ArgumentParser, spec_help: str, seed_help: str) -> None:
    """The arguments train-accessibility and train-bias share."""
    add_dataset(p)
    p.add_argument("--name", required=True, help="model name (config key)")
    p.add_argument("--spec", required=True, help=spec_help)
    p.add_argument("--settings", default="{}", help="JSON: the config's accessibility.train")
    p.add_argument("--seed", type=int, required=True, help=seed_help)
    add_runtime(p)
    p.add_argument("--outdir", required=True, help="output directory")
    add_fold(p)


def _training_inputs(args: argparse.Namespace
                     ) -> tuple[ModelSpec, AccessibilityTrainSettings]:
    """The model entry and the training settings of ``--spec`` and ``--settings``."""
    from seq2func.models.specs import ModelSpec
    from seq2func.train.settings import AccessibilityTrainSettings

    return (ModelSpec.from_config(args.name, json_arg(args.spec, "--spec")),
            AccessibilityTrainSettings.from_config(json_arg(args.settings, "--settings")))


def _run_train_accessibility(args: argparse.Namespace) -> int:
    from seq2func.train.accessibility import train_accessibility

    spec, settings = _training_inputs(args)
    rec = train_accessibility(args.dataset_dir, spec, settings, args.seed, args.outdir,
                              threads=args.threads, bias_model=args.bias_model, fold=args.fold)
    log.info("trained %s seed %d (%s) on %s: best epoch %d, val loss %.4f", args.name,
             args.seed, args.fold or "default split", rec["device"], rec["best_epoch"],
             rec["best_val_loss"])
    return 0


def _add_train_bias(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-bias", help="train the enzyme-bias model of a chrombpnet model",
        description="Train the bias model of a chrombpnet model (ChromBPNet) on the dataset's "
                    "background regions whose counts are below the bias threshold, with "
                    "checkpoints every epoch. Writes OUTDIR/model.keras, history.tsv and "
                    "run.json (which names the bias heads and the tasks they serve).")
    _add_training_args(p, "JSON: the model's config (with its bias)", "seed")
    p.set_defaults(func=_run_train_bias)


def _run_train_bias(args: argparse.Namespace) -> int:
    from seq2func.train.bias import train_bias

    spec, settings = _training_inputs(args)
    rec = train_bias(args.dataset_dir, spec, settings, args.seed, args.outdir,
                     threads=args.threads, fold=args.fold)
    log.info("trained the bias model of %s: best epoch %d, val loss %.4f", args.name,
             rec["best_epoch"], rec["best_val_loss"])
    return 0


def _add_predict_accessibility(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict-accessibility", help="strand-averaged predictions for a dataset split",
        description="Predict every region of a dataset split on both strands and average: "
                    "peak probabilities (labels), log counts and profile probabilities, "
                    "whichever the model has. Writes a compressed .npz with region_id.")
    p.add_argument("--model", required=True, help="model.keras")
    add_dataset(p)
    p.add_argument("--split", required=True, choices=["train", "valid", "test"])
    p.add_argument("--out", required=True, help="output .npz")
    add_runtime(p)
    p.add_argument("--batch-size", type=int, default=256)
    add_fold(p)
    p.set_defaults(func=_run_predict_accessibility)


def _run_predict_accessibility(args: argparse.Namespace) -> int:
    from seq2func.train.accessibility import predict_accessibility

    predict_accessibility(args.model, args.dataset_dir, args.split, args.out,
                          threads=args.threads, batch_size=args.batch_size, fold=args.fold)
    return 0


def _add_predict_out_of_fold(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict-out-of-fold", help="out-of-fold predictions of every region or of windows",
        description="Predict every region of the dataset (or the windows of a BED file) with "
                    "the runs of the folds whose test set holds its chromosome (each run's "
                    "fold is in its run.json), strand-averaged and averaged over those runs. "
                    "Writes a compressed .npz with region_id and fold (--out) or a TSV per "
                    "window (--windows-out).")
    p.add_argument("--models", nargs="+", required=True,
                   help="model.keras of every fold run (.../folds/<fold>/seed<k>/model.keras)")
    add_dataset(p)
    p.add_argument("--out", help="output .npz for the dataset's regions")
    p.add_argument("--windows", help="BED of windows to predict instead (chrom, start, end, "
                                     "[name]); each is centred to the model's input length")
    p.add_argument("--genome", help="--windows: genome FASTA")
    p.add_argument("--windows-out", help="--windows: output TSV (gzip if it ends in .gz)")
    add_runtime(p)
    p.add_argument("--batch-size", type=int, default=256)
    p.set_defaults(func=_run_predict_out_of_fold)


def _run_predict_out_of_fold(args: argparse.Namespace) -> int:
    from seq2func.models.oof import run_out_of_fold

    run_out_of_fold(args.models, args.dataset_dir, out=args.out, windows=args.windows,
                    genome=args.genome, windows_out=args.windows_out, threads=args.threads,
                    batch_size=args.batch_size)
    return 0


#: ``seq2func check-gpu --help``
CHECK_GPU_DESCRIPTION = (
    "Check the GPU path with small models and data generated on the fly: the GPUs, CUDA/cuDNN "
    "and driver; mixed-precision training of Basset and BPNet and an exact resume; the float32 "
    "saved model against a float32 reference (predictions, SNV deltas, gradients); the seed "
    "ensemble against the mean of its members; examples/s at two batch sizes with deterministic "
    "ops on and off. Writes a JSON report; without a GPU the GPU-only parts are skipped and the "
    "report says so. Exit code 1 if a check failed.")


def _add_check_gpu(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-gpu", description=CHECK_GPU_DESCRIPTION,
                       help="self-check of the GPU path (run it first on a GPU node)")
    p.add_argument("--out", default="check_gpu.json", help="JSON report (default: %(default)s)")
    p.add_argument("--workdir", help="keep the check's models here (default: a temporary "
                                     "directory, removed)")
    add_runtime(p)
    p.set_defaults(func=_run_check_gpu)


def _run_check_gpu(args: argparse.Namespace) -> int:
    from seq2func.train.gpucheck import check_gpu

    report = check_gpu(args.out, threads=args.threads, workdir=args.workdir)
    for name, check in report["checks"].items():
        log.info("%-14s %s%s", name, check["status"],
                 f": {check.get('reason') or check.get('error')}"
                 if check["status"] != "pass" else "")
    return 0 if report["passed"] else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_train_accessibility(sub)
    _add_train_bias(sub)
    _add_predict_accessibility(sub)
    _add_predict_out_of_fold(sub)
    _add_check_gpu(sub)
