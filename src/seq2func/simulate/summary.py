"""The truth summary of a simulated study (``truth/simulation.json``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.sequence import ASCII_TO_CODE, cpg_observed_expected, gc_fraction
from seq2func.simulate import genes as genes_mod
from seq2func.simulate.assays import ARTEFACT_RATE, SAMPLE_SD
from seq2func.simulate.elements import AMPLITUDE_SD, AMPLITUDE_SLOPE
from seq2func.simulate.grammar import describe_grammars
from seq2func.simulate.settings import SimulationConfig
from seq2func.simulate.variants import EFFECT_THRESHOLD_LOGIT


def sequence_stats(seq: np.ndarray) -> dict[str, Any]:
    """Composition of one chromosome.

    Returns
    -------
    dict
        ``gc_num`` (GC fraction times ACGT bases), ``acgt``, ``lower`` (soft-masked) and ``n``
        base counts, and ``cpg_oe`` (CpG observed/expected).
    """
    codes = ASCII_TO_CODE[seq]
    acgt = int((codes < 4).sum())
    return {"gc_num": float(gc_fraction(codes)) * acgt, "acgt": acgt,
            "lower": int((seq >= ord("a")).sum()), "n": int((codes == 4).sum()),
            "cpg_oe": cpg_observed_expected(codes)}


def genome_stats(per_chromosome: Iterable[Mapping[str, Any]], genome_len: int
                 ) -> dict[str, Any]:
    """The genome's composition from :func:`sequence_stats` of each chromosome, in order."""
    gc_num, acgt, lower, n, cpg_oe = 0.0, 0, 0, 0, []
    for s in per_chromosome:
        gc_num += s["gc_num"]
        acgt += s["acgt"]
        lower += s["lower"]
        n += s["n"]
        cpg_oe.append(s["cpg_oe"])
    return {
        "length": genome_len,
        "gc_fraction": gc_num / max(acgt, 1),
        "soft_masked_fraction": lower / genome_len,
        "n_fraction": n / genome_len,
        "cpg_observed_expected_per_chrom": cpg_oe,
    }


def jsonable(obj: Any) -> Any:
    """``json.dumps`` default: numpy scalars as Python numbers, anything else as a string."""
    return obj.item() if isinstance(obj, np.generic) else str(obj)


def _explained(expr: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per sample: variance explainable from sequence and chromatin, and the r it allows."""
    explained = {}
    for s, sub in expr.groupby("sample", sort=False):
        y = np.log2(sub["tpm"] + 1)
        x = sub["explainable_log2"]
        explained[s] = {
            "var_explainable_over_total": float(np.var(x) / np.var(sub["log2_expression"])),
            "pearson_r_ceiling_log2tpm": float(np.corrcoef(x, y)[0, 1]),
        }
    return explained


def summarize(cfg: SimulationConfig, genome: Mapping[str, Any], cres: pd.DataFrame,
              inst: pd.DataFrame, expr: pd.DataFrame, variants: pd.DataFrame,
              peak_counts: Mapping[str, int], cell_types: Sequence[str]) -> dict[str, Any]:
    """The summary of a simulated study: parameters, models and what came out.

    Parameters
    ----------
    cfg
        Simulation parameters.
    genome
        Genome composition (:func:`genome_stats`).
    cres, inst, expr, variants
        The truth tables of CREs, planted motif instances, expression terms (with ``tpm``) and
        variants.
    peak_counts
        Sample -> number of peaks.
    cell_types
        Cell types of the study.
    """
    return {
        "config": cfg.to_config(),
        "grammar": describe_grammars(),
        "expression_model": {
            "base": genes_mod.BASE, "promoter_weights": genes_mod.PROMOTER_WEIGHTS,
            "cpg_promoter_weight": genes_mod.CPG_PROMOTER_WEIGHT,
            "enhancer_weight": genes_mod.ENHANCER_WEIGHT,
            "enhancer_range": genes_mod.ENHANCER_RANGE, "decay": genes_mod.DECAY,
            "gene_effect_sd": genes_mod.GENE_EFFECT_SD, "noise_sd": genes_mod.NOISE_SD,
        },
        "signal_model": {"amplitude_slope": AMPLITUDE_SLOPE, "amplitude_sd": AMPLITUDE_SD,
                         "sample_sd": SAMPLE_SD, "artefact_rate": ARTEFACT_RATE},
        "genome": dict(genome),
        "cres": {k: int(v) for k, v in cres["kind"].value_counts().sort_index().items()},
        "accessible_cres": {c: int(cres[f"accessible_{c}"].sum()) for c in cell_types},
        "planted_instances": {"strong": int(inst["strong"].sum()),
                              "weak_decoys": int((~inst["strong"]).sum())},
        "peaks": dict(peak_counts),
        "genes": int(expr["gene_id"].nunique()),
        "expression_explainable": _explained(expr),
        "variants": {k: int(v) for k, v in variants["type"].value_counts().sort_index().items()},
        "variants_with_true_effect": int(variants["true_effect"].sum()),
        "variant_effect_threshold_logit": float(EFFECT_THRESHOLD_LOGIT),
    }
