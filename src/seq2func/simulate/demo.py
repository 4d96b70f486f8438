"""Simulate the embedded demo study: genome, signal, peaks, genes, expression, variants, truth.

:func:`simulate_demo` works one chromosome at a time (memory scales with the largest chromosome,
not the genome) and writes every output atomically. The same seed gives byte-identical files.
Per chromosome, the steps are (each draws from its own seeded generators, in this order):

1. sequence, gaps and artefacts (:mod:`seq2func.simulate.chromosome`), then genes and
   promoters, distal CREs and their accessibility (:mod:`seq2func.simulate.elements`);
2. each sample's signal (written to its bigWig) and peaks, and the expression of the genes
   (:mod:`seq2func.simulate.assays`);
3. variants with known effects (:mod:`seq2func.simulate.variants`).

Then the tables of all chromosomes are written with the truth summary
(:mod:`seq2func.simulate.summary`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyBigWig
from tqdm import tqdm

from seq2func.core.io import (
    FastaWriter,
    atomic_output,
    write_bed,
    write_chrom_sizes,
    write_narrowpeak,
    write_text_atomic,
    write_tsv_atomic,
)
from seq2func.core.motifs import read_jaspar
from seq2func.simulate.assays import (
    Sample,
    expression_terms,
    footprints,
    read_samples,
    sample_counts,
    tpm_tables,
)
from seq2func.simulate.chromosome import Models, rng_for, simulate_sequence
from seq2func.simulate.elements import accessibility_truth, place_distal_cres, place_promoters
from seq2func.simulate.genes import gtf_lines
from seq2func.simulate.settings import SimulationConfig
from seq2func.simulate.signal import bias_kmers, call_peaks, finish_peaks
from seq2func.simulate.summary import genome_stats, jsonable, sequence_stats, summarize
from seq2func.simulate.variants import simulate_variants, vcf_text

#: columns of truth/motif_instances.tsv
INSTANCE_COLUMNS = ["chrom", "start", "end", "strand", "motif", "motif_id", "cre_id", "strong",
                    "score_bits", "threshold_bits"]


@dataclass(frozen=True)
class DemoPaths:
    """Every file the simulator writes, under ``outdir``."""

    outdir: Path

    @property
    def fasta(self) -> Path:
        """The genome FASTA (its index is next to it)."""
        return self.outdir / "genome" / "genome.fa"

    @property
    def chrom_sizes(self) -> Path:
        """Chromosome lengths."""
        return self.outdir / "genome" / "chrom.sizes"

    @property
    def blacklist(self) -> Path:
        """The artefact regions (BED4)."""
        return self.outdir / "genome" / "blacklist.bed"

    @property
    def gtf(self) -> Path:
        """The gene annotation."""
        return self.outdir / "genome" / "genes.gtf"

    @property
    def expression(self) -> Path:
        """TPM per gene and sample (wide TSV)."""
        return self.outdir / "expression" / "expression.tsv"

    @property
    def vcf(self) -> Path:
        """The variants (sites-only VCF)."""
        return self.outdir / "variants" / "variants.vcf"

    def bigwig(self, sample: str) -> Path:
        """A sample's signal track."""
        return self.outdir / "signal" / f"{sample}.bw"

    def peaks(self, sample: str) -> Path:
        """A sample's peak calls (narrowPeak)."""
        return self.outdir / "peaks" / f"{sample}.narrowPeak"

    def truth(self, name: str) -> Path:
        """A truth table, e.g. ``cres.tsv``, or the summary ``simulation.json``."""
        return self.outdir / "truth" / name


@dataclass
class ChromosomeResult:
    """The tables of one simulated chromosome (its sequence and signal are already written)."""

    cres: pd.DataFrame
    instances: pd.DataFrame
    peaks: dict[str, pd.DataFrame]
    expression: list[pd.DataFrame]
    variants: pd.DataFrame
    gtf: list[str]
    blacklist: list[tuple[str, int, int, str]]
    stats: dict[str, Any]
    n_genes: int


def simulate_demo(
    cfg: SimulationConfig,
    samples: pd.DataFrame,
    motif_file: str | Path,
    outdir: str | Path,
    progress: bool = True,
) -> dict[str, Any]:
    """Simulate the demo study and write it under ``outdir`` (see :class:`DemoPaths`).

    Parameters
    ----------
    cfg
        Simulation parameters.
    samples
        Samples table with ``sample``, ``cell_type`` (one of the built-in grammars) and ``assay``
        (``DNase`` or ``ATAC``). Several samples of one cell type are replicates: they share the
        biological state (which CREs are open) and differ by technical noise.
    motif_file
        JASPAR file with the grammar's matrices (``resources/motifs/jaspar2024_demo.jaspar``).
    outdir
        Destination (e.g. ``resources/demo``).
    progress
        Show a tqdm progress bar over chromosomes.

    Returns
    -------
    dict
        Summary statistics (also written to ``truth/simulation.json``).

    Raises
    ------
    ValueError
        When a cell type of the samples table has no demo grammar.
    """
    paths = DemoPaths(Path(outdir))
    sample_list = read_samples(samples)
    models = Models.build(cfg.seed, read_jaspar(motif_file), cfg.enzyme_bias_sd)
    chrom_sizes = dict(cfg.chromosomes)
    results: list[ChromosomeResult] = []
    # everything is written inside the ExitStack: all-or-nothing
    with contextlib.ExitStack() as stack:
        fasta = stack.enter_context(FastaWriter(paths.fasta))
        bigwigs = {s.name: _open_bigwig(stack, paths.bigwig(s.name), chrom_sizes)
                   for s in sample_list}
        for ci, (chrom, length) in enumerate(tqdm(list(chrom_sizes.items()), desc="simulate",
                                                  unit="chrom", disable=not progress)):
            first_gene = sum(r.n_genes for r in results)
            results.append(_simulate_chromosome(ci, chrom, length, first_gene, cfg, models,
                                                sample_list, fasta, bigwigs))
        for bw in bigwigs.values():
            bw.close()
        return _write_study(paths, cfg, chrom_sizes, sample_list, results, models)


def bias_table(models: Models) -> pd.DataFrame:
    """The enzymes' cut preferences as a table: ``assay``, ``kmer`` (the 4 bases from 2 bp
    before the cut), ``weight`` (multiplicative, geometric mean 1)."""
    kmers = bias_kmers()
    return pd.DataFrame([{"assay": a, "kmer": k, "weight": float(w)}
                         for a, table in models.bias.items() for k, w in zip(kmers, table,
                                                                             strict=True)])


def _open_bigwig(stack: contextlib.ExitStack, path: Path, chrom_sizes: Mapping[str, int]
                 ) -> Any:
    """A bigWig writer with the genome's header, moved into place when ``stack`` closes."""
    tmp = stack.enter_context(atomic_output(path))
    bw = pyBigWig.open(str(tmp), "w")
    bw.addHeader(list(chrom_sizes.items()), maxZooms=10)
    return bw


def _simulate_chromosome(ci: int, chrom: str, length: int, first_gene: int,
                         cfg: SimulationConfig, models: Models, samples: Sequence[Sample],
                         fasta: FastaWriter, bigwigs: Mapping[str, Any]) -> ChromosomeResult:
    """Simulate chromosome number ``ci``: write its sequence and signal, return its tables."""
    cell_types = list(dict.fromkeys(s.cell_type for s in samples))
    rng = rng_for(cfg.seed, ci)
    ch = simulate_sequence(chrom, length, cfg, models, rng)
    place_promoters(ch, cfg, models, first_gene, rng)
    place_distal_cres(ch, cfg, cell_types, models, rng)
    truth = accessibility_truth(ch, cell_types, models.motifs, rng)
    prints = footprints(truth, cell_types)
    peaks = {}
    for si, sample in enumerate(samples):
        counts = sample_counts(ch, truth, sample, prints[sample.cell_type], cfg,
                               models.bias[sample.assay.upper()],
                               rng_for(cfg.seed, ci, 1000 + si))
        nz = np.flatnonzero(counts)
        if nz.size:
            bigwigs[sample.name].addEntries(chrom, nz.astype(np.int64), values=counts[nz],
                                            span=1)
        peaks[sample.name] = call_peaks(counts, chrom, cfg.background_rate * cfg.depth / 100.0,
                                        min_log10p=cfg.peak_min_log10p)
    expression = expression_terms(ch, truth, samples, rng,
                                  [rng_for(cfg.seed, ci, 2000 + si) for si in range(len(samples))])
    n_var = round(cfg.n_variants * length / sum(cfg.chromosomes.values()))
    variants = simulate_variants(chrom, ch.seq, truth.cres, truth.instances, models.motifs,
                                 cell_types, n_var, rng_for(cfg.seed, ci, 3000))
    fasta.write(chrom, ch.seq)
    gtf = [line for g in sorted(ch.genes, key=lambda g: g.start) for line in gtf_lines(g)]
    return ChromosomeResult(truth.cres, truth.instances, peaks, expression, variants, gtf,
                            ch.blacklist(), sequence_stats(ch.seq), len(ch.genes))


def _write_study(paths: DemoPaths, cfg: SimulationConfig, chrom_sizes: Mapping[str, int],
                 samples: Sequence[Sample], results: Sequence[ChromosomeResult],
                 models: Models) -> dict[str, Any]:
    """Write the tables of all chromosomes and the truth summary; return the summary."""
    genome_len = sum(chrom_sizes.values())
    names = [s.name for s in samples]
    write_chrom_sizes(paths.chrom_sizes, chrom_sizes)
    write_bed(paths.blacklist, pd.DataFrame([row for r in results for row in r.blacklist]))
    write_text_atomic(paths.gtf, "\n".join(line for r in results for line in r.gtf) + "\n")
    peak_counts = {}
    for s in names:
        pk = finish_peaks(pd.concat([r.peaks[s] for r in results], ignore_index=True), s,
                          genome_len / 150.0)
        write_narrowpeak(paths.peaks(s), pk)
        peak_counts[s] = len(pk)
    expr, wide = tpm_tables(pd.concat([t for r in results for t in r.expression],
                                      ignore_index=True), names)
    write_tsv_atomic(paths.expression, wide, float_format="%.4f")
    variants = pd.concat([r.variants for r in results if not r.variants.empty],
                         ignore_index=True)
    variants.insert(0, "variant_id", [f"var{i + 1:06d}" for i in range(len(variants))])
    write_text_atomic(paths.vcf, vcf_text(variants, chrom_sizes, "seq2func demo simulator"))
    cres = pd.concat([r.cres for r in results], ignore_index=True)
    inst = pd.concat([r.instances for r in results], ignore_index=True)[INSTANCE_COLUMNS]
    write_tsv_atomic(paths.truth("variants.tsv"), variants, float_format="%.5g")
    write_tsv_atomic(paths.truth("cres.tsv"), cres, float_format="%.5g")
    write_tsv_atomic(paths.truth("motif_instances.tsv"), inst)
    write_tsv_atomic(paths.truth("expression_terms.tsv"), expr, float_format="%.5g")
    write_tsv_atomic(paths.truth("enzyme_bias.tsv"), bias_table(models), float_format="%.6g")
    cell_types = list(dict.fromkeys(s.cell_type for s in samples))
    summary = summarize(cfg, genome_stats((r.stats for r in results), genome_len), cres, inst,
                        expr, variants, peak_counts, cell_types)
    write_text_atomic(paths.truth("simulation.json"),
                      json.dumps(summary, indent=2, sort_keys=True, default=jsonable) + "\n")
    return summary
