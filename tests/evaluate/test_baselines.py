"""k-mer and GC baselines: features by hand, planted-word recovery, shuffled control at chance."""

from __future__ import annotations

import numpy as np
import pytest

from seq2func.core.metrics import auroc, pearson
from seq2func.core.sequence import encode
from seq2func.evaluate.baselines import (
    fit_baseline,
    gc_features,
    kmer_counts,
    kmer_names,
    top_kmers,
)


def test_kmer_counts_by_hand() -> None:
    x = kmer_counts(encode("AACGTT"), k=2, canonical=False).toarray()[0]
    names = ["".join(p) for p in (a + b for a in "ACGT" for b in "ACGT")]
    got = {names[i]: int(v) for i, v in enumerate(x) if v}
    assert got == {"AA": 1, "AC": 1, "CG": 1, "GT": 1, "TT": 1}
    # canonical: AA/TT merge, AC/GT merge, CG is its own reverse complement
    xc = kmer_counts(encode("AACGTT"), k=2).toarray()[0]
    cnames = kmer_names(2)
    assert len(cnames) == 10
    got_c = {cnames[i]: int(v) for i, v in enumerate(xc) if v}
    assert got_c == {"AA": 2, "AC": 2, "CG": 1}
    # windows with N are skipped
    assert kmer_counts(encode("ANAA"), k=2, canonical=False).sum() == 1


def test_gc_features() -> None:
    f = gc_features(np.stack([encode("GGCC"), encode("AATT"), encode("NNNN")]))
    np.testing.assert_allclose(f[:, 0], [1.0, 0.0, 0.5])
    np.testing.assert_allclose(f[:, 1], f[:, 0] ** 2)


def _planted(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, size=(n, 200)).astype(np.uint8)
    y = (rng.random(n) < 0.5)
    gc_rich = rng.random(n) < 0.5  # a GC-driven second task
    codes[gc_rich, :100] = rng.choice([1, 2], size=(int(gc_rich.sum()), 100))
    for i in np.flatnonzero(y):
        for _ in range(2):
            p = rng.integers(0, 192)
            codes[i, p : p + 7] = encode("TGAGTCA")  # AP-1 site
    counts = np.log1p(5 + 30 * y + rng.poisson(3, n))
    labels = np.stack([y, gc_rich], axis=1).astype(np.float32)
    return codes, labels, np.stack([counts, counts], axis=1)


def test_kmer_baseline_learns_planted_word_and_shuffled_is_chance() -> None:
    codes, labels, counts = _planted(800, 0)
    test_codes, test_labels, test_counts = _planted(400, 1)
    kmer = fit_baseline("kmer", codes, labels, counts, k=5)
    pred = kmer.predict(test_codes)
    assert auroc(test_labels[:, 0], pred["labels"][:, 0]) > 0.95
    assert pearson(test_counts[:, 0], pred["log_counts"][:, 0]) > 0.8
    words = [w for w, _ in top_kmers(kmer, task=0, n=6)]
    assert any(w in ("TGAGT", "GAGTC", "AGTCA", "ACTCA", "GACTC", "TGACT") for w in words)
    gc = fit_baseline("gc", codes, labels, counts)
    gpred = gc.predict(test_codes)
    assert auroc(test_labels[:, 1], gpred["labels"][:, 1]) > 0.95  # GC task: GC suffices
    assert auroc(test_labels[:, 0], gpred["labels"][:, 0]) < 0.7  # motif task: it does not
    shuf = fit_baseline("kmer_shuffled", codes, labels, counts, seed=3)
    spred = shuf.predict(test_codes)
    assert abs(auroc(test_labels[:, 0], spred["labels"][:, 0]) - 0.5) < 0.1


def test_single_class_task_is_an_error() -> None:
    codes, labels, _ = _planted(50, 2)
    labels[:, 0] = 1
    with pytest.raises(ValueError, match="single class"):
        fit_baseline("kmer", codes, labels)
    with pytest.raises(ValueError, match="unknown baseline"):
        fit_baseline("svm", codes, labels)
