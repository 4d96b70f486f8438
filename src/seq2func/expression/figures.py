"""Figures of the expression stage: observed vs predicted scatter plots and the ablation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core import metrics
from seq2func.expression.genes import gene_samples, split_targets


def scatter_figure(genes: pd.DataFrame, predictions: Mapping[str, np.ndarray],
                   models: Sequence[str], split: str = "test") -> Any:
    """Observed vs predicted log1p(TPM) of the split's genes: rows = models, columns = samples.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from seq2func.core.plotting import figure_style, pyplot

    plt = pyplot()
    samples = gene_samples(genes)
    sel, y = split_targets(genes, split)
    with figure_style():
        fig, axes = plt.subplots(len(models), len(samples), squeeze=False,
                                 figsize=(2.0 * len(samples), 1.9 * len(models)))
        lo, hi = float(y.min()), float(y.max())
        for i, name in enumerate(models):
            p = np.asarray(predictions[name], dtype=np.float64)[sel]
            for j, s in enumerate(samples):
                ax = axes[i, j]
                ax.scatter(p[:, j], y[:, j], s=3, alpha=0.5, color="#33638d", linewidths=0,
                           rasterized=False)
                ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.6, ls="--")
                r = metrics.pearson(y[:, j], p[:, j])
                ax.set_title(f"{s}\n{name}: r = {r:.2f}", fontsize=7)
                if j == 0:
                    ax.set_ylabel("observed log(1+TPM)")
                if i == len(models) - 1:
                    ax.set_xlabel("predicted log(1+TPM)")
        fig.tight_layout()
    return fig


def ablation_figure(rows: Sequence[metrics.MetricRow], order: Sequence[str]) -> Any:
    """Bars: macro-mean Pearson over samples per model with 95% bootstrap intervals; dots: the
    per-sample values.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from seq2func.core.plotting import figure_style, pyplot

    plt = pyplot()
    df = metrics.rows_to_frame(rows)
    df = df[df["metric"] == "pearson"]
    models = [m for m in order if m in set(df["model"])]
    with figure_style():
        fig, ax = plt.subplots(figsize=(max(3.0, 0.8 * len(models) + 1), 2.6))
        for i, m in enumerate(models):
            sub = df[df["model"] == m]
            macro = sub[sub["aggregation"] == metrics.MACRO].iloc[0]
            color = "#33638d" if m.startswith("seq_") else "#b8b8b8"
            ax.bar(i, macro["value"], color=color, width=0.7)
            ax.errorbar(i, macro["value"], yerr=[[macro["value"] - macro["ci_low"]],
                                                 [macro["ci_high"] - macro["value"]]],
                        color="black", capsize=2, lw=0.8)
            per = sub[sub["aggregation"] == metrics.PER_SAMPLE_GENES]["value"].to_numpy()
            ax.scatter(np.full(per.size, i) + np.linspace(-0.15, 0.15, per.size), per, s=6,
                       color="black", zorder=3)
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right")
        ax.set_ylabel("Pearson r, test genes\n(mean over samples, 95% CI)")
        ax.axhline(0, color="0.5", lw=0.5)
        fig.tight_layout()
    return fig
