"""Subcommands of the simulate stage: the embedded demo study (``simulate``)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from seq2func.cli.args import json_arg

log = logging.getLogger("seq2func")


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    """Add ``seq2func simulate``."""
    p = sub.add_parser("simulate", help="simulate the embedded demo study (genome, signal, truth)",
                       description="Simulate the demo study into OUTDIR (genome/, signal/, "
                                   "peaks/, expression/, variants/, truth/).")
    p.add_argument("--params", default="{}",
                   help="JSON object of simulator parameters (the config's 'simulate' section)")
    p.add_argument("--samples", required=True, help="samples table (TSV)")
    p.add_argument("--motifs", required=True, help="JASPAR file with the demo motifs")
    p.add_argument("--outdir", required=True, help="output directory, e.g. resources/demo")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_run_simulate)


def _run_simulate(args: argparse.Namespace) -> int:
    """Simulate the demo study (``seq2func simulate``)."""
    from seq2func.core.config import load_samples
    from seq2func.simulate import SimulationConfig, simulate_demo

    cfg = SimulationConfig.from_config(json_arg(args.params, "--params"), source="--params")
    summary = simulate_demo(cfg, load_samples(args.samples), args.motifs, Path(args.outdir),
                            progress=not args.no_progress)
    log.info("simulated %d bp, %s peaks, %d genes, %s variants",
             summary["genome"]["length"], summary["peaks"], summary["genes"],
             sum(summary["variants"].values()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_simulate(sub)
