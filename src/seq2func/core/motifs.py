"""Position frequency matrices: JASPAR I/O, log-odds scoring, scanning and sampling.

All arrays use the base order A, C, G, T and the uint8 codes of :mod:`seq2func.core.sequence`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seq2func.core.errors import InputError
from seq2func.core.io import write_text_atomic

#: Background base frequencies of the human genome (GC ~41%), A, C, G, T.
HUMAN_BACKGROUND = np.array([0.295, 0.205, 0.205, 0.295])


@dataclass(frozen=True)
class Motif:
    """A position frequency matrix.

    Attributes
    ----------
    motif_id
        Database identifier (e.g. ``"MA0035.5"``).
    name
        Transcription factor name (e.g. ``"GATA1"``).
    counts
        ``(length, 4)`` float array of counts or frequencies, columns A, C, G, T.
    """

    motif_id: str
    name: str
    counts: np.ndarray = field(repr=False)

    @property
    def length(self) -> int:
        return int(self.counts.shape[0])

    def probabilities(self, pseudocount: float = 0.8) -> np.ndarray:
        """Per-position base probabilities with a pseudocount spread evenly over the 4 bases."""
        c = np.asarray(self.counts, dtype=np.float64)
        total = c.sum(axis=1, keepdims=True)
        if np.all(total <= 1.0 + 1e-6):  # already frequencies: scale to pseudo-counts of 100
            c, total = c * 100.0, total * 100.0
        return (c + pseudocount / 4) / (total + pseudocount)

    def log_odds(self, background: np.ndarray = HUMAN_BACKGROUND) -> np.ndarray:
        """Log2-odds position weight matrix ``(length, 4)`` against ``background``."""
        return np.log2(self.probabilities() / background[None, :])

    def consensus(self) -> str:
        """Most likely base at each position."""
        return "".join("ACGT"[i] for i in self.counts.argmax(axis=1))


_JASPAR_FIX = ("give a JASPAR-format file: a '>ID name' line, then rows 'A [ ... ]', 'C [ ... ]', "
               "'G [ ... ]', 'T [ ... ]' of counts")


def read_jaspar(path: str | Path) -> list[Motif]:
    """Read motifs in JASPAR format (``>ID NAME`` then four ``A [ ... ]`` rows)."""
    p = Path(path)
    motifs: list[Motif] = []
    lines = p.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if not line.startswith(">"):
            raise InputError(p, f"expected a '>ID NAME' header, got {line!r}", i + 1,
                             "use the JASPAR matrix format")
        parts = line[1:].split(None, 1)
        motif_id = parts[0]
        name = parts[1].strip() if len(parts) > 1 else motif_id
        rows = []
        for k, base in enumerate("ACGT"):
            if i + 1 + k >= len(lines):
                raise InputError(p, f"motif {motif_id} is truncated", i + 1 + k, _JASPAR_FIX)
            row = lines[i + 1 + k].strip()
            if not row.startswith(base):
                raise InputError(p, f"motif {motif_id}: expected row '{base} [ ... ]'", i + 2 + k,
                                 _JASPAR_FIX)
            values = row[1:].replace("[", " ").replace("]", " ").split()
            try:
                rows.append([float(v) for v in values])
            except ValueError as exc:
                raise InputError(p, f"motif {motif_id}: non-numeric count", i + 2 + k,
                                 _JASPAR_FIX) from exc
        if len({len(r) for r in rows}) != 1 or not rows[0]:
            raise InputError(p, f"motif {motif_id}: rows have different lengths", i + 1,
                             _JASPAR_FIX)
        motifs.append(Motif(motif_id, name, np.array(rows, dtype=np.float64).T))
        i += 5
    return motifs


def format_jaspar(motifs: Iterable[Motif]) -> str:
    """Render motifs in JASPAR format."""
    out = []
    for m in motifs:
        out.append(f">{m.motif_id}\t{m.name}")
        for k, base in enumerate("ACGT"):
            vals = " ".join(f"{np.format_float_positional(float(v), trim='-'):>7}"
                            for v in m.counts[:, k])
            out.append(f"{base}  [ {vals} ]")
    return "\n".join(out) + "\n"


def write_jaspar(path: str | Path, motifs: Iterable[Motif]) -> None:
    """Write motifs in JASPAR format atomically."""
    write_text_atomic(path, format_jaspar(motifs))


def fetch_jaspar_motifs(ids: Sequence[str], release: str = "JASPAR2024") -> list[Motif]:
    """Export motifs by matrix ID from the JASPAR SQLite database shipped with ``pyjaspar``."""
    from pyjaspar import jaspardb  # local import: only needed to (re)build the motif set

    db = jaspardb(release=release)
    out = []
    for mid in ids:
        m = db.fetch_motif_by_id(mid)
        if m is None:
            raise KeyError(f"{mid} not found in {release}")
        counts = np.array([[m.counts[b][i] for b in "ACGT"] for i in range(m.length)])
        out.append(Motif(m.matrix_id, m.name, counts))
    return out


# ----------------------------------------------------------------------------- scanning


def _pwm_with_n(pwm: np.ndarray) -> np.ndarray:
    """Append a row for N (code 4) scoring as the column minimum; returns ``(length, 5)``."""
    return np.concatenate([pwm, pwm.min(axis=1, keepdims=True)], axis=1)


def score_range(pwm: np.ndarray) -> tuple[float, float]:
    """Minimum and maximum achievable score of a log-odds matrix."""
    return float(pwm.min(axis=1).sum()), float(pwm.max(axis=1).sum())


def scan(codes: np.ndarray, pwm: np.ndarray) -> np.ndarray:
    """Log-odds scores of every window of every sequence, on both strands.

    Parameters
    ----------
    codes
        ``(n, L)`` or ``(L,)`` uint8 codes.
    pwm
        ``(w, 4)`` log-odds matrix.

    Returns
    -------
    numpy.ndarray
        ``(n, L - w + 1, 2)`` scores (``[..., 0]`` forward, ``[..., 1]`` reverse strand, where the
        reverse-strand score at position ``i`` is that of the reverse complement of
        ``codes[i:i+w]``). A leading ``n`` axis is dropped for 1-D input.
    """
    single = codes.ndim == 1
    c = np.atleast_2d(codes)
    w = pwm.shape[0]
    if c.shape[1] < w:
        out = np.zeros((c.shape[0], 0, 2))
        return out[0] if single else out
    fwd = _pwm_with_n(pwm)
    rev = _pwm_with_n(pwm[::-1, ::-1])  # reverse complement matrix
    n_win = c.shape[1] - w + 1
    s_f = np.zeros((c.shape[0], n_win))
    s_r = np.zeros((c.shape[0], n_win))
    for k in range(w):  # loop over motif positions (<= ~30), vectorised over sequences/windows
        col = c[:, k : k + n_win]
        s_f += fwd[k][col]
        s_r += rev[k][col]
    out = np.stack([s_f, s_r], axis=-1)
    return out[0] if single else out


def sample_instance(
    motif: Motif,
    rng: np.random.Generator,
    min_score: float,
    max_tries: int = 500,
) -> np.ndarray:
    """Draw a binding site (uint8 codes) from a motif, scoring at least ``min_score`` bits.

    Draws are repeated until the log-odds score (bits) reaches ``min_score``; after ``max_tries``
    the consensus is returned. The result is therefore a realistic, non-consensus strong site.
    """
    probs = motif.probabilities()
    pwm = motif.log_odds()
    cum = probs.cumsum(axis=1)
    rows = np.arange(motif.length)
    for _ in range(max_tries):
        site = np.minimum((rng.random(motif.length)[:, None] > cum).sum(axis=1), 3)
        if pwm[rows, site].sum() >= min_score:
            return site.astype(np.uint8)
    return motif.counts.argmax(axis=1).astype(np.uint8)


def weaken_instance(
    motif: Motif, site: np.ndarray, rng: np.random.Generator, max_score: float
) -> np.ndarray:
    """Mutate the most informative positions of ``site`` until it scores below ``max_score``.

    Used for decoys: the result still resembles the motif (most positions match) but falls below
    the binding threshold. Each mutated position gets one of its two least likely bases.
    """
    probs = motif.probabilities()
    pwm = motif.log_odds()
    info = (probs * np.log2(probs / 0.25)).sum(axis=1)
    order = np.argsort(-info, kind="stable")
    rows = np.arange(motif.length)
    out = site.copy()
    for pos in order:
        if pwm[rows, out].sum() < max_score:
            break
        worst = np.argsort(probs[pos], kind="stable")[:2]
        out[pos] = worst[rng.integers(0, 2)]
    return out


def score_pvalue_threshold(
    pwm: np.ndarray,
    pvalue: float,
    background: np.ndarray = HUMAN_BACKGROUND,
    resolution: float = 0.01,
) -> float:
    """Smallest score whose chance of being reached by a background k-mer is at most ``pvalue``.

    The exact score distribution under an i.i.d. ``background`` is computed by dynamic programming
    on a grid of ``resolution`` bits (as in FIMO/MOODS), so the threshold is comparable across
    motifs of different lengths and information content.
    """
    lo, hi = score_range(pwm)
    steps = np.round((pwm - pwm.min(axis=1, keepdims=True)) / resolution).astype(int)
    size = int(steps.max(axis=1).sum()) + 1
    dist = np.zeros(size)
    dist[0] = 1.0
    for row in steps:
        new = np.zeros(size)
        for b in range(4):
            if row[b] == 0:
                new += background[b] * dist
            else:
                new[row[b]:] += background[b] * dist[: size - row[b]]
        dist = new
    tail = dist[::-1].cumsum()[::-1]  # P(score >= grid point)
    ok = np.nonzero(tail <= pvalue)[0]
    if ok.size == 0:
        return hi
    return lo + ok[0] * resolution
