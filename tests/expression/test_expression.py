"""Expression models end to end on a small simulated study: preparation, training with the
shared machinery (resume record, window contract), predicted chromatin, baselines, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seq2func.expression.settings import ExpressionSettings

pytest.importorskip("tensorflow")

SETTINGS = ExpressionSettings.from_config({"upstream": 600, "downstream": 300,
                                           "chromatin": {"flank": 2000, "bin_size": 500}})
WINDOW = SETTINGS.window
SPLIT = {"valid": ["chr3"], "test": ["chr2"]}
SAMPLES = ["erythroid", "hepatocyte", "fibroblast"]


@pytest.fixture(scope="module")
def prepared(small_demo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seq2func.expression.run import prepare

    paths, _ = small_demo
    out = tmp_path_factory.mktemp("expr")
    root = Path(paths.outdir)
    prepare(root / "genome" / "genes.gtf", root / "expression" / "expression.tsv",
            root / "genome" / "genome.fa", {s: root / "signal" / f"{s}.bw" for s in SAMPLES},
            SPLIT, SETTINGS, out)
    return out


def test_prepare_writes_consistent_table_and_features(prepared: Path) -> None:
    genes = pd.read_csv(prepared / "genes.tsv", sep="\t")
    qc = json.loads((prepared / "genes_qc.json").read_text())
    assert qc["genes_kept"] == len(genes) > 50
    assert set(genes["split"]) == {"train", "valid", "test"}
    assert set(genes.loc[genes["split"] == "test", "chrom"]) == {"chr2"}
    with np.load(prepared / "features.npz") as z:
        assert z["codes"].shape == (len(genes), WINDOW.length)
        assert z["observed"].shape == (len(genes), WINDOW.n_bins, 3)
        assert list(z["tracks"]) == SAMPLES
        # accessible promoters: the TSS bins carry more signal than the flanks
        obs = z["observed"]
    centre = obs[:, WINDOW.n_bins // 2 - 1 : WINDOW.n_bins // 2 + 1].mean()
    assert centre > obs[:, [0, -1]].mean()


def test_models_keep_the_variant_scoring_contract() -> None:
    from seq2func.expression.models import build_expression_model
    from seq2func.expression.settings import ExpressionModelSpec

    spec = ExpressionModelSpec.from_config({"conv_filters": [4], "conv_kernels": [5],
                                            "pool_sizes": [10], "dense_units": 4})
    m = build_expression_model("seq_only", 900, 3, spec)
    assert len(m.inputs) == 1 and tuple(m.inputs[0].shape) == (None, 900, 4)
    assert tuple(m.outputs[0].shape) == (None, 3)
    m2 = build_expression_model("seq_observed", 900, 3, spec, n_bins=8, n_tracks=3)
    assert sorted(t.name for t in m2.inputs) == ["chromatin", "sequence"]
    with pytest.raises(ValueError, match="chromatin input shape"):
        build_expression_model("seq_predicted", 900, 3, spec)


def test_train_predict_and_evaluate(prepared: Path, small_demo, tmp_path: Path) -> None:
    from seq2func.core.sequence import Genome
    from seq2func.expression.data import load_arrays
    from seq2func.expression.models import train_expression
    from seq2func.expression.predicted import predict_chromatin
    from seq2func.expression.run import evaluate
    from seq2func.expression.settings import ExpressionModelSpec
    from seq2func.models import BassetSpec, build_basset, load_model
    from seq2func.train.settings import TrainSettings

    paths, _ = small_demo
    root = Path(paths.outdir)
    genes = pd.read_csv(prepared / "genes.tsv", sep="\t")
    # predicted chromatin from a (small, untrained) accessibility model: shapes, orientation
    acc = build_basset(200, 3, BassetSpec(conv_filters=[4], conv_kernels=[5],
                                          pool_sizes=[4], dense_units=4))
    acc.save(tmp_path / "acc.keras")
    with Genome(root / "genome" / "genome.fa") as genome:
        pred, used = predict_chromatin([tmp_path / "acc.keras"] * 2, genome, genes, WINDOW)
        assert used == ["labels"] and pred.shape == (len(genes), WINDOW.n_bins, 3)
        assert ((pred > 0) & (pred < 1)).all()
        # first minus-strand gene: its first bin (5') is the genomic last bin
        i = int(np.flatnonzero(genes["strand"].to_numpy() == "-")[0])
        g = genes.iloc[i]
        start = g["tss"] + WINDOW.chromatin_flank - WINDOW.chromatin_bin // 2 - 100
        x = genome.windows([g["chrom"]], [start], 200)
    from seq2func.core.sequence import one_hot
    from seq2func.models import predict_both_strands

    direct = predict_both_strands(load_model(str(tmp_path / "acc.keras")), one_hot(x))
    np.testing.assert_allclose(pred[i, 0], direct["labels"][0], rtol=1e-4, atol=1e-6)
    np.savez(tmp_path / "pred.npz", predicted=pred, tracks=np.asarray(SAMPLES),
             gene_id=genes["gene_id"].to_numpy().astype(str))

    spec = ExpressionModelSpec.from_config({"conv_filters": [8], "conv_kernels": [8],
                                            "pool_sizes": [8], "seq_head": "global_max",
                                            "dense_units": 8})
    settings = TrainSettings.from_config({"batch_size": 32, "max_epochs": 2})
    # the schema's gene-end window (500 + 500 bp after 50 N) is part of the record
    window = {"upstream": 600, "downstream": 300, "end_upstream": 500, "end_downstream": 500,
              "spacer": 50}
    assert WINDOW.record() == window
    preds = {}
    for variant in ("seq_only", "seq_predicted"):
        arrays = load_arrays(prepared / "genes.tsv", prepared / "features.npz", variant,
                             tmp_path / "pred.npz")
        if variant == "seq_predicted":
            assert arrays.extra["match"] == "name" and arrays.chromatin is not None
            train = arrays.split == "train"
            np.testing.assert_allclose(arrays.chromatin[train].mean(axis=(0, 1)), 0, atol=1e-4)
        out = tmp_path / variant
        rec = train_expression(arrays, variant, spec, settings, 1, out, WINDOW, threads=2)
        assert rec["epochs_run"] == 2
        run = json.loads((out / "run.json").read_text())
        assert run["expression_window"] == {**window, "samples": SAMPLES}
        with np.load(out / "predictions.npz") as z:
            assert z["prediction"].shape == (len(genes), 3)
        preds[variant] = [out / "predictions.npz"]
    # rerunning a finished training resumes from its last checkpoint (no new epoch)
    again = train_expression(arrays, "seq_predicted", spec, settings, 1,
                             tmp_path / "seq_predicted", WINDOW, threads=2)
    assert again["resumed_after_epoch"] == 2

    ev = tmp_path / "eval"
    scoring = ExpressionSettings.from_config({"baselines": {"k": 4}, "n_bootstrap": 50})
    ablation = evaluate(prepared / "genes.tsv", prepared / "features.npz", preds, scoring,
                        ev / "metrics.tsv", ev / "ablation.tsv",
                        {"ablation": ev / "ablation_fig"},
                        truth=root / "truth" / "expression_terms.tsv", truth_out=ev / "truth.tsv")
    assert list(ablation["model"]) == ["seq_only", "seq_predicted", "kmer_ridge",
                                       "chromatin_ridge"]
    table = pd.read_csv(ev / "metrics.tsv", sep="\t")
    per = table[table["aggregation"] == "per sample, across genes"]
    n_test = int((genes["split"] == "test").sum())
    assert set(per["task"]) == set(SAMPLES) and (per["n"] == n_test).all()
    assert (table["ci_low"] <= table["value"] + 1e-9).all()
    # the k-mer baseline learns the planted promoter grammar: clearly positive on test genes
    kmer = per[(per["model"] == "kmer_ridge") & (per["metric"] == "pearson")]["value"]
    assert kmer.mean() > 0.2
    truth = pd.read_csv(ev / "truth.tsv", sep="\t")
    ceiling = truth[truth["model"] == "truth_ceiling"]["value"]
    assert ((ceiling > 0.3) & (ceiling <= 1)).all()
    for ext in ("pdf", "svg", "png"):
        assert (ev / f"ablation_fig.{ext}").stat().st_size > 0


def test_warm_started_seq_observed_starts_at_seq_only(prepared: Path, tmp_path: Path) -> None:
    """Through expression.run.train: seq_observed warm-started (frozen) from seq_only of the same
    seed starts at seq_only's validation loss, keeps seq_only's sequence tower, records the
    start; a missing seq_only model is a clear error; ``none`` trains from scratch."""
    from seq2func.core.errors import InputError
    from seq2func.expression.run import train
    from seq2func.models import load_model

    cfg = {"upstream": 600, "downstream": 300, "chromatin": {"flank": 2000, "bin_size": 500},
           "model": {"conv_filters": [8], "conv_kernels": [8], "pool_sizes": [8],
                     "seq_head": "global_max", "dense_units": 8, "capacity": "fixed"},
           "train": {"batch_size": 32, "max_epochs": 2}}
    settings = ExpressionSettings.from_config(cfg)
    assert settings.chromatin.warm_start == "frozen"  # the schema's default
    genes, feats = prepared / "genes.tsv", prepared / "features.npz"
    seq = train(genes, feats, "seq_only", settings, 1, tmp_path / "seq_only", threads=2)
    warm = train(genes, feats, "seq_observed", settings, 1, tmp_path / "warm", threads=2,
                 warm_start=tmp_path / "seq_only" / "model.keras")
    # the same predictions; Keras adds the L2 penalty of trainable weights only, and the
    # frozen tower's is left out of the start's loss (so it is slightly lower)
    assert warm["start_val_loss"] == pytest.approx(seq["best_val_loss"], rel=5e-3)
    assert warm["start_val_loss"] <= seq["best_val_loss"]
    assert warm["best_val_loss"] <= warm["start_val_loss"]
    assert warm["config"]["warm_start"]["mode"] == "frozen"
    a, b = load_model(tmp_path / "seq_only" / "model.keras"), load_model(tmp_path / "warm"
                                                                          / "model.keras")
    for name in ("seq_conv1", "seq_dense"):
        for x, y in zip(a.get_layer(name).get_weights(), b.get_layer(name).get_weights(),
                        strict=True):
            np.testing.assert_array_equal(x, y)
    with pytest.raises(InputError, match="no such seq_only model"):
        train(genes, feats, "seq_observed", settings, 1, tmp_path / "x", threads=2,
              warm_start=tmp_path / "missing.keras")
    cold = ExpressionSettings.from_config({**cfg, "chromatin": {**cfg["chromatin"],
                                                                "warm_start": "none"}})
    rec = train(genes, feats, "seq_observed", cold, 1, tmp_path / "cold", threads=2,
                warm_start=tmp_path / "seq_only" / "model.keras")
    assert rec["start_val_loss"] is None and rec["config"]["warm_start"] == {"mode": "none"}
