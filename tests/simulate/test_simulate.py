"""The demo simulator writes real, consistent file formats with a planted, recoverable truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pyfaidx
import pyranges as pr
import pytest

from conftest import MOTIFS, SMALL_SIMULATION
from seq2func.core.io import NARROWPEAK_COLUMNS, file_checksum, read_chrom_sizes
from seq2func.core.motifs import read_jaspar
from seq2func.core.sequence import encode
from seq2func.simulate import DemoPaths, SimulationConfig, simulate_demo
from seq2func.simulate.grammar import (
    CORE_WIDTH,
    accessibility_logits,
    load_grammar_motifs,
)

SAMPLES = ["erythroid", "hepatocyte", "fibroblast"]


def _peaks(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", header=None, names=NARROWPEAK_COLUMNS)


def test_all_outputs_exist(small_demo) -> None:
    paths, _ = small_demo
    files = [paths.fasta, Path(str(paths.fasta) + ".fai"), paths.chrom_sizes, paths.blacklist,
             paths.gtf, paths.expression, paths.vcf]
    files += [paths.bigwig(s) for s in SAMPLES] + [paths.peaks(s) for s in SAMPLES]
    files += [paths.truth(n) for n in ("cres.tsv", "motif_instances.tsv", "variants.tsv",
                                       "expression_terms.tsv", "simulation.json")]
    for f in files:
        assert f.exists() and f.stat().st_size > 0, f
    leftovers = [p for p in paths.outdir.rglob("*.tmp*")]
    assert leftovers == []


def test_chromosome_names_agree_across_files(small_demo) -> None:
    paths, _ = small_demo
    expected = SMALL_SIMULATION["chromosomes"]
    assert read_chrom_sizes(paths.chrom_sizes) == expected
    fa = pyfaidx.Fasta(str(paths.fasta))
    assert {k: len(v) for k, v in fa.items()} == expected
    for s in SAMPLES:
        bw = pyBigWig.open(str(paths.bigwig(s)))
        assert bw.isBigWig() and bw.chroms() == expected
        bw.close()
        peaks = pr.read_bed(str(paths.peaks(s)))
        assert set(peaks.chromosomes) <= set(expected)
        df = _peaks(paths.peaks(s))
        assert (df["start"] >= 0).all() and (df["end"] <= df["chrom"].map(expected)).all()
        assert ((df["peak"] >= 0) & (df["peak"] < df["end"] - df["start"])).all()
    gtf = pr.read_gtf(str(paths.gtf))
    assert set(gtf.chromosomes) <= set(expected)
    assert set(gtf.df["Feature"].astype(str)) == {"gene", "transcript", "exon"}
    vcf = pd.read_csv(paths.vcf, sep="\t", comment="#", header=None)
    assert set(vcf[0]) <= set(expected)
    assert pr.read_bed(str(paths.blacklist)).df["Chromosome"].astype(str).isin(expected).all()


def test_genome_composition_is_human_like(small_demo) -> None:
    paths, summary = small_demo
    g = summary["genome"]
    assert 0.38 < g["gc_fraction"] < 0.45
    assert 0.15 < g["soft_masked_fraction"] < 0.5
    assert 0.005 < g["n_fraction"] < 0.08
    assert max(g["cpg_observed_expected_per_chrom"]) < 0.45  # depleted (CGIs raise it a bit)
    text = paths.fasta.read_text()
    assert any(c.islower() for c in text[:200_000]) and "N" in text


def test_gene_models_have_both_strands_and_multiple_exons(small_demo) -> None:
    paths, _ = small_demo
    gtf = pr.read_gtf(str(paths.gtf)).df
    genes = gtf[gtf["Feature"] == "gene"]
    assert set(genes["Strand"].astype(str)) == {"+", "-"}
    exons = gtf[gtf["Feature"] == "exon"].groupby("gene_id", observed=True).size()
    assert (exons >= 2).all()
    assert genes["gene_id"].str.endswith(".1").all()  # versioned IDs, as in GENCODE


def test_planted_motifs_are_where_truth_says(small_demo) -> None:
    paths, _ = small_demo
    inst = pd.read_csv(paths.truth("motif_instances.tsv"), sep="\t")
    motifs = {m.motif_id: m for m in read_jaspar(MOTIFS)}
    fa = pyfaidx.Fasta(str(paths.fasta))
    strong = inst[inst["strong"]]
    assert len(strong) > 100
    for r in strong.sample(200, random_state=0).itertuples():
        m = motifs[r.motif_id]
        codes = encode(str(fa[r.chrom][r.start : r.end]))
        if r.strand == "-":
            codes = (3 - codes)[::-1]
        pwm = m.log_odds()
        # planted bases may later be overwritten by a neighbouring site only in decoys
        score = pwm[np.arange(m.length), np.minimum(codes, 3)].sum()
        assert score == pytest.approx(r.score_bits, abs=1e-3)
        assert score >= r.threshold_bits


def test_signal_is_higher_in_peaks_than_outside(small_demo) -> None:
    paths, _ = small_demo
    sizes = read_chrom_sizes(paths.chrom_sizes)
    for s in SAMPLES:
        bw = pyBigWig.open(str(paths.bigwig(s)))
        peaks = _peaks(paths.peaks(s))
        assert len(peaks) > 50
        inside = outside = 0.0
        n_in = n_out = 0
        for chrom, size in sizes.items():
            v = np.nan_to_num(bw.values(chrom, 0, size, numpy=True))
            assert (v >= 0).all() and np.all(v == np.round(v))  # count-like
            mask = np.zeros(size, dtype=bool)
            for r in peaks[peaks["chrom"] == chrom].itertuples():
                mask[r.start : r.end] = True
            inside += v[mask].sum()
            outside += v[~mask].sum()
            n_in += mask.sum()
            n_out += (~mask).sum()
        bw.close()
        assert inside / n_in > 10 * outside / n_out, s


def test_peaks_recover_accessible_cres(small_demo) -> None:
    paths, _ = small_demo
    cres = pd.read_csv(paths.truth("cres.tsv"), sep="\t")
    for s in SAMPLES:
        peaks = _peaks(paths.peaks(s))
        hit = np.zeros(len(cres), dtype=bool)
        for chrom, grp in peaks.groupby("chrom"):
            sel = (cres["chrom"] == chrom).to_numpy()
            c = cres["center"].to_numpy()[sel]
            inside = ((c[:, None] >= grp["start"].to_numpy()[None])
                      & (c[:, None] < grp["end"].to_numpy()[None])).any(axis=1)
            hit[np.flatnonzero(sel)[inside]] = True
        acc = cres[f"accessible_{s}"].to_numpy() == 1
        assert hit[acc].mean() > 0.8, s  # most accessible CREs are called
        assert hit[~acc].mean() < 0.1, s  # closed CREs rarely are


def test_cell_type_grammars_make_specific_accessibility(small_demo) -> None:
    paths, _ = small_demo
    cres = pd.read_csv(paths.truth("cres.tsv"), sep="\t")
    enh = cres[cres["kind"] == "enhancer"]
    for c in SAMPLES:
        own = enh[enh["target_cell_type"] == c][f"p_{c}"].mean()
        other = enh[enh["target_cell_type"] != c][f"p_{c}"].mean()
        assert own > 3 * other, c
    assert cres[cres["kind"] == "ctcf"][[f"p_{c}" for c in SAMPLES]].mean().min() > 0.6


def test_truth_logits_recomputed_from_genome(small_demo) -> None:
    paths, _ = small_demo
    cres = pd.read_csv(paths.truth("cres.tsv"), sep="\t").sample(100, random_state=1)
    fa = pyfaidx.Fasta(str(paths.fasta))
    motifs = load_grammar_motifs(read_jaspar(MOTIFS))
    cores = np.stack([encode(str(fa[r.chrom][r.core_start : r.core_start + CORE_WIDTH]))
                      for r in cres.itertuples()])
    logits = accessibility_logits(cores, motifs, SAMPLES)
    np.testing.assert_allclose(logits, cres[[f"logit_{c}" for c in SAMPLES]].to_numpy(),
                               rtol=1e-4, atol=1e-4)


def test_expression_depends_on_planted_terms(small_demo) -> None:
    paths, summary = small_demo
    terms = pd.read_csv(paths.truth("expression_terms.tsv"), sep="\t")
    expr = pd.read_csv(paths.expression, sep="\t").set_index("gene_id")
    assert list(expr.columns) == ["gene_name", *SAMPLES]
    for s in SAMPLES:
        t = terms[terms["sample"] == s].set_index("gene_id")
        y = np.log2(expr.loc[t.index, s] + 1)
        # the explainable part (promoter motifs + enhancer chromatin) predicts expression
        r = np.corrcoef(t["explainable_log2"], y)[0, 1]
        assert r > 0.6, (s, r)
        assert np.corrcoef(t["promoter_term"], y)[0, 1] > 0.3
        # total = terms, exactly
        np.testing.assert_allclose(t["log2_expression"], t["explainable_log2"]
                                   + t["gene_effect"] + t["noise"], rtol=1e-4, atol=1e-3)
        tot = expr[s].sum()
        assert tot == pytest.approx(1e6, rel=1e-3)
    # the enhancer term differs between cell types (cell-type-specific chromatin)
    wide = terms.pivot(index="gene_id", columns="sample", values="enhancer_term")
    assert wide.std(axis=1).mean() > 0.05
    assert 0.4 < summary["expression_explainable"]["erythroid"]["var_explainable_over_total"] < 0.95


def test_variants_have_effects_consistent_with_truth(small_demo) -> None:
    paths, _ = small_demo
    v = pd.read_csv(paths.truth("variants.tsv"), sep="\t", keep_default_na=False)
    fa = pyfaidx.Fasta(str(paths.fasta))
    for r in v.itertuples():  # REF matches the genome
        assert str(fa[r.chrom][r.pos - 1 : r.pos - 1 + len(r.ref)]).upper() == r.ref
    assert (v.loc[v["type"] == "neutral_far", "true_effect"] == False).all()  # noqa: E712
    breaks = v[v["type"] == "motif_break"]
    assert breaks["true_effect"].mean() > 0.5
    neutral = v[v["type"] == "neutral_cre"]
    assert neutral["true_effect"].mean() < 0.2
    vcf_lines = [ln for ln in paths.vcf.read_text().splitlines() if not ln.startswith("#")]
    assert len(vcf_lines) == len(v)
    assert any(len(r) != len(a) for r, a in zip(v["ref"], v["alt"], strict=True))  # indels


def test_blacklist_covers_high_signal_artefacts(small_demo) -> None:
    paths, _ = small_demo
    bl = pd.read_csv(paths.blacklist, sep="\t", header=None)
    bw = pyBigWig.open(str(paths.bigwig("erythroid")))
    for r in bl.itertuples():
        inside = np.nan_to_num(bw.values(r[1], r[2], r[3], numpy=True)).mean()
        genome_mean = bw.header()["sumData"] / sum(bw.chroms().values())
        assert inside > 10 * genome_mean
    bw.close()


def test_same_seed_gives_identical_files(tmp_path: Path, demo_samples: pd.DataFrame) -> None:
    cfg = dict(SMALL_SIMULATION, chromosomes={"chrA": 200_000, "chrB": 150_000}, n_variants=50)
    a = simulate_demo(SimulationConfig.from_config(cfg), demo_samples, MOTIFS, tmp_path / "a",
                      progress=False)
    b = simulate_demo(SimulationConfig.from_config(cfg), demo_samples, MOTIFS, tmp_path / "b",
                      progress=False)
    assert a == b
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                     if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*")
                     if p.is_file())
    assert files_a == files_b and len(files_a) >= 17
    for rel in files_a:
        assert file_checksum(tmp_path / "a" / rel) == file_checksum(tmp_path / "b" / rel), rel
    c = simulate_demo(SimulationConfig.from_config(dict(cfg, seed=cfg["seed"] + 1)),
                      demo_samples, MOTIFS, tmp_path / "c", progress=False)
    assert c != a
    assert file_checksum(tmp_path / "c" / "genome" / "genome.fa") != file_checksum(
        tmp_path / "a" / "genome" / "genome.fa")
    json.loads((tmp_path / "a" / "truth" / "simulation.json").read_text())


def test_unknown_cell_type_is_rejected(tmp_path: Path) -> None:
    samples = pd.DataFrame({"sample": ["x"], "cell_type": ["neuron"], "assay": ["ATAC"]})
    with pytest.raises(ValueError, match="no demo grammar"):
        simulate_demo(SimulationConfig.from_config(SMALL_SIMULATION), samples, MOTIFS,
                      tmp_path / "o", progress=False)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.*"))


def test_paths_object_lists_sample_files(tmp_path: Path) -> None:
    p = DemoPaths(tmp_path)
    assert p.bigwig("a") == tmp_path / "signal" / "a.bw"
    assert p.peaks("a").suffix == ".narrowPeak"
