"""Subcommands of the report stage: paper figures (``figure``)."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger("seq2func")


_FIGURES = ("training-curves", "roc-pr", "counts-scatter", "task-bars", "locus")


def _add_figure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "figure", help="build one paper figure (PDF + SVG + PNG + provenance)",
        description="Build an evaluation figure as <out>.pdf/.svg/.png with a provenance "
                    "sidecar. Kinds: " + ", ".join(_FIGURES) + ".")
    p.add_argument("kind", choices=_FIGURES)
    p.add_argument("--out", required=True, help="output stem (path without extension)")
    p.add_argument("--histories", nargs="*", default=[], help="training-curves: history.tsv")
    p.add_argument("--scores", help="roc-pr, counts-scatter: scores .npz of evaluation")
    p.add_argument("--table", help="task-bars: metric table")
    p.add_argument("--metric", default="auROC", help="task-bars: metric")
    p.add_argument("--observed", nargs="*", default=[], help="locus: observed bigWigs (per task)")
    p.add_argument("--predicted", nargs="*", default=[], help="locus: predicted bigWigs")
    p.add_argument("--peaks", nargs="*", default=[], help="locus: peak files (per task)")
    p.add_argument("--tasks", nargs="*", default=[], help="locus: task names (in file order)")
    p.add_argument("--gtf", help="locus: gene annotation")
    p.add_argument("--chrom-sizes", help="locus: chromosome sizes")
    p.add_argument("--chromosomes", nargs="*", default=[], help="locus: where to auto-choose")
    p.add_argument("--locus", default="auto", help="locus: chrom:start-end or auto")
    p.add_argument("--width", type=int, default=40000, help="locus: width when auto")
    p.add_argument("--label", default="predicted", help="locus: predicted track label")
    p.set_defaults(func=_run_figure)


def _run_figure(args: argparse.Namespace) -> int:
    from seq2func.report.run import make_figure

    inputs = {
        "training-curves": {"histories": args.histories},
        "roc-pr": {"scores": args.scores},
        "counts-scatter": {"scores": args.scores},
        "task-bars": {"table": args.table, "metric": args.metric},
        "locus": {"tasks": args.tasks, "observed": args.observed, "predicted": args.predicted,
                  "peaks": args.peaks, "gtf": args.gtf, "chrom_sizes": args.chrom_sizes,
                  "chromosomes": args.chromosomes, "where": args.locus, "width": args.width,
                  "label": args.label},
    }[args.kind]
    make_figure(args.kind, args.out, **inputs)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_figure(sub)
