"""Figure of the grammar sweeps: interaction vs spacing per pair, task and orientation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

#: line colour of each relative orientation
COLOURS = {"+/+": "#1b9e77", "+/-": "#d95f02", "-/+": "#7570b3", "-/-": "#e7298a"}


def plot_sweeps(sweeps: pd.DataFrame, tasks: Sequence[str], title: str = "") -> Any:
    """One panel per pair (rows) and task (columns): the mean interaction over backgrounds
    (pair effect minus the single effects) against the spacing, one line per orientation with
    its bootstrap band. Panels of a row share the y axis, so tasks compare directly."""
    from seq2func.core.plotting import figure_style, pyplot

    plt = pyplot()
    pairs = list(dict.fromkeys(sweeps["pair"])) if len(sweeps) else []
    with figure_style():
        fig, axes = plt.subplots(max(len(pairs), 1), len(tasks),
                                 figsize=(2.6 * len(tasks), 1.8 * max(len(pairs), 1) + 0.5),
                                 squeeze=False, sharex=True, sharey="row")
        if not pairs:
            axes[0, 0].set_title("no pair swept", loc="left")
        for i, pair in enumerate(pairs):
            rows = sweeps[sweeps["pair"] == pair]
            for j, task in enumerate(tasks):
                ax = axes[i, j]
                for o, r in rows[rows["task"] == task].groupby("orientation", sort=False):
                    r = r.sort_values("spacing")
                    c = COLOURS.get(str(o), "grey")
                    ax.plot(r["spacing"], r["interaction"], color=c, lw=0.9, label=str(o))
                    ax.fill_between(r["spacing"], r["interaction_low"], r["interaction_high"],
                                    color=c, alpha=0.2, lw=0)
                ax.axhline(0, color="black", lw=0.5)
                if i == 0:
                    ax.set_title(task)
                if j == 0:
                    ax.set_ylabel(f"{pair}\ninteraction", fontsize=6)
                if i == len(pairs) - 1:
                    ax.set_xlabel("spacing (bp)")
        if pairs:
            axes[0, -1].legend(fontsize=5, title="orientation", title_fontsize=5)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
    return fig
