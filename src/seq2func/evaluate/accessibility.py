"""Accessibility evaluation on held-out chromosomes: deep models, baselines, controls, ceiling.

Everything is scored on the same regions (:mod:`seq2func.evaluate.scores`): the rows of the
split (peaks and GC-matched background of the test chromosomes), in that order.

Models in the table (``model`` column)
--------------------------------------

* ``<model>/seed<k>`` - one trained seed (predictions written by ``predict-accessibility``);
* ``<model>`` - the seed ensemble: the mean of the seeds' strand-averaged predictions;
* ``kmer_lr`` - canonical k-mer counts + logistic regression per task (peak labels);
  ``kmer_ridge`` - the same features + ridge regression of log counts;
* ``gc_only`` - GC fraction (and its square) only, logistic and ridge regression;
* ``kmer_shuffled`` - k-mer logistic regression fitted on training labels permuted across
  regions: must score at chance (auROC ~0.5), anything above flags leakage;
* ``bayes_ceiling`` - simulated studies only: the simulator's true probability that the element
  under the region is accessible (``p_<cell type>`` in ``truth/cres.tsv``), see
  :func:`seq2func.evaluate.ceiling.bayes_ceiling_scores`.

All baselines are fitted on the ``train`` split of the same dataset, with the same labels and
count targets as the deep models.

Metrics (``metric`` column) and the regions they use
----------------------------------------------------

* ``auROC``, ``auPRC`` of peak labels (``label_<task>``), all regions of the split. Models
  with a label head score with the peak probability; count-only models (BPNet) with their
  predicted log counts (as ChromBPNet does for peak/non-peak separation);
* ``log_counts_pearson``, ``log_counts_spearman`` of observed vs predicted log counts, over all
  regions (aggregation ``... across regions``) and over peak regions only
  (``... across peak regions``: ``source == peak``);
* ``profile_JSD`` - Jensen-Shannon distance of observed and predicted profiles, median over peak
  regions per task (ChromBPNet's convention). Reference: ``average_profile``, the mean
  normalised profile of training peaks given to every region (a position-only model; sparse
  read counts keep even a perfect model's JSD well above 0).

Each metric has per-task rows, a macro mean over tasks and a pooled value (see
:mod:`seq2func.core.metrics`), with percentile-bootstrap intervals over regions; the same rows per
test chromosome (``chromosome`` column) follow the genome-wide ones (``chromosome`` = ``all``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from seq2func.core.metrics import MetricRow, evaluate_tasks, median_jsd_rows, rows_to_frame
from seq2func.dataset import average_peak_profile, own_peaks
from seq2func.evaluate.ceiling import bayes_ceiling_scores
from seq2func.evaluate.scores import (
    SplitScores,
    load_model_predictions,
    read_split,
)
from seq2func.evaluate.settings import EvaluateSettings

log = logging.getLogger(__name__)

#: model names of the baselines in the tables
KMER_LR, KMER_RIDGE, GC_ONLY, KMER_SHUFFLED, BAYES = (
    "kmer_lr", "kmer_ridge", "gc_only", "kmer_shuffled", "bayes_ceiling")
#: profile baseline: the mean shape of training peaks for every region
AVERAGE_PROFILE = "average_profile"


def fit_baselines(dataset_dir: str | Path, codes_eval: np.ndarray, *, k: int = 5, seed: int = 0,
                  fold: str | None = None
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Fit the baselines on the train split (of the default split, or of ``fold``); predict
    ``codes_eval``.

    Returns
    -------
    tuple
        ``(label_scores, count_preds)``: model name -> ``(n, T)`` arrays.
    """
    from seq2func.evaluate.baselines import fit_baseline

    _, _, codes, labels, log_counts, _ = read_split(dataset_dir, "train", fold=fold)
    kmer = fit_baseline("kmer", codes, labels, log_counts, k=k, seed=seed)
    gc = fit_baseline("gc", codes, labels, log_counts, k=k, seed=seed)
    shuffled = fit_baseline("kmer_shuffled", codes, labels, None, k=k, seed=seed)
    pk, pg, ps = kmer.predict(codes_eval), gc.predict(codes_eval), shuffled.predict(codes_eval)
    return ({KMER_LR: pk["labels"], GC_ONLY: pg["labels"], KMER_SHUFFLED: ps["labels"]},
            {KMER_RIDGE: pk["log_counts"], GC_ONLY: pg["log_counts"]})


# --------------------------------------------------------------------------- metrics


def _on_regions(aggregation: str, regions_word: str) -> str:
    """Name the region subset in an aggregation (``... across peak regions``)."""
    if regions_word == "regions":
        return aggregation
    if "regions" in aggregation:
        return aggregation.replace("regions", regions_word)
    return f"{aggregation}, {regions_word}"


def _relabel(rows: list[MetricRow], metric: str, regions_word: str) -> list[MetricRow]:
    return [dataclasses.replace(r, metric=metric,
                                aggregation=_on_regions(r.aggregation, regions_word))
            for r in rows]


def _own_peaks(scores: SplitScores) -> np.ndarray:
    """``(n, T)``: regions that are peaks of each task (profiles are scored on those, as
    ChromBPNet scores a sample's profiles on its own peaks)."""
    return own_peaks(scores.regions, scores.tasks)


def metric_rows(scores: SplitScores, split: str, *, n_boot: int = 1000, seed: int = 0,
                per_chromosome: bool = True) -> list[MetricRow]:
    """Every metric row of a split (genome-wide, then per chromosome)."""
    rows: list[MetricRow] = []
    chroms = scores.regions["chrom"].to_numpy().astype(str)
    peak = scores.regions["source"].to_numpy().astype(str) == "peak"
    groups = [("all", np.ones(chroms.size, dtype=bool))]
    if per_chromosome:
        groups += [(c, chroms == c) for c in dict.fromkeys(chroms.tolist())]
    for chrom, sel in groups:
        if chrom != "all" and sel.all():  # a single chromosome: its rows equal the genome-wide
            rows += [dataclasses.replace(r, chromosome=chrom) for r in rows
                     if r.chromosome == "all"]
            continue
        kw = {"n_boot": n_boot, "seed": seed, "chromosome": chrom}
        y = scores.labels[sel]
        for model, s in scores.label_scores.items():
            for metric in ("auROC", "auPRC"):
                rows += evaluate_tasks(model, split, metric, y, s[sel], scores.tasks, **kw)
        for model, p in scores.count_preds.items():
            for metric in ("pearson", "spearman"):
                obs, pred = scores.log_counts, p
                rows += _relabel(evaluate_tasks(model, split, metric, obs[sel], pred[sel],
                                                scores.tasks, **kw),
                                 f"log_counts_{metric}", "regions")
                both = sel & peak
                if both.sum() >= 2:
                    rows += _relabel(evaluate_tasks(model, split, metric, obs[both],
                                                    pred[both], scores.tasks, **kw),
                                     f"log_counts_{metric}", "peak regions")
        own = _own_peaks(scores) if scores.profiles else None
        for model, (obs_prof, pred_prof) in scores.profiles.items():
            jsd = median_jsd_rows(model, split, obs_prof[sel], pred_prof[sel], scores.tasks,
                                  n_boot=n_boot, seed=seed, regions=own[sel])
            rows += [dataclasses.replace(r, chromosome=chrom,
                                         aggregation=_on_regions(r.aggregation,
                                                                 "the task's peak regions"))
                     for r in jsd]
    return rows


def evaluate_accessibility(
    dataset_dir: str | Path,
    predictions: Mapping[str, Sequence[str | Path]],
    *,
    split: str = "test",
    truth_dir: str | Path | None = None,
    cell_types: Mapping[str, str] | None = None,
    k: int = 5,
    n_boot: int = 1000,
    seed: int = 0,
    per_chromosome: bool = True,
    fold: str | None = None,
) -> tuple[pd.DataFrame, SplitScores]:
    """Score deep models, baselines, the shuffled control and (demo) the Bayes ceiling.

    Parameters
    ----------
    dataset_dir
        Preprocessed dataset.
    predictions
        Model name -> per-seed prediction files of ``split``.
    truth_dir
        ``resources/<study>/truth`` of a simulated study (None: no ceiling rows).
    cell_types
        Task -> cell type (the samples table), for the truth columns; default: identity.
    k, n_boot, seed
        k-mer length of the baselines, bootstrap replicates, seed of resampling and baselines.
    fold
        Score ``split`` of this fold (``split.folds``; the models' runs on that fold), with
        baselines fitted on the fold's training chromosomes.

    Returns
    -------
    tuple
        The metric table (:class:`~seq2func.core.metrics.MetricRow` columns) and the scores.
    """
    meta, regions, codes, labels, log_counts, profile = read_split(dataset_dir, split,
                                                                   with_profile=True, fold=fold)
    tasks = list(meta.tasks)
    scores = SplitScores(tasks=tasks, regions=regions, labels=labels, log_counts=log_counts)
    region_ids = regions["region_id"].to_numpy()
    deep = load_model_predictions(predictions, region_ids)
    for model, pred in deep.items():
        if "labels" in pred:
            scores.label_scores[model] = pred["labels"]
        elif "log_counts" in pred:
            scores.label_scores[model] = pred["log_counts"]
        if "log_counts" in pred:
            scores.count_preds[model] = pred["log_counts"]
        if "profile" in pred and profile is not None:
            scores.profiles[model] = (profile, pred["profile"])
    if scores.profiles and profile is not None:
        mean_shape = average_peak_profile(dataset_dir, "train", fold)
        if mean_shape is not None:
            scores.profiles[AVERAGE_PROFILE] = (
                profile, np.broadcast_to(mean_shape, profile.shape))
    log.info("fitting baselines on the train split%s (k=%d)", f" of {fold}" if fold else "", k)
    lab, cnt = fit_baselines(dataset_dir, codes, k=k, seed=seed, fold=fold)
    scores.label_scores.update(lab)
    scores.count_preds.update(cnt)
    if truth_dir is not None:
        cell_types = cell_types or {t: t for t in tasks}
        scores.label_scores[BAYES] = bayes_ceiling_scores(regions, tasks, cell_types, truth_dir)
    log.info("computing metrics (%d bootstrap replicates)", n_boot)
    rows = metric_rows(scores, split, n_boot=n_boot, seed=seed, per_chromosome=per_chromosome)
    return rows_to_frame(rows), scores


def summary_json(table: pd.DataFrame) -> str:
    """Macro auROC of every model (genome-wide), for logs."""
    sel = table[(table["metric"] == "auROC") & (table["chromosome"] == "all")
                & (table["task"] == "all") & (table["aggregation"].str.startswith("macro"))]
    return json.dumps({m: round(float(v), 4) for m, v in zip(sel["model"], sel["value"],
                                                              strict=True)})


def predictions_by_model(files: Sequence[str | Path]) -> dict[str, list[str]]:
    """Prediction files ``.../<model>/seed<k>/<split>.npz`` (or, runs on a fold,
    ``.../<model>/folds/<fold>/seed<k>/<split>.npz``) grouped by model name."""
    out: dict[str, list[str]] = {}
    for f in files:
        parts = Path(f).parts
        model = parts[-5] if len(parts) >= 5 and parts[-4] == "folds" else parts[-3]
        out.setdefault(model, []).append(str(f))
    return out


def run_evaluation(dataset_dir: str | Path, prediction_files: Sequence[str | Path],
                   settings: EvaluateSettings, table: str | Path, scores_out: str | Path, *,
                   split: str = "test", samples: str | Path | None = None,
                   truth_dir: str | Path | None = None, fold: str | None = None
                   ) -> pd.DataFrame:
    """Evaluate every model of ``prediction_files``; write the metric table and the scores.

    ``samples`` (the samples table) maps tasks to the cell types of the truth (``truth_dir``,
    simulated studies). Both outputs get a provenance record.
    """
    from seq2func.core.config import load_samples
    from seq2func.core.provenance import write_provenance
    from seq2func.core.tables import write_metric_table

    cell_types = None
    if samples is not None:
        df = load_samples(samples)
        cell_types = dict(zip(df["sample"], df["cell_type"], strict=True))
    metrics, scores = evaluate_accessibility(
        dataset_dir, predictions_by_model(prediction_files), split=split, truth_dir=truth_dir,
        cell_types=cell_types, k=settings.kmer_k, n_boot=settings.bootstrap, seed=settings.seed,
        per_chromosome=settings.per_chromosome, fold=fold)
    write_metric_table(table, metrics)
    scores.save(scores_out)
    inputs = [Path(dataset_dir) / "dataset.json", *prediction_files]
    for out in (table, scores_out):
        write_provenance(out, step="evaluate-accessibility", inputs=inputs,
                         config=settings.to_config(),
                         extra={"split": split, "fold": fold,
                                "truth_dir": None if truth_dir is None
                                else str(truth_dir)})
    log.info("macro auROC: %s", summary_json(metrics))
    return metrics
