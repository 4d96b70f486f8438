"""Accessibility models: builders, custom layers, config checks, safe mode, strand averaging."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seq2func import models  # noqa: E402
from seq2func.core.errors import ConfigError  # noqa: E402
from seq2func.dataset import Geometry  # noqa: E402
from seq2func.models.predict import softmax  # noqa: E402

GEO = Geometry(input_length=120, max_jitter=0, profile_length=100, count_window=100,
               profile_bin=4, label_window=50)
T = 3


def _onehot(n: int, length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, length))]


def _small(arch: str, **extra: object) -> models.ModelSpec:
    if arch == "basset":
        params = {"conv_filters": [8, 8], "conv_kernels": [7, 3], "pool_sizes": [4, 4],
                  "dense_units": 8, "dropout": 0.1}
    else:
        params = {"filters": 8, "conv1_kernel": 7, "n_dilated_layers": 2, "profile_kernel": 9}
    params.update(extra)
    return models.ModelSpec(arch, arch, params)


def test_output_shapes_match_dataset_targets() -> None:
    keras.utils.set_random_seed(0)
    x = _onehot(5, 120)
    basset = models.build_accessibility_model(_small("basset"), GEO, T)
    out = basset.predict(x, verbose=0)
    assert set(out) == {"labels"} and out["labels"].shape == (5, 3)
    for head in ("gap", "logsumexp"):
        bpnet = models.build_accessibility_model(_small("bpnet", counts_head=head), GEO, T,
                                                 mean_log_counts=[5.0, 6.0, 7.0])
        out = bpnet.predict(x, verbose=0)
        assert out["profile"].shape == (5, 100 // 4, 3)
        assert out["log_counts"].shape == (5, 3)
    assert models.ModelSpec("m", "basset").outputs() == ("labels",)
    assert models.ModelSpec("m", "bpnet").outputs() == ("profile", "log_counts")


def test_count_head_starts_at_the_training_mean() -> None:
    """The bias initialisation puts an untrained count head near the mean log counts."""
    keras.utils.set_random_seed(0)
    x = _onehot(16, 120)
    mean = [5.0, 6.0, 7.0]
    gap = models.build_accessibility_model(_small("bpnet"), GEO, T, mean_log_counts=mean)
    lse = models.build_accessibility_model(_small("bpnet", counts_head="logsumexp"), GEO, T,
                                           mean_log_counts=mean)
    for m in (gap, lse):
        pred = m.predict(x, verbose=0)["log_counts"].mean(axis=0)
        np.testing.assert_allclose(pred, mean, atol=1.0)


def test_logsumexp_bin_is_exact_for_the_multinomial() -> None:
    """Softmax over log-sum-exp bins equals the summed base-level probabilities per bin."""
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 12, 3)).astype(np.float32)
    binned = np.asarray(models.LogSumExpBin(4)(logits))
    base = softmax(logits.astype(np.float64), axis=1)
    want = base.reshape(2, 3, 4, 3).sum(axis=2)
    np.testing.assert_allclose(softmax(binned.astype(np.float64), axis=1), want,
                               rtol=1e-5)


def test_multinomial_nll_matches_hand_computation() -> None:
    counts = np.array([[[1.0], [3.0]]], dtype=np.float32)  # one example, 2 bins, 1 task
    logits = np.array([[[0.0], [np.log(3.0)]]], dtype=np.float32)  # p = 1/4, 3/4
    got = float(models.MultinomialNLL()(counts, logits))
    want = -(1 * np.log(0.25) + 3 * np.log(0.75))
    assert got == pytest.approx(want, rel=1e-5)


def test_auto_counts_loss_weight_is_median_counts_over_ten() -> None:
    log_counts = np.log1p(np.array([[100.0, 300.0], [500.0, 700.0]]))
    assert models.auto_counts_loss_weight(log_counts) == pytest.approx(40.0)
    assert models.auto_counts_loss_weight(np.zeros((3, 1))) == 1.0  # floor


def test_auto_counts_loss_weight_of_several_samples_uses_each_tasks_own_peaks() -> None:
    """Merged peaks of two samples: each sample's counts in the other's peaks are low and
    must not pull the median down (ChromBPNet trains a sample on its own peaks)."""
    counts = np.array([[1000.0, 5.0], [3000.0, 2.0], [4.0, 2000.0], [6.0, 4000.0]])
    own = counts > 100
    log_counts = np.log1p(counts)
    assert models.auto_counts_loss_weight(log_counts, own) == pytest.approx(250.0)
    assert models.auto_counts_loss_weight(log_counts) < 60  # the merged median: wrong
    assert models.auto_counts_loss_weight(log_counts, np.zeros_like(own)) == 1.0


@pytest.mark.parametrize(
    ("spec", "key"),
    [({"architecture": "cnn"}, "accessibility.models.m.architecture"),
     ({"architecture": "basset", "filters": 32}, "accessibility.models.m.filters"),
     ({"architecture": "bpnet", "dense_units": 32}, "accessibility.models.m.dense_units"),
     ({"architecture": "basset", "dense_units": "many"}, "accessibility.models.m.dense_units"),
     ({"architecture": "bpnet", "counts_head": "max"}, "accessibility.models.m.counts_head")],
)
def test_model_spec_names_the_bad_key(spec: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        models.ModelSpec.from_config("m", spec)
    assert key in str(err.value)
    with pytest.raises(ConfigError) as err:  # a spec built in code is checked when used
        _ = models.ModelSpec("m", spec["architecture"],
                             {k: v for k, v in spec.items() if k != "architecture"}).sizes
    assert key in str(err.value)


def test_model_spec_drops_seeds_and_keeps_the_given_sizes() -> None:
    spec = models.ModelSpec.from_config("m", {"architecture": "bpnet", "filters": 16,
                                              "seeds": [1, 2]})
    assert spec.to_config() == {"architecture": "bpnet", "filters": 16}
    assert spec.sizes.filters == 16


def test_sizes_left_out_take_the_schema_defaults_of_the_architecture() -> None:
    from seq2func.models.specs import architecture_defaults, check_entry

    for arch, cls in models.SPECS.items():
        defaults = {k: v for k, v in check_entry(arch, {"architecture": arch}).items()
                    if k != "architecture"}
        assert cls.from_config({}).to_config() == defaults
        assert models.ModelSpec("m", arch).sizes.to_config() == defaults
    assert models.BPNetSpec(filters=4).to_config() == {**architecture_defaults("bpnet"),
                                                        "filters": 4}
    with pytest.raises(ConfigError, match=r"accessibility\.models\.basset\.filters"):
        models.BassetSpec(filters=4)
    with pytest.raises(ValueError, match="BassetSpec holds basset sizes"):
        models.BassetSpec.from_config({"architecture": "bpnet"})


@pytest.mark.parametrize("arch", ["basset", "bpnet"])
def test_spec_fields_are_the_keys_of_their_architecture_in_the_schema(arch: str) -> None:
    from dataclasses import fields

    from seq2func.core.settings import schema_fields
    from seq2func.models.specs import COMMON_KEYS, ENTRY_SECTION, architecture_defaults

    assert {f.name for f in fields(models.SPECS[arch])} == set(architecture_defaults(arch))
    every = set(COMMON_KEYS).union(*(architecture_defaults(a) for a in models.SPECS))
    assert every == schema_fields(ENTRY_SECTION)


def test_the_workflow_config_gets_the_defaults_of_each_architecture() -> None:
    from seq2func.core.config import validate_config
    from seq2func.core.settings import schema_dir

    cfg = {"study": "s", "source": "simulate", "samples": "x.tsv",
           "split": {"valid": ["chr2"], "test": ["chr3"]},
           "accessibility": {"models": {"b": {"architecture": "basset", "dense_units": 8},
                                        "p": {"architecture": "bpnet", "seeds": [3]}}}}
    out = validate_config(cfg, schema_dir() / "config.schema.yaml")["accessibility"]["models"]
    assert out["b"] == {"architecture": "basset", **models.BassetSpec(dense_units=8).to_config()}
    assert out["p"] == {"architecture": "bpnet", "seeds": [3], **models.BPNetSpec().to_config()}


def test_saved_models_load_in_safe_mode_with_identical_outputs(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    x = _onehot(4, 120)
    for spec in (_small("basset"), _small("bpnet", counts_head="logsumexp")):
        m = models.build_accessibility_model(spec, GEO, T, mean_log_counts=[1.0, 2.0, 3.0])
        path = tmp_path / f"{spec.name}.keras"
        m.save(path)
        loaded = models.load_model(str(path))
        a, b = m.predict(x, verbose=0), loaded.predict(x, verbose=0)
        for k in a:
            np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6)


def test_safe_mode_refuses_lambda_layers(tmp_path: Path) -> None:
    """A model file carrying Python code (a Lambda layer) is refused, not executed."""
    inp = keras.Input((10, 4))
    out = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    path = tmp_path / "lambda.keras"
    keras.Model(inp, out).save(path)
    with pytest.raises(ValueError, match=r"(?i)safe"):
        models.load_model(str(path))


def test_strand_average_is_reverse_complement_invariant() -> None:
    """Averaging over strands makes predictions identical for a sequence and its reverse
    complement (profiles mirrored), whatever the weights."""
    keras.utils.set_random_seed(0)
    x = _onehot(6, 120, seed=3)
    rc = models.reverse_complement_onehot(x)
    for spec in (_small("basset"), _small("bpnet")):
        m = models.build_accessibility_model(spec, GEO, T, mean_log_counts=[1.0, 2.0, 3.0])
        fwd = models.predict_both_strands(m, x)
        rev = models.predict_both_strands(m, rc)
        if "labels" in fwd:
            np.testing.assert_allclose(fwd["labels"], rev["labels"], rtol=1e-5)
            assert ((fwd["labels"] > 0) & (fwd["labels"] < 1)).all()  # probabilities
        else:
            np.testing.assert_allclose(fwd["log_counts"], rev["log_counts"], rtol=1e-5)
            np.testing.assert_allclose(fwd["profile"], rev["profile"][:, ::-1, :], rtol=1e-4,
                                       atol=1e-7)
            np.testing.assert_allclose(fwd["profile"].sum(axis=1), 1.0, rtol=1e-5)


def test_output_submodel_predicts_the_same_counts_without_the_profile_head() -> None:
    """The cut-down model keeps only ``log_counts``, bit for bit; a one-output model and a
    missing output are handled."""
    keras.utils.set_random_seed(0)
    x = _onehot(5, 120, seed=4)
    bpnet = models.build_accessibility_model(_small("bpnet"), GEO, T, mean_log_counts=[1.0] * T)
    sub = models.output_submodel(bpnet, "log_counts")
    got = models.predict_both_strands(sub, x)
    assert set(got) == {"log_counts"}
    np.testing.assert_array_equal(got["log_counts"],
                                  models.predict_both_strands(bpnet, x)["log_counts"])
    basset = models.build_accessibility_model(_small("basset"), GEO, T)
    assert models.output_submodel(basset, "labels") is basset
    with pytest.raises(KeyError, match="no output 'labels'"):
        models.output_submodel(bpnet, "labels")


def test_predict_batched_is_model_predict_bit_for_bit() -> None:
    """Batch by batch through ``predict_on_batch`` (a short last batch, a strided
    reverse-complement view, named and unnamed outputs): the numbers of ``model.predict``
    exactly; an input without rows is refused with a message."""
    keras.utils.set_random_seed(0)
    x = _onehot(23, 120, seed=5)
    bpnet = models.build_accessibility_model(_small("bpnet"), GEO, T, mean_log_counts=[1.0] * T)
    for inp in (x, models.reverse_complement_onehot(x)):
        got = models.predict_batched(bpnet, inp, batch_size=8)
        want = bpnet.predict(inp, batch_size=8, verbose=0)
        assert set(got) == set(want) == {"profile", "log_counts"}
        for k in want:
            assert got[k].shape == want[k].shape
            np.testing.assert_array_equal(got[k], want[k])
    plain = keras.Model(bpnet.input, bpnet.output["log_counts"])
    got = models.predict_batched(plain, x, batch_size=10)
    np.testing.assert_array_equal(got, plain.predict(x, batch_size=10, verbose=0))
    with pytest.raises(ValueError, match="no sequences to predict"):
        models.predict_batched(bpnet, x[:0])


def test_reverse_complement_onehot() -> None:
    from seq2func.core.sequence import encode, one_hot

    x = one_hot(encode("AACGT"))[None]
    np.testing.assert_array_equal(models.reverse_complement_onehot(x)[0],
                                  one_hot(encode("ACGTT")))


def test_ensemble_mean_averages_probabilities_and_keeps_logit_space() -> None:
    z = np.array([[[-60.0, 0.0, 3.0]], [[40.0, 1.0, -2.0]]], dtype=np.float32)  # 2 members
    got = np.asarray(models.EnsembleMean("sigmoid")([z[0], z[1]]))
    p = 0.5 * (1 / (1 + np.exp(-z[0].astype(float))) + 1 / (1 + np.exp(-z[1].astype(float))))
    assert np.isfinite(got).all()  # saturated members do not overflow
    np.testing.assert_allclose(1 / (1 + np.exp(-got.astype(float))), p, rtol=1e-6)
    prof = np.random.default_rng(0).normal(size=(2, 3, 5, 2)).astype(np.float32)
    got = np.asarray(models.EnsembleMean("softmax")([prof[0], prof[1]]))
    soft = np.exp(prof) / np.exp(prof).sum(axis=2, keepdims=True)
    np.testing.assert_allclose(np.exp(got), soft.mean(axis=0), rtol=1e-5)  # log of the mean
    np.testing.assert_allclose(np.asarray(models.EnsembleMean("mean")([prof[0], prof[1]])),
                               prof.mean(axis=0), rtol=1e-6)
    with pytest.raises(ValueError, match="kind must be one of"):
        models.EnsembleMean("median")


@pytest.mark.parametrize("arch", ["basset", "bpnet"])
def test_load_ensemble_predicts_the_mean_of_its_seeds(tmp_path: Path, arch: str) -> None:
    paths = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        m = models.build_accessibility_model(_small(arch), GEO, T, mean_log_counts=[5.0] * 3)
        paths.append(tmp_path / f"seed{seed}.keras")
        m.save(paths[-1])
    x = _onehot(6, 120, seed=3)
    single = [models.predict_both_strands(models.load_model(str(p)), x) for p in paths]
    ens = models.load_ensemble(paths)
    assert sorted(ens.output) == sorted(single[0]) and tuple(ens.inputs[0].shape) == (None, 120, 4)
    got = models.predict_both_strands(ens, x)
    for k, v in got.items():
        assert not np.allclose(single[0][k], single[1][k])  # the seeds differ
        np.testing.assert_allclose(v, 0.5 * (single[0][k] + single[1][k]), rtol=1e-4, atol=1e-6)
    assert models.load_ensemble(paths[:1]).name == arch  # one path: the model itself


def test_load_ensemble_refuses_models_of_different_shapes(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    a = models.build_accessibility_model(_small("basset"), GEO, T)
    b = models.build_accessibility_model(_small("basset"), replace(GEO, input_length=200), T)
    a.save(tmp_path / "a.keras")
    b.save(tmp_path / "b.keras")
    from seq2func.core.errors import InputError

    with pytest.raises(InputError, match=r"(?s)b\.keras: input shape \(200, 4\).*fix: ensemble"):
        models.load_ensemble([tmp_path / "a.keras", tmp_path / "b.keras"])
    with pytest.raises(ValueError, match="at least one"):
        models.load_ensemble([])
