"""Models saved by earlier layouts of the package still load (registered Keras names kept).

The files in ``tests/data/legacy_models/`` were written by seq2func before the stage
subpackages existed (flat ``seq2func.models`` / ``seq2func.expression_models``), with the
predictions they gave then.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REPO

pytest.importorskip("keras")

LEGACY = REPO / "tests" / "data" / "legacy_models"


@pytest.mark.parametrize("name", ["basset", "bpnet"])
def test_accessibility_models_of_the_flat_layout_load_and_predict_the_same(name: str) -> None:
    from seq2func.models import load_model

    model = load_model(str(LEGACY / f"{name}.keras"))
    expected = np.load(LEGACY / f"{name}_expected.npz")
    pred = model.predict(expected["x"], verbose=0)
    for key, value in pred.items():
        np.testing.assert_allclose(np.asarray(value), expected[key], rtol=1e-5, atol=1e-6)


def test_expression_model_of_the_flat_layout_loads_and_predicts_the_same() -> None:
    from seq2func.models import load_model

    model = load_model(str(LEGACY / "expression_seq_observed.keras"))
    expected = np.load(LEGACY / "expression_seq_observed_expected.npz")
    inputs = {k.removeprefix("in_"): expected[k] for k in expected.files if k.startswith("in_")}
    out = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(np.asarray(out), expected["out"], rtol=1e-5, atol=1e-6)
