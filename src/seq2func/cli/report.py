"""Subcommands of the report stage: paper figures (``figure``)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

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
    from seq2func.core.plotting import save_figure
    from seq2func.report import figures

    inputs: list[str] = []
    extra: dict = {"kind": args.kind}
    if args.kind == "training-curves":
        hist = {f"{Path(h).parent.parent.name}/{Path(h).parent.name}": h for h in args.histories}
        fig, inputs = figures.training_curves(hist), list(args.histories)
    elif args.kind == "roc-pr":
        fig, inputs = figures.roc_pr_curves(args.scores), [args.scores]
    elif args.kind == "counts-scatter":
        fig, inputs = figures.counts_scatter(args.scores), [args.scores]
    elif args.kind == "task-bars":
        fig, inputs = figures.task_bars(args.table, metric=args.metric), [args.table]
    else:
        from seq2func.core.io import read_chrom_sizes

        if args.locus == "auto":
            locus = figures.auto_locus(args.peaks, args.chromosomes,
                                       read_chrom_sizes(args.chrom_sizes), args.width)
        else:
            locus = figures.parse_locus(args.locus)
        tasks = args.tasks
        fig = figures.locus_panel(locus, dict(zip(tasks, args.observed, strict=True)),
                                  dict(zip(tasks, args.predicted, strict=True)),
                                  dict(zip(tasks, args.peaks, strict=True)), args.gtf,
                                  predicted_label=args.label)
        inputs = [*args.observed, *args.predicted, *args.peaks, args.gtf]
        extra["locus"] = f"{locus[0]}:{locus[1]}-{locus[2]}"
    save_figure(fig, args.out, inputs=inputs, extra=extra)
    log.info("wrote %s.{pdf,svg,png}", args.out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_figure(sub)
