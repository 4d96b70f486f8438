"""In-silico experiments: motif substitution, marginalisation and footprints."""

from __future__ import annotations

import numpy as np
import pytest

from seq2func.core.sequence import decode, encode
from seq2func.interpret.insilico import (
    consensus_codes,
    footprint,
    insertion_effects,
    marginalize,
    substitute,
)


class CountsGATA:
    """A stand-in model: log counts = number of GATA words (either strand); profile = where."""

    def predict_on_batch(self, x: np.ndarray) -> dict:  # as predict_batched calls it
        return self.predict(x)

    def predict(self, x: np.ndarray, batch_size: int = 256, verbose: int = 0) -> dict:
        codes = x.argmax(-1)
        word = encode("GATA")
        hits = np.zeros(codes.shape, dtype=np.float32)
        for i in range(codes.shape[1] - 3):
            hits[:, i] += (codes[:, i:i + 4] == word).all(axis=1)
        profile = np.log(hits + 1e-3)[:, :, None]
        return {"log_counts": hits.sum(1, keepdims=True), "profile": profile}


def test_substitute_writes_the_motif_centred_or_per_sequence() -> None:
    bg = np.zeros((3, 10), dtype=np.uint8)  # AAAAAAAAAA
    out = substitute(bg, "GATA")
    assert [decode(r) for r in out] == ["AAAGATAAAA"] * 3
    assert (bg == 0).all()  # a copy
    out = substitute(bg, "CC", np.array([0, 4, 8]))
    assert [decode(r) for r in out] == ["CCAAAAAAAA", "AAAACCAAAA", "AAAAAAAACC"]
    with pytest.raises(ValueError, match="does not fit"):
        substitute(bg, "CC", 9)


def test_consensus_of_a_ppm() -> None:
    ppm = np.array([[0.1, 0.1, 0.7, 0.1], [0.9, 0, 0, 0.1], [0, 0, 0, 1], [0.6, 0.2, 0.1, 0.1]])
    assert decode(consensus_codes(ppm)) == "GATA"


def test_marginalisation_and_insertion_effects_measure_the_planted_word() -> None:
    rng = np.random.default_rng(0)
    bg = rng.choice(np.array([0, 1], dtype=np.uint8), size=(20, 40))  # A/C only: no GATA
    before, after = marginalize(CountsGATA(), bg, "GATA")
    assert np.allclose(before["log_counts"], 0)
    # strand average: GATA on the forward strand, TATC (no GATA) on the reverse one
    assert np.allclose(after["log_counts"], 0.5)
    eff = insertion_effects(CountsGATA(), bg, ["GATA", "CCCC"], "log_counts")
    assert eff.shape == (2, 20, 1)
    assert np.allclose(eff[0], 0.5) and np.allclose(eff[1], 0)
    # the footprint peaks where the word was written
    fp = footprint(after["profile"])
    assert fp.shape == (40, 1) and int(fp[:, 0].argmax()) in (18, 19)


def test_the_profile_target_ignores_a_constant_shift_of_the_logits() -> None:
    """Shifting every profile logit leaves the profile, and so the target, unchanged."""
    import keras

    from seq2func.interpret.attributions import target_outputs

    def model(shift: float) -> keras.Model:
        x_in = keras.Input((20, 4))
        conv = keras.layers.Conv1D(1, 3, padding="same", kernel_initializer="ones",
                                   name="conv")(x_in)
        logits = keras.layers.Lambda(lambda z: z + shift, name="profile")(conv)
        counts = keras.layers.GlobalAveragePooling1D(name="log_counts")(conv)
        return keras.Model(x_in, {"profile": logits, "log_counts": counts})

    plain, moved = model(0.0), model(7.0)
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(0).integers(0, 4, (5, 20))]
    a = np.asarray(target_outputs(plain, "profile")(x))
    b = np.asarray(target_outputs(moved, "profile")(x))
    np.testing.assert_allclose(a, b, atol=1e-5)
