"""The ``figure`` subcommand's entry point: build one paper figure by kind, with provenance."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: what a builder returns: the figure, the files it was made from, extra provenance
Built = tuple[Any, list[str], dict[str, Any]]


def _check_history(path: str | Path) -> None:
    """Raise an InputError unless ``path`` is a training history (epoch, loss, val_loss)."""
    import pandas as pd

    from seq2func.core.errors import InputError

    fix = "delete it and rerun the training job that writes it"
    try:
        cols = set(pd.read_csv(path, sep="\t", nrows=1).columns)
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot read the training history ({exc})", fix=fix) from exc
    missing = sorted({"epoch", "loss", "val_loss"} - cols)
    if missing:
        raise InputError(path, f"not a training history: no column {', '.join(missing)}",
                         fix=fix)


def training_curves(histories: Sequence[str | Path]) -> Built:
    """Training curves of ``.../<model>/seed<k>/history.tsv`` files."""
    from seq2func.report import figures

    for h in histories:
        _check_history(h)

    named = {f"{Path(h).parent.parent.name}/{Path(h).parent.name}": h for h in histories}
    return figures.training_curves(named), [str(h) for h in histories], {}


def roc_pr(scores: str | Path) -> Built:
    from seq2func.report import figures

    return figures.roc_pr_curves(scores), [str(scores)], {}


def counts_scatter(scores: str | Path) -> Built:
    from seq2func.report import figures

    return figures.counts_scatter(scores), [str(scores)], {}


def task_bars(table: str | Path, metric: str = "auROC") -> Built:
    from seq2func.report import figures

    return figures.task_bars(table, metric=metric), [str(table)], {}


def locus(tasks: Sequence[str], observed: Sequence[str], predicted: Sequence[str],
          peaks: Sequence[str], gtf: str, chrom_sizes: str, chromosomes: Sequence[str],
          where: str = "auto", width: int = 40000, label: str = "predicted") -> Built:
    """The locus panel at ``where`` (``chrom:start-end``, or ``auto``: the window of
    ``chromosomes`` with most peak summits)."""
    from seq2func.core.io import read_chrom_sizes
    from seq2func.report import locus as lp

    span = (lp.auto_locus(peaks, chromosomes, read_chrom_sizes(chrom_sizes), width)
            if where == "auto" else lp.parse_locus(where))
    fig = lp.locus_panel(span, dict(zip(tasks, observed, strict=True)),
                         dict(zip(tasks, predicted, strict=True)),
                         dict(zip(tasks, peaks, strict=True)), gtf, predicted_label=label)
    return (fig, [*observed, *predicted, *peaks, gtf],
            {"locus": f"{span[0]}:{span[1]}-{span[2]}"})


#: figure kinds of the ``figure`` subcommand
BUILDERS: Mapping[str, Callable[..., Built]] = {
    "training-curves": training_curves, "roc-pr": roc_pr, "counts-scatter": counts_scatter,
    "task-bars": task_bars, "locus": locus}


def make_figure(kind: str, out: str | Path, **inputs: Any) -> None:
    """Build the figure ``kind`` from ``inputs`` and save ``out.{pdf,svg,png}`` + provenance."""
    from seq2func.core.plotting import save_figure

    fig, files, extra = BUILDERS[kind](**inputs)
    save_figure(fig, out, inputs=files, extra={"kind": kind, **extra})
    log.info("wrote %s.{pdf,svg,png}", out)
