"""Keras 3 models of gene expression from promoter sequence (and chromatin), and their training.

Variants (config ``expression.variants``):

* ``seq_only`` - Xpresso-like: convolutions and max-pooling over the one-hot promoter window read
  5'->3' (minus-strand genes reverse-complemented), flattened (``seq_head: flatten``, Xpresso) or
  max-pooled over positions (``global_max``, far fewer weights when there are few genes), a
  dense layer, one output per sample.
  ONE input (``sequence``: ``(L, 4)``), output ``expression``: ``log1p(TPM)`` ``(n, samples)``;
* ``seq_observed`` - the same sequence tower plus a chromatin tower on the observed accessibility
  binned around the TSS (input ``chromatin``: ``(bins, tracks)``), concatenated;
* ``seq_predicted`` - the same, with the accessibility model's predictions in place of the
  observed signal.

Training uses :func:`seq2func.train.loop.fit` (device choice, per-epoch checkpoints, exact resume,
early stopping, seeds). The model directory's ``run.json`` records the input geometry and sample
order under ``expression_window`` (used by variant scoring).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

VARIANTS = ("seq_only", "seq_observed", "seq_predicted")


@dataclass
class ExpressionModelSpec:
    """Sizes of the expression models (config ``expression.model``)."""

    conv_filters: Sequence[int] = (64, 32)
    conv_kernels: Sequence[int] = (8, 9)
    pool_sizes: Sequence[int] = (10, 10)
    dense_units: int = 32
    seq_head: str = "flatten"
    chromatin_filters: int = 16
    chromatin_kernel: int = 3
    chromatin_units: int = 16
    dropout: float = 0.3
    l2: float = 1e-4

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ExpressionModelSpec:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in section.items() if k in known})


def _sequence_tower(inp: Any, spec: ExpressionModelSpec) -> Any:
    import keras
    from keras import layers

    reg = keras.regularizers.L2(spec.l2) if spec.l2 else None
    x = inp
    for i, (f, k, p) in enumerate(zip(spec.conv_filters, spec.conv_kernels, spec.pool_sizes,
                                      strict=True)):
        x = layers.Conv1D(f, k, padding="same", activation="relu", kernel_regularizer=reg,
                          name=f"seq_conv{i + 1}")(x)
        x = layers.MaxPooling1D(p, name=f"seq_pool{i + 1}")(x)
    if spec.seq_head == "flatten":  # Xpresso: position-aware
        x = layers.Flatten(name="seq_flatten")(x)
    elif spec.seq_head == "global_max":  # position-free: far fewer weights for few genes
        x = layers.GlobalMaxPooling1D(name="seq_global_max")(x)
    else:
        raise ValueError(f"seq_head must be 'flatten' or 'global_max', not {spec.seq_head!r}")
    x = layers.Dropout(spec.dropout, name="seq_dropout")(x)
    return layers.Dense(spec.dense_units, activation="relu", kernel_regularizer=reg,
                        name="seq_dense")(x)


def build_expression_model(variant: str, length: int, n_samples: int,
                           spec: ExpressionModelSpec, n_bins: int = 0, n_tracks: int = 0,
                           target_mean: Sequence[float] | None = None) -> Any:
    """Build an expression model.

    Parameters
    ----------
    variant
        ``seq_only``, ``seq_observed`` or ``seq_predicted``.
    length
        Promoter window length (bp).
    n_samples
        Number of expression samples (outputs).
    spec
        Layer sizes.
    n_bins, n_tracks
        Shape of the chromatin input (chromatin variants only).
    target_mean
        Mean training target per sample: the output bias starts there.
    """
    import keras
    from keras import layers

    if variant not in VARIANTS:
        raise ValueError(f"unknown expression model variant {variant!r}; use {VARIANTS}")
    if not (len(spec.conv_filters) == len(spec.conv_kernels) == len(spec.pool_sizes)):
        raise ValueError("conv_filters, conv_kernels and pool_sizes must have the same length")
    bias = (keras.initializers.Constant(np.asarray(target_mean, dtype=float).tolist())
            if target_mean is not None else "zeros")
    seq_in = keras.Input((length, 4), name="sequence")
    h = _sequence_tower(seq_in, spec)
    inputs: Any = seq_in
    if variant != "seq_only":
        if n_bins < 1 or n_tracks < 1:
            raise ValueError(f"{variant} needs the chromatin input shape (n_bins, n_tracks)")
        chrom_in = keras.Input((n_bins, n_tracks), name="chromatin")
        c = layers.Conv1D(spec.chromatin_filters, spec.chromatin_kernel, padding="same",
                          activation="relu", name="chrom_conv")(chrom_in)
        c = layers.Flatten(name="chrom_flatten")(c)
        c = layers.Dense(spec.chromatin_units, activation="relu", name="chrom_dense")(c)
        h = layers.Concatenate(name="concat")([h, c])
        inputs = {"sequence": seq_in, "chromatin": chrom_in}
    out = layers.Dense(n_samples, dtype="float32", bias_initializer=bias, name="expression")(h)
    return keras.Model(inputs, out, name=variant)


# --------------------------------------------------------------------------- training


@dataclass
class ExpressionArrays:
    """In-memory inputs of one study (rows = genes of ``genes.tsv``)."""

    codes: np.ndarray
    targets: np.ndarray
    split: np.ndarray
    samples: list[str]
    chromatin: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def inputs(self, rows: np.ndarray, variant: str) -> Any:
        from seq2func.core.sequence import one_hot

        x = one_hot(self.codes[rows])
        if variant == "seq_only":
            return x
        assert self.chromatin is not None
        return {"sequence": x, "chromatin": self.chromatin[rows].astype(np.float32)}


def standardise_chromatin(chromatin: np.ndarray, train_rows: np.ndarray) -> np.ndarray:
    """z-score each track with its mean and standard deviation over the bins of training genes,
    so observed log counts and predicted probabilities are on comparable scales."""
    flat = chromatin[train_rows].reshape(-1, chromatin.shape[-1]).astype(np.float64)
    mean, sd = flat.mean(axis=0), flat.std(axis=0)
    return ((chromatin - mean) / np.where(sd > 0, sd, 1.0)).astype(np.float32)


def train_expression(
    arrays: ExpressionArrays,
    variant: str,
    spec: ExpressionModelSpec,
    settings: Any,
    seed: int,
    outdir: str | Path,
    window: Mapping[str, Any],
    threads: int = 0,
    inputs: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """Train one expression model (one seed) and predict every gene.

    Writes ``model.keras``, ``history.tsv``, ``run.json`` (with ``expression_window``) and
    ``predictions.npz`` (``prediction``: ``(n_genes, n_samples)`` log1p(TPM), rows of the gene
    table) into ``outdir``. ``settings`` is a :class:`seq2func.train.loop.TrainSettings`; random
    reverse-complement and jitter augmentation do not apply (the promoter is oriented).
    """
    from seq2func.core.io import atomic_output, write_text_atomic
    from seq2func.train.loop import configure_runtime, fit

    device = configure_runtime(seed, settings.deterministic, threads, settings.mixed_precision)
    import keras
    import tensorflow as tf

    train_rows = np.flatnonzero(arrays.split == "train")
    val_rows = np.flatnonzero(arrays.split == "valid")
    if val_rows.size == 0:
        raise ValueError("no validation genes: early stopping needs split.valid chromosomes "
                         "with expressed genes")
    y = arrays.targets.astype(np.float32)
    mean = y[train_rows].mean(axis=0)
    n_bins, n_tracks = (arrays.chromatin.shape[1:] if arrays.chromatin is not None
                        and variant != "seq_only" else (0, 0))

    def build() -> Any:
        return build_expression_model(variant, arrays.codes.shape[1], y.shape[1], spec,
                                      n_bins, n_tracks, target_mean=mean)

    def compile_model(model: Any, lr: float) -> None:
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")

    x_train = arrays.inputs(train_rows, variant)
    x_val = arrays.inputs(val_rows, variant)

    def train_data(epoch: int) -> Any:
        rng = np.random.default_rng(seed * 100_003 + epoch)
        order = rng.permutation(train_rows.size)
        x = (x_train[order] if variant == "seq_only"
             else {k: v[order] for k, v in x_train.items()})
        return tf.data.Dataset.from_tensor_slices((x, y[train_rows][order])).batch(
            settings.batch_size)

    def val_data() -> Any:
        return tf.data.Dataset.from_tensor_slices((x_val, y[val_rows])).batch(
            settings.batch_size)

    window_record = {"upstream": int(window["upstream"]),
                     "downstream": int(window["downstream"]), "samples": list(arrays.samples)}
    run_config = {"model": variant, "spec": asdict(spec), "settings": asdict(settings),
                  "seed": int(seed), "expression_window": window_record,
                  "chromatin": {k: v for k, v in arrays.extra.items()
                                if isinstance(v, str | int | float | list | dict)},
                  "n_genes": {s: int((arrays.split == s).sum()) for s in ("train", "valid",
                                                                          "test")}}
    out = Path(outdir)
    record = fit(build_model=build, compile_model=compile_model, train_data=train_data,
                 val_data=val_data, settings=settings, outdir=out, run_config=run_config,
                 device=device, inputs=inputs, n_train=int(train_rows.size))
    record["expression_window"] = window_record
    write_text_atomic(out / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
    model = keras.models.load_model(out / "model.keras", safe_mode=True, compile=False)
    all_rows = np.arange(arrays.codes.shape[0])
    pred = np.asarray(model.predict(arrays.inputs(all_rows, variant), batch_size=256,
                                    verbose=0), dtype=np.float32)
    with atomic_output(out / "predictions.npz") as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, prediction=pred, samples=np.asarray(arrays.samples))
    return record


# --------------------------------------------------------------------------- predicted chromatin


def predict_chromatin(model_paths: Sequence[str | Path], genome: Any, genes: Any,
                      window: Any, batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
    """Accessibility predicted by trained models on windows tiling each gene's chromatin window.

    For every chromatin bin, the model's input window is centred on the bin; predictions are
    averaged over both strands (:func:`seq2func.models.accessibility.predict_both_strands`) and over the
    models given (an ensemble of seeds). Basset-style models give peak probabilities per task,
    BPNet-style models ``log_counts``.

    Returns
    -------
    (numpy.ndarray, list of str)
        ``(n_genes, n_bins, n_tasks)`` float32, bins 5'->3' in each gene's orientation, and the
        output used (``labels`` or ``log_counts``).
    """
    from seq2func.core.sequence import one_hot
    from seq2func.expression.data import chromatin_tiles
    from seq2func.models.accessibility import load_ensemble, predict_both_strands

    model = load_ensemble(model_paths)
    key = "labels" if "labels" in model.output else "log_counts"
    length = int(model.inputs[0].shape[1])
    starts, chroms = chromatin_tiles(genes, window, length)
    n, n_bins = starts.shape
    codes = genome.windows(np.repeat(chroms, n_bins), starts.ravel(), length)
    parts = []
    for a in range(0, codes.shape[0], 8192):
        pred = predict_both_strands(model, one_hot(codes[a : a + 8192]), batch_size)
        parts.append(np.asarray(pred[key], dtype=np.float32))
    out = np.concatenate(parts).reshape(n, n_bins, -1)
    minus = genes["strand"].to_numpy() == "-"
    out[minus] = out[minus, ::-1, :]
    return out.astype(np.float32), [key]
