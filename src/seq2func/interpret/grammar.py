"""In-silico grammar experiments: motif marginalisation and spacing/orientation sweeps of pairs.

As tangermeme's ``marginalize`` and ``space`` (and gReLU's / CREsted's equivalents): motifs are
written into a set of background sequences, the model predicts every sequence on both strands
(:func:`seq2func.models.predict_both_strands`), and effects are averaged over the backgrounds,
with a percentile bootstrap interval over backgrounds.

* **Marginalisation** of one motif: the motif (forward strand) at the window centre; effect =
  score(with) - score(background), per task.
* **Pair sweep** of motifs A and B: A then B (A always on the left in forward coordinates) with
  ``spacing`` bases between the end of A and the start of B, the pair centred in the window,
  for each relative orientation ``+/+``, ``+/-``, ``-/+``, ``-/-`` (strand of A / strand of B).
  Models are strand-averaged, so "B left of A" needs no sweep of its own: it is the reverse
  complement of an A-left layout (B(+) A(+) = A(-) B(-)). The single motifs are inserted at
  the same positions and strands as in the pair, so for each background ``b``, task ``t``:

  ``pair_effect = s(A+B) - s(bg)`` and ``interaction = s(A+B) - s(A) - s(B) + s(bg)``

  (the effect of the pair minus the sum of the single effects). The figures plot the
  interaction: it is what a cooperative rule adds beyond the two motifs' own effects.

The score ``s`` is the output that means accessibility: the logit of the strand-averaged peak
probability for classifiers (``labels``), log counts for profile models (``log_counts``; for
chrombpnet the bias-free model). Logits, not probabilities: the demo's grammar is additive in
logit space, and probabilities of low-signal backgrounds saturate near 0.

Every sequence of an experiment is built as one array (writes are vectorised over rows with
per-row starts) and predicted in large batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.sequence import reverse_complement
from seq2func.interpret.insilico import motif_codes, predict_codes, substitute

#: relative orientations of a pair: strand of the first / strand of the second motif
ORIENTATIONS = ("+/+", "+/-", "-/+", "-/-")
#: probabilities are clipped to [EPS, 1 - EPS] before taking logits
EPS = 1e-6


def accessibility_output(outputs: Sequence[str]) -> str:
    """The model output that means accessibility: ``labels`` if there is one, else
    ``log_counts``.

    Raises
    ------
    ValueError
        If the model has neither.
    """
    for name in ("labels", "log_counts"):
        if name in outputs:
            return name
    raise ValueError(f"a model with outputs {sorted(outputs)} has neither labels nor "
                     "log_counts: it does not predict accessibility")


def scores(predictions: Mapping[str, np.ndarray], output: str) -> np.ndarray:
    """``(n, T)`` accessibility scores: logits of probabilities for ``labels``, else as is."""
    values = np.asarray(predictions[output], dtype=np.float64)
    if output == "labels":
        p = np.clip(values, EPS, 1.0 - EPS)
        return np.log(p) - np.log1p(-p)
    return values


def oriented(motif: str | np.ndarray, strand: str) -> np.ndarray:
    """The codes of a motif on ``strand`` (``"-"``: its reverse complement)."""
    if strand not in ("+", "-"):
        raise ValueError(f"strand must be '+' or '-', not {strand!r}")
    m = motif_codes(motif)
    return reverse_complement(m) if strand == "-" else m


def pair_starts(w_first: int, w_second: int, spacings: np.ndarray, length: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Starts of A and B for each spacing: A, ``spacing`` bases, B, centred in ``length``.

    Raises
    ------
    ValueError
        If the widest layout does not fit.
    """
    spacings = np.asarray(spacings, dtype=np.int64)
    if (spacings < 0).any():
        raise ValueError(f"spacings must be >= 0, got {spacings.min()}")
    span = w_first + spacings + w_second
    if span.max() > length:
        raise ValueError(f"motifs of {w_first} and {w_second} bases {spacings.max()} bases "
                         f"apart span {span.max()} bases: more than the {length}-base input")
    a = (length - span) // 2
    return a, a + w_first + spacings


@dataclass(frozen=True)
class SweepDesign:
    """The conditions of one pair sweep, in the order of the sequences built for it.

    Attributes
    ----------
    kind
        Per condition: ``pair``, ``first`` (A alone) or ``second`` (B alone).
    strand_first, strand_second
        Strand of A and of B per condition (``""`` where the motif is absent).
    spacing
        Spacing of the condition's layout (singles sit where they are in the pair).
    start_first, start_second
        Start of A and of B per condition (-1 where absent).
    """

    kind: np.ndarray
    strand_first: np.ndarray
    strand_second: np.ndarray
    spacing: np.ndarray
    start_first: np.ndarray
    start_second: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.size)

    def index(self, kind: str, spacing: int, strand_first: str = "", strand_second: str = ""
              ) -> int:
        """Position of one condition."""
        hit = np.flatnonzero((self.kind == kind) & (self.spacing == spacing)
                             & (self.strand_first == strand_first)
                             & (self.strand_second == strand_second))
        if hit.size != 1:
            raise KeyError(f"no condition {kind} {strand_first}/{strand_second} at {spacing}")
        return int(hit[0])


def sweep_design(w_first: int, w_second: int, spacings: Sequence[int], length: int,
                 orientations: Sequence[str] = ORIENTATIONS) -> SweepDesign:
    """Conditions of a sweep: each orientation x spacing as a pair, then A alone and B alone
    on each strand the orientations use, at each spacing's positions."""
    bad = [o for o in orientations if o not in ORIENTATIONS]
    if bad or not orientations:
        raise ValueError(f"orientations {bad or '[]'}: use some of {list(ORIENTATIONS)}")
    sp = np.asarray(spacings, dtype=np.int64)
    a, b = pair_starts(w_first, w_second, sp, length)
    rows: list[tuple[str, str, str, int, int, int]] = []
    for o in orientations:
        sa, sb = o.split("/")
        rows += [("pair", sa, sb, int(s), int(x), int(y)) for s, x, y in zip(sp, a, b, strict=True)]
    for strand in dict.fromkeys(o.split("/")[0] for o in orientations):
        rows += [("first", strand, "", int(s), int(x), -1) for s, x in zip(sp, a, strict=True)]
    for strand in dict.fromkeys(o.split("/")[1] for o in orientations):
        rows += [("second", "", strand, int(s), -1, int(y)) for s, y in zip(sp, b, strict=True)]
    cols = list(zip(*rows, strict=True))
    return SweepDesign(*(np.asarray(c) for c in cols))


def build_sweep(backgrounds: np.ndarray, first: str | np.ndarray, second: str | np.ndarray,
                design: SweepDesign) -> np.ndarray:
    """Every sequence of a sweep, ``(len(design) * n, L)``: condition-major, background-minor.

    Each motif and strand is written in one vectorised call over all the rows that hold it.
    """
    n = backgrounds.shape[0]
    out = np.tile(np.asarray(backgrounds, dtype=np.uint8), (len(design), 1))
    for motif, strands, starts in ((first, design.strand_first, design.start_first),
                                   (second, design.strand_second, design.start_second)):
        for strand in ("+", "-"):
            cond = np.flatnonzero(strands == strand)
            if cond.size:
                rows = (cond[:, None] * n + np.arange(n)).ravel()
                out[rows] = substitute(out[rows], oriented(motif, strand),
                                       np.repeat(starts[cond], n))
    return out


def predict_scores(model: Any, codes: np.ndarray, output: str, batch_size: int = 1024
                   ) -> np.ndarray:
    """``(n, T)`` strand-averaged accessibility scores (:func:`scores`) of ``(n, L)`` codes."""
    return scores(predict_codes(model, codes, batch_size), output)


@dataclass(frozen=True)
class Sweep:
    """Per-background effects of one pair sweep.

    Attributes
    ----------
    orientations, spacings
        The axes of the arrays.
    pair_effect, interaction
        ``(orientations, spacings, backgrounds, T)``: see the module docstring.
    """

    orientations: tuple[str, ...]
    spacings: np.ndarray
    pair_effect: np.ndarray
    interaction: np.ndarray


def sweep_effects(design: SweepDesign, predicted: np.ndarray, base: np.ndarray,
                  orientations: Sequence[str]) -> Sweep:
    """Pair effects and interactions from the scores of a sweep's sequences.

    Parameters
    ----------
    design
        The sweep's conditions.
    predicted
        ``(len(design) * n, T)`` scores, in the order of :func:`build_sweep`.
    base
        ``(n, T)`` scores of the backgrounds themselves.
    """
    n, t = base.shape
    pred = predicted.reshape(len(design), n, t)
    spacings = np.unique(design.spacing)
    shape = (len(orientations), spacings.size, n, t)
    pair, inter = np.empty(shape), np.empty(shape)
    for i, o in enumerate(orientations):
        sa, sb = o.split("/")
        for j, s in enumerate(spacings):
            p = pred[design.index("pair", int(s), sa, sb)]
            fa = pred[design.index("first", int(s), strand_first=sa)]
            fb = pred[design.index("second", int(s), strand_second=sb)]
            pair[i, j] = p - base
            inter[i, j] = p - fa - fb + base
    return Sweep(tuple(orientations), spacings, pair, inter)


def pair_sweep(model: Any, backgrounds: np.ndarray, first: str | np.ndarray,
               second: str | np.ndarray, spacings: Sequence[int], output: str,
               orientations: Sequence[str] = ORIENTATIONS, base: np.ndarray | None = None,
               batch_size: int = 1024) -> Sweep:
    """Sweep the spacing and relative orientation of ``first`` and ``second`` (module docs).

    ``base`` (the backgrounds' own scores) is predicted unless given.
    """
    fa, fb = motif_codes(first), motif_codes(second)
    design = sweep_design(fa.size, fb.size, spacings, backgrounds.shape[1], orientations)
    if base is None:
        base = predict_scores(model, backgrounds, output, batch_size)
    predicted = predict_scores(model, build_sweep(backgrounds, fa, fb, design), output,
                               batch_size)
    return sweep_effects(design, predicted, base, orientations)


def marginal_effects(model: Any, backgrounds: np.ndarray, motifs: Sequence[str | np.ndarray],
                     output: str, base: np.ndarray | None = None, batch_size: int = 1024
                     ) -> np.ndarray:
    """``(motifs, backgrounds, T)`` effect of each motif written at the centre (one array)."""
    n = backgrounds.shape[0]
    if base is None:
        base = predict_scores(model, backgrounds, output, batch_size)
    if not motifs:
        return np.zeros((0, n, base.shape[1]))
    seqs = np.concatenate([substitute(backgrounds, m) for m in motifs])
    return predict_scores(model, seqs, output, batch_size).reshape(len(motifs), n, -1) - base


def bootstrap_mean(values: np.ndarray, n_boot: int, ci: float = 0.95, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over axis ``-2`` (backgrounds) of ``(..., n, T)`` and a percentile bootstrap
    interval (backgrounds resampled with replacement, the same draws for every entry).

    Returns
    -------
    tuple of numpy.ndarray
        ``(mean, low, high)``, each ``(..., T)``; low = high = mean when ``n_boot`` is 0.
    """
    values = np.asarray(values, dtype=np.float64)
    mean = values.mean(axis=-2)
    if n_boot <= 0:
        return mean, mean.copy(), mean.copy()
    n = values.shape[-2]
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boots = np.stack([values[..., i, :].mean(axis=-2) for i in idx])
    alpha = (1.0 - ci) / 2.0
    lo, hi = np.quantile(boots, [alpha, 1.0 - alpha], axis=0)
    return mean, lo, hi


def sweep_table(sweep: Sweep, tasks: Sequence[str], n_boot: int, ci: float = 0.95,
                seed: int = 0) -> pd.DataFrame:
    """Long table of a sweep: one row per orientation x spacing x task, with the mean and
    interval of ``interaction`` and ``pair_effect`` over backgrounds."""
    frames = {}
    for name in ("interaction", "pair_effect"):
        frames[name] = bootstrap_mean(getattr(sweep, name), n_boot, ci, seed)
    o, s, t = np.meshgrid(np.arange(len(sweep.orientations)), np.arange(sweep.spacings.size),
                          np.arange(len(tasks)), indexing="ij")
    out = pd.DataFrame({"orientation": np.asarray(sweep.orientations)[o.ravel()],
                        "spacing": sweep.spacings[s.ravel()],
                        "task": np.asarray(tasks)[t.ravel()]})
    for name, (mean, lo, hi) in frames.items():
        out[name] = mean.ravel()
        out[f"{name}_low"] = lo.ravel()
        out[f"{name}_high"] = hi.ravel()
    out["n_backgrounds"] = sweep.interaction.shape[2]
    return out


def marginal_table(effects: np.ndarray, names: Sequence[str], tasks: Sequence[str],
                   n_boot: int, ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """One row per motif x task: mean effect and its interval over backgrounds."""
    mean, lo, hi = bootstrap_mean(effects, n_boot, ci, seed)
    m, t = np.meshgrid(np.arange(len(names)), np.arange(len(tasks)), indexing="ij")
    return pd.DataFrame({"motif": np.asarray(names)[m.ravel()],
                         "task": np.asarray(tasks)[t.ravel()],
                         "effect": mean.ravel(), "effect_low": lo.ravel(),
                         "effect_high": hi.ravel(), "n_backgrounds": effects.shape[1]})


def low_signal_rows(regions: pd.DataFrame, label_columns: Sequence[str], n: int, seed: int
                    ) -> pd.DataFrame:
    """Up to ``n`` regions (seeded draw) that are peaks in no task: the backgrounds.

    Genomic low-signal windows rather than shuffled sequences: they keep the genome's own
    composition and repeats, and a model sees sequences like them in training.

    Raises
    ------
    ValueError
        If no region is negative in every task.
    """
    neg = regions[(regions[list(label_columns)] == 0).all(axis=1)]
    if neg.empty:
        raise ValueError("no region is unlabelled in every task: no background sequences")
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(neg), size=min(n, len(neg)), replace=False))
    return neg.iloc[pick]


def spacing_grid(max_spacing: int, step: int, extra: Sequence[int] = ()) -> np.ndarray:
    """``0, step, ..., <= max_spacing`` plus the ``extra`` spacings, sorted and unique."""
    return np.unique(np.concatenate([np.arange(0, max_spacing + 1, step),
                                     np.asarray(list(extra), dtype=np.int64)])).astype(np.int64)


# ------------------------------------------------------------------ which motifs and pairs


@dataclass(frozen=True)
class MotifSpec:
    """A motif of an experiment.

    Attributes
    ----------
    name
        The name it was asked for by.
    motif_id
        Database matrix ID, pattern name, or ``name`` for a sequence of the config.
    source
        ``config`` (a sequence), ``pattern`` (a discovered pattern's consensus) or
        ``database`` (a matrix's consensus).
    codes
        The sequence written (codes).
    """

    name: str
    motif_id: str
    source: str
    codes: np.ndarray

    @property
    def width(self) -> int:
        return int(self.codes.size)


def resolve_motif(name: str, key: str, configured: Mapping[str, str],
                  patterns: Mapping[str, Any], database: Any, source: str = "config"
                  ) -> MotifSpec:
    """A motif by name: a sequence of ``motifs``, a discovered pattern, or a database matrix
    (by ID, or by name, case-insensitive), in that order.

    Parameters
    ----------
    name
        The name.
    key
        Config key that named it (for the error).
    configured
        ``interpret.grammar.motifs`` (name -> sequence).
    patterns
        Discovered patterns by name (:class:`~seq2func.interpret.modisco.Pattern`).
    database
        A callable returning the database's motifs (:class:`~seq2func.core.motifs.Motif`),
        called only when the name is neither a sequence nor a pattern.

    Raises
    ------
    ConfigError
        Naming ``key`` when nothing has that name, or several database matrices do.
    """
    import difflib

    from seq2func.core.errors import ConfigError
    from seq2func.interpret.annotate import ppm_of
    from seq2func.interpret.insilico import consensus_codes

    if name in configured:
        return MotifSpec(name, name, "config", motif_codes(configured[name].upper()))
    if name in patterns:
        return MotifSpec(name, name, "pattern", consensus_codes(patterns[name].ppm))
    motifs = list(database())
    hits = [m for m in motifs if m.motif_id == name] or [
        m for m in motifs if m.name.lower() == name.lower()]
    if len(hits) == 1:
        m = hits[0]
        return MotifSpec(name, m.motif_id, "database", consensus_codes(ppm_of(m)))
    if len(hits) > 1:
        raise ConfigError(source, key, f"{name!r} names {len(hits)} database matrices "
                          f"({', '.join(m.motif_id for m in hits)})",
                          "name the matrix by its ID")
    known = [*configured, *patterns, *(m.name for m in motifs)]
    close = difflib.get_close_matches(name, known, n=3)
    raise ConfigError(source, key, f"unknown motif {name!r}: not in interpret.grammar.motifs, "
                      "not a discovered pattern, not a matrix ID or name of "
                      "interpret.motif_database",
                      (f"did you mean {' or '.join(map(repr, close))}? " if close else "")
                      + "give a sequence under interpret.grammar.motifs, or a pattern name "
                      "of the model's motifs.tsv, or a matrix ID such as MA0035.5")


def top_patterns(patterns: Sequence[Any], top: int) -> dict[str, list[str]]:
    """Per task, the names of its ``top`` positive patterns with the most seqlets."""
    out: dict[str, list[str]] = {}
    for p in sorted(patterns, key=lambda p: -p.n_seqlets):
        if "_neg_" not in p.name and len(out.setdefault(p.task, [])) < top:
            out[p.task].append(p.name)
    return out


def pattern_pairs(patterns: Sequence[Any], top: int) -> list[tuple[str, str]]:
    """Every pair of each task's ``top`` patterns (by seqlets), in rank order."""
    from itertools import combinations

    return [pair for names in top_patterns(patterns, top).values()
            for pair in combinations(names, 2)]
