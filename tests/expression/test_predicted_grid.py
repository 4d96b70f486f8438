"""Predicted chromatin on a grid: each distinct window predicted once, same numbers as
predicting every gene's windows separately."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seq2func.expression.settings import ChromatinSettings, ExpressionWindow

WINDOW = ExpressionWindow(100, 50, chromatin_flank=400, chromatin_bin=200)
LENGTH = 120


def _genes() -> pd.DataFrame:
    # overlapping chromatin windows on chr1 (two genes 300 bp apart, one 37 bp off-grid),
    # one gene alone on chr2
    return pd.DataFrame({"gene_id": ["a", "b", "c", "d"], "chrom": ["chr1", "chr1", "chr2", "chr1"],
                         "tss": [1000, 1300, 1500, 1637], "strand": ["+", "-", "+", "+"]})


def test_grid_one_is_the_exact_per_tss_tiling() -> None:
    from seq2func.expression.features import bin_edges
    from seq2func.expression.predicted import chromatin_tiles

    starts, chroms = chromatin_tiles(_genes(), WINDOW, LENGTH)
    edges = bin_edges(_genes(), WINDOW)
    np.testing.assert_array_equal(starts, (edges[:, :-1] + edges[:, 1:]) // 2 - LENGTH // 2)
    assert chroms.tolist() == ["chr1", "chr1", "chr2", "chr1"]


@pytest.mark.parametrize("grid", [2, 50, 100, 200])
def test_grid_moves_every_bin_of_a_gene_together_by_at_most_half_the_grid(grid: int) -> None:
    from seq2func.expression.predicted import chromatin_tiles

    exact, _ = chromatin_tiles(_genes(), WINDOW, LENGTH)
    snapped, _ = chromatin_tiles(_genes(), WINDOW, LENGTH, grid=grid)
    centres = snapped + LENGTH // 2
    assert (centres % grid == 0).all()
    shift = snapped - exact
    assert (np.abs(shift) <= grid // 2).all()
    assert (shift == shift[:, :1]).all()  # grid divides the bin: the gene's bins move together


def test_grid_below_one_is_refused() -> None:
    from seq2func.expression.predicted import chromatin_tiles

    with pytest.raises(ValueError, match="grid must be >= 1"):
        chromatin_tiles(_genes(), WINDOW, LENGTH, grid=0)


def test_unique_windows_index_back_to_every_gene_window() -> None:
    from seq2func.expression.predicted import chromatin_tiles, unique_windows

    starts, chroms = chromatin_tiles(_genes(), WINDOW, LENGTH, grid=100)
    distinct, where = unique_windows(chroms, starts)
    assert sorted(distinct) == ["chr1", "chr2"]
    for chrom, (rows, index) in where.items():
        np.testing.assert_array_equal(distinct[chrom][index], starts[rows])
        assert (np.diff(distinct[chrom]) > 0).all()
    # genes a, b, d overlap: fewer distinct windows than windows
    assert distinct["chr1"].size < 3 * WINDOW.n_bins


def test_chromatin_grid_defaults_to_half_a_bin() -> None:
    s = ChromatinSettings.from_config({"bin_size": 500})
    assert s.predict_grid is None and s.grid == 250
    assert ChromatinSettings.from_config({"bin_size": 500, "predict_grid": 1}).grid == 1
    assert ChromatinSettings.from_config({"bin_size": 1, "flank": 10}).grid == 1


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("tensorflow")
    import keras

    from seq2func.models import BassetSpec, build_basset

    keras.utils.set_random_seed(3)
    m = build_basset(LENGTH, 2, BassetSpec(conv_filters=[4], conv_kernels=[5], pool_sizes=[4],
                                           dense_units=4))
    path = tmp_path_factory.mktemp("acc") / "acc.keras"
    m.save(path)
    return path


@pytest.mark.parametrize("grid", [1, 100])
def test_each_window_once_gives_the_numbers_of_every_gene_predicted_alone(
        model_path: Path, tmp_path: Path, grid: int) -> None:
    from conftest import random_genome
    from seq2func.core.sequence import one_hot
    from seq2func.expression.predicted import chromatin_tiles, predict_chromatin
    from seq2func.models import load_model, predict_both_strands

    genes = _genes()
    with random_genome(tmp_path, {"chr1": 3000, "chr2": 2500}, seed=4) as genome:
        pred, used = predict_chromatin([model_path], genome, genes, WINDOW, grid=grid)
        starts, _ = chromatin_tiles(genes, WINDOW, LENGTH, grid)
        model = load_model(str(model_path))
        for i, g in genes.iterrows():  # the reference: one gene at a time, no sharing
            x = genome.windows([g["chrom"]] * WINDOW.n_bins, starts[i], LENGTH)
            direct = predict_both_strands(model, one_hot(x))["labels"]
            if g["strand"] == "-":
                direct = direct[::-1]
            np.testing.assert_allclose(pred[i], direct, rtol=1e-5, atol=1e-6)
    assert used == ["labels"] and pred.shape == (4, WINDOW.n_bins, 2)
