"""Accessibility evaluation on held-out chromosomes: deep models, baselines, controls, ceiling.

Everything is scored on the same regions: the rows of ``load_regions(dataset, split)`` (peaks
and GC-matched background of the test chromosomes), in that order.

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
  :func:`bayes_ceiling_scores`.

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.metrics import MetricRow, evaluate_tasks, median_jsd_rows, rows_to_frame
from seq2func.dataset import Dataset, DatasetMeta, iter_numpy

log = logging.getLogger(__name__)

#: largest distance (bp) between a region centre and a CRE core for the ceiling to use the CRE
CEILING_MAX_DISTANCE = 150

#: model names of the baselines in the tables
KMER_LR, KMER_RIDGE, GC_ONLY, KMER_SHUFFLED, BAYES = (
    "kmer_lr", "kmer_ridge", "gc_only", "kmer_shuffled", "bayes_ceiling")
#: profile baseline: the mean shape of training peaks for every region
AVERAGE_PROFILE = "average_profile"


@dataclass
class SplitScores:
    """Observed targets and every model's predictions for the regions of one split.

    ``labels``/``log_counts`` are ``(n, T)``; ``label_scores``/``count_preds`` map a model name
    to an ``(n, T)`` array.
    """

    tasks: list[str]
    regions: pd.DataFrame
    labels: np.ndarray
    log_counts: np.ndarray
    label_scores: dict[str, np.ndarray] = field(default_factory=dict)
    count_preds: dict[str, np.ndarray] = field(default_factory=dict)
    profiles: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def save(self, path: str | Path) -> None:
        """Write the observed targets and predictions as a compressed ``.npz`` (no profiles).

        Keys: ``region_id``, ``chrom``, ``source``, ``tasks``, ``labels``, ``log_counts``,
        ``label_models`` + ``label_scores`` ``(M, n, T)``, ``count_models`` + ``count_preds``.
        """
        from seq2func.core.io import atomic_output

        n, t = self.labels.shape
        arrays = {
            "region_id": self.regions["region_id"].to_numpy(),
            "chrom": self.regions["chrom"].to_numpy().astype(str),
            "source": self.regions["source"].to_numpy().astype(str),
            "tasks": np.array(self.tasks, dtype=str),
            "labels": self.labels.astype(np.uint8),
            "log_counts": self.log_counts.astype(np.float32),
            "label_models": np.array(list(self.label_scores), dtype=str),
            "label_scores": (np.stack(list(self.label_scores.values())).astype(np.float32)
                             if self.label_scores else np.zeros((0, n, t), np.float32)),
            "count_models": np.array(list(self.count_preds), dtype=str),
            "count_preds": (np.stack(list(self.count_preds.values())).astype(np.float32)
                            if self.count_preds else np.zeros((0, n, t), np.float32)),
        }
        with atomic_output(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def load_scores(path: str | Path) -> SplitScores:
    """Read a file written by :meth:`SplitScores.save`."""
    z = np.load(path, allow_pickle=False)
    regions = pd.DataFrame({"region_id": z["region_id"], "chrom": z["chrom"],
                            "source": z["source"]})
    return SplitScores(
        tasks=[str(t) for t in z["tasks"]], regions=regions, labels=z["labels"],
        log_counts=z["log_counts"],
        label_scores={str(m): z["label_scores"][i] for i, m in enumerate(z["label_models"])},
        count_preds={str(m): z["count_preds"][i] for i, m in enumerate(z["count_models"])})


# --------------------------------------------------------------------------- inputs


def read_split(dataset_dir: str | Path, split: str, with_profile: bool = False
               ) -> tuple[DatasetMeta, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray,
                          np.ndarray | None]:
    """Metadata, regions, codes, labels, log counts (and profiles) of a split, centred.

    Rows follow ``Dataset(dataset_dir).regions(split)``.
    """
    ds = Dataset(dataset_dir)
    parts: dict[str, list] = {"regions": [], "codes": [], "labels": [], "log_counts": [],
                              "profile": []}
    for piece in iter_numpy(ds, split, with_profile=with_profile):
        if not len(piece.regions):
            continue
        parts["regions"].append(piece.regions)
        parts["codes"].append(piece.codes)
        parts["labels"].append(piece.labels)
        parts["log_counts"].append(piece.log_counts)
        if with_profile:
            parts["profile"].append(piece.profile)
    if not parts["regions"]:
        raise InputError(Path(dataset_dir) / "regions.tsv.gz", f"split {split!r} has no regions",
                         fix="check the split: chromosomes in the config")
    regions = pd.concat(parts["regions"], ignore_index=True)
    profile = np.concatenate(parts["profile"]) if with_profile else None
    return (ds.meta, regions, np.concatenate(parts["codes"]), np.concatenate(parts["labels"]),
            np.concatenate(parts["log_counts"]), profile)


def average_peak_profile(dataset_dir: str | Path, split: str = "train") -> np.ndarray | None:
    """Mean normalised profile ``(bins, tasks)`` of the peak regions of ``split``, streamed.

    The profile baseline (``average_profile``): every region gets the average shape of training
    peaks, a position-only model. Its JSD is the reference a sequence model must beat. Regions
    with no reads in a task do not contribute to that task. Returns None without profiles.
    """
    total = None
    n = None
    for piece in iter_numpy(dataset_dir, split, with_profile=True):
        if piece.profile is None:
            return None
        peak = piece.regions["source"].to_numpy().astype(str) == "peak"
        prof = np.asarray(piece.profile[peak], dtype=np.float64)  # (n, bins, tasks)
        sums = prof.sum(axis=1, keepdims=True)
        frac = np.divide(prof, sums, out=np.zeros_like(prof), where=sums > 0)
        if total is None:
            total, n = np.zeros(prof.shape[1:]), np.zeros(prof.shape[2])
        total += frac.sum(axis=0)
        n += (sums[:, 0, :] > 0).sum(axis=0)
    if total is None or not (n > 0).all():
        return None
    return total / n


def load_model_predictions(paths: Mapping[str, Sequence[str | Path]], region_ids: np.ndarray
                           ) -> dict[str, dict[str, np.ndarray]]:
    """Per-seed and seed-ensemble predictions of deep models, aligned to ``region_ids``.

    Parameters
    ----------
    paths
        Model name -> prediction files of its seeds (``.../<model>/seed<k>/<split>.npz``).
    region_ids
        The split's region ids, in the order the evaluation uses.

    Returns
    -------
    dict
        ``<model>/seed<k>`` and ``<model>`` (mean over seeds) -> ``{output: array}``.
    """
    out: dict[str, dict[str, np.ndarray]] = {}
    for model, files in paths.items():
        seeds = []
        for f in files:
            z = np.load(f, allow_pickle=False)
            if not np.array_equal(z["region_id"], region_ids):
                raise InputError(f, "region ids differ from the dataset split",
                                 fix="rerun predict-accessibility on the current dataset")
            seed = Path(f).parent.name  # seed<k>
            pred = {k: np.asarray(z[k], dtype=np.float64) for k in z.files if k != "region_id"}
            out[f"{model}/{seed}"] = pred
            seeds.append(pred)
        if not seeds:
            continue
        out[model] = {k: np.mean([s[k] for s in seeds], axis=0) for k in seeds[0]}
    return out


def fit_baselines(dataset_dir: str | Path, codes_eval: np.ndarray, *, k: int = 5, seed: int = 0
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Fit the baselines on the train split; predict ``codes_eval``.

    Returns
    -------
    tuple
        ``(label_scores, count_preds)``: model name -> ``(n, T)`` arrays.
    """
    from seq2func.evaluate.baselines import fit_baseline

    _, _, codes, labels, log_counts, _ = read_split(dataset_dir, "train")
    kmer = fit_baseline("kmer", codes, labels, log_counts, k=k, seed=seed)
    gc = fit_baseline("gc", codes, labels, log_counts, k=k, seed=seed)
    shuffled = fit_baseline("kmer_shuffled", codes, labels, None, k=k, seed=seed)
    pk, pg, ps = kmer.predict(codes_eval), gc.predict(codes_eval), shuffled.predict(codes_eval)
    return ({KMER_LR: pk["labels"], GC_ONLY: pg["labels"], KMER_SHUFFLED: ps["labels"]},
            {KMER_RIDGE: pk["log_counts"], GC_ONLY: pg["log_counts"]})


def bayes_ceiling_scores(regions: pd.DataFrame, tasks: Sequence[str],
                         cell_types: Mapping[str, str], truth_dir: str | Path) -> np.ndarray:
    """The simulator's true accessibility probability of each region, ``(n, T)``.

    A region maps to the CRE whose 300 bp core lies within :data:`CEILING_MAX_DISTANCE` bp of
    the region centre (the nearest core when several do); its score for a task is the CRE's
    ``p_<cell type>``, the probability with which the simulator drew the element's open state
    from its sequence grammar. Regions with no such CRE get 0: the simulator opens chromatin
    only at CREs - elsewhere the signal is the Poisson background (simulate/signal.py), and
    peaks there are false calls of the peak caller, which no sequence feature predicts.

    This is the ranking an oracle of the generative grammar would give; it is not a strict upper
    bound on label auROC (labels also carry Poisson noise and peak-calling errors, which a model
    can partly learn from sequence, e.g. GC-dependent background), but a model far below it has
    room to improve.
    """
    path = Path(truth_dir) / "cres.tsv"
    if not path.is_file():
        raise InputError(path, "simulator truth not found",
                         fix="the Bayes ceiling needs a simulated study (source: simulate)")
    cres = pd.read_csv(path, sep="\t", dtype={"chrom": str})
    need = [f"p_{cell_types[t]}" for t in tasks]
    missing = [c for c in ["chrom", "core_start", "core_end", *need] if c not in cres.columns]
    if missing:
        raise InputError(path, f"columns {missing} are missing",
                         fix="regenerate the demo with this version of seq2func")
    out = np.zeros((len(regions), len(tasks)), dtype=np.float64)
    centres = regions["centre"].to_numpy(dtype=np.int64)
    chroms = regions["chrom"].to_numpy().astype(str)
    for chrom in np.unique(chroms):
        rows = np.flatnonzero(chroms == chrom)
        sub = cres[cres["chrom"] == chrom].sort_values("core_start")
        if sub.empty:
            continue
        starts = sub["core_start"].to_numpy(np.int64)
        ends = sub["core_end"].to_numpy(np.int64)  # exclusive
        probs = sub[need].to_numpy(np.float64)
        c = centres[rows]
        # candidate cores: the one starting at or before c and the next one (cores never nest)
        i = np.searchsorted(starts, c, side="right") - 1
        best_d = np.full(c.size, np.iinfo(np.int64).max)
        best = np.full(c.size, -1)
        for j in (i, i + 1, i - 1):
            ok = (j >= 0) & (j < starts.size)
            jj = np.clip(j, 0, starts.size - 1)
            d = np.maximum(0, np.maximum(starts[jj] - c, c - (ends[jj] - 1)))
            better = ok & (d < best_d)
            best_d[better], best[better] = d[better], jj[better]
        hit = (best >= 0) & (best_d <= CEILING_MAX_DISTANCE)
        out[rows[hit]] = probs[best[hit]]
    return out


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
        for model, (obs_prof, pred_prof) in scores.profiles.items():
            both = (sel & peak)
            jsd = median_jsd_rows(model, split, obs_prof[both], pred_prof[both], scores.tasks,
                                  n_boot=n_boot, seed=seed)
            rows += [dataclasses.replace(r, chromosome=chrom,
                                         aggregation=_on_regions(r.aggregation, "peak regions"))
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

    Returns
    -------
    tuple
        The metric table (:class:`~seq2func.core.metrics.MetricRow` columns) and the scores.
    """
    meta, regions, codes, labels, log_counts, profile = read_split(dataset_dir, split,
                                                                   with_profile=True)
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
        mean_shape = average_peak_profile(dataset_dir, "train")
        if mean_shape is not None:
            scores.profiles[AVERAGE_PROFILE] = (
                profile, np.broadcast_to(mean_shape, profile.shape))
    log.info("fitting baselines on the train split (k=%d)", k)
    lab, cnt = fit_baselines(dataset_dir, codes, k=k, seed=seed)
    scores.label_scores.update(lab)
    scores.count_preds.update(cnt)
    if truth_dir is not None:
        cell_types = cell_types or {t: t for t in tasks}
        scores.label_scores[BAYES] = bayes_ceiling_scores(regions, tasks, cell_types, truth_dir)
    log.info("computing metrics (%d bootstrap replicates)", n_boot)
    rows = metric_rows(scores, split, n_boot=n_boot, seed=seed, per_chromosome=per_chromosome)
    return rows_to_frame(rows), scores


def write_metric_table(path: str | Path, table: pd.DataFrame) -> None:
    """Write a metric table (TSV, fixed float format: byte-identical for identical inputs)."""
    from seq2func.core.io import write_tsv_atomic

    write_tsv_atomic(path, table, float_format="%.6g")


def read_metric_table(path: str | Path) -> pd.DataFrame:
    """Read a metric table, checking its columns."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "metric table not found")
    df = pd.read_csv(path, sep="\t", dtype={"task": str, "chromosome": str, "model": str},
                     keep_default_na=False, na_values=["NaN", "nan", ""])
    cols = list(MetricRow.__dataclass_fields__)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(path, f"not a metric table: columns {missing} are missing",
                         fix=f"write it with seq2func.core.metrics.rows_to_frame (columns {cols})")
    return df


def summary_json(table: pd.DataFrame) -> str:
    """Macro auROC of every model (genome-wide), for logs."""
    sel = table[(table["metric"] == "auROC") & (table["chromosome"] == "all")
                & (table["task"] == "all") & (table["aggregation"].str.startswith("macro"))]
    return json.dumps({m: round(float(v), 4) for m, v in zip(sel["model"], sel["value"],
                                                              strict=True)})
