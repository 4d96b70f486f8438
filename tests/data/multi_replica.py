"""Train under MirroredStrategy over two logical CPUs, with a last batch of one example.

Usage: python multi_replica.py OUTDIR (run with TF_ENABLE_ONEDNN_OPTS=0 set before TensorFlow
is imported: the generic kernels, as on a GPU). Writes OUTDIR/result.json:

* ``fit``: :func:`seq2func.train.loop.fit` of a tiny Basset model (batch norm) for 2 epochs on
  49 training and 17 validation examples in global batches of 16 (8 per replica), so each
  pass ends with a batch of one example; the generator counts its passes and batches;
* ``batchnorm``: one training step of a Basset model built in the strategy scope on a global
  batch whose two halves (one per replica) differ, and the moving statistics it leaves next to
  the moments of the global batch and the mean of the two halves' moments.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

PER_REPLICA = 8
LENGTH = 60


def _onehot(codes: np.ndarray) -> np.ndarray:
    return np.eye(4, dtype=np.float32)[codes]


def _spec() -> Any:
    from seq2func.models import BassetSpec

    return BassetSpec(conv_filters=[6], conv_kernels=[5], pool_sizes=[4], dense_units=8,
                      dropout=0.1)


def _fit(out: Path, device: Any, counts: dict[str, list[int]]) -> dict[str, Any]:
    import keras
    import tensorflow as tf

    from seq2func.models import build_basset
    from seq2func.train.loop import fit
    from seq2func.train.settings import TrainSettings

    settings = TrainSettings.from_config({"batch_size": PER_REPLICA, "max_epochs": 2,
                                          "patience": 5})
    batch = device.global_batch(settings.batch_size)
    rng = np.random.default_rng(0)
    data = {split: (_onehot(rng.integers(0, 4, (n, LENGTH))),
                    (rng.random((n, 2)) < 0.5).astype(np.float32))
            for split, n in (("train", 3 * batch + 1), ("valid", batch + 1))}

    def batches(split: str) -> Any:
        def gen() -> Any:
            counts[split].append(0)
            x, y = data[split]
            for a in range(0, len(x), batch):
                counts[split][-1] += 1
                yield x[a : a + batch], {"labels": y[a : a + batch]}

        spec = (tf.TensorSpec((None, LENGTH, 4), tf.float32),
                {"labels": tf.TensorSpec((None, 2), tf.float32)})
        return tf.data.Dataset.from_generator(gen, output_signature=spec)

    def compile_model(model: Any, lr: float) -> None:
        model.compile(optimizer=keras.optimizers.Adam(lr),
                      loss={"labels": keras.losses.BinaryCrossentropy(from_logits=True)})

    record = fit(build_model=lambda: build_basset(LENGTH, 2, _spec()),
                 compile_model=compile_model, train_data=lambda epoch: batches("train"),
                 val_data=lambda: batches("valid"), settings=settings, outdir=out,
                 run_config={"test": "multi_replica"}, device=device)
    import pandas as pd

    hist = pd.read_csv(out / "history.tsv", sep="\t")
    weights = keras.models.load_model(out / "model.keras").get_weights()
    return {"losses": hist[["loss", "val_loss"]].to_numpy().tolist(),
            "weights_finite": bool(all(np.isfinite(w).all() for w in weights)),
            "global_batch_size": record["global_batch_size"],
            "train_batches_per_pass": counts["train"], "valid_batches_per_pass": counts["valid"],
            "n_train": len(data["train"][0]), "n_valid": len(data["valid"][0])}


def _batchnorm(device: Any) -> dict[str, Any]:
    import keras
    import tensorflow as tf

    from seq2func.models import build_basset

    keras.utils.set_random_seed(1)
    with device.strategy.scope():
        model = build_basset(LENGTH, 2, _spec())
        model.compile(optimizer=keras.optimizers.SGD(0.0),
                      loss={"labels": keras.losses.BinaryCrossentropy(from_logits=True)})
    rng = np.random.default_rng(1)
    n = device.global_batch(PER_REPLICA)
    codes = rng.integers(0, 4, (n, LENGTH))
    codes[: n // 2] = 0  # replica 0 sees poly-A, replica 1 random sequence
    x = _onehot(codes)
    y = (rng.random((n, 2)) < 0.5).astype(np.float32)
    conv = keras.Model(model.input, model.get_layer("conv1").output)
    h = np.asarray(conv.predict(x, verbose=0), dtype=np.float64)
    model.fit(tf.data.Dataset.from_tensors((x, {"labels": y})), epochs=1, verbose=0)
    bn = model.get_layer("bn1")
    halves = [h[: n // 2], h[n // 2 :]]
    per_replica = [np.asarray(v.numpy()) for v in getattr(bn.moving_variance.value, "values",
                                                           [bn.moving_variance.value])]
    return {
        "synchronized": bool(bn.synchronized),
        # momentum 0.9 from mean 0, variance 1: moving = 0.9 * start + 0.1 * batch statistic
        "moving_mean": ((np.asarray(bn.moving_mean.numpy()) / 0.1).tolist()),
        "moving_variance": (((np.asarray(bn.moving_variance.numpy()) - 0.9) / 0.1).tolist()),
        "global_mean": h.mean(axis=(0, 1)).tolist(),
        "global_variance": h.var(axis=(0, 1)).tolist(),
        "mean_of_replica_variances": np.mean([p.var(axis=(0, 1)) for p in halves],
                                             axis=0).tolist(),
        "replica_copies_equal": bool(all(np.array_equal(per_replica[0], p)
                                         for p in per_replica)),
        "n_replica_copies": len(per_replica),
    }


def main() -> None:
    out = Path(sys.argv[1])
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from seq2func.train.runtime import configure_runtime

    device = configure_runtime(seed=3, deterministic=True, threads=1)
    device = replace(device, strategy=tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
                     description="2 logical CPUs (MirroredStrategy)")
    result = {"replicas": device.replicas,
              "fit": _fit(out / "fit", device, {"train": [], "valid": []}),
              "batchnorm": _batchnorm(device)}
    (out / "result.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
