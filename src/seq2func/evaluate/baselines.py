"""Baselines trained on the same split as the deep models (scikit-learn).

* ``kmer`` - gapless k-mer counts (reverse-complement collapsed) with L2-regularised logistic
  regression per task for peak labels and ridge regression for log counts: the classic
  "gkm/k-mer SVM" class of baseline a deep model must beat;
* ``gc`` - GC content only (fraction and its square): how much is explained by composition alone;
* ``kmer_shuffled`` - the k-mer model fitted on labels permuted within the training set: a control
  that must score at chance (auROC ~0.5); anything above reveals leakage.

Features are computed in numpy from uint8 codes (no per-sequence Python loop over bases).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from seq2func.core.sequence import N_CODE, gc_fraction

BASELINES = ("kmer", "gc", "kmer_shuffled")


def _canonical_index(k: int) -> np.ndarray:
    """Map every k-mer index to the index of its canonical (min of itself and RC) form,
    renumbered 0..n_canonical-1."""
    idx = np.arange(4**k)
    digits = (idx[:, None] // 4 ** np.arange(k - 1, -1, -1)) % 4  # most significant first
    rc_digits = 3 - digits[:, ::-1]
    rc = (rc_digits * 4 ** np.arange(k - 1, -1, -1)).sum(axis=1)
    canon = np.minimum(idx, rc)
    _, renumbered = np.unique(canon, return_inverse=True)
    return renumbered


def kmer_names(k: int) -> list[str]:
    """Names of the canonical k-mer features, in column order."""
    canon = _canonical_index(k)
    names: dict[int, str] = {}
    for i in range(4**k):
        c = int(canon[i])
        if c not in names:
            names[c] = "".join("ACGT"[(i // 4 ** (k - 1 - j)) % 4] for j in range(k))
    return [names[c] for c in range(len(names))]


def kmer_counts(codes: np.ndarray, k: int = 5, canonical: bool = True) -> sparse.csr_matrix:
    """Counts of every k-mer in each sequence, ``(n, n_features)`` sparse.

    Windows containing N are skipped. With ``canonical``, a k-mer and its reverse complement
    share one feature (strand-symmetric, as the sequences can be read on either strand).
    """
    codes = np.atleast_2d(np.asarray(codes))
    n, length = codes.shape
    if length < k:
        raise ValueError(f"sequences of length {length} are shorter than k={k}")
    win = np.lib.stride_tricks.sliding_window_view(codes, k, axis=1)  # (n, L-k+1, k)
    valid = (win < N_CODE).all(axis=2)
    idx = (win.astype(np.int64) * (4 ** np.arange(k - 1, -1, -1))).sum(axis=2)
    n_feat = 4**k
    if canonical:
        mapping = _canonical_index(k)
        idx = mapping[idx]
        n_feat = int(mapping.max()) + 1
    rows = np.broadcast_to(np.arange(n)[:, None], idx.shape)[valid]
    cols = idx[valid]
    data = np.ones(rows.size, dtype=np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n_feat))


def gc_features(codes: np.ndarray) -> np.ndarray:
    """GC fraction and its square, ``(n, 2)`` (NaN-free: all-N sequences get 0.5)."""
    gc = np.nan_to_num(gc_fraction(np.atleast_2d(codes)), nan=0.5)
    return np.stack([gc, gc**2], axis=1)


@dataclass
class BaselineModel:
    """Fitted per-task classifiers and count regressors of one baseline."""

    name: str
    k: int = 5
    classifiers: list[Any] = field(default_factory=list)
    regressors: list[Any] = field(default_factory=list)

    def features(self, codes: np.ndarray) -> Any:
        if self.name == "gc":
            return gc_features(codes)
        x = kmer_counts(codes, self.k)
        # scale counts to frequencies: comparable across lengths, well-conditioned for lbfgs
        return x.multiply(1.0 / max(1, codes.shape[1] - self.k + 1)).tocsr()

    def predict(self, codes: np.ndarray) -> dict[str, np.ndarray]:
        """``labels`` probabilities and ``log_counts`` predictions, ``(n, n_tasks)`` each."""
        x = self.features(codes)
        out: dict[str, np.ndarray] = {}
        if self.classifiers:
            out["labels"] = np.stack([c.predict_proba(x)[:, 1] for c in self.classifiers], axis=1)
        if self.regressors:
            out["log_counts"] = np.stack([r.predict(x) for r in self.regressors], axis=1)
        return out


def fit_baseline(
    name: str,
    codes: np.ndarray,
    labels: np.ndarray | None,
    log_counts: np.ndarray | None = None,
    *,
    k: int = 5,
    c: float = 1.0,
    alpha: float = 1.0,
    seed: int = 0,
) -> BaselineModel:
    """Fit one baseline on training sequences.

    Parameters
    ----------
    name
        ``kmer``, ``gc`` or ``kmer_shuffled``.
    codes
        ``(n, L)`` uint8 codes of the training regions.
    labels
        ``(n, T)`` binary labels (or None to skip classification).
    log_counts
        ``(n, T)`` log-count targets (or None to skip regression).
    k, c, alpha
        k-mer length, inverse L2 strength of the logistic regression, ridge penalty.
    seed
        Seed of the label permutation (``kmer_shuffled``) and solvers.
    """
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; use one of {BASELINES}")
    model = BaselineModel(name="gc" if name == "gc" else "kmer", k=k)
    x = model.features(codes)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(codes.shape[0]) if name == "kmer_shuffled" else None
    scaler = StandardScaler if name == "gc" else MaxAbsScaler
    if labels is not None:
        y = np.asarray(labels)
        for t in range(y.shape[1]):
            yt = y[:, t] if perm is None else y[perm, t]
            clf = make_pipeline(scaler(), LogisticRegression(C=c, max_iter=2000,
                                                             random_state=seed))
            if np.unique(yt).size < 2:
                raise ValueError(f"task {t} has a single class in the training set")
            clf.fit(x, yt)
            model.classifiers.append(clf)
    if log_counts is not None:
        yc = np.asarray(log_counts)
        for t in range(yc.shape[1]):
            yt = yc[:, t] if perm is None else yc[perm, t]
            reg = make_pipeline(scaler(), Ridge(alpha=alpha))
            reg.fit(x, yt)
            model.regressors.append(reg)
    model.name = name
    return model


def top_kmers(model: BaselineModel, task: int, n: int = 10) -> list[tuple[str, float]]:
    """The ``n`` k-mers with the largest positive logistic weights for ``task``."""
    if model.name == "gc" or not model.classifiers:
        return []
    clf = model.classifiers[task][-1]
    scale = model.classifiers[task][0].scale_
    w = clf.coef_[0] / np.where(scale > 0, scale, 1)
    names = kmer_names(model.k)
    order = np.argsort(-w)[:n]
    return [(names[i], float(w[i])) for i in order]
