"""Null distribution of variant scores and empirical p-values (ChromBPNet's variant scorer).

The null, as in ChromBPNet's scorer (``create_shuffle_table`` + ``VariantGenerator(shuf=True)``):
``n_variants`` of the scored variants are drawn with replacement and each one's genome context
is dinucleotide-shuffled (:func:`dinucleotide_shuffle`, the Altschul-Erickson-style walk of
``deeplift.dinuc_shuffle`` that keeps the last exit of every letter); its REF and ALT alleles
are then placed at the window centre exactly as for the real variant
(:func:`shuffled_allele_windows`). The null therefore has the same alleles, indel lengths and
dinucleotide (hence GC) composition as the variants, without their regulatory context. It is
scored by the same models, in the same job, through the same code as the variants.

p-values: ``(1 + #{null >= obs}) / (1 + n_null)`` on the test statistic (``|score|`` for signed
scores, :func:`seq2func.variants.effects.null_statistic`); q-values: Benjamini-Hochberg.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from seq2func.core.sequence import Genome, gc_fraction
from seq2func.variants.vcf import allele_codes
from seq2func.variants.windows import splice

#: letters of the code alphabet (A C G T N)
_N_LETTERS = 5


def dinucleotide_shuffle(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shuffle each row of ``codes`` keeping its dinucleotide counts, first and last letter.

    Vectorised over rows: the successors of every letter are permuted per row (all but the
    last occurrence, which keeps the walk Eulerian, as ``deeplift.dinuc_shuffle``), then one walk
    over the columns follows them for all rows at once.

    Parameters
    ----------
    codes
        ``(n, W)`` uint8 codes (A0 C1 G2 T3 N4).
    rng
        Random generator (the shuffle is reproducible from its seed).

    Returns
    -------
    numpy.ndarray
        ``(n, W)`` shuffled codes.
    """
    x = np.asarray(codes)
    if x.ndim != 2:
        raise ValueError(f"dinucleotide_shuffle: codes must be (n, W), got {x.shape}")
    if x.size and int(x.max()) >= _N_LETTERS:
        raise ValueError("dinucleotide_shuffle: codes must be 0..4 (A C G T N)")
    n, w = x.shape
    if w < 3 or n == 0:
        return x.copy()
    src, dst = x[:, :-1].astype(np.int64), x[:, 1:]
    e = w - 1
    key = rng.random((n, e))
    # the last exit of each letter (per row) stays last
    rev_first = np.full((n, _N_LETTERS), -1, np.int64)
    for t in range(_N_LETTERS):
        m = src == t
        has = m.any(axis=1)
        rev_first[has, t] = e - 1 - np.argmax(m[has, ::-1], axis=1)
    rows = np.arange(n)[:, None]
    last = rev_first[rows, src] == np.arange(e)[None, :]
    key[last] = 2.0
    group = rows * _N_LETTERS + src
    order = np.argsort(group.ravel() + key.ravel() / 3.0, kind="stable")
    successors = dst.ravel()[order]
    counts = np.zeros((n, _N_LETTERS), np.int64)
    np.add.at(counts, (np.repeat(np.arange(n), e), src.ravel()), 1)
    start = (np.cumsum(counts.ravel()) - counts.ravel()).reshape(n, _N_LETTERS)
    used = np.zeros((n, _N_LETTERS), np.int64)
    out = np.empty_like(x)
    out[:, 0] = x[:, 0]
    cur = x[:, 0].astype(np.int64)
    r = np.arange(n)
    for j in range(1, w):
        nxt = successors[start[r, cur] + used[r, cur]]
        used[r, cur] += 1
        out[:, j] = nxt
        cur = nxt.astype(np.int64)
    return out


def sample_null_variants(variants: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` of the ``ok`` variants drawn with replacement (the null's alleles and contexts).

    Raises
    ------
    ValueError
        If ``n`` is positive but no variant is ``ok``.
    """
    ok = variants[variants["status"] == "ok"]
    if n <= 0:
        return ok.iloc[:0].copy()
    if ok.empty:
        raise ValueError("the null needs at least one scorable (ok) variant")
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(ok), size=n)
    out = ok.iloc[pick].reset_index(drop=True)
    out["null_source"] = ok.index.to_numpy()[pick]
    return out


def shuffled_allele_windows(genome: Genome, variants: pd.DataFrame, length: int,
                            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Reference/alternate windows of the variants in dinucleotide-shuffled genome contexts.

    The context (``length`` + the longest REF of the batch bases from ``length // 2`` left of
    the variant) is shuffled; both alleles are then placed at ``length // 2`` with the shuffled
    left flank before them and the shuffled bases after the REF allele's span after them, the
    layout of :func:`seq2func.variants.windows.allele_windows`.
    """
    h = length // 2
    chroms = variants["genome_chrom"].to_numpy(str)
    p0 = variants["pos"].to_numpy(np.int64) - 1
    ref = variants["ref"].to_numpy(str)
    alt = variants["alt"].to_numpy(str)
    lr = np.char.str_len(ref).astype(np.int64)
    la = np.char.str_len(alt).astype(np.int64)
    width = length + int(lr.max())
    ctx = dinucleotide_shuffle(genome.windows(chroms, p0 - h, width), rng)
    rows = np.arange(len(p0))[:, None]
    right = ctx[rows, np.minimum(h + lr[:, None] + np.arange(length)[None, :], width - 1)]
    left = ctx[:, :h]
    lens = np.full(len(p0), h)
    ref_w = splice(left, lens, allele_codes(ref, int(lr.max())), lr, right, length)
    alt_w = splice(left, lens, allele_codes(alt, int(la.max())), la, right, length)
    return ref_w, alt_w


def in_intervals(chroms: np.ndarray, positions: np.ndarray, intervals: pd.DataFrame
                 ) -> np.ndarray:
    """Whether each 0-based position lies in an interval (``chrom, start, end``, half-open)."""
    from seq2func.core.intervals import overlaps_any

    positions = np.asarray(positions, dtype=np.int64)
    out = np.zeros(len(positions), bool)
    for chrom, iv in intervals.groupby("chrom", sort=False):
        rows = np.flatnonzero(chroms == chrom)
        if rows.size:
            out[rows] = overlaps_any(positions[rows], positions[rows] + 1,
                                     iv["start"].to_numpy(np.int64), iv["end"].to_numpy(np.int64))
    return out


def random_genome_variants(genome: Genome, variants: pd.DataFrame, n: int, length: int,
                           seed: int, exclude: pd.DataFrame | None = None, gc_bins: int = 20,
                           oversample: int = 10) -> pd.DataFrame:
    """``n`` random variants at random genome positions, GC-matched to the scored variants.

    Each null variant copies the allele shape of a scored ``ok`` variant drawn with
    replacement (:func:`sample_null_variants`: SNV, deletion or insertion and its lengths) and
    is placed at a random position (chromosomes by size; windows of ``length`` with at most 5%
    N; outside the ``exclude`` intervals, e.g. the peaks, if given) whose window GC falls in
    the same of ``gc_bins`` bins as that variant's window. REF is
    the genome there; ALT a random different base (SNVs, MNPs: random bases), the REF's first
    base for deletions, the first base plus random bases for insertions.

    Raises
    ------
    ValueError
        If the genome has no chromosome longer than two windows.
    """
    from seq2func.core.sequence import decode

    src = sample_null_variants(variants, n, seed)
    if src.empty:
        return src
    rng = np.random.default_rng(seed + 2)
    h = length // 2
    lr = np.char.str_len(src["ref"].to_numpy(str)).astype(np.int64)
    la = np.char.str_len(src["alt"].to_numpy(str)).astype(np.int64)
    pad = int(lr.max()) + 1
    target = gc_fraction(genome.windows(src["genome_chrom"].to_numpy(str),
                                      src["pos"].to_numpy(np.int64) - 1 - h, length))
    chroms = [c for c in genome.sizes if genome.sizes[c] > 2 * length + pad]
    if not chroms:
        raise ValueError("the genome has no chromosome long enough for random null variants")
    sizes = np.array([genome.sizes[c] for c in chroms], np.float64)
    m = n * oversample
    cc = rng.choice(len(chroms), size=m, p=sizes / sizes.sum())
    cpos = (h + rng.random(m) * (sizes[cc] - length - pad - h)).astype(np.int64)
    cnames = np.array(chroms)[cc]
    win = genome.windows(cnames, cpos - h, length)
    good = ((win == 4).mean(axis=1) <= 0.05) & (win[:, h] < 4)
    if exclude is not None and len(exclude):
        good &= ~in_intervals(cnames, cpos, exclude)
    cgc = gc_fraction(win)
    edges = np.linspace(0, 1, gc_bins + 1)[1:-1]
    tb = np.digitize(np.nan_to_num(target, nan=0.5), edges)
    cb = np.where(good, np.digitize(np.nan_to_num(cgc, nan=0.5), edges), -1)
    pick = np.empty(n, np.int64)
    pool_all = np.flatnonzero(good)
    if pool_all.size == 0:
        raise ValueError("no random genome window with < 5% N for the null")
    for b in np.unique(tb):
        want = np.flatnonzero(tb == b)
        pool = np.flatnonzero(cb == b)
        if pool.size == 0:  # no window of this GC: the nearest bin's
            near = cb[pool_all][np.argmin(np.abs(cb[pool_all] - b))]
            pool = np.flatnonzero(cb == near)
        pick[want] = rng.choice(pool, size=want.size, replace=want.size > pool.size)
    chrom, p0 = cnames[pick], cpos[pick]
    refc = genome.windows(chrom, p0, pad)
    rnd = rng.integers(0, 4, size=(n, int(la.max())))
    refs, alts = [], []
    for i in range(n):
        r = refc[i, : lr[i]]
        if lr[i] == la[i]:
            a = rnd[i, : la[i]].copy()
            same = a == r
            a[same] = (r[same] + 1 + rng.integers(0, 3, int(same.sum()))) % 4
        else:
            a = np.concatenate([r[:1], rnd[i, 1 : la[i]]])
        refs.append(decode(r))
        alts.append(decode(a.astype(np.uint8)))
    return pd.DataFrame({"chrom": chrom, "genome_chrom": chrom, "pos": p0 + 1, "ref": refs,
                         "alt": alts, "status": "ok",
                         "null_source": src["null_source"].to_numpy()})


def empirical_pvalues(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Right-tail empirical p-values ``(1 + #{null >= obs}) / (1 + n_null)``.

    Give the test statistic (``|score|`` for signed scores). NaN observations stay NaN; NaN null
    values are dropped.

    Raises
    ------
    ValueError
        If the null has no finite value.
    """
    bg = np.sort(np.asarray(null, np.float64).ravel())
    bg = bg[np.isfinite(bg)]
    if bg.size == 0:
        raise ValueError("empirical_pvalues: the null has no finite score")
    obs = np.asarray(observed, np.float64)
    ge = bg.size - np.searchsorted(bg, obs, side="left")
    return np.where(np.isfinite(obs), (1.0 + ge) / (1.0 + bg.size), np.nan)


def bh_qvalues(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of the finite p-values (NaN stays NaN, not counted).

    ``q_(i) = min_{j >= i} p_(j) m / j`` over the sorted p-values, capped at 1.

    Raises
    ------
    ValueError
        If a p-value lies outside [0, 1].
    """
    p = np.asarray(pvalues, np.float64)
    ok = np.isfinite(p)
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise ValueError("bh_qvalues: p-values must lie in [0, 1]")
    out = np.full(p.shape, np.nan)
    m = int(ok.sum())
    if m == 0:
        return out
    vals = p[ok]
    order = np.argsort(vals, kind="stable")
    ranked = vals[order] * m / np.arange(1, m + 1)
    q = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    res = np.empty(m)
    res[order] = q
    out[ok] = res
    return out
