"""Demo truth: do the grammar sweeps recover the pair rules the simulator planted?

The rules come from the simulator's written truth (``truth/simulation.json``, section
``grammar``: each cell type's pair rules with their motifs, spacings and kind); the decoys that
break them from the simulator's decoy designs (:data:`seq2func.simulate.regulatory.PAIR_DECOYS`,
the code that planted them). The sweeps' frame: the first motif on the left, ``spacing`` =
bases between its end and the second's start, orientation = strand of the first / strand of
the second (:mod:`seq2func.interpret.grammar`).

**Where a rule holds** is asked of the simulator itself (:func:`rule_holds`): the exact
sequences a sweep inserted, each layout written into an all-N core, are scored with the
grammar's pair feature (:func:`seq2func.simulate.grammar.motif_features`); the rule holds
where the feature is > 0.5. This takes the motifs' own symmetry into account (the TAL1::TCF3
consensus reverse complement is itself a TAL1 hit, so the composite holds at ``-/+`` as well
as ``+/+``), which translating the rule by hand would miss. The decoys' configurations are
translated by hand (:func:`decoy_window`) and exclude those where the rule holds.

Per planted rule, model and task of the rule's cell type, the **peak** is the largest mean
interaction over spacings x orientations. The pair is *recovered* when the peak is positive
with a bootstrap interval above 0, the rule holds at the peak's spacing and orientation, and
every task of another cell type peaks below ``other_task_fraction`` of it. A decoy's curve is
*flat* when the largest mean interaction over the decoy's configurations (planted task) is
below ``flat_fraction`` of the planted peak.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.interpret.grammar import ORIENTATIONS

SPLIT = "insilico"
PEAK = "max over spacings x orientations of the mean over backgrounds"


@dataclass(frozen=True)
class PlantedRule:
    """A pair rule of the demo grammar, by matrix IDs.

    ``kind`` is ``composite`` (``gaps``) or ``proximity`` (``distance``).
    """

    name: str
    cell_type: str
    first_id: str
    second_id: str
    kind: str
    gaps: tuple[int, ...] = ()
    distance: int = 0


@dataclass(frozen=True)
class Decoy:
    """A decoy design that breaks ``rule``
    (:class:`~seq2func.simulate.regulatory.PairDecoy`)."""

    name: str
    rule: str
    distances: tuple[int, int]
    composite: bool
    same_strand: bool

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "_", self.name.lower()).strip("_")


def planted_rules(simulation_json: str | Path) -> list[PlantedRule]:
    """The pair rules of every cell type in ``truth/simulation.json``."""
    from seq2func.core.io import read_json

    g = read_json(simulation_json, ("grammar",))["grammar"]
    ids = g["motif_ids"]
    return [PlantedRule(r["name"], cell, ids[r["first"]], ids[r["second"]], r["kind"],
                        tuple(r.get("gaps") or ()), int(r.get("distance") or 0))
            for cell, spec in g["cell_types"].items() for r in spec["pairs"]]


def simulator_decoys() -> list[Decoy]:
    """The decoy designs of the simulator that break a pair rule."""
    from seq2func.simulate.regulatory import PAIR_DECOYS

    return [Decoy(name, d.rule, tuple(d.distances), d.composite, d.same_strand)
            for name, d in PAIR_DECOYS.items()]


def _flip(orientations: Sequence[str]) -> tuple[str, ...]:
    """Orientations seen when the pair is named the other way round (B first)."""
    swap = {"+/+": "-/-", "-/-": "+/+", "+/-": "+/-", "-/+": "-/+"}
    return tuple(swap[o] for o in orientations)


def rule_holds(rule: PlantedRule, first: np.ndarray, second: np.ndarray,
               spacings: np.ndarray, orientations: Sequence[str], motifs: Mapping[str, Any]
               ) -> np.ndarray:
    """``(orientations, spacings)``: whether the simulator's pair feature of ``rule`` fires
    (> 0.5) for each layout of ``first`` then ``second`` (codes) in an all-N core.

    ``motifs`` are the grammar's matrices (:func:`seq2func.simulate.grammar.load_grammar_motifs`).
    """
    from seq2func.interpret.grammar import build_sweep, sweep_design
    from seq2func.simulate.grammar import CORE_WIDTH, motif_features

    length = max(CORE_WIDTH, first.size + int(np.max(spacings)) + second.size)
    design = sweep_design(first.size, second.size, spacings, length, orientations)
    pair = design.kind == "pair"
    seqs = build_sweep(np.full((1, length), 4, dtype=np.uint8), first, second, design)[pair]
    feature = motif_features(seqs, motifs)[f"pair_{rule.name}"].to_numpy()
    return (feature > 0.5).reshape(len(orientations), len(spacings))


def decoy_window(decoy: Decoy, w_left: int, w_right: int, reversed_order: bool
                 ) -> tuple[tuple[int, int], tuple[str, ...]]:
    """Spacings ``(lo, hi)`` and orientations the decoy plants, in the sweep's frame."""
    lo, hi = decoy.distances
    if decoy.composite:
        orient = ("+/+",) if decoy.same_strand else ("+/-",)
        return (lo, hi), _flip(orient) if reversed_order else orient
    # starts lo..hi apart, either motif left: gaps between lo - wider and hi - narrower
    return (lo - max(w_left, w_right), hi - min(w_left, w_right)), ORIENTATIONS


def pair_curves(sweeps: pd.DataFrame, first_id: str, second_id: str
                ) -> tuple[pd.DataFrame, bool] | None:
    """The sweep rows of the pair ``first_id``, ``second_id`` (named in either order).

    Returns
    -------
    tuple or None
        ``(rows, reversed_order)``; None when no pair of the sweeps has these motifs.
    """
    for a, b, rev in ((first_id, second_id, False), (second_id, first_id, True)):
        rows = sweeps[(sweeps["first_id"] == a) & (sweeps["second_id"] == b)]
        if not rows.empty:
            return rows[rows["pair"] == rows["pair"].iloc[0]], rev
    return None


def _in(rows: pd.DataFrame, window: tuple[int, int], orientations: Sequence[str]
        ) -> pd.DataFrame:
    return rows[rows["spacing"].between(*window) & rows["orientation"].isin(orientations)]


@dataclass(frozen=True)
class PeakCheck:
    """The truth check of one planted rule in one task (NaN: not measurable)."""

    peak: float
    peak_low: float
    peak_high: float
    spacing: float
    orientation: str
    spacing_ok: float
    orientation_ok: float
    other_ratio: float
    recovered: float


def check_peak(curves: pd.DataFrame, task: str, other_tasks: Sequence[str],
               holds: pd.DataFrame, other_task_fraction: float) -> PeakCheck:
    """Where the interaction of one pair peaks in ``task`` against the planted rule.

    ``holds`` is a boolean frame (index orientation, columns spacing): where the rule holds.
    """
    own = curves[curves["task"] == task]
    best = own.loc[own["interaction"].idxmax()]
    peak = float(best["interaction"])
    at_spacing = holds.loc[:, best["spacing"]]
    spacing_ok = float(bool(at_spacing.any()))
    orientation_ok = float(bool(holds.loc[best["orientation"]].any()))
    holds_at_peak = bool(holds.loc[best["orientation"], best["spacing"]])
    others = curves[curves["task"].isin(other_tasks)]
    other = float(others.groupby("task")["interaction"].max().max()) if len(others) else 0.0
    ratio = other / peak if peak > 0 else float("nan")
    specific = peak > 0 and float(best["interaction_low"]) > 0 and (
        not len(others) or ratio < other_task_fraction)
    return PeakCheck(peak, float(best["interaction_low"]), float(best["interaction_high"]),
                     float(best["spacing"]), str(best["orientation"]), spacing_ok,
                     orientation_ok, ratio, float(holds_at_peak and specific))


def window_contrast(curves: pd.DataFrame, task: str, holds: pd.DataFrame
                    ) -> tuple[float, float]:
    """``(contrast, fraction)``: the mean interaction of ``task`` where the rule holds minus
    where it does not, and the fraction of swept configurations where it holds (the chance
    that a peak lands there by luck). NaN contrast when either side is empty."""
    own = curves[curves["task"] == task]
    held = holds.stack()
    inside = np.asarray([bool(held.get((o, sp), False)) for o, sp in
                         zip(own["orientation"], own["spacing"], strict=True)], dtype=bool)
    fraction = float(inside.mean()) if inside.size else float("nan")
    if inside.all() or not inside.any():
        return float("nan"), fraction
    values = own["interaction"].to_numpy()
    return float(values[inside].mean() - values[~inside].mean()), fraction


def holds_frame(rule: PlantedRule, curves: pd.DataFrame, motifs: Mapping[str, Any]
                ) -> pd.DataFrame:
    """:func:`rule_holds` for the sequences and axes of one pair's curves, as a frame."""
    from seq2func.core.sequence import encode

    orientations = list(dict.fromkeys(curves["orientation"]))
    spacings = np.sort(curves["spacing"].unique())
    holds = rule_holds(rule, encode(curves["first_sequence"].iloc[0]),
                       encode(curves["second_sequence"].iloc[0]), spacings, orientations,
                       motifs)
    return pd.DataFrame(holds, index=orientations, columns=spacings)


def describe_holds(holds: pd.DataFrame) -> str:
    """``+/+ 7-9; -/+ 7-9``: where a rule holds, per orientation (runs of swept spacings)."""
    cols = list(holds.columns)
    parts = []
    for o, row in holds.iterrows():
        idx = np.flatnonzero(row.to_numpy(dtype=bool))
        if idx.size:
            runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
            parts.append(f"{o} " + ",".join(
                f"{cols[r[0]]}" if r.size == 1 else f"{cols[r[0]]}-{cols[r[-1]]}" for r in runs))
    return "; ".join(parts) or "nowhere"


def decoy_ratio(curves: pd.DataFrame, task: str, window: tuple[int, int],
                orientations: Sequence[str], holds: pd.DataFrame, peak: float
                ) -> tuple[float, float]:
    """``(largest mean interaction, its ratio to peak)`` over a decoy's configurations of
    ``task`` where the rule does not hold (NaN when the sweep has none of them; ratio NaN
    when ``peak <= 0``)."""
    rows = _in(curves[curves["task"] == task], window, orientations)
    held = holds.stack()
    pairs = zip(rows["orientation"], rows["spacing"], strict=True)
    keep = ~np.asarray([bool(held.get((o, sp), False)) for o, sp in pairs], dtype=bool)
    rows = rows[keep]
    if rows.empty:
        return float("nan"), float("nan")
    top = float(rows["interaction"].max())
    return top, (top / peak if peak > 0 else float("nan"))


def truth_rows(sweeps: pd.DataFrame, model: str, task_cells: Mapping[str, str],
               rules: Sequence[PlantedRule], decoys: Sequence[Decoy],
               motifs: Mapping[str, Any], other_task_fraction: float, flat_fraction: float
               ) -> list[Any]:
    """``grammar`` metric rows of one model (see the module docstring).

    Rows of a planted rule: model ``<model>:<first id>+<second id>``, task = each task of the
    rule's cell type, metrics ``grammar_recovered`` (1/0), ``grammar_peak_interaction`` (with
    the bootstrap interval at the peak), ``grammar_peak_spacing``,
    ``grammar_spacing_in_window`` and ``grammar_orientation_planted`` (1/0: the rule holds at
    the peak's spacing in some orientation / in the peak's orientation at some spacing; the
    aggregation names where it holds and the peak), ``grammar_other_task_ratio``,
    ``grammar_window_contrast`` and ``grammar_window_fraction`` (:func:`window_contrast`: a
    peak-in-window test means little when the window covers most of the sweep). Rows of a
    decoy: model ``<model>:decoy:<slug>``, metrics ``grammar_decoy_max_interaction``,
    ``grammar_decoy_ratio`` and ``grammar_decoy_flat`` (1/0). A rule whose motifs no sweep
    has gets NaN rows (not measured).
    """
    from seq2func.core.metrics import MetricRow

    nan = float("nan")
    rows: list[MetricRow] = []
    n = int(sweeps["n_backgrounds"].iloc[0]) if len(sweeps) else 0
    for rule in rules:
        label = f"{model}:{rule.first_id}+{rule.second_id}"
        found = pair_curves(sweeps, rule.first_id, rule.second_id)
        tasks = [t for t, c in task_cells.items() if c == rule.cell_type]
        others = [t for t, c in task_cells.items() if c != rule.cell_type]
        holds = pd.DataFrame()
        if found is not None:
            curves, rev = found
            holds = holds_frame(rule, curves, motifs)
        where = describe_holds(holds) if found is not None else "not swept"
        for task in tasks:
            if found is None:
                chk = PeakCheck(nan, nan, nan, nan, "", nan, nan, nan, nan)
                contrast, fraction = nan, nan
            else:
                chk = check_peak(curves, task, others, holds, other_task_fraction)
                contrast, fraction = window_contrast(curves, task, holds)
            peak_at = f"peak {chk.orientation or 'none'} {chk.spacing:g}"
            rows += [
                MetricRow(label, SPLIT, "grammar_recovered", task,
                          "peak in planted window, orientation and task", chk.recovered,
                          nan, nan, n),
                MetricRow(label, SPLIT, "grammar_peak_interaction", task, PEAK, chk.peak,
                          chk.peak_low, chk.peak_high, n),
                MetricRow(label, SPLIT, "grammar_peak_spacing", task, "spacing at the peak",
                          chk.spacing, nan, nan, n),
                MetricRow(label, SPLIT, "grammar_spacing_in_window", task,
                          f"rule holds at {where}; {peak_at}", chk.spacing_ok, nan, nan, n),
                MetricRow(label, SPLIT, "grammar_orientation_planted", task,
                          f"rule holds at {where}; {peak_at}", chk.orientation_ok, nan, nan, n),
                MetricRow(label, SPLIT, "grammar_other_task_ratio", task,
                          "max over other cell types' tasks of their peak / this peak",
                          chk.other_ratio, nan, nan, n),
                MetricRow(label, SPLIT, "grammar_window_contrast", task,
                          "mean interaction where the rule holds - where it does not",
                          contrast, nan, nan, n),
                MetricRow(label, SPLIT, "grammar_window_fraction", task,
                          "fraction of swept configurations where the rule holds", fraction,
                          nan, nan, n),
            ]
            for decoy in (d for d in decoys if d.rule == rule.name):
                top, ratio = nan, nan
                if found is not None:
                    w_l = int(curves["first_width"].iloc[0])
                    w_r = int(curves["second_width"].iloc[0])
                    dwin, dor = decoy_window(decoy, w_l, w_r, rev)
                    top, ratio = decoy_ratio(curves, task, dwin, dor, holds, chk.peak)
                flat = nan if np.isnan(ratio) else float(ratio < flat_fraction)
                dlabel = f"{model}:decoy:{decoy.slug}"
                rows += [
                    MetricRow(dlabel, SPLIT, "grammar_decoy_max_interaction", task,
                              "max over the decoy's spacings x orientations", top, nan, nan,
                              n),
                    MetricRow(dlabel, SPLIT, "grammar_decoy_ratio", task,
                              "decoy max / planted peak", ratio, nan, nan, n),
                    MetricRow(dlabel, SPLIT, "grammar_decoy_flat", task,
                              "decoy max below flat_fraction of the planted peak", flat, nan,
                              nan, n),
                ]
    return rows
