"""Cross-fitted predicted chromatin: each gene predicted by the fold that held it out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seq2func.core.errors import InputError, Seq2FuncError
from seq2func.expression.settings import ExpressionWindow

FOLDS = {"f0": ["chr1"], "f1": ["chr2", "chr3"]}
WINDOW = ExpressionWindow(100, 50, chromatin_flank=200, chromatin_bin=100)


def _genes() -> pd.DataFrame:
    return pd.DataFrame({"gene_id": ["a", "b", "c", "d"], "chrom": ["chr2", "chr1", "chr3", "chr1"],
                         "tss": [1000, 1500, 2000, 2500], "strand": ["+", "-", "+", "+"]})


def test_fold_of_genes_is_the_fold_holding_the_chromosome_out() -> None:
    from seq2func.expression.predicted import fold_of_genes

    assert fold_of_genes(_genes(), FOLDS).tolist() == ["f1", "f0", "f1", "f0"]


def test_fold_of_genes_rejects_uncovered_or_shared_chromosomes() -> None:
    from seq2func.expression.predicted import fold_of_genes

    with pytest.raises(InputError, match="no fold holds out chr3"):
        fold_of_genes(_genes(), {"f0": ["chr1"], "f1": ["chr2"]})
    with pytest.raises(InputError, match="test set of folds f0 and f1"):
        fold_of_genes(_genes(), {"f0": ["chr1", "chr2"], "f1": ["chr2", "chr3"]})


class _Genome:
    """A deterministic random sequence per chromosome."""

    def codes(self, chrom):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(int(str(chrom).removeprefix("chr")))
        return rng.integers(0, 4, 4000).astype(np.uint8)

    def windows(self, chroms, starts, length, strands=None):  # type: ignore[no-untyped-def]
        from seq2func.core.sequence import extract_windows

        return np.concatenate([extract_windows(self.codes(c), [s], length)
                               for c, s in zip(chroms, starts, strict=True)])


@pytest.fixture(scope="module")
def fold_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    pytest.importorskip("tensorflow")
    import keras

    from seq2func.models import BassetSpec, build_basset

    out = tmp_path_factory.mktemp("folds")
    models = {}
    for i, fold in enumerate(FOLDS):
        keras.utils.set_random_seed(i)
        m = build_basset(60, 2, BassetSpec(conv_filters=[4], conv_kernels=[5], pool_sizes=[4],
                                           dense_units=4))
        m.save(out / f"{fold}.keras")
        models[fold] = [out / f"{fold}.keras"]
    return models


def test_cross_fitted_rows_come_from_their_folds_models(fold_models: dict[str, list[Path]]
                                                         ) -> None:
    from seq2func.expression.predicted import predict_chromatin, predict_chromatin_cross_fitted

    genes, genome = _genes(), _Genome()
    pred, used = predict_chromatin_cross_fitted(fold_models, FOLDS, genome, genes, WINDOW)
    assert used == ["labels"] and pred.shape == (4, WINDOW.n_bins, 2)
    for fold, rows in (("f0", [1, 3]), ("f1", [0, 2])):
        direct, _ = predict_chromatin(fold_models[fold], genome,
                                      genes.iloc[rows].reset_index(drop=True), WINDOW)
        np.testing.assert_allclose(pred[rows], direct, rtol=1e-5, atol=1e-6)
    # the two folds' models differ, so the rows are not all from one model
    other, _ = predict_chromatin(fold_models["f1"], genome, genes, WINDOW)
    assert not np.allclose(other[[1, 3]], pred[[1, 3]])
    with pytest.raises(InputError, match="no model of fold f1"):
        predict_chromatin_cross_fitted({"f0": fold_models["f0"]}, FOLDS, genome, genes, WINDOW)


def test_fold_test_chromosomes_from_dataset_json(tmp_path: Path) -> None:
    from seq2func.expression.run import _fold_test_chromosomes

    ds = tmp_path / "dataset.json"
    ds.write_text(json.dumps({"folds": [{"name": "fold_0", "split": {"test": ["chr1"]}},
                                        {"name": "fold_1", "split": {"test": ["chr2", "chr3"]}}]}))
    assert _fold_test_chromosomes(ds) == {"fold_0": ["chr1"], "fold_1": ["chr2", "chr3"]}
    ds.write_text(json.dumps({"folds": []}))
    with pytest.raises(InputError, match="lists no folds"):
        _fold_test_chromosomes(ds)
    with pytest.raises(Seq2FuncError, match="needs --dataset"):
        _fold_test_chromosomes(None)


def test_cli_needs_models_or_fold_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    from seq2func.cli import main

    code = main(["expression-predicted-chromatin", "--genes", str(tmp_path / "genes.tsv"),
                 "--genome", str(tmp_path / "g.fa"), "--tasks", "a",
                 "--out", str(tmp_path / "p.npz")])
    assert code != 0
    assert "give --models or --fold-models" in capsys.readouterr().err
    code = main(["expression-predicted-chromatin", "--genes", str(tmp_path / "genes.tsv"),
                 "--genome", str(tmp_path / "g.fa"), "--tasks", "a", "--fold-models", "bad",
                 "--out", str(tmp_path / "p.npz")])
    assert code != 0 and "FOLD=PATH" in capsys.readouterr().err
