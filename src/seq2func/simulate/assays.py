"""What the demo's assays measure on one chromosome: accessibility signal and gene expression.

Two steps of :func:`seq2func.simulate.demo.simulate_demo`, after a chromosome's CREs and their
accessibility (:mod:`seq2func.simulate.chromosome`):

* :func:`sample_counts` (signal + peaks): each sample's cuts per base, from the CREs open in its
  cell type with technical noise, and its peak calls;
* :func:`expression_terms` (genes + expression): the log2 expression of each gene in each
  sample, from its promoter, the accessible enhancers nearby and noise
  (:mod:`seq2func.simulate.genes`); :func:`tpm_tables` turns them into TPM.

Replicates (samples of one cell type) share the CREs' state and differ by technical noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seq2func.simulate import genes as genes_mod
from seq2func.simulate.chromosome import Chromosome
from seq2func.simulate.elements import Accessibility
from seq2func.simulate.grammar import GRAMMARS
from seq2func.simulate.settings import SimulationConfig
from seq2func.simulate.signal import add_profile, background_rate, cre_shape, enzyme_bias

#: sample-level (technical) noise on each CRE's amplitude
SAMPLE_SD = 0.15
#: cuts per base per unit depth inside artefact regions
ARTEFACT_RATE = 4.0

#: cell type -> CRE row -> (start, end) of the strong planted sites of its grammar's motifs
Footprints = dict[str, dict[int, list[tuple[int, int]]]]


@dataclass(frozen=True)
class Sample:
    """One row of the samples table: its name, cell type (a grammar) and assay."""

    name: str
    cell_type: str
    assay: str


def read_samples(samples: pd.DataFrame) -> list[Sample]:
    """The samples of a samples table, in order.

    Raises
    ------
    ValueError
        When a cell type has no demo grammar.
    """
    unknown = sorted(set(samples["cell_type"]) - set(GRAMMARS))
    if unknown:
        raise ValueError(f"samples table: cell type(s) {unknown} have no demo grammar; "
                         f"use one of {sorted(GRAMMARS)}")
    by_name = samples.set_index("sample")
    return [Sample(str(s), str(by_name.loc[s, "cell_type"]), str(by_name.loc[s, "assay"]))
            for s in samples["sample"]]


def footprints(truth: Accessibility, cell_types: Sequence[str]) -> Footprints:
    """Where bound factors protect DNA: each cell type's strong grammar-motif sites, by CRE."""
    inst = truth.instances
    row_of = {cid: i for i, cid in enumerate(truth.cres["cre_id"])}
    out: Footprints = {}
    for c in cell_types:
        sel = inst[inst["strong"] & inst["motif"].isin(list(GRAMMARS[c].motif_weights))]
        fp: dict[int, list[tuple[int, int]]] = {}
        for cid, a, b in zip(sel["cre_id"], sel["start"], sel["end"], strict=True):
            fp.setdefault(row_of[cid], []).append((int(a), int(b)))
        out[c] = fp
    return out


def sample_counts(ch: Chromosome, truth: Accessibility, sample: Sample,
                  footprints_of_cell: Mapping[int, list[tuple[int, int]]],
                  cfg: SimulationConfig, bias: np.ndarray, rng: np.random.Generator
                  ) -> np.ndarray:
    """Observed cuts per base of one sample on one chromosome (Poisson draws).

    The expected rate is the background (GC, mappability, gaps) plus the artefacts plus a
    DNase- or ATAC-shaped profile over every CRE open in the sample's cell type, scaled by its
    amplitude with technical noise (``SAMPLE_SD``), all times the assay's enzyme cut preference
    at each base (``bias``: every cut, in peaks and background, as Tn5 and DNase I cut).

    Parameters
    ----------
    ch
        The finished chromosome.
    truth
        Its CREs' accessibility.
    sample
        The sample (cell type and assay).
    footprints_of_cell
        The footprints of the sample's cell type (see :func:`footprints`).
    cfg
        Simulation parameters (``depth``, ``background_rate``).
    bias
        The assay's enzyme bias table (:func:`seq2func.simulate.signal.enzyme_bias_table`).
    rng
        The generator of this sample and chromosome.

    Returns
    -------
    numpy.ndarray
        float64 counts, one per base.
    """
    lam = background_rate(ch.seq, cfg.background_rate * cfg.depth / 100.0)
    for a, b in ch.artefacts:
        lam[a:b] += ARTEFACT_RATE * cfg.depth / 100.0 * rng.uniform(0.7, 1.3)
    centers = truth.cres["center"].to_numpy()
    amp = truth.amplitude[sample.cell_type] * np.exp(rng.normal(0, SAMPLE_SD, len(centers)))
    for i in np.flatnonzero(amp > 0):
        c = int(centers[i])
        shape = cre_shape(sample.assay, float(rng.normal(0, 8)),
                          [(a - c, b - c) for a, b in footprints_of_cell.get(i, ())])
        add_profile(lam, c, shape, cfg.depth * float(amp[i]))
    lam *= enzyme_bias(ch.seq, bias)
    return rng.poisson(lam).astype(np.float64)


def expression_terms(ch: Chromosome, truth: Accessibility, samples: Sequence[Sample],
                     rng: np.random.Generator,
                     sample_rngs: Sequence[np.random.Generator]) -> list[pd.DataFrame]:
    """The expression truth of a chromosome's genes: one table per sample (none without genes).

    ``log2_expression = BASE + promoter_term + enhancer_term + gene_effect + noise``, where the
    gene effect is shared by the samples and the noise is not.

    Parameters
    ----------
    ch
        The chromosome with its genes.
    truth
        Its CREs' accessibility (promoter features and amplitudes).
    samples
        The samples.
    rng
        The chromosome's generator (draws the gene effects).
    sample_rngs
        One generator per sample (draws its noise).
    """
    if not ch.genes:
        return []
    prom = truth.cres[truth.cres["kind"] == "promoter"].set_index("gene_id")
    gids = [g.gene_id for g in ch.genes]
    pterms = genes_mod.promoter_terms(prom.loc[gids].reset_index(drop=True))
    promoter = pterms["promoter_term"].to_numpy()
    tss = np.array([g.tss for g in ch.genes])
    gene_effect = rng.normal(0, genes_mod.GENE_EFFECT_SD, len(ch.genes))
    tables = []
    for sample, srng in zip(samples, sample_rngs, strict=True):
        enh = genes_mod.enhancer_term(tss, truth.cres["center"].to_numpy(),
                                      truth.amplitude[sample.cell_type])
        noise = srng.normal(0, genes_mod.NOISE_SD, len(ch.genes))
        explainable = genes_mod.BASE + promoter + enh
        tables.append(pd.DataFrame({
            "gene_id": gids, "gene_name": [g.name for g in ch.genes], "chrom": ch.name,
            "tss": tss, "strand": [g.strand for g in ch.genes], "sample": sample.name,
            "cell_type": sample.cell_type, "promoter_term": promoter, "enhancer_term": enh,
            "gene_effect": gene_effect, "noise": noise, "explainable_log2": explainable,
            "log2_expression": explainable + gene_effect + noise}))
    return tables


def tpm_tables(terms: pd.DataFrame, sample_names: Sequence[str]
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """TPM from the expression truth of all chromosomes.

    Returns
    -------
    tuple of pandas.DataFrame
        ``terms`` with a ``tpm`` column (``2**log2_expression`` scaled to a million per sample),
        and the wide table (``gene_id``, ``gene_name``, one TPM column per sample).
    """
    terms = terms.copy()
    raw = 2.0 ** terms["log2_expression"]
    terms["tpm"] = raw / raw.groupby(terms["sample"]).transform("sum") * 1e6
    wide = terms.pivot(index="gene_id", columns="sample", values="tpm")[list(sample_names)]
    names = terms.drop_duplicates("gene_id").set_index("gene_id")["gene_name"]
    wide.insert(0, "gene_name", names.loc[wide.index])
    return terms, wide.reset_index()
