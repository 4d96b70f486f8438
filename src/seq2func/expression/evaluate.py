"""Scores of the expression models: metrics per sample, the ablation table and, on the
simulated demo, the explainable variance captured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core import metrics
from seq2func.expression.genes import gene_samples, split_targets

#: what each model of the ablation sees
DESCRIPTIONS = {
    "seq_only": "promoter sequence (CNN)",
    "seq_observed": "promoter sequence + observed chromatin (CNN)",
    "seq_predicted": "promoter sequence + predicted chromatin (CNN)",
    "kmer_ridge": "promoter k-mers (ridge)",
    "chromatin_ridge": "observed chromatin only (ridge)",
}


def _r2(a: np.ndarray, b: np.ndarray) -> float:
    r = metrics.pearson(a, b)
    return r * r if np.isfinite(r) else float("nan")


def score_models(genes: pd.DataFrame, predictions: Mapping[str, np.ndarray], split: str = "test",
                 n_boot: int = 1000, seed: int = 0) -> list[metrics.MetricRow]:
    """Pearson and Spearman of log1p(TPM) per sample across the split's genes (and their macro
    mean over samples), with bootstrap intervals resampling genes."""
    samples = gene_samples(genes)
    rows_sel, y = split_targets(genes, split)
    out = []
    for name, pred in predictions.items():
        p = np.asarray(pred, dtype=np.float64)[rows_sel]
        for metric, fn in (("pearson", metrics.pearson), ("spearman", metrics.spearman)):
            for j, s in enumerate(samples):
                out.append(metrics.metric_row(name, split, metric, s, metrics.PER_SAMPLE_GENES,
                                              fn, y[:, j], p[:, j], n_boot=n_boot, seed=seed))
            out.append(metrics.metric_row(name, split, metric, "all", metrics.MACRO,
                                          metrics.macro(fn), y, p, n_boot=n_boot, seed=seed))
    return out


def ablation_table(rows: Sequence[metrics.MetricRow], order: Sequence[str]) -> pd.DataFrame:
    """One line per model: macro-mean Pearson/Spearman over samples with intervals, and the
    gain in Pearson over ``seq_only`` (when present)."""
    df = metrics.rows_to_frame(rows)
    macro = df[(df["task"] == "all") & (df["aggregation"] == metrics.MACRO)]
    lines = []
    for name in order:
        sub = macro[macro["model"] == name].set_index("metric")
        if sub.empty:
            continue
        line: dict[str, Any] = {"model": name, "inputs": DESCRIPTIONS.get(name, name)}
        for m in ("pearson", "spearman"):
            line[m] = sub.loc[m, "value"]
            line[f"{m}_ci_low"] = sub.loc[m, "ci_low"]
            line[f"{m}_ci_high"] = sub.loc[m, "ci_high"]
        line["n_genes"] = int(sub.loc["pearson", "n"])
        lines.append(line)
    table = pd.DataFrame(lines)
    if not table.empty and "seq_only" in set(table["model"]):
        base = float(table.loc[table["model"] == "seq_only", "pearson"].iloc[0])
        table["pearson_gain_vs_seq_only"] = table["pearson"] - base
    return table


def explainable_variance(genes: pd.DataFrame, predictions: Mapping[str, np.ndarray],
                         truth_path: str | Path, split: str = "test", n_boot: int = 1000,
                         seed: int = 0) -> list[metrics.MetricRow]:
    """On the simulated demo: how much of the noise-free (explainable) expression is captured.

    Per sample, across the split's genes: ``r2_vs_truth`` = squared Pearson correlation of the
    prediction with the simulator's noise-free ``explainable_log2``; ``r2_observed`` = the same
    with the observed log1p(TPM); model ``truth_ceiling`` gives ``r2_observed`` of the truth
    itself (the best any model can reach, since gene effects and noise are unpredictable);
    ``fraction_of_ceiling`` = ``r2_observed`` / ceiling.
    """
    samples = gene_samples(genes)
    sel, y = split_targets(genes, split)
    t = _truth(truth_path, genes["gene_id"].to_numpy()[sel], samples)
    boot = {"n_boot": n_boot, "seed": seed}
    out = []
    ceiling = {}
    for j, s in enumerate(samples):
        row = metrics.metric_row("truth_ceiling", split, "r2_observed", s,
                                 metrics.PER_SAMPLE_GENES, _r2, t[:, j], y[:, j], **boot)
        ceiling[s] = row.value
        out.append(row)
    for name, pred in predictions.items():
        p = np.asarray(pred, dtype=np.float64)[sel]
        for j, s in enumerate(samples):
            out.append(metrics.metric_row(name, split, "r2_vs_truth", s, metrics.PER_SAMPLE_GENES,
                                          _r2, p[:, j], t[:, j], **boot))
            obs = metrics.metric_row(name, split, "r2_observed", s, metrics.PER_SAMPLE_GENES,
                                     _r2, p[:, j], y[:, j], **boot)
            out += [obs, _fraction_of(obs, ceiling[s])]
        out.append(metrics.metric_row(name, split, "r2_vs_truth", "all", metrics.MACRO,
                                      metrics.macro(_r2), p, t, **boot))
    return out


def _truth(truth_path: str | Path, gene_ids: np.ndarray, samples: Sequence[str]) -> np.ndarray:
    """The simulator's ``explainable_log2`` of ``gene_ids`` x ``samples``."""
    truth = pd.read_csv(truth_path, sep="\t", dtype={"gene_id": str, "sample": str})
    wide = truth.pivot(index="gene_id", columns="sample", values="explainable_log2")
    missing = [s for s in samples if s not in wide.columns]
    if missing or not np.isin(gene_ids, wide.index).all():
        raise ValueError(f"{truth_path} does not cover the genes/samples of the gene table")
    return wide.loc[gene_ids, list(samples)].to_numpy(dtype=np.float64)


def _fraction_of(row: metrics.MetricRow, ceiling: float) -> metrics.MetricRow:
    """``fraction_of_ceiling``: ``row``'s value and interval divided by ``ceiling``."""
    c = ceiling
    return metrics.MetricRow(row.model, row.split, "fraction_of_ceiling", row.task,
                             row.aggregation, row.value / c if c else np.nan,
                             row.ci_low / c if c else np.nan, row.ci_high / c if c else np.nan,
                             row.n)
