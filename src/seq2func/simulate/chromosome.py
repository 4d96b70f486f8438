"""One chromosome of the demo being built, the models it is drawn from, and its DNA.

A :class:`Chromosome` is built by steps of :func:`seq2func.simulate.demo.simulate_demo` that
draw from the chromosome's random generator in a fixed order (the order is part of the output:
the same seed gives byte-identical files): first :func:`simulate_sequence` here (Markov
background with isochores, repeats, gaps and the high-signal satellite arrays that make the
blacklist), then the regulatory elements (:mod:`seq2func.simulate.elements`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seq2func.core.motifs import Motif
from seq2func.simulate.genes import Gene
from seq2func.simulate.genome import (
    RepeatLibrary,
    cgi_transitions,
    gap_intervals,
    insert_repeats,
    isochore_background,
    satellite_array,
    to_ascii,
    to_upper,
)
from seq2func.simulate.grammar import CORE_WIDTH, load_grammar_motifs
from seq2func.simulate.markov import load_markov, transition_probabilities
from seq2func.simulate.regulatory import Site, plant_sites
from seq2func.simulate.settings import SimulationConfig
from seq2func.simulate.signal import BIAS_ASSAYS, enzyme_bias_table

#: bases around gaps and artefacts where no gene or CRE is placed
BLOCK_MARGIN = 5000
#: bases of a satellite artefact's neighbourhood added to its blacklist region
BLACKLIST_MARGIN = 500


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """The random generator of one part of the simulation (``keys``: chromosome, sample, ...)."""
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


@dataclass(frozen=True)
class Models:
    """What every chromosome is drawn from.

    Attributes
    ----------
    motifs
        The grammar's motifs by name.
    probs, probs_cgi
        Markov transition probabilities of the background and of CpG islands.
    repeats
        The repeat library.
    bias
        Enzyme cut-preference table of each assay (``ATAC``: Tn5, ``DNASE``: DNase I), 4-mer
        indexed (:func:`seq2func.simulate.signal.enzyme_bias`).
    """

    motifs: dict[str, Motif]
    probs: np.ndarray
    probs_cgi: np.ndarray
    repeats: RepeatLibrary
    bias: dict[str, np.ndarray]

    @classmethod
    def build(cls, seed: int, motifs: Sequence[Motif], bias_sd: float) -> Models:
        """The models of a seed, from the JASPAR ``motifs`` and the shipped Markov model;
        ``bias_sd`` is the log-scale spread of the enzymes' cut preferences."""
        probs = transition_probabilities(load_markov())
        return cls(motifs=load_grammar_motifs(motifs), probs=probs,
                   probs_cgi=cgi_transitions(probs),
                   repeats=RepeatLibrary.build(probs, rng_for(seed, 10**6)),
                   bias={a: enzyme_bias_table(rng_for(seed, 10**6 + 1 + i), bias_sd)
                         for i, a in enumerate(BIAS_ASSAYS)})


@dataclass
class Chromosome:
    """A chromosome being built: sequence, blocked bases, artefacts, genes and CREs.

    Attributes
    ----------
    name
        Chromosome name.
    seq
        ASCII bases (soft-masked repeats in lower case, gaps ``N``); modified in place.
    blocked
        Bases near gaps and artefacts, where no gene or CRE goes.
    artefacts
        ``(start, end)`` of the satellite arrays.
    genes
        Gene models, in TSS order.
    cres, instances
        One record per CRE and per planted motif instance (the truth tables' rows).
    """

    name: str
    seq: np.ndarray
    blocked: np.ndarray
    artefacts: list[tuple[int, int]]
    genes: list[Gene] = field(default_factory=list)
    cres: list[dict[str, Any]] = field(default_factory=list)
    instances: list[dict[str, Any]] = field(default_factory=list)

    @property
    def length(self) -> int:
        """Length in bases."""
        return int(self.seq.size)

    def blacklist(self) -> list[tuple[str, int, int, str]]:
        """BED4 rows of the artefacts, with a margin."""
        return [(self.name, max(0, a - BLACKLIST_MARGIN), min(self.length, b + BLACKLIST_MARGIN),
                 "high_signal_satellite") for a, b in self.artefacts]

    def add_cre(self, core_start: int, kind: str, design: str, target: str, gene_id: str,
                sites: Sequence[Site], motifs: Mapping[str, Motif],
                rng: np.random.Generator) -> None:
        """Upper-case a CRE core, plant its motif ``sites`` and record it.

        Parameters
        ----------
        core_start
            First base of the ``CORE_WIDTH``-base core.
        kind, design, target, gene_id
            The CRE's kind, description, target cell type (``all``, ``none`` or one) and gene
            (promoters).
        sites, motifs, rng
            The recipe's sites, the motifs and the generator that plants them.
        """
        core = slice(core_start, core_start + CORE_WIDTH)
        self.seq[core] = to_upper(self.seq[core])
        cre_id = f"{self.name}_cre{len(self.cres) + 1:06d}"
        for rec in plant_sites(self.seq, core_start, sites, motifs, rng):
            self.instances.append({"chrom": self.name, "cre_id": cre_id, **rec})
        self.cres.append({"cre_id": cre_id, "chrom": self.name, "core_start": core_start,
                          "core_end": core_start + CORE_WIDTH,
                          "center": core_start + CORE_WIDTH // 2, "kind": kind,
                          "design": design, "target_cell_type": target, "gene_id": gene_id})


def simulate_sequence(name: str, length: int, cfg: SimulationConfig, models: Models,
                      rng: np.random.Generator) -> Chromosome:
    """Step 1: the chromosome's DNA, gaps and satellite artefacts.

    Parameters
    ----------
    name, length
        The chromosome.
    cfg
        Simulation parameters (``isochore_gc_sd``, ``repeat_fraction``,
        ``artefacts_per_chromosome``).
    models
        Markov background and repeat library.
    rng
        The chromosome's generator.

    Returns
    -------
    Chromosome
        Without genes or CREs yet.
    """
    seq = to_ascii(isochore_background(models.probs, length, cfg.isochore_gc_sd, rng))
    insert_repeats(seq, models.repeats, cfg.repeat_fraction, rng)
    blocked = np.zeros(length, dtype=bool)
    for a, b in gap_intervals(length, rng):
        seq[a:b] = ord("N")
        blocked[max(0, a - BLOCK_MARGIN) : b + BLOCK_MARGIN] = True
    artefacts = []
    for _ in range(cfg.artefacts_per_chromosome):
        a_len = int(rng.integers(2000, 6001))
        cand = np.flatnonzero(~blocked[: length - a_len])
        if cand.size == 0:
            break
        a = int(rng.choice(cand))
        seq[a : a + a_len] = satellite_array(models.repeats, a_len, rng)
        artefacts.append((a, a + a_len))
        blocked[max(0, a - BLOCK_MARGIN) : a + a_len + BLOCK_MARGIN] = True
    return Chromosome(name, seq, blocked, artefacts)
