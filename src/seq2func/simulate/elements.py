"""The regulatory elements of a chromosome: genes with their promoters, distal CREs, truth.

Steps of :func:`seq2func.simulate.demo.simulate_demo` after the chromosome's DNA
(:func:`seq2func.simulate.chromosome.simulate_sequence`), drawing from its generator in this
order:

1. :func:`place_promoters`: genes, their CpG islands and promoter CREs;
2. :func:`place_distal_cres`: enhancers of each cell type, CTCF sites, decoys, orphan CpG
   islands;
3. :func:`accessibility_truth`: the grammar's accessibility of every CRE core in each cell type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seq2func.core.motifs import Motif
from seq2func.core.sequence import ASCII_TO_CODE
from seq2func.simulate.chromosome import Chromosome, Models
from seq2func.simulate.genes import make_gene_model
from seq2func.simulate.genome import to_ascii
from seq2func.simulate.grammar import CORE_WIDTH, accessibility_terms, motif_features
from seq2func.simulate.markov import sample_markov
from seq2func.simulate.regulatory import (
    Site,
    choose_positions,
    ctcf_recipe,
    decoy_recipe,
    enhancer_recipe,
    promoter_recipe,
)
from seq2func.simulate.settings import SimulationConfig

#: logit -> amplitude of an accessible CRE: exp(AMPLITUDE_SLOPE * logit) * lognormal noise
AMPLITUDE_SLOPE = 0.5
AMPLITUDE_SD = 0.3
#: longest gene body (bp)
MAX_GENE_BODY = 60_000


def place_promoters(ch: Chromosome, cfg: SimulationConfig, models: Models, first_gene: int,
                    rng: np.random.Generator) -> None:
    """Step 1: genes (``genes_per_mb``), each with a promoter CRE and maybe a CpG island.

    Parameters
    ----------
    ch
        The chromosome (its genes, CREs and sequence are extended in place).
    cfg
        Simulation parameters (``genes_per_mb``, ``cgi_fraction``).
    models
        Motifs and CpG-island transitions.
    first_gene
        Genes of the chromosomes before this one (gene IDs are numbered genome-wide).
    rng
        The chromosome's generator.
    """
    n_genes = int(rng.poisson(cfg.genes_per_mb * ch.length / 1e6))
    tss_allowed = ~ch.blocked
    tss_allowed[:5000] = tss_allowed[-5000:] = False
    tss_list = sorted(choose_positions(tss_allowed, n_genes, 4000, rng))
    # CpG islands for all promoters of the chromosome in one vectorised draw
    cgi_pool = sample_markov(models.probs_cgi, max(1, len(tss_list)) * 1000, rng,
                             chain_length=1000)
    for k, tss in enumerate(tss_list):
        strand = "+" if rng.random() < 0.5 else "-"
        number = first_gene + k + 1
        gene_id = f"SIMG{number:08d}.1"
        ch.genes.append(make_gene_model(gene_id, f"DG{number:05d}", ch.name, strand, tss,
                                        max(_body_limit(ch.blocked, tss, strand), 1300), rng))
        cgi = rng.random() < cfg.cgi_fraction
        if cgi:
            ch.seq[tss - 500 : tss + 500] = to_ascii(cgi_pool[k * 1000 : (k + 1) * 1000])
        design, sites = promoter_recipe(strand, models.motifs, rng)
        core_start = tss - 200 if strand == "+" else tss - 99
        ch.add_cre(core_start, "promoter", design + (" + CGI" if cgi else ""), "all", gene_id,
                   sites, models.motifs, rng)


def _body_limit(blocked: np.ndarray, tss: int, strand: str) -> int:
    """Longest gene body from ``tss``: it stops before the next blocked base downstream."""
    if strand == "+":
        nxt = np.flatnonzero(blocked[tss : tss + MAX_GENE_BODY])
        return int(nxt[0]) - 100 if nxt.size else MAX_GENE_BODY
    prv = np.flatnonzero(blocked[max(0, tss - MAX_GENE_BODY) : tss][::-1])
    return int(prv[0]) - 100 if prv.size else min(MAX_GENE_BODY, tss - 100)


def place_distal_cres(ch: Chromosome, cfg: SimulationConfig, cell_types: Sequence[str],
                      models: Models, rng: np.random.Generator) -> None:
    """Step 2: enhancers of each cell type, CTCF sites, decoys and orphan CpG islands.

    Their numbers are Poisson draws of the configured densities; they are placed in random
    order at least 600 bp apart, away from TSSs, gaps and artefacts.

    Parameters
    ----------
    ch
        The chromosome, with its genes (its CREs and sequence are extended in place).
    cfg
        Simulation parameters (``*_per_mb``).
    cell_types
        Cell types of the study, in samples-table order.
    models
        Motifs and CpG-island transitions.
    rng
        The chromosome's generator.
    """
    allowed = ~ch.blocked
    for g in ch.genes:
        allowed[max(0, g.tss - 1500) : g.tss + 1500] = False
    allowed[: CORE_WIDTH + 500] = allowed[-(CORE_WIDTH + 500):] = False
    mb = ch.length / 1e6
    plan: list[tuple[str, str]] = []
    for c in cell_types:
        plan += [("enhancer", c)] * int(rng.poisson(cfg.enhancers_per_mb * mb))
    plan += [("ctcf", "all")] * int(rng.poisson(cfg.ctcf_per_mb * mb))
    plan += [("decoy", "none")] * int(rng.poisson(cfg.decoys_per_mb * mb))
    plan += [("orphan_cgi", "none")] * int(rng.poisson(cfg.orphan_cgi_per_mb * mb))
    order = rng.permutation(len(plan))
    centers = choose_positions(allowed, len(plan), 600, rng,
                               taken=[c["center"] for c in ch.cres])
    for k, center in zip(order, centers, strict=False):
        kind, target = plan[int(k)]
        design, sites = _distal_recipe(ch, kind, target, center, models, rng)
        ch.add_cre(center - CORE_WIDTH // 2, kind, design, target, "", sites, models.motifs,
                   rng)


def _distal_recipe(ch: Chromosome, kind: str, target: str, center: int, models: Models,
                   rng: np.random.Generator) -> tuple[str, list[Site]]:
    """Design and motif sites of a distal CRE (an orphan CpG island is written at once)."""
    if kind == "enhancer":
        return enhancer_recipe(target, models.motifs, rng)
    if kind == "ctcf":
        return ctcf_recipe(models.motifs, rng)
    if kind == "orphan_cgi":
        # a CpG island away from any TSS: GC-rich, accessible only as far as its CpG content
        # and chance motifs make it (the grammar decides)
        half = int(rng.integers(300, 751))
        ch.seq[center - half : center + half] = to_ascii(
            sample_markov(models.probs_cgi, 2 * half, rng, chain_length=2 * half))
        return f"orphan CpG island ({2 * half} bp)", []
    return decoy_recipe(models.motifs, rng)


@dataclass(frozen=True)
class Accessibility:
    """The truth of a chromosome's CREs.

    Attributes
    ----------
    cres
        One row per CRE: its record, motif features and per cell type ``logit_<c>``,
        ``p_<c>``, ``accessible_<c>``, ``amplitude_<c>``.
    instances
        The planted motif instances.
    amplitude
        Cell type -> signal amplitude of each CRE (0 when closed), in ``cres`` order.
    """

    cres: pd.DataFrame
    instances: pd.DataFrame
    amplitude: dict[str, np.ndarray]


def accessibility_truth(ch: Chromosome, cell_types: Sequence[str],
                        motifs: Mapping[str, Motif], rng: np.random.Generator) -> Accessibility:
    """Step 3: which CREs are open in each cell type, from the final sequence of their cores.

    A CRE is open with probability ``sigmoid(logit)`` of the grammar; an open CRE's amplitude is
    ``exp(AMPLITUDE_SLOPE * logit)`` with lognormal noise (``AMPLITUDE_SD``).

    Parameters
    ----------
    ch
        The chromosome with all its CREs.
    cell_types
        Cell types of the study.
    motifs
        The grammar's motifs.
    rng
        The chromosome's generator.
    """
    cre_df = pd.DataFrame(ch.cres)
    cores = np.stack([ch.seq[s : s + CORE_WIDTH] for s in cre_df["core_start"]])
    feats = motif_features(ASCII_TO_CODE[cores], motifs)
    for col in feats.columns:
        cre_df[col] = feats[col].to_numpy()
    amplitude: dict[str, np.ndarray] = {}
    for c in cell_types:
        logit = accessibility_terms(feats, c)["logit"].to_numpy()
        p = 1.0 / (1.0 + np.exp(-logit))
        open_ = rng.random(p.size) < p
        amp = np.where(open_, np.exp(AMPLITUDE_SLOPE * logit
                                     + rng.normal(0, AMPLITUDE_SD, p.size)), 0.0)
        cre_df[f"logit_{c}"] = logit
        cre_df[f"p_{c}"] = p
        cre_df[f"accessible_{c}"] = open_.astype(int)
        cre_df[f"amplitude_{c}"] = amp
        amplitude[c] = amp
    return Accessibility(cre_df, pd.DataFrame(ch.instances), amplitude)
