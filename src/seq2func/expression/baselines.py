"""scikit-learn baselines of the expression models, fitted on the training genes.

``kmer_ridge``: ridge regression on the promoter's k-mer frequencies; ``chromatin_ridge``:
ridge regression on the observed chromatin bins only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.io import load_npz
from seq2func.expression.features import match_chromatin_samples
from seq2func.expression.genes import gene_samples, target_columns

BASELINE_NAMES = ("kmer_ridge", "chromatin_ridge")
#: ridge penalties tried (per sample, by leave-one-out cross-validation)
ALPHAS = tuple(10.0 ** np.arange(-2, 5))


def kmer_features(codes: np.ndarray, k: int) -> np.ndarray:
    """k-mer frequencies of oriented promoters (strand-specific: not reverse-complement
    collapsed, since the promoter has a direction), ``(n, 4**k)`` float32."""
    from seq2func.evaluate.baselines import kmer_counts

    x = kmer_counts(codes, k, canonical=False)
    return np.asarray(x.todense(), dtype=np.float32) / max(1, codes.shape[1] - k + 1)


def fit_ridge(x: np.ndarray, y: np.ndarray, train: np.ndarray, alphas: Sequence[float] = ALPHAS
              ) -> tuple[np.ndarray, list[float]]:
    """Standardised ridge regression, penalty per sample by efficient leave-one-out CV on the
    training rows.

    Returns
    -------
    (numpy.ndarray, list of float)
        Predictions for every row (shaped like ``y``) and the chosen penalties.
    """
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), RidgeCV(alphas=list(alphas), alpha_per_target=True))
    model.fit(x[train], y[train])
    pred = np.asarray(model.predict(x), dtype=np.float64).reshape(y.shape)
    alpha = np.atleast_1d(model[-1].alpha_).astype(float).tolist()
    return pred, alpha


def baseline_predictions(genes: pd.DataFrame, features_path: str | Path, k: int = 5,
                         match: str = "auto") -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Predictions of ``kmer_ridge`` and ``chromatin_ridge`` for every gene (fitted on the
    training genes), and what was fitted (features, penalties, track matching)."""
    samples = gene_samples(genes)
    y = genes[target_columns(genes)].to_numpy(dtype=np.float64)
    train = genes["split"].to_numpy() == "train"
    z = load_npz(features_path, ("codes", "observed", "tracks"))
    codes, observed, tracks = z["codes"], z["observed"], [str(t) for t in z["tracks"]]
    idx, mode = match_chromatin_samples(samples, tracks, match)
    preds, info = {}, {}
    preds["kmer_ridge"], alpha = fit_ridge(kmer_features(codes, k), y, train)
    info["kmer_ridge"] = {"k": k, "features": 4**k, "alpha": alpha}
    chrom = observed[:, :, idx].reshape(len(genes), -1)
    preds["chromatin_ridge"], alpha = fit_ridge(chrom, y, train)
    info["chromatin_ridge"] = {"features": int(chrom.shape[1]), "alpha": alpha, "match": mode}
    return preds, info
