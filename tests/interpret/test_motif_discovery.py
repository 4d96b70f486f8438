"""Motif similarity, trimming, JASPAR annotation, planted-motif recovery and TF-MoDISco."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import seq2func.interpret as md
from conftest import MOTIFS
from seq2func.core.motifs import Motif, read_jaspar


@pytest.fixture(scope="module")
def demo_db() -> dict[str, Motif]:
    return {m.name: m for m in read_jaspar(MOTIFS)}


def _ppm(m: Motif) -> np.ndarray:
    return md.ppm_of(m)


def test_similarity_is_one_for_identical_reverse_complement_and_sub_motifs(demo_db) -> None:
    ctcf = _ppm(demo_db["CTCF"])
    assert md.similarity(ctcf, ctcf) == pytest.approx(1.0)
    assert md.similarity(ctcf, ctcf[::-1, ::-1]) == pytest.approx(1.0)
    assert md.similarity(ctcf[3:15], ctcf) == pytest.approx(1.0)
    flat = np.full((10, 4), 0.25)
    assert md.similarity(ctcf, flat) == -1.0  # no variance: undefined, never a match


def test_similarity_separates_unrelated_motifs(demo_db) -> None:
    gata = _ppm(demo_db["GATA1"])
    for other in ("CTCF", "HNF4A", "TEAD1"):
        assert md.similarity(gata, _ppm(demo_db[other])) < 0.7


def _similarity_by_loop(a: np.ndarray, b: np.ndarray, min_overlap: float = 0.75,
                        of: str = "shorter") -> float:
    """The definition, one offset at a time (the reference for the vectorised version)."""
    a, b = np.asarray(a, float) - 0.25, np.asarray(b, float) - 0.25
    short = min(len(a), len(b)) if of == "shorter" else len(a)
    need = max(min(4, short), int(np.ceil(min_overlap * short)))
    best = -1.0
    if need > min(len(a), len(b)):
        return best
    for bb in (b, b[::-1, ::-1]):
        for off in range(-(len(bb) - need), len(a) - need + 1):
            a0, b0 = max(0, off), max(0, -off)
            n = min(len(a) - a0, len(bb) - b0)
            x, y = a[a0 : a0 + n].ravel(), bb[b0 : b0 + n].ravel()
            if x.std() == 0 or y.std() == 0:
                continue
            best = max(best, float(np.corrcoef(x, y)[0, 1]))
    return best


@pytest.mark.parametrize("of", ["shorter", "a"])
def test_similarity_equals_the_offset_by_offset_definition(demo_db, of) -> None:
    rng = np.random.default_rng(0)
    ppms = [_ppm(m) for m in demo_db.values()]
    ppms += [rng.dirichlet(np.full(4, 0.5), size=int(w)) for w in rng.integers(3, 25, 12)]
    for a in ppms[::2]:
        for b in ppms[1::3]:
            assert md.similarity(a, b, of=of) == pytest.approx(
                _similarity_by_loop(a, b, of=of), abs=1e-9)


def test_trim_keeps_the_informative_core() -> None:
    cwm = np.zeros((20, 4))
    cwm[8:12, 0] = 1.0
    cwm[2, 1] = 0.1  # below 30% of the maximum
    ppm = np.full((20, 4), 0.25)
    p, c = md.trim(ppm, cwm, 0.3, pad=1)
    assert len(p) == len(c) == 6
    assert np.abs(c).sum() == pytest.approx(4.0)


def test_annotate_finds_the_true_motif_of_a_noisy_pattern(demo_db) -> None:
    rng = np.random.default_rng(0)
    db = list(demo_db.values())
    patterns = []
    for name in ("GATA1", "CTCF", "FOXA2"):
        ppm = _ppm(demo_db[name])[::-1, ::-1]  # found on the other strand
        noisy = ppm + rng.uniform(0, 0.1, size=ppm.shape)
        noisy /= noisy.sum(axis=1, keepdims=True)
        flank = np.full((3, 4), 0.25)
        patterns.append(md.Pattern(f"t_pos_{name}", "t", 50, np.vstack([flank, noisy, flank]),
                                   np.zeros((len(noisy) + 6, 4))))
    table = md.annotate(patterns, db)
    assert table["best_name"].tolist() == ["GATA1", "CTCF", "FOXA2"]
    assert (table["similarity"] > 0.9).all()
    assert (table["similarity"] >= table["second_similarity"]).all()


def test_recovery_rows_score_planted_motifs(tmp_path: Path, demo_db) -> None:
    by_id = {m.motif_id: m for m in demo_db.values()}
    sim = tmp_path / "simulation.json"
    ids = {"GATA1": "MA0035.5", "TAL1": "MA0091.2", "CTCF": "MA0139.2"}
    sim.write_text(json.dumps({"grammar": {"motif_ids": ids, "cell_types": {
        "ery": {"motif_weights": {"GATA1": 1, "TAL1": 1, "CTCF": 1},
                "enhancer_motifs": ["GATA1", "TAL1"]}}}}))
    planted = md.planted_motifs(sim)
    gata = md.Pattern("e_pos_0", "e", 40, _ppm(demo_db["GATA1"]), np.zeros((1, 4)))
    ctcf_neg = md.Pattern("e_neg_0", "e", 40, _ppm(demo_db["CTCF"]), np.zeros((1, 4)))
    rows = md.recovery_rows([gata, ctcf_neg], "basset", {"e": "ery"}, planted, by_id)
    got = {(r.model, r.aggregation): r.value for r in rows}
    assert got[("basset:MA0035.5", "max_over_patterns")] == pytest.approx(1.0)
    assert got[("basset:MA0139.2", "max_over_patterns")] < 0.7  # negative patterns do not count
    tal1 = got[("basset:MA0091.2", "max_over_patterns")]
    assert got[("basset:all", "mean_over_cell_specific_motifs")] == pytest.approx(
        (1.0 + tal1) / 2, abs=1e-4)
    assert all(np.isnan(r.ci_low) and r.metric == "motif_recovery" for r in rows)
    none = md.recovery_rows([], "basset", {"e": "ery"}, planted, by_id)
    assert all(np.isnan(r.value) for r in none)


def test_patterns_round_trip(tmp_path: Path) -> None:
    pats = [md.Pattern("a_pos_0", "a", 30, np.full((5, 4), 0.25), np.ones((5, 4))),
            md.Pattern("b_pos_0", "b", 20, np.eye(4)[[0, 1, 2]], np.zeros((3, 4)))]
    md.save_patterns(tmp_path / "p.npz", pats)
    back = md.load_patterns(tmp_path / "p.npz")
    assert [(p.name, p.task, p.n_seqlets, p.ppm.shape) for p in back] == [
        ("a_pos_0", "a", 30, (5, 4)), ("b_pos_0", "b", 20, (3, 4))]


@pytest.mark.slow
def test_modisco_recovers_a_planted_motif_from_synthetic_attributions(demo_db, tmp_path) -> None:
    """Attributions that mark GATA1 instances give a GATA1-like pattern; logos draw."""
    pytest.importorskip("modiscolite")
    rng = np.random.default_rng(0)
    gata = _ppm(demo_db["GATA1"])
    n, length = 400, 120
    codes = rng.integers(0, 4, size=(n, length))
    hyp = rng.normal(0, 0.01, size=(n, length, 4))
    for i in range(n):
        s = int(rng.integers(10, length - 10 - len(gata)))
        site = np.array([rng.choice(4, p=p) for p in gata])
        codes[i, s : s + len(gata)] = site
        hyp[i, s : s + len(gata)] += np.log2(gata / 0.25) * 0.2
    one_hot = np.eye(4)[codes]
    pats = md.discover(one_hot, hyp, "ery", {"sliding_window_size": 11, "flank_size": 3,
                                             "n_leiden_runs": 2})
    assert pats, "TF-MoDISco found no pattern"
    table = md.annotate(pats, list(demo_db.values()))
    assert table["best_name"].iloc[0] == "GATA1"
    assert table["similarity"].iloc[0] > 0.8
    fig = md.plot_logos(pats, table, ["ery", "other"], top=2)
    from seq2func.core.plotting import save_figure

    files = save_figure(fig, tmp_path / "logos")
    assert all(f.stat().st_size > 0 for f in files)


def test_similarity_of_a_can_require_the_overlap_to_cover_a(demo_db) -> None:
    ctcf = _ppm(demo_db["CTCF"])
    part = ctcf[3:9]
    assert md.similarity(ctcf, part) == pytest.approx(1.0)  # the part lies inside CTCF
    assert md.similarity(ctcf, part, of="a") == -1.0  # but does not explain CTCF
    assert md.similarity(part, ctcf, of="a") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="of must be"):
        md.similarity(ctcf, part, of="longer")
