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


def _pair_rows(pairs: pd.DataFrame, hits: pd.DataFrame) -> np.ndarray:
    """Row of each hit (``vrow, grow``) in ``pairs``."""
    index = pd.MultiIndex.from_frame(pairs[["vrow", "grow"]].astype(np.int64))
    return index.get_indexer(pd.MultiIndex.from_frame(hits[["vrow", "grow"]].astype(np.int64)))


def _part(genome: Genome, variants: pd.DataFrame, genes: pd.DataFrame, pairs: pd.DataFrame,
          hits: pd.DataFrame, upstream: int, downstream: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Reference and alternate codes of one oriented window (around ``genes["tss"]``) for
    every pair; the alternate differs only where the pair is a hit of this window."""
    from seq2func.core.genes import promoter_windows

    length = upstream + downstream
    g = genes.reset_index(drop=True).loc[pairs["grow"].to_numpy()]
    win = promoter_windows(g.reset_index(drop=True), upstream, downstream)
    ref = genome.windows(g["chrom"].to_numpy(str), win["start"].to_numpy(), length,
                         g["strand"].to_numpy(str))
    alt = ref.copy()
    if len(hits):
        _, hit_alt = promoter_allele_windows(genome, variants, hits, length)
        alt[_pair_rows(pairs, hits)] = hit_alt
    return ref, alt


def gene_allele_windows(genome: Genome, variants: pd.DataFrame, genes: pd.DataFrame,
                        window: dict[str, int]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Sequence inputs of an expression model for both alleles of every (variant, gene) pair
    whose variant lies in the gene's promoter or gene-end window.

    The input is the oriented promoter window, then (with a gene-end window) ``spacer`` N and
    the oriented gene-end window (:func:`seq2func.expression.features.sequence_codes`); the
    alternate allele is spliced into each window that holds it
    (:func:`promoter_allele_windows`), the other window keeps the reference.

    Parameters
    ----------
    genome
        The genome.
    variants
        ``ok`` variants (``genome_chrom, pos, ref, alt, status``).
    genes
        The gene table (``chrom, tss, strand``; ``tes`` with a gene-end window).
    window
        The model's ``expression_window`` record: ``upstream, downstream`` and optionally
        ``end_upstream, end_downstream, spacer`` (absent: no gene-end window).

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray, numpy.ndarray)
        The pairs (``vrow, grow``, sorted) and their reference and alternate inputs
        ``(n_pairs, length)``.

    Raises
    ------
    seq2func.core.errors.InputError
        With a gene-end window, if the gene table has no ``tes`` column.
    """
    from seq2func.expression.features import at_gene_ends, join_parts

    up, down = int(window["upstream"]), int(window["downstream"])
    eu, ed = int(window.get("end_upstream", 0)), int(window.get("end_downstream", 0))
    genes = genes.reset_index(drop=True)
    ends = at_gene_ends(genes) if eu + ed else None
    hp = promoter_hits(variants, genes, up, down)
    he = promoter_hits(variants, ends, eu, ed) if ends is not None else hp[:0]
    pairs = (pd.concat([hp[["vrow", "grow"]], he[["vrow", "grow"]]])
             .drop_duplicates().sort_values(["vrow", "grow"], ignore_index=True))
    if pairs.empty:
        width = up + down + (int(window.get("spacer", 0)) + eu + ed if eu + ed else 0)
        empty = np.zeros((0, width), dtype=np.uint8)
        return pairs, empty, empty
    p_ref, p_alt = _part(genome, variants, genes, pairs, hp, up, down)
    if ends is None:
        return pairs, p_ref, p_alt
    e_ref, e_alt = _part(genome, variants, ends, pairs, he, eu, ed)
    spacer = int(window.get("spacer", 0))
    return pairs, join_parts(p_ref, e_ref, spacer), join_parts(p_alt, e_alt, spacer)
