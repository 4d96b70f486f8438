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
(aggregation ``max_abs_over_tasks``); 95% bootstrap intervals resample variants.
"""

from __future__ import annotations

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
    """auROC and auPRC rows (see the module docstring) for one model's joined table.

    ``threshold`` is the truth's logit change of a true effect (:func:`effect_threshold`).
    """
    thr = threshold
    neutral = joined["type"].isin(NEUTRAL_TYPES).to_numpy() & ~joined["true_effect"].astype(
        bool).to_numpy()
    rows: list[MetricRow] = []
    for split, sel in (("all", np.ones(len(joined), bool)),
                       ("test", joined["chrom"].isin(list(test_chroms)).to_numpy())):
        cases: list[tuple[str, str, np.ndarray, np.ndarray]] = []
        pos = joined["true_effect"].astype(bool).to_numpy()
        cases.append(("all", "max_abs_over_tasks", pos, joined["max_abs_score"].to_numpy()))
        for t in tasks:
            col = score_column(joined, t)
            cell = task_cells.get(t, t)
            if col is None or f"truth_delta_logit_{cell}" not in joined:
                continue
            p = joined[f"truth_delta_logit_{cell}"].abs().to_numpy() >= thr
            cases.append((t, "per_task", p, joined[col].abs().to_numpy()))
        for task, agg, p, score in cases:
            keep = sel & (p | neutral) & np.isfinite(score)
            y, s = p[keep].astype(float), score[keep]
            for name, fn in (("variant_auroc", auroc), ("variant_auprc", auprc)):
                rows.append(metric_row(model, split, name, task, agg, fn, y, s,
                                       n_boot=n_boot, seed=seed))
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
