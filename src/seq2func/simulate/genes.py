"""Genes of the demo genome (GTF) and their expression (TPM) from promoter motifs and enhancers.

Expression truth, per gene *g* and cell type *c*, on the log2 scale:

``log2 expr = BASE + promoter_g + enhancer_gc + gene_effect_g + noise_gc``

* ``promoter_g``: weights on the promoter motifs (SP1, NRF1, NFYA, soft counts capped at 1) and
  the CpG content of the promoter core, scored by the grammar's scanner;
* ``enhancer_gc``: ``ENHANCER_WEIGHT * log2(1 + sum_e a_ec * exp(-|d_e| / DECAY))`` over CREs *e*
  within ``ENHANCER_RANGE`` of the TSS, where ``a_ec`` is the realised accessibility amplitude
  (0 when closed) - so expression depends on cell-type-specific chromatin;
* ``gene_effect_g`` (shared by cell types, e.g. mRNA stability) and ``noise_gc`` are not
  predictable from sequence or chromatin: they bound the explainable variance.

TPM are ``2**log2 expr`` rescaled to sum to one million per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BASE = 1.0
PROMOTER_WEIGHTS = {"SP1": 1.0, "NRF1": 1.2, "NFYA": 0.8}
CPG_PROMOTER_WEIGHT = 1.5  # x min(1, CpG count in core / 24)
ENHANCER_WEIGHT = 1.2
ENHANCER_RANGE = 100_000
DECAY = 20_000.0
GENE_EFFECT_SD = 0.8
NOISE_SD = 0.3


@dataclass
class Gene:
    """A single-transcript gene model (0-based half-open coordinates)."""

    gene_id: str
    name: str
    chrom: str
    strand: str
    tss: int
    exons: list[tuple[int, int]]

    @property
    def start(self) -> int:
        """First base of the first exon."""
        return self.exons[0][0]

    @property
    def end(self) -> int:
        """End (exclusive) of the last exon."""
        return self.exons[-1][1]


def make_gene_model(gene_id: str, name: str, chrom: str, strand: str, tss: int,
                    body_limit: int, rng: np.random.Generator) -> Gene:
    """Exons of a gene starting at ``tss`` and extending up to ``body_limit`` bases downstream."""
    length = int(min(body_limit, rng.lognormal(np.log(12_000), 0.7)))
    length = max(length, 1200)
    n_exons = int(rng.integers(2, 9))
    first = int(rng.integers(100, 400))
    last = int(rng.integers(300, 1500))
    last = min(last, length // 3)
    inner_space = length - first - last
    inner: list[tuple[int, int]] = []
    if n_exons > 2 and inner_space > 600:
        starts = np.sort(rng.choice(np.arange(first + 200, length - last - 300, 50),
                                    size=min(n_exons - 2, max(1, (inner_space - 500) // 400)),
                                    replace=False))
        for s in starts:
            e = int(s + rng.integers(60, 250))
            if not inner or s > inner[-1][1] + 100:
                inner.append((int(s), e))
    rel = [(0, first), *inner, (length - last, length)]
    if strand == "+":
        exons = [(tss + a, tss + b) for a, b in rel]
    else:
        exons = sorted((tss + 1 - b, tss + 1 - a) for a, b in rel)
    return Gene(gene_id, name, chrom, strand, tss, exons)


def gtf_lines(gene: Gene) -> list[str]:
    """GTF (1-based, closed) lines for a gene: gene, transcript and exon features."""
    tid = gene.gene_id.replace("SIMG", "SIMT")
    attrs = (f'gene_id "{gene.gene_id}"; gene_type "protein_coding"; gene_name "{gene.name}";')
    t_attrs = attrs + f' transcript_id "{tid}"; transcript_type "protein_coding";'
    out = [
        "\t".join([gene.chrom, "seq2func_sim", "gene", str(gene.start + 1), str(gene.end), ".",
                   gene.strand, ".", attrs]),
        "\t".join([gene.chrom, "seq2func_sim", "transcript", str(gene.start + 1), str(gene.end),
                   ".", gene.strand, ".", t_attrs]),
    ]
    order = gene.exons if gene.strand == "+" else gene.exons[::-1]
    for k, (s, e) in enumerate(order, start=1):
        out.append("\t".join([gene.chrom, "seq2func_sim", "exon", str(s + 1), str(e), ".",
                              gene.strand, ".", t_attrs + f' exon_number {k};']))
    return out


def promoter_terms(features: pd.DataFrame) -> pd.DataFrame:
    """Sequence part of the expression model from promoter-core motif features."""
    out = pd.DataFrame(index=features.index)
    for name, w in PROMOTER_WEIGHTS.items():
        out[f"promoter_{name}"] = w * np.minimum(features[f"count_{name}"], 1.0)
    out["promoter_cpg"] = CPG_PROMOTER_WEIGHT * np.minimum(features["cpg_count"] / 24.0, 1.0)
    out["promoter_term"] = out.sum(axis=1)
    return out


def enhancer_term(tss: np.ndarray, cre_centers: np.ndarray, amplitude: np.ndarray) -> np.ndarray:
    """``ENHANCER_WEIGHT * log2(1 + sum a * exp(-|d|/DECAY))`` per gene (one cell type).

    ``amplitude`` is the realised accessibility amplitude of each CRE (0 when closed).
    """
    out = np.zeros(tss.size)
    order = np.argsort(cre_centers)
    centers, amp = cre_centers[order], amplitude[order]
    lo = np.searchsorted(centers, tss - ENHANCER_RANGE)
    hi = np.searchsorted(centers, tss + ENHANCER_RANGE)
    for i in range(tss.size):  # per gene (hundreds to tens of thousands), not per base
        d = np.abs(centers[lo[i] : hi[i]] - tss[i])
        keep = d > 1000  # the promoter CRE itself is part of the promoter term
        out[i] = np.sum(amp[lo[i] : hi[i]][keep] * np.exp(-d[keep] / DECAY))
    return ENHANCER_WEIGHT * np.log2(1.0 + out)
