"""ChromBPNet's QC of chrombpnet models: bias vs simulated truth, enzyme patterns, worst task."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from seq2func.core.metrics import MetricRow
from seq2func.core.sequence import cut_preference, reverse_complement
from seq2func.evaluate.bias import pattern_rows, truth_rows, worst_over_tasks


def _dataset(tasks: list[str], assays: list[str], length: int = 60, profile: int = 40):
    geo = SimpleNamespace(input_length=length, profile_length=profile, profile_bin=1)
    return SimpleNamespace(geometry=geo, tasks=tasks,
                           meta=SimpleNamespace(samples=[{"assay": a} for a in assays]))


def test_cut_preference_pools_both_strands_and_is_strand_symmetric() -> None:
    rng = np.random.default_rng(0)
    table = np.exp(rng.normal(size=256))
    codes = rng.integers(0, 4, size=(5, 50)).astype(np.uint8)
    pref = cut_preference(codes, table)
    np.testing.assert_allclose(cut_preference(reverse_complement(codes), table),
                               pref[:, ::-1], rtol=1e-6)


def test_a_bias_model_predicting_the_truth_correlates_perfectly() -> None:
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"assay": ["ATAC"] * 256 + ["DNASE"] * 256,
                          "kmer": list(range(256)) * 2,
                          "weight": np.exp(rng.normal(size=512))})
    ds = _dataset(["a", "d"], ["ATAC", "DNase"])
    codes = rng.integers(0, 4, size=(30, 60)).astype(np.uint8)

    class Truthful:
        def predict_on_batch(self, x):  # as predict_batched calls it
            return self.predict(x)

        def predict(self, x, batch_size=256, verbose=0):
            c = x.argmax(-1)
            tracks = [np.log(cut_preference(c, table[table.assay == a]["weight"].to_numpy()))
                      for a in ("ATAC", "DNASE")]
            return {"profile": np.stack(tracks, axis=-1)[:, 10:50, :] + 3.0}

    path = "truth.tsv"
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "enzyme_bias.tsv"
        table.to_csv(path, sep="\t", index=False)
        rows = truth_rows("m:bias", Truthful(), ds, codes, path, n_boot=20, seed=0)
    assert [r.task for r in rows] == ["a", "d"]
    assert all(r.value == pytest.approx(1.0) for r in rows)
    assert rows[0].metric == "bias_truth_pearson" and rows[0].n == 30


def test_enzyme_patterns_of_the_bias_free_model_are_counted() -> None:
    gata = np.eye(4)[[2, 0, 3, 0]]
    tn5 = np.eye(4)[[1, 1, 2, 1]]
    pattern = SimpleNamespace
    nobias = [pattern(name="pos_0", task="a", ppm=gata),
              pattern(name="pos_1", task="a", ppm=tn5),
              pattern(name="neg_0", task="a", ppm=tn5.copy()),  # _neg_ names are skipped
              pattern(name="pos_0", task="b", ppm=gata)]
    nobias[2].name = "x_neg_0"
    rows = pattern_rows("m", ["a", "b"], nobias, [pattern(name="bias_pos_0", task="a",
                                                         ppm=tn5)])
    got = {r.task: (r.value, r.n) for r in rows}
    assert got == {"a": (1.0, 2), "b": (0.0, 1)}
    # no pattern in the bias model: nothing was checked, not "no enzyme pattern"
    assert all(math.isnan(r.value) for r in pattern_rows("m", ["a"], nobias, []))


def test_the_gate_row_is_the_worst_task() -> None:
    rows = [MetricRow("m:bias", "test", "bias_log_counts_pearson", t, "per task across peaks",
                      v, v - 0.1, v + 0.1, 10) for t, v in (("a", 0.3), ("b", -0.2))]
    rows += [MetricRow("m", "test", "max_bias_response", t, "max over enzyme patterns", v,
                       math.nan, math.nan, 2) for t, v in (("a", 1.5), ("b", 4.0))]
    worst = {r.metric: r for r in worst_over_tasks(rows)}
    assert worst["bias_log_counts_pearson"].value == -0.2
    assert worst["bias_log_counts_pearson"].aggregation == "per task across peaks; worst task"
    assert worst["bias_log_counts_pearson"].task == "all"
    assert worst["max_bias_response"].value == 4.0  # larger is worse


def test_a_long_motif_containing_an_enzyme_kmer_is_not_an_enzyme_pattern() -> None:
    """A composite TF motif with the enzyme's k-mer inside is the TF's, not the enzyme's; a
    pattern that is (mostly) the enzyme k-mer with a flank is the enzyme's."""
    rng = np.random.default_rng(0)
    tn5 = np.eye(4)[[0, 2, 1, 3, 1, 0]]  # AGCTCA
    flank = rng.dirichlet(np.full(4, 0.3), size=10)
    composite = np.concatenate([flank, tn5, flank])  # 26 columns, the k-mer in the middle
    leaked = np.concatenate([tn5, flank[:2]])  # 8 columns: the k-mer and 2 more
    pattern = SimpleNamespace
    rows = pattern_rows("m", ["a"], [pattern(name="pos_0", task="a", ppm=composite),
                                     pattern(name="pos_1", task="a", ppm=leaked)],
                        [pattern(name="bias_pos_0", task="a", ppm=tn5)])
    assert [(r.value, r.n) for r in rows] == [(1.0, 2)]


def test_the_bias_response_leaves_a_position_prior_out() -> None:
    """A bias-free head whose only shape is its position prior responds to nothing: its
    footprints are uniform (1x), however peaked the prior."""
    pytest.importorskip("keras")
    from seq2func.evaluate.bias import footprint_rows
    from seq2func.models.bpnet import build_bpnet, set_profile_prior
    from seq2func.models.specs import BPNetSpec

    length, profile = 60, 40
    model = build_bpnet(length, 1, profile, 1, BPNetSpec(filters=4, conv1_kernel=5,
                                                         n_dilated_layers=1, profile_kernel=5,
                                                         profile_prior=True))
    conv = model.get_layer("profile_conv")
    conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    peaked = np.exp(-0.5 * ((np.arange(profile) - profile / 2) / 3.0) ** 2)[:, None]
    set_profile_prior(model, peaked / peaked.sum())
    ds = _dataset(["a"], ["ATAC"], length, profile)
    ds.geometry.profile_bins = profile
    background = np.random.default_rng(0).integers(0, 4, size=(8, length))
    enzyme = [SimpleNamespace(name="bias_pos_0", task="a", ppm=np.eye(4)[[1, 1, 2, 1]])]
    rows = footprint_rows("m", model, ds, background, enzyme)
    assert [r.value for r in rows] == pytest.approx([1.0, 1.0], abs=1e-3)
