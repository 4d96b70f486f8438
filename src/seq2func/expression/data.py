"""In-memory inputs of the expression models: one variant's arrays from the prepared files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seq2func.core.errors import InputError
from seq2func.core.io import load_npz
from seq2func.expression.features import match_chromatin_samples
from seq2func.expression.genes import gene_samples, read_gene_table, target_columns


@dataclass
class ExpressionArrays:
    """In-memory inputs of one study (rows = genes of ``genes.tsv``).

    Attributes
    ----------
    codes
        ``(n, L)`` uint8 oriented promoters.
    targets
        ``(n, samples)`` log1p(TPM).
    split
        ``(n,)`` ``train``/``valid``/``test``.
    samples
        Expression samples, in target column order.
    chromatin
        ``(n, bins, tracks)`` standardised chromatin input (None: ``seq_only``).
    extra
        How the chromatin input was made (``match``, ``tracks``, ``source``).
    """

    codes: np.ndarray
    targets: np.ndarray
    split: np.ndarray
    samples: list[str]
    chromatin: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def inputs(self, rows: np.ndarray, variant: str) -> Any:
        """Model inputs of ``rows``: one-hot sequences, with the chromatin for chromatin
        variants (a dict ``sequence``, ``chromatin``)."""
        from seq2func.core.sequence import one_hot

        x = one_hot(self.codes[rows])
        if variant == "seq_only":
            return x
        assert self.chromatin is not None
        return {"sequence": x, "chromatin": self.chromatin[rows].astype(np.float32)}


def standardise_chromatin(chromatin: np.ndarray, train_rows: np.ndarray) -> np.ndarray:
    """z-score each track with its mean and standard deviation over the bins of training genes,
    so observed log counts and predicted probabilities are on comparable scales."""
    flat = chromatin[train_rows].reshape(-1, chromatin.shape[-1]).astype(np.float64)
    mean, sd = flat.mean(axis=0), flat.std(axis=0)
    return ((chromatin - mean) / np.where(sd > 0, sd, 1.0)).astype(np.float32)


def load_arrays(genes_path: str | Path, features_path: str | Path, variant: str,
                predicted_path: str | Path | None = None, match: str = "auto"
                ) -> ExpressionArrays:
    """Inputs of one model variant.

    The chromatin input (observed or predicted) keeps the tracks chosen by ``match`` (see
    :func:`~seq2func.expression.features.match_chromatin_samples`) and is scaled per track
    (:func:`standardise_chromatin`).

    Raises
    ------
    InputError
        If a features file is damaged or does not match the gene table.
    ValueError
        If ``seq_predicted`` has no predicted chromatin.
    """
    genes = read_gene_table(genes_path)
    samples = gene_samples(genes)
    z = load_npz(features_path, ("codes", "tracks", "observed", "gene_id"))
    codes, tracks = z["codes"], [str(t) for t in z["tracks"]]
    chromatin = z["observed"] if variant == "seq_observed" else None
    if not np.array_equal(z["gene_id"].astype(str), genes["gene_id"].to_numpy().astype(str)):
        raise InputError(features_path, f"does not match the gene table {genes_path}",
                         fix="rerun expression-prepare (snakemake: expression_prepare)")
    if variant == "seq_predicted":
        if predicted_path is None:
            raise ValueError("seq_predicted needs the predicted chromatin")
        z = load_npz(predicted_path, ("predicted", "tracks"))
        chromatin, tracks = z["predicted"], [str(t) for t in z["tracks"]]
    split = genes["split"].to_numpy()
    extra: dict[str, Any] = {}
    if chromatin is not None:
        idx, mode = match_chromatin_samples(samples, tracks, match)
        chromatin = standardise_chromatin(chromatin[:, :, idx], np.flatnonzero(split == "train"))
        extra = {"match": mode, "tracks": [tracks[i] for i in idx],
                 "source": "observed" if variant == "seq_observed" else "predicted"}
    return ExpressionArrays(codes=codes, targets=genes[target_columns(genes)].to_numpy(),
                            split=split, samples=samples, chromatin=chromatin, extra=extra)
