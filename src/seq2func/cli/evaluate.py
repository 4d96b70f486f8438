"""Subcommands of the evaluate stage: evaluation (``evaluate-accessibility``,
``accessibility-tracks``, ``evaluate-gates``).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from seq2func.cli.args import json_arg
from seq2func.core.errors import Seq2FuncError

log = logging.getLogger("seq2func")


def _add_evaluate_accessibility(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate-accessibility", help="metrics of models, baselines and controls on a split",
        description="Score every accessibility model (per seed and seed ensemble) against "
                    "k-mer, GC-only and shuffled-label baselines fitted on the train split "
                    "(and, for simulated studies, the truth ceiling), with bootstrap intervals.")
    p.add_argument("--dataset-dir", required=True, help="preprocessed dataset directory")
    p.add_argument("--predictions", nargs="*", default=[],
                   help="prediction files .../<model>/seed<k>/<split>.npz")
    p.add_argument("--split", default="test", choices=["valid", "test"])
    p.add_argument("--samples", help="samples table (task -> cell type for the truth ceiling)")
    p.add_argument("--truth-dir", help="simulator truth directory (adds bayes_ceiling rows)")
    p.add_argument("--params", default="{}", help="JSON: the config's evaluate section")
    p.add_argument("--table", required=True, help="output metric table (TSV)")
    p.add_argument("--scores", required=True, help="output scores of every model (.npz)")
    p.set_defaults(func=_run_evaluate_accessibility)


def _run_evaluate_accessibility(args: argparse.Namespace) -> int:
    from seq2func.core.config import load_samples
    from seq2func.core.provenance import write_provenance
    from seq2func.evaluate.accessibility import (
        evaluate_accessibility,
        summary_json,
        write_metric_table,
    )

    params = json_arg(args.params, "--params")
    preds: dict[str, list[str]] = {}
    for f in args.predictions:
        preds.setdefault(Path(f).parent.parent.name, []).append(f)
    cell_types = None
    if args.samples:
        samples = load_samples(args.samples)
        cell_types = dict(zip(samples["sample"], samples["cell_type"], strict=True))
    table, scores = evaluate_accessibility(
        args.dataset_dir, preds, split=args.split, truth_dir=args.truth_dir,
        cell_types=cell_types, k=int(params.get("kmer_k", 5)),
        n_boot=int(params.get("bootstrap", 1000)), seed=int(params.get("seed", 0)),
        per_chromosome=bool(params.get("per_chromosome", True)))
    write_metric_table(args.table, table)
    scores.save(args.scores)
    inputs = [Path(args.dataset_dir) / "dataset.json", *args.predictions]
    for out in (args.table, args.scores):
        write_provenance(out, step="evaluate-accessibility", inputs=inputs, config=params,
                         extra={"split": args.split, "truth_dir": args.truth_dir})
    log.info("macro auROC: %s", summary_json(table))
    return 0


def _add_accessibility_tracks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "accessibility-tracks", help="predicted accessibility bigWigs over whole chromosomes",
        description="Tile chromosomes with model input windows every STRIDE bp, predict on both "
                    "strands and write one bigWig per task (peak probability, or predicted "
                    "counts per base for profile models).")
    p.add_argument("--model", required=True, nargs="+",
                   help="model.keras (several: their seed ensemble, mean of the probabilities)")
    p.add_argument("--dataset-dir", required=True, help="dataset (tasks, input length, split)")
    p.add_argument("--genome", required=True, help="genome FASTA / 2bit")
    p.add_argument("--split", default="test", choices=["valid", "test", "all"],
                   help="chromosomes to tile")
    p.add_argument("--stride", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    p.add_argument("--outdir", required=True, help="directory of <task>.bw")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_accessibility_tracks)


def _run_accessibility_tracks(args: argparse.Namespace) -> int:
    from seq2func.core.provenance import write_provenance
    from seq2func.dataset import Dataset
    from seq2func.train.runtime import configure_runtime

    device = configure_runtime(seed=0, deterministic=True, threads=args.threads)
    from seq2func.evaluate.tracks import write_tracks

    meta = Dataset(args.dataset_dir).meta
    chroms = meta.split_chromosomes(args.split)
    files = write_tracks(args.model, args.genome, chroms, list(meta.tasks),
                         meta.geometry.input_length, args.outdir, stride=args.stride,
                         batch_size=args.batch_size, progress=not args.no_progress,
                         profile_bin=meta.geometry.profile_bin)
    for f in files:
        write_provenance(f, step="accessibility-tracks", inputs=[*args.model, args.genome],
                         device=device.description,
                         extra={"chromosomes": chroms, "stride": args.stride})
    log.info("wrote %d tracks over %s", len(files), ",".join(chroms))
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
    import pandas as pd

    from seq2func.core.io import write_text_atomic, write_tsv_atomic
    from seq2func.core.provenance import write_provenance
    from seq2func.evaluate.gates import evaluate_gates, failed_message

    gates = json.loads(args.gates)
    tables = json_arg(args.tables, "--tables")
    if args.check:
        result = pd.read_csv(args.check, sep="\t", keep_default_na=False,
                             na_values=["NaN", "nan", ""])
    else:
        result = evaluate_gates(gates, tables, source="config (evaluate.gates)")
    if args.out:
        write_tsv_atomic(args.out, result, float_format="%.6g")
        write_provenance(args.out, step="evaluate-gates", inputs=list(tables.values()),
                         config={"gates": gates, "tables": tables})
    counts = result["status"].value_counts().to_dict()
    log.info("quality gates: %s", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if args.enforce:
        msg = failed_message(result)
        if msg:
            raise Seq2FuncError(msg)
        if args.done:
            write_text_atomic(args.done, f"all {len(result)} gates passed or did not run\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_evaluate_accessibility(sub)
    _add_accessibility_tracks(sub)
    _add_evaluate_gates(sub)
