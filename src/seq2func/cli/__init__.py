"""Command-line interface: ``seq2func <subcommand>`` (or ``python -m seq2func``).

Each Snakemake rule calls one subcommand. The subcommands of a stage live in the module of the
same name (``seq2func.cli.preprocess`` for ``workflow/rules/preprocess.smk`` and the package
``seq2func.preprocess``); each runner parses its arguments and calls one entry point of its stage.
Heavy modules are imported inside the runners, so ``seq2func --help`` and the preprocessing
commands start without loading TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from seq2func import __version__
from seq2func.core.errors import Seq2FuncError, format_message
from seq2func.core.threads import keep_openmp_out_of_tensorflow, retain_freed_memory

#: stage modules of this package, in the order their subcommands are listed by ``--help``
STAGES = ("simulate", "config", "download", "preprocess", "train", "expression", "evaluate",
          "report", "interpret", "variants")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="seq2func",
        description="Learn chromatin accessibility and gene expression from DNA sequence. "
                    "The Snakemake workflow calls these subcommands; you can call them too.")
    parser.add_argument("--version", action="version", version=f"seq2func {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(title="subcommands", dest="command", metavar="<subcommand>")
    for stage in STAGES:
        importlib.import_module(f"seq2func.cli.{stage}").register(sub)
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
    keep_openmp_out_of_tensorflow()
    retain_freed_memory()
    try:
        return int(args.func(args) or 0)
    except Seq2FuncError as exc:
        print(f"seq2func {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file given on the command line is missing, a directory, ...
        if exc.filename is None:
            raise
        problem = (exc.strerror or type(exc).__name__).lower()
        print(f"seq2func {args.command}: error: "
              + format_message(str(exc.filename), problem, "check the path (run the step that "
                               "writes the file first, or give an existing file)"),
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
