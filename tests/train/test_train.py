"""Training machinery: device record, checkpoints every epoch, exact resume after a kill."""

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

SCRIPT = REPO / "tests" / "data" / "train_synthetic.py"


def _train(out: Path, epochs: int = 6, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    return subprocess.Popen([sys.executable, str(SCRIPT), str(out), str(epochs), *extra],
                            env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _weights(path: Path) -> list[np.ndarray]:
    from seq2func.models import load_model

    return [np.asarray(w) for w in load_model(str(path)).get_weights()]


@pytest.mark.slow
def test_resume_after_kill_matches_uninterrupted_run(tmp_path: Path) -> None:
    full = _train(tmp_path / "full")
    interrupted = _train(tmp_path / "killed")
    state = tmp_path / "killed" / "checkpoints" / "state.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        if state.exists() and json.loads(state.read_text())["epochs_done"] >= 2:
            break
        if interrupted.poll() is not None:
            pytest.fail("training finished before it could be interrupted:\n"
                        + interrupted.stdout.read())
        time.sleep(0.05)
    os.killpg(interrupted.pid, signal.SIGKILL)  # kill -9, mid-training
    interrupted.wait()
    killed_at = json.loads(state.read_text())["epochs_done"]
    assert 2 <= killed_at < 6
    assert not (tmp_path / "killed" / "model.keras").exists()
    out_full, _ = full.communicate(timeout=300)
    assert full.returncode == 0, out_full
    resumed = _train(tmp_path / "killed")
    out_res, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out_res
    assert f"resuming after epoch {killed_at}" in out_res
    assert "NO GPU IS VISIBLE" in out_res  # the CPU fallback is announced loudly
    # same weights, same history (timings aside)
    for a, b in zip(_weights(tmp_path / "full" / "model.keras"),
                    _weights(tmp_path / "killed" / "model.keras"), strict=True):
        np.testing.assert_array_equal(a, b)
    h_full = pd.read_csv(tmp_path / "full" / "history.tsv", sep="\t")
    h_res = pd.read_csv(tmp_path / "killed" / "history.tsv", sep="\t")
    cols = [c for c in h_full.columns if c not in ("seconds", "train_examples_per_s")]
    pd.testing.assert_frame_equal(h_full[cols], h_res[cols])
    assert len(h_full) == 6 and h_full["val_loss"].iloc[-1] < h_full["val_loss"].iloc[0]
    rec = json.loads((tmp_path / "killed" / "run.json").read_text())
    assert rec["resumed_after_epoch"] == killed_at
    assert rec["device"].startswith("CPU") and rec["device_details"]["deterministic"]
    assert rec["device_details"]["strategy"] == "_DefaultDistributionStrategy"
    # only the last complete checkpoint is kept
    ckpts = sorted(p.name for p in (tmp_path / "killed" / "checkpoints").glob("epoch_*"))
    assert ckpts == ["epoch_0006"]


@pytest.mark.slow
def test_changed_config_does_not_resume(tmp_path: Path) -> None:
    p = _train(tmp_path / "a", epochs=2)
    assert p.wait(timeout=300) == 0
    p = _train(tmp_path / "a", epochs=3)  # different run_config -> fresh start
    out, _ = p.communicate(timeout=300)
    assert p.returncode == 0, out
    assert "another configuration; starting afresh" in out
    assert len(pd.read_csv(tmp_path / "a" / "history.tsv", sep="\t")) == 3


@pytest.mark.slow
def test_mirrored_strategy_trains_and_resumes(tmp_path: Path) -> None:
    """The multi-GPU path (MirroredStrategy, here over two logical CPUs): training, the
    checkpoint and a resume inside the strategy scope all work, and the record says so."""
    first = _train(tmp_path / "m", 2, "mirrored")
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 0, out
    again = _train(tmp_path / "m", 2, "mirrored")  # loads the checkpoint inside the scope
    out, _ = again.communicate(timeout=300)
    assert again.returncode == 0, out
    assert "resuming after epoch 2" in out
    rec = json.loads((tmp_path / "m" / "run.json").read_text())
    assert rec["device_details"]["strategy"] == "MirroredStrategy"
    assert rec["device"] == "2 logical CPUs (MirroredStrategy)"
    hist = pd.read_csv(tmp_path / "m" / "history.tsv", sep="\t")
    assert list(hist["epoch"]) == [1, 2] and np.isfinite(hist["val_loss"]).all()


def test_a_checkpoint_removes_every_older_one_a_kill_left_behind(tmp_path: Path) -> None:
    """A kill between pointing state.json at epoch 2 and deleting epoch 1 (or in the middle of
    writing epoch 3) leaves directories behind; the next checkpoint removes them all."""
    keras = pytest.importorskip("keras")
    from seq2func.train import checkpoints

    inp = keras.Input((8,))
    model = keras.Model(inp, keras.layers.Dense(1)(keras.layers.Dropout(0.5)(inp)))
    root = tmp_path / "checkpoints"
    for stale in ("epoch_0001", "epoch_0002", ".epoch_0003.partial"):
        (root / stale).mkdir(parents=True)
    state = checkpoints.LoopState(config_hash="h", epochs_done=3, checkpoint="epoch_0002")
    checkpoints.save_checkpoint(model, state, root)
    assert sorted(p.name for p in root.iterdir()) == ["epoch_0003", "state.json"]
    loaded = checkpoints.load_checkpoint(root, "h")
    assert loaded is not None and loaded[0].checkpoint == "epoch_0003"
    assert (loaded[1] / "model.keras").exists()


def test_an_improving_epoch_saves_the_model_once(tmp_path: Path) -> None:
    """best.keras is written first (a kill before the checkpoint resumes the epoch before),
    and the checkpoint is a copy of it: the same model and optimizer state."""
    keras = pytest.importorskip("keras")
    from seq2func.train import checkpoints, loop

    inp = keras.Input((8,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 8)), np.ones((4, 1)), verbose=0)
    root = tmp_path / "checkpoints"
    root.mkdir()
    saved = loop._save_best(model, root)
    assert saved == root / "best.keras"
    state = checkpoints.LoopState(config_hash="h", epochs_done=1)
    checkpoints.save_checkpoint(model, state, root, model_file=saved)
    copy = root / "epoch_0001" / "model.keras"
    assert copy.read_bytes() == saved.read_bytes()
    resumed = checkpoints.load_checkpoint_model(root / "epoch_0001")
    assert int(resumed.optimizer.iterations.numpy()) == 1
    for a, b in zip(resumed.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_background_sampling_draws_per_epoch_and_fixes_validation() -> None:
    """Training draws a fresh background share every epoch; validation one fixed draw of the
    same share (ChromBPNet's validation set), both keeping every peak region."""
    import pandas as pd

    from seq2func.train.accessibility import epoch_regions

    split = ["train"] * 300 + ["valid"] * 100
    source = (["peak"] * 100 + ["background"] * 200) + (["peak"] * 20 + ["background"] * 80)
    regions = pd.DataFrame({"split": split, "source": source})
    a, b = (epoch_regions(regions, "split", 0.1, 1, e) for e in (0, 1))
    assert a.sum() == b.sum() == 110 and a[:100].all() and not a[300:].any()
    assert (a != b).any()  # another background draw
    v0, v1 = (epoch_regions(regions, "split", 0.1, 1, 0, part="valid") for _ in range(2))
    assert (v0 == v1).all() and v0.sum() == 22 and v0[300:320].all() and not v0[:300].any()


def test_a_profile_prior_without_training_peaks_with_reads_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from seq2func.core.errors import InputError
    from seq2func.models.specs import ModelSpec
    from seq2func.train import accessibility

    class FakeDataset:
        metadata_path = tmp_path / "dataset.json"

    monkeypatch.setattr("seq2func.dataset.average_peak_profile", lambda *a, **k: None)
    spec = ModelSpec.from_config("cb", {"architecture": "chrombpnet"})
    with pytest.raises(InputError, match="profile_prior") as err:
        accessibility._average_profile(FakeDataset(), spec)
    assert "accessibility.models.cb.profile_prior: false" in str(err.value)
    basset = ModelSpec.from_config("b", {"architecture": "basset"})
    assert accessibility._average_profile(FakeDataset(), basset) is None
