"""`seq2func check-gpu` on the CPU: the GPU-only part is skipped and says so, the rest passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def test_check_gpu_runs_on_the_cpu_and_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "check.json"
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="")
    res = subprocess.run([sys.executable, "-m", "seq2func", "check-gpu", "--out", str(out),
                          "--threads", "2"], env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    report = json.loads(out.read_text())
    assert report["passed"] and report["failed"] == []
    checks = report["checks"]
    assert set(checks) == {"environment", "training", "float32_model", "ensemble", "throughput"}
    env_check = checks["environment"]
    assert report["skipped"] == ["environment"] and "no GPU" in env_check["reason"]
    assert env_check["tensorflow"] and env_check["cuda_version"]  # the build is reported
    assert report["device"]["kind"] == "cpu" and report["device"]["mixed_precision"]
    for family in ("basset", "bpnet"):
        train = checks["training"][family]
        assert train["finite"] and train["resumed_after_epoch"] == 1
        assert train["resume_max_abs_weight_difference"] == 0.0
        f32 = checks["float32_model"][family]
        assert f32["low_precision_layers"] == []
        assert max(f32["saved_vs_float32"].values()) <= report["tolerances"][
            "float32_vs_reference"]
        assert max(f32["float16_vs_float32"].values()) > 0  # float16 is measurably off
        assert max(checks["ensemble"][family]["max_abs_difference"].values()) <= 1e-5
    rows = checks["throughput"]["rows"]
    assert {(r["deterministic"], r["batch_size"]) for r in rows} == {
        (d, b) for d in (True, False) for b in (32, 64)}
    assert all(r["examples_per_s"] > 0 for r in rows) and "CPU" in checks["throughput"]["note"]
    assert report["seconds"] < 300
