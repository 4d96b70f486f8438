"""In-silico grammar: insertion layouts, sweeps, the truth check against planted rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seq2func.core.sequence import decode, encode
from seq2func.interpret.grammar import (
    ORIENTATIONS,
    bootstrap_mean,
    build_sweep,
    low_signal_rows,
    marginal_effects,
    pair_sweep,
    pattern_pairs,
    spacing_grid,
    sweep_design,
    sweep_table,
)

REPO = Path(__file__).resolve().parents[2]
MOTIFS = REPO / "resources" / "motifs" / "jaspar2024_demo.jaspar"


class Composite:
    """Stand-in model: log counts = 2 where ``CCG`` is followed by ``GT`` after a gap of 2 or
    3 bases (forward strand only), plus 1 per ``CCG`` and 0.5 per ``GT``."""

    def predict_on_batch(self, x: np.ndarray) -> dict:  # as predict_batched calls it
        return self.predict(x)

    def predict(self, x: np.ndarray, batch_size: int = 256, verbose: int = 0) -> dict:
        seqs = [decode(r) for r in x.argmax(-1)]
        out = []
        for s in seqs:
            v = s.count("CCG") + 0.5 * s.count("GT")
            v += 2.0 * any(s.find("CCG" + "A" * g + "GT") >= 0 for g in (2, 3))
            out.append([v])
        return {"log_counts": np.asarray(out, dtype=np.float32)}


def test_insertions_are_where_and_on_the_strand_the_design_says() -> None:
    bg = np.zeros((2, 12), dtype=np.uint8)  # AAAAAAAAAAAA
    design = sweep_design(3, 2, [0, 2], 12)
    seqs = build_sweep(bg, "CCG", "GT", design)
    assert seqs.shape == (len(design) * 2, 12) and len(design) == 8 * 2
    got = {(str(k), str(a), str(b), int(s)): decode(seqs[2 * i])
           for i, (k, a, b, s) in enumerate(zip(design.kind, design.strand_first,
                                                design.strand_second, design.spacing,
                                                strict=True))}
    # span 5 at spacing 0 starts at 3; span 7 at spacing 2 starts at 2 (centred)
    assert got[("pair", "+", "+", 0)] == "AAACCGGTAAAA"
    assert got[("pair", "+", "-", 2)] == "AACCGAAACAAA"  # GT reverse complement: AC
    assert got[("pair", "-", "+", 2)] == "AACGGAAGTAAA"  # CCG reverse complement: CGG
    assert got[("pair", "-", "-", 0)] == "AAACGGACAAAA"
    assert got[("first", "-", "", 2)] == "AACGGAAAAAAA"
    assert got[("second", "", "+", 0)] == "AAAAAAGTAAAA"
    # both backgrounds of a condition are written alike, the backgrounds are untouched
    assert (seqs[0::2] == seqs[1::2]).all() and (bg == 0).all()
    with pytest.raises(ValueError, match="more than the 12-base input"):
        sweep_design(3, 2, [8], 12)
    with pytest.raises(ValueError, match="orientations"):
        sweep_design(3, 2, [0], 12, ["+/x"])


def test_a_sweep_finds_the_cooperative_spacing_and_orientation() -> None:
    bg = np.zeros((3, 30), dtype=np.uint8)
    # from 1: at spacing 0 the reverse strand of CCGGT, ACCGG, holds one more CCG
    spacings = np.arange(1, 8)
    sw = pair_sweep(Composite(), bg, "CCG", "GT", spacings, "log_counts")
    assert sw.interaction.shape == sw.pair_effect.shape == (4, 7, 3, 1)
    mean = sw.interaction.mean(axis=2)[..., 0]
    expected = np.zeros((4, 7))
    expected[ORIENTATIONS.index("+/+"), [1, 2]] = 1.0  # 2 on one strand of two: averaged 1
    np.testing.assert_allclose(mean, expected, atol=1e-6)
    # the raw pair effect adds the single motifs' effects: CCG 0.75 (1 forward; its reverse
    # strand TTCGGTT holds a GT: 0.5) and GT 0.25 (0.5 forward, none on AC)
    np.testing.assert_allclose(sw.pair_effect - sw.interaction, 1.0, atol=1e-6)
    table = sweep_table(sw, ["t"], n_boot=20)
    assert len(table) == 4 * 7 and set(table["orientation"]) == set(ORIENTATIONS)
    top = table.loc[table["interaction"].idxmax()]
    assert top["orientation"] == "+/+" and top["spacing"] in (2, 3)
    eff = marginal_effects(Composite(), bg, ["CCG", "GT", "TTT"], "log_counts")
    np.testing.assert_allclose(eff.mean(axis=1)[:, 0], [0.75, 0.25, 0.0])


def test_bootstrap_interval_brackets_the_mean_and_spacing_grid() -> None:
    v = np.random.default_rng(0).normal(1.0, 0.5, size=(2, 40, 3))
    mean, lo, hi = bootstrap_mean(v, n_boot=200, seed=1)
    assert mean.shape == lo.shape == (2, 3) and (lo < mean).all() and (mean < hi).all()
    assert np.allclose(bootstrap_mean(v, 0)[1], mean)
    assert spacing_grid(6, 3, [20, 3]).tolist() == [0, 3, 6, 20]


def test_backgrounds_are_regions_unlabelled_in_every_task() -> None:
    regions = pd.DataFrame({"label_a": [0, 1, 0, 0], "label_b": [0, 0, 1, 0],
                            "start": [10, 20, 30, 40]})
    rows = low_signal_rows(regions, ["label_a", "label_b"], 5, seed=0)
    assert rows["start"].tolist() == [10, 40]
    with pytest.raises(ValueError, match="no region is unlabelled"):
        low_signal_rows(regions.assign(label_a=1), ["label_a", "label_b"], 5, seed=0)


def test_pattern_pairs_pair_each_tasks_top_patterns() -> None:
    from seq2func.interpret.modisco import Pattern

    def pat(name: str, task: str, n: int) -> Pattern:
        return Pattern(name, task, n, np.full((4, 4), 0.25), np.zeros((4, 4)))

    pats = [pat("a_pos_0", "a", 50), pat("a_pos_1", "a", 40), pat("a_neg_0", "a", 90),
            pat("a_pos_2", "a", 10), pat("b_pos_0", "b", 30)]
    assert pattern_pairs(pats, 2) == [("a_pos_0", "a_pos_1")]
    assert len(pattern_pairs(pats, 3)) == 3 and pattern_pairs(pats, 0) == []


# ------------------------------------------------------------------------- truth check


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory):
    """The demo grammar's rules and decoys and its motifs (consensus sequences)."""
    from seq2func.core.motifs import read_jaspar
    from seq2func.interpret.annotate import ppm_of
    from seq2func.interpret.grammar_truth import planted_rules, simulator_decoys
    from seq2func.interpret.insilico import consensus_codes
    from seq2func.simulate.grammar import describe_grammars, load_grammar_motifs

    path = tmp_path_factory.mktemp("truth") / "simulation.json"
    path.write_text(json.dumps({"grammar": describe_grammars()}))
    motifs = load_grammar_motifs(read_jaspar(MOTIFS))
    consensus = {k: decode(consensus_codes(ppm_of(m))) for k, m in motifs.items()}
    return planted_rules(path), simulator_decoys(), motifs, consensus


TASKS = {"ery": "erythroid", "hep": "hepatocyte", "fib": "fibroblast"}
SPACINGS = [*range(0, 25), 40, 80, 120, 160]


def _curves(consensus: dict, first: str, second: str, bumps: dict) -> pd.DataFrame:
    """A synthetic sweeps table: interaction 0 everywhere but ``bumps`` {(task, o, s): v}."""
    from seq2func.simulate.grammar import MOTIF_IDS

    rows = [{"model": "m", "pair": f"{first}+{second}", "first": first, "second": second,
             "first_id": MOTIF_IDS[first], "second_id": MOTIF_IDS[second],
             "first_width": len(consensus[first]), "second_width": len(consensus[second]),
             "first_sequence": consensus[first], "second_sequence": consensus[second],
             "orientation": o, "spacing": s, "task": t, "n_backgrounds": 16}
            for t in TASKS for o in ORIENTATIONS for s in SPACINGS]
    df = pd.DataFrame(rows)
    df["interaction"] = [bumps.get((t, o, s), 0.01 * s % 0.07) for t, o, s in
                         zip(df["task"], df["orientation"], df["spacing"], strict=True)]
    df["interaction_low"] = df["interaction"] - 0.2
    df["interaction_high"] = df["interaction"] + 0.2
    return df


def _values(rows: list, metric: str) -> dict:
    return {(r.model, r.task): r.value for r in rows if r.metric == metric}


def _tal1(truth, bumps: dict) -> dict:
    from seq2func.interpret.grammar_truth import truth_rows

    rules, decoys, motifs, consensus = truth
    rows = truth_rows(_curves(consensus, "TAL1", "GATA1", bumps), "m", TASKS, rules, decoys,
                      motifs, other_task_fraction=0.5, flat_fraction=0.25)
    key = ("m:MA0091.2+MA0035.5", "ery")
    flat = _values(rows, "grammar_decoy_flat")
    return {"recovered": _values(rows, "grammar_recovered")[key],
            "spacing_ok": _values(rows, "grammar_spacing_in_window")[key],
            "orientation_ok": _values(rows, "grammar_orientation_planted")[key],
            "ratio": _values(rows, "grammar_other_task_ratio")[key],
            "wrong_spacing_flat": flat[("m:decoy:tal1_gata1_wrong_spacing", "ery")],
            "wrong_orientation_flat": flat[("m:decoy:tal1_gata1_wrong_orientation", "ery")],
            "unswept": _values(rows, "grammar_recovered")[("m:MA0114.5+MA0047.4", "hep")]}


def test_the_composite_rule_holds_where_the_simulator_says(truth) -> None:
    from seq2func.interpret.grammar_truth import holds_frame

    rules, _, motifs, consensus = truth
    rule = next(r for r in rules if r.kind == "composite")
    holds = holds_frame(rule, _curves(consensus, "TAL1", "GATA1", {}), motifs)
    assert [int(s) for s in holds.columns[holds.loc["+/+"].to_numpy()]] == [7, 8, 9]
    # the TAL1::TCF3 consensus's reverse complement is a TAL1 hit too: -/+ is a composite
    assert [int(s) for s in holds.columns[holds.loc["-/+"].to_numpy()]] == [7, 8, 9]
    assert not holds.loc["+/-"].any() and not holds.loc["-/-"].any()


def test_truth_check_on_synthetic_curves(truth) -> None:
    good = _tal1(truth, {("ery", "+/+", 8): 3.0, ("ery", "+/-", 8): 0.3})
    assert good["recovered"] == 1 and good["ratio"] < 0.5
    assert good["wrong_spacing_flat"] == 1 and good["wrong_orientation_flat"] == 1
    assert np.isnan(good["unswept"])  # no HNF4A+FOXA2 sweep: not measured
    wrong_spacing = _tal1(truth, {("ery", "+/+", 18): 3.0})
    assert wrong_spacing["recovered"] == 0 and wrong_spacing["spacing_ok"] == 0
    wrong_strand = _tal1(truth, {("ery", "+/-", 8): 3.0})
    assert wrong_strand["recovered"] == 0 and wrong_strand["orientation_ok"] == 0
    wrong_task = _tal1(truth, {("ery", "+/+", 8): 3.0, ("hep", "+/+", 8): 2.0})
    assert wrong_task["recovered"] == 0 and wrong_task["ratio"] == pytest.approx(2 / 3)
    bumpy = _tal1(truth, {("ery", "+/+", 8): 3.0, ("ery", "+/-", 8): 1.5,
                          ("ery", "+/+", 20): 1.0})
    assert bumpy["recovered"] == 1
    assert bumpy["wrong_orientation_flat"] == 0 and bumpy["wrong_spacing_flat"] == 0


def test_a_proximity_decoy_is_flat_only_when_far_spacings_are(truth) -> None:
    from seq2func.interpret.grammar_truth import truth_rows

    rules, decoys, motifs, consensus = truth

    def check(bumps: dict) -> tuple[float, float]:
        rows = truth_rows(_curves(consensus, "AP1", "TEAD1", bumps), "m", TASKS, rules,
                          decoys, motifs, 0.5, 0.25)
        key = ("m:MA0099.4+MA0090.4", "fib")
        return (_values(rows, "grammar_recovered")[key],
                _values(rows, "grammar_decoy_flat")[("m:decoy:ap1_tead1_too_far_apart_single_ap1",
                                                     "fib")])

    assert check({("fib", "-/+", 10): 1.0}) == (1.0, 1.0)
    rows = truth_rows(_curves(consensus, "AP1", "TEAD1", {("fib", o, s): 0.5 for o in
                                                          ORIENTATIONS for s in range(22)}),
                      "m", TASKS, rules, decoys, motifs, 0.5, 0.25)
    key = ("m:MA0099.4+MA0090.4", "fib")
    # gaps 0-21 of the 29 swept spacings, all orientations: the rule holds at 22/29
    assert _values(rows, "grammar_window_fraction")[key] == pytest.approx(22 / 29)
    assert _values(rows, "grammar_window_contrast")[key] == pytest.approx(0.5, abs=0.07)
    assert check({("fib", "-/+", 10): 1.0, ("fib", "+/+", 120): 0.6}) == (1.0, 0.0)
    assert check({("fib", "+/+", 40): 1.0}) == (0.0, 1.0)  # 40 bp gap: beyond 30 bp


# ---------------------------------------------------------------- Keras and the CLI


def test_end_to_end_with_a_tiny_keras_model(tmp_path: Path) -> None:
    """A convolution that fires only on CCG, 4 bases, GT (forward strand): the sweep through
    predict_both_strands peaks there, and the figure is drawn."""
    keras = pytest.importorskip("keras")
    from seq2func.core.plotting import save_figure
    from seq2func.interpret.grammar_plots import plot_sweeps

    word = encode("CCGNNNNGT")
    kernel = np.zeros((9, 4, 1), dtype=np.float32)
    for i, c in enumerate(word):
        if c < 4:
            kernel[i, c, 0] = 1.0
    inp = keras.Input((40, 4))
    conv = keras.layers.Conv1D(1, 9, use_bias=False, name="conv")
    hit = keras.layers.ReLU(threshold=4.5)(conv(inp))
    pooled = keras.layers.GlobalMaxPooling1D()(hit)
    logits = keras.layers.Dense(1, name="labels")(pooled)
    model = keras.Model(inp, {"labels": logits})
    conv.set_weights([kernel])
    model.get_layer("labels").set_weights([np.array([[8.0]]), np.array([-3.0])])
    bg = np.zeros((4, 40), dtype=np.uint8)
    sw = pair_sweep(model, bg, "CCG", "GT", np.arange(0, 9), "labels", batch_size=64)
    mean = sw.interaction.mean(axis=2)[..., 0]
    o, s = np.unravel_index(mean.argmax(), mean.shape)
    assert (ORIENTATIONS[o], int(s)) == ("+/+", 4) and mean[o, s] > 1.0
    assert np.abs(np.delete(mean.ravel(), mean.argmax())).max() < 1e-4
    table = sweep_table(sw, ["t"], n_boot=10).assign(pair="CCG+GT")
    stems = save_figure(plot_sweeps(table, ["t"], "tiny"), tmp_path / "grammar", ["png"])
    assert stems[0].stat().st_size > 0


def test_an_unknown_motif_name_is_a_config_error_naming_the_key(tmp_path: Path, capsys) -> None:
    from seq2func.cli import main

    params = {"grammar": {"pairs": [{"first": "GATA1", "second": "NOT_A_MOTIF"}]}}
    code = main(["grammar", "--model", str(tmp_path / "m.keras"), "--model-name", "m",
                 "--dataset-dir", str(tmp_path), "--genome", str(tmp_path / "g.fa"),
                 "--database", str(MOTIFS), "--params", json.dumps(params),
                 "--marginal-out", str(tmp_path / "marg.tsv"),
                 "--sweeps-out", str(tmp_path / "sweeps.tsv"),
                 "--figure", str(tmp_path / "fig")])
    err = capsys.readouterr().err
    assert code != 0
    assert "interpret.grammar.pairs[0].second" in err and "NOT_A_MOTIF" in err
    assert "fix:" in err and "interpret.grammar.motifs" in err
    assert not (tmp_path / "sweeps.tsv").exists()


def test_motifs_resolve_from_the_config_patterns_or_database() -> None:
    from seq2func.core.errors import ConfigError
    from seq2func.core.motifs import Motif
    from seq2func.interpret.grammar import resolve_motif
    from seq2func.interpret.modisco import Pattern

    gata = np.eye(4)[encode("AGATAA")] * 10
    db = [Motif("MA1", "GATA1", gata), Motif("MA2", "Dup", gata), Motif("MA3", "DUP", gata)]
    calls: list[int] = []

    def database() -> list:
        calls.append(1)
        return db

    pats = {"t_pos_0": Pattern("t_pos_0", "t", 9, np.eye(4)[encode("CACGTG")], np.zeros((6, 4)))}
    got = resolve_motif("mine", "k", {"mine": "acgt"}, pats, database)
    assert (got.source, decode(got.codes)) == ("config", "ACGT") and not calls
    assert decode(resolve_motif("t_pos_0", "k", {}, pats, database).codes) == "CACGTG"
    by_id = resolve_motif("MA1", "k", {}, pats, database)
    by_name = resolve_motif("gata1", "k", {}, pats, database)
    assert by_id.motif_id == by_name.motif_id == "MA1" and decode(by_name.codes) == "AGATAA"
    with pytest.raises(ConfigError, match=r"'dup' names 2 database matrices \(MA2, MA3\)"):
        resolve_motif("dup", "interpret.grammar.pairs[0].first", {}, pats, database)
    with pytest.raises(ConfigError, match=r"pairs\[1\].second.*unknown motif 'GATA2'") as e:
        resolve_motif("GATA2", "interpret.grammar.pairs[1].second", {}, pats, database)
    assert "did you mean" in str(e.value) and "GATA1" in str(e.value)
