"""chrombpnet models and k-fold runs through the CLI: `train-bias`, `train-accessibility
--bias-model`, `--fold`, `predict-out-of-fold`; resume after a kill, determinism, safe mode."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from conftest import dataset_json as load_metadata
from conftest import dataset_regions as load_regions
from preprocess_inputs import SMALL_PARAMS, SPLIT, make_study

pytestmark = pytest.mark.slow

SETTINGS = {"batch_size": 32, "max_epochs": 2, "learning_rate": 0.003, "patience": 5}
CHROMBPNET = {"architecture": "chrombpnet", "filters": 8, "conv1_kernel": 9,
              "n_dilated_layers": 2, "profile_kernel": 15, "background_sampling_ratio": 0.5,
              "bias": {"filters": 8, "conv1_kernel": 5, "n_dilated_layers": 1,
                       "profile_kernel": 5, "max_epochs": 2, "threshold_factor": 3.0}}
BASSET = {"architecture": "basset", "conv_filters": [8], "conv_kernels": [9],
          "pool_sizes": [8], "dense_units": 8}
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TF_CPP_MIN_LOG_LEVEL": "2",
       "CUDA_VISIBLE_DEVICES": ""}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from seq2func.preprocess import PreprocessSettings, run_all, samples_from_table

    study = make_study(tmp_path_factory.mktemp("chrombpnet_study"), seed=11, n_peaks=40)
    out = tmp_path_factory.mktemp("chrombpnet_dataset")
    samples = samples_from_table(study.samples_table, [str(b) for b in study.bigwigs],
                                 [str(x) for x in study.peaks])
    run_all(study.genome, samples, PreprocessSettings.from_config(SMALL_PARAMS),
            {**SPLIT, "folds": 3}, out, study.blacklist)
    return out


@pytest.fixture(scope="module")
def bias(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bias")
    res = _cli("train-bias", "--dataset-dir", str(dataset), "--name", "cb", "--spec",
               json.dumps(CHROMBPNET), "--settings", json.dumps(SETTINGS), "--seed", "1",
               "--threads", "2", "--outdir", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    return out / "model.keras"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seq2func", *args], capture_output=True,
                          text=True, env=ENV, timeout=600)


def _train_args(dataset: Path, spec: dict, outdir: Path, *extra: str,
                settings: dict | None = None) -> list[str]:
    return [sys.executable, "-m", "seq2func", "train-accessibility", "--dataset-dir",
            str(dataset), "--name", spec["architecture"], "--spec", json.dumps(spec),
            "--settings", json.dumps(settings or SETTINGS), "--seed", "1", "--threads", "2",
            "--outdir", str(outdir), *extra]


def _train(dataset: Path, spec: dict, outdir: Path, *extra: str,
           settings: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_train_args(dataset, spec, outdir, *extra, settings=settings),
                          capture_output=True, text=True, env=ENV, timeout=600)


def _weights(path: Path) -> list[np.ndarray]:
    from seq2func.models import load_model

    return [np.asarray(w) for w in load_model(str(path)).get_weights()]


def test_the_bias_model_trains_on_low_count_background(dataset: Path, bias: Path) -> None:
    run = json.loads((bias.parent / "run.json").read_text())
    tasks = load_metadata(dataset)["tasks"]
    assert run["config"]["part"] == "bias"
    assert run["config"]["bias_groups"]["names"] == tasks  # group_by: sample
    chosen = run["config"]["training_regions"]
    assert chosen["regions"]["train"] > 0 and chosen["regions"]["valid"] > 0
    regions = load_regions(dataset, "train")
    assert chosen["regions"]["train"] <= int((regions["source"] == "background").sum())


def test_chrombpnet_trains_on_its_frozen_bias_resumes_and_predicts(
        dataset: Path, bias: Path, tmp_path: Path) -> None:
    out = tmp_path / "cb"
    res = _train(dataset, CHROMBPNET, out, "--bias-model", str(bias))
    assert res.returncode == 0, res.stderr[-3000:]
    assert (out / "nobias.keras").is_file()
    from seq2func.models import load_model
    from seq2func.models.chrombpnet import bias_of

    combined = load_model(str(out / "model.keras"))
    for a, b in zip(bias_of(combined).get_weights(), _weights(bias), strict=True):
        np.testing.assert_array_equal(np.asarray(a), b)  # frozen: the bias is unchanged
    from seq2func.dataset import average_peak_profile
    from seq2func.models.bpnet import PRIOR_LAYER
    from seq2func.models.chrombpnet import bias_free

    # the bias-free profile head's position prior started at the training peaks' average
    # profile (chrombpnet's default profile_prior) and two epochs moved it little
    prior = bias_free(combined).get_layer(PRIOR_LAYER).get_weights()[0]
    start = np.log(np.maximum(average_peak_profile(dataset, "train"), 1e-3 / prior.shape[0]))
    for t in range(prior.shape[1]):
        assert np.corrcoef(prior[:, t], start[:, t])[0, 1] > 0.9
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["bias_model"] and run["epochs_run"] == 2
    again = _train(dataset, CHROMBPNET, out, "--bias-model", str(bias))
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((out / "run.json").read_text())["resumed_after_epoch"] == 2
    pred = tmp_path / "test.npz"
    res = _cli("predict-accessibility", "--model", str(out / "model.keras"), "--dataset-dir",
               str(dataset), "--split", "test", "--out", str(pred))
    assert res.returncode == 0, res.stderr[-3000:]
    with np.load(pred) as z:
        assert set(z.files) == {"region_id", "profile", "log_counts"}
        np.testing.assert_allclose(z["profile"].sum(axis=1), 1.0, rtol=1e-4)


def test_chrombpnet_is_deterministic_per_seed(dataset: Path, bias: Path,
                                              tmp_path: Path) -> None:
    one = {**SETTINGS, "max_epochs": 1}
    for d in ("a", "b"):
        res = _train(dataset, CHROMBPNET, tmp_path / d, "--bias-model", str(bias),
                     settings=one)
        assert res.returncode == 0, res.stderr[-3000:]
    for a, b in zip(_weights(tmp_path / "a" / "nobias.keras"),
                    _weights(tmp_path / "b" / "nobias.keras"), strict=True):
        np.testing.assert_array_equal(a, b)


def test_chrombpnet_resumes_after_a_kill_as_if_uninterrupted(dataset: Path, bias: Path,
                                                             tmp_path: Path) -> None:
    many = {**SETTINGS, "max_epochs": 8, "patience": 8}
    full = _train(dataset, CHROMBPNET, tmp_path / "full", "--bias-model", str(bias),
                  settings=many)
    assert full.returncode == 0, full.stderr[-3000:]
    proc = subprocess.Popen(_train_args(dataset, CHROMBPNET, tmp_path / "killed",
                                        "--bias-model", str(bias), settings=many),
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    state = tmp_path / "killed" / "checkpoints" / "state.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["epochs_done"] >= 2:
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.fail("training finished before it could be interrupted")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = json.loads(state.read_text())["epochs_done"]
    resumed = _train(dataset, CHROMBPNET, tmp_path / "killed", "--bias-model", str(bias),
                     settings=many)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming after epoch {done}" in resumed.stderr
    for a, b in zip(_weights(tmp_path / "full" / "model.keras"),
                    _weights(tmp_path / "killed" / "model.keras"), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_chrombpnet_model_without_its_bias_model_is_refused(dataset: Path,
                                                              tmp_path: Path) -> None:
    res = _train(dataset, CHROMBPNET, tmp_path / "m")
    assert res.returncode == 2
    assert "needs its trained bias model" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "m" / "model.keras").exists()


@pytest.fixture(scope="module")
def fold_models(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A basset run (1 epoch) on each automatic fold of the dataset."""
    root = tmp_path_factory.mktemp("fold_runs")
    models = []
    for fold in (f["name"] for f in load_metadata(dataset)["folds"]):
        out = root / "folds" / fold / "seed1"
        res = _train(dataset, BASSET, out, "--fold", fold, settings={**SETTINGS,
                                                                     "max_epochs": 1})
        assert res.returncode == 0, res.stderr[-3000:]
        assert json.loads((out / "run.json").read_text())["config"]["fold"] == fold
        models.append(out / "model.keras")
    return models


def test_fold_runs_give_out_of_fold_predictions(dataset: Path, fold_models: list[Path],
                                                tmp_path: Path) -> None:
    meta = load_metadata(dataset)
    folds = [f["name"] for f in meta["folds"]]
    models = fold_models
    oof = tmp_path / "oof.npz"
    regions = load_regions(dataset)
    bed = tmp_path / "windows.bed"
    L = SMALL_PARAMS["input_length"]
    picked = regions.iloc[::7]
    pd.DataFrame({"chrom": picked["chrom"], "start": picked["centre"] - L // 2,
                  "end": picked["centre"] + L // 2, "name": picked["region_id"]}).to_csv(
        bed, sep="\t", header=False, index=False)
    with open(bed, "a") as fh:
        fh.write("chrUn\t100\t300\tnowhere\n")
    res = _cli("predict-out-of-fold", "--models", *map(str, models), "--dataset-dir",
               str(dataset), "--out", str(oof), "--windows", str(bed), "--genome",
               str(Path(meta["genome"]["path"])), "--windows-out", str(tmp_path / "w.tsv.gz"))
    assert res.returncode == 0, res.stderr[-3000:]
    with np.load(oof) as z:
        pred = {k: z[k] for k in z.files}
    np.testing.assert_array_equal(pred["region_id"], regions["region_id"].to_numpy())
    # every chromosome is the test set of one automatic fold: every region is predicted once,
    # by that fold's run, exactly as predict-accessibility --fold predicts the fold's test set
    assert (pred["fold"] != "").all() and np.isfinite(pred["labels"]).all()
    for fold, model in zip(folds, models, strict=True):
        own = tmp_path / f"{fold}.npz"
        res = _cli("predict-accessibility", "--model", str(model), "--dataset-dir",
                   str(dataset), "--split", "test", "--fold", fold, "--out", str(own))
        assert res.returncode == 0, res.stderr[-3000:]
        with np.load(own) as z:
            rows = np.isin(pred["region_id"], z["region_id"])
            assert (pred["fold"][rows] == fold).all()
            np.testing.assert_allclose(pred["labels"][rows], z["labels"], rtol=1e-5)
    # windows centred on regions get the regions' predictions; an unknown chromosome: NaN
    w = pd.read_csv(tmp_path / "w.tsv.gz", sep="\t", keep_default_na=False,
                    na_values=["NaN", "nan"])
    assert list(w["name"][:-1]) == list(picked["region_id"].astype(str))
    by_id = dict(zip(pred["region_id"].astype(str), pred["labels"][:, 0], strict=True))
    task0 = meta["tasks"][0]
    np.testing.assert_allclose(w[f"labels_{task0}"][:-1],
                               [by_id[i] for i in w["name"][:-1]], rtol=1e-4)
    assert w["fold"].iloc[-1] == "" and np.isnan(w[f"labels_{task0}"].iloc[-1])


@pytest.fixture(scope="module")
def default_run(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A basset run (1 epoch) on the default split."""
    out = tmp_path_factory.mktemp("default_run") / "seed1"
    res = _train(dataset, BASSET, out, settings={**SETTINGS, "max_epochs": 1})
    assert res.returncode == 0, res.stderr[-3000:]
    return out / "model.keras"


def test_out_of_fold_refuses_a_default_split_run(dataset: Path, default_run: Path,
                                                 tmp_path: Path) -> None:
    res = _cli("predict-out-of-fold", "--models", str(default_run), "--dataset-dir",
               str(dataset), "--out", str(tmp_path / "oof.npz"))
    assert res.returncode == 2
    assert "trained on the default split, not a fold" in res.stderr
    assert not (tmp_path / "oof.npz").exists()


def _explain(dataset: Path, models: list[Path], out: Path, peaks: str
             ) -> subprocess.CompletedProcess[str]:
    meta = load_metadata(dataset)
    genome = Path(meta["genome"]["path"])
    sizes = out.parent / "chrom.sizes"
    fai = pd.read_csv(f"{genome}.fai", sep="\t", header=None)
    fai[[0, 1]].to_csv(sizes, sep="\t", header=False, index=False)
    params = {"peaks": peaks, "peaks_per_task": 1000, "ism_peaks_per_task": 2, "ism_width": 20}
    return _cli("explain", "--model", *map(str, models), "--dataset-dir", str(dataset),
                "--genome", str(genome), "--chrom-sizes", str(sizes), "--params",
                json.dumps(params), "--threads", "2", "--out", str(out),
                "--bigwig-dir", str(out.parent / f"bw_{peaks}"))


def test_fold_runs_explain_every_peak_out_of_fold(dataset: Path, fold_models: list[Path],
                                                  tmp_path: Path) -> None:
    """interpret.peaks auto/out_of_fold: every peak of every chromosome, each explained by
    the run of the fold that held its chromosome out - exactly the attributions that run
    alone gives its test peaks; test: the default split's test peaks only."""
    meta = load_metadata(dataset)
    regions = load_regions(dataset)
    peaks = regions[regions["source"] == "peak"]
    auto = tmp_path / "auto.npz"
    res = _explain(dataset, fold_models, auto, "auto")
    assert res.returncode == 0, res.stderr[-3000:]
    with np.load(auto) as z:
        got = {k: z[k] for k in z.files}
    record = json.loads((tmp_path / "auto.npz.provenance.json").read_text())
    assert record["peaks"] == "out_of_fold"
    labelled = peaks[(peaks[[f"label_{t}" for t in meta["tasks"]]] == 1).any(axis=1)]
    assert sorted(got["region_id"].tolist()) == got["region_id"].tolist()
    assert set(got["region_id"]) == set(labelled["region_id"])
    assert set(got["chrom"]) == set(labelled["chrom"]) and len(set(got["chrom"])) >= 3
    assert got["ism_rows"].size >= 2
    from seq2func.interpret.attributions import gradient_x_input, target_outputs
    from seq2func.models import load_model

    for fold, model in zip([f["name"] for f in meta["folds"]], fold_models, strict=True):
        test_chroms = next(f["split"]["test"] for f in meta["folds"] if f["name"] == fold)
        rows = np.isin(got["chrom"], test_chroms)
        assert rows.any()
        fn = target_outputs(load_model(str(model)), "counts")
        want = gradient_x_input(fn, got["one_hot"][rows].astype(np.float32),
                                len(meta["tasks"]), batch_size=128)
        np.testing.assert_allclose(got["hypothetical"][rows], want, rtol=1e-5, atol=1e-6)
    test = tmp_path / "test.npz"
    res = _explain(dataset, fold_models, test, "test")
    assert res.returncode == 0, res.stderr[-3000:]
    with np.load(test) as z:
        assert set(z["chrom"]) <= set(SPLIT["test"])
    res = _explain(dataset, fold_models[:1], tmp_path / "one.npz", "out_of_fold")
    assert res.returncode == 0, res.stderr[-3000:]  # one fold: only its chromosomes
    with np.load(tmp_path / "one.npz") as z:
        assert set(z["chrom"]) == set(meta["folds"][0]["split"]["test"]) & set(labelled["chrom"])


def test_out_of_fold_attributions_refuse_a_default_split_run(dataset: Path, default_run: Path,
                                                             tmp_path: Path) -> None:
    res = _explain(dataset, [default_run], tmp_path / "attr.npz", "out_of_fold")
    assert res.returncode == 2
    assert "interpret.peaks is out_of_fold" in res.stderr
    assert "trained on the default split, not a fold" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "attr.npz").exists()
    res = _explain(dataset, [default_run], tmp_path / "auto.npz", "auto")
    assert res.returncode == 0, res.stderr[-3000:]  # auto: a default-split run, test peaks
