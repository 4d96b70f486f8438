"""Train a tiny Basset-style model on synthetic data with seq2func.train.loop.fit (used by tests).

Usage: python train_synthetic.py OUTDIR [MAX_EPOCHS] [mirrored]
Positives carry a planted GATA-like word; the data pipeline is seeded per epoch. With
``mirrored``, the CPU is split into two logical devices and training runs under a
MirroredStrategy over both: the multi-GPU code path, exercised without GPUs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def main() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out = Path(sys.argv[1])
    max_epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    from seq2func.train.loop import fit
    from seq2func.train.runtime import configure_runtime
    from seq2func.train.settings import TrainSettings

    settings = TrainSettings.from_config({"batch_size": 32, "max_epochs": max_epochs,
                                          "learning_rate": 1e-2, "patience": 10,
                                          "lr_patience": 2})
    mirrored = len(sys.argv) > 3 and sys.argv[3] == "mirrored"
    if mirrored:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    device = configure_runtime(seed=3, deterministic=True, threads=1)
    import keras
    import tensorflow as tf

    if mirrored:
        from dataclasses import replace

        device = replace(device, strategy=tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
                         description="2 logical CPUs (MirroredStrategy)")

    from seq2func.models import BassetSpec, build_basset

    rng = np.random.default_rng(0)
    n, length = 2000, 100
    codes = rng.integers(0, 4, size=(n, length))
    y = (rng.random(n) < 0.5).astype(np.float32)
    word = np.array([0, 2, 0, 3, 0, 0])  # AGATAA
    for i in np.flatnonzero(y):
        p = rng.integers(0, length - 6)
        codes[i, p : p + 6] = word
    x = np.eye(4, dtype=np.float32)[codes]
    y2 = np.stack([y, 1 - y], axis=1)

    def train_data(epoch: int):  # type: ignore[no-untyped-def]
        ds = tf.data.Dataset.from_tensor_slices((x[:1600], {"labels": y2[:1600]}))
        return ds.shuffle(1600, seed=1000 + epoch).batch(32)

    def val_data():  # type: ignore[no-untyped-def]
        return tf.data.Dataset.from_tensor_slices((x[1600:], {"labels": y2[1600:]})).batch(64)

    def build():  # type: ignore[no-untyped-def]
        return build_basset(length, 2, BassetSpec(conv_filters=[8], conv_kernels=[7],
                                                  pool_sizes=[4], dense_units=8, dropout=0.3))

    def compile_model(model, lr):  # type: ignore[no-untyped-def]
        model.compile(optimizer=keras.optimizers.Adam(lr),
                      loss={"labels": keras.losses.BinaryCrossentropy(from_logits=True)})

    fit(build_model=build, compile_model=compile_model, train_data=train_data,
        val_data=val_data, settings=settings, outdir=out,
        run_config={"test": "synthetic", "max_epochs": max_epochs}, device=device, n_train=1600)


if __name__ == "__main__":
    main()
