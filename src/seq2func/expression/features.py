"""Features of the expression models around each TSS: promoter codes and observed chromatin.

Both in the row order of the gene table (:mod:`seq2func.expression.genes`):

* sequence: uint8 codes (A0 C1 G2 T3 N4) of the promoter ``[TSS - upstream, TSS + downstream)``
  read in the direction of transcription (minus-strand windows reverse-complemented), so the
  TSS is at offset ``upstream`` for every gene; with a gene-end window, then 50 N and the
  gene's last ``end_upstream`` bases and ``end_downstream`` bases past its 3' end, oriented
  alike (:func:`sequence_codes`);
* observed chromatin: ``log1p`` of the signal summed in ``n_bins`` bins of ``bin_size`` bp over
  ``[TSS - flank, TSS + flank)``, bins ordered 5'->3' in the gene's orientation; each bigWig
  chromosome is read once and all genes on it are sliced from its cumulative sum.

:func:`match_chromatin_samples` says which accessibility tracks feed which expression samples.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import ConfigError
from seq2func.core.genes import promoter_windows
from seq2func.expression.settings import ExpressionWindow

log = logging.getLogger(__name__)


def promoter_codes(genome: Any, genes: pd.DataFrame, window: ExpressionWindow) -> np.ndarray:
    """``(n, upstream + downstream)`` uint8 codes of the oriented promoter windows.

    ``genome`` is a :class:`seq2func.core.sequence.Genome`; each chromosome is read once.
    """
    win = promoter_windows(genes, window.upstream, window.downstream)
    return genome.windows(genes["chrom"].to_numpy(), win["start"].to_numpy(),
                          window.promoter_length, genes["strand"].to_numpy())


def at_gene_ends(genes: pd.DataFrame) -> pd.DataFrame:
    """The gene table with each gene's 3' end (``tes``) as its anchor (``tss``), so that
    :func:`seq2func.core.genes.promoter_windows` gives gene-end windows.

    Raises
    ------
    seq2func.core.errors.InputError
        If the table has no ``tes`` column (made by an older expression-prepare).
    """
    from seq2func.core.errors import InputError

    if "tes" not in genes.columns:
        raise InputError("genes table", "no 'tes' (gene 3' end) column, which the gene-end "
                         "window needs", fix="rerun expression-prepare with this version of "
                                             "seq2func")
    return genes.assign(tss=genes["tes"])


def gene_end_windows(genes: pd.DataFrame, window: ExpressionWindow) -> pd.DataFrame:
    """Genomic gene-end windows (``chrom, start, end, strand``): the gene's last
    ``end_upstream`` bases and ``end_downstream`` bases past its 3' end (the ``tes`` column,
    :func:`seq2func.core.genes.read_gene_tss`), oriented as promoters are."""
    return promoter_windows(at_gene_ends(genes), window.end_upstream, window.end_downstream)


def sequence_codes(genome: Any, genes: pd.DataFrame, window: ExpressionWindow) -> np.ndarray:
    """``(n, window.length)`` uint8 codes of the sequence input: the oriented promoter, then
    (with a gene-end window) ``window.spacer`` N and the oriented gene-end window."""
    promoter = promoter_codes(genome, genes, window)
    if not window.end_length:
        return promoter
    win = gene_end_windows(genes, window)
    end = genome.windows(genes["chrom"].to_numpy(), win["start"].to_numpy(), window.end_length,
                         genes["strand"].to_numpy())
    return join_parts(promoter, end, window.spacer)


def join_parts(promoter: np.ndarray, end: np.ndarray, spacer: int) -> np.ndarray:
    """Promoter codes, ``spacer`` N (code 4) and gene-end codes, row by row."""
    gap = np.full((promoter.shape[0], spacer), 4, dtype=np.uint8)
    return np.concatenate([promoter, gap, end], axis=1).astype(np.uint8)


def bin_edges(genes: pd.DataFrame, window: ExpressionWindow) -> np.ndarray:
    """Genomic bin edges ``(n, n_bins + 1)`` of the chromatin window (ascending)."""
    lo = genes["tss"].to_numpy(dtype=np.int64) - window.chromatin_flank
    return lo[:, None] + window.chromatin_bin * np.arange(window.n_bins + 1)[None, :]


def observed_chromatin(bigwigs: Sequence[str | Path], genes: pd.DataFrame,
                       window: ExpressionWindow, chrom_sizes: Mapping[str, int]) -> np.ndarray:
    """``log1p`` of binned signal around each TSS, ``(n, n_bins, n_tracks)`` float32.

    Bins are ordered in the direction of transcription (reversed for minus-strand genes). Each
    bigWig chromosome is read once as a whole; missing data counts as 0.
    """
    from seq2func.core.bigwig import BigWig

    n = len(genes)
    out = np.zeros((n, window.n_bins, len(bigwigs)), dtype=np.float32)
    edges = bin_edges(genes, window)
    chroms = genes["chrom"].to_numpy()
    minus = genes["strand"].to_numpy() == "-"
    for k, path in enumerate(bigwigs):
        with BigWig(path, dict(chrom_sizes), negative="clip") as bw:
            for chrom in dict.fromkeys(chroms.tolist()):
                rows = np.flatnonzero(chroms == chrom)
                if not bw.has(chrom):
                    log.warning("%s has no signal on %s: chromatin features are 0", path, chrom)
                    continue
                vals = bw.values(chrom, 0, int(chrom_sizes[chrom]))
                cs = np.zeros(vals.size + 1, dtype=np.float64)
                np.cumsum(vals, out=cs[1:])
                e = edges[rows]
                out[rows, :, k] = (cs[e[:, 1:]] - cs[e[:, :-1]]).astype(np.float32)
                del vals, cs
    out[minus] = out[minus, ::-1, :]
    return np.log1p(out)


def match_chromatin_samples(expression_samples: Sequence[str],
                            accessibility_samples: Sequence[str], mode: str = "auto"
                            ) -> tuple[list[int], str]:
    """Which accessibility tracks feed the chromatin input, and how they were chosen.

    ``name``: the track of the same name for each expression sample (error when one is
    missing); ``all``: every track; ``auto``: ``name`` when every expression sample has a
    track of the same name, else ``all``.

    Returns
    -------
    (list of int, str)
        Indices into ``accessibility_samples`` and the mode used.

    Raises
    ------
    seq2func.core.errors.ConfigError
        Naming ``expression.chromatin.match`` when ``name`` finds no track for a sample.
    """
    acc = list(accessibility_samples)
    have = all(s in acc for s in expression_samples)
    if mode == "name" or (mode == "auto" and have):
        missing = [s for s in expression_samples if s not in acc]
        if missing:
            raise ConfigError("config", "expression.chromatin.match",
                              f"no accessibility sample named {', '.join(missing)}",
                              "use 'all' (every track feeds every expression sample) or "
                              "rename the samples")
        return [acc.index(s) for s in expression_samples], "name"
    if mode not in ("auto", "all"):
        raise ValueError(f"unknown chromatin match mode {mode!r}")
    return list(range(len(acc))), "all"
