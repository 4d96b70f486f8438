"""Benchmark: which BPNet count-head settings learn counts within the demo's training budget?

For each variant (count-loss weight x count head), trains the demo's BPNet (config/config.yaml
sizes and train settings, seed 1) on a preprocessed dataset with
:func:`seq2func.train.accessibility.train_accessibility`, predicts the test chromosomes on both
strands and reports the Pearson correlation of predicted and observed log counts per task, over
all test regions and over peak regions. The k-mer ridge baseline
(:mod:`seq2func.evaluate.baselines`) is fitted on the same training regions in the same run;
``ratio`` columns are model / baseline.

Results are appended as JSON lines to ``bench/out/count_head/results.jsonl``; ``--report``
prints the table.

Usage::

    python bench/count_head/run.py --dataset results/demo/dataset \\
        --variant auto:gap --variant 100:gap --variant auto:logsumexp --variant 100:logsumexp
    python bench/count_head/run.py --report
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
OUT = ROOT / "bench" / "out" / "count_head"


def _pearsons(y, pred, mask):  # type: ignore[no-untyped-def]
    from seq2func.core.metrics import pearson

    return ([round(pearson(y[:, t], pred[:, t]), 3) for t in range(y.shape[1])],
            [round(pearson(y[mask, t], pred[mask, t]), 3) for t in range(y.shape[1])])


def run(dataset: str, variants: list[str], keep: bool) -> list[dict]:
    import numpy as np
    import yaml

    from seq2func import models
    from seq2func.evaluate import baselines
    from seq2func.evaluate.scores import read_split
    from seq2func.train.accessibility import train_accessibility
    from seq2func.train.settings import AccessibilityTrainSettings

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["accessibility"]
    base = {k: v for k, v in cfg["models"]["bpnet"].items()
            if k not in ("seeds", "counts_loss_weight", "counts_head")}
    settings = AccessibilityTrainSettings.from_config(cfg["train"])
    _, _, c_tr, _, y_tr, _ = read_split(dataset, "train")
    meta, regions, c_te, _, y_te, _ = read_split(dataset, "test")
    peak = (regions["source"] == "peak").to_numpy()
    t0 = time.perf_counter()
    ridge = baselines.fit_baseline("kmer", c_tr, None, y_tr)
    base_all, base_peak = _pearsons(y_te, ridge.predict(c_te)["log_counts"], peak)
    ridge_s = time.perf_counter() - t0
    rows = []
    for variant in variants:
        weight, head = variant.split(":")
        spec = {**base, "counts_loss_weight": weight if weight == "auto" else float(weight),
                "counts_head": head}
        outdir = OUT / "models" / variant.replace(":", "_")
        shutil.rmtree(outdir, ignore_errors=True)
        t0 = time.perf_counter()
        rec = train_accessibility(dataset, models.ModelSpec.from_config("bpnet", spec),
                                  settings, 1, outdir, threads=2)
        seconds = time.perf_counter() - t0
        pred = models.predict_split(str(outdir / "model.keras"), dataset, "test")
        np.testing.assert_array_equal(pred["region_id"], regions["region_id"].to_numpy())
        r_all, r_peak = _pearsons(y_te, pred["log_counts"], peak)
        rows.append({
            "variant": variant, "counts_loss_weight": weight, "counts_head": head,
            "tasks": list(meta.tasks), "epochs": rec["epochs_run"], "best_epoch": rec["best_epoch"],
            "train_seconds": round(seconds, 1),
            "pearson_all": r_all, "pearson_peaks": r_peak,
            "kmer_ridge_pearson_all": base_all, "kmer_ridge_pearson_peaks": base_peak,
            "kmer_ridge_seconds": round(ridge_s, 1),
            "ratio_all": [round(a / b, 3) for a, b in zip(r_all, base_all, strict=True)],
            "ratio_peaks": [round(a / b, 3) for a, b in zip(r_peak, base_peak, strict=True)],
            "load_average_1min": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%d"),
        })
        print(json.dumps(rows[-1]))
        if not keep:
            shutil.rmtree(outdir, ignore_errors=True)
    return rows


def report() -> None:
    rows = [json.loads(x) for x in (OUT / "results.jsonl").read_text().splitlines() if x]
    cols = ["variant", "epochs", "train_seconds", "pearson_all", "kmer_ridge_pearson_all",
            "pearson_peaks", "kmer_ridge_pearson_peaks", "ratio_all", "ratio_peaks",
            "load_average_1min", "date"]
    print("| " + " | ".join(cols) + " |")
    print("| " + " | ".join("---" for _ in cols) + " |")
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default=str(ROOT / "results" / "demo" / "dataset"))
    ap.add_argument("--variant", action="append", default=[],
                    help="WEIGHT:HEAD, e.g. auto:gap or 100:logsumexp (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the trained models")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    if args.report:
        report()
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rows = run(args.dataset, args.variant or ["auto:gap", "100:logsumexp"], args.keep)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "results.jsonl", "a") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
