"""Design and plant candidate regulatory elements (CREs): enhancers, promoters, CTCF sites, decoys.

Each CRE has a core of :data:`~seq2func.simulate.grammar.CORE_WIDTH` bases. A *recipe* lists the
motif sites to plant in it (motif, offset, strand, strong or weak); :func:`plant_sites` writes
them into the chromosome and returns the planted instances for the truth tables. Whether a CRE is
accessible is decided later, by scanning its final sequence with the grammar
(:mod:`seq2func.simulate.grammar`), so chance motif hits and weak decoys count exactly as much as
the grammar says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from seq2func.core.motifs import Motif, sample_instance, weaken_instance
from seq2func.simulate.genome import to_ascii
from seq2func.simulate.grammar import CORE_WIDTH, GRAMMARS, hit_threshold

#: bases of the core kept free at both ends when placing sites
CORE_MARGIN = 40
#: a strong site scores at least this many bits above the hit threshold
STRONG_MARGIN_BITS = 1.0
#: a weak (decoy) site scores at least this many bits below the hit threshold
WEAK_MARGIN_BITS = 2.0


@dataclass(frozen=True)
class PairDecoy:
    """A decoy design that plants both motifs of a pair rule but breaks the rule.

    ``distances`` is the range of the gap (``composite``: bases between the two on the
    composite's strand) or of the distance between the starts (otherwise) drawn by
    :meth:`_Layout.place_pair`; ``same_strand=False`` flips the second motif's strand.
    """

    rule: str
    first: str
    second: str
    distances: tuple[int, int]
    composite: bool
    same_strand: bool = True


#: the decoy designs of :func:`decoy_recipe` that break a pair rule of the grammar
PAIR_DECOYS: dict[str, PairDecoy] = {
    "TAL1-GATA1 wrong spacing": PairDecoy("TAL1-GATA1 composite", "TAL1", "GATA1", (14, 25),
                                          composite=True),
    "TAL1-GATA1 wrong orientation": PairDecoy("TAL1-GATA1 composite", "TAL1", "GATA1", (7, 9),
                                              composite=True, same_strand=False),
    "HNF4A, FOXA2 too far apart": PairDecoy("HNF4A+FOXA2 within 50 bp", "HNF4A", "FOXA2",
                                            (90, 200), composite=False),
    "AP1, TEAD1 too far apart (single AP1)": PairDecoy("AP-1+TEAD within 30 bp", "AP1",
                                                       "TEAD1", (90, 200), composite=False),
}


@dataclass(frozen=True)
class Site:
    """One motif site of a recipe: ``offset`` is the start within the core (0-based)."""

    motif: str
    offset: int
    strand: str
    strong: bool = True


class _Layout:
    """Free/occupied positions of one core, for placing non-overlapping sites."""

    def __init__(self, rng: np.random.Generator, width: int = CORE_WIDTH) -> None:
        self.rng = rng
        self.used = np.zeros(width, dtype=bool)
        self.width = width
        self.sites: list[Site] = []

    def fits(self, offset: int, length: int) -> bool:
        """Whether ``length`` bases at ``offset`` are free and inside the core's margins."""
        return (CORE_MARGIN <= offset and offset + length <= self.width - CORE_MARGIN
                and not self.used[offset : offset + length].any())

    def take(self, site: Site, length: int) -> None:
        """Occupy a site's bases (and one on each side) and record it."""
        self.used[max(0, site.offset - 1) : site.offset + length + 1] = True
        self.sites.append(site)

    def place(self, motif: str, length: int, strong: bool = True, strand: str | None = None,
              tries: int = 200) -> int | None:
        """Place a site at a random free offset (random strand unless given).

        Returns
        -------
        int or None
            The offset, or None when no free offset was found in ``tries`` draws.
        """
        for _ in range(tries):
            off = int(self.rng.integers(CORE_MARGIN, self.width - CORE_MARGIN - length + 1))
            if self.fits(off, length):
                s = strand or ("+" if self.rng.random() < 0.5 else "-")
                self.take(Site(motif, off, s, strong), length)
                return off
        return None

    def place_pair(self, first: str, w_first: int, second: str, w_second: int,
                   distance_range: tuple[int, int], composite: bool, same_strand: bool = True,
                   tries: int = 200) -> bool:
        """Place two sites; for ``composite`` the distance is the gap between them on the
        strand of the composite, otherwise the distance between their starts."""
        for _ in range(tries):
            d = int(self.rng.integers(distance_range[0], distance_range[1] + 1))
            minus = self.rng.random() < 0.5
            if composite:
                if not minus:  # first(+) ... gap ... second(+)
                    a = int(self.rng.integers(0, self.width))
                    b = a + w_first + d
                    s_a, s_b = "+", "+"
                else:  # second(-) ... gap ... first(-) on the forward coordinates
                    b = int(self.rng.integers(0, self.width))
                    a = b + w_second + d
                    s_a, s_b = "-", "-"
                if not same_strand:
                    s_b = "-" if s_b == "+" else "+"
            else:
                a = int(self.rng.integers(0, self.width))
                b = a + d if self.rng.random() < 0.5 else a - d
                s_a = "+" if self.rng.random() < 0.5 else "-"
                s_b = "+" if self.rng.random() < 0.5 else "-"
            lo_a, hi_a = a, a + w_first
            lo_b, hi_b = b, b + w_second
            if hi_a > lo_b and hi_b > lo_a:
                continue
            if self.fits(a, w_first) and self.fits(b, w_second):
                self.take(Site(first, a, s_a), w_first)
                self.take(Site(second, b, s_b), w_second)
                return True
        return False


def enhancer_recipe(cell_type: str, motifs: Mapping[str, Motif], rng: np.random.Generator
                    ) -> tuple[str, list[Site]]:
    """Sites of an enhancer of ``cell_type``; returns (design name, sites).

    Designs span strong (full grammar) to weak (single sites) so that accessibility is graded.
    """
    lay = _Layout(rng)
    w = {k: m.length for k, m in motifs.items()}
    u = rng.random()
    if cell_type == "erythroid":
        if u < 0.45:
            design = "TAL1-GATA1 composite"
            lay.place_pair("TAL1", w["TAL1"], "GATA1", w["GATA1"], (7, 9), composite=True)
            if rng.random() < 0.5:
                lay.place("GATA1", w["GATA1"])
        elif u < 0.75:
            design = "GATA1 x2"
            lay.place("GATA1", w["GATA1"])
            lay.place("GATA1", w["GATA1"])
        else:
            design = "GATA1 + TAL1 (no composite)"
            lay.place_pair("GATA1", w["GATA1"], "TAL1", w["TAL1"], (40, 120), composite=False)
    elif cell_type == "hepatocyte":
        if u < 0.45:
            design = "HNF4A+FOXA2"
            lay.place_pair("HNF4A", w["HNF4A"], "FOXA2", w["FOXA2"], (12, 45), composite=False)
            if rng.random() < 0.5:
                lay.place("CEBPB", w["CEBPB"])
        elif u < 0.75:
            design = "FOXA2 x2 + CEBPB"
            lay.place("FOXA2", w["FOXA2"])
            lay.place("FOXA2", w["FOXA2"])
            lay.place("CEBPB", w["CEBPB"])
        else:
            design = "HNF4A + CEBPB"
            lay.place("HNF4A", w["HNF4A"])
            lay.place("CEBPB", w["CEBPB"])
    elif cell_type == "fibroblast":
        if u < 0.45:
            design = "AP1+TEAD1"
            lay.place_pair("AP1", w["AP1"], "TEAD1", w["TEAD1"], (11, 28), composite=False)
            if rng.random() < 0.5:
                lay.place("AP1", w["AP1"])
        elif u < 0.75:
            design = "AP1 x2"
            lay.place("AP1", w["AP1"])
            lay.place("AP1", w["AP1"])
        else:
            design = "AP1 + TEAD1 (far)"
            lay.place_pair("AP1", w["AP1"], "TEAD1", w["TEAD1"], (60, 150), composite=False)
    else:
        raise KeyError(f"no enhancer grammar for cell type {cell_type!r}; known: {list(GRAMMARS)}")
    _add_weak_decoys(lay, motifs, rng, int(rng.integers(0, 3)))
    return design, lay.sites


def decoy_recipe(motifs: Mapping[str, Motif], rng: np.random.Generator) -> tuple[str, list[Site]]:
    """A CRE that resembles an enhancer but breaks the grammar: weak sites, or strong sites with
    the wrong spacing/orientation."""
    lay = _Layout(rng)
    w = {k: m.length for k, m in motifs.items()}
    u = rng.random()
    if u < 0.4:
        cell = list(GRAMMARS)[int(rng.integers(len(GRAMMARS)))]
        design = f"weak {cell} sites"
        for name in GRAMMARS[cell].enhancer_motifs:
            lay.place(name, w[name], strong=False)
    else:
        design = list(PAIR_DECOYS)[int(np.searchsorted([0.6, 0.7, 0.85], u, side="right"))]
        d = PAIR_DECOYS[design]
        lay.place_pair(d.first, w[d.first], d.second, w[d.second], d.distances,
                       composite=d.composite, same_strand=d.same_strand)
    _add_weak_decoys(lay, motifs, rng, int(rng.integers(1, 3)))
    return design, lay.sites


def ctcf_recipe(motifs: Mapping[str, Motif], rng: np.random.Generator) -> tuple[str, list[Site]]:
    """A CTCF site near the core centre, either orientation."""
    lay = _Layout(rng)
    w = motifs["CTCF"].length
    off = CORE_WIDTH // 2 - w // 2 + int(rng.integers(-20, 21))
    lay.take(Site("CTCF", off, "+" if rng.random() < 0.5 else "-"), w)
    _add_weak_decoys(lay, motifs, rng, int(rng.integers(0, 2)))
    return "CTCF", lay.sites


def promoter_recipe(strand: str, motifs: Mapping[str, Motif], rng: np.random.Generator
                    ) -> tuple[str, list[Site]]:
    """Promoter motifs (SP1 1-2x, NRF1, NFYA, each present with some probability), mostly on the
    gene's strand, in the core (which spans TSS-200..TSS+100 on the gene's strand)."""
    lay = _Layout(rng)
    names = []
    if rng.random() < 0.65:
        names += ["SP1"] * int(rng.integers(1, 3))
    if rng.random() < 0.45:
        names.append("NRF1")
    if rng.random() < 0.5:
        names.append("NFYA")
    for name in names:
        s = strand if rng.random() < 0.7 else ("-" if strand == "+" else "+")
        lay.place(name, motifs[name].length, strand=s)
    design = "+".join(names) if names else "no promoter motif"
    return design, lay.sites


def _add_weak_decoys(lay: _Layout, motifs: Mapping[str, Motif], rng: np.random.Generator,
                     n: int) -> None:
    """Place ``n`` weak sites of random motifs (decoys that score below the hit threshold)."""
    names = list(motifs)
    for _ in range(n):
        name = names[int(rng.integers(len(names)))]
        lay.place(name, motifs[name].length, strong=False)


def plant_sites(
    seq: np.ndarray,
    core_start: int,
    sites: list[Site],
    motifs: Mapping[str, Motif],
    rng: np.random.Generator,
) -> list[dict[str, object]]:
    """Write the sites of a recipe into ``seq`` (ASCII, in place; upper case).

    Returns one record per planted instance with absolute 0-based ``start``/``end``, ``strand``,
    ``motif``, ``motif_id``, ``strong`` and the log-odds ``score`` of the planted bases.
    """
    out = []
    for site in sites:
        m = motifs[site.motif]
        pwm = m.log_odds()
        thr = hit_threshold(m)
        inst = sample_instance(m, rng, min_score=thr + STRONG_MARGIN_BITS)
        if not site.strong:
            inst = weaken_instance(m, inst, rng, max_score=thr - WEAK_MARGIN_BITS)
        score = float(pwm[np.arange(m.length), inst].sum())
        placed = (3 - inst)[::-1] if site.strand == "-" else inst
        start = core_start + site.offset
        seq[start : start + m.length] = to_ascii(placed)
        out.append({"start": start, "end": start + m.length, "strand": site.strand,
                    "motif": site.motif, "motif_id": m.motif_id, "strong": site.strong,
                    "score_bits": round(score, 3), "threshold_bits": round(thr, 3)})
    return out


def choose_positions(allowed: np.ndarray, n: int, min_distance: int, rng: np.random.Generator,
                     taken: list[int] | None = None) -> list[int]:
    """Draw up to ``n`` positions where ``allowed`` is True, at least ``min_distance`` apart from
    each other and from ``taken``. Rejection sampling; loops over candidates, not bases."""
    candidates = np.flatnonzero(allowed)
    if candidates.size == 0 or n <= 0:
        return []
    chosen: list[int] = []
    occupied = np.sort(np.array(taken or [], dtype=np.int64))
    placed = list(occupied)
    draws = rng.choice(candidates, size=min(candidates.size, 4 * n + 50), replace=False)
    for pos in draws:
        i = np.searchsorted(occupied, pos)
        near = False
        for j in (i - 1, i):
            if 0 <= j < occupied.size and abs(int(occupied[j]) - int(pos)) < min_distance:
                near = True
        if near:
            continue
        chosen.append(int(pos))
        placed.append(int(pos))
        occupied = np.insert(occupied, i, pos)
        if len(chosen) >= n:
            break
    return chosen
