"""Variants of the demo genome with known effects.

Variant classes (fractions of the total):

* ``motif_break`` (35%): an SNV at an informative position of a planted strong motif, changed
  to the base the motif disfavours most;
* ``motif_deletion`` (8%): a 1-4 bp deletion starting inside a planted strong motif;
* ``spacing_insertion`` (7%): a 2-6 bp insertion inside a CRE core (may break a spacing rule);
* ``neutral_cre`` (15%): an SNV in a CRE core at least 5 bp from any planted site;
* ``neutral_far`` (35%): an SNV at least 2 kb from any CRE.

The true effect of every variant in a CRE is computed by rescanning the core with the alternate
allele through the same grammar that generated the accessibility
(:func:`seq2func.simulate.grammar.accessibility_terms`); variants far from CREs have no effect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from seq2func.core.motifs import Motif
from seq2func.core.sequence import ASCII_TO_CODE
from seq2func.simulate.genes import promoter_terms
from seq2func.simulate.genome import to_upper
from seq2func.simulate.grammar import CORE_WIDTH, accessibility_terms, motif_features

FRACTIONS = {
    "motif_break": 0.35,
    "motif_deletion": 0.08,
    "spacing_insertion": 0.07,
    "neutral_cre": 0.15,
    "neutral_far": 0.35,
}
#: a variant has a true effect if it changes some cell type's accessibility logit by this much
EFFECT_THRESHOLD_LOGIT = 0.5

def simulate_variants(
    chrom: str,
    seq: np.ndarray,
    cres: pd.DataFrame,
    instances: pd.DataFrame,
    motifs: Mapping[str, Motif],
    cell_types: Sequence[str],
    n: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw ``n`` variants on one chromosome and compute their true effects.

    Parameters
    ----------
    chrom, seq
        Chromosome name and final sequence (ASCII bytes).
    cres
        CREs of this chromosome (``cre_id``, ``core_start``, ``center``, ``kind``, ``gene_id``).
    instances
        Planted motif instances of this chromosome (``cre_id``, ``start``, ``end``, ``strand``,
        ``motif``, ``strong``).
    motifs
        Grammar motifs by name.
    cell_types
        Cell types whose accessibility effect is reported.
    n
        Number of variants.
    rng
        Random generator.

    Returns
    -------
    pandas.DataFrame
        One row per variant: ``chrom, pos`` (1-based VCF position), ``ref, alt, type, cre_id,
        motif, gene_id``, ``delta_logit_<cell>``, ``delta_p_<cell>``, ``delta_log2_expression``
        (promoter variants) and ``true_effect``.
    """
    counts = rng.multinomial(n, list(FRACTIONS.values()))
    strong = instances[instances["strong"]].reset_index(drop=True)
    cre_by_id = cres.set_index("cre_id")
    records: list[dict[str, object]] = []
    used: set[int] = set()

    def free(pos: int) -> bool:
        """Whether ``pos`` is more than 10 bp from every variant drawn so far."""
        return all(abs(pos - u) > 10 for u in used)

    for vtype, k in zip(FRACTIONS, counts, strict=True):
        for _ in range(int(k)):
            rec = None
            for _attempt in range(50):
                rec = _draw(vtype, chrom, seq, cres, strong, motifs, rng)
                if rec is not None and free(int(rec["_pos0"])):
                    break
                rec = None
            if rec is None:
                continue
            used.add(int(rec["_pos0"]))
            records.append(rec)
    if not records:
        return pd.DataFrame()
    df = pd.DataFrame(records)
    _score_effects(df, seq, cre_by_id, motifs, cell_types)
    return df.drop(columns=["_pos0", "_edit"]).sort_values("pos", kind="stable")


def _draw(vtype: str, chrom: str, seq: np.ndarray, cres: pd.DataFrame, strong: pd.DataFrame,
          motifs: Mapping[str, Motif], rng: np.random.Generator) -> dict[str, object] | None:
    """One candidate variant of class ``vtype`` (None when the draw is unusable)."""
    if vtype in ("motif_break", "motif_deletion"):
        return _draw_in_motif(vtype, chrom, seq, strong, motifs, rng)
    if vtype in ("spacing_insertion", "neutral_cre"):
        return _draw_in_core(vtype, chrom, seq, cres, strong, rng)
    return _draw_far(vtype, chrom, seq, cres, rng)


def _draw_in_motif(vtype: str, chrom: str, seq: np.ndarray, strong: pd.DataFrame,
                   motifs: Mapping[str, Motif], rng: np.random.Generator
                   ) -> dict[str, object] | None:
    """A ``motif_break`` SNV or ``motif_deletion`` at an informative base of a strong site."""
    if strong.empty:
        return None
    inst = strong.iloc[int(rng.integers(len(strong)))]
    m = motifs[str(inst["motif"])]
    probs = m.probabilities()
    info = (probs * np.log2(probs / 0.25)).sum(axis=1)
    top = np.argsort(-info, kind="stable")[:3]
    j = int(top[rng.integers(len(top))])  # position within the motif (motif orientation)
    pos0 = int(inst["start"]) + (j if inst["strand"] == "+" else m.length - 1 - j)
    if vtype == "motif_break":
        worst = int(np.argmin(probs[j]))
        alt_code = worst if inst["strand"] == "+" else 3 - worst
        ref = chr(to_upper(seq[pos0 : pos0 + 1])[0])
        alt = "ACGT"[alt_code]
        if ref == alt or ref == "N":
            return None
        edit = ("snv", pos0, alt)
        return _record(chrom, pos0 + 1, ref, alt, vtype, inst["cre_id"], inst["motif"], edit,
                       pos0)
    length = int(rng.integers(1, 5))
    anchor = pos0 - 1
    ref = to_upper(seq[anchor : pos0 + length]).tobytes().decode()
    alt = ref[0]
    edit = ("del", pos0, length)
    return _record(chrom, anchor + 1, ref, alt, vtype, inst["cre_id"], inst["motif"], edit,
                   pos0)


def _draw_in_core(vtype: str, chrom: str, seq: np.ndarray, cres: pd.DataFrame,
                  strong: pd.DataFrame, rng: np.random.Generator) -> dict[str, object] | None:
    """A ``spacing_insertion`` or a ``neutral_cre`` SNV (5 bp from any site) in a CRE core."""
    if cres.empty:
        return None
    cre = cres.iloc[int(rng.integers(len(cres)))]
    cs = int(cre["core_start"])
    pos0 = int(rng.integers(cs + 40, cs + CORE_WIDTH - 40))
    near = strong[(strong["cre_id"] == cre["cre_id"])]
    if vtype == "neutral_cre" and (
            ((near["start"] - 5 <= pos0) & (pos0 < near["end"] + 5)).any()):
        return None
    if vtype == "spacing_insertion":
        ins = "".join("ACGT"[i] for i in rng.integers(0, 4, size=int(rng.integers(2, 7))))
        ref = chr(to_upper(seq[pos0 - 1 : pos0])[0])
        if ref == "N":
            return None
        edit = ("ins", pos0, ins)
        return _record(chrom, pos0, ref, ref + ins, vtype, cre["cre_id"], "", edit, pos0)
    return _snv(chrom, seq, pos0, vtype, cre["cre_id"], rng)


def _draw_far(vtype: str, chrom: str, seq: np.ndarray, cres: pd.DataFrame,
              rng: np.random.Generator) -> dict[str, object] | None:
    """A ``neutral_far`` SNV, at least 2 kb from any CRE centre."""
    centers = np.sort(cres["center"].to_numpy()) if not cres.empty else np.zeros(0, int)
    pos0 = int(rng.integers(0, seq.size))
    if centers.size:
        i = np.searchsorted(centers, pos0)
        d = min(abs(int(centers[j]) - pos0) for j in (i - 1, i) if 0 <= j < centers.size)
        if d < 2000:
            return None
    return _snv(chrom, seq, pos0, vtype, "", rng)


def _snv(chrom: str, seq: np.ndarray, pos0: int, vtype: str, cre_id: object,
         rng: np.random.Generator) -> dict[str, object] | None:
    """A random SNV at ``pos0`` (None at an ``N``)."""
    ref = chr(to_upper(seq[pos0 : pos0 + 1])[0])
    if ref == "N":
        return None
    alt = "ACGT"[("ACGT".index(ref) + int(rng.integers(1, 4))) % 4]
    return _record(chrom, pos0 + 1, ref, alt, vtype, cre_id, "", ("snv", pos0, alt), pos0)


def _record(chrom: str, pos: int, ref: str, alt: str, vtype: str, cre_id: object, motif: object,
            edit: tuple, pos0: int) -> dict[str, object]:
    """A variant's record (``pos`` 1-based; ``_edit`` and ``_pos0`` are dropped later)."""
    return {"chrom": chrom, "pos": int(pos), "ref": ref, "alt": alt, "type": vtype,
            "cre_id": str(cre_id), "motif": str(motif), "_edit": edit, "_pos0": pos0}


def apply_edit(seq: np.ndarray, core_start: int, edit: tuple, width: int = CORE_WIDTH
               ) -> np.ndarray:
    """Alternate-allele core (ASCII) of ``width`` bases starting at ``core_start``.

    Deletions pull in bases from the right; insertions push bases out at the right.
    """
    kind, pos0, arg = edit
    window = seq[core_start : core_start + width + 16].copy()
    rel = pos0 - core_start
    if kind == "snv":
        window[rel] = ord(arg)
    elif kind == "del":
        window = np.concatenate([window[:rel], window[rel + int(arg):]])
    else:
        ins = np.frombuffer(str(arg).encode(), dtype=np.uint8)
        window = np.concatenate([window[:rel], ins, window[rel:]])
    return window[:width]


def _score_effects(df: pd.DataFrame, seq: np.ndarray, cre_by_id: pd.DataFrame,
                   motifs: Mapping[str, Motif], cell_types: Sequence[str]) -> None:
    """Add the true effects to ``df`` (in place): rescore each CRE core with the alternate allele.

    Adds ``delta_logit_<c>``, ``delta_p_<c>`` per cell type, ``gene_id`` and
    ``delta_log2_expression`` (promoter variants) and ``true_effect``.
    """
    in_cre = df["cre_id"] != ""
    for c in cell_types:
        df[f"delta_logit_{c}"] = 0.0
        df[f"delta_p_{c}"] = 0.0
    df["gene_id"] = ""
    df["delta_log2_expression"] = 0.0
    if not in_cre.any():
        df["true_effect"] = False
        return
    sub = df[in_cre]
    starts = cre_by_id.loc[sub["cre_id"], "core_start"].to_numpy().astype(int)
    ref_cores = np.stack([seq[s : s + CORE_WIDTH] for s in starts])
    alt_cores = np.stack([apply_edit(seq, s, e) for s, e in zip(starts, sub["_edit"], strict=True)])
    f_ref = motif_features(ASCII_TO_CODE[ref_cores], motifs)
    f_alt = motif_features(ASCII_TO_CODE[alt_cores], motifs)
    for c in cell_types:
        lr = accessibility_terms(f_ref, c)["logit"].to_numpy()
        la = accessibility_terms(f_alt, c)["logit"].to_numpy()
        df.loc[in_cre, f"delta_logit_{c}"] = la - lr
        df.loc[in_cre, f"delta_p_{c}"] = 1 / (1 + np.exp(-la)) - 1 / (1 + np.exp(-lr))
    kinds = cre_by_id.loc[sub["cre_id"], "kind"].to_numpy()
    is_prom = kinds == "promoter"
    if is_prom.any():
        d_expr = (promoter_terms(f_alt)["promoter_term"].to_numpy()
                  - promoter_terms(f_ref)["promoter_term"].to_numpy())
        idx = sub.index[is_prom]
        df.loc[idx, "delta_log2_expression"] = d_expr[is_prom]
        df.loc[idx, "gene_id"] = cre_by_id.loc[sub["cre_id"], "gene_id"].to_numpy()[is_prom]
    delta = df[[f"delta_logit_{c}" for c in cell_types]].abs().max(axis=1)
    df["true_effect"] = delta >= EFFECT_THRESHOLD_LOGIT


def vcf_text(variants: pd.DataFrame, chrom_sizes: Mapping[str, int], source: str) -> str:
    """A VCF 4.2 sites-only file (sorted by chromosome order then position)."""
    lines = [
        "##fileformat=VCFv4.2",
        f"##source={source}",
        "##reference=genome.fa",
        *[f"##contig=<ID={c},length={n}>" for c, n in chrom_sizes.items()],
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    order = {c: i for i, c in enumerate(chrom_sizes)}
    v = variants.assign(_o=variants["chrom"].map(order)).sort_values(["_o", "pos"], kind="stable")
    for r in v.itertuples(index=False):
        lines.append(f"{r.chrom}\t{r.pos}\t{r.variant_id}\t{r.ref}\t{r.alt}\t.\tPASS\t.")
    return "\n".join(lines) + "\n"
