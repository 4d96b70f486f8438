"""Benchmark: is the training input pipeline the bottleneck?

Trains the same model for the same number of steps twice in one process:

* ``pipeline`` - batches from :func:`seq2func.dataset.make_tf_dataset` exactly as training uses
  them: HDF5 shards streamed, two-level shuffle, jitter, reverse complement, one-hot on the fly,
  prefetch;
* ``in_memory`` - the same number of examples, already one-hot encoded, cropped and held as
  tensors (``tf.data.Dataset.from_tensor_slices(...).cache()``), no augmentation work at all.

Also times the pipeline alone (iterating batches, no model) to show its own ceiling, with 1, 2
and 4 parallel shard readers (``input_workers``; ratios against 1 reader, measured in the same
run).
The ratio ``pipeline / in_memory`` (examples per second) is the number to read: 1.0 means the
input pipeline costs nothing. Results are appended as JSON lines to
``bench/out/train_input/results.jsonl`` and summarised by ``--report``.

Usage::

    python bench/train_input/run.py --dataset results/demo/dataset --model basset --steps 150
    python bench/train_input/run.py --dataset results/demo/dataset --model bpnet --steps 150
    python bench/train_input/run.py --report
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
OUT = ROOT / "bench" / "out" / "train_input"


def _spec(model: str) -> dict:
    import yaml

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    return cfg["accessibility"]["models"][model], cfg["accessibility"]["train"]


def _compiled(model, losses, weights):  # type: ignore[no-untyped-def]
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=losses, loss_weights=weights)
    return model


def _fresh_chrombpnet(mspec, meta):  # type: ignore[no-untyped-def]
    """A chrombpnet model as training builds it, over a freshly initialised (frozen) bias
    model: the cost per step is the trained model's, whatever the bias weights."""
    from seq2func.models.chrombpnet import build_bias_model, build_chrombpnet

    geo, sizes = meta.geometry, mspec.sizes
    bias = build_bias_model(geo.input_length, meta.n_tasks, geo.profile_length,
                            geo.profile_bin, sizes.bias.network())
    return build_chrombpnet(bias, geo.input_length, meta.n_tasks, geo.profile_length,
                            geo.profile_bin, sizes, name=mspec.name)


def _time_fit(model, ds, steps: int, batch_size: int, warmup: int) -> tuple[float, float]:
    """Examples/s of one ``model.fit`` of ``warmup + steps`` batches.

    Returns ``(steady, whole)``: ``steady`` times the last ``steps`` batches only (batch-end
    timestamps from a callback: no tracing, no iterator start-up), ``whole`` the entire call
    minus nothing (start-up included, as each training epoch pays it).
    """
    import keras

    stamps: list[float] = []

    class Stamp(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):  # type: ignore[no-untyped-def]
            stamps.append(time.perf_counter())

    t0 = time.perf_counter()
    model.fit(ds, steps_per_epoch=warmup + steps, epochs=1, verbose=0, callbacks=[Stamp()])
    t1 = time.perf_counter()
    steady = steps * batch_size / (stamps[-1] - stamps[warmup - 1])
    whole = (warmup + steps) * batch_size / (t1 - t0)
    return steady, whole


#: parallel shard readers whose pipeline-alone throughput is compared
WORKERS = (1, 2, 4)


def _pipeline_only(ds, steps: int, warmup: int, batch_size: int) -> float:
    """Examples/s of iterating ``ds`` alone (no model) for ``steps`` batches after
    ``warmup``."""
    it = iter(ds)
    for _ in range(warmup):
        next(it)
    t0 = time.perf_counter()
    for _ in range(steps):
        next(it)
    return steps * batch_size / (time.perf_counter() - t0)


def run(dataset: str, model_name: str, steps: int, warmup: int, threads: int,
        rounds: int) -> dict:
    from seq2func import models
    from seq2func.dataset import Dataset, make_tf_dataset
    from seq2func.train.runtime import configure_runtime
    from seq2func.train.settings import AccessibilityTrainSettings

    spec, train_cfg = _spec(model_name)
    settings = AccessibilityTrainSettings.from_config(train_cfg)
    device = configure_runtime(1, deterministic=False, threads=threads,
                               mixed_precision=settings.mixed_precision)
    import keras
    import numpy as np
    import tensorflow as tf

    meta = Dataset(dataset).meta
    mspec = models.ModelSpec.from_config(model_name, spec)
    targets = mspec.outputs()
    bs = settings.batch_size
    losses, weights = models.losses_for(mspec, 1.0)

    def fresh_model():
        keras.utils.set_random_seed(1)
        if mspec.factorised:  # chrombpnet: the bias-free BPNet over a frozen bias model
            return _compiled(_fresh_chrombpnet(mspec, meta), losses, weights)
        m = models.build_accessibility_model(mspec, meta.geometry, meta.n_tasks)
        return _compiled(m, losses, weights)

    # chrombpnet trains on peaks + a background share (background_sampling_ratio): the same
    # selected reading of the shards as train_accessibility's
    select = None
    ratio = getattr(mspec.sizes, "background_sampling_ratio", None)
    if ratio is not None:
        from seq2func.dataset import selection
        from seq2func.train.accessibility import epoch_regions

        ds_obj = Dataset(dataset)
        select = selection(ds_obj, epoch_regions(ds_obj.regions(), meta.split_column(None),
                                                 ratio, 1, 0))

    def pipeline(workers: int = 1):
        return make_tf_dataset(dataset, "train", bs, shuffle=True, jitter=settings.jitter,
                               reverse_complement=settings.reverse_complement, seed=7,
                               targets=targets, repeat=True, drop_remainder=True,
                               workers=workers, select=select)

    # the in-memory copy: the first (warmup + steps) batches of the pipeline, materialised
    n_batches = warmup + steps
    xs, ys = [], {k: [] for k in targets}
    for x, y in pipeline().take(n_batches).as_numpy_iterator():
        xs.append(x)
        for k in targets:
            ys[k].append(y[k])
    x_mem = np.concatenate(xs)
    y_mem = {k: np.concatenate(v) for k, v in ys.items()}
    mem_ds = (tf.data.Dataset.from_tensor_slices((x_mem, y_mem)).batch(bs, drop_remainder=True)
              .cache().repeat().prefetch(tf.data.AUTOTUNE))
    for _ in mem_ds.take(n_batches):  # fill the cache before timing
        pass

    # the pipeline alone, with 1, 2 and 4 readers (alternating order, medians)
    alone: dict[int, list[float]] = {w: [] for w in WORKERS}
    for r in range(rounds):
        for w in (WORKERS if r % 2 == 0 else WORKERS[::-1]):
            alone[w].append(_pipeline_only(pipeline(w), steps, warmup, bs))
    by_workers = {w: float(np.median(v)) for w, v in alone.items()}
    pipeline_only = by_workers[1]

    # training: alternate the order so that load drift on a shared machine hits both alike
    fit_pipe, fit_mem, whole_pipe, whole_mem = [], [], [], []
    for order in ("pm", "mp") * rounds:
        for which in order:
            model = fresh_model()
            # trace the step function on the dataset under test (the pipeline's batch dimension
            # is dynamic, the cached tensors' static: each needs its own trace, paid once per
            # training run, not per epoch)
            model.fit(pipeline() if which == "p" else mem_ds, steps_per_epoch=2, epochs=1,
                      verbose=0)
            if which == "p":
                steady, whole = _time_fit(model, pipeline(), steps, bs, warmup)
                fit_pipe.append(steady)
                whole_pipe.append(whole)
            else:
                steady, whole = _time_fit(model, mem_ds, steps, bs, warmup)
                fit_mem.append(steady)
                whole_mem.append(whole)
    # medians: one fit slowed by another process on a shared machine does not decide the ratio
    pipe, mem = float(np.median(fit_pipe)), float(np.median(fit_mem))
    wpipe, wmem = float(np.median(whole_pipe)), float(np.median(whole_mem))
    return {
        "model": model_name,
        "architecture": spec["architecture"],
        "dataset": str(dataset),
        "input_length": int(meta.geometry.input_length),
        "batch_size": bs,
        "steps": steps,
        "threads": threads,
        "device": device.description,
        "pipeline_only_examples_per_s": round(pipeline_only, 1),
        "pipeline_only_by_workers": {str(w): round(v, 1) for w, v in by_workers.items()},
        "pipeline_only_ratio_vs_1_worker": {str(w): round(v / by_workers[1], 3)
                                            for w, v in by_workers.items()},
        "pipeline_only_runs": {str(w): [round(x, 1) for x in v] for w, v in alone.items()},
        "fit_pipeline_examples_per_s": round(pipe, 1),
        "fit_in_memory_examples_per_s": round(mem, 1),
        "ratio_pipeline_over_in_memory": round(pipe / mem, 3),
        "whole_fit_pipeline_examples_per_s": round(wpipe, 1),
        "whole_fit_in_memory_examples_per_s": round(wmem, 1),
        "ratio_whole_fit": round(wpipe / wmem, 3),
        "fit_pipeline_runs": [round(v, 1) for v in fit_pipe],
        "fit_in_memory_runs": [round(v, 1) for v in fit_mem],
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "tensorflow": tf.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


def report() -> None:
    path = OUT / "results.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    cols = ["model", "device", "threads", "batch_size", "steps", "pipeline_only_examples_per_s",
            "pipeline_only_ratio_vs_1_worker",
            "fit_pipeline_examples_per_s", "fit_in_memory_examples_per_s",
            "ratio_pipeline_over_in_memory", "whole_fit_pipeline_examples_per_s",
            "whole_fit_in_memory_examples_per_s", "ratio_whole_fit", "load_average_1min", "date"]
    print("| " + " | ".join(cols) + " |")
    print("| " + " | ".join("---" for _ in cols) + " |")
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default=str(ROOT / "results" / "demo" / "dataset"))
    ap.add_argument("--model", default="basset", help="a model key of config/config.yaml")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2,
                    help="pairs of (pipeline, in-memory) fits, in alternating order")
    ap.add_argument("--report", action="store_true", help="print the results table and exit")
    args = ap.parse_args()
    if args.report:
        report()
        return
    result = run(args.dataset, args.model, args.steps, args.warmup, args.threads,
                 args.rounds)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "results.jsonl", "a") as fh:
        fh.write(json.dumps(result) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
