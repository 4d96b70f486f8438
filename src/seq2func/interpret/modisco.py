"""Motifs from attributions: TF-MoDISco (modisco-lite), JASPAR annotation, logos, recovery.

* :func:`discover` runs ``modiscolite.tfmodisco.TFMoDISco`` on one task's one-hot sequences
  and hypothetical scores and returns :class:`Pattern` objects trimmed to their informative
  core (positions whose contribution is at least ``trim_threshold`` of the strongest, as the
  modisco-lite report trims);
* :func:`similarity` compares two position probability matrices: the best Pearson
  correlation of their base-centred matrices (``ppm - 0.25``, flattened over the overlapping
  columns) over all offsets with an overlap of at least ``min_overlap`` of the shorter motif and
  both orientations. 1 = identical shape; unrelated motifs score near 0;
* :func:`annotate` gives each pattern its most similar motif of a database (JASPAR by pyjaspar
  release, or a JASPAR-format file);
* :func:`recovery_rows` scores how well discovered patterns recover the motifs planted by the
  demo simulator (metric ``motif_recovery``; rows in :class:`seq2func.core.metrics.MetricRow` format);
* :func:`plot_logos` draws contribution-weighted logos (logomaker) of the top patterns per task.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.motifs import Motif

log = logging.getLogger(__name__)

#: TFMoDISco keyword arguments that the config may set (``interpret.modisco``)
MODISCO_KEYS = ("sliding_window_size", "flank_size", "target_seqlet_fdr",
                "max_seqlets_per_metacluster", "n_leiden_runs", "final_min_cluster_size",
                "min_metacluster_size")


@dataclass
class Pattern:
    """A discovered motif.

    Attributes
    ----------
    name
        ``<task>_pos_<i>`` or ``<task>_neg_<i>`` (metacluster sign, rank by seqlet count).
    task
        Task whose attributions produced it.
    n_seqlets
        Number of seqlets in the pattern.
    ppm
        ``(w, 4)`` position probability matrix of the trimmed pattern.
    cwm
        ``(w, 4)`` mean actual contribution (contribution weight matrix) of the trimmed pattern.
    """

    name: str
    task: str
    n_seqlets: int
    ppm: np.ndarray = field(repr=False)
    cwm: np.ndarray = field(repr=False)

    @property
    def consensus(self) -> str:
        """Most likely base per position (lower case where its probability is < 0.5)."""
        return "".join(("ACGT" if p.max() >= 0.5 else "acgt")[int(p.argmax())]
                       for p in self.ppm)


# --------------------------------------------------------------------------- discovery


def trim(ppm: np.ndarray, cwm: np.ndarray, threshold: float = 0.3, pad: int = 1
         ) -> tuple[np.ndarray, np.ndarray]:
    """Cut a pattern to the span of positions with ``|cwm|`` >= ``threshold`` x max (+ ``pad``)."""
    score = np.abs(cwm).sum(axis=1)
    if score.size == 0 or score.max() <= 0:
        return ppm, cwm
    keep = np.flatnonzero(score >= threshold * score.max())
    a, b = max(0, keep[0] - pad), min(score.size, keep[-1] + 1 + pad)
    return ppm[a:b], cwm[a:b]


def discover(one_hot: np.ndarray, hypothetical: np.ndarray, task: str,
             params: Mapping[str, Any] | None = None, trim_threshold: float = 0.3,
             include_negative: bool = False) -> list[Pattern]:
    """Run TF-MoDISco on one task and return trimmed patterns, largest first.

    Parameters
    ----------
    one_hot
        ``(n, L, 4)`` one-hot sequences.
    hypothetical
        ``(n, L, 4)`` hypothetical scores of this task.
    params
        TFMoDISco keyword arguments (keys of :data:`MODISCO_KEYS`).
    include_negative
        Also return patterns of the negative metacluster (contributions below zero).
    """
    from modiscolite import tfmodisco

    params = dict(params or {})
    unknown = set(params) - set(MODISCO_KEYS)
    if unknown:
        raise ValueError(f"unknown TF-MoDISco settings {sorted(unknown)}; use {MODISCO_KEYS}")
    x = np.ascontiguousarray(one_hot, dtype=np.float32)
    h = np.ascontiguousarray(hypothetical, dtype=np.float32)
    try:
        pos, neg = tfmodisco.TFMoDISco(one_hot=x, hypothetical_contribs=h, verbose=False,
                                       **params)
    except (ValueError, IndexError) as exc:  # too few seqlets for any cluster
        log.warning("TF-MoDISco found no patterns for %s (%s)", task, exc)
        return []
    out: list[Pattern] = []
    groups = [("pos", pos)] + ([("neg", neg)] if include_negative else [])
    for sign, pats in groups:
        pats = sorted(pats or [], key=lambda p: -len(p.seqlets))
        for i, p in enumerate(pats):
            ppm, cwm = trim(np.asarray(p.sequence), np.asarray(p.contrib_scores),
                            trim_threshold)
            out.append(Pattern(f"{task}_{sign}_{i}", task, len(p.seqlets), ppm, cwm))
    return out


def save_patterns(path: str | Path, patterns: Sequence[Pattern]) -> None:
    """Write patterns to an ``.npz`` (atomically): names, tasks, seqlet counts, PPMs and CWMs.

    PPM/CWM ``i`` is stored as ``ppm_<i>``/``cwm_<i>`` (patterns differ in length).
    """
    from seq2func.core.io import atomic_output

    arrays: dict[str, np.ndarray] = {
        "name": np.asarray([p.name for p in patterns], dtype=str),
        "task": np.asarray([p.task for p in patterns], dtype=str),
        "n_seqlets": np.asarray([p.n_seqlets for p in patterns], dtype=np.int64)}
    for i, p in enumerate(patterns):
        arrays[f"ppm_{i}"] = p.ppm.astype(np.float32)
        arrays[f"cwm_{i}"] = p.cwm.astype(np.float32)
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def load_patterns(path: str | Path) -> list[Pattern]:
    """Patterns written by :func:`save_patterns`."""
    d = np.load(path)
    return [Pattern(str(n), str(t), int(k), d[f"ppm_{i}"].astype(np.float64),
                    d[f"cwm_{i}"].astype(np.float64))
            for i, (n, t, k) in enumerate(zip(d["name"], d["task"], d["n_seqlets"],
                                              strict=True))]


# --------------------------------------------------------------------------- similarity


def similarity(a: np.ndarray, b: np.ndarray, min_overlap: float = 0.75) -> float:
    """Best Pearson correlation of base-centred PPMs over offsets and both orientations.

    Parameters
    ----------
    a, b
        ``(la, 4)`` and ``(lb, 4)`` position probability matrices (rows sum to 1).
    min_overlap
        Offsets must overlap at least this fraction of the shorter motif (and >= 4 columns).
    """
    a = np.asarray(a, dtype=np.float64) - 0.25
    b = np.asarray(b, dtype=np.float64) - 0.25
    best = -1.0
    short = min(len(a), len(b))
    need = max(min(4, short), int(np.ceil(min_overlap * short)))
    for bb in (b, b[::-1, ::-1]):
        for off in range(-(len(bb) - need), len(a) - need + 1):
            a0, b0 = max(0, off), max(0, -off)
            n = min(len(a) - a0, len(bb) - b0)
            if n < need:
                continue
            x, y = a[a0 : a0 + n].ravel(), bb[b0 : b0 + n].ravel()
            sx, sy = x.std(), y.std()
            if sx == 0 or sy == 0:
                continue
            r = float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))
            best = max(best, r)
    return best


def load_database(source: str) -> list[Motif]:
    """Motifs to annotate against: a JASPAR-format file, or a pyjaspar release name.

    A release name (e.g. ``JASPAR2024``) loads the latest version of every CORE vertebrate
    matrix from the SQLite database that ships with pyjaspar (no network).
    """
    from seq2func.core.motifs import read_jaspar

    if Path(source).is_file():
        return read_jaspar(source)
    from pyjaspar import jaspardb

    db = jaspardb(release=source)
    out = []
    for m in db.fetch_motifs(collection="CORE", tax_group=["vertebrates"], all_versions=False):
        counts = np.array([[m.counts[base][i] for base in "ACGT"] for i in range(m.length)])
        out.append(Motif(m.matrix_id, m.name, counts))
    return out


def _ppm(motif: Motif) -> np.ndarray:
    c = np.asarray(motif.counts, dtype=np.float64)
    return c / np.maximum(c.sum(axis=1, keepdims=True), 1e-12)


def annotate(patterns: Sequence[Pattern], database: Sequence[Motif]) -> pd.DataFrame:
    """Motif table: one row per pattern with its best database match.

    Columns: ``pattern, task, n_seqlets, length, consensus, best_id, best_name, similarity``,
    plus ``second_id``, ``second_name``, ``second_similarity``.
    """
    rows = []
    ppms = [(_ppm(m), m) for m in database]
    for p in patterns:
        scored = sorted(((similarity(p.ppm, q), m) for q, m in ppms),
                        key=lambda t: (-t[0], t[1].motif_id))
        first = scored[0] if scored else (np.nan, Motif("", "", np.zeros((0, 4))))
        second = scored[1] if len(scored) > 1 else (np.nan, Motif("", "", np.zeros((0, 4))))
        rows.append({"pattern": p.name, "task": p.task, "n_seqlets": p.n_seqlets,
                     "length": len(p.ppm), "consensus": p.consensus,
                     "best_id": first[1].motif_id, "best_name": first[1].name,
                     "similarity": round(float(first[0]), 4),
                     "second_id": second[1].motif_id, "second_name": second[1].name,
                     "second_similarity": round(float(second[0]), 4)})
    cols = ["pattern", "task", "n_seqlets", "length", "consensus", "best_id", "best_name",
            "similarity", "second_id", "second_name", "second_similarity"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- demo recovery


def planted_motifs(simulation_json: str | Path) -> dict[str, dict[str, Any]]:
    """Motifs the demo simulator planted, per cell type, from ``truth/simulation.json``.

    Returns ``{cell_type: {"motifs": {name: jaspar_id}, "cell_specific": [names]}}``: every
    motif with a weight in the cell type's accessibility grammar, and its enhancer motifs.
    """
    import json

    g = json.loads(Path(simulation_json).read_text(encoding="utf-8"))["grammar"]
    ids = g["motif_ids"]
    return {cell: {"motifs": {m: ids[m] for m in spec["motif_weights"]},
                   "cell_specific": list(spec["enhancer_motifs"])}
            for cell, spec in g["cell_types"].items()}


def recovery_rows(patterns: Sequence[Pattern], model: str, task_cells: Mapping[str, str],
                  planted: Mapping[str, Mapping[str, Any]], database: Mapping[str, Motif]
                  ) -> list[Any]:
    """``motif_recovery`` metric rows: best similarity of each planted motif to a pattern.

    For each task (cell type) and each planted motif of that cell type, the value is the
    highest :func:`similarity` between the planted JASPAR matrix and any positive pattern
    discovered for the task (0 patterns: NaN). Row ``model`` is ``<model>:<motif id>``,
    aggregation ``max_over_patterns``. One more row per task, ``<model>:all``, aggregation
    ``mean_over_cell_specific_motifs``, averages the cell type's own enhancer motifs.
    Confidence intervals are NaN: there is no resampling unit for a max over patterns (a
    bootstrap would need rerunning TF-MoDISco on resampled regions).
    """
    from seq2func.core.metrics import MetricRow

    rows = []
    nan = float("nan")
    for task, cell in task_cells.items():
        if cell not in planted:
            continue
        pats = [p for p in patterns if p.task == task and "_neg_" not in p.name]
        best: dict[str, float] = {}
        for name, mid in planted[cell]["motifs"].items():
            q = _ppm(database[mid])
            vals = [similarity(p.ppm, q) for p in pats]
            best[name] = max(vals) if vals else nan
            rows.append(MetricRow(f"{model}:{mid}", "test", "motif_recovery", task,
                                  "max_over_patterns", round(best[name], 4), nan, nan,
                                  len(pats)))
        own = [best[m] for m in planted[cell]["cell_specific"] if m in best]
        rows.append(MetricRow(f"{model}:all", "test", "motif_recovery", task,
                              "mean_over_cell_specific_motifs",
                              round(float(np.mean(own)), 4) if own else nan, nan, nan,
                              len(pats)))
    return rows


# --------------------------------------------------------------------------- logos


def plot_logos(patterns: Sequence[Pattern], table: pd.DataFrame, tasks: Sequence[str],
               top: int = 4) -> Any:
    """Figure: contribution-weighted logos of the ``top`` largest positive patterns per task.

    Each logo is titled with the pattern, its seqlet count and best database match.
    """
    import logomaker

    from seq2func.core.plotting import figure_style, pyplot

    plt = pyplot()
    info = table.set_index("pattern") if len(table) else pd.DataFrame()
    with figure_style():
        fig, axes = plt.subplots(len(tasks), top, figsize=(2.2 * top, 1.1 * len(tasks) + 0.3),
                                 squeeze=False)
        for i, task in enumerate(tasks):
            pats = [p for p in patterns if p.task == task and "_neg_" not in p.name][:top]
            for j in range(top):
                ax = axes[i, j]
                if j >= len(pats):
                    ax.axis("off")
                    if j == 0:
                        ax.set_title(f"{task}: no pattern", loc="left")
                    continue
                p = pats[j]
                df = pd.DataFrame(p.cwm, columns=list("ACGT"))
                logomaker.Logo(df, ax=ax, color_scheme="classic", show_spines=False)
                ax.set_xticks([])
                ax.tick_params(axis="y", labelsize=5)
                match = ""
                if p.name in info.index:
                    r = info.loc[p.name]
                    match = f"\n{r['best_name']} ({r['best_id']}) r={r['similarity']:.2f}"
                ax.set_title(f"{p.name} n={p.n_seqlets}{match}", fontsize=6, loc="left")
        fig.tight_layout()
    return fig
