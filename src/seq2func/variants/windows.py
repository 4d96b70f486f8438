"""Model inputs of both alleles of many variants, built with numpy indexing (no per-variant loop).

Each window holds ``left`` genome bases, then the allele, then the genome right of the REF
allele, truncated to the input length (:func:`splice`). For accessibility models the allele
starts at the window centre (``L // 2``), so SNVs and indels are compared at the same position;
promoter windows of expression models keep the TSS in place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from seq2func.core.sequence import Genome, reverse_complement
from seq2func.variants.vcf import allele_codes


def splice(left: np.ndarray, left_len: np.ndarray, allele: np.ndarray, allele_len: np.ndarray,
           right: np.ndarray, length: int) -> np.ndarray:
    """Row-wise ``left[:left_len] + allele[:allele_len] + right`` truncated to ``length``.

    All inputs are uint8 code arrays; ``right`` must have at least ``length`` columns.
    """
    n = left.shape[0]
    j = np.arange(length)[None, :]
    ll, al = np.asarray(left_len)[:, None], np.asarray(allele_len)[:, None]
    rows = np.arange(n)[:, None]
    out = right[rows, np.clip(j - ll - al, 0, right.shape[1] - 1)]
    in_allele = (j >= ll) & (j < ll + al)
    a = allele[rows, np.clip(j - ll, 0, max(allele.shape[1] - 1, 0))]
    out = np.where(in_allele, a, out)
    lft = left[rows, np.clip(j, 0, max(left.shape[1] - 1, 0))]
    return np.where(j < ll, lft, out).astype(np.uint8)


def allele_windows(genome: Genome, variants: pd.DataFrame, length: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Reference and alternate input windows ``(n, length)`` with the allele at ``length // 2``.

    ``variants`` needs ``genome_chrom, pos, ref, alt`` (only ``ok`` variants should be given).
    """
    h = length // 2
    chroms = variants["genome_chrom"].to_numpy(str)
    p0 = variants["pos"].to_numpy(np.int64) - 1
    ref = variants["ref"].to_numpy(str)
    alt = variants["alt"].to_numpy(str)
    lr = np.char.str_len(ref).astype(np.int64) if len(ref) else np.zeros(0, np.int64)
    la = np.char.str_len(alt).astype(np.int64) if len(alt) else np.zeros(0, np.int64)
    ref_win = genome.windows(chroms, p0 - h, length)
    left = ref_win[:, :h]
    right = genome.windows(chroms, p0 + lr, length)
    alt_codes = allele_codes(alt, int(la.max()) if la.size else 1)
    alt_win = splice(left, np.full(len(p0), h), alt_codes, la, right, length)
    return ref_win, alt_win


def promoter_hits(variants: pd.DataFrame, genes: pd.DataFrame, upstream: int, downstream: int
                  ) -> pd.DataFrame:
    """Pairs (variant row, gene row) where the variant's REF starts inside the gene's window.

    ``genes``: ``gene_id, gene_name, chrom, tss, strand``. Windows follow
    :func:`seq2func.core.genes.promoter_windows`. Returns ``vrow, grow, start, end, strand``.
    """
    from seq2func.core.genes import promoter_windows

    win = promoter_windows(genes.reset_index(drop=True), upstream, downstream)
    out = []
    ok = variants[variants["status"] == "ok"]
    for chrom, g in win.groupby("chrom", sort=False):
        v = ok[ok["genome_chrom"] == chrom]
        if v.empty:
            continue
        order = np.argsort(g["start"].to_numpy(), kind="stable")
        gs, ge = g["start"].to_numpy()[order], g["end"].to_numpy()[order]
        p0 = v["pos"].to_numpy() - 1
        width = int((ge - gs).max())
        lo = np.searchsorted(gs, p0 - width + 1, side="left")
        hi = np.searchsorted(gs, p0, side="right")
        for k in range(int((hi - lo).max()) if len(hi) else 0):  # windows overlapping a point
            cand = lo + k
            valid = cand < hi
            c = np.minimum(cand, len(gs) - 1)
            hit = valid & (p0 >= gs[c]) & (p0 < ge[c])
            if hit.any():
                gi = g.index.to_numpy()[order][c[hit]]
                out.append(pd.DataFrame({"vrow": v.index.to_numpy()[hit], "grow": gi}))
    if not out:
        return pd.DataFrame(columns=["vrow", "grow", "start", "end", "strand"])
    hits = pd.concat(out, ignore_index=True).sort_values(["vrow", "grow"], ignore_index=True)
    w = win.loc[hits["grow"]]
    hits["start"] = w["start"].to_numpy()
    hits["end"] = w["end"].to_numpy()
    hits["strand"] = w["strand"].to_numpy()
    return hits


def promoter_allele_windows(genome: Genome, variants: pd.DataFrame, hits: pd.DataFrame,
                            length: int) -> tuple[np.ndarray, np.ndarray]:
    """Strand-oriented reference/alternate promoter windows ``(n_hits, length)``.

    The TSS stays at its offset: on ``+`` genes the bases left of the variant are kept and the
    window is truncated/extended on the right; on ``-`` genes the same happens in transcription
    direction (the sequence is built on the reverse strand).
    """
    v = variants.loc[hits["vrow"]]
    chroms = v["genome_chrom"].to_numpy(str)
    p0 = v["pos"].to_numpy(np.int64) - 1
    lr = np.char.str_len(v["ref"].to_numpy(str)).astype(np.int64)
    alt = v["alt"].to_numpy(str)
    la = np.char.str_len(alt).astype(np.int64)
    start, end = hits["start"].to_numpy(np.int64), hits["end"].to_numpy(np.int64)
    minus = hits["strand"].to_numpy(str) == "-"
    strands = np.where(minus, "-", "+")
    ref_w = genome.windows(chroms, start, length, strands)
    alt_codes = allele_codes(alt, int(la.max()) if la.size else 1)
    # forward strand: left = window start .. variant; right = after the REF allele
    left_len = np.where(minus, end - (p0 + lr), p0 - start)
    right = np.empty((len(p0), length), dtype=np.uint8)
    plus_rows, minus_rows = np.flatnonzero(~minus), np.flatnonzero(minus)
    if plus_rows.size:
        right[plus_rows] = genome.windows(chroms[plus_rows], p0[plus_rows] + lr[plus_rows],
                                          length)
    if minus_rows.size:  # reverse strand: "right" is the genome left of the variant, read 3'->5'
        right[minus_rows] = genome.windows(chroms[minus_rows], p0[minus_rows] - length, length,
                                           np.full(minus_rows.size, "-"))
        for r in minus_rows:  # reverse-complement the allele in place (short strings)
            alt_codes[r, : la[r]] = reverse_complement(alt_codes[r, : la[r]])
    alt_w = splice(ref_w, np.clip(left_len, 0, length), alt_codes, la, right, length)
    return ref_w, alt_w
