"""Higher-order Markov models of genomic background sequence.

The demo genome's background is drawn from an order-k Markov chain whose transition counts were
fitted to real human sequence (see :func:`fit_markov`, :func:`save_markov` and
``seq2func/simulate/data/README.md``). Sampling is vectorised over many independent chains, so
hundreds of megabases take seconds, not hours.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

import numpy as np

from seq2func.core.sequence import N_CODE

DEFAULT_MODEL = "markov_hg38_order5.tsv"


def fit_markov(sequences: Iterable[np.ndarray], order: int) -> np.ndarray:
    """Count (k+1)-mers of code arrays: ``counts[context, next_base]`` with ``4**order`` contexts.

    Windows containing N are skipped. Context index = base-4 number of the ``order`` preceding
    bases, the oldest base most significant.
    """
    counts = np.zeros((4**order, 4), dtype=np.int64)
    for codes in sequences:
        codes = np.asarray(codes, dtype=np.int64)
        if codes.size <= order:
            continue
        win = np.lib.stride_tricks.sliding_window_view(codes, order + 1)
        ok = (win < N_CODE).all(axis=1)
        win = win[ok]
        powers = 4 ** np.arange(order, -1, -1)
        idx = win @ powers  # (order+1)-mer index = context * 4 + next
        counts += np.bincount(idx, minlength=4 ** (order + 1)).reshape(4**order, 4)
    return counts


def save_markov(path: str | Path, counts: np.ndarray) -> None:
    """Write transition counts as TSV: context k-mer, then counts of A, C, G, T."""
    order = round(np.log(counts.shape[0]) / np.log(4))
    lines = ["context\tA\tC\tG\tT"]
    for ctx in range(counts.shape[0]):
        kmer = "".join("ACGT"[(ctx // 4 ** (order - 1 - i)) % 4] for i in range(order))
        lines.append(kmer + "\t" + "\t".join(str(int(v)) for v in counts[ctx]))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_markov(path: str | Path | None = None) -> np.ndarray:
    """Load transition counts (default: the human order-5 model shipped with the package)."""
    if path is None:
        text = files("seq2func.simulate.data").joinpath(DEFAULT_MODEL).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.strip().splitlines()[1:]]
    return np.array([[int(v) for v in r[1:]] for r in rows], dtype=np.float64)


def transition_probabilities(counts: np.ndarray, pseudocount: float = 1.0) -> np.ndarray:
    """Row-normalised transition probabilities."""
    c = counts + pseudocount
    return c / c.sum(axis=1, keepdims=True)


def adjust_transitions(probs: np.ndarray, gc_scale: float = 1.0, cpg_scale: float = 1.0
                       ) -> np.ndarray:
    """Reweight a transition matrix to shift GC content and CpG depletion.

    Parameters
    ----------
    probs
        ``(4**k, 4)`` transition probabilities.
    gc_scale
        Multiplier on the probability of emitting C or G (then renormalised).
    cpg_scale
        Extra multiplier on G after a C (the CpG dinucleotide).
    """
    p = probs.copy()
    p[:, 1:3] *= gc_scale
    last_is_c = (np.arange(p.shape[0]) % 4) == 1
    p[last_is_c, 2] *= cpg_scale
    return p / p.sum(axis=1, keepdims=True)


def sample_markov(
    probs: np.ndarray,
    length: int,
    rng: np.random.Generator,
    chain_length: int = 20_000,
) -> np.ndarray:
    """Draw ``length`` bases (uint8 codes) from an order-k Markov chain.

    The sequence is cut into independent chains of ``chain_length`` bases that are advanced in
    lock-step, so the Python loop runs ``chain_length`` times whatever ``length`` is.

    Parameters
    ----------
    probs
        ``(4**k, 4)`` transition probabilities.
    length
        Number of bases.
    rng
        Random generator (determines the result).
    chain_length
        Length of each independent chain.
    """
    if length <= 0:
        return np.zeros(0, dtype=np.uint8)
    n_ctx = probs.shape[0]
    n_chains = -(-length // chain_length)
    steps = min(chain_length, length)
    cum = probs.cumsum(axis=1)
    cum[:, -1] = 1.0
    out = np.empty((n_chains, steps), dtype=np.uint8)
    # start each chain from a context drawn from the stationary-ish context frequencies
    ctx = rng.choice(n_ctx, size=n_chains, p=probs.sum(axis=1) / probs.sum())
    u = rng.random((steps, n_chains))
    mask = n_ctx - 1
    for t in range(steps):
        base = (u[t][:, None] > cum[ctx]).sum(axis=1)
        out[:, t] = base
        ctx = ((ctx * 4) + base) & mask
    return out.reshape(-1)[:length].copy()
