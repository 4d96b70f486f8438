"""chrombpnet models: the bias model, the combination with a bias-free BPNet, its parts,
per-task views of bias heads, and safe-mode saving/loading of each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seq2func.models import load_model  # noqa: E402
from seq2func.models.bpnet import build_bpnet  # noqa: E402
from seq2func.models.chrombpnet import (  # noqa: E402
    BIAS,
    NOBIAS,
    bias_free,
    bias_of,
    build_bias_model,
    combine,
    receptive_field,
    task_view,
)
from seq2func.models.layers import LogAddExp, SelectTasks  # noqa: E402
from seq2func.models.specs import BPNetSpec  # noqa: E402

L, P, T = 120, 100, 3
BIAS_SPEC = BPNetSpec(filters=8, conv1_kernel=5, n_dilated_layers=1, profile_kernel=5)
MAIN_SPEC = BPNetSpec(filters=8, conv1_kernel=7, n_dilated_layers=2, profile_kernel=9)


def _x(n: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(n, L))]


def _pair(groups: int = T, task_groups: list[int] | None = None) -> tuple:
    keras.utils.set_random_seed(0)
    bias = build_bias_model(L, groups, P, 1, BIAS_SPEC)
    main = build_bpnet(L, T, P, 1, MAIN_SPEC)
    return bias, main, combine(bias, main, task_groups)


def test_combined_outputs_add_profile_logits_and_counts() -> None:
    bias, main, model = _pair()
    x = _x()
    out, b, m = model.predict(x, verbose=0), bias.predict(x, verbose=0), main.predict(x,
                                                                                    verbose=0)
    np.testing.assert_allclose(out["profile"], b["profile"] + m["profile"], rtol=1e-5,
                               atol=1e-5)
    # counts add: log(exp(a) + exp(b))
    np.testing.assert_allclose(out["log_counts"], np.logaddexp(b["log_counts"],
                                                               m["log_counts"]), rtol=1e-5)
    assert bias_free(model) is main and bias_of(model) is bias
    assert main.name == NOBIAS and bias.name == BIAS


def test_the_bias_model_is_frozen_and_only_the_bias_free_part_learns() -> None:
    bias, _, model = _pair()
    before = [w.copy() for w in bias.get_weights()]
    main_before = [w.copy() for w in bias_free(model).get_weights()]
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss={"profile": "mse", "log_counts": "mse"})
    x = _x(16)
    model.fit(x, {"profile": np.zeros((16, P, T)), "log_counts": np.ones((16, T))},
              epochs=2, verbose=0)
    for a, b in zip(before, bias.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b)
               for a, b in zip(main_before, bias_free(model).get_weights(), strict=True))


def test_tasks_share_bias_heads_by_group() -> None:
    # tasks 0 and 2 share head 0 (e.g. two DNase samples); task 1 uses head 1
    bias, main, model = _pair(groups=2, task_groups=[0, 1, 0])
    x = _x()
    b = bias.predict(x, verbose=0)
    view = task_view(bias, [0, 1, 0]).predict(x, verbose=0)
    np.testing.assert_allclose(view["log_counts"], b["log_counts"][:, [0, 1, 0]], rtol=1e-6)
    np.testing.assert_allclose(view["profile"][..., 2], b["profile"][..., 0], rtol=1e-6)
    out = model.predict(x, verbose=0)
    m = main.predict(x, verbose=0)
    np.testing.assert_allclose(out["profile"][..., 2], m["profile"][..., 2]
                               + b["profile"][..., 0], rtol=1e-5, atol=1e-5)
    # the identity view is the model itself
    assert task_view(bias, [0, 1]) is bias


def test_receptive_field_of_the_bias_model_is_small() -> None:
    # conv 5 + one dilated layer (2 * 2) + profile conv 5 - 1
    assert receptive_field(BIAS_SPEC) == 5 + 4 + 5 - 1
    # a base outside the receptive field of the centre does not move the centre's logit
    keras.utils.set_random_seed(1)
    bias = build_bias_model(L, 1, P, 1, BIAS_SPEC)
    x = _x(1)
    far = x.copy()
    far[0, :5] = far[0, :5][:, ::-1]
    centre = P // 2
    a = bias.predict(x, verbose=0)["profile"][0, centre, 0]
    b = bias.predict(far, verbose=0)["profile"][0, centre, 0]
    assert a == pytest.approx(b, abs=1e-6)


def test_saved_combined_and_bias_free_models_load_in_safe_mode(tmp_path: Path) -> None:
    _, _, model = _pair(groups=2, task_groups=[0, 1, 1])
    x = _x()
    model.save(tmp_path / "model.keras")
    bias_free(model).save(tmp_path / "nobias.keras")
    again = load_model(str(tmp_path / "model.keras"))  # safe_mode=True inside
    np.testing.assert_allclose(again.predict(x, verbose=0)["log_counts"],
                               model.predict(x, verbose=0)["log_counts"], rtol=1e-6)
    nobias = load_model(str(tmp_path / "nobias.keras"))
    np.testing.assert_allclose(nobias.predict(x, verbose=0)["profile"],
                               bias_free(model).predict(x, verbose=0)["profile"], rtol=1e-6)
    assert {type(layer) for layer in again.layers} >= {LogAddExp, SelectTasks}


def test_a_chrombpnet_model_loads_in_a_fresh_process(tmp_path: Path) -> None:
    """The custom layers are registered by importing seq2func.models alone."""
    import subprocess
    import sys

    from conftest import REPO

    _, _, model = _pair(groups=2, task_groups=[0, 1, 1])
    model.save(tmp_path / "model.keras")
    code = ("from seq2func.models import load_model; "
            f"m = load_model({str(tmp_path / 'model.keras')!r}); print(sorted(m.output))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO / "src"), "TF_CPP_MIN_LOG_LEVEL": "3",
                              "PATH": "/usr/bin:/bin"}, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "['log_counts', 'profile']" in res.stdout


# ----------------------------------------------------------------------------- position prior


PRIOR_SPEC = BPNetSpec(filters=8, conv1_kernel=7, n_dilated_layers=2, profile_kernel=9,
                       profile_prior=True)


def _average_profile(seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    avg = rng.gamma(2.0, size=(P, T))
    return avg / avg.sum(axis=0, keepdims=True)


def test_a_profile_prior_starts_the_model_at_the_average_profile() -> None:
    """With the profile convolution at zero, the model's profile is the prior's: the
    average profile it was set from."""
    from seq2func.models.bpnet import PRIOR_LAYER, set_profile_prior
    from seq2func.models.predict import softmax

    keras.utils.set_random_seed(0)
    model = build_bpnet(L, T, P, 1, PRIOR_SPEC)
    conv = model.get_layer("profile_conv")
    conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    flat = softmax(model.predict(_x(), verbose=0)["profile"].astype(np.float64), axis=1)
    np.testing.assert_allclose(flat, 1.0 / P, rtol=1e-5)  # zero prior: uniform
    avg = _average_profile()
    assert set_profile_prior(model, avg)
    got = softmax(model.predict(_x(), verbose=0)["profile"].astype(np.float64), axis=1)
    np.testing.assert_allclose(got, np.broadcast_to(avg, got.shape), rtol=1e-4)
    assert model.get_layer(PRIOR_LAYER).trainable


def test_the_prior_is_set_inside_a_combined_model_and_not_in_the_bias_model(
        tmp_path: Path) -> None:
    from seq2func.models.bpnet import PRIOR_LAYER, set_profile_prior

    keras.utils.set_random_seed(0)
    bias = build_bias_model(L, T, P, 1, BIAS_SPEC)
    model = combine(bias, build_bpnet(L, T, P, 1, PRIOR_SPEC))
    assert not set_profile_prior(bias, _average_profile())  # the bias model has none
    assert set_profile_prior(model, _average_profile())
    prior = bias_free(model).get_layer(PRIOR_LAYER).get_weights()[0]
    np.testing.assert_allclose(prior.mean(axis=0), 0.0, atol=1e-5)  # centred log profile
    model.save(tmp_path / "model.keras")
    again = load_model(str(tmp_path / "model.keras"))  # safe mode
    np.testing.assert_allclose(bias_free(again).get_layer(PRIOR_LAYER).get_weights()[0], prior)
    x = _x()
    np.testing.assert_allclose(again.predict(x, verbose=0)["profile"],
                               model.predict(x, verbose=0)["profile"], rtol=1e-5, atol=1e-5)


def test_a_prior_of_the_wrong_shape_is_refused() -> None:
    from seq2func.models.bpnet import set_profile_prior

    model = build_bpnet(L, T, P, 1, PRIOR_SPEC)
    with pytest.raises(ValueError, match="does not fit"):
        set_profile_prior(model, np.full((P // 2, T), 2.0 / P))


def test_zero_bins_of_the_average_get_a_finite_prior() -> None:
    from seq2func.models.bpnet import PRIOR_LAYER, set_profile_prior

    model = build_bpnet(L, T, P, 1, PRIOR_SPEC)
    avg = _average_profile()
    avg[:10] = 0.0
    set_profile_prior(model, avg / avg.sum(axis=0, keepdims=True))
    assert np.isfinite(model.get_layer(PRIOR_LAYER).get_weights()[0]).all()


def test_profile_prior_defaults_by_architecture() -> None:
    from seq2func.models.specs import ChromBPNetSpec

    assert BPNetSpec().profile_prior is False  # BPNet's translation-equivariant head
    spec = ChromBPNetSpec()
    assert spec.profile_prior is True
    assert spec.nobias().profile_prior is True
    assert spec.bias.network().profile_prior is False  # trained on background: no centre


def test_a_cleared_prior_gives_the_translation_equivariant_head() -> None:
    """Tracks tile chromosomes with windows centred on nothing: without its prior, a model
    predicts what the same weights predict in a head that never had one."""
    from seq2func.models.bpnet import clear_profile_prior, set_profile_prior

    keras.utils.set_random_seed(0)
    with_prior = build_bpnet(L, T, P, 1, PRIOR_SPEC)
    set_profile_prior(with_prior, _average_profile())
    plain = build_bpnet(L, T, P, 1, MAIN_SPEC)
    for layer in plain.layers:
        layer.set_weights(with_prior.get_layer(layer.name).get_weights())
    x = _x()
    assert not np.allclose(with_prior.predict(x, verbose=0)["profile"],
                           plain.predict(x, verbose=0)["profile"], atol=1e-3)
    assert clear_profile_prior(with_prior) and not clear_profile_prior(plain)
    np.testing.assert_allclose(with_prior.predict(x, verbose=0)["profile"],
                               plain.predict(x, verbose=0)["profile"], rtol=1e-5, atol=1e-5)
