"""Sequence encodings, JASPAR I/O, motif scanning, p-value thresholds, Markov background."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from conftest import MOTIFS
from seq2func.core.motifs import (
    Motif,
    format_jaspar,
    read_jaspar,
    sample_instance,
    scan,
    score_pvalue_threshold,
    weaken_instance,
)
from seq2func.core.sequence import (
    cpg_observed_expected,
    decode,
    encode,
    gc_fraction,
    one_hot,
    reverse_complement,
)
from seq2func.simulate.markov import (
    fit_markov,
    load_markov,
    sample_markov,
    transition_probabilities,
)


def test_encode_decode_reverse_complement() -> None:
    codes = encode("ACGTNacgtR")
    assert codes.tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]
    assert decode(reverse_complement(encode("AACGTN"))) == "NACGTT"
    oh = one_hot(encode("AN"))
    assert oh.shape == (2, 4) and oh[0].tolist() == [1, 0, 0, 0] and oh[1].sum() == 0
    assert gc_fraction(encode("GGCCAT")) == pytest.approx(4 / 6)
    assert cpg_observed_expected(encode("CGCGCGCG")) == pytest.approx(2.0)


def test_jaspar_roundtrip_keeps_counts(tmp_path: Path) -> None:
    motifs = read_jaspar(MOTIFS)
    assert len(motifs) == 11
    p = tmp_path / "m.jaspar"
    p.write_text(format_jaspar(motifs))
    again = read_jaspar(p)
    for a, b in zip(motifs, again, strict=True):
        assert a.motif_id == b.motif_id and a.name == b.name
        np.testing.assert_array_equal(a.counts, b.counts)


def test_motif_file_matches_table() -> None:
    ids = [line.split("\t")[0] for line in (MOTIFS.parent / "motifs.tsv").read_text()
           .splitlines()[1:]]
    assert [m.motif_id for m in read_jaspar(MOTIFS)] == ids


def test_scan_equals_brute_force() -> None:
    rng = np.random.default_rng(1)
    motif = read_jaspar(MOTIFS)[0]
    pwm = motif.log_odds()
    seqs = rng.integers(0, 5, size=(3, 40)).astype(np.uint8)
    got = scan(seqs, pwm)
    w = motif.length
    rc_pwm = pwm[::-1, ::-1]
    for i in range(3):
        for j in range(40 - w + 1):
            win = seqs[i, j : j + w]
            fwd = sum(pwm[k, b] if b < 4 else pwm[k].min() for k, b in enumerate(win))
            rev = sum(rc_pwm[k, b] if b < 4 else rc_pwm[k].min() for k, b in enumerate(win))
            assert got[i, j, 0] == pytest.approx(fwd)
            assert got[i, j, 1] == pytest.approx(rev)
    # a site planted on the minus strand scores on the reverse strand
    site = motif.counts.argmax(axis=1).astype(np.uint8)
    s = np.full(30, 0, dtype=np.uint8)
    s[10 : 10 + w] = reverse_complement(site)
    assert scan(s, pwm)[10, 1] == pytest.approx(pwm.max(axis=1).sum())


def test_pvalue_threshold_matches_enumeration() -> None:
    counts = np.array([[8, 1, 1, 0], [0, 0, 9, 1], [1, 1, 1, 7], [2, 2, 3, 3], [0, 9, 0, 1]],
                      dtype=float)
    m = Motif("X", "X", counts)
    pwm = m.log_odds()
    bg = np.array([0.295, 0.205, 0.205, 0.295])
    scores, probs = [], []
    for kmer in itertools.product(range(4), repeat=5):
        scores.append(sum(pwm[i, b] for i, b in enumerate(kmer)))
        probs.append(np.prod([bg[b] for b in kmer]))
    scores, probs = np.array(scores), np.array(probs)
    for pv in (1e-1, 1e-2, 1e-3):
        thr = score_pvalue_threshold(pwm, pv, bg, resolution=0.001)
        assert probs[scores >= thr - 1e-9].sum() <= pv * 1.05
        # the threshold is tight: lowering it by the smallest score gap exceeds the p-value
        below = scores[scores < thr - 0.01]
        if below.size:
            assert probs[scores >= below.max()].sum() > pv


def test_sample_and_weaken_instances() -> None:
    rng = np.random.default_rng(3)
    for motif in read_jaspar(MOTIFS):
        pwm = motif.log_odds()
        thr = score_pvalue_threshold(pwm, 1e-4)
        rows = np.arange(motif.length)
        site = sample_instance(motif, rng, min_score=thr + 1)
        assert pwm[rows, site].sum() >= thr + 1 - 1e-9
        weak = weaken_instance(motif, site, rng, max_score=thr - 2)
        assert pwm[rows, weak].sum() < thr - 2
        assert (weak != site).sum() <= motif.length // 2 + 1


def test_markov_model_is_human_like_and_deterministic() -> None:
    probs = transition_probabilities(load_markov())
    a = sample_markov(probs, 300_000, np.random.default_rng(5))
    b = sample_markov(probs, 300_000, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert 0.39 < gc_fraction(a) < 0.43
    assert cpg_observed_expected(a) < 0.35  # CpG depletion
    refit = transition_probabilities(fit_markov([a], 5))
    assert np.abs(refit - probs).mean() < 0.03
