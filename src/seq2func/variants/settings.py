"""Settings of the variant stage (the config's ``variants`` section)."""

from __future__ import annotations

from dataclasses import dataclass

from seq2func.core.settings import Settings


@dataclass(frozen=True)
class VariantSettings(Settings):
    """Variant effect scores.

    Attributes
    ----------
    models
        Accessibility models that score variants (their seed ensembles); empty: every model.
    max_allele_length
        Longer REF/ALT alleles get status ``too_long`` and are not scored.
    chunk
        Variants whose windows are built and predicted together.
    batch_size
        Windows per model call.
    expression_model
        ``seq_only`` (the expression stage's model), the path of one, or ``None``.
    genes
        Gene table of the expression stage (``None``: the stage's own).
    bootstrap
        Bootstrap replicates of the variant metrics' intervals (demo truth).
    """

    SECTION = "variants"

    models: list[str]
    max_allele_length: int
    chunk: int
    batch_size: int
    expression_model: str | None
    genes: str | None
    bootstrap: int
