"""Settings of the interpretation stage (the config's ``interpret`` section)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seq2func.core.settings import Settings


@dataclass(frozen=True)
class GrammarTruthSettings(Settings):
    """Demo only: how grammar curves are compared with the planted rules.

    Attributes
    ----------
    other_task_fraction
        A planted pair is specific to its task when every other task's peak interaction is
        below this fraction of the planted task's peak.
    flat_fraction
        A decoy's curve is flat when its largest interaction is below this fraction of the
        planted pair's peak.
    """

    SECTION = "interpret.grammar.truth"

    other_task_fraction: float
    flat_fraction: float


@dataclass(frozen=True)
class GrammarSettings(Settings):
    """In-silico grammar experiments (:mod:`seq2func.interpret.grammar`).

    Attributes
    ----------
    models
        Accessibility models run; empty: every model of ``interpret.models``.
    backgrounds, seed
        Number of background sequences (low-signal test-split regions) and the seed of their
        draw and of the bootstrap.
    bootstrap, ci
        Bootstrap resamples of the backgrounds and the coverage of the intervals.
    max_spacing, spacing_step, extra_spacings
        The spacing grid (bases between the end of the first motif and the start of the second).
    orientations
        Relative orientations swept.
    pattern_pairs_top, marginalize_top
        Per task, the top discovered patterns paired up / marginalised.
    motifs
        Named motifs given as sequences.
    pairs
        More pairs ``{first, second}`` (names of motifs, patterns or database matrices).
    batch_size
        Sequences per prediction batch.
    truth
        The truth check's thresholds.
    """

    SECTION = "interpret.grammar"

    models: list[str]
    backgrounds: int
    seed: int
    bootstrap: int
    ci: float
    max_spacing: int
    spacing_step: int
    extra_spacings: list[int]
    orientations: list[str]
    pattern_pairs_top: int
    marginalize_top: int
    motifs: dict[str, str]
    pairs: list[dict[str, str]]
    batch_size: int
    truth: GrammarTruthSettings


@dataclass(frozen=True)
class InterpretSettings(Settings):
    """Attributions, TF-MoDISco and motif annotation of test-set peaks.

    Attributes
    ----------
    models
        Accessibility models explained (their seed ensembles); empty: every model.
    peaks_per_task
        Strongest labelled peaks per task explained by gradient x input.
    peaks
        ``test`` (the default split's test peaks), ``out_of_fold`` (every peak, by the fold
        models that held its chromosome out) or ``auto`` (``out_of_fold`` for fold runs).
    bpnet_target
        What a profile model's attributions explain: ``counts`` or ``profile``.
    ism_peaks_per_task, ism_width
        Peaks per task also explained by in-silico mutagenesis, over their central bases.
    modisco_window
        ``[start, end)`` of the input window given to TF-MoDISco (``None``: all of it).
    trim_threshold
        Patterns are trimmed to positions holding at least this fraction of the strongest.
    logos_per_task
        Patterns per task in the logo figure.
    motif_database
        A pyjaspar release or a JASPAR-format file.
    modisco
        modisco-lite keyword arguments (unset: its defaults).
    grammar
        In-silico grammar experiments.
    """

    SECTION = "interpret"

    models: list[str]
    peaks_per_task: int
    peaks: str
    bpnet_target: str
    ism_peaks_per_task: int
    ism_width: int
    modisco_window: list[int] | None
    trim_threshold: float
    logos_per_task: int
    motif_database: str
    modisco: dict[str, Any]
    grammar: GrammarSettings
