"""Gene expression from promoter sequence and chromatin: preparation, baselines, evaluation.

Steps (each a ``seq2func`` subcommand and a rule of ``workflow/rules/expression.smk``):

1. :func:`prepare` - gene table, QC record and features (promoter codes, observed chromatin) of
   every gene (:mod:`seq2func.expression.data`);
2. predicted chromatin from the accessibility models
   (:func:`seq2func.expression.models.predict_chromatin`);
3. training of each model variant and seed (:func:`seq2func.expression.models.train_expression`);
4. :func:`evaluate` - scikit-learn baselines fitted on the training genes (k-mer ridge on the
   promoter, ridge on the observed chromatin only), Pearson/Spearman per sample across test genes
   with bootstrap intervals, the ablation table and figures; on the simulated demo,
   :func:`explainable_variance` compares predictions with the noise-free truth.

All models are scored on the test chromosomes of the shared ``split`` configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core import metrics
from seq2func.core.io import atomic_output, write_tsv_atomic
from seq2func.expression.data import (
    ExpressionWindow,
    build_gene_table,
    gene_samples,
    match_chromatin_samples,
    observed_chromatin,
    promoter_codes,
    read_gene_table,
    target_columns,
    write_qc,
)

log = logging.getLogger(__name__)

BASELINE_NAMES = ("kmer_ridge", "chromatin_ridge")
ALPHAS = tuple(10.0 ** np.arange(-2, 5))


def _save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)


# --------------------------------------------------------------------------- preparation


def prepare(
    annotation: str | Path,
    expression: str | Path,
    genome_path: str | Path,
    bigwigs: Mapping[str, str | Path],
    split: Mapping[str, Sequence[str]],
    window: ExpressionWindow,
    outdir: str | Path,
    *,
    samples: Sequence[str] | None = None,
    exclude_regex: str | None = None,
    biotypes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write ``genes.tsv``, ``genes_qc.json`` and ``features.npz`` into ``outdir``.

    ``features.npz`` holds ``codes`` ``(n, L)`` uint8 (oriented promoters), ``observed``
    ``(n, bins, tracks)`` float32 and ``tracks`` (the accessibility sample of each track).

    Returns
    -------
    dict
        The QC record.
    """
    from seq2func.core.sequence import Genome

    out = Path(outdir)
    with Genome(genome_path) as genome:
        sizes = dict(genome.sizes)
        genes, qc = build_gene_table(annotation, expression, sizes, split, window,
                                     samples=samples, exclude_regex=exclude_regex,
                                     biotypes=biotypes)
        codes = promoter_codes(genome, genes, window)
    observed = observed_chromatin(list(bigwigs.values()), genes, window, sizes)
    qc["n_fraction_promoters"] = float((codes == 4).mean())
    qc["chromatin_tracks"] = list(bigwigs)
    _save_npz(out / "features.npz", codes=codes, observed=observed,
              tracks=np.asarray(list(bigwigs)), gene_id=genes["gene_id"].to_numpy().astype(str))
    write_tsv_atomic(out / "genes.tsv", genes, float_format="%.6g")
    write_qc(out / "genes_qc.json", qc)
    return qc


def load_arrays(genes_path: str | Path, features_path: str | Path, variant: str,
                predicted_path: str | Path | None = None, match: str = "auto") -> Any:
    """Inputs of one model variant as :class:`~seq2func.expression.models.ExpressionArrays`.

    The chromatin input (observed or predicted) keeps the tracks chosen by ``match`` (see
    :func:`~seq2func.expression.data.match_chromatin_samples`) and is scaled per track by its
    standard deviation over training genes.
    """
    from seq2func.expression.models import ExpressionArrays, standardise_chromatin

    genes = read_gene_table(genes_path)
    samples = gene_samples(genes)
    with np.load(features_path) as z:
        codes, tracks = z["codes"], [str(t) for t in z["tracks"]]
        chromatin = z["observed"] if variant == "seq_observed" else None
        if not np.array_equal(z["gene_id"].astype(str), genes["gene_id"].to_numpy().astype(str)):
            raise ValueError(f"{features_path} does not match {genes_path}: rerun preparation")
    if variant == "seq_predicted":
        if predicted_path is None:
            raise ValueError("seq_predicted needs the predicted chromatin")
        with np.load(predicted_path) as z:
            chromatin, tracks = z["predicted"], [str(t) for t in z["tracks"]]
    split = genes["split"].to_numpy()
    extra: dict[str, Any] = {}
    if chromatin is not None:
        idx, mode = match_chromatin_samples(samples, tracks, match)
        chromatin = standardise_chromatin(chromatin[:, :, idx], np.flatnonzero(split == "train"))
        extra = {"match": mode, "tracks": [tracks[i] for i in idx],
                 "source": "observed" if variant == "seq_observed" else "predicted"}
    return ExpressionArrays(codes=codes, targets=genes[target_columns(genes)].to_numpy(),
                            split=split, samples=samples, chromatin=chromatin, extra=extra)


# --------------------------------------------------------------------------- baselines


def kmer_features(codes: np.ndarray, k: int) -> np.ndarray:
    """k-mer frequencies of oriented promoters (strand-specific: not reverse-complement
    collapsed, since the promoter has a direction), ``(n, 4**k)`` float32."""
    from seq2func.evaluate.baselines import kmer_counts

    x = kmer_counts(codes, k, canonical=False)
    return np.asarray(x.todense(), dtype=np.float32) / max(1, codes.shape[1] - k + 1)


def fit_ridge(x: np.ndarray, y: np.ndarray, train: np.ndarray, alphas: Sequence[float] = ALPHAS
              ) -> tuple[np.ndarray, list[float]]:
    """Standardised ridge regression, penalty per sample by efficient leave-one-out CV on the
    training rows; returns predictions for every row and the chosen penalties."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), RidgeCV(alphas=list(alphas), alpha_per_target=True))
    model.fit(x[train], y[train])
    pred = np.asarray(model.predict(x), dtype=np.float64).reshape(y.shape)
    alpha = np.atleast_1d(model[-1].alpha_).astype(float).tolist()
    return pred, alpha


def baseline_predictions(genes: pd.DataFrame, features_path: str | Path, k: int = 5,
                         match: str = "auto") -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Predictions of ``kmer_ridge`` and ``chromatin_ridge`` for every gene (fitted on the
    training genes), and what was fitted."""
    samples = gene_samples(genes)
    y = genes[target_columns(genes)].to_numpy(dtype=np.float64)
    train = genes["split"].to_numpy() == "train"
    with np.load(features_path) as z:
        codes, observed, tracks = z["codes"], z["observed"], [str(t) for t in z["tracks"]]
    idx, mode = match_chromatin_samples(samples, tracks, match)
    preds, info = {}, {}
    preds["kmer_ridge"], alpha = fit_ridge(kmer_features(codes, k), y, train)
    info["kmer_ridge"] = {"k": k, "features": 4**k, "alpha": alpha}
    chrom = observed[:, :, idx].reshape(len(genes), -1)
    preds["chromatin_ridge"], alpha = fit_ridge(chrom, y, train)
    info["chromatin_ridge"] = {"features": int(chrom.shape[1]), "alpha": alpha, "match": mode}
    return preds, info


# --------------------------------------------------------------------------- evaluation


def _r2(a: np.ndarray, b: np.ndarray) -> float:
    r = metrics.pearson(a, b)
    return r * r if np.isfinite(r) else float("nan")


def score_models(genes: pd.DataFrame, predictions: Mapping[str, np.ndarray], split: str = "test",
                 n_boot: int = 1000, seed: int = 0) -> list[metrics.MetricRow]:
    """Pearson and Spearman of log1p(TPM) per sample across the split's genes (and their macro
    mean over samples), with bootstrap intervals resampling genes."""
    samples = gene_samples(genes)
    rows_sel = genes["split"].to_numpy() == split
    y = genes[target_columns(genes)].to_numpy(dtype=np.float64)[rows_sel]
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


DESCRIPTIONS = {
    "seq_only": "promoter sequence (CNN)",
    "seq_observed": "promoter sequence + observed chromatin (CNN)",
    "seq_predicted": "promoter sequence + predicted chromatin (CNN)",
    "kmer_ridge": "promoter k-mers (ridge)",
    "chromatin_ridge": "observed chromatin only (ridge)",
}


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
    truth = pd.read_csv(truth_path, sep="\t", dtype={"gene_id": str, "sample": str})
    wide = truth.pivot(index="gene_id", columns="sample", values="explainable_log2")
    samples = gene_samples(genes)
    sel = genes["split"].to_numpy() == split
    ids = genes["gene_id"].to_numpy()[sel]
    missing = [s for s in samples if s not in wide.columns]
    if missing or not np.isin(ids, wide.index).all():
        raise ValueError(f"{truth_path} does not cover the genes/samples of the gene table")
    t = wide.loc[ids, samples].to_numpy(dtype=np.float64)
    y = genes[target_columns(genes)].to_numpy(dtype=np.float64)[sel]
    out = []
    ceiling = {}
    for j, s in enumerate(samples):
        row = metrics.metric_row("truth_ceiling", split, "r2_observed", s,
                                 metrics.PER_SAMPLE_GENES, _r2, t[:, j], y[:, j],
                                 n_boot=n_boot, seed=seed)
        ceiling[s] = row.value
        out.append(row)
    for name, pred in predictions.items():
        p = np.asarray(pred, dtype=np.float64)[sel]
        for j, s in enumerate(samples):
            out.append(metrics.metric_row(name, split, "r2_vs_truth", s, metrics.PER_SAMPLE_GENES,
                                          _r2, p[:, j], t[:, j], n_boot=n_boot, seed=seed))
            obs = metrics.metric_row(name, split, "r2_observed", s, metrics.PER_SAMPLE_GENES,
                                     _r2, p[:, j], y[:, j], n_boot=n_boot, seed=seed)
            out.append(obs)
            c = ceiling[s]
            out.append(metrics.MetricRow(name, split, "fraction_of_ceiling", s,
                                         metrics.PER_SAMPLE_GENES, obs.value / c if c else np.nan,
                                         obs.ci_low / c if c else np.nan,
                                         obs.ci_high / c if c else np.nan, obs.n))
        out.append(metrics.metric_row(name, split, "r2_vs_truth", "all", metrics.MACRO,
                                      metrics.macro(_r2), p, t, n_boot=n_boot, seed=seed))
    return out


# --------------------------------------------------------------------------- figures


def scatter_figure(genes: pd.DataFrame, predictions: Mapping[str, np.ndarray],
                   models: Sequence[str], split: str = "test") -> Any:
    """Observed vs predicted log1p(TPM) of the split's genes: rows = models, columns = samples."""
    from seq2func.core.plotting import figure_style, pyplot

    plt = pyplot()
    samples = gene_samples(genes)
    sel = genes["split"].to_numpy() == split
    y = genes[target_columns(genes)].to_numpy(dtype=np.float64)[sel]
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
    per-sample values."""
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


def evaluate(
    genes_path: str | Path,
    features_path: str | Path,
    model_predictions: Mapping[str, Sequence[str | Path]],
    metrics_out: str | Path,
    ablation_out: str | Path,
    figure_stems: Mapping[str, str | Path],
    *,
    k: int = 5,
    match: str = "auto",
    truth: str | Path | None = None,
    truth_out: str | Path | None = None,
    n_boot: int = 1000,
    config: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Fit the baselines, score every model on the test genes and write tables and figures.

    Parameters
    ----------
    model_predictions
        Variant -> ``predictions.npz`` of its seeds (the mean over seeds is scored).
    figure_stems
        ``scatter`` and ``ablation`` -> output stem (PDF, SVG, PNG and provenance are written).
    truth, truth_out
        Simulator truth (``expression_terms.tsv``) and where to write the explainable-variance
        table (demo only).
    """
    from seq2func.core.plotting import save_figure
    from seq2func.core.provenance import write_provenance

    genes = read_gene_table(genes_path)
    preds: dict[str, np.ndarray] = {}
    inputs: list[str | Path] = [genes_path, features_path]
    for variant, paths in model_predictions.items():
        arrays = []
        for p in paths:
            with np.load(p) as z:
                arrays.append(z["prediction"])
            inputs.append(p)
        preds[variant] = np.mean(arrays, axis=0)
    base, info = baseline_predictions(genes, features_path, k=k, match=match)
    preds.update(base)
    order = [m for m in (*[v for v in ("seq_only", "seq_observed", "seq_predicted")
                           if v in preds], *BASELINE_NAMES)]
    rows = score_models(genes, preds, n_boot=n_boot)
    table = metrics.rows_to_frame(rows)
    write_tsv_atomic(metrics_out, table, float_format="%.6g")
    extra = {"baselines": info, "seeds": {k_: len(v) for k_, v in model_predictions.items()}}
    write_provenance(metrics_out, step="evaluate-expression", inputs=inputs, config=config,
                     extra=extra)
    ablation = ablation_table(rows, order)
    write_tsv_atomic(ablation_out, ablation, float_format="%.6g")
    write_provenance(ablation_out, step="evaluate-expression", inputs=inputs, config=config)
    if truth is not None and truth_out is not None:
        trows = explainable_variance(genes, preds, truth, n_boot=n_boot)
        write_tsv_atomic(truth_out, metrics.rows_to_frame(trows), float_format="%.6g")
        write_provenance(truth_out, step="evaluate-expression", inputs=[*inputs, truth],
                         config=config)
    deep = [m for m in order if m.startswith("seq_")] or list(order)
    if "scatter" in figure_stems:
        save_figure(scatter_figure(genes, preds, deep), figure_stems["scatter"], inputs=inputs,
                    config=config)
    if "ablation" in figure_stems:
        save_figure(ablation_figure(rows, order), figure_stems["ablation"], inputs=inputs,
                    config=config)
    log.info("expression ablation (test genes):\n%s", ablation.to_string(index=False))
    return ablation

