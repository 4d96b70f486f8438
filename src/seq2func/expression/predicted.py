"""Predicted chromatin: accessibility from trained accessibility models around each TSS.

:func:`predict_chromatin` uses one model (its seeds) for every gene;
:func:`predict_chromatin_cross_fitted` predicts each gene with the k-fold models that held its
chromosome out, so training and test genes get predictions of the same (out-of-sample) kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.expression.features import bin_edges
from seq2func.expression.settings import ExpressionWindow

#: windows predicted per call of the model
CHUNK = 8192


def chromatin_tiles(genes: pd.DataFrame, window: ExpressionWindow, input_length: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Starts ``(n, n_bins)`` of accessibility-model input windows centred on each chromatin
    bin, and the chromosome of each row."""
    edges = bin_edges(genes, window)
    centres = (edges[:, :-1] + edges[:, 1:]) // 2
    return centres - input_length // 2, genes["chrom"].to_numpy()


def predict_chromatin(model_paths: Sequence[str | Path], genome: Any, genes: pd.DataFrame,
                      window: ExpressionWindow, batch_size: int = 512
                      ) -> tuple[np.ndarray, list[str]]:
    """Accessibility predicted by trained models on windows tiling each gene's chromatin window.

    For every chromatin bin, the model's input window is centred on the bin; predictions are
    averaged over both strands (:func:`seq2func.models.predict_both_strands`) and over the
    models given (an ensemble of seeds, :func:`seq2func.models.load_ensemble`). Basset-style
    models give peak probabilities per task, BPNet-style models ``log_counts``.

    Parameters
    ----------
    model_paths
        Accessibility ``model.keras`` files (one model's seeds).
    genome
        A :class:`seq2func.core.sequence.Genome`.
    genes
        The gene table.
    window
        The input geometry (its chromatin bins).
    batch_size
        Examples per prediction batch.

    Returns
    -------
    (numpy.ndarray, list of str)
        ``(n_genes, n_bins, n_tasks)`` float32, bins 5'->3' in each gene's orientation, and the
        output used (``labels`` or ``log_counts``).
    """
    from seq2func.core.sequence import one_hot
    from seq2func.models import load_ensemble, predict_both_strands

    model = load_ensemble(model_paths)
    key = "labels" if "labels" in model.output else "log_counts"
    length = int(model.inputs[0].shape[1])
    starts, chroms = chromatin_tiles(genes, window, length)
    n, n_bins = starts.shape
    codes = genome.windows(np.repeat(chroms, n_bins), starts.ravel(), length)
    parts = []
    for a in range(0, codes.shape[0], CHUNK):
        pred = predict_both_strands(model, one_hot(codes[a : a + CHUNK]), batch_size)
        parts.append(np.asarray(pred[key], dtype=np.float32))
    out = np.concatenate(parts).reshape(n, n_bins, -1)
    minus = genes["strand"].to_numpy() == "-"
    out[minus] = out[minus, ::-1, :]
    return out.astype(np.float32), [key]


def fold_of_genes(genes: pd.DataFrame, fold_test: Mapping[str, Sequence[str]]) -> np.ndarray:
    """The fold whose test chromosomes hold each gene (cross-fitting: the fold's models never
    trained on the gene's chromosome).

    Parameters
    ----------
    genes
        The gene table (``chrom``).
    fold_test
        Fold name -> its test chromosomes (``dataset.json`` ``folds``).

    Returns
    -------
    numpy.ndarray
        ``(n_genes,)`` fold names (object).

    Raises
    ------
    seq2func.core.errors.InputError
        If a gene's chromosome is in no fold's test set or in several.
    """
    owner: dict[str, str] = {}
    for fold, chroms in fold_test.items():
        for c in chroms:
            if c in owner:
                raise InputError("dataset.json", f"chromosome {c} is in the test set of folds "
                                 f"{owner[c]} and {fold}",
                                 fix="cross-fitting needs folds with disjoint test chromosomes")
            owner[c] = fold
    chroms = genes["chrom"].astype(str).to_numpy()
    missing = sorted(set(chroms) - set(owner))
    if missing:
        raise InputError("dataset.json", f"no fold holds out {', '.join(missing)} (genes there "
                         "would get in-sample predictions)",
                         fix="use automatic folds (split.folds: k), whose test sets cover every "
                             "chromosome, or drop expression.chromatin.predicted_model.cross_fit")
    return np.asarray([owner[c] for c in chroms], dtype=object)


def predict_chromatin_cross_fitted(fold_models: Mapping[str, Sequence[str | Path]],
                                   fold_test: Mapping[str, Sequence[str]], genome: Any,
                                   genes: pd.DataFrame, window: ExpressionWindow,
                                   batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
    """Cross-fitted predicted chromatin: each gene's bins predicted by the models of the fold
    that holds its chromosome out (:func:`fold_of_genes`), as :func:`predict_chromatin`.

    Parameters
    ----------
    fold_models
        Fold name -> its accessibility ``model.keras`` files (the fold's seeds).
    fold_test
        Fold name -> its test chromosomes.
    genome, genes, window, batch_size
        As :func:`predict_chromatin`.

    Returns
    -------
    (numpy.ndarray, list of str)
        As :func:`predict_chromatin`.

    Raises
    ------
    seq2func.core.errors.InputError
        If a gene's fold has no models, or as :func:`fold_of_genes`.
    """
    folds = fold_of_genes(genes, fold_test)
    out: np.ndarray | None = None
    used: list[str] = []
    for fold in dict.fromkeys(folds.tolist()):
        if not fold_models.get(fold):
            raise InputError("--fold-models", f"no model of fold {fold}, which holds out "
                             f"{', '.join(fold_test[fold])}",
                             fix="give FOLD=model.keras for every fold of the dataset")
        rows = np.flatnonzero(folds == fold)
        part, used = predict_chromatin(fold_models[fold], genome,
                                       genes.iloc[rows].reset_index(drop=True), window,
                                       batch_size)
        if out is None:
            out = np.zeros((len(genes), *part.shape[1:]), dtype=np.float32)
        out[rows] = part
    assert out is not None
    return out, used
