"""Variant effect scores from the predictions of both alleles (ChromBPNet's variant scorer).

All functions take per-variant, per-task arrays of the reference and alternate allele's
strand-averaged predictions and are vectorised over variants and tasks. Signs: every signed
score is **alternate relative to reference**, positive when the ALT allele is predicted to be
more accessible than the REF allele.

* ``log2fc``: ``log2(counts_alt / counts_ref)`` of the predicted total counts;
* ``jsd``: Jensen-Shannon **distance** (base 2, in [0, 1]: the square root of the divergence,
  as ``scipy.spatial.distance.jensenshannon`` that ChromBPNet's scorer uses) between the
  predicted profile distributions of the two alleles; for indels the bins of the extra bases
  are removed and the longer allele's right flank shifted so that the profiles align
  (:func:`aligned_profile_index`), as the scorer's ``adjust_indel_jsd``;
* ``aaq``: active allele quantile, the fraction of reference windows (the task's peaks) whose
  predicted counts are below the stronger allele's, floored at ``1 / n_reference``
  (:func:`active_allele_quantile`);
* ``ies`` = ``|log2fc| x jsd`` (integrative effect size, unsigned);
* ``ips`` = ``log2fc x jsd x aaq`` (integrative prioritisation score, signed);
* ``delta_p``: alternate minus reference predicted peak probability (classifier models).
"""

from __future__ import annotations

import math

import numpy as np

from seq2func.core.metrics import profile_jsd

#: score families of count/profile models and of classifiers; signed ones are tested on |score|
COUNT_SCORES = ("log2fc", "jsd", "aaq", "ies", "ips")
CLASSIFIER_SCORES = ("delta_p",)
SIGNED_SCORES = frozenset({"log2fc", "ips", "delta_p"})


def log2_fold_change(ref_log_counts: np.ndarray, alt_log_counts: np.ndarray) -> np.ndarray:
    """``log2(alt / ref)`` of predicted counts from natural-log predicted counts.

    Positive: the alternate allele is predicted to have more reads (more accessible).
    """
    return (np.asarray(alt_log_counts, np.float64) - np.asarray(ref_log_counts, np.float64)
            ) / math.log(2)


def aligned_profile_index(n_bins: int, centre_bin: int, ref_len: np.ndarray,
                          alt_len: np.ndarray, bin_size: int = 1
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bins of the reference and alternate profiles that cover the same genome positions.

    Both alleles start at ``centre_bin``; the windows are the same left of it and the right
    flank of the longer allele is shifted by ``d = |len(alt) - len(ref)|`` bases. Aligned
    position ``k`` of the shorter allele is bin ``k``; of the longer allele it is ``k`` before
    the end of the shared allele prefix and ``k + d`` after (its ``d`` extra bins are skipped);
    the last ``d`` positions have no partner and are masked. With ``bin_size > 1`` the shift is
    rounded to whole bins.

    Parameters
    ----------
    n_bins
        Profile bins ``P``.
    centre_bin
        Bin of the first allele base.
    ref_len, alt_len
        ``(n,)`` allele lengths in bases.
    bin_size
        Bases per profile bin.

    Returns
    -------
    tuple
        ``(ref_index, alt_index, mask)``, each ``(n, P)``; ``mask`` is False where a position
        has no partner.
    """
    lr = np.asarray(ref_len, np.int64)
    la = np.asarray(alt_len, np.int64)
    if lr.shape != la.shape:
        raise ValueError("aligned_profile_index: ref_len and alt_len differ in shape")
    if bin_size < 1 or n_bins < 1:
        raise ValueError("aligned_profile_index: n_bins and bin_size must be positive")
    d = np.rint(np.abs(la - lr) / bin_size).astype(np.int64)[:, None]
    shared = centre_bin + np.rint(np.minimum(la, lr) / bin_size).astype(np.int64)[:, None]
    k = np.arange(n_bins)[None, :]
    shifted = np.minimum(k + d * (k >= shared), n_bins - 1)
    identity = np.broadcast_to(k, (lr.size, n_bins))
    longer_alt = (la > lr)[:, None]
    ref_index = np.where(longer_alt, identity, shifted)
    alt_index = np.where(longer_alt, shifted, identity)
    mask = k < n_bins - d
    return ref_index, alt_index, mask


def allele_jsd(ref_profile: np.ndarray, alt_profile: np.ndarray, ref_len: np.ndarray,
               alt_len: np.ndarray, centre_bin: int, bin_size: int = 1) -> np.ndarray:
    """Jensen-Shannon distance between the alleles' predicted profiles, per variant and task.

    Parameters
    ----------
    ref_profile, alt_profile
        ``(n, P, T)`` predicted profile probabilities (or any non-negative profile).
    ref_len, alt_len
        ``(n,)`` allele lengths; indels are aligned with :func:`aligned_profile_index`
        (the unpaired bins are dropped and both profiles renormalised).
    centre_bin, bin_size
        Bin of the first allele base and bases per bin.

    Returns
    -------
    numpy.ndarray
        ``(n, T)`` distances in [0, 1] (base 2).
    """
    pr = np.asarray(ref_profile, np.float64)
    pa = np.asarray(alt_profile, np.float64)
    if pr.shape != pa.shape or pr.ndim != 3:
        raise ValueError(f"allele_jsd: profiles must both be (n, P, T), got {pr.shape} and "
                         f"{pa.shape}")
    ri, ai, mask = aligned_profile_index(pr.shape[1], centre_bin, ref_len, alt_len, bin_size)
    rows = np.arange(pr.shape[0])[:, None]
    m = mask[:, :, None]
    ref_al = np.where(m, pr[rows, ri], 0.0)
    alt_al = np.where(m, pa[rows, ai], 0.0)
    # profile_jsd works on the last axis: bring bins last, (n, T, P)
    return profile_jsd(ref_al.transpose(0, 2, 1), alt_al.transpose(0, 2, 1))


def quantiles_among(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Fraction of ``reference`` strictly below each value, floored at ``1 / len(reference)``.

    This is ChromBPNet's scorer's allele quantile (``max(mean(ref < x), 1 / n)``).

    Raises
    ------
    ValueError
        If ``reference`` has no finite value.
    """
    ref = np.sort(np.asarray(reference, np.float64)[np.isfinite(reference)])
    if ref.size == 0:
        raise ValueError("quantiles_among: the reference set is empty")
    v = np.asarray(values, np.float64)
    q = np.searchsorted(ref, v, side="left") / ref.size
    return np.where(np.isfinite(v), np.maximum(q, 1.0 / ref.size), np.nan)


def active_allele_quantile(ref_log_counts: np.ndarray, alt_log_counts: np.ndarray,
                           reference: list[np.ndarray]) -> np.ndarray:
    """Quantile of the stronger allele's predicted counts among each task's reference windows.

    Parameters
    ----------
    ref_log_counts, alt_log_counts
        ``(n, T)`` predicted log counts of both alleles.
    reference
        Per task, the predicted log counts of that task's reference windows (its peaks).

    Returns
    -------
    numpy.ndarray
        ``(n, T)`` values in ``[1 / n_reference, 1]``: near 1 when either allele is predicted as
        accessible as the strongest peaks, small when both alleles are inactive.
    """
    cr = np.asarray(ref_log_counts, np.float64)
    ca = np.asarray(alt_log_counts, np.float64)
    if cr.shape != ca.shape or cr.ndim != 2 or cr.shape[1] != len(reference):
        raise ValueError(f"active_allele_quantile: shapes {cr.shape}, {ca.shape} and "
                         f"{len(reference)} reference sets do not match")
    out = np.empty_like(cr)
    for t, ref in enumerate(reference):
        out[:, t] = quantiles_among(np.fmax(cr[:, t], ca[:, t]), ref)
    return out


def count_scores(ref_log_counts: np.ndarray, alt_log_counts: np.ndarray, jsd: np.ndarray,
                 reference: list[np.ndarray]) -> dict[str, np.ndarray]:
    """All count/profile scores (:data:`COUNT_SCORES`), each ``(n, T)``.

    ``jsd`` is :func:`allele_jsd` of the same variants; ``reference`` as for
    :func:`active_allele_quantile`.
    """
    lfc = log2_fold_change(ref_log_counts, alt_log_counts)
    aaq = active_allele_quantile(ref_log_counts, alt_log_counts, reference)
    jsd = np.asarray(jsd, np.float64)
    if jsd.shape != lfc.shape:
        raise ValueError(f"count_scores: jsd {jsd.shape} and counts {lfc.shape} differ")
    return {"log2fc": lfc, "jsd": jsd, "aaq": aaq, "ies": np.abs(lfc) * jsd,
            "ips": lfc * jsd * aaq}


def null_statistic(family: str, values: np.ndarray) -> np.ndarray:
    """What the null compares: ``|score|`` for signed scores, the score itself otherwise."""
    v = np.asarray(values, np.float64)
    return np.abs(v) if family in SIGNED_SCORES else v
