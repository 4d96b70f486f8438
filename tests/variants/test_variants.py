"""Variant effects: VCF reading, REF checks, allele windows, batched scoring, expression, output."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import seq2func.variants as va
from conftest import random_genome
from seq2func.core.errors import InputError
from seq2func.core.sequence import Genome, decode, encode, reverse_complement

VCF_HEAD = ("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=300>\n"
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> Genome:
    return random_genome(tmp_path_factory.mktemp("genome"), {"chr1": 300, "chr2": 200})


def _seq(genome: Genome, chrom: str, a: int, b: int) -> str:
    return decode(genome.codes(chrom)[a:b])


def _vcf(tmp: Path, genome: Genome, compress: bool = False) -> Path:
    s = _seq(genome, "chr1", 0, 300)
    alt1 = "A" if s[99] != "A" else "C"
    recs = [
        f"chr1\t100\trs1\t{s[99]}\t{alt1}\t.\tPASS\t.",                  # SNV
        f"chr1\t120\t.\t{s[119:123]}\t{s[119]}\t.\tPASS\tDP=3",           # 3 bp deletion
        f"chr1\t150\trs3\t{s[149]}\t{s[149]}TTG,{'G' if s[149] != 'G' else 'T'}\t.\tPASS\t.",
        f"chr1\t160\trs4\t{'A' if s[159] != 'A' else 'C'}\tG\t.\tPASS\t.",  # REF mismatch
        "chrX\t5\trs5\tA\tG\t.\tPASS\t.",                                  # unknown chromosome
        "chr1\t170\trs6\tA\t<DEL>\t.\tPASS\t.",                            # symbolic
    ]
    text = VCF_HEAD + "\n".join(recs) + "\n"
    path = tmp / ("v.vcf.gz" if compress else "v.vcf")
    if compress:  # bgzip-like: several gzip members
        half = len(text) // 2
        path.write_bytes(gzip.compress(text[:half].encode()) + gzip.compress(text[half:].encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_read_vcf_plain_and_bgzip_splits_multiallelic(tmp_path: Path, genome: Genome,
                                                      compress: bool) -> None:
    header, df = va.read_vcf(_vcf(tmp_path, genome, compress))
    assert header[0] == "##fileformat=VCFv4.2"
    assert len(df) == 7
    multi = df[df["id"] == "rs3"]
    assert len(multi) == 2 and multi["record"].nunique() == 1
    assert multi["variant_id"].str.startswith("rs3:").all()
    assert df.loc[df["id"] == ".", "variant_id"].iloc[0].startswith("chr1:120:")


def test_read_vcf_names_the_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vcf"
    bad.write_text(VCF_HEAD + "chr1\t10\t.\tA\tG\t.\tPASS\t.\nchr1 11 . A G . PASS .\n")
    with pytest.raises(InputError, match="line 5"):
        va.read_vcf(bad)
    bad.write_text(VCF_HEAD + "chr1\tx\t.\tA\tG\t.\tPASS\t.\n")
    with pytest.raises(InputError, match="POS"):
        va.read_vcf(bad)


def test_check_alleles_reports_mismatches_without_scoring_them(tmp_path: Path,
                                                               genome: Genome) -> None:
    _, df = va.read_vcf(_vcf(tmp_path, genome))
    checked = va.check_alleles(df, genome, max_allele_length=3)
    status = dict(zip(checked["id"] + checked["alt"], checked["status"], strict=True))
    assert status["rs4G"] == "ref_mismatch"
    assert status["rs5G"] == "unknown_chrom"
    assert status["rs6<DEL>"] == "symbolic"
    assert checked.loc[checked["id"] == ".", "status"].item() == "too_long"  # REF of 4 bases
    assert status["rs3" + checked["alt"].iloc[2]] == "too_long"  # insertion: ALT of 4 bases
    assert status["rs1" + checked["alt"].iloc[0]] == status["rs3" + checked["alt"].iloc[3]] == "ok"


def test_allele_windows_centre_snvs_and_indels(genome: Genome) -> None:
    s = _seq(genome, "chr1", 0, 300)
    v = pd.DataFrame({"genome_chrom": ["chr1"] * 3, "pos": [100, 120, 150],
                      "ref": [s[99], s[119:123], s[149]],
                      "alt": ["N", s[119], s[149] + "TTG"]})
    ref, alt = va.allele_windows(genome, v, 20)
    assert decode(ref[0]) == s[89:109]
    assert decode(alt[0]) == s[89:99] + "N" + s[100:109]
    assert decode(alt[1]) == s[109:120] + s[123:132]  # deletion pulls bases in from the right
    assert decode(alt[2]) == s[139:150] + "TTG" + s[150:156]  # insertion pushes them out


def _tiny_model(length: int, n_out: int, name: str, seed: int = 0):  # type: ignore[no-untyped-def]
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(seed)
    inp = keras.Input((length, 4), name="sequence")
    x = keras.layers.Conv1D(4, 5, padding="same", activation="relu")(inp)
    x = keras.layers.GlobalAveragePooling1D()(x)
    out = keras.layers.Dense(n_out, name=name)(x)
    return keras.Model(inp, {name: out})


def test_batched_scores_equal_one_call_per_variant(tmp_path: Path, genome: Genome) -> None:
    from seq2func.core.sequence import one_hot

    def prob(x: np.ndarray) -> np.ndarray:  # strand-averaged sigmoid, one direct model call
        both = np.concatenate([x, x[:, ::-1, ::-1]])
        p = 1 / (1 + np.exp(-np.asarray(model(both, training=False)["labels"], dtype=float)))
        return 0.5 * (p[0] + p[1])

    _, df = va.read_vcf(_vcf(tmp_path, genome))
    df = va.check_alleles(df, genome)
    model = _tiny_model(24, 2, "labels")
    batched = va.score_accessibility(model, genome, df, ["a", "b"], chunk=2)
    ok = np.flatnonzero(df["status"] == "ok")
    assert batched["delta_p_a"].notna().sum() == ok.size
    assert batched.loc[df["status"] != "ok", "delta_p_a"].isna().all()
    for i in ok:  # the slow way: one model call per variant
        ref, alt = va.allele_windows(genome, df.iloc[[i]], 24)
        pr, pa = prob(one_hot(ref)), prob(one_hot(alt))
        np.testing.assert_allclose(batched.iloc[i][["delta_p_a", "delta_p_b"]].to_numpy(float),
                                   pa - pr, atol=1e-6)
    counts_model = _tiny_model(24, 2, "log_counts")
    lfc = va.score_accessibility(counts_model, genome, df, ["a", "b"])
    assert {"log2fc_a", "ref_log_counts_b"} <= set(lfc)


GENES = pd.DataFrame({"gene_id": ["gp", "gm"], "gene_name": ["P", "M"], "chrom": ["chr2", "chr2"],
                      "tss": [60, 140], "strand": ["+", "-"]})


def test_promoter_windows_keep_the_tss_in_place(genome: Genome) -> None:
    s = _seq(genome, "chr2", 0, 200)
    up, down = 20, 10  # + gene: [40, 70); - gene: [131, 161)
    v = pd.DataFrame({"status": "ok", "genome_chrom": "chr2", "pos": [51, 46, 151, 5],
                      "ref": [s[50], s[45:48], s[150], s[4]],
                      "alt": ["N", s[45], s[150] + "GG", "N"]})
    hits = va.promoter_hits(v, GENES, up, down)
    assert hits[["vrow", "grow"]].values.tolist() == [[0, 0], [1, 0], [2, 1]]
    ref, alt = va.promoter_allele_windows(genome, v, hits, up + down)
    assert decode(ref[0]) == s[40:70]
    assert decode(alt[0]) == s[40:50] + "N" + s[51:70]
    assert decode(alt[1]) == s[40:46] + s[48:72]  # deletion: TSS side kept, filled from 3'
    rc = decode(reverse_complement(encode(s[131:161])))
    assert decode(ref[1]) == decode(ref[0]) and decode(ref[2]) == rc
    # minus gene, insertion after genomic position 150: read 5'->3' on the minus strand
    edited = s[:151] + "GG" + s[151:]
    want = decode(reverse_complement(encode(edited[131 + 2 : 161 + 2])))
    assert decode(alt[2]) == want


def test_score_expression_matches_direct_predictions(genome: Genome) -> None:
    from seq2func.core.sequence import one_hot

    s = _seq(genome, "chr2", 0, 200)
    model = _tiny_model(30, 3, "expression", seed=1)
    v = pd.DataFrame({"status": "ok", "genome_chrom": "chr2", "pos": [51, 151],
                      "ref": [s[50], s[150]], "alt": ["A" if s[50] != "A" else "C", "T" if
                                                       s[150] != "T" else "G"]})
    window = {"upstream": 20, "downstream": 10, "samples": ["x", "y", "z"]}
    out = va.score_expression(model, genome, v, GENES, window)
    assert out["gene_id"].tolist() == ["gp", "gm"]
    hits = va.promoter_hits(v, GENES, 20, 10)
    ref, alt = va.promoter_allele_windows(genome, v, hits, 30)
    direct = (model.predict(one_hot(alt), verbose=0)["expression"]
              - model.predict(one_hot(ref), verbose=0)["expression"])
    np.testing.assert_allclose(out[["delta_log1p_tpm_x", "delta_log1p_tpm_y",
                                    "delta_log1p_tpm_z"]].to_numpy(), direct, atol=1e-6)
    with pytest.raises(ValueError, match="expected"):
        va.score_expression(model, genome, v, GENES, {**window, "samples": ["x"]})


def test_score_vcf_end_to_end_writes_declared_info_fields(tmp_path: Path, genome: Genome) -> None:
    import json

    model = _tiny_model(24, 2, "labels")
    model.save(tmp_path / "acc.keras")
    expr = _tiny_model(30, 2, "expression")
    (tmp_path / "expr").mkdir()
    expr.save(tmp_path / "expr" / "model.keras")
    (tmp_path / "expr" / "run.json").write_text(json.dumps({"config": {"expression_window": {
        "upstream": 20, "downstream": 10, "samples": ["a", "b"]}}}))
    GENES.to_csv(tmp_path / "genes.tsv", sep="\t", index=False)
    vcf = _vcf(tmp_path, genome, compress=True)
    header, table, desc, strings, _ = va.score_vcf(
        vcf, genome.path, [tmp_path / "acc.keras"], ["a", "b"], model_name="tiny",
        expression_models=[tmp_path / "expr" / "model.keras"], genes_path=tmp_path / "genes.tsv")
    out = tmp_path / "out.vcf"
    va.write_vcf(out, header, table, desc, "test", strings)
    lines = out.read_text().splitlines()
    declared = {ln.split("ID=")[1].split(",")[0] for ln in lines if ln.startswith("##INFO")}
    used = set()
    records = [ln.split("\t") for ln in lines if not ln.startswith("#")]
    assert len(records) == len(table) == 7
    for rec in records:
        for item in rec[7].split(";"):
            key = item.split("=")[0]
            if key.startswith("S2F_"):
                used.add(key)
    assert used <= declared and "S2F_delta_p_a" in used
    mismatch = next(r for r in records if r[2] == "rs4")
    assert "S2F_STATUS=ref_mismatch" in mismatch[7] and "S2F_delta_p_a=." in mismatch[7]
    kept = next(r for r in records if r[2] == ".")
    assert kept[7].startswith("DP=3;S2F_STATUS=")
    assert "expression_gene" in table and table["delta_log1p_tpm_a"].isna().all()  # none on chr2


@pytest.mark.parametrize("head", ["labels", "log_counts"])
def test_seed_ensemble_scores_are_the_mean_of_its_members(tmp_path: Path, genome: Genome,
                                                        head: str) -> None:
    """Ensemble = mean of probabilities (labels) or of log counts: both scores are linear in
    them, so the ensemble's score is the mean of the members' scores."""
    paths = []
    for seed in (0, 1):
        paths.append(tmp_path / f"seed{seed}.keras")
        _tiny_model(24, 2, head, seed=seed).save(paths[-1])
    vcf = _vcf(tmp_path, genome)
    scored = [va.score_vcf(vcf, genome.path, p, ["a", "b"])[1] for p in ([paths[0]], [paths[1]],
                                                                          paths)]
    cols = [c for c in scored[2] if c.startswith(("delta_p_", "log2fc_"))]
    assert len(cols) == 2
    ok = scored[2]["status"] == "ok"
    members = 0.5 * (scored[0].loc[ok, cols].to_numpy() + scored[1].loc[ok, cols].to_numpy())
    assert not np.allclose(scored[0].loc[ok, cols], scored[1].loc[ok, cols])  # seeds differ
    np.testing.assert_allclose(scored[2].loc[ok, cols].to_numpy(), members, rtol=1e-4, atol=1e-6)


def test_variant_metrics_on_known_scores() -> None:
    from seq2func.variants import truth as vm
    truth = pd.DataFrame({
        "variant_id": [f"v{i}" for i in range(8)], "chrom": ["chr1"] * 4 + ["chr2"] * 4,
        "pos": np.arange(1, 9), "ref": "A", "alt": "G",
        "type": ["motif_break", "neutral_far", "motif_break", "neutral_cre"] * 2,
        "delta_logit_ery": [2.0, 0, 1.0, 0, -3.0, 0, 0.1, 0], "delta_p_ery": 0.5,
        "true_effect": [True, False, True, False, True, False, False, False]})
    table = truth[["chrom", "pos", "ref", "alt"]].assign(
        status="ok", delta_p_ery=[0.4, 0.01, 0.3, 0.02, -0.5, 0.0, 0.9, 0.03])
    table["max_abs_score"] = table["delta_p_ery"].abs()
    joined = vm.join_truth(table, truth)
    assert "truth_delta_p_ery" in joined and (joined["delta_p_ery"] != 0.5).all()
    rows = vm.variant_rows("m", joined, ["ery"], {"ery": "ery"}, ["chr2"], 0.5, n_boot=50)
    got = {(r.split, r.metric, r.task): r for r in rows}
    # the motif variant without a true effect (score 0.9) is left out: perfect separation
    assert got[("all", "variant_auroc", "all")].value == 1.0
    assert got[("all", "variant_auroc", "all")].n == 7
    assert got[("test", "variant_auroc", "ery")].n == 3


def test_gene_end_variants_change_only_the_gene_end_part(genome: Genome) -> None:
    """Input = promoter, spacer N, gene-end window: a variant in the gene-end window of the
    + gene alters only that part; one in its promoter only the promoter part."""
    s = _seq(genome, "chr2", 0, 200)
    genes = GENES.assign(tes=[110, 90])  # + gene ends at 110; - gene at 90 (its start 91)
    window = {"upstream": 20, "downstream": 10, "end_upstream": 8, "end_downstream": 6,
              "spacer": 5}
    alt = {p: ("A" if s[p - 1] != "A" else "C") for p in (51, 106)}
    v = pd.DataFrame({"status": "ok", "genome_chrom": "chr2", "pos": [51, 106],
                      "ref": [s[50], s[105]], "alt": [alt[51], alt[106]]})
    pairs, ref, alt_w = va.gene_allele_windows(genome, v, genes, window)
    # both variants are outside the - gene's windows (promoter [131, 161), gene end [85, 99))
    assert pairs[["vrow", "grow"]].values.tolist() == [[0, 0], [1, 0]]
    assert ref.shape == alt_w.shape == (2, 30 + 5 + 14)
    assert decode(ref[0, :30]) == s[40:70] and (ref[:, 30:35] == 4).all()
    assert decode(ref[0, 35:]) == s[102:116]  # last 8 bases of the gene, 6 past its end
    assert decode(alt_w[0, :30]) == s[40:50] + alt[51] + s[51:70]
    np.testing.assert_array_equal(alt_w[0, 30:], ref[0, 30:])  # gene end unchanged
    np.testing.assert_array_equal(alt_w[1, :35], ref[1, :35])  # promoter unchanged
    assert decode(alt_w[1, 35:]) == s[102:105] + alt[106] + s[106:116]


def test_expression_scores_need_gene_ends_for_a_gene_end_model(genome: Genome) -> None:
    model = _tiny_model(49, 1, "expression")
    v = pd.DataFrame({"status": "ok", "genome_chrom": "chr2", "pos": [51], "ref": ["A"],
                      "alt": ["C"]})
    window = {"upstream": 20, "downstream": 10, "end_upstream": 8, "end_downstream": 6,
              "spacer": 5, "samples": ["x"]}
    with pytest.raises(InputError, match="no 'tes'"):
        va.score_expression(model, genome, v, GENES, window)
