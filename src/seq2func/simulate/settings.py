"""Parameters of the demo simulator: :class:`SimulationConfig` (the config's ``simulate`` section).

Defaults come from the schema (``workflow/schemas/config.schema.yaml``), like every stage's
settings (:mod:`seq2func.core.settings`).

Example
-------
>>> cfg = SimulationConfig.from_config({"seed": 7, "chromosomes": {"chr1": 500_000}})
>>> (cfg.seed, cfg.depth)
(7, 100.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from seq2func.core.settings import Settings


@dataclass(frozen=True)
class SimulationConfig(Settings):
    """Parameters of the demo simulator (the ``simulate`` section of the config).

    Attributes
    ----------
    seed
        Seed of every random draw: the same seed gives byte-identical files.
    chromosomes
        Chromosome name -> length (bp).
    repeat_fraction
        Fraction of the genome covered by interspersed and simple repeats (soft-masked).
    enhancers_per_mb, ctcf_per_mb, decoys_per_mb, orphan_cgi_per_mb
        Density of enhancers (per cell type), CTCF sites, decoy CREs (weak motif matches) and
        CpG islands away from genes.
    isochore_gc_sd
        Spread of the GC content of the background's isochores.
    genes_per_mb
        Gene density.
    cgi_fraction
        Fraction of promoters with a CpG island.
    depth
        Sequencing depth (scales signal and background).
    enzyme_bias_sd
        Log-scale spread of the enzymes' 4-mer cut preferences (Tn5 for ATAC, DNase I for
        DNase samples), applied to every cut; the tables are written to ``truth/enzyme_bias.tsv``.
    background_rate
        Background cuts per base at depth 100.
    artefacts_per_chromosome
        High-signal satellite arrays per chromosome (they make the blacklist).
    n_variants
        Variants over the genome (spread by chromosome length).
    peak_min_log10p
        Peak-calling threshold (-log10 Poisson p-value).
    """

    SECTION = "simulate"

    seed: int
    chromosomes: dict[str, int]
    repeat_fraction: float
    enhancers_per_mb: float
    ctcf_per_mb: float
    decoys_per_mb: float
    orphan_cgi_per_mb: float
    isochore_gc_sd: float
    genes_per_mb: float
    cgi_fraction: float
    depth: float
    enzyme_bias_sd: float
    background_rate: float
    artefacts_per_chromosome: int
    n_variants: int
    peak_min_log10p: float
