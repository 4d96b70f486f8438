"""Predicted chromatin: accessibility from trained accessibility models around each TSS."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
