"""Paper figures of the accessibility evaluation (written with :func:`plotting.save_figure`).

* :func:`training_curves` - loss and validation auROC per epoch of every model and seed;
* :func:`roc_pr_curves` - ROC and precision-recall curves per task, deep models vs baselines;
* :func:`counts_scatter` - observed vs predicted log counts per task (peaks and background);
* :func:`task_bars` - a metric per task and model with bootstrap intervals;
* :func:`locus_panel` - a genome-browser-like view: observed and predicted tracks, peaks, genes.

Each function builds a matplotlib figure from files and returns it; the CLI saves it as PDF,
SVG and PNG with a provenance sidecar. Figures only use the data passed in, so rebuilding from
the same inputs gives byte-identical SVG and PDF files.
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


def _color(i: int) -> str:
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
                axes[0, j].plot(h["epoch"], h["loss"], color=_color(i), ls="--", lw=0.8,
                                label=f"{seed} train")
                axes[0, j].plot(h["epoch"], h["val_loss"], color=_color(i), label=f"{seed} valid")
                val = [c for c in h.columns if c.startswith("val_") and c != "val_loss"]
                if val:
                    axes[1, j].plot(h["epoch"], h[val[0]], color=_color(i), label=seed)
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
                axes[0, t].plot(fpr, tpr, color=_color(i), ls=ls,
                                label=f"{m} ({auroc(y, s):.3f})")
                axes[1, t].step(rec, prec, where="post", color=_color(i), ls=ls,
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
            ax.scatter(obs[peak], p[peak], s=2, lw=0, alpha=0.5, color=_color(0), label="peaks")
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
            ax.bar(x, vals, width=width, color=_color(i), label=m, yerr=err,
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


def parse_locus(text: str) -> tuple[str, int, int]:
    """``chr2:100000-150000`` -> ``("chr2", 100000, 150000)`` (0-based, end exclusive)."""
    try:
        chrom, rng = text.rsplit(":", 1)
        start, end = (int(v.replace(",", "")) for v in rng.split("-"))
    except ValueError as exc:
        raise ValueError(f"locus {text!r} is not chrom:start-end") from exc
    if end <= start or start < 0:
        raise ValueError(f"locus {text!r} has end <= start")
    return chrom, start, end


def auto_locus(peak_files: Sequence[str | Path], chromosomes: Sequence[str],
               chrom_sizes: Mapping[str, int], width: int) -> tuple[str, int, int]:
    """The ``width`` bp window of ``chromosomes`` holding the most peak summits of all samples
    (centred on a summit; the first such window in genome order on ties)."""
    from seq2func.core.intervals import read_peaks

    summits = pd.concat([read_peaks(p)[["chrom", "summit"]] for p in peak_files])
    best: tuple[int, str, int] = (-1, "", 0)
    for chrom in chromosomes:
        s = np.sort(summits.loc[summits["chrom"] == chrom, "summit"].to_numpy(np.int64))
        size = int(chrom_sizes[chrom])
        if s.size == 0:
            if best[0] < 0:
                best = (0, chrom, 0)
            continue
        lo = np.clip(s - width // 2, 0, max(0, size - width))
        counts = np.searchsorted(s, lo + width) - np.searchsorted(s, lo)
        i = int(np.argmax(counts))
        if counts[i] > best[0]:
            best = (int(counts[i]), chrom, int(lo[i]))
    _, chrom, start = best
    return chrom, start, min(start + width, int(chrom_sizes[chrom]))


def genes_in(gtf: str | Path, chrom: str, start: int, end: int) -> pd.DataFrame:
    """Genes (GTF/GFF ``gene`` records) overlapping a locus: name, start, end, strand, exons."""
    from seq2func.core.io import open_text

    genes: dict[str, dict[str, Any]] = {}
    with open_text(gtf) as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) < 9 or f[0] != chrom:
                continue
            a, b = int(f[3]) - 1, int(f[4])
            if b <= start or a >= end or f[2] not in ("gene", "exon"):
                continue
            attrs = dict(kv.strip().split(" ", 1) for kv in f[8].strip().strip(";").split(";")
                         if " " in kv.strip())
            gid = attrs.get("gene_id", "").strip('"')
            g = genes.setdefault(gid, {"gene_id": gid, "exons": []})
            if f[2] == "gene":
                g.update(name=attrs.get("gene_name", gid).strip('"'), start=a, end=b,
                         strand=f[6])
            else:
                g["exons"].append((a, b))
    rows = [g for g in genes.values() if "start" in g]
    return pd.DataFrame(rows, columns=["gene_id", "name", "start", "end", "strand", "exons"])


def locus_panel(
    locus: tuple[str, int, int],
    observed: Mapping[str, str | Path],
    predicted: Mapping[str, str | Path],
    peaks: Mapping[str, str | Path],
    gtf: str | Path,
    *,
    bin_size: int = 50,
    predicted_label: str = "predicted",
) -> Any:
    """Observed signal, predicted track, peaks per task and genes over one locus.

    Observed base-resolution signal is summed in ``bin_size`` bp bins (NaN = no coverage = 0);
    the predicted track is averaged in the same bins.
    """
    import pyBigWig

    from seq2func.core.intervals import read_peaks

    chrom, start, end = locus
    n_bins = max(1, (end - start) // bin_size)
    end = start + n_bins * bin_size
    x = start + bin_size * (np.arange(n_bins) + 0.5)
    tasks = list(observed)
    plt = pyplot()
    with figure_style():
        heights = [1.0] * (2 * len(tasks)) + [0.35 * len(tasks), 0.8]
        fig, axes = plt.subplots(len(heights), 1, figsize=(7.0, 0.75 * sum(heights) + 0.6),
                                 sharex=True, gridspec_kw={"height_ratios": heights})
        for i, task in enumerate(tasks):
            with pyBigWig.open(str(observed[task])) as bw:
                v = np.nan_to_num(bw.values(chrom, start, end, numpy=True), nan=0.0)
            ax = axes[2 * i]
            ax.fill_between(x, v.reshape(n_bins, bin_size).sum(axis=1), step="mid",
                            color=_color(i), lw=0)
            ax.set_ylabel(f"{task}\nobserved", rotation=0, ha="right", va="center")
            ax = axes[2 * i + 1]
            if task in predicted:
                with pyBigWig.open(str(predicted[task])) as bw:
                    size = bw.chroms(chrom) or 0
                    a, b = min(start, size), min(end, size)
                    p = np.full(end - start, np.nan)
                    if b > a:
                        p[a - start : b - start] = bw.values(chrom, a, b, numpy=True)
                with np.errstate(all="ignore"):
                    pb = np.nanmean(p.reshape(n_bins, bin_size), axis=1)
                ax.fill_between(x, np.nan_to_num(pb, nan=0.0), step="mid", color=_color(i),
                                alpha=0.55, lw=0)
            ax.set_ylabel(f"{task}\n{predicted_label}", rotation=0, ha="right", va="center")
        ax = axes[-2]
        for i, task in enumerate(tasks):
            pk = read_peaks(peaks[task]) if task in peaks else pd.DataFrame()
            if len(pk):
                pk = pk[(pk["chrom"] == chrom) & (pk["end"] > start) & (pk["start"] < end)]
                for a, b in zip(pk["start"], pk["end"], strict=True):
                    ax.add_patch(plt.Rectangle((a, i - 0.3), b - a, 0.6, color=_color(i), lw=0))
        ax.set_ylim(-0.6, len(tasks) - 0.4)
        ax.set_yticks(range(len(tasks)), [f"{t} peaks" for t in tasks])
        ax = axes[-1]
        genes = genes_in(gtf, chrom, start, end)
        for j, g in enumerate(genes.itertuples()):
            yy = j % 3
            ax.plot([max(g.start, start), min(g.end, end)], [yy, yy], color="0.2", lw=0.6)
            for a, b in g.exons:
                ax.add_patch(plt.Rectangle((a, yy - 0.25), b - a, 0.5, color="0.2", lw=0))
            mid = (max(g.start, start) + min(g.end, end)) / 2
            ax.text(mid, yy + 0.35, f"{g.name} ({g.strand})", ha="center", va="bottom",
                    fontsize=5)
        ax.set_ylim(-0.7, 3.0)
        ax.set_yticks([])
        ax.set_ylabel("genes", rotation=0, ha="right", va="center")
        ax.set_xlim(start, end)
        ax.set_xlabel(f"{chrom} position (bp)")
        fig.suptitle(f"{chrom}:{start:,}-{end:,} (held-out chromosome)")
        fig.tight_layout()
    return fig
