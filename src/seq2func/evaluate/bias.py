"""Quality control of chrombpnet models: is the bias model a bias model, is the rest bias-free?

The checks and thresholds are ChromBPNet's (kundajelab/chrombpnet: its report code
``helpers/generate_reports/make_html_bias.py`` and ``make_html.py``, ``pipelines.py`` and
``evaluation/marginal_footprints/marginal_footprinting.py``), in the metric table ``bias``:

* ``bias_log_counts_pearson`` - the bias model's predicted vs observed log counts, per task
  across background regions (should be > 0) and across the task's peaks (> -0.3; below -0.5
  ChromBPNet stops: the bias model has learnt accessibility, e.g. AT-rich sequence);
* ``max_bias_response`` - the bias-free model's marginal footprint of each enzyme pattern (the
  consensus of every TF-MoDISco pattern of the bias model written into test background
  sequences): the maximum of the mean predicted profile, in units of a uniform profile
  (``x bins``), the worst pattern. ChromBPNet calls a model corrected when this is below 0.003
  on its 1,000-bp output, i.e. 3x uniform (:data:`MAX_BIAS_RESPONSE`). A position prior
  (``profile_prior``) is left out: the bound is for the sequence's response;
* ``enzyme_patterns`` - how many TF-MoDISco patterns of the bias-free model match an enzyme
  pattern (similarity >= :data:`ENZYME_MATCH` over at least 3/4 of the bias-free pattern: a
  pattern *explained* by an enzyme pattern; a longer TF motif or composite that merely
  contains a short enzyme k-mer is not one): should be 0;
* ``bias_truth_pearson`` (simulated studies) - per base on test background windows, the bias
  model's profile logits vs the simulator's log cut preference (``truth/enzyme_bias.tsv``,
  both strands pooled), both centred per window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.metrics import MetricRow, metric_row, pearson
from seq2func.core.sequence import cut_preference
from seq2func.dataset import Dataset, iter_numpy

log = logging.getLogger(__name__)

#: similarity from which a pattern of the bias-free model counts as an enzyme pattern
ENZYME_MATCH = 0.8
#: ChromBPNet's bound on the bias-free model's response to enzyme motifs (x uniform)
MAX_BIAS_RESPONSE = 3.0
#: background sequences the footprints average over (at most)
FOOTPRINT_BACKGROUNDS = 256
NAN = float("nan")


def _pooled_pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson over every value of ``(n, ...)`` arrays (rows are the resampling unit)."""
    return pearson(x.reshape(-1), y.reshape(-1))


def test_split(ds: Dataset) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Codes, log counts and regions of the test split, centred."""
    parts = [p for p in iter_numpy(ds, "test", with_profile=False) if len(p.regions)]
    return (np.concatenate([p.codes for p in parts]),
            np.concatenate([p.log_counts for p in parts]),
            pd.concat([p.regions for p in parts], ignore_index=True))


def count_rows(name: str, bias_model: Any, ds: Dataset, codes: np.ndarray,
               log_counts: np.ndarray, regions: pd.DataFrame, n_boot: int, seed: int
               ) -> list[MetricRow]:
    """``bias_log_counts_pearson`` of each task across background and across its peaks."""
    from seq2func.interpret.insilico import predict_codes

    pred = predict_codes(bias_model, codes)["log_counts"]
    background = (regions["source"] == "background").to_numpy()
    rows = []
    for i, task in enumerate(ds.tasks):
        peaks = (regions[f"is_peak_{task}"] == 1).to_numpy()
        for where, sel in (("background regions", background), ("peak regions", peaks)):
            if sel.sum() >= 3:
                rows.append(metric_row(name, "test", "bias_log_counts_pearson", task,
                                       f"per task across {where}", pearson, log_counts[sel, i],
                                       pred[sel, i], n_boot=n_boot, seed=seed))
    return rows


def truth_rows(name: str, bias_model: Any, ds: Dataset, background: np.ndarray,
               truth: str | Path, n_boot: int, seed: int) -> list[MetricRow]:
    """``bias_truth_pearson`` per task, on the codes of background windows."""
    from seq2func.core.sequence import one_hot
    from seq2func.models import predict_batched

    table = pd.read_csv(truth, sep="\t")
    geo = ds.geometry
    if geo.profile_bin != 1:
        return []
    logits = np.asarray(predict_batched(bias_model, one_hot(background), 256)["profile"],
                        dtype=np.float64)
    off = (geo.input_length - geo.profile_length) // 2
    rows = []
    for i, (task, sample) in enumerate(zip(ds.tasks, ds.meta.samples, strict=True)):
        weights = table[table["assay"].str.upper() == str(sample["assay"]).upper()]
        if weights.empty:
            continue
        true = np.log(cut_preference(background, weights["weight"].to_numpy(np.float64)))
        true = true[:, off:off + geo.profile_length]
        x = logits[:, :, i] - logits[:, :, i].mean(axis=1, keepdims=True)
        y = true - true.mean(axis=1, keepdims=True)
        rows.append(metric_row(name, "test", "bias_truth_pearson", task,
                               "per task across bases of background regions", _pooled_pearson,
                               x, y, n_boot=n_boot, seed=seed))
    return rows


def footprint_rows(name: str, nobias: Any, ds: Dataset, background: np.ndarray,
                   enzyme: Sequence[Any]) -> list[MetricRow]:
    """``max_bias_response`` per task: the worst enzyme pattern's marginal footprint.

    The response is the sequence's: a position prior of ``nobias`` (``profile_prior``) is
    cleared first, in place, since it would put its peak-centred shape into every footprint,
    the control's included (ChromBPNet's bound is for a translation-equivariant head).
    """
    from seq2func.interpret.insilico import consensus_codes, footprint, predict_codes, substitute
    from seq2func.models.bpnet import clear_profile_prior

    clear_profile_prior(nobias)

    bins = ds.geometry.profile_bins
    control = footprint(predict_codes(nobias, background)["profile"])
    rows = []
    for i, task in enumerate(ds.tasks):
        own = [p for p in enzyme if p.task == task] or list(enzyme)
        worst, which = NAN, ""
        for p in own:
            seqs = substitute(background, consensus_codes(p.ppm))
            response = float(footprint(predict_codes(nobias, seqs)["profile"])[:, i].max() * bins)
            if not worst >= response:
                worst, which = response, p.name
        log.info("%s %s: max bias response %.3g x uniform (%s; control %.3g)", name, task, worst,
                 which or "no enzyme pattern", control[:, i].max() * bins)
        rows.append(MetricRow(name, "test", "max_bias_response", task,
                              "max over enzyme patterns, x uniform profile", round(worst, 4),
                              NAN, NAN, len(own)))
        rows.append(MetricRow(name, "test", "max_bias_response", task,
                              "no insertion (control), x uniform profile",
                              round(float(control[:, i].max() * bins), 4), NAN, NAN,
                              len(background)))
    return rows


def pattern_rows(name: str, tasks: Sequence[str], nobias_patterns: Sequence[Any],
                 enzyme: Sequence[Any]) -> list[MetricRow]:
    """``enzyme_patterns``: patterns of the bias-free model that match an enzyme pattern
    (NaN - the gate is NOT RUN - when TF-MoDISco found no pattern in the bias model: nothing
    to look for, which is no evidence that the model is bias-free)."""
    from seq2func.interpret.annotate import similarity

    if not enzyme:
        log.warning("%s: TF-MoDISco found no pattern in the bias model, so the bias-free "
                    "model's patterns cannot be checked against it", name)
    rows = []
    for task in tasks:
        mine = [p for p in nobias_patterns if p.task == task and "_neg_" not in p.name]
        hits = [p.name for p in mine
                if any(similarity(p.ppm, q.ppm, of="a") >= ENZYME_MATCH for q in enzyme)]
        if hits:
            log.warning("%s %s: enzyme-like patterns in the bias-free model: %s", name, task,
                        ", ".join(hits))
        rows.append(MetricRow(name, "test", "enzyme_patterns", task,
                              f"patterns with similarity >= {ENZYME_MATCH} to a bias pattern",
                              float(len(hits)) if enzyme else NAN, NAN, NAN, len(mine)))
    return rows


def bias_qc(name: str, bias_model_path: str | Path, nobias_paths: Sequence[str | Path],
            dataset_dir: str | Path, bias_patterns: str | Path, nobias_patterns: str | Path,
            truth: str | Path | None = None, n_boot: int = 1000, seed: int = 0
            ) -> list[MetricRow]:
    """Every row of the ``bias`` table for one chrombpnet model (see the module docstring).

    ``name`` is the model; rows about its bias model are named ``<name>:bias``. The
    bias-free model is the seed ensemble of ``nobias_paths``.
    """
    from seq2func.interpret.modisco import load_patterns
    from seq2func.models import load_ensemble, load_model
    from seq2func.models.chrombpnet import task_view
    from seq2func.train.bias import bias_task_groups

    ds = Dataset(dataset_dir)
    bias = task_view(load_model(str(bias_model_path)), bias_task_groups(bias_model_path, ds))
    nobias = load_ensemble(list(nobias_paths))
    codes, log_counts, regions = test_split(ds)
    background = codes[(regions["source"] == "background").to_numpy()]
    rng = np.random.default_rng(seed)
    few = background[np.sort(rng.permutation(len(background))[:FOOTPRINT_BACKGROUNDS])]
    enzyme = [p for p in load_patterns(bias_patterns) if "_neg_" not in p.name]
    rows = count_rows(f"{name}:bias", bias, ds, codes, log_counts, regions, n_boot, seed)
    if truth is not None:
        rows += truth_rows(f"{name}:bias", bias, ds, background, truth, n_boot, seed)
    rows += footprint_rows(name, nobias, ds, few, enzyme)
    rows += pattern_rows(name, list(ds.tasks), load_patterns(nobias_patterns), enzyme)
    return rows + worst_over_tasks(rows)


#: metrics where a larger value is worse (the others: a smaller one)
LARGER_IS_WORSE = ("max_bias_response", "enzyme_patterns")


def worst_over_tasks(rows: Sequence[MetricRow]) -> list[MetricRow]:
    """One row per model, metric and aggregation: the worst task (what a gate checks).

    The row's aggregation is the per-task one followed by ``"; worst task"``; which task it
    was is in the per-task rows (the one with the same value)."""
    out = []
    keys = dict.fromkeys((r.model, r.metric, r.aggregation) for r in rows)
    for model, metric, aggregation in keys:
        mine = [r for r in rows if (r.model, r.metric, r.aggregation) == (model, metric,
                                                                         aggregation)]
        pick = max if metric in LARGER_IS_WORSE else min
        finite = [r for r in mine if np.isfinite(r.value)]
        worst = pick(finite, key=lambda r: r.value) if finite else mine[0]
        out.append(MetricRow(model, worst.split, metric, "all",
                             f"{aggregation}; worst task", worst.value,
                             worst.ci_low, worst.ci_high, worst.n))
    return out


def run_bias_qc(name: str, bias_model: str | Path, nobias_models: Sequence[str | Path],
                dataset_dir: str | Path, bias_patterns: str | Path,
                nobias_patterns: str | Path, out: str | Path, *, truth: str | Path | None = None,
                n_boot: int = 1000, seed: int = 0, threads: int = 0) -> pd.DataFrame:
    """:func:`bias_qc` of one model, written as a metric table with its provenance."""
    from seq2func.core.metrics import rows_to_frame
    from seq2func.core.provenance import write_provenance
    from seq2func.core.tables import write_metric_table
    from seq2func.train.runtime import configure_runtime

    device = configure_runtime(seed=0, deterministic=True, threads=threads)
    table = rows_to_frame(bias_qc(name, bias_model, nobias_models, dataset_dir, bias_patterns,
                                  nobias_patterns, truth, n_boot=n_boot, seed=seed))
    write_metric_table(out, table)
    inputs = [bias_model, *nobias_models, bias_patterns, nobias_patterns,
              *([truth] if truth else [])]
    write_provenance(out, step="bias-qc", inputs=inputs, device=device.description,
                     extra={"model": name, "n_boot": n_boot})
    return table
