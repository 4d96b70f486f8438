"""Contribution-weighted sequence logos (logomaker) of discovered patterns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from seq2func.interpret.modisco import Pattern


def plot_logos(patterns: Sequence[Pattern], table: pd.DataFrame, tasks: Sequence[str],
               top: int = 4) -> Any:
    """Figure: contribution-weighted logos of the ``top`` largest positive patterns per task.

    Each logo is titled with the pattern, its seqlet count and best database match.
    """
    import logomaker

    from seq2func.core.plotting import figure_style, pyplot

    plt = pyplot()
    info = table.set_index("pattern") if len(table) else pd.DataFrame()
    with figure_style():
        fig, axes = plt.subplots(len(tasks), top, figsize=(2.2 * top, 1.1 * len(tasks) + 0.3),
                                 squeeze=False)
        for i, task in enumerate(tasks):
            pats = [p for p in patterns if p.task == task and "_neg_" not in p.name][:top]
            for j in range(top):
                ax = axes[i, j]
                if j >= len(pats):
                    ax.axis("off")
                    if j == 0:
                        ax.set_title(f"{task}: no pattern", loc="left")
                    continue
                p = pats[j]
                df = pd.DataFrame(p.cwm, columns=list("ACGT"))
                logomaker.Logo(df, ax=ax, color_scheme="classic", show_spines=False)
                ax.set_xticks([])
                ax.tick_params(axis="y", labelsize=5)
                match = ""
                if p.name in info.index:
                    r = info.loc[p.name]
                    match = f"\n{r['best_name']} ({r['best_id']}) r={r['similarity']:.2f}"
                ax.set_title(f"{p.name} n={p.n_seqlets}{match}", fontsize=6, loc="left")
        fig.tight_layout()
    return fig
