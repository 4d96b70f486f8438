"""Paper figures of the accessibility evaluation (written with :func:`plotting.save_figure`).

* :func:`training_curves` - loss and validation auROC per epoch of every model and seed;
* :func:`roc_pr_curves` - ROC and precision-recall curves per task, deep models vs baselines;
* :func:`counts_scatter` - observed vs predicted log counts per task (peaks and background);
* :func:`task_bars` - a metric per task and model with bootstrap intervals;
* the locus panel is in :mod:`seq2func.report.locus`.

Each function builds a matplotlib figure from files and returns it;
:func:`seq2func.report.run.make_figure` saves it as PDF, SVG and PNG with a provenance sidecar.
Figures only use the data passed in, so rebuilding from the same inputs gives byte-identical
SVG and PDF files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.metrics import pr_curve, roc_curve
from seq2func.core.plotting import figure_style, pyplot

#: models drawn in comparisons, in order (others in the table are drawn after them)
BASELINE_ORDER = ("kmer_lr", "kmer_ridge", "gc_only", "kmer_shuffled", "bayes_ceiling")
_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#ff7f0e"]


def model_order(names: Sequence[str]) -> list[str]:
    """Deep-model ensembles first, then baselines; per-seed entries (``a/seedN``) dropped."""
    names = [n for n in names if "/" not in n]
    deep = [n for n in names if n not in BASELINE_ORDER]
    return deep + [n for n in BASELINE_ORDER if n in names]


def model_color(i: int) -> str:
    """The colour of the ``i``-th model of a figure (a fixed cycle)."""
    return _COLORS[i % len(_COLORS)]


# --------------------------------------------------------------------------- training curves


def training_curves(histories: Mapping[str, str | Path]) -> Any:
    """Training and validation loss (and validation auROC, when logged) per epoch.

    ``histories``: label (``basset/seed1``) -> ``history.tsv``.
    """
    plt = pyplot()
    models = sorted({k.split("/")[0] for k in histories})
    with figure_style():
        fig, axes = plt.subplots(2, len(models), figsize=(3.0 * len(models), 4.2), squeeze=False)
        for j, model in enumerate(models):
            runs = [k for k in sorted(histories) if k.split("/")[0] == model]
            for i, key in enumerate(runs):
                h = pd.read_csv(histories[key], sep="\t")
                seed = key.split("/", 1)[1] if "/" in key else key
                axes[0, j].plot(h["epoch"], h["loss"], color=model_color(i), ls="--", lw=0.8,
                                label=f"{seed} train")
                axes[0, j].plot(h["epoch"], h["val_loss"], color=model_color(i),
                                label=f"{seed} valid")
                val = [c for c in h.columns if c.startswith("val_") and c != "val_loss"]
                if val:
                    axes[1, j].plot(h["epoch"], h[val[0]], color=model_color(i), label=seed)
                    axes[1, j].set_ylabel(val[0].replace("val_", "validation "))
            axes[0, j].set_title(model)
            axes[0, j].set_ylabel("loss")
            axes[0, j].legend()
            axes[1, j].set_xlabel("epoch")
            if not axes[1, j].lines:
                axes[1, j].set_axis_off()
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- ROC / PR


def roc_pr_curves(scores_path: str | Path) -> Any:
    """ROC (top) and PR (bottom) curves per task for the ensembles and baselines."""
    from seq2func.core.metrics import auprc, auroc
    from seq2func.evaluate.scores import load_scores

    sc = load_scores(scores_path)
    plt = pyplot()
    models = model_order(list(sc.label_scores))
    n_t = len(sc.tasks)
    with figure_style():
        fig, axes = plt.subplots(2, n_t, figsize=(2.6 * n_t, 5.0), squeeze=False)
        for t, task in enumerate(sc.tasks):
            y = sc.labels[:, t]
            for i, m in enumerate(models):
                s = sc.label_scores[m][:, t]
                fpr, tpr = roc_curve(y, s)
                rec, prec = pr_curve(y, s)
                ls = ":" if m in ("kmer_shuffled", "bayes_ceiling") else "-"
                axes[0, t].plot(fpr, tpr, color=model_color(i), ls=ls,
                                label=f"{m} ({auroc(y, s):.3f})")
                axes[1, t].step(rec, prec, where="post", color=model_color(i), ls=ls,
                                label=f"{m} ({auprc(y, s):.3f})")
            axes[0, t].plot([0, 1], [0, 1], color="0.7", lw=0.5)
            axes[1, t].axhline(y.mean(), color="0.7", lw=0.5)
            axes[0, t].set_title(task)
            axes[0, t].set_xlabel("false positive rate")
            axes[0, t].set_ylabel("true positive rate")
            axes[1, t].set_xlabel("recall")
            axes[1, t].set_ylabel("precision")
            axes[0, t].legend(title="auROC", loc="lower right", fontsize=5, title_fontsize=6)
            axes[1, t].legend(title="auPRC", loc="upper right", fontsize=5, title_fontsize=6)
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- counts scatter


def counts_scatter(scores_path: str | Path, model: str | None = None) -> Any:
    """Observed vs predicted log counts per task for one count model (default: the first deep
    model with a count head, else the k-mer ridge baseline)."""
    from seq2func.core.metrics import pearson, spearman
    from seq2func.evaluate.scores import load_scores

    sc = load_scores(scores_path)
    candidates = model_order(list(sc.count_preds))
    if model is None:
        if not candidates:
            raise ValueError(f"{scores_path}: no model predicts log counts")
        model = candidates[0]
    pred = sc.count_preds[model]
    peak = sc.regions["source"].to_numpy() == "peak"
    plt = pyplot()
    n_t = len(sc.tasks)
    with figure_style():
        fig, axes = plt.subplots(1, n_t, figsize=(2.6 * n_t, 2.7), squeeze=False)
        for t, task in enumerate(sc.tasks):
            ax = axes[0, t]
            obs, p = sc.log_counts[:, t], pred[:, t]
            ax.scatter(obs[~peak], p[~peak], s=2, lw=0, alpha=0.4, color="0.6",
                       label="background", rasterized=False)
            ax.scatter(obs[peak], p[peak], s=2, lw=0, alpha=0.5, color=model_color(0),
                       label="peaks")
            lo = float(min(obs.min(), p.min()))
            hi = float(max(obs.max(), p.max()))
            ax.plot([lo, hi], [lo, hi], color="0.3", lw=0.5)
            r_all, r_peak = pearson(obs, p), pearson(obs[peak], p[peak])
            ax.set_title(f"{task}\nr={r_all:.2f} (peaks {r_peak:.2f}), "
                         f"rho={spearman(obs, p):.2f}")
            ax.set_xlabel("observed log(1 + counts)")
            ax.set_ylabel(f"predicted ({model})")
        axes[0, 0].legend(markerscale=4)
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- per-task bars


def task_bars(table_path: str | Path, metric: str = "auROC", split: str = "test") -> Any:
    """``metric`` per task (and macro mean) for every ensemble and baseline, with 95% CIs."""
    from seq2func.core.metrics import MACRO, PER_TASK
    from seq2func.core.tables import read_metric_table

    df = read_metric_table(table_path)
    df = df[(df["metric"] == metric) & (df["split"] == split) & (df["chromosome"] == "all")
            & df["aggregation"].isin([PER_TASK, MACRO])]
    if df.empty:
        raise ValueError(f"{table_path}: no {metric} rows for split {split}")
    models = model_order(list(dict.fromkeys(df["model"])))
    tasks = [t for t in dict.fromkeys(df.loc[df["aggregation"] == PER_TASK, "task"])]
    groups = [*tasks, "all"]
    plt = pyplot()
    width = 0.8 / max(1, len(models))
    with figure_style():
        fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(groups), 2.8))
        for i, m in enumerate(models):
            vals, lo, hi = [], [], []
            for g in groups:
                agg = MACRO if g == "all" else PER_TASK
                r = df[(df["model"] == m) & (df["task"] == g) & (df["aggregation"] == agg)]
                v = float(r["value"].iloc[0]) if len(r) else np.nan
                vals.append(v)
                lo.append(v - float(r["ci_low"].iloc[0]) if len(r) else 0.0)
                hi.append(float(r["ci_high"].iloc[0]) - v if len(r) else 0.0)
            x = np.arange(len(groups)) + (i - (len(models) - 1) / 2) * width
            err = np.nan_to_num(np.array([lo, hi]), nan=0.0)
            ax.bar(x, vals, width=width, color=model_color(i), label=m, yerr=err,
                   error_kw={"lw": 0.6, "capsize": 1.5})
        ax.set_xticks(np.arange(len(groups)), [*tasks, "macro mean"])
        ax.set_ylabel(f"{metric} ({split}, 95% bootstrap CI)")
        if metric in ("auROC",):
            ax.set_ylim(0.4, 1.0)
            ax.axhline(0.5, color="0.6", lw=0.5)
        ax.legend(ncol=min(4, len(models)), loc="upper center", bbox_to_anchor=(0.5, -0.15))
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- locus panel
