"""Variant effect scores (logFC, JSD, AAQ, IES, IPS), the null, p- and q-values, calibration."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import seq2func.variants as va
from conftest import random_genome
from seq2func.core.sequence import Genome
from seq2func.variants import effects as ef
from seq2func.variants import null as vn
from seq2func.variants import truth as vt

# ----------------------------------------------------------------------------- score formulas


def _js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Hand computation: sqrt of the base-2 Jensen-Shannon divergence."""
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        return float(sum(x * math.log2(x / y) for x, y in zip(a, b, strict=True) if x > 0))

    return math.sqrt(0.5 * kl(p, m) + 0.5 * kl(q, m))


def test_log2fc_sign_is_alt_over_ref() -> None:
    got = ef.log2_fold_change(np.log([[4.0]]), np.log([[16.0]]))
    assert got[0, 0] == pytest.approx(2.0)  # alt has 4x the counts: +2
    assert ef.log2_fold_change(np.log([[16.0]]), np.log([[4.0]]))[0, 0] == pytest.approx(-2.0)


def test_snv_jsd_matches_hand_computation() -> None:
    ref = np.array([0.5, 0.25, 0.25, 0.0])
    alt = np.array([0.0, 0.25, 0.25, 0.5])
    got = ef.allele_jsd(ref[None, :, None], alt[None, :, None], np.array([1]), np.array([1]), 2)
    assert got.shape == (1, 1)
    assert got[0, 0] == pytest.approx(_js_distance(ref, alt))
    assert got[0, 0] == pytest.approx(math.sqrt(0.5))  # disjoint halves: divergence 1/2
    same = ef.allele_jsd(ref[None, :, None], ref[None, :, None], np.array([1]), np.array([1]), 2)
    assert same[0, 0] == pytest.approx(0.0, abs=1e-6)


def test_indel_profiles_are_aligned_before_the_jsd() -> None:
    """A 2 bp insertion whose profile is the reference's shifted right by the inserted bins
    has JSD 0 after alignment (the scorer's adjust_indel_jsd), not before."""
    rng = np.random.default_rng(0)
    n_bins, centre, ins = 12, 6, 2
    ref = rng.random(n_bins) + 0.1
    # alt: same left of centre+1 (the shared anchor base), two new bins, then the ref shifted
    alt = np.concatenate([ref[: centre + 1], [5.0, 5.0], ref[centre + 1 : n_bins - ins]])
    lr, la = np.array([1]), np.array([1 + ins])
    ri, ai, mask = ef.aligned_profile_index(n_bins, centre, lr, la)
    assert mask.sum() == n_bins - ins
    np.testing.assert_allclose(ref[ri[0][mask[0]]], alt[ai[0][mask[0]]])
    got = ef.allele_jsd(ref[None, :, None], alt[None, :, None], lr, la, centre)
    assert got[0, 0] == pytest.approx(0.0, abs=1e-6)
    naive = ef.allele_jsd(ref[None, :, None], alt[None, :, None], lr, lr, centre)
    assert naive[0, 0] > 0.1
    # a deletion is the mirror image: ref longer
    back = ef.allele_jsd(alt[None, :, None], ref[None, :, None], la, lr, centre)
    assert back[0, 0] == pytest.approx(0.0, abs=1e-6)


def test_aaq_is_the_stronger_alleles_quantile_among_the_reference() -> None:
    reference = [np.log(np.arange(1.0, 11.0))]  # counts 1..10
    ref_lc = np.log([[2.5], [0.5], [20.0]])
    alt_lc = np.log([[7.5], [0.6], [1.0]])
    got = ef.active_allele_quantile(ref_lc, alt_lc, reference)[:, 0]
    # 7.5 > 7 of 10 peaks; 0.6 > none -> floored at 1/10; 20 > all 10
    np.testing.assert_allclose(got, [0.7, 0.1, 1.0])


def test_ies_and_ips_combine_the_scores() -> None:
    ref_lc = np.log([[2.0, 8.0]])
    alt_lc = np.log([[8.0, 2.0]])
    jsd = np.array([[0.5, 0.25]])
    reference = [np.log([1.0, 4.0, 10.0, 20.0])] * 2
    s = ef.count_scores(ref_lc, alt_lc, jsd, reference)
    np.testing.assert_allclose(s["log2fc"], [[2.0, -2.0]])
    np.testing.assert_allclose(s["aaq"], [[0.5, 0.5]])  # 8 > 1 and 4 of 4 peaks
    np.testing.assert_allclose(s["ies"], [[1.0, 0.5]])  # |log2fc| x jsd
    np.testing.assert_allclose(s["ips"], [[0.5, -0.25]])  # log2fc x jsd x aaq: keeps the sign


def test_score_formulas_reject_bad_shapes() -> None:
    with pytest.raises(ValueError, match="reference"):
        ef.active_allele_quantile(np.zeros((2, 2)), np.zeros((2, 2)), [np.ones(3)])
    with pytest.raises(ValueError, match="empty"):
        ef.quantiles_among(np.ones(2), np.array([np.nan]))
    with pytest.raises(ValueError, match=r"\(n, P, T\)"):
        ef.allele_jsd(np.ones((2, 3)), np.ones((2, 3)), np.ones(2), np.ones(2), 1)


# ----------------------------------------------------------------------------- p- and q-values


def test_empirical_pvalues_count_null_at_least_as_extreme() -> None:
    null = np.array([0.1, 0.2, 0.3, 0.4, np.nan])
    got = vn.empirical_pvalues(np.array([0.05, 0.3, 0.5, np.nan]), null)
    # (1 + #null >= obs) / (1 + 4): 4, 2 (0.3 and 0.4), 0 null values
    np.testing.assert_allclose(got[:3], [5 / 5, 3 / 5, 1 / 5])
    assert np.isnan(got[3])
    with pytest.raises(ValueError, match="no finite"):
        vn.empirical_pvalues(np.ones(2), np.array([np.nan]))


def _bh_reference(p: list[float]) -> list[float]:
    """Benjamini-Hochberg the slow way: q_i = min over j with p_j >= p_i of p_j m / rank_j."""
    m = len(p)
    ranks = {i: sorted(range(m), key=lambda k: p[k]).index(i) + 1 for i in range(m)}
    return [min(1.0, min(p[j] * m / ranks[j] for j in range(m) if p[j] >= p[i]))
            for i in range(m)]


def test_bh_qvalues_match_a_hand_computation() -> None:
    p = [0.01, 0.04, 0.03, 0.2, 0.5, 0.011, 0.9]
    np.testing.assert_allclose(vn.bh_qvalues(np.array(p)), _bh_reference(p))
    with_nan = vn.bh_qvalues(np.array([0.01, np.nan, 0.04]))
    np.testing.assert_allclose(with_nan[[0, 2]], _bh_reference([0.01, 0.04]))
    assert np.isnan(with_nan[1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vn.bh_qvalues(np.array([0.5, 1.5]))


def test_add_pvalues_tests_abs_of_signed_scores_per_variant_class() -> None:
    tasks = ["a"]
    scores = pd.DataFrame({"log2fc_a": [-0.35, 0.05, 0.35], "max_abs_log2fc": [0.35, 0.05, 0.35]})
    null = pd.DataFrame({"ref": ["A", "A", "A", "AC"], "alt": ["G", "T", "C", "A"],
                         "log2fc_a": [0.1, -0.2, 0.3, 5.0],
                         "max_abs_log2fc": [0.1, 0.2, 0.3, 5.0]})
    out = va.add_pvalues(scores, null, tasks, np.array(["snv", "snv", "indel"]))
    # SNVs against the 3 SNV nulls (|-0.35| beats all: 1/4; 0.05: all 3 above: 4/4);
    # the indel against the one indel null (5.0 >= 0.35: 2/2)
    np.testing.assert_allclose(out["pval_log2fc_a"], [0.25, 1.0, 1.0])
    np.testing.assert_allclose(out["qval_log2fc_a"], vn.bh_qvalues(np.array([0.25, 1.0, 1.0])))
    pooled = va.add_pvalues(scores, null, tasks)
    np.testing.assert_allclose(pooled["pval_log2fc_a"], [2 / 5, 5 / 5, 2 / 5])
    with pytest.raises(ValueError, match="no column"):
        va.add_pvalues(scores, null.drop(columns="log2fc_a"), tasks)


# ----------------------------------------------------------------------------- the null


def test_dinucleotide_shuffle_keeps_dinucleotides_and_ends() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=(50, 80)).astype(np.uint8)
    y = vn.dinucleotide_shuffle(x, np.random.default_rng(2))
    assert not np.array_equal(x, y)
    for a, b in zip(x, y, strict=True):
        assert a[0] == b[0] and a[-1] == b[-1]
        da = np.bincount(a[:-1].astype(int) * 5 + a[1:], minlength=25)
        db = np.bincount(b[:-1].astype(int) * 5 + b[1:], minlength=25)
        np.testing.assert_array_equal(da, db)
    again = vn.dinucleotide_shuffle(x, np.random.default_rng(2))
    np.testing.assert_array_equal(y, again)  # reproducible from the seed
    with pytest.raises(ValueError, match=r"0\.\.4"):
        vn.dinucleotide_shuffle(np.full((1, 5), 7, np.uint8), rng)


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> Genome:
    return random_genome(tmp_path_factory.mktemp("genome"), {"chr1": 3000, "chr2": 2000})


def _variants(genome: Genome) -> pd.DataFrame:
    from seq2func.core.sequence import decode

    s = decode(genome.codes("chr1"))
    rows = [("chr1", 500, s[499], "A" if s[499] != "A" else "C"),
            ("chr1", 900, s[899:902], s[899]),
            ("chr1", 1500, s[1499], s[1499] + "GT")]
    df = pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt"])
    return df.assign(genome_chrom=df["chrom"], status="ok")


def test_random_genome_null_copies_allele_shapes_and_avoids_excluded(genome: Genome) -> None:
    v = _variants(genome)
    exclude = pd.DataFrame({"chrom": ["chr1"], "start": [0], "end": [2000]})
    null = vn.random_genome_variants(genome, v, 300, 40, seed=3, exclude=exclude)
    assert len(null) == 300
    src = v.loc[null["null_source"]]
    np.testing.assert_array_equal(null["ref"].str.len(), src["ref"].str.len().to_numpy())
    np.testing.assert_array_equal(null["alt"].str.len(), src["alt"].str.len().to_numpy())
    snv = null["ref"].str.len() == 1
    assert (null.loc[snv & (null["alt"].str.len() == 1), "ref"]
            != null.loc[snv & (null["alt"].str.len() == 1), "alt"]).all()
    checked = va.check_alleles(null.drop(columns="status"), genome)
    assert (checked["status"] == "ok").all()  # REF is the genome
    on1 = null["chrom"] == "chr1"
    assert (null.loc[on1, "pos"] > 2000).all()


def test_shuffled_windows_keep_the_alleles_at_the_centre(genome: Genome) -> None:
    v = _variants(genome)
    ref_w, alt_w = vn.shuffled_allele_windows(genome, v, 20, np.random.default_rng(0))
    real_ref, _ = va.allele_windows(genome, v, 20)
    from seq2func.core.sequence import encode

    assert ref_w.shape == alt_w.shape == (3, 20)
    assert ref_w[0, 10] == encode(v["ref"][0])[0] and alt_w[0, 10] == encode(v["alt"][0])[0]
    np.testing.assert_array_equal(alt_w[2, 10:13], encode(v["alt"][2]))
    np.testing.assert_array_equal(ref_w[:, :10], alt_w[:, :10])  # the same shuffled left flank
    assert not np.array_equal(ref_w, real_ref)


# ----------------------------------------------------------------------------- with a model


def _profile_model(length: int, n_tasks: int, bins: int, seed: int = 0):  # type: ignore[no-untyped-def]
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(seed)
    inp = keras.Input((length, 4), name="sequence")
    x = keras.layers.Conv1D(8, 5, padding="same", activation="relu")(inp)
    crop = (length - bins) // 2
    prof = keras.layers.Conv1D(n_tasks, 3, padding="same")(x)
    prof = keras.layers.Cropping1D((crop, length - bins - crop), name="profile")(prof)
    counts = keras.layers.Dense(n_tasks, name="log_counts")(
        keras.layers.GlobalAveragePooling1D()(x))
    return keras.Model(inp, {"profile": prof, "log_counts": counts})


def test_scores_are_strand_averaged(genome: Genome) -> None:
    """Every score equals the one computed by hand from the mean of the forward and the
    reverse-complement predictions (profile flipped back)."""
    from seq2func.core.sequence import one_hot
    from seq2func.models.predict import softmax

    model = _profile_model(40, 2, 20)
    v = _variants(genome).iloc[[0]]
    reference = [np.linspace(-1, 1, 50)] * 2
    got = va.score_accessibility(model, genome, v, ["a", "b"], reference=reference)
    ref_w, alt_w = va.allele_windows(genome, v, 40)
    x = one_hot(np.concatenate([ref_w, alt_w]))
    fwd = model(x, training=False)
    rev = model(x[:, ::-1, ::-1], training=False)
    lc = 0.5 * (np.asarray(fwd["log_counts"]) + np.asarray(rev["log_counts"]))
    pf = softmax(np.asarray(fwd["profile"], np.float64), axis=1)
    pr = softmax(np.asarray(rev["profile"], np.float64), axis=1)[:, ::-1]
    prof = 0.5 * (pf + pr)
    for ti, t in enumerate(["a", "b"]):
        lfc = (lc[1, ti] - lc[0, ti]) / math.log(2)
        jsd = _js_distance(prof[0, :, ti], prof[1, :, ti])
        aaq = max(float(np.mean(reference[ti] < max(lc[0, ti], lc[1, ti]))), 1 / 50)
        assert got[f"log2fc_{t}"].iloc[0] == pytest.approx(lfc, rel=1e-4, abs=1e-6)
        assert got[f"jsd_{t}"].iloc[0] == pytest.approx(jsd, rel=1e-3, abs=1e-6)
        assert got[f"aaq_{t}"].iloc[0] == pytest.approx(aaq)
        assert got[f"ies_{t}"].iloc[0] == pytest.approx(abs(lfc) * jsd, rel=1e-3, abs=1e-7)
        assert got[f"ips_{t}"].iloc[0] == pytest.approx(lfc * jsd * aaq, rel=1e-3, abs=1e-7)
    assert got["max_abs_log2fc"].iloc[0] == pytest.approx(
        max(abs(got["log2fc_a"].iloc[0]), abs(got["log2fc_b"].iloc[0])))


@pytest.mark.parametrize("method", ["genome", "shuffle"])
def test_score_vcf_with_null_declares_every_info_field(tmp_path: Path, genome: Genome,
                                                       method: str) -> None:
    from seq2func.core.sequence import decode

    model = _profile_model(40, 2, 20)
    model.save(tmp_path / "m.keras")
    s = decode(genome.codes("chr1"))
    recs = [f"chr1\t{p}\t.\t{s[p - 1]}\t{'A' if s[p - 1] != 'A' else 'C'}\t.\tPASS\t."
            for p in (300, 700, 1100, 1700)]
    recs.append(f"chr1\t2100\t.\t{s[2099:2102]}\t{s[2099]}\t.\tPASS\t.")
    vcf = tmp_path / "v.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   + "\n".join(recs) + "\n")
    regions = pd.DataFrame({"chrom": ["chr2"] * 4, "start": [100, 400, 800, 1200],
                            "end": [140, 440, 840, 1240], "centre": [120, 420, 820, 1220],
                            "is_peak_a": [1, 1, 0, 1], "is_peak_b": [0, 1, 1, 1]})
    scored = va.score_vcf(vcf, genome.path, [tmp_path / "m.keras"], ["a", "b"],
                          model_name="tiny", regions=regions, null_variants=60, null_seed=1,
                          null_method=method, n_reference=10)
    table = scored.table
    assert len(scored.null) == 60
    for col in ("log2fc_a", "jsd_b", "aaq_a", "ies_b", "ips_a", "max_abs_ips",
                "pval_log2fc_a", "qval_max_abs_jsd"):
        assert table[col].notna().all(), col
    p = table["pval_max_abs_log2fc"].to_numpy()
    assert ((p >= 1 / 61) & (p <= 1)).all()
    out = tmp_path / "out.vcf"
    va.write_vcf(out, scored.header, table, scored.floats, "test", scored.strings)
    lines = out.read_text().splitlines()
    declared = {ln.split("ID=")[1].split(",")[0]: ln for ln in lines if ln.startswith("##INFO")}
    used = {item.split("=")[0] for ln in lines if not ln.startswith("#")
            for item in ln.split("\t")[7].split(";")}
    assert used <= set(declared)
    assert {"S2F_pval_log2fc_a", "S2F_qval_ips_b", "S2F_jsd_a", "S2F_aaq_b"} <= used
    assert "log2(alt / ref)" in declared["S2F_log2fc_a"]
    assert "Benjamini-Hochberg" in declared["S2F_qval_ips_b"]
    assert "null variants" in declared["S2F_pval_log2fc_a"]


def test_score_null_rejects_an_unknown_method(genome: Genome) -> None:
    model = _profile_model(40, 1, 20)
    with pytest.raises(ValueError, match="unknown null method"):
        va.score_null(model, genome, _variants(genome), ["a"], 5, 0, method="bogus")


def test_null_needs_a_scorable_variant(genome: Genome) -> None:
    v = _variants(genome).assign(status="ref_mismatch")
    with pytest.raises(ValueError, match="ok"):
        vn.sample_null_variants(v, 5, 0)


def test_reference_needs_peak_columns(genome: Genome) -> None:
    from seq2func.core.errors import InputError
    from seq2func.variants.score import reference_log_counts

    model = _profile_model(40, 1, 20)
    with pytest.raises(InputError, match="is_peak_a"):
        reference_log_counts(model, genome, pd.DataFrame({"chrom": ["chr1"], "centre": [100]}),
                             ["a"], 10, 0)


# ----------------------------------------------------------------------------- calibration


def test_ks_uniform_accepts_uniform_and_rejects_skewed_pvalues() -> None:
    rng = np.random.default_rng(0)
    _, p_uniform = vt.ks_uniform(rng.random(2000))
    _, p_skewed = vt.ks_uniform(rng.random(2000) ** 3)
    assert p_uniform > 0.01 > p_skewed
    with pytest.raises(ValueError, match="no finite"):
        vt.ks_uniform(np.array([np.nan]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        vt.ks_uniform(np.array([0.5, 2.0]))


def test_variant_rows_report_every_score_the_best_and_the_ks() -> None:
    rng = np.random.default_rng(0)
    n = 400
    effect = np.arange(n) < 150
    types = np.where(effect, "motif_break", np.where(np.arange(n) % 2, "neutral_cre",
                                                     "neutral_far"))
    truth = pd.DataFrame({"variant_id": [f"v{i}" for i in range(n)], "chrom": "chr1",
                          "pos": np.arange(1, n + 1), "ref": "A", "alt": "G", "type": types,
                          "delta_logit_ery": np.where(effect, 2.0, 0.0), "true_effect": effect})
    lfc = np.where(effect, rng.normal(1.0, 0.3, n), rng.normal(0, 0.3, n))
    jsd = np.where(effect, rng.random(n) * 0.5 + 0.3, rng.random(n) * 0.5)  # weaker
    table = truth[["chrom", "pos", "ref", "alt"]].assign(
        status="ok", log2fc_ery=lfc, jsd_ery=jsd, max_abs_log2fc=np.abs(lfc),
        max_abs_jsd=jsd, max_abs_score=np.abs(lfc),
        pval_max_abs_log2fc=np.where(effect, 0.001, rng.permutation((np.arange(n) + 0.5) / n)),
        pval_log2fc_ery=np.where(effect, 0.001, rng.random(n) ** 4))  # per task: skewed
    joined = vt.join_truth(table, truth)
    rows = vt.variant_rows("m", joined, ["ery"], {"ery": "ery"}, ["chr2"], 0.5, n_boot=20)
    got = {(r.split, r.metric, r.task): r for r in rows}
    lfc_row = got[("all", "variant_auroc_log2fc", "all")]
    jsd_row = got[("all", "variant_auroc_jsd", "all")]
    assert lfc_row.value > jsd_row.value
    assert lfc_row.ci_low <= lfc_row.value <= lfc_row.ci_high
    best = got[("all", "variant_auroc_best", "all")]
    assert best.value == lfc_row.value and "log2fc" in best.aggregation
    assert got[("all", "variant_auroc", "all")].value == lfc_row.value  # main score: log2fc
    ks = got[("all", "variant_null_ks_pvalue", "all")]
    assert ks.n == n - 150 and ks.value > 0.01  # neutral p-values uniform
    assert got[("all", "variant_null_ks_pvalue_log2fc", "ery")].value < 0.01
    fpr = got[("all", "variant_null_fpr05", "all")].value
    assert 0.0 < fpr < 0.15


def test_in_intervals_matches_a_direct_check() -> None:
    rng = np.random.default_rng(1)
    iv = pd.DataFrame({"chrom": rng.choice(["a", "b"], 50), "start": rng.integers(0, 1000, 50)})
    iv["end"] = iv["start"] + rng.integers(1, 80, 50)
    chroms, pos = rng.choice(["a", "b", "c"], 2000), rng.integers(0, 1100, 2000)
    want = [((iv["chrom"] == c) & (iv["start"] <= p) & (p < iv["end"])).any()
            for c, p in zip(chroms, pos, strict=True)]
    np.testing.assert_array_equal(vn.in_intervals(chroms, pos, iv), want)


def test_alleles_at_one_position_share_one_reference_prediction(genome: Genome,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """Three alternate alleles at one SNV position: the reference window is predicted once,
    and the scores are those of scoring each variant alone."""
    import seq2func.models as models
    from seq2func.core.sequence import decode

    model = _profile_model(40, 2, 20)
    s = decode(genome.codes("chr1"))
    ref = s[699]
    v = pd.DataFrame([("chr1", 700, ref, a) for a in "ACGT" if a != ref],
                     columns=["chrom", "pos", "ref", "alt"])
    v = v.assign(genome_chrom=v["chrom"], status="ok")
    seen: list[int] = []
    real = models.predict_both_strands

    def counting(m, x, batch_size=256):  # type: ignore[no-untyped-def]
        seen.append(int(x.shape[0]))
        return real(m, x, batch_size)

    monkeypatch.setattr(models, "predict_both_strands", counting)
    together = va.score_accessibility(model, genome, v, ["a", "b"])
    assert seen == [4]  # 1 reference + 3 alternates, not 6 windows
    for i in range(3):
        alone = va.score_accessibility(model, genome, v.iloc[[i]], ["a", "b"])
        for c in ("log2fc_a", "jsd_b", "ref_log_counts_a"):
            assert together[c].iloc[i] == pytest.approx(alone[c].iloc[0], rel=1e-5, abs=1e-7)
