"""Predicted chromatin: accessibility from trained accessibility models around each TSS.

:func:`predict_chromatin` uses one model (its seeds) for every gene;
:func:`predict_chromatin_cross_fitted` predicts each gene with the k-fold models that held its
chromosome out, so training and test genes get predictions of the same (out-of-sample) kind.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.expression.features import bin_edges
from seq2func.expression.settings import ExpressionWindow

log = logging.getLogger(__name__)

#: windows predicted per call of the model
CHUNK = 8192


def chromatin_tiles(genes: pd.DataFrame, window: ExpressionWindow, input_length: int,
                    grid: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Starts ``(n, n_bins)`` of accessibility-model input windows centred on each chromatin
    bin (ascending), and the chromosome of each row.

    With ``grid > 1`` every bin centre moves to the nearest multiple of ``grid`` (ties to
    the lower one), so that genes whose windows overlap share model inputs: with ``grid``
    dividing ``chromatin_bin`` all bins of a gene move together, by at most ``grid / 2``
    bp. ``grid = 1`` keeps the exact per-TSS tiling.
    """
    if grid < 1:
        raise ValueError(f"grid must be >= 1 (got {grid})")
    edges = bin_edges(genes, window)
    centres = (edges[:, :-1] + edges[:, 1:]) // 2
    if grid > 1:
        centres = ((centres + (grid - 1) // 2) // grid) * grid
    return centres - input_length // 2, genes["chrom"].to_numpy()


def unique_windows(chroms: np.ndarray, starts: np.ndarray
                   ) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The distinct window starts of each chromosome, and where each row's windows are.

    Parameters
    ----------
    chroms
        ``(n,)`` chromosome of each row.
    starts
        ``(n, n_bins)`` window starts.

    Returns
    -------
    (dict, dict)
        Chromosome -> its sorted distinct starts; chromosome -> (its rows, ``(rows, n_bins)``
        index of each window in the distinct starts).
    """
    distinct: dict[str, np.ndarray] = {}
    where: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for chrom in dict.fromkeys(chroms.tolist()):
        rows = np.flatnonzero(chroms == chrom)
        values, inverse = np.unique(starts[rows], return_inverse=True)
        distinct[str(chrom)] = values
        where[str(chrom)] = (rows, inverse.reshape(rows.size, -1))
    return distinct, where


def predict_windows_once(model: Any, genome: Any, distinct: Mapping[str, np.ndarray],
                         length: int, key: str, batch_size: int = 512,
                         progress: bool = False) -> dict[str, np.ndarray]:
    """Strand-averaged ``key`` output of ``model`` for each distinct window, each predicted
    once, in chunks of :data:`CHUNK` windows that run across chromosome boundaries (so only
    the last model call has a short batch; each chromosome is read once).

    Returns
    -------
    dict
        Chromosome -> ``(n_windows, n_tasks)`` float32, rows in the order of ``distinct``.
    """
    from tqdm import tqdm

    from seq2func.core.sequence import one_hot
    from seq2func.models import predict_both_strands

    names = list(distinct)
    counts = [distinct[c].size for c in names]
    chroms = np.repeat(np.asarray(names, dtype=object), counts)
    starts = (np.concatenate([distinct[c] for c in names]) if names
              else np.zeros(0, dtype=np.int64))
    parts = []
    with tqdm(total=starts.size, unit="window", desc="predicted chromatin",
              disable=not progress) as bar:
        for a in range(0, starts.size, CHUNK):
            x = one_hot(genome.windows(chroms[a : a + CHUNK], starts[a : a + CHUNK], length))
            parts.append(np.asarray(predict_both_strands(model, x, batch_size)[key],
                                    dtype=np.float32))
            bar.update(x.shape[0])
    if not parts:
        return {}
    pred = np.concatenate(parts)
    edges = np.cumsum([0, *counts])
    return {c: pred[edges[i] : edges[i + 1]] for i, c in enumerate(names)}


def predict_chromatin(model_paths: Sequence[str | Path], genome: Any, genes: pd.DataFrame,
                      window: ExpressionWindow, batch_size: int = 512, grid: int = 1,
                      progress: bool = False) -> tuple[np.ndarray, list[str]]:
    """Accessibility predicted by trained models on windows tiling each gene's chromatin window.

    For every chromatin bin, the model's input window is centred on the bin (on the nearest
    multiple of ``grid``, :func:`chromatin_tiles`); predictions are averaged over both
    strands (:func:`seq2func.models.predict_both_strands`) and over the models given (an
    ensemble of seeds, :func:`seq2func.models.load_ensemble`). A window shared by several
    genes (or bins) is predicted once (:func:`unique_windows`): the numbers are those of
    predicting every gene's windows separately. Basset-style models give peak probabilities
    per task, BPNet-style models ``log_counts``.

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
    grid
        Window centres on multiples of this (bp; 1: centred on each bin exactly).
    progress
        Show a progress bar.

    Returns
    -------
    (numpy.ndarray, list of str)
        ``(n_genes, n_bins, n_tasks)`` float32, bins 5'->3' in each gene's orientation, and the
        output used (``labels`` or ``log_counts``).
    """
    from seq2func.models import load_ensemble

    model = load_ensemble(model_paths)
    key = "labels" if "labels" in model.output else "log_counts"
    length = int(model.inputs[0].shape[1])
    starts, chroms = chromatin_tiles(genes, window, length, grid)
    distinct, where = unique_windows(chroms, starts)
    log.info("predicted chromatin: %d gene windows, %d distinct (grid %d bp)", starts.size,
             sum(v.size for v in distinct.values()), grid)
    pred = predict_windows_once(model, genome, distinct, length, key, batch_size, progress)
    n_tasks = next(iter(pred.values())).shape[1] if pred else 0
    out = np.zeros((*starts.shape, n_tasks), dtype=np.float32)
    for chrom, (rows, index) in where.items():
        out[rows] = pred[chrom][index]
    minus = genes["strand"].to_numpy() == "-"
    out[minus] = out[minus, ::-1, :]
    return out, [key]


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
                                   batch_size: int = 512, grid: int = 1,
                                   progress: bool = False) -> tuple[np.ndarray, list[str]]:
    """Cross-fitted predicted chromatin: each gene's bins predicted by the models of the fold
    that holds its chromosome out (:func:`fold_of_genes`), as :func:`predict_chromatin`.

    Parameters
    ----------
    fold_models
        Fold name -> its accessibility ``model.keras`` files (the fold's seeds).
    fold_test
        Fold name -> its test chromosomes.
    genome, genes, window, batch_size, grid, progress
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
                                       batch_size, grid, progress)
        if out is None:
            out = np.zeros((len(genes), *part.shape[1:]), dtype=np.float32)
        out[rows] = part
    assert out is not None
    return out, used
