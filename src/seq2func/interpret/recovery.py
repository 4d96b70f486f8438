"""Demo truth: how well discovered patterns recover the motifs the simulator planted.

Rows in :class:`seq2func.core.metrics.MetricRow` format (metric ``motif_recovery``); the planted
motifs are read from the simulator's written truth (``truth/simulation.json``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seq2func.core.motifs import Motif
from seq2func.interpret.annotate import ppm_of, similarity
from seq2func.interpret.modisco import Pattern


def planted_motifs(simulation_json: str | Path) -> dict[str, dict[str, Any]]:
    """Motifs the demo simulator planted, per cell type, from ``truth/simulation.json``.

    Returns ``{cell_type: {"motifs": {name: jaspar_id}, "cell_specific": [names]}}``: every
    motif with a weight in the cell type's accessibility grammar, and its enhancer motifs.
    """
    from seq2func.core.io import read_json

    g = read_json(simulation_json, ("grammar",))["grammar"]
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
            q = ppm_of(database[mid])
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
