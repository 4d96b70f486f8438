"""Subcommands of the interpret stage: interpretation (``explain``, ``discover-motifs``,
``motif-recovery``, ``grammar``, ``grammar-truth``).
"""

from __future__ import annotations

import argparse
import logging

from seq2func.cli.args import (
    add_dataset,
    add_ensemble,
    add_genome,
    add_params,
    add_runtime,
    json_arg,
    unique_pairs,
)

log = logging.getLogger("seq2func")


def _add_explain(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain", help="attributions (gradient x input, ISM) of the strongest peaks",
        description="Explain an accessibility model on the strongest peaks of each task (the "
                    "params' peaks: test-set peaks, or out of fold for fold runs: every peak "
                    "by the runs that held its chromosome out): strand-averaged gradient x "
                    "input for all of them, vectorised ISM for the strongest few. Writes an "
                    ".npz and one bigWig per task.")
    add_ensemble(p)
    add_dataset(p)
    add_genome(p)
    p.add_argument("--chrom-sizes", required=True, help="chrom.sizes (bigWig header)")
    add_params(p, "interpret")
    p.add_argument("--out", required=True, help="output attributions.npz")
    p.add_argument("--bigwig-dir", required=True, help="directory of <task>.bw")
    add_runtime(p)
    p.add_argument("--target", choices=["counts", "profile"], default=None,
                   help="what profile models' attributions explain (default: the params' "
                        "bpnet_target); bias models are explained on their profile")
    p.set_defaults(func=_run_explain)


def _run_explain(args: argparse.Namespace) -> int:
    from seq2func.interpret import InterpretSettings
    from seq2func.interpret.run import explain

    settings = InterpretSettings.from_config(json_arg(args.params, "--params"), source="--params")
    explain(args.model, args.dataset_dir, args.genome, args.chrom_sizes, settings, args.out,
            args.bigwig_dir, threads=args.threads, target=args.target)
    return 0


def _add_discover_motifs(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "discover-motifs", help="TF-MoDISco motifs from attributions, annotated with JASPAR",
        description="Run TF-MoDISco (modisco-lite) per task on the gradient x input scores of "
                    "the task's peaks, annotate each pattern with its most similar database "
                    "motif, draw logos; patterns are saved for motif-recovery.")
    p.add_argument("--attributions", required=True, help="attributions.npz of `explain`")
    add_params(p, "interpret")
    p.add_argument("--database", required=True,
                   help="JASPAR-format file, or a pyjaspar release such as JASPAR2024")
    p.add_argument("--model-name", required=True, help="model name (recorded in the provenance)")
    p.add_argument("--out", required=True, help="motifs.tsv")
    p.add_argument("--figure", required=True, help="logo figure stem (.pdf/.svg/.png)")
    p.add_argument("--patterns", required=True, help="output patterns.npz (PPM/CWM per pattern)")
    p.set_defaults(func=_run_discover_motifs)


def _run_discover_motifs(args: argparse.Namespace) -> int:
    from seq2func.interpret import InterpretSettings
    from seq2func.interpret.run import discover_motifs

    settings = InterpretSettings.from_config(json_arg(args.params, "--params"), source="--params")
    discover_motifs(args.attributions, settings, args.database, args.out, args.patterns,
                    args.figure, model_name=args.model_name)
    return 0


def _add_motif_recovery(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "motif-recovery", help="demo: how well discovered patterns recover planted motifs",
        description="Best similarity of each motif planted by the demo simulator to a pattern "
                    "discovered for the same cell type (metric motif_recovery).")
    p.add_argument("--patterns", nargs="+", required=True, help="MODEL=patterns.npz ...")
    p.add_argument("--simulation", required=True, help="demo truth/simulation.json")
    p.add_argument("--planted-motifs", required=True, help="JASPAR file of the planted motifs")
    p.add_argument("--samples", required=True, help="samples table (task -> cell type)")
    p.add_argument("--out", required=True, help="motif_recovery.tsv")
    p.set_defaults(func=_run_motif_recovery)


def _run_motif_recovery(args: argparse.Namespace) -> int:
    from seq2func.interpret.run import motif_recovery

    motif_recovery(unique_pairs(args.patterns, "--patterns", "MODEL=PATH"), args.simulation,
                   args.planted_motifs, args.samples, args.out)
    return 0


def _add_grammar(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "grammar", help="in-silico grammar: motif marginalisation and pair spacing sweeps",
        description="Write motifs into low-signal background sequences of the test split and "
                    "predict them on both strands: the effect of each motif (marginalisation) "
                    "and, for pairs, the interaction (pair effect minus the single effects) "
                    "against spacing and relative orientation, per task "
                    "(interpret.grammar of the config).")
    add_ensemble(p)
    p.add_argument("--model-name", required=True, help="model name (rows and provenance)")
    add_dataset(p)
    add_genome(p)
    p.add_argument("--patterns", default=None,
                   help="patterns.npz of discover-motifs (their top pairs are swept)")
    p.add_argument("--database", required=True,
                   help="JASPAR-format file, or a pyjaspar release, for motifs named by matrix")
    add_params(p, "interpret")
    p.add_argument("--marginal-out", required=True, help="output marginal effects TSV")
    p.add_argument("--sweeps-out", required=True, help="output sweep curves TSV")
    p.add_argument("--figure", required=True, help="figure stem (.pdf/.svg/.png)")
    add_runtime(p)
    p.set_defaults(func=_run_grammar)


def _run_grammar(args: argparse.Namespace) -> int:
    from seq2func.interpret import InterpretSettings
    from seq2func.interpret.run import grammar_experiments

    settings = InterpretSettings.from_config(json_arg(args.params, "--params"), source="--params")
    grammar_experiments(args.model, args.model_name, args.dataset_dir, args.genome,
                        args.patterns, args.database, settings, args.marginal_out,
                        args.sweeps_out, args.figure, threads=args.threads)
    return 0


def _add_grammar_truth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "grammar-truth", help="demo: grammar sweeps against the planted pair rules",
        description="For each pair rule of the demo grammar: does the interaction curve peak "
                    "in the planted spacing window, orientation and cell type, and do the "
                    "decoys' configurations stay flat (metric table grammar)?")
    p.add_argument("--sweeps", nargs="+", required=True, help="MODEL=grammar_sweeps.tsv ...")
    p.add_argument("--simulation", required=True, help="demo truth/simulation.json")
    p.add_argument("--planted-motifs", required=True, help="JASPAR file of the planted motifs")
    p.add_argument("--samples", required=True, help="samples table (task -> cell type)")
    add_params(p, "interpret")
    p.add_argument("--out", required=True, help="grammar metric table (TSV)")
    p.set_defaults(func=_run_grammar_truth)


def _run_grammar_truth(args: argparse.Namespace) -> int:
    from seq2func.interpret import InterpretSettings
    from seq2func.interpret.run import grammar_truth

    settings = InterpretSettings.from_config(json_arg(args.params, "--params"), source="--params")
    grammar_truth(unique_pairs(args.sweeps, "--sweeps", "MODEL=PATH"), args.simulation,
                  args.planted_motifs, args.samples, settings, args.out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_explain(sub)
    _add_discover_motifs(sub)
    _add_motif_recovery(sub)
    _add_grammar(sub)
    _add_grammar_truth(sub)
