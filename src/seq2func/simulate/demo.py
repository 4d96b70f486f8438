"""Simulate the embedded demo study: genome, signal, peaks, genes, expression, variants, truth.

:func:`simulate_demo` works one chromosome at a time (memory scales with the largest chromosome,
not the genome) and writes every output atomically. The same seed gives byte-identical files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
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
from seq2func.core.sequence import ASCII_TO_CODE, cpg_observed_expected, gc_fraction
from seq2func.simulate import genes as genes_mod
from seq2func.simulate.genome import (
    RepeatLibrary,
    cgi_transitions,
    gap_intervals,
    insert_repeats,
    isochore_background,
    satellite_array,
    to_ascii,
)
from seq2func.simulate.grammar import (
    CORE_WIDTH,
    GRAMMARS,
    accessibility_terms,
    describe_grammars,
    load_grammar_motifs,
    motif_features,
)
from seq2func.simulate.markov import load_markov, sample_markov, transition_probabilities
from seq2func.simulate.regulatory import (
    choose_positions,
    ctcf_recipe,
    decoy_recipe,
    enhancer_recipe,
    plant_sites,
    promoter_recipe,
)
from seq2func.simulate.signal import (
    add_profile,
    background_rate,
    call_peaks,
    cre_shape,
    finish_peaks,
    tn5_bias,
    tn5_bias_table,
)
from seq2func.simulate.variants import simulate_variants, vcf_text

log = logging.getLogger(__name__)

#: logit -> amplitude of an accessible CRE: exp(AMPLITUDE_SLOPE * logit) * lognormal noise
AMPLITUDE_SLOPE = 0.5
AMPLITUDE_SD = 0.3
#: sample-level (technical) noise on each CRE's amplitude
SAMPLE_SD = 0.15
ARTEFACT_RATE = 4.0  # cuts per base per unit depth inside artefact regions


@dataclass
class SimulationConfig:
    """Parameters of the demo simulator (the ``simulate`` section of the config)."""

    seed: int = 1
    chromosomes: dict[str, int] = field(default_factory=lambda: {
        "chr1": 2_000_000, "chr2": 1_500_000, "chr3": 1_200_000, "chr4": 1_000_000,
        "chr5": 800_000})
    repeat_fraction: float = 0.5
    enhancers_per_mb: float = 120.0
    ctcf_per_mb: float = 30.0
    decoys_per_mb: float = 60.0
    orphan_cgi_per_mb: float = 10.0
    isochore_gc_sd: float = 0.12
    genes_per_mb: float = 80.0
    cgi_fraction: float = 0.7
    depth: float = 100.0
    background_rate: float = 0.04
    artefacts_per_chromosome: int = 1
    n_variants: int = 2000
    peak_min_log10p: float = 5.0

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> SimulationConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(section) - known
        if unknown:
            raise KeyError(f"unknown simulate keys: {sorted(unknown)}")
        return cls(**{k: (dict(v) if isinstance(v, Mapping) else v) for k, v in section.items()})


@dataclass(frozen=True)
class DemoPaths:
    """Every file the simulator writes, under ``outdir``."""

    outdir: Path

    @property
    def fasta(self) -> Path:
        return self.outdir / "genome" / "genome.fa"

    @property
    def chrom_sizes(self) -> Path:
        return self.outdir / "genome" / "chrom.sizes"

    @property
    def blacklist(self) -> Path:
        return self.outdir / "genome" / "blacklist.bed"

    @property
    def gtf(self) -> Path:
        return self.outdir / "genome" / "genes.gtf"

    @property
    def expression(self) -> Path:
        return self.outdir / "expression" / "expression.tsv"

    @property
    def vcf(self) -> Path:
        return self.outdir / "variants" / "variants.vcf"

    def bigwig(self, sample: str) -> Path:
        return self.outdir / "signal" / f"{sample}.bw"

    def peaks(self, sample: str) -> Path:
        return self.outdir / "peaks" / f"{sample}.narrowPeak"

    def truth(self, name: str) -> Path:
        return self.outdir / "truth" / name


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


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
    """
    paths = DemoPaths(Path(outdir))
    unknown = sorted(set(samples["cell_type"]) - set(GRAMMARS))
    if unknown:
        raise ValueError(f"samples table: cell type(s) {unknown} have no demo grammar; "
                         f"use one of {sorted(GRAMMARS)}")
    cell_types = list(dict.fromkeys(samples["cell_type"]))
    sample_names = list(samples["sample"])
    motifs = load_grammar_motifs(read_jaspar(motif_file))
    probs = transition_probabilities(load_markov())
    probs_cgi = cgi_transitions(probs)
    lib = RepeatLibrary.build(probs, _rng(cfg.seed, 10**6))
    tn5 = tn5_bias_table(_rng(cfg.seed, 10**6 + 1))
    chrom_sizes = dict(cfg.chromosomes)
    genome_len = sum(chrom_sizes.values())

    all_cres, all_inst, all_peaks, all_var = [], [], {s: [] for s in sample_names}, []
    gtf: list[str] = []
    blacklist: list[tuple[str, int, int, str]] = []
    expr_rows: list[pd.DataFrame] = []
    stats = {"gc_num": 0.0, "acgt": 0, "lower": 0, "n": 0, "cpg_oe": []}
    gene_counter = 0

    with contextlib.ExitStack() as stack:
        fasta = stack.enter_context(FastaWriter(paths.fasta))
        bws = {}
        for s in sample_names:
            tmp = stack.enter_context(atomic_output(paths.bigwig(s)))
            bw = pyBigWig.open(str(tmp), "w")
            bw.addHeader(list(chrom_sizes.items()), maxZooms=10)
            bws[s] = bw
        chroms = list(chrom_sizes.items())
        for ci, (chrom, length) in enumerate(tqdm(chroms, desc="simulate", unit="chrom",
                                                  disable=not progress)):
            rng = _rng(cfg.seed, ci)
            seq = to_ascii(isochore_background(probs, length, cfg.isochore_gc_sd, rng))
            insert_repeats(seq, lib, cfg.repeat_fraction, rng)
            # ---- gaps and satellite artefacts
            blocked = np.zeros(length, dtype=bool)
            for a, b in gap_intervals(length, rng):
                seq[a:b] = ord("N")
                blocked[max(0, a - 5000) : b + 5000] = True
            artefacts = []
            for _ in range(cfg.artefacts_per_chromosome):
                a_len = int(rng.integers(2000, 6001))
                cand = np.flatnonzero(~blocked[: length - a_len])
                if cand.size == 0:
                    break
                a = int(rng.choice(cand))
                seq[a : a + a_len] = satellite_array(lib, a_len, rng)
                artefacts.append((a, a + a_len))
                blocked[max(0, a - 5000) : a + a_len + 5000] = True
                blacklist.append((chrom, max(0, a - 500), min(length, a + a_len + 500),
                                  "high_signal_satellite"))
            # ---- genes, CpG islands, promoters
            n_genes = int(rng.poisson(cfg.genes_per_mb * length / 1e6))
            tss_allowed = ~blocked.copy()
            tss_allowed[:5000] = tss_allowed[-5000:] = False
            tss_list = sorted(choose_positions(tss_allowed, n_genes, 4000, rng))
            # CpG islands for all promoters of the chromosome in one vectorised draw
            cgi_pool = sample_markov(probs_cgi, max(1, len(tss_list)) * 1000, rng,
                                     chain_length=1000)
            chrom_genes: list[genes_mod.Gene] = []
            cres: list[dict[str, Any]] = []
            inst: list[dict[str, Any]] = []
            for tss in tss_list:
                strand = "+" if rng.random() < 0.5 else "-"
                # body stops before the next blocked base in the direction of transcription
                if strand == "+":
                    nxt = np.flatnonzero(blocked[tss : tss + 60_000])
                    limit = int(nxt[0]) - 100 if nxt.size else 60_000
                else:
                    prv = np.flatnonzero(blocked[max(0, tss - 60_000) : tss][::-1])
                    limit = int(prv[0]) - 100 if prv.size else min(60_000, tss - 100)
                gene_counter += 1
                gid = f"SIMG{gene_counter:08d}.1"
                g = genes_mod.make_gene_model(gid, f"DG{gene_counter:05d}", chrom, strand, tss,
                                              max(limit, 1300), rng)
                chrom_genes.append(g)
                cgi = rng.random() < cfg.cgi_fraction
                if cgi:
                    k = len(chrom_genes) - 1
                    seq[tss - 500 : tss + 500] = to_ascii(cgi_pool[k * 1000 : (k + 1) * 1000])
                core_start = tss - 200 if strand == "+" else tss - 99
                seq[core_start : core_start + CORE_WIDTH] = _upper(
                    seq[core_start : core_start + CORE_WIDTH])
                design, sites = promoter_recipe(strand, motifs, rng)
                cre_id = f"{chrom}_cre{len(cres) + 1:06d}"
                for rec in plant_sites(seq, core_start, sites, motifs, rng):
                    inst.append({"chrom": chrom, "cre_id": cre_id, **rec})
                cres.append({"cre_id": cre_id, "chrom": chrom, "core_start": core_start,
                             "core_end": core_start + CORE_WIDTH,
                             "center": core_start + CORE_WIDTH // 2, "kind": "promoter",
                             "design": design + (" + CGI" if cgi else ""),
                             "target_cell_type": "all", "gene_id": gid})
            # ---- enhancers, CTCF sites, decoys
            cre_allowed = ~blocked
            for g in chrom_genes:
                cre_allowed[max(0, g.tss - 1500) : g.tss + 1500] = False
            cre_allowed[: CORE_WIDTH + 500] = cre_allowed[-(CORE_WIDTH + 500):] = False
            mb = length / 1e6
            plan: list[tuple[str, str]] = []
            for c in cell_types:
                plan += [("enhancer", c)] * int(rng.poisson(cfg.enhancers_per_mb * mb))
            plan += [("ctcf", "all")] * int(rng.poisson(cfg.ctcf_per_mb * mb))
            plan += [("decoy", "none")] * int(rng.poisson(cfg.decoys_per_mb * mb))
            plan += [("orphan_cgi", "none")] * int(rng.poisson(cfg.orphan_cgi_per_mb * mb))
            order = rng.permutation(len(plan))
            centers = choose_positions(cre_allowed, len(plan), 600, rng,
                                       taken=[c["center"] for c in cres])
            for k, center in zip(order, centers, strict=False):
                kind, target = plan[int(k)]
                if kind == "enhancer":
                    design, sites = enhancer_recipe(target, motifs, rng)
                elif kind == "ctcf":
                    design, sites = ctcf_recipe(motifs, rng)
                elif kind == "orphan_cgi":
                    # a CpG island away from any TSS: GC-rich, accessible only as far as its
                    # CpG content and chance motifs make it (the grammar decides)
                    half = int(rng.integers(300, 751))
                    seq[center - half : center + half] = to_ascii(
                        sample_markov(probs_cgi, 2 * half, rng, chain_length=2 * half))
                    design, sites = f"orphan CpG island ({2 * half} bp)", []
                else:
                    design, sites = decoy_recipe(motifs, rng)
                core_start = center - CORE_WIDTH // 2
                seq[core_start : core_start + CORE_WIDTH] = _upper(
                    seq[core_start : core_start + CORE_WIDTH])
                cre_id = f"{chrom}_cre{len(cres) + 1:06d}"
                for rec in plant_sites(seq, core_start, sites, motifs, rng):
                    inst.append({"chrom": chrom, "cre_id": cre_id, **rec})
                cres.append({"cre_id": cre_id, "chrom": chrom, "core_start": core_start,
                             "core_end": core_start + CORE_WIDTH, "center": center, "kind": kind,
                             "design": design, "target_cell_type": target, "gene_id": ""})
            cre_df = pd.DataFrame(cres)
            inst_df = pd.DataFrame(inst)
            # ---- truth: accessibility from the final sequence
            cores = np.stack([seq[s : s + CORE_WIDTH] for s in cre_df["core_start"]])
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
            # ---- signal, peaks
            # footprints: strong planted sites of each cell type's grammar motifs, by CRE row
            centers_arr = cre_df["center"].to_numpy()
            row_of = {cid: i for i, cid in enumerate(cre_df["cre_id"])}
            footprints: dict[str, dict[int, list[tuple[int, int]]]] = {}
            for c in cell_types:
                sel = inst_df[inst_df["strong"]
                              & inst_df["motif"].isin(list(GRAMMARS[c].motif_weights))]
                fp: dict[int, list[tuple[int, int]]] = {}
                for cid, a, b in zip(sel["cre_id"], sel["start"], sel["end"], strict=True):
                    fp.setdefault(row_of[cid], []).append((int(a), int(b)))
                footprints[c] = fp
            for si, s in enumerate(sample_names):
                srng = _rng(cfg.seed, ci, 1000 + si)
                row = samples.set_index("sample").loc[s]
                assay = str(row["assay"])
                cell = str(row["cell_type"])
                lam = background_rate(seq, cfg.background_rate * cfg.depth / 100.0)
                for a, b in artefacts:
                    lam[a:b] += ARTEFACT_RATE * cfg.depth / 100.0 * srng.uniform(0.7, 1.3)
                if assay.upper() == "ATAC":
                    lam *= tn5_bias(seq, tn5)
                amp = amplitude[cell] * np.exp(srng.normal(0, SAMPLE_SD, len(cre_df)))
                fps = footprints[cell]
                for i in np.flatnonzero(amp > 0):
                    c = int(centers_arr[i])
                    shape = cre_shape(assay, float(srng.normal(0, 8)),
                                      [(a - c, b - c) for a, b in fps.get(i, ())])
                    add_profile(lam, c, shape, cfg.depth * float(amp[i]))
                counts = srng.poisson(lam).astype(np.float64)
                nz = np.flatnonzero(counts)
                if nz.size:
                    bws[s].addEntries(chrom, nz.astype(np.int64), values=counts[nz], span=1)
                all_peaks[s].append(call_peaks(counts, chrom, cfg.background_rate
                                               * cfg.depth / 100.0,
                                               min_log10p=cfg.peak_min_log10p))
            # ---- expression (truth terms per gene and sample)
            if chrom_genes:
                prom = cre_df[cre_df["kind"] == "promoter"].set_index("gene_id")
                gids = [g.gene_id for g in chrom_genes]
                pterms = genes_mod.promoter_terms(prom.loc[gids].reset_index(drop=True))
                tss_arr = np.array([g.tss for g in chrom_genes])
                gene_effect = rng.normal(0, genes_mod.GENE_EFFECT_SD, len(chrom_genes))
                for si, s in enumerate(sample_names):
                    cell = str(samples.set_index("sample").loc[s, "cell_type"])
                    erng = _rng(cfg.seed, ci, 2000 + si)
                    enh = genes_mod.enhancer_term(tss_arr, cre_df["center"].to_numpy(),
                                                  amplitude[cell])
                    noise = erng.normal(0, genes_mod.NOISE_SD, len(chrom_genes))
                    explainable = genes_mod.BASE + pterms["promoter_term"].to_numpy() + enh
                    expr_rows.append(pd.DataFrame({
                        "gene_id": gids, "gene_name": [g.name for g in chrom_genes],
                        "chrom": chrom, "tss": tss_arr,
                        "strand": [g.strand for g in chrom_genes], "sample": s,
                        "cell_type": cell,
                        "promoter_term": pterms["promoter_term"].to_numpy(),
                        "enhancer_term": enh, "gene_effect": gene_effect, "noise": noise,
                        "explainable_log2": explainable,
                        "log2_expression": explainable + gene_effect + noise}))
                for g in sorted(chrom_genes, key=lambda g: g.start):
                    gtf.extend(genes_mod.gtf_lines(g))
            # ---- variants
            n_var = round(cfg.n_variants * length / genome_len)
            var = simulate_variants(chrom, seq, cre_df, inst_df, motifs, cell_types, n_var,
                                    _rng(cfg.seed, ci, 3000))
            if not var.empty:
                all_var.append(var)
            # ---- sequence out, statistics
            fasta.write(chrom, seq)
            codes = ASCII_TO_CODE[seq]
            acgt = int((codes < 4).sum())
            stats["gc_num"] += float(gc_fraction(codes)) * acgt
            stats["acgt"] += acgt
            stats["lower"] += int((seq >= ord("a")).sum())
            stats["n"] += int((codes == 4).sum())
            stats["cpg_oe"].append(cpg_observed_expected(codes))
            all_cres.append(cre_df)
            all_inst.append(inst_df)
            del seq, lam, counts
        for bw in bws.values():
            bw.close()

        # ---- gather outputs (written inside the ExitStack: all-or-nothing)
        cre_all = pd.concat(all_cres, ignore_index=True)
        inst_all = pd.concat(all_inst, ignore_index=True)
        inst_all = inst_all[["chrom", "start", "end", "strand", "motif", "motif_id", "cre_id",
                             "strong", "score_bits", "threshold_bits"]]
        write_chrom_sizes(paths.chrom_sizes, chrom_sizes)
        write_bed(paths.blacklist, pd.DataFrame(blacklist))
        write_text_atomic(paths.gtf, "\n".join(gtf) + "\n")
        peak_counts = {}
        for s in sample_names:
            pk = pd.concat(all_peaks[s], ignore_index=True)
            pk = finish_peaks(pk, s, genome_len / 150.0)
            write_narrowpeak(paths.peaks(s), pk)
            peak_counts[s] = len(pk)
        expr = pd.concat(expr_rows, ignore_index=True)
        raw = 2.0 ** expr["log2_expression"]
        expr["tpm"] = raw / raw.groupby(expr["sample"]).transform("sum") * 1e6
        wide = expr.pivot(index="gene_id", columns="sample", values="tpm")[sample_names]
        names = expr.drop_duplicates("gene_id").set_index("gene_id")["gene_name"]
        wide.insert(0, "gene_name", names.loc[wide.index])
        write_tsv_atomic(paths.expression, wide.reset_index(), float_format="%.4f")
        variants = pd.concat(all_var, ignore_index=True)
        variants.insert(0, "variant_id", [f"var{i + 1:06d}" for i in range(len(variants))])
        write_text_atomic(paths.vcf, vcf_text(variants, chrom_sizes, "seq2func demo simulator"))
        write_tsv_atomic(paths.truth("variants.tsv"), variants, float_format="%.5g")
        write_tsv_atomic(paths.truth("cres.tsv"), cre_all, float_format="%.5g")
        write_tsv_atomic(paths.truth("motif_instances.tsv"), inst_all)
        write_tsv_atomic(paths.truth("expression_terms.tsv"), expr, float_format="%.5g")

        summary = _summary(cfg, stats, genome_len, cre_all, inst_all, expr, variants,
                           peak_counts, cell_types)
        write_text_atomic(paths.truth("simulation.json"),
                          json.dumps(summary, indent=2, sort_keys=True, default=_jsonable) + "\n")
    return summary


UPPER = np.frombuffer(b"ACGTN", dtype=np.uint8)


def _upper(seq: np.ndarray) -> np.ndarray:
    return UPPER[ASCII_TO_CODE[seq]]


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, os.PathLike):
        return str(obj)
    return str(obj)


def _summary(cfg: SimulationConfig, stats: dict[str, Any], genome_len: int, cres: pd.DataFrame,
             inst: pd.DataFrame, expr: pd.DataFrame, variants: pd.DataFrame,
             peak_counts: Mapping[str, int], cell_types: Sequence[str]) -> dict[str, Any]:
    explained = {}
    for s, sub in expr.groupby("sample", sort=False):
        y = np.log2(sub["tpm"] + 1)
        x = sub["explainable_log2"]
        explained[s] = {
            "var_explainable_over_total": float(np.var(x) / np.var(sub["log2_expression"])),
            "pearson_r_ceiling_log2tpm": float(np.corrcoef(x, y)[0, 1]),
        }
    return {
        "config": asdict(cfg),
        "grammar": describe_grammars(),
        "expression_model": {
            "base": genes_mod.BASE, "promoter_weights": genes_mod.PROMOTER_WEIGHTS,
            "cpg_promoter_weight": genes_mod.CPG_PROMOTER_WEIGHT,
            "enhancer_weight": genes_mod.ENHANCER_WEIGHT,
            "enhancer_range": genes_mod.ENHANCER_RANGE, "decay": genes_mod.DECAY,
            "gene_effect_sd": genes_mod.GENE_EFFECT_SD, "noise_sd": genes_mod.NOISE_SD,
        },
        "signal_model": {"amplitude_slope": AMPLITUDE_SLOPE, "amplitude_sd": AMPLITUDE_SD,
                         "sample_sd": SAMPLE_SD, "artefact_rate": ARTEFACT_RATE},
        "genome": {
            "length": genome_len,
            "gc_fraction": stats["gc_num"] / max(stats["acgt"], 1),
            "soft_masked_fraction": stats["lower"] / genome_len,
            "n_fraction": stats["n"] / genome_len,
            "cpg_observed_expected_per_chrom": stats["cpg_oe"],
        },
        "cres": {k: int(v) for k, v in cres["kind"].value_counts().sort_index().items()},
        "accessible_cres": {c: int(cres[f"accessible_{c}"].sum()) for c in cell_types},
        "planted_instances": {"strong": int(inst["strong"].sum()),
                              "weak_decoys": int((~inst["strong"]).sum())},
        "peaks": dict(peak_counts),
        "genes": int(expr["gene_id"].nunique()),
        "expression_explainable": explained,
        "variants": {k: int(v) for k, v in variants["type"].value_counts().sort_index().items()},
        "variants_with_true_effect": int(variants["true_effect"].sum()),
    }
