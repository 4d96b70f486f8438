"""Wall time of a training job with and without the epoch loop's garbage collection.

``seq2func.train.loop.fit`` freezes the objects that exist once the model is built
(``gc.freeze``: TensorFlow's and the model's, never garbage) and collects garbage after every
epoch (each epoch's ``tf.data`` pipelines become garbage then). The baseline is the same job
with both turned into no-ops (Python's automatic collections only, as before). Both train
the demo's chrombpnet model (frozen bias model, ``--epochs`` epochs, default split) from a
demo workflow run's dataset and bias model, alternating for ``--rounds`` rounds; both must
end with the same weights (checked: the md5 of every weight). Prints the median training
seconds (``run.json``: ``train_seconds_this_process``) of each, the ratio, and writes them as
JSON.

    snakemake --cores 2 -d /tmp/demo    # once: the demo's dataset and bias model
    python bench/train_loop/epoch_overhead.py --workdir /tmp/demo --epochs 10 --rounds 2 \\
        --out bench/train_loop/chrombpnet_demo.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: the training job, with or without the per-epoch collection (argv: outdir, then CLI args)
RUNNER = """
import gc, sys
import seq2func.train.loop as loop
if sys.argv[1] == "baseline":
    loop.gc = type("NoCollect", (), {"collect": staticmethod(lambda *a: 0),
                                     "freeze": staticmethod(lambda: None)})
from seq2func.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _job_args(workdir: Path, epochs: int, outdir: Path) -> list[str]:
    """The demo run's train-accessibility command for chrombpnet (its spec and settings, from
    the model's ``run.json``) with ``epochs`` epochs and a new output directory."""
    results = workdir / "results" / "demo"
    models = results / "models" / "accessibility" / "chrombpnet"
    config = json.loads((models / "seed1" / "run.json").read_text())["config"]
    spec = dict(config["spec"], max_epochs=epochs)
    settings = dict(config["settings"], max_epochs=epochs)
    return ["train-accessibility", "--dataset-dir", str(results / "dataset"),
            "--name", "chrombpnet", "--spec", json.dumps(spec), "--settings",
            json.dumps(settings), "--seed", "1", "--threads", "2", "--outdir", str(outdir),
            "--bias-model", str(models / "bias" / "model.keras")]


def _weights_md5(model: Path) -> str:
    code = ("import hashlib, sys; from seq2func.models import load_model; "
            "m = load_model(sys.argv[1]); h = hashlib.md5(); "
            "[h.update(w.tobytes()) for w in m.get_weights()]; print(h.hexdigest())")
    return subprocess.run([sys.executable, "-c", code, str(model)], check=True,
                          capture_output=True, text=True).stdout.strip().splitlines()[-1]


def _train(variant: str, workdir: Path, epochs: int, scratch: Path) -> tuple[float, str]:
    out = scratch / variant
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([sys.executable, "-c", RUNNER, variant, *_job_args(workdir, epochs, out)],
                   check=True, cwd=workdir, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    record = json.loads((out / "run.json").read_text())
    return float(record["train_seconds_this_process"]), _weights_md5(out / "model.keras")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", required=True, help="directory of a finished demo run")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", default=None, help="JSON of the results")
    args = ap.parse_args()
    workdir = Path(args.workdir).resolve()
    scratch = workdir / "bench_epoch_overhead"
    times: dict[str, list[float]] = {"baseline": [], "collect_per_epoch": []}
    md5s: dict[str, set[str]] = {k: set() for k in times}
    for _ in range(args.rounds):
        for variant in times:
            seconds, md5 = _train(variant, workdir, args.epochs, scratch)
            times[variant].append(round(seconds, 2))
            md5s[variant].add(md5)
    same = len(set.union(*md5s.values())) == 1
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {"model": "demo chrombpnet", "epochs": args.epochs, "rounds": args.rounds,
              "seconds": times, "median_seconds": med, "same_weights": same,
              "speedup": round(med["baseline"] / med["collect_per_epoch"], 2)}
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    shutil.rmtree(scratch, ignore_errors=True)
    if not same:
        sys.exit("the two variants ended with different weights")


if __name__ == "__main__":
    main()
