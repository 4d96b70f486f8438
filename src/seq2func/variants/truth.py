"""How well variant scores separate variants with a true effect from neutral ones (demo truth).

Truth (``resources/demo/truth/variants.tsv`` and ``simulation.json``, written by the demo
simulator): ``true_effect`` is set when a variant changes some cell type's accessibility logit
by at least the threshold recorded in ``simulation.json`` (:func:`effect_threshold`). Classes
used here:

* positives: ``true_effect`` (overall) or ``|delta_logit_<cell>| >= threshold`` (per task);
* negatives: variants of the neutral classes (``neutral_cre``, ``neutral_far``) without effect.

Motif variants below the threshold are neither (their label is ambiguous) and are left out.
Rows: metric ``variant_auroc`` / ``variant_auprc``, split ``all`` (every variant; most lie on
chromosomes the model was trained on) and ``test`` (variants on the test chromosomes only),
``task`` = cell type (aggregation ``per_task``, score ``|delta_p|`` or ``|log2fc|``) or ``all``
(aggregation ``max_abs_over_tasks``); 95% bootstrap intervals resample variants. The same rows
exist for every score family (``variant_auroc_<score>``: ``log2fc, jsd, aaq, ies, ips`` or
``delta_p``; per task ``|score|``, overall ``max_abs_<score>``), plus ``variant_auroc_best``.

Calibration (:func:`calibration_rows`): the p-values of neutral variants against the null
should be uniform; ``variant_null_ks_pvalue_<score>`` is the KS test's p-value
(:func:`ks_uniform`), ``variant_null_fpr05_<score>`` the fraction of neutral variants with
p < 0.05.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.metrics import MetricRow, auprc, auroc, metric_row

NEUTRAL_TYPES = ("neutral_cre", "neutral_far")


def effect_threshold(simulation_json: str | Path) -> float:
    """The logit change that makes a variant a true-effect variant in the simulator's truth.

    Raises
    ------
    InputError
        If ``simulation.json`` does not record it (a demo simulated by an older version).
    """
    from seq2func.core.errors import InputError
    from seq2func.core.io import read_json

    data = read_json(simulation_json)
    if "variant_effect_threshold_logit" not in data:
        raise InputError(simulation_json, "no 'variant_effect_threshold_logit'",
                         fix="resimulate the demo with this version of seq2func")
    return float(data["variant_effect_threshold_logit"])


def join_truth(table: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Scored ``ok`` variants joined to the truth by chrom, pos, ref and alt.

    Truth columns other than ``type`` and ``true_effect`` get the prefix ``truth_`` (the
    simulator's ``delta_p_<cell>`` must not be mistaken for a model score).
    """
    keys = ["chrom", "pos", "ref", "alt"]
    t = truth.drop(columns=[c for c in ("variant_id",) if c in truth]).copy()
    t["pos"] = t["pos"].astype(int)
    t = t.rename(columns={c: f"truth_{c}" for c in t if c not in (*keys, "type", "true_effect")})
    ok = table[table["status"] == "ok"]
    return ok.merge(t, on=keys, how="inner")


def score_column(table: pd.DataFrame, task: str) -> str | None:
    """The score column of a task (``delta_p_`` for classifiers, ``log2fc_`` for count models)."""
    for prefix in ("delta_p_", "log2fc_"):
        if f"{prefix}{task}" in table:
            return f"{prefix}{task}"
    return None


def variant_rows(model: str, joined: pd.DataFrame, tasks: Sequence[str],
                 task_cells: Mapping[str, str], test_chroms: Sequence[str], threshold: float,
                 n_boot: int = 1000, seed: int = 0) -> list[MetricRow]:
    """Metric rows (see the module docstring) for one model's joined table.

    ``threshold`` is the truth's logit change of a true effect (:func:`effect_threshold`).
    Per split: ``variant_auroc/auprc`` of the main score (``delta_p`` or ``log2fc``),
    ``variant_auroc_<score>/variant_auprc_<score>`` of every score family in the table,
    ``variant_auroc_best`` (the family with the largest overall auROC, named in the
    aggregation) and, with p-values, :func:`calibration_rows`.
    """
    from seq2func.variants.score import score_families

    thr = threshold
    neutral = joined["type"].isin(NEUTRAL_TYPES).to_numpy() & ~joined["true_effect"].astype(
        bool).to_numpy()
    families = score_families(list(joined), tasks)
    rows: list[MetricRow] = []
    for split, sel in (("all", np.ones(len(joined), bool)),
                       ("test", joined["chrom"].isin(list(test_chroms)).to_numpy())):
        pos = joined["true_effect"].astype(bool).to_numpy()
        per_task = {}
        for t in tasks:
            cell = task_cells.get(t, t)
            if f"truth_delta_logit_{cell}" in joined:
                per_task[t] = joined[f"truth_delta_logit_{cell}"].abs().to_numpy() >= thr
        main: list[tuple[str, str, str, np.ndarray, np.ndarray]] = [
            ("", "all", "max_abs_over_tasks", pos, joined["max_abs_score"].to_numpy())]
        for t, p in per_task.items():
            col = score_column(joined, t)
            if col is not None:
                main.append(("", t, "per_task", p, joined[col].abs().to_numpy()))
        for f in families:
            if f"max_abs_{f}" in joined:
                main.append((f"_{f}", "all", "max_abs_over_tasks", pos,
                             joined[f"max_abs_{f}"].to_numpy()))
            for t, p in per_task.items():
                main.append((f"_{f}", t, "per_task", p, joined[f"{f}_{t}"].abs().to_numpy()))
        best: MetricRow | None = None
        for suffix, task, agg, p, score in main:
            keep = sel & (p | neutral) & np.isfinite(score)
            y, s = p[keep].astype(float), score[keep]
            for name, fn in (("variant_auroc", auroc), ("variant_auprc", auprc)):
                row = metric_row(model, split, name + suffix, task, agg, fn, y, s,
                                 n_boot=n_boot, seed=seed)
                rows.append(row)
                if (name == "variant_auroc" and suffix and task == "all"
                        and np.isfinite(row.value)
                        and (best is None or row.value > best.value)):
                    best = row
        if best is not None:
            rows.append(dataclasses.replace(best, metric="variant_auroc_best",
                                            aggregation=f"best score: {best.metric[14:]} "
                                                        "(max_abs_over_tasks)"))
        rows += calibration_rows(model, split, joined[sel & neutral], tasks, families)
    return rows


def ks_uniform(pvalues: np.ndarray) -> tuple[float, float]:
    """Kolmogorov-Smirnov test of p-values against Uniform(0, 1): ``(statistic, p-value)``.

    Under a well-calibrated null the p-values of neutral variants are uniform; a small KS
    p-value says they are not (too many small p-values: an anti-conservative null; too few:
    a conservative one). NaN values are dropped.

    Raises
    ------
    ValueError
        If no finite p-value is given or one lies outside [0, 1].
    """
    from scipy.stats import kstest

    p = np.asarray(pvalues, np.float64)
    p = p[np.isfinite(p)]
    if p.size == 0:
        raise ValueError("ks_uniform: no finite p-value")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("ks_uniform: p-values must lie in [0, 1]")
    res = kstest(p, "uniform")
    return float(res.statistic), float(res.pvalue)


def calibration_rows(model: str, split: str, neutral: pd.DataFrame, tasks: Sequence[str],
                     families: Sequence[str]) -> list[MetricRow]:
    """Calibration of the null on neutral variants, per score family with p-values.

    Rows ``variant_null_ks_pvalue_<score>`` and ``variant_null_ks_stat_<score>``
    (:func:`ks_uniform` of the neutral variants' p-values; task ``all``: the overall score
    ``max_abs_<score>``, else per task) and ``variant_null_fpr05_<score>`` (fraction of neutral
    variants with p < 0.05; 0.05 if calibrated); the main score's rows are also named without
    the suffix (``variant_null_ks_pvalue``). No interval (NaN).
    """
    rows: list[MetricRow] = []
    main = next((f for f in ("delta_p", "log2fc") if f in families), None)
    nan = float("nan")
    for f in families:
        cases = [("all", "max_abs_over_tasks", f"pval_max_abs_{f}")]
        cases += [(t, "per_task", f"pval_{f}_{t}") for t in tasks]
        for task, agg, col in cases:
            if col not in neutral:
                continue
            p = neutral[col].to_numpy(float)
            p = p[np.isfinite(p)]
            if p.size == 0:
                continue
            stat, ks_p = ks_uniform(p)
            fpr = float((p < 0.05).mean())
            names = [f"_{f}"] + ([""] if f == main else [])
            for suffix in names:
                for metric, value in (("variant_null_ks_pvalue", ks_p),
                                      ("variant_null_ks_stat", stat),
                                      ("variant_null_fpr05", fpr)):
                    rows.append(MetricRow(model, split, metric + suffix, task, agg, value, nan,
                                          nan, int(p.size)))
    return rows


def plot_variant_effects(joined: Mapping[str, pd.DataFrame]) -> Any:
    """ROC curves (overall score) and score distributions, true-effect vs neutral, per model."""
    from seq2func.core.metrics import roc_curve
    from seq2func.core.plotting import figure_style, pyplot

    plt = pyplot()
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.0))
        ax = axes[0]
        data, labels = [], []
        for model, df in joined.items():
            neutral = df["type"].isin(NEUTRAL_TYPES) & ~df["true_effect"].astype(bool)
            pos = df["true_effect"].astype(bool)
            keep = (pos | neutral).to_numpy() & np.isfinite(df["max_abs_score"].to_numpy())
            y = pos.to_numpy()[keep]
            s = df["max_abs_score"].to_numpy()[keep]
            if y.any() and (~y).any():
                fpr, tpr = roc_curve(y, s)
                ax.plot(fpr, tpr, label=f"{model} (auROC {auroc(y.astype(float), s):.2f})")
            data += [s[y], s[~y]]
            labels += [f"{model}\ntrue", f"{model}\nneutral"]
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=0.6)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title("true-effect vs neutral variants", loc="left")
        ax.legend(loc="lower right")
        ax = axes[1]
        if data:
            ax.boxplot(data, showfliers=False)
            ax.set_xticks(range(1, len(labels) + 1), labels, fontsize=6)
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("max |score| over tasks\n(|delta p| or |log2 FC|, per model)")
        ax.set_title("score distributions", loc="left")
        fig.tight_layout()
    return fig


def read_truth(path: str | Path) -> pd.DataFrame:
    """The simulator's ``variants.tsv``."""
    df = pd.read_csv(path, sep="\t", dtype={"chrom": str, "ref": str, "alt": str},
                     keep_default_na=False)
    df["true_effect"] = df["true_effect"].astype(str).str.lower().isin(["true", "1"])
    return df
