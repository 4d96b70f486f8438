"""Settings of the variant stage (the config's ``variants`` section)."""

from __future__ import annotations

from dataclasses import dataclass

from seq2func.core.settings import Settings


@dataclass(frozen=True)
class NullSettings(Settings):
    """Null distribution of the variant scores (``variants.null_set``).

    Attributes
    ----------
    n_variants
        Null variants (:mod:`seq2func.variants.null`); 0 = no null, no p-values.
    method
        ``genome`` (random GC-matched genome positions with the scored variants' allele
        shapes) or ``shuffle`` (the scored variants in dinucleotide-shuffled contexts, as
        ChromBPNet's variant scorer).
    seed
        Seed of the null's draw and shuffles and of the AAQ reference peaks' draw.
    """

    SECTION = "variants.null_set"

    n_variants: int
    method: str
    seed: int


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
    null_set
        The null of the p-values (:class:`NullSettings`).
    aaq_reference_peaks
        Peak regions of the dataset predicted as the active allele quantile's reference set.
    """

    SECTION = "variants"

    models: list[str]
    max_allele_length: int
    chunk: int
    batch_size: int
    expression_model: str | None
    genes: str | None
    bootstrap: int
    null_set: NullSettings
    aaq_reference_peaks: int
