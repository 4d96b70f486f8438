"""Settings of the interpretation stage (the config's ``interpret`` section)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seq2func.core.settings import Settings


@dataclass(frozen=True)
class InterpretSettings(Settings):
    """Attributions, TF-MoDISco and motif annotation of test-set peaks.

    Attributes
    ----------
    models
        Accessibility models explained (their seed ensembles); empty: every model.
    peaks_per_task
        Strongest labelled test-set peaks per task explained by gradient x input.
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
    """

    SECTION = "interpret"

    models: list[str]
    peaks_per_task: int
    bpnet_target: str
    ism_peaks_per_task: int
    ism_width: int
    modisco_window: list[int] | None
    trim_threshold: float
    logos_per_task: int
    motif_database: str
    modisco: dict[str, Any]
