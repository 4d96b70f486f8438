"""The expression models' sizes from the data, the strand-shared convolution, the binned-mean
head and the standardised-target output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seq2func.expression.settings import ExpressionModelSpec

pytest.importorskip("tensorflow")


def _spec(**kw: object) -> ExpressionModelSpec:
    return ExpressionModelSpec.from_config(kw)


@pytest.mark.parametrize(("n", "expected"), [(1, (16, 8)), (410, (16, 8)), (5647, (64, 32)),
                                             (20_000, (128, 64)), (10**6, (128, 64))])
def test_capacity_follows_the_training_genes(n: int, expected: tuple[int, int]) -> None:
    from seq2func.expression.models import capacity_for

    assert capacity_for(n) == expected


def test_capacity_needs_genes() -> None:
    from seq2func.expression.models import capacity_for

    with pytest.raises(ValueError, match="at least one training gene"):
        capacity_for(0)


def test_resolve_spec_applies_auto_and_keeps_fixed() -> None:
    from seq2func.expression.models import resolve_spec

    auto = _spec(conv_filters=[64, 7], conv_kernels=[12, 3], pool_sizes=[1, 2])
    out = resolve_spec(auto, 5647)
    assert out.conv_filters == [64, 7] and out.dense_units == 32 and out.capacity == "fixed"
    assert resolve_spec(auto, 410).conv_filters == [16, 7]
    fixed = _spec(capacity="fixed", conv_filters=[5], dense_units=3)
    assert resolve_spec(fixed, 10**6) == fixed


def test_head_pool_in_tower_steps() -> None:
    from seq2func.expression.models import head_pool

    assert head_pool(_spec(pool_sizes=[1], head_bin=100)) == 100
    assert head_pool(_spec(conv_filters=[4, 4], conv_kernels=[5, 5], pool_sizes=[2, 5],
                           head_bin=100)) == 10
    with pytest.raises(ValueError, match="multiple of the product of pool_sizes"):
        head_pool(_spec(pool_sizes=[8], head_bin=100))


def test_binned_mean_head_has_one_feature_per_filter_and_bin() -> None:
    from seq2func.expression.models import build_expression_model

    spec = _spec(capacity="fixed", conv_filters=[6], conv_kernels=[5], pool_sizes=[1],
                 head_bin=100, dense_units=4)
    m = build_expression_model("seq_only", 950, 2, spec)
    assert tuple(m.get_layer("seq_flatten").output.shape) == (None, 6 * 10)  # ceil(950/100)
    assert tuple(m.outputs[0].shape) == (None, 2)


def test_strand_max_conv_is_strand_symmetric(tmp_path: Path) -> None:
    import keras

    from seq2func.core.sequence import one_hot
    from seq2func.models import load_model
    from seq2func.models.layers import StrandMaxConv1D

    keras.utils.set_random_seed(0)
    inp = keras.Input((40, 4))
    model = keras.Model(inp, StrandMaxConv1D(3, 7, kernel_regularizer=keras.regularizers.L2(1e-3),
                                             name="c")(inp))
    x = one_hot(np.random.default_rng(0).integers(0, 4, (2, 40)).astype(np.uint8))
    rc = x[:, ::-1, ::-1]
    y, y_rc = model.predict(x, verbose=0), model.predict(rc, verbose=0)
    # the reverse strand's output is the forward output read backwards (odd kernel)
    np.testing.assert_allclose(y_rc, y[:, ::-1], rtol=1e-5, atol=1e-5)
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), y, rtol=1e-6, atol=1e-6)
    assert again.get_layer("c").kernel_regularizer is not None


def test_standardised_output_maps_back_to_targets(tmp_path: Path) -> None:
    from seq2func.expression.models import build_expression_model
    from seq2func.models import load_model

    spec = _spec(capacity="fixed", conv_filters=[4], conv_kernels=[5], pool_sizes=[1],
                 dense_units=4)
    m = build_expression_model("seq_only", 200, 2, spec, target_mean=[3.0, 1.0],
                               target_sd=[2.0, 0.0])
    out = m.get_layer("expression")
    assert not out.trainable
    kernel, bias = (np.asarray(w) for w in out.get_weights())
    np.testing.assert_allclose(kernel, np.diag([2.0, 1.0]))  # a zero sd is left at 1
    np.testing.assert_allclose(bias, [3.0, 1.0])
    x = np.zeros((3, 200, 4), dtype=np.float32)
    m.save(tmp_path / "m.keras")
    np.testing.assert_allclose(load_model(tmp_path / "m.keras").predict(x, verbose=0),
                               m.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match="one value per sample"):
        build_expression_model("seq_only", 200, 2, spec, target_mean=[3.0, 1.0],
                               target_sd=[2.0])
