"""Attributions: gradient x input and vectorised ISM against a model with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from seq2func.interpret import attributions as interpret  # noqa: E402

L, T = 40, 2


def _onehot(n: int, length: int = L, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, length))]


def _linear_model(w: np.ndarray) -> keras.Model:
    """Basset-like interface whose logit of task t is sum(w[:, :, t] * x)."""
    inp = keras.Input((L, 4), name="sequence")
    flat = keras.layers.Flatten()(inp)
    dense = keras.layers.Dense(T, use_bias=False, name="labels")
    model = keras.Model(inp, {"labels": dense(flat)})
    dense.set_weights([w.reshape(L * 4, T)])
    return model


def _expected_linear(w: np.ndarray) -> np.ndarray:
    """Strand-averaged model = linear model with weights (w + rc(w)) / 2; scores mean-centred."""
    avg = 0.5 * (w + w[::-1, ::-1, :])
    return avg - avg.mean(axis=1, keepdims=True)


def test_ism_and_gradient_x_input_are_exact_for_a_linear_model() -> None:
    w = np.random.default_rng(1).normal(size=(L, 4, T)).astype(np.float32)
    model = _linear_model(w)
    x = _onehot(3)
    fn = interpret.target_outputs(model)
    expected = _expected_linear(w)
    gxi = interpret.gradient_x_input(fn, x, T)
    np.testing.assert_allclose(gxi, np.broadcast_to(expected, gxi.shape), atol=1e-5)
    start, width = 10, 20
    ism = interpret.ism(interpret.strand_averaged(fn), x, start, width, max_mutants=50)
    np.testing.assert_allclose(ism, np.broadcast_to(expected[start:start + width], ism.shape),
                               atol=1e-4)


def test_ism_mutants_change_exactly_one_base_each() -> None:
    x = _onehot(2)
    mut, pos, alt = interpret.ism_mutants(x, 5, 4)
    assert mut.shape == (2 * 4 * 3, L, 4) and pos.shape == (12,) and alt.shape == (2, 12)
    m = mut.reshape(2, 12, L, 4)
    for i in range(2):
        for k in range(12):
            diff = np.flatnonzero((m[i, k] != x[i]).any(axis=1))
            assert diff.tolist() == [pos[k]]
            assert m[i, k, pos[k]].argmax() == alt[i, k] != x[i, pos[k]].argmax()
        # the 3 mutants of a position cover the 3 other bases
        for p in range(5, 9):
            bases = set(alt[i][pos == p].tolist()) | {int(x[i, p].argmax())}
            assert bases == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="outside"):
        interpret.ism_mutants(x, 38, 4)


def test_attributions_are_strand_symmetric_for_a_nonlinear_model() -> None:
    from seq2func.models import BassetSpec, build_basset

    keras.utils.set_random_seed(0)
    model = build_basset(L, T, BassetSpec(conv_filters=[6], conv_kernels=[5], pool_sizes=[2],
                                          dense_units=4, dropout=0.0))
    fn = interpret.target_outputs(model)
    x = _onehot(4, seed=3)
    rc = np.ascontiguousarray(x[:, ::-1, ::-1])
    a, b = interpret.gradient_x_input(fn, x, T), interpret.gradient_x_input(fn, rc, T)
    np.testing.assert_allclose(a, b[:, ::-1, ::-1], atol=1e-5)
    i1 = interpret.ism(interpret.strand_averaged(fn), x, 0, L)
    i2 = interpret.ism(interpret.strand_averaged(fn), rc, 0, L)
    np.testing.assert_allclose(i1, i2[:, ::-1, ::-1], atol=1e-4)


def test_bpnet_targets() -> None:
    from seq2func.models import BPNetSpec, build_bpnet

    keras.utils.set_random_seed(0)
    model = build_bpnet(L, T, 20, 1, BPNetSpec(filters=4, conv1_kernel=5, n_dilated_layers=1,
                                              profile_kernel=5))
    x = _onehot(3)
    out = model.predict(x, verbose=0)
    counts = interpret.predict_target(interpret.target_outputs(model, "counts"), x)
    np.testing.assert_allclose(counts, out["log_counts"], rtol=1e-5)
    prof = interpret.predict_target(interpret.target_outputs(model, "profile"), x)
    logits = out["profile"].astype(np.float64)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    centred = logits - logits.mean(axis=1, keepdims=True)  # BPNet's mean-normalised logits
    np.testing.assert_allclose(prof, (p * centred).sum(axis=1), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="bpnet_target"):
        interpret.target_outputs(model, "shape")


def test_select_peaks_takes_the_strongest_labelled_peaks_per_task() -> None:
    regions = pd.DataFrame({
        "region_id": np.arange(6), "chrom": "chr2", "start": np.arange(6) * 100,
        "end": np.arange(6) * 100 + 50, "centre": np.arange(6) * 100 + 25,
        "source": ["peak"] * 5 + ["background"],
        "label_a": [1, 1, 0, 1, 1, 1], "label_b": [0, 1, 1, 0, 0, 1],
        "log_counts_a": [1.0, 5.0, 9.0, 3.0, 2.0, 9.0], "log_counts_b": [0, 1, 2, 0, 0, 9.0]})
    sel = interpret.select_peaks(regions, ["a", "b"], 2)
    assert sel["region_id"].tolist() == [1, 2, 3]
    assert sel["selected_a"].tolist() == [True, False, True]
    assert sel["selected_b"].tolist() == [True, True, False]
    assert sel["rank_a"].tolist() == [0, -1, 1] and sel["rank_b"].tolist() == [1, 0, -1]
    # ISM takes each task's strongest, not its first row: b's strongest is region 2 (row 1)
    assert interpret.ism_selection(sel, ["a", "b"], 1).tolist() == [0, 1]
    assert interpret.ism_selection(sel, ["a", "b"], 0).tolist() == []


def test_tiling_splits_overlaps_at_the_midpoint() -> None:
    lo, hi = interpret.tiling(np.array(["c", "c", "d"]), np.array([0, 60, 0]),
                              np.array([100, 160, 100]), np.array([50, 110, 50]))
    assert lo.tolist() == [0, 80, 0] and hi.tolist() == [80, 160, 100]


def test_explain_save_and_bigwigs(tmp_path: Path) -> None:
    import pyBigWig

    w = np.random.default_rng(2).normal(size=(L, 4, T)).astype(np.float32)
    model = _linear_model(w)
    regions = pd.DataFrame({"region_id": [0, 1, 2], "chrom": ["chr1", "chr1", "chr2"],
                            "start": [100, 120, 0], "end": [140, 160, 40],
                            "centre": [120, 140, 20], "selected_a": [True, True, False],
                            "selected_b": [False, True, True]})
    codes = np.random.default_rng(3).integers(0, 4, size=(3, L)).astype(np.uint8)
    attr = interpret.explain_regions(model, regions, codes, ["a", "b"], ism_per_task=1,
                                     ism_width=10)
    assert attr.ism_rows.tolist() == [0, 1]
    out = tmp_path / "attr.npz"
    attr.save(out)
    d = np.load(out)
    assert d["hypothetical"].shape == (3, L, 4, 2) and d["ism_hypothetical"].shape == (2, 10, 4, 2)
    np.testing.assert_allclose(d["actual"], d["hypothetical"] * d["one_hot"][..., None])
    bws = {t: tmp_path / f"{t}.bw" for t in ("a", "b")}
    interpret.write_attribution_bigwigs(attr, {"chr1": 1000, "chr2": 500}, bws)
    per_base = attr.actual.sum(axis=2)
    with pyBigWig.open(str(bws["b"])) as bw:
        got = np.array(bw.values("chr1", 100, 160))
        np.testing.assert_allclose(got[:30], per_base[0, :30, 1], rtol=1e-5)  # up to midpoint 130
        np.testing.assert_allclose(got[30:], per_base[1, 10:, 1], rtol=1e-5)
        np.testing.assert_allclose(bw.values("chr2", 0, 40), per_base[2, :, 1], rtol=1e-5)
        assert np.isnan(bw.values("chr1", 0, 100)).all()


def test_attributions_of_region_groups_combine_as_one_explanation() -> None:
    """Regions explained in two groups (e.g. by two folds' models) and combined are, row for
    row and ISM row for ISM row, the regions explained at once (rows in region_id order)."""
    w = np.random.default_rng(4).normal(size=(L, 4, T)).astype(np.float32)
    model = _linear_model(w)
    regions = pd.DataFrame({"region_id": [0, 1, 2, 3, 4], "chrom": ["c1", "c2", "c1", "c2", "c1"],
                            "start": [0, 0, 50, 50, 100], "end": [40, 40, 90, 90, 140],
                            "centre": [20, 20, 70, 70, 120],
                            "selected_a": [True, False, True, True, False],
                            "selected_b": [False, True, False, True, True]})
    codes = np.random.default_rng(5).integers(0, 4, size=(5, L)).astype(np.uint8)
    whole = interpret.explain_regions(model, regions, codes, ["a", "b"], ism_per_task=1,
                                      ism_width=10)
    ism = interpret.ism_selection(regions, ["a", "b"], 1)
    assert ism.tolist() == whole.ism_rows.tolist() == [0, 1]
    parts = []
    for chrom in ("c2", "c1"):  # the groups in another order than region_id
        rows = np.flatnonzero(regions["chrom"] == chrom)
        parts.append(interpret.explain_regions(
            model, regions.iloc[rows].reset_index(drop=True), codes[rows], ["a", "b"],
            ism_width=10, ism_rows=np.flatnonzero(np.isin(rows, ism))))
    got = interpret.concat_attributions(parts)
    pd.testing.assert_frame_equal(got.regions, whole.regions)
    np.testing.assert_array_equal(got.one_hot, whole.one_hot)
    np.testing.assert_allclose(got.hypothetical, whole.hypothetical, rtol=1e-6)
    assert got.ism_rows.tolist() == whole.ism_rows.tolist()
    np.testing.assert_allclose(got.ism_hypothetical, whole.ism_hypothetical, rtol=1e-6)
    with pytest.raises(ValueError, match="no attributions"):
        interpret.concat_attributions([])


# ------------------------------------------------------------- motif database: release, taxa, file

@pytest.mark.parametrize(("source", "expected"), [
    ("JASPAR2024", ("JASPAR2024", ("vertebrates",))),
    ("JASPAR2024:fungi", ("JASPAR2024", ("fungi",))),
    ("fungi", ("JASPAR2024", ("fungi",))),
    ("JASPAR2024:plants+insects", ("JASPAR2024", ("plants", "insects"))),
])
def test_a_motif_database_names_a_release_and_taxa(source: str, expected: tuple) -> None:
    from seq2func.interpret.annotate import parse_database

    assert parse_database(source) == expected


def test_a_taxon_loads_only_its_matrices() -> None:
    from seq2func.interpret.annotate import load_database

    fungi = load_database("JASPAR2024:fungi")
    ids = {m.motif_id for m in fungi}
    assert 100 < len(fungi) < 300 and len(ids) == len(fungi)
    assert {m.name.upper() for m in fungi} >= {"REB1", "ABF1"}
    assert not ids & {m.motif_id for m in load_database("JASPAR2024")}


@pytest.mark.parametrize(("source", "message"), [
    ("fungus", "did you mean 'fungi'"),
    ("JASPAR2024:fungus", "'fungus' is not a JASPAR taxon (did you mean 'fungi'?)"),
    ("JASPAR2042", "neither a file nor a JASPAR release"),
    ("JASPAR2024:trematodes", "has no CORE matrix of trematodes"),
])
def test_a_bad_motif_database_names_the_key_and_the_choices(source: str, message: str) -> None:
    from seq2func.core.errors import ConfigError
    from seq2func.interpret.annotate import load_database

    with pytest.raises(ConfigError, match=r"interpret\.motif_database") as err:
        load_database(source)
    assert message in str(err.value)
