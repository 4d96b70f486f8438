"""Accessibility signal of the demo: expected cut profiles, sampled counts, peak calls, bigWig.

Per chromosome and sample, the expected number of cuts per base is

``lambda(x) = background(x) + sum_CRE total_CRE * shape_CRE(x)``

where ``background`` depends on local GC, soft-masking (mappability) and gaps, ``shape`` is a
DNase-like (narrow) or ATAC-like (wider, Tn5 sequence bias) distribution around the CRE centre with
footprints over bound motifs, and ``total`` grows with the CRE's accessibility logit. Observed
counts are Poisson draws. Peaks are then called from the counts with a MACS-like local-lambda
Poisson test, so the peak set has realistic false positives and negatives.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import pdtrc

from seq2func.core.sequence import ASCII_TO_CODE, kmer_lookup

PROFILE_HALF_WIDTH = 400


def moving_sum(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving sum of ``width`` bases (zero-padded at the ends), same length as ``x``.

    ``out[i] = sum(x[i - width // 2 : i - width // 2 + width])`` (clipped to the array).
    """
    n = x.size
    half = width // 2
    cs = np.cumsum(x, dtype=np.float64)
    padded = np.concatenate([np.zeros(half + 1), cs, np.full(width, cs[-1] if n else 0.0)])
    return padded[width : width + n] - padded[:n]


def background_rate(seq: np.ndarray, rate: float) -> np.ndarray:
    """Expected background cuts per base: GC-dependent, halved in soft-masked repeats, 0 in gaps."""
    codes = ASCII_TO_CODE[seq]
    is_gc = ((codes == 1) | (codes == 2)).astype(np.float32)
    gc_local = moving_sum(is_gc, 200) / 200.0
    lam = rate * np.clip(1.0 + 2.0 * (gc_local - 0.41), 0.3, 2.0)
    lam[seq >= ord("a")] *= 0.5
    lam[codes == 4] = 0.0
    return lam.astype(np.float32)


#: assays with an enzyme whose cut preference the simulator models (Tn5, DNase I)
BIAS_ASSAYS = ("ATAC", "DNASE")


def enzyme_bias_table(rng: np.random.Generator, sd: float) -> np.ndarray:
    """Multiplicative cut preference of an enzyme for each 4-mer around a cut (256 values).

    Log-normal with log-scale ``sd`` (index ``64 a + 16 b + 4 c + d`` for the bases ``abcd``,
    A0 C1 G2 T3), normalised to geometric mean 1.
    """
    log = rng.normal(0.0, sd, 256)
    return np.exp(log - log.mean()).astype(np.float32)


def bias_kmers() -> list[str]:
    """The 4-mer of each entry of an enzyme bias table, in table order."""
    b = "ACGT"
    return [b[i // 64] + b[(i // 16) % 4] + b[(i // 4) % 4] + b[i % 4] for i in range(256)]


def enzyme_bias(seq: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Per-base cut preference from the 4-mer starting 2 bp before each position (N -> 1)."""
    return kmer_lookup(ASCII_TO_CODE[seq], table, k=4, offset=2)


#: share of a CRE's cuts around its bound sites (narrow peaks flanking each footprint); the
#: rest follows the element-wide shape. Cuts concentrate where factors hold chromatin open,
#: so the profile of an element depends on where its motifs are
SITE_SHARE = 0.5
#: spread (bp) of the cuts around one bound site
SITE_SD = 20.0


def cre_shape(assay: str, offset: float, footprints: Sequence[tuple[int, int]]) -> np.ndarray:
    """Normalised cut distribution over ``-PROFILE_HALF_WIDTH..+PROFILE_HALF_WIDTH`` around a CRE.

    Element-wide shape: DNase, a Gaussian (sd 45 bp); ATAC, a Gaussian (sd 65 bp) plus two weak
    nucleosome-flank bumps at +-180 bp. With bound sites (``footprints``: start, end relative to
    the centre), :data:`SITE_SHARE` of the cuts instead lie in narrow Gaussians
    (:data:`SITE_SD`) around the sites, and the sites themselves are protected: depleted to 25%
    with 40% enrichment on 6 bp flanks.
    """
    x = np.arange(-PROFILE_HALF_WIDTH, PROFILE_HALF_WIDTH + 1, dtype=np.float64) - offset
    if assay.upper() == "ATAC":
        y = np.exp(-0.5 * (x / 65.0) ** 2) + 0.15 * (np.exp(-0.5 * ((x - 180) / 40.0) ** 2)
                                                     + np.exp(-0.5 * ((x + 180) / 40.0) ** 2))
    else:
        y = np.exp(-0.5 * (x / 45.0) ** 2)
    y /= y.sum()
    sites = [(s, e) for s, e in footprints
             if 0 <= s + PROFILE_HALF_WIDTH and e + PROFILE_HALF_WIDTH <= y.size]
    if sites:
        pos = np.arange(y.size, dtype=np.float64) - PROFILE_HALF_WIDTH
        near = sum(np.exp(-0.5 * ((pos - 0.5 * (s + e)) / SITE_SD) ** 2) for s, e in sites)
        y = (1 - SITE_SHARE) * y + SITE_SHARE * near / near.sum()
    for s, e in sites:
        a, b = s + PROFILE_HALF_WIDTH, e + PROFILE_HALF_WIDTH
        y[max(0, a - 6) : a] *= 1.4
        y[b : b + 6] *= 1.4
        y[a:b] *= 0.25
    return y / y.sum()


def add_profile(lam: np.ndarray, center: int, shape: np.ndarray, total: float) -> None:
    """Add ``total * shape`` centred at ``center`` into ``lam`` (in place, clipped at the ends)."""
    lo = center - PROFILE_HALF_WIDTH
    a, b = max(0, lo), min(lam.size, lo + shape.size)
    if a < b:
        lam[a:b] += total * shape[a - lo : b - lo]


def call_peaks(
    counts: np.ndarray,
    chrom: str,
    genome_rate: float,
    window: int = 150,
    min_log10p: float = 5.0,
    merge_gap: int = 50,
    min_width: int = 100,
) -> pd.DataFrame:
    """MACS-like peak calls: Poisson test of counts in a sliding window against a local lambda.

    The local expectation is the maximum of the genome-wide rate and the mean rate in 5 kb and
    10 kb windows (as MACS2 does without a control). Significant windows are merged
    (``merge_gap``) into peaks; the summit is the position of the largest window count. Returns
    narrowPeak columns (the ``name`` and q-values are filled by :func:`finish_peaks`, which sees
    all chromosomes).
    """
    c = counts.astype(np.float64)
    s = moving_sum(c, window)
    local = np.full(c.size, genome_rate)
    for w in (5000, 10000):
        local = np.maximum(local, moving_sum(c, w) / w)
    lam = local * window
    # -log10 P(X >= s) for X ~ Poisson(lam), only evaluated where it can matter
    cand = s > lam * 1.5
    logp = np.zeros(c.size)
    if cand.any():
        with np.errstate(divide="ignore"):
            logp[cand] = -np.log10(np.maximum(pdtrc(s[cand] - 1, lam[cand]), 1e-300))
    sig = logp >= min_log10p
    cols = ["chrom", "start", "end", "signalValue", "pValue", "peak"]
    if not sig.any():
        return pd.DataFrame(columns=cols)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], sig.astype(np.int8), [0]])))
    starts, ends = edges[::2], edges[1::2]
    # merge runs separated by small gaps
    keep_start = np.concatenate([[True], starts[1:] - ends[:-1] > merge_gap])
    grp = np.cumsum(keep_start) - 1
    m_starts = starts[keep_start]
    m_ends = np.zeros(m_starts.size, dtype=np.int64)
    np.maximum.at(m_ends, grp, ends)
    rows = []
    for a, b in zip(m_starts, m_ends, strict=True):
        a0 = max(0, a - window // 2)
        b0 = min(c.size, b + window // 2)
        if b0 - a0 < min_width:
            continue
        summit = a + int(np.argmax(s[a:b]))
        rows.append((chrom, a0, b0, s[summit] / max(lam[summit], 1e-9),
                     float(logp[a:b].max()), summit - a0))
    return pd.DataFrame(rows, columns=cols)


def finish_peaks(peaks: pd.DataFrame, sample: str, n_tests: float) -> pd.DataFrame:
    """Add narrowPeak name, score, strand and Benjamini-Hochberg q-values (all chromosomes)."""
    df = peaks.sort_values(["chrom", "start"], kind="stable").reset_index(drop=True)
    if df.empty:
        for col in ("name", "score", "strand", "qValue"):
            df[col] = []
        return df
    p = df["pValue"].to_numpy()
    order = np.argsort(-p, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(1, p.size + 1)
    q = np.minimum(p - np.log10(n_tests / rank), p)  # -log10(p * n / rank)
    q_sorted = np.minimum.accumulate(q[order][::-1])[::-1]  # monotone step-up
    q_final = np.empty_like(q)
    q_final[order] = np.maximum(q_sorted, 0.0)
    df["qValue"] = q_final
    df["name"] = [f"{sample}_peak_{i + 1}" for i in range(len(df))]
    df["score"] = np.minimum(1000, (10 * df["pValue"]).astype(int))
    df["strand"] = "."
    return df
