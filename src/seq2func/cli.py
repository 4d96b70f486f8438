"""Command-line interface: ``seq2func <subcommand>`` (or ``python -m seq2func``).

Each Snakemake rule calls one subcommand. Subcommands import their modules lazily, so
``seq2func --help`` and the preprocessing commands start without loading TensorFlow.
New stages register their subcommands in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from seq2func import __version__
from seq2func.errors import Seq2FuncError

log = logging.getLogger("seq2func")

# --------------------------------------------------------------------------- subcommands


def _add_simulate(sub: argparse._SubParsersAction) -> None:
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
    from seq2func.config import load_samples
    from seq2func.simulate import SimulationConfig, simulate_demo

    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as exc:
        raise Seq2FuncError(f"--params is not valid JSON: {exc}") from exc
    cfg = SimulationConfig.from_config(params)
    samples = load_samples(args.samples)
    summary = simulate_demo(cfg, samples, args.motifs, Path(args.outdir),
                            progress=not args.no_progress)
    log.info("simulated %d bp, %s peaks, %d genes, %s variants",
             summary["genome"]["length"], summary["peaks"], summary["genes"],
             sum(summary["variants"].values()))
    return 0


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate-config", help="check a config file and its samples table",
                       description="Validate a configuration file against the workflow's JSON "
                                   "schema and print it with defaults filled in.")
    p.add_argument("configfile", help="YAML configuration, e.g. config/config.yaml")
    p.add_argument("--schemas", default="workflow/schemas",
                   help="directory of config.schema.yaml and samples.schema.yaml")
    p.set_defaults(func=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    import yaml

    from seq2func.config import load_config, load_samples

    schemas = Path(args.schemas)
    cfg = load_config(args.configfile, schemas / "config.schema.yaml")
    samples = load_samples(cfg["samples"], schemas / "samples.schema.yaml")
    sys.stdout.write(yaml.safe_dump(cfg, sort_keys=False))
    log.info("%s is valid; %d samples", args.configfile, len(samples))
    return 0


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_simulate,
    _add_validate,
]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="seq2func",
        description="Learn chromatin accessibility and gene expression from DNA sequence. "
                    "The Snakemake workflow calls these subcommands; you can call them too.")
    parser.add_argument("--version", action="version", version=f"seq2func {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(title="subcommands", dest="command", metavar="<subcommand>")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 for a seq2func error, with no traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except Seq2FuncError as exc:
        print(f"seq2func {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
