"""Keras 3 models of gene expression from promoter sequence (and chromatin), and their training.

Variants (config ``expression.variants``):

* ``seq_only`` - convolutions over the one-hot promoter window read 5'->3' (minus-strand genes
  reverse-complemented; the first convolution scans both strands with shared filters,
  ``strand_max``), then by default each filter's mean in bins of ``head_bin`` bp, flattened
  (``seq_head: binned_mean``: motif counts by position, the k-mer ridge's features learned),
  or Xpresso's max-pooling and flatten (``flatten``), or the max over positions
  (``global_max``); a dense layer, one output per sample.
  ONE input (``sequence``: ``(L, 4)``), output ``expression``: ``log1p(TPM)`` ``(n, samples)``;
* ``seq_observed`` - the same sequence tower plus a chromatin tower on the observed accessibility
  binned around the TSS (input ``chromatin``: ``(bins, tracks)``), concatenated;
* ``seq_predicted`` - the same, with the accessibility model's predictions in place of the
  observed signal.

Sizes follow the data (``capacity: auto``, :func:`capacity_for`): the first convolution's
filters grow with the number of training genes. Targets are standardised per sample (the model
learns z-scores; a fixed last layer ``expression`` maps them back to log1p(TPM), so the saved
model predicts log1p(TPM)).

Training uses :func:`seq2func.train.loop.fit` (device choice, per-epoch checkpoints, exact resume,
early stopping, seeds). The model directory's ``run.json`` records the input geometry and sample
order under ``expression_window`` (used by variant scoring). Keras is imported inside the
functions, after :func:`~seq2func.train.runtime.configure_runtime`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from seq2func.expression.data import ExpressionArrays
from seq2func.expression.settings import ExpressionModelSpec, ExpressionWindow
from seq2func.train.settings import TrainSettings

VARIANTS = ("seq_only", "seq_observed", "seq_predicted")


#: training genes per first-layer filter of ``capacity: auto``, and the filters' range
GENES_PER_FILTER = 64
FILTER_RANGE = (16, 128)


def capacity_for(n_train: int) -> tuple[int, int]:
    """First-layer filters and dense units of ``capacity: auto`` for ``n_train`` genes.

    ``filters = 2 ** round(log2(n_train / 64))`` clipped to [16, 128] (about one filter per 64
    training genes, a power of two) and ``units = max(8, filters // 2)``: e.g. 410 genes (the
    demo) -> 16 / 8, 5,600 (yeast) -> 64 / 32, 20,000 (human) -> 128 / 64.

    Raises
    ------
    ValueError
        If ``n_train`` < 1.
    """
    if n_train < 1:
        raise ValueError(f"capacity needs at least one training gene, not {n_train}")
    lo, hi = FILTER_RANGE
    filters = int(np.clip(2 ** round(np.log2(n_train / GENES_PER_FILTER)), lo, hi))
    return filters, max(8, filters // 2)


def resolve_spec(spec: ExpressionModelSpec, n_train: int) -> ExpressionModelSpec:
    """``spec`` with ``capacity: auto`` applied (:func:`capacity_for`); unchanged if fixed."""
    from dataclasses import replace

    if spec.capacity == "fixed":
        return spec
    if spec.capacity != "auto":
        raise ValueError(f"capacity must be 'auto' or 'fixed', not {spec.capacity!r}")
    filters, units = capacity_for(n_train)
    return replace(spec, conv_filters=[filters, *spec.conv_filters[1:]], dense_units=units,
                   capacity="fixed")


def build_expression_model(variant: str, length: int, n_samples: int,
                           spec: ExpressionModelSpec, n_bins: int = 0, n_tracks: int = 0,
                           target_mean: Sequence[float] | None = None,
                           target_sd: Sequence[float] | None = None) -> Any:
    """Build an expression model.

    Parameters
    ----------
    variant
        ``seq_only``, ``seq_observed`` or ``seq_predicted``.
    length
        Sequence input length (bp; promoter and gene-end window,
        :class:`~seq2func.expression.settings.ExpressionWindow`).
    n_samples
        Number of expression samples (outputs).
    spec
        Layer sizes.
    n_bins, n_tracks
        Shape of the chromatin input (chromatin variants only).
    target_mean
        Mean training target per sample: the output bias starts there.
    target_sd
        Standard deviation of the training targets per sample: when given (with
        ``target_mean``), the model learns z-scores and a fixed (non-trainable) last layer
        ``expression`` maps them to ``mean + sd * z``.

    Returns
    -------
    keras.Model
        Uncompiled, output ``expression``.
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
        c = _chromatin_tower(chrom_in, spec)
        h = layers.Concatenate(name="concat")([h, c])
        inputs = {"sequence": seq_in, "chromatin": chrom_in}
    if target_sd is not None and target_mean is not None:
        z = layers.Dense(n_samples, dtype="float32", name="expression_z")(h)
        out = _rescale_layer(target_mean, target_sd)(z)
    else:
        out = layers.Dense(n_samples, dtype="float32", bias_initializer=bias,
                           name="expression")(h)
    return keras.Model(inputs, out, name=variant)


def _rescale_layer(mean: Sequence[float], sd: Sequence[float]) -> Any:
    """A fixed dense layer ``expression``: ``mean + sd * z`` per sample (diagonal kernel)."""
    import keras
    from keras import layers

    m = np.asarray(mean, dtype=np.float64)
    s = np.where(np.asarray(sd, dtype=np.float64) > 0, np.asarray(sd, dtype=np.float64), 1.0)
    if m.shape != s.shape or m.ndim != 1:
        raise ValueError("target_mean and target_sd need one value per sample")
    return layers.Dense(m.size, dtype="float32", trainable=False, name="expression",
                        kernel_initializer=keras.initializers.Constant(np.diag(s).tolist()),
                        bias_initializer=keras.initializers.Constant(m.tolist()))


def _sequence_tower(inp: Any, spec: ExpressionModelSpec) -> Any:
    """Convolution and max-pooling blocks, the head (``seq_head``), dropout, a dense layer."""
    import keras
    from keras import layers

    from seq2func.models.layers import StrandMaxConv1D

    reg = keras.regularizers.L2(spec.l2) if spec.l2 else None
    x = inp
    for i, (f, k, p) in enumerate(zip(spec.conv_filters, spec.conv_kernels, spec.pool_sizes,
                                      strict=True)):
        name = f"seq_conv{i + 1}"
        if i == 0 and spec.strand_max:
            x = StrandMaxConv1D(f, k, kernel_regularizer=reg, name=name)(x)
            x = layers.Activation("relu", name=f"{name}_relu")(x)
        else:
            x = layers.Conv1D(f, k, padding="same", activation="relu", kernel_regularizer=reg,
                              name=name)(x)
        if p > 1:
            x = layers.MaxPooling1D(p, name=f"seq_pool{i + 1}")(x)
    x = _sequence_head(x, spec)
    x = layers.Dropout(spec.dropout, name="seq_dropout")(x)
    return layers.Dense(spec.dense_units, activation="relu", kernel_regularizer=reg,
                        name="seq_dense")(x)


def head_pool(spec: ExpressionModelSpec) -> int:
    """Positions averaged per bin by the ``binned_mean`` head (``head_bin`` in tower steps).

    Raises
    ------
    ValueError
        If ``head_bin`` is not a multiple of the product of ``pool_sizes``.
    """
    step = int(np.prod(spec.pool_sizes))
    if spec.head_bin % step:
        raise ValueError(f"expression.model.head_bin ({spec.head_bin}) must be a multiple of "
                         f"the product of pool_sizes ({step})")
    return spec.head_bin // step


def _sequence_head(x: Any, spec: ExpressionModelSpec) -> Any:
    """The head of the sequence tower (``seq_head``)."""
    from keras import layers

    if spec.seq_head == "binned_mean":  # motif counts by position, few weights
        x = layers.AveragePooling1D(head_pool(spec), padding="same", name="seq_bin_mean")(x)
        return layers.Flatten(name="seq_flatten")(x)
    if spec.seq_head == "flatten":  # Xpresso: position-aware
        return layers.Flatten(name="seq_flatten")(x)
    if spec.seq_head == "global_max":  # position-free
        return layers.GlobalMaxPooling1D(name="seq_global_max")(x)
    raise ValueError("seq_head must be 'binned_mean', 'flatten' or 'global_max', not "
                     f"{spec.seq_head!r}")


#: the output layers of every variant (the rest of ``seq_only`` is its sequence tower)
_OUTPUT_LAYERS = ("expression_z", "expression")
WARM_STARTS = ("frozen", "fine_tune", "none")


def warm_start_from(model: Any, seq_only: Any, mode: str) -> None:
    """Start a chromatin variant ``model`` at a trained ``seq_only`` model's predictions.

    The sequence tower's weights (every layer of ``seq_only`` but its output) are copied by
    layer name; the standardised output ``expression_z`` gets ``seq_only``'s weights for the
    sequence features and zeros for the chromatin features, which come after them in
    ``concat``. So the model, before training, predicts what ``seq_only`` predicts (exactly,
    when both standardise the same training genes), and training fits what the chromatin adds
    to it: gradient boosting's step with the sequence model as the first learner.

    Parameters
    ----------
    model
        A chromatin variant (:func:`build_expression_model` with ``target_sd``), modified in
        place.
    seq_only
        A trained ``seq_only`` model of the same sizes (same ``spec`` and training genes).
    mode
        ``frozen`` (the sequence tower is not trained further) or ``fine_tune`` (every weight
        is); ``none`` leaves ``model`` as built.

    Raises
    ------
    ValueError
        For an unknown ``mode``, a model without ``concat`` or ``expression_z``, or a
        ``seq_only`` whose layers do not fit ``model``'s (other sizes).
    """
    if mode not in WARM_STARTS:
        raise ValueError(f"warm_start must be one of {WARM_STARTS}, not {mode!r}")
    if mode == "none":
        return
    names = {layer.name for layer in model.layers}
    if not {"concat", "expression_z"} <= names:
        raise ValueError("a warm start needs a chromatin variant with standardised targets "
                         f"(layers concat and expression_z); {model.name} has {sorted(names)}")
    tower = [layer for layer in seq_only.layers
             if layer.weights and layer.name not in _OUTPUT_LAYERS]
    for src in tower:
        if src.name not in names:
            raise ValueError(f"seq_only layer {src.name!r} is not in {model.name}: the models "
                             "were built with other settings (expression.model)")
        dst = model.get_layer(src.name)
        _assign(dst, src.get_weights(), src.name)
        dst.trainable = mode == "fine_tune"
    kernel, bias = seq_only.get_layer("expression_z").get_weights()
    out = model.get_layer("expression_z")
    full = np.zeros_like(out.get_weights()[0])
    if full.shape[0] < kernel.shape[0] or full.shape[1] != kernel.shape[1]:
        raise ValueError(f"seq_only's output kernel {kernel.shape} does not fit "
                         f"{model.name}'s {full.shape}: other sizes (expression.model)")
    full[: kernel.shape[0]] = kernel
    out.set_weights([full, bias])


def _assign(layer: Any, weights: list[np.ndarray], name: str) -> None:
    """``layer.set_weights(weights)`` with a clear error for other shapes."""
    have = [tuple(w.shape) for w in layer.get_weights()]
    want = [tuple(w.shape) for w in weights]
    if have != want:
        raise ValueError(f"layer {name!r}: seq_only has weights {want}, the chromatin variant "
                         f"{have}: the models were built with other settings "
                         "(expression.model)")
    layer.set_weights(weights)


def _chromatin_tower(inp: Any, spec: ExpressionModelSpec) -> Any:
    """One convolution over the chromatin bins, flattened, a dense layer."""
    from keras import layers

    c = layers.Conv1D(spec.chromatin_filters, spec.chromatin_kernel, padding="same",
                      activation="relu", name="chrom_conv")(inp)
    c = layers.Flatten(name="chrom_flatten")(c)
    return layers.Dense(spec.chromatin_units, activation="relu", name="chrom_dense")(c)


def train_expression(
    arrays: ExpressionArrays,
    variant: str,
    spec: ExpressionModelSpec,
    settings: TrainSettings,
    seed: int,
    outdir: str | Path,
    window: ExpressionWindow,
    threads: int = 0,
    inputs: Sequence[str | Path] = (),
    warm_start: tuple[str | Path, str] | None = None,
) -> dict[str, Any]:
    """Train one expression model (one seed) and predict every gene.

    Writes ``model.keras``, ``history.tsv``, ``run.json`` (with ``expression_window``) and
    ``predictions.npz`` (``prediction``: ``(n_genes, n_samples)`` log1p(TPM), rows of the gene
    table) into ``outdir``. Random reverse-complement and jitter augmentation do not apply (the
    promoter is oriented).

    Parameters
    ----------
    arrays
        The variant's inputs (:func:`seq2func.expression.data.load_arrays`).
    variant
        ``seq_only``, ``seq_observed`` or ``seq_predicted``.
    spec, settings
        Layer sizes and optimisation settings.
    seed
        Replicate seed: initialisation, data order and dropout.
    outdir
        Output directory.
    window
        The input geometry (recorded for variant scoring).
    threads
        CPU threads for TensorFlow (0: its default).
    inputs
        Files recorded (with checksums) in the run record.
    warm_start
        ``(seq_only model.keras, mode)`` for a chromatin variant: start from that trained
        ``seq_only`` (:func:`warm_start_from`; ``frozen`` or ``fine_tune``); the start is
        early stopping's epoch 0, so the kept model is never worse on the validation genes.

    Returns
    -------
    dict
        The run record (``run.json``).
    """
    from seq2func.core.io import write_text_atomic
    from seq2func.train.loop import fit
    from seq2func.train.runtime import configure_runtime

    device = configure_runtime(seed, settings.deterministic, threads, settings.mixed_precision)
    import keras

    train_rows = np.flatnonzero(arrays.split == "train")
    val_rows = np.flatnonzero(arrays.split == "valid")
    if val_rows.size == 0:
        raise ValueError("no validation genes: early stopping needs split.valid chromosomes "
                         "with expressed genes")
    y = arrays.targets.astype(np.float32)
    n_bins, n_tracks = (arrays.chromatin.shape[1:] if arrays.chromatin is not None
                        and variant != "seq_only" else (0, 0))

    spec = resolve_spec(spec, int(train_rows.size))
    mean, sd = y[train_rows].mean(axis=0), y[train_rows].std(axis=0)

    warm = warm_start is not None and warm_start[1] != "none" and variant != "seq_only"

    def build() -> Any:
        model = build_expression_model(variant, arrays.codes.shape[1], y.shape[1], spec,
                                       n_bins, n_tracks, target_mean=mean, target_sd=sd)
        if warm:
            from seq2func.models import load_model

            assert warm_start is not None
            warm_start_from(model, load_model(warm_start[0]), warm_start[1])
        return model

    def compile_model(model: Any, lr: float) -> None:
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")

    train_data, val_data = _datasets(arrays, variant, y, train_rows, val_rows, seed,
                                     device.global_batch(settings.batch_size))
    window_record = {**window.record(), "samples": list(arrays.samples)}
    out = Path(outdir)
    record = fit(build_model=build, compile_model=compile_model, train_data=train_data,
                 val_data=val_data, settings=settings, outdir=out,
                 run_config={**_run_config(arrays, variant, spec, settings, seed,
                                           window_record),
                             "warm_start": _warm_record(warm_start if warm else None)},
                 device=device, inputs=[*inputs, *([warm_start[0]] if warm and warm_start
                                                   else [])],
                 n_train=int(train_rows.size), start_is_candidate=warm)
    record["expression_window"] = window_record
    write_text_atomic(out / "run.json", json.dumps(record, indent=2, sort_keys=True) + "\n")
    _predict_every_gene(arrays, variant, out)
    return record


def _warm_record(warm_start: tuple[str | Path, str] | None) -> dict[str, Any]:
    """The warm start in the run configuration: its mode and the seq_only file's md5 (a
    checkpoint of a start from another seq_only is not resumed)."""
    from seq2func.core.io import file_checksum

    if warm_start is None:
        return {"mode": "none"}
    return {"mode": warm_start[1], "seq_only_md5": file_checksum(Path(warm_start[0]), "md5")}


def _datasets(arrays: ExpressionArrays, variant: str, y: np.ndarray, train_rows: np.ndarray,
              val_rows: np.ndarray, seed: int, batch_size: int) -> tuple[Any, Any]:
    """``train_data(epoch)`` (genes shuffled with a seed of ``(seed, epoch)``) and
    ``val_data()`` for :func:`~seq2func.train.loop.fit`."""
    import tensorflow as tf

    x_train = arrays.inputs(train_rows, variant)
    x_val = arrays.inputs(val_rows, variant)

    def train_data(epoch: int) -> Any:
        rng = np.random.default_rng(seed * 100_003 + epoch)
        order = rng.permutation(train_rows.size)
        x = (x_train[order] if variant == "seq_only"
             else {k: v[order] for k, v in x_train.items()})
        return tf.data.Dataset.from_tensor_slices((x, y[train_rows][order])).batch(batch_size)

    def val_data() -> Any:
        return tf.data.Dataset.from_tensor_slices((x_val, y[val_rows])).batch(batch_size)

    return train_data, val_data


def _run_config(arrays: ExpressionArrays, variant: str, spec: ExpressionModelSpec,
                settings: TrainSettings, seed: int, window_record: dict[str, Any]
                ) -> dict[str, Any]:
    """What defines the run (its hash guards the resume)."""
    return {"model": variant, "spec": asdict(spec), "settings": asdict(settings),
            "seed": int(seed), "expression_window": window_record,
            "chromatin": {k: v for k, v in arrays.extra.items()
                          if isinstance(v, str | int | float | list | dict)},
            "n_genes": {s: int((arrays.split == s).sum()) for s in ("train", "valid", "test")}}


def _predict_every_gene(arrays: ExpressionArrays, variant: str, out: Path) -> None:
    """``predictions.npz`` of the best model for every gene of the table."""
    from seq2func.core.io import atomic_output
    from seq2func.models import load_model

    model = load_model(out / "model.keras")
    all_rows = np.arange(arrays.codes.shape[0])
    pred = np.asarray(model.predict(arrays.inputs(all_rows, variant), batch_size=256,
                                    verbose=0), dtype=np.float32)
    with atomic_output(out / "predictions.npz") as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, prediction=pred, samples=np.asarray(arrays.samples))
