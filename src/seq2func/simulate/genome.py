"""Background genome of the demo: Markov sequence, soft-masked repeats, gaps, satellites, CGIs.

Sequences are uint8 arrays of ASCII bytes (``b"ACGTacgtN"``): upper case is unique sequence,
lower case is soft-masked repeat, ``N`` is an assembly gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seq2func.core.sequence import ASCII_TO_CODE, CODE_TO_ASCII
from seq2func.simulate.markov import adjust_transitions, sample_markov

LOWER = np.frombuffer(b"acgtn", dtype=np.uint8)

#: simple repeat units (microsatellites); (GATA)n is a real, frequent human microsatellite and
#: doubles as a decoy for the GATA1 motif.
SIMPLE_UNITS = ("CA", "A", "AT", "AAAT", "GATA", "TTTC")


@dataclass(frozen=True)
class RepeatLibrary:
    """Consensus sequences (uint8 codes) of the repeat families of one simulated genome."""

    alu: np.ndarray
    l1: np.ndarray
    satellite: np.ndarray

    @classmethod
    def build(cls, probs: np.ndarray, rng: np.random.Generator) -> RepeatLibrary:
        """Draw consensus sequences: a GC-rich ~300 bp SINE with a poly-A tail, an AT-rich
        6 kb LINE and a 171 bp alpha-satellite-like monomer."""
        alu_body = sample_markov(adjust_transitions(probs, gc_scale=1.5, cpg_scale=1.0), 280, rng)
        alu = np.concatenate([alu_body, np.zeros(20, dtype=np.uint8)])  # A-rich tail (code 0)
        l1 = sample_markov(adjust_transitions(probs, gc_scale=0.8), 6000, rng)
        sat = sample_markov(adjust_transitions(probs, gc_scale=0.9), 171, rng)
        return cls(alu=alu, l1=l1, satellite=sat)


def to_ascii(codes: np.ndarray, lower: bool = False) -> np.ndarray:
    """Codes 0-4 to ASCII bytes (upper or lower case)."""
    return (LOWER if lower else CODE_TO_ASCII)[codes]


def to_upper(seq: np.ndarray) -> np.ndarray:
    """ASCII bases in upper case (a byte that is not a base becomes ``N``)."""
    return CODE_TO_ASCII[ASCII_TO_CODE[seq]]


def mutate(codes: np.ndarray, divergence: float, rng: np.random.Generator,
           cpg_keep: float = 0.25) -> np.ndarray:
    """Substitute a fraction ``divergence`` of positions, then deaminate CpGs.

    Old repeat copies lose most CpGs (methylated C -> T, i.e. CpG -> TpG or CpA), so after the
    random substitutions each CpG survives with probability ``cpg_keep``.
    """
    out = codes.copy()
    hit = rng.random(out.size) < divergence
    out[hit] = (out[hit] + rng.integers(1, 4, size=int(hit.sum()))) % 4
    cpg = np.flatnonzero((out[:-1] == 1) & (out[1:] == 2))
    lost = cpg[rng.random(cpg.size) >= cpg_keep]
    to_t = rng.random(lost.size) < 0.5
    out[lost[to_t]] = 3  # C -> T on this strand
    out[lost[~to_t] + 1] = 0  # G -> A (C -> T on the other strand)
    return out


def insert_repeats(seq: np.ndarray, lib: RepeatLibrary, fraction: float,
                   rng: np.random.Generator) -> list[tuple[int, int, str]]:
    """Overwrite about ``fraction`` of ``seq`` (ASCII, in place) with diverged repeat copies.

    Returns the inserted intervals ``(start, end, family)``. Families: 30% of repeat bases are
    SINE copies (2-15% divergence), 60% LINE fragments (5' truncated, 5-25% divergence), 10%
    simple repeats (20-80 bp, 0-5% divergence). Copies land on either strand, in lower case.
    """
    n = seq.size
    out: list[tuple[int, int, str]] = []
    budget = {"SINE": 0.3 * fraction * n, "LINE": 0.6 * fraction * n, "simple": 0.1 * fraction * n}
    for family, bases in budget.items():
        used = 0.0
        while used < bases:
            if family == "SINE":
                unit = lib.alu[: rng.integers(150, lib.alu.size + 1)]
                unit = mutate(unit, rng.uniform(0.02, 0.15), rng)
            elif family == "LINE":
                length = int(min(lib.l1.size, rng.lognormal(np.log(900), 0.8)) // 1)
                unit = mutate(lib.l1[lib.l1.size - max(length, 100):], rng.uniform(0.05, 0.25), rng)
            else:
                motif = SIMPLE_UNITS[rng.integers(len(SIMPLE_UNITS))]
                reps = int(rng.integers(20, 81) // len(motif)) + 1
                unit = np.frombuffer((motif * reps).encode(), dtype=np.uint8)
                unit = mutate(np.searchsorted(np.frombuffer(b"ACGT", np.uint8), unit).astype(
                    np.uint8), rng.uniform(0.0, 0.05), rng)
            if rng.random() < 0.5:
                unit = (3 - unit)[::-1]
            if unit.size >= n:
                break
            start = int(rng.integers(0, n - unit.size))
            seq[start : start + unit.size] = to_ascii(unit, lower=True)
            out.append((start, start + unit.size, family))
            used += unit.size
    return out


def gap_intervals(length: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Assembly gaps: telomeric N runs at both ends, one centromeric gap and a few small gaps."""
    tel = min(10_000, max(100, length // 100))
    cen_len = max(20_000, length // 100) if length >= 1_000_000 else length // 50
    cen_start = int(length * rng.uniform(0.35, 0.45))
    gaps = [(0, tel), (cen_start, cen_start + cen_len), (length - tel, length)]
    for _ in range(int(rng.poisson(length / 2e6))):
        g_len = int(rng.integers(100, 2001))
        s = int(rng.integers(tel, length - tel - g_len))
        gaps.append((s, s + g_len))
    return sorted(gaps)


def satellite_array(lib: RepeatLibrary, length: int, rng: np.random.Generator) -> np.ndarray:
    """A tandem array of diverged satellite monomers (ASCII, lower case) of ``length`` bases."""
    reps = -(-length // lib.satellite.size)
    unit = np.concatenate([mutate(lib.satellite, rng.uniform(0.02, 0.1), rng) for _ in range(reps)])
    return to_ascii(unit[:length], lower=True)


def cgi_transitions(probs: np.ndarray) -> np.ndarray:
    """Transition matrix for CpG islands: GC ~65%, CpG observed/expected ~0.8."""
    return adjust_transitions(probs, gc_scale=2.2, cpg_scale=3.2)


def isochore_background(probs: np.ndarray, length: int, gc_sd: float,
                        rng: np.random.Generator, mean_domain: float = 300_000) -> np.ndarray:
    """Background codes with isochore-like GC domains.

    The chromosome is cut into domains of log-normal length (median ``mean_domain``); each is
    drawn from the Markov chain with its C/G emission scaled by ``exp(N(0, gc_sd))``, so GC varies
    over hundreds of kilobases (human isochores span ~35-55% GC) instead of being uniform. With
    ``gc_sd = 0`` this is a single homogeneous draw.
    """
    if gc_sd <= 0:
        return sample_markov(probs, length, rng)
    parts = []
    done = 0
    while done < length:
        n = int(min(length - done, max(20_000, rng.lognormal(np.log(mean_domain), 0.6))))
        scale = float(np.exp(rng.normal(0.0, gc_sd)))
        parts.append(sample_markov(adjust_transitions(probs, gc_scale=scale), n, rng))
        done += n
    return np.concatenate(parts)
