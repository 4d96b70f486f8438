"""Settings of the evaluation stage (the config's ``evaluate`` section)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seq2func.core.settings import Settings


@dataclass(frozen=True)
class TracksSettings(Settings):
    """Predicted-accessibility bigWigs over the test chromosomes (``evaluate.tracks``).

    Attributes
    ----------
    models
        Accessibility models tiled (their seed ensembles); the first is drawn in the locus
        figure.
    stride
        Step between tiled windows; each window reports its central ``stride`` bases.
    batch_size
        Windows per model call.
    """

    SECTION = "evaluate.tracks"

    models: list[str]
    stride: int
    batch_size: int


@dataclass(frozen=True)
class EvaluateSettings(Settings):
    """Metrics on held-out chromosomes, quality gates, tracks and the locus figure.

    Attributes
    ----------
    bootstrap
        Bootstrap replicates (resampling regions) of every interval; 0: none.
    seed
        Seed of the bootstrap and of the baselines (the shuffled control's permutation).
    kmer_k
        k of the canonical k-mer baselines.
    per_chromosome
        Also report every metric per test chromosome.
    tracks
        See :class:`TracksSettings`.
    locus, locus_width
        Locus of the genome-browser figure (``chrom:start-end`` or ``auto``) and the width of
        an automatically chosen one.
    enforce_gates
        Fail the workflow (after writing the gates table) when a gate fails.
    gates
        Quality gates (see :mod:`seq2func.evaluate.gates`).
    """

    SECTION = "evaluate"

    bootstrap: int
    seed: int
    kmer_k: int
    per_chromosome: bool
    tracks: TracksSettings
    locus: str
    locus_width: int
    enforce_gates: bool
    gates: list[dict[str, Any]]
