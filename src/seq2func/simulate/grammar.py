"""Cis-regulatory grammar of the demo genome: the single source of truth for accessibility.

The probability that a candidate regulatory element (CRE) is accessible in a cell type is a
logistic function of motif features computed by scanning the CRE's *core* sequence (the
``CORE_WIDTH`` bases around its centre) with the JASPAR matrices of :data:`MOTIF_ROLES`:

``logit = bias + sum_m w_m * min(count_m, cap_m) + pair terms + CpG term``

* ``count_m`` is a soft count of hits of motif *m*: the sum over positions of
  ``sigmoid((score - threshold_m) / HIT_SOFTNESS_BITS)`` (best strand per position), where
  ``threshold_m`` is the log-odds score with background p-value ``HIT_PVALUE``;
* pair terms encode cooperativity with spacing/orientation rules: the erythroid TAL1-GATA
  composite (E-box, then GATA 7-9 bp downstream on the same strand), HNF4A with FOXA2 within 50 bp,
  AP-1 with TEAD within 30 bp;
* CTCF and the promoter motifs SP1, NRF1 and NFYA act in every cell type; the CpG term models
  CpG-island promoters.

Because the same function (:func:`accessibility_terms`) is used to simulate the data, to score the
true effect of a variant and to compute the Bayes-optimal ceiling, evaluation can compare what a
model learned with the truth exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter1d

from seq2func.core.motifs import Motif, scan, score_pvalue_threshold

#: Width of the core sequence scanned for each CRE (bp).
CORE_WIDTH = 300
#: Background p-value of the log-odds score at which a site counts as half a hit.
HIT_PVALUE = 1e-4
#: Softness (in bits) of the hit sigmoid around the threshold.
HIT_SOFTNESS_BITS = 0.25
#: Stricter p-values for long motifs, whose chance hits would otherwise be too frequent.
HIT_PVALUE_OVERRIDES = {"MA0139.2": 1e-5}  # CTCF

#: Motif name -> JASPAR matrix ID, for the motifs the grammar uses.
MOTIF_IDS: dict[str, str] = {
    "GATA1": "MA0035.5",
    "TAL1": "MA0091.2",
    "HNF4A": "MA0114.5",
    "FOXA2": "MA0047.4",
    "CEBPB": "MA0466.4",
    "AP1": "MA0099.4",
    "TEAD1": "MA0090.4",
    "CTCF": "MA0139.2",
    "SP1": "MA0079.5",
    "NRF1": "MA0506.3",
    "NFYA": "MA0060.4",
}

@dataclass(frozen=True)
class PairRule:
    """Cooperative pair of motifs.

    ``kind="composite"``: ``first`` then ``second`` on the same strand with a gap (bases between
    the end of ``first`` and the start of ``second``) in ``gaps``. ``kind="proximity"``: both
    within ``distance`` bp in any orientation.
    """

    name: str
    first: str
    second: str
    weight: float
    kind: str = "proximity"
    gaps: tuple[int, ...] = ()
    distance: int = 0


@dataclass(frozen=True)
class CellGrammar:
    """Logit terms of one cell type."""

    name: str
    bias: float
    motif_weights: Mapping[str, float]
    motif_caps: Mapping[str, float]
    pairs: Sequence[PairRule] = field(default_factory=tuple)
    #: motifs that make this cell type's enhancers (used for planting and footprints)
    enhancer_motifs: Sequence[str] = field(default_factory=tuple)


SHARED_WEIGHTS = {"CTCF": 5.0, "SP1": 0.9, "NRF1": 1.1, "NFYA": 0.8}
SHARED_CAPS = {"CTCF": 1.0, "SP1": 1.0, "NRF1": 1.0, "NFYA": 1.0}
#: logit added per CpG dinucleotide in the core (saturating at CPG_SATURATION)
CPG_WEIGHT = 3.5
CPG_SATURATION = 24.0

GRAMMARS: dict[str, CellGrammar] = {
    "erythroid": CellGrammar(
        name="erythroid",
        bias=-4.5,
        motif_weights={"GATA1": 1.3, "TAL1": 0.4, **SHARED_WEIGHTS},
        motif_caps={"GATA1": 2.0, "TAL1": 1.0, **SHARED_CAPS},
        pairs=(PairRule("TAL1-GATA1 composite", "TAL1", "GATA1", 3.2, "composite", (7, 8, 9)),),
        enhancer_motifs=("GATA1", "TAL1"),
    ),
    "hepatocyte": CellGrammar(
        name="hepatocyte",
        bias=-4.5,
        motif_weights={"HNF4A": 1.4, "FOXA2": 1.2, "CEBPB": 0.9, **SHARED_WEIGHTS},
        motif_caps={"HNF4A": 2.0, "FOXA2": 2.0, "CEBPB": 2.0, **SHARED_CAPS},
        pairs=(PairRule("HNF4A+FOXA2 within 50 bp", "HNF4A", "FOXA2", 2.0, "proximity",
                        distance=50),),
        enhancer_motifs=("HNF4A", "FOXA2", "CEBPB"),
    ),
    "fibroblast": CellGrammar(
        name="fibroblast",
        bias=-4.5,
        motif_weights={"AP1": 1.8, "TEAD1": 0.8, **SHARED_WEIGHTS},
        motif_caps={"AP1": 2.0, "TEAD1": 1.0, **SHARED_CAPS},
        pairs=(PairRule("AP-1+TEAD within 30 bp", "AP1", "TEAD1", 1.5, "proximity",
                        distance=30),),
        enhancer_motifs=("AP1", "TEAD1"),
    ),
}


def load_grammar_motifs(motifs: Sequence[Motif]) -> dict[str, Motif]:
    """Map grammar motif names to the matrices read from the JASPAR file (by matrix ID)."""
    by_id = {m.motif_id: m for m in motifs}
    missing = [f"{k} ({v})" for k, v in MOTIF_IDS.items() if v not in by_id]
    if missing:
        raise KeyError(f"motif file lacks the matrices the demo grammar needs: {missing}")
    return {name: by_id[mid] for name, mid in MOTIF_IDS.items()}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


_THRESHOLDS: dict[str, float] = {}


def hit_threshold(motif: Motif) -> float:
    """Log-odds score (bits) with background p-value :data:`HIT_PVALUE` (cached per matrix)."""
    if motif.motif_id not in _THRESHOLDS:
        pvalue = HIT_PVALUE_OVERRIDES.get(motif.motif_id, HIT_PVALUE)
        _THRESHOLDS[motif.motif_id] = score_pvalue_threshold(motif.log_odds(), pvalue)
    return _THRESHOLDS[motif.motif_id]


def presence(codes: np.ndarray, motif: Motif) -> np.ndarray:
    """Soft hit indicator per window and strand, ``(n, L - w + 1, 2)`` in [0, 1]."""
    scores = scan(np.atleast_2d(codes), motif.log_odds())
    return _sigmoid((scores - hit_threshold(motif)) / HIT_SOFTNESS_BITS)


def _composite(p_first: np.ndarray, p_second: np.ndarray, w_first: int, w_second: int,
               gaps: Sequence[int]) -> np.ndarray:
    """Best product of a first->second composite on either strand, per sequence."""
    n, n_first, n_second = p_first.shape[0], p_first.shape[1], p_second.shape[1]
    best = np.zeros(n)
    for gap in gaps:
        shift = w_first + gap  # forward: second starts w_first + gap after the first's start
        m = min(n_first, n_second - shift)
        if m > 0:
            best = np.maximum(best, (p_first[:, :m, 0] * p_second[:, shift : shift + m, 0])
                              .max(axis=1))
        shift = w_second + gap  # reverse strand: the second's reverse complement comes first
        m = min(n_second, n_first - shift)
        if m > 0:
            best = np.maximum(best, (p_second[:, :m, 1] * p_first[:, shift : shift + m, 1])
                              .max(axis=1))
    return best


def _proximity(p_a: np.ndarray, p_b: np.ndarray, distance: int) -> np.ndarray:
    """Best product of a hit of A and a hit of B within ``distance`` bp, per sequence."""
    a = p_a.max(axis=2)
    b = p_b.max(axis=2)
    n_win = min(a.shape[1], b.shape[1])
    a, b = a[:, :n_win], b[:, :n_win]
    b_near = maximum_filter1d(b, size=2 * distance + 1, axis=1, mode="constant")
    return (a * b_near).max(axis=1)


def motif_features(codes: np.ndarray, motifs: Mapping[str, Motif]) -> pd.DataFrame:
    """Soft counts of every grammar motif, pair features and CpG count for each sequence.

    Parameters
    ----------
    codes
        ``(n, L)`` uint8 codes (the CRE cores).
    motifs
        Grammar motif name -> matrix (see :func:`load_grammar_motifs`).
    """
    codes = np.atleast_2d(codes)
    pres = {name: presence(codes, m) for name, m in motifs.items()}
    feats: dict[str, np.ndarray] = {}
    for name, p in pres.items():
        feats[f"count_{name}"] = p.max(axis=2).sum(axis=1)
    seen: set[str] = set()
    for g in GRAMMARS.values():
        for rule in g.pairs:
            if rule.name in seen:
                continue
            seen.add(rule.name)
            if rule.kind == "composite":
                feats[f"pair_{rule.name}"] = _composite(
                    pres[rule.first], pres[rule.second], motifs[rule.first].length,
                    motifs[rule.second].length, rule.gaps)
            else:
                feats[f"pair_{rule.name}"] = _proximity(pres[rule.first], pres[rule.second],
                                                        rule.distance)
    feats["cpg_count"] = ((codes[:, :-1] == 1) & (codes[:, 1:] == 2)).sum(axis=1).astype(float)
    return pd.DataFrame(feats)


def accessibility_terms(features: pd.DataFrame, cell_type: str) -> pd.DataFrame:
    """Per-term logit contributions and the total logit of one cell type.

    Returns a frame with one column per term (``bias``, ``motif_<name>``, ``pair_<rule>``,
    ``cpg``) and ``logit``.
    """
    g = GRAMMARS[cell_type]
    out = pd.DataFrame(index=features.index)
    out["bias"] = g.bias
    for name, w in g.motif_weights.items():
        out[f"motif_{name}"] = w * np.minimum(features[f"count_{name}"], g.motif_caps[name])
    for rule in g.pairs:
        out[f"pair_{rule.name}"] = rule.weight * features[f"pair_{rule.name}"]
    out["cpg"] = CPG_WEIGHT * np.minimum(features["cpg_count"] / CPG_SATURATION, 1.0)
    out["logit"] = out.sum(axis=1)
    return out


def accessibility_logits(codes: np.ndarray, motifs: Mapping[str, Motif],
                         cell_types: Sequence[str]) -> np.ndarray:
    """True accessibility logits ``(n, len(cell_types))`` of the given core sequences."""
    feats = motif_features(codes, motifs)
    return np.stack([accessibility_terms(feats, c)["logit"].to_numpy() for c in cell_types],
                    axis=1)


def describe_grammars() -> dict[str, object]:
    """JSON-serialisable description of every rule and weight (written to the truth folder)."""
    return {
        "core_width": CORE_WIDTH,
        "hit_pvalue": HIT_PVALUE,
        "hit_softness_bits": HIT_SOFTNESS_BITS,
        "hit_pvalue_overrides": HIT_PVALUE_OVERRIDES,
        "motif_ids": MOTIF_IDS,
        "cpg_weight": CPG_WEIGHT,
        "cpg_saturation": CPG_SATURATION,
        "cell_types": {
            name: {
                "bias": g.bias,
                "motif_weights": dict(g.motif_weights),
                "motif_caps": dict(g.motif_caps),
                "pairs": [rule.__dict__ for rule in g.pairs],
                "enhancer_motifs": list(g.enhancer_motifs),
            }
            for name, g in GRAMMARS.items()
        },
    }
