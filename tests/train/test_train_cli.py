"""`seq2func train-accessibility` and `predict-accessibility` on a small preprocessed dataset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from conftest import dataset_json as load_metadata
from conftest import dataset_regions as load_regions
from preprocess_inputs import SMALL_PARAMS, build_dataset, make_study

pytestmark = pytest.mark.slow

SETTINGS = {"batch_size": 32, "max_epochs": 2, "learning_rate": 0.003, "patience": 5}
SPECS = {
    "basset": {"architecture": "basset", "conv_filters": [16, 16], "conv_kernels": [9, 5],
               "pool_sizes": [4, 4], "dense_units": 16, "dropout": 0.2},
    "bpnet": {"architecture": "bpnet", "filters": 8, "conv1_kernel": 9, "n_dilated_layers": 2,
              "profile_kernel": 15, "counts_head": "gap"},
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    study = make_study(tmp_path_factory.mktemp("train_cli_study"), seed=5)
    return build_dataset(study, tmp_path_factory.mktemp("train_cli_dataset"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "seq2func", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def _train(dataset: Path, name: str, outdir: Path, seed: int = 1,
           settings: dict | None = None) -> subprocess.CompletedProcess[str]:
    return _cli("train-accessibility", "--dataset-dir", str(dataset), "--name", name,
                "--spec", json.dumps(SPECS[name]), "--settings",
                json.dumps(settings or SETTINGS), "--seed", str(seed), "--threads", "2",
                "--outdir", str(outdir))


@pytest.mark.parametrize("name", ["basset", "bpnet"])
def test_train_then_predict(dataset: Path, tmp_path: Path, name: str) -> None:
    outdir = tmp_path / name
    res = _train(dataset, name, outdir)
    assert res.returncode == 0, res.stderr[-3000:]
    # the loud CPU warning, and the device in the run record
    assert "NO GPU IS VISIBLE TO TENSORFLOW" in res.stderr
    run = json.loads((outdir / "run.json").read_text())
    assert run["device"].startswith("CPU")
    assert run["device_details"]["kind"] == "cpu"
    assert run["device_details"]["deterministic"] is True
    assert run["epochs_run"] == 2 and run["best_epoch"] in (1, 2)
    assert run["config"]["seed"] == 1 and run["config"]["model"] == name
    assert any(i["path"].endswith("dataset.json") and i["md5"] for i in run["inputs"])
    hist = pd.read_csv(outdir / "history.tsv", sep="\t")
    assert list(hist["epoch"]) == [1, 2]
    assert {"loss", "val_loss", "learning_rate", "seconds"} <= set(hist.columns)
    assert np.isfinite(hist["val_loss"]).all()

    # a rerun of a finished run resumes after its last epoch and trains nothing more
    again = _train(dataset, name, outdir)
    assert again.returncode == 0, again.stderr[-3000:]
    rerun = json.loads((outdir / "run.json").read_text())
    assert rerun["resumed_after_epoch"] == 2 and rerun["epochs_run"] == 2

    out = tmp_path / f"{name}_test.npz"
    res = _cli("predict-accessibility", "--model", str(outdir / "model.keras"), "--dataset-dir",
               str(dataset), "--split", "test", "--out", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    tasks = load_metadata(dataset)["tasks"]
    regions = load_regions(dataset, "test")
    with np.load(out) as z:
        pred = {k: z[k] for k in z.files}
    np.testing.assert_array_equal(pred["region_id"], regions["region_id"].to_numpy())
    n = len(regions)
    if name == "basset":
        assert set(pred) == {"region_id", "labels"}
        assert pred["labels"].shape == (n, len(tasks))
        assert ((pred["labels"] > 0) & (pred["labels"] < 1)).all()
    else:
        assert set(pred) == {"region_id", "profile", "log_counts"}
        assert pred["log_counts"].shape == (n, len(tasks))
        assert pred["profile"].shape == (n, SMALL_PARAMS["profile_length"], len(tasks))
        np.testing.assert_allclose(pred["profile"].sum(axis=1), 1.0, rtol=1e-4)
    prov = json.loads(Path(f"{out}.provenance.json").read_text())
    assert prov["step"] == "predict-accessibility" and prov["n_regions"] == n


def test_same_seed_same_weights_other_seed_differs(dataset: Path, tmp_path: Path) -> None:
    """Deterministic mode on CPU: a seed fixes the result; replicates differ."""
    one = {"max_epochs": 1, "batch_size": 32}
    for d, seed in (("a", 1), ("b", 1), ("c", 2)):
        res = _train(dataset, "basset", tmp_path / d, seed=seed, settings=one)
        assert res.returncode == 0, res.stderr[-3000:]
    hist = {d: pd.read_csv(tmp_path / d / "history.tsv", sep="\t") for d in "abc"}
    assert hist["a"]["val_loss"].iloc[0] == hist["b"]["val_loss"].iloc[0]
    assert hist["a"]["val_loss"].iloc[0] != hist["c"]["val_loss"].iloc[0]


def test_bad_spec_fails_naming_the_key(dataset: Path, tmp_path: Path) -> None:
    res = _cli("train-accessibility", "--dataset-dir", str(dataset), "--name", "m", "--spec",
               json.dumps({"architecture": "basset", "filters": 3}), "--seed", "1",
               "--outdir", str(tmp_path / "m"))
    assert res.returncode == 2
    assert "accessibility.models.m.filters" in res.stderr
    assert not (tmp_path / "m" / "model.keras").exists()


def test_unknown_training_setting_fails_naming_the_key(dataset: Path, tmp_path: Path) -> None:
    res = _train(dataset, "basset", tmp_path / "m", settings={"max_epoch": 2})
    assert res.returncode == 2
    assert "accessibility.train.max_epoch" in res.stderr and "max_epochs" in res.stderr
    assert not (tmp_path / "m" / "model.keras").exists()
