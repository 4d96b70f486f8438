"""Attributions of accessibility models: gradient x input and in-silico mutagenesis (ISM).

What is explained
-----------------
One scalar per task and sequence (the *target* of :func:`target_outputs`):

* ``basset``: the logit of each task (output ``labels``);
* ``bpnet`` with ``bpnet_target="counts"`` (default, as ChromBPNet's count attributions): the
  predicted log counts of each task; with ``"profile"``: the mean-normalised profile logits
  weighted by the (gradient-stopped) softmax of the logits, BPNet's and ChromBPNet's profile
  contribution target (invariant to a constant shift of the logits, which leaves the profile
  unchanged).

Both methods are averaged over the two strands: the reverse complement of every sequence is
explained too and its scores are flipped back (reversed along the sequence and along A/C/G/T)
before averaging, so scores do not depend on which strand the reference reads.

Score conventions (as TF-MoDISco expects)
-----------------------------------------
*Hypothetical* scores ``(n, L, 4, T)`` say what each base would contribute at each position;
*actual* scores are the hypothetical scores times the one-hot sequence. For gradient x input
the hypothetical score is the gradient mean-centred over the four bases at each position (the
projection that removes the one-hot simplex direction, Majdandzic et al. 2023). For ISM it is
``f(mutant with base b) - f(reference)`` mean-centred over the four bases (reference base: 0
before centring).

ISM is vectorised: the ``3 * W`` single-base mutants of the central ``W`` positions of a block of
sequences are built as one array by fancy indexing and predicted in large batches; the model
is never called once per mutant.

TensorFlow is imported only inside the functions that need it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

#: targets of a bpnet model that can be explained
BPNET_TARGETS = ("counts", "profile")


@dataclass
class Attributions:
    """Attribution scores of a set of regions (one row per region).

    Attributes
    ----------
    regions
        ``region_id, chrom, start, end, centre`` and ``selected_<task>`` (whether the region was
        chosen as a peak of that task).
    tasks
        Task names (the last axis of the score arrays).
    one_hot
        ``(n, L, 4)`` uint8 one-hot sequences.
    hypothetical
        ``(n, L, 4, T)`` float32 gradient x input hypothetical scores.
    ism_rows
        Row indices (into ``regions``) of the regions explained by ISM.
    ism_start
        First position (in the input window) of the ISM window; ``ism_hypothetical`` covers
        ``[ism_start, ism_start + W)``.
    ism_hypothetical
        ``(m, W, 4, T)`` float32 ISM hypothetical scores.
    """

    regions: pd.DataFrame
    tasks: list[str]
    one_hot: np.ndarray
    hypothetical: np.ndarray
    ism_rows: np.ndarray
    ism_start: int
    ism_hypothetical: np.ndarray

    @property
    def actual(self) -> np.ndarray:
        """Gradient x input actual scores ``(n, L, 4, T)`` (hypothetical x one-hot)."""
        return self.hypothetical * self.one_hot[..., None]

    def save(self, path: str | Path) -> None:
        """Write an ``.npz`` (atomically): arrays below plus region coordinates as columns.

        Keys: ``region_id, chrom, start, end, centre, tasks, selected (n, T), one_hot,
        hypothetical, actual`` (gradient x input), ``ism_rows, ism_start, ism_hypothetical,
        ism_actual``.
        """
        from seq2func.core.io import atomic_output

        sel = np.stack([self.regions[f"selected_{t}"].to_numpy(bool) for t in self.tasks],
                       axis=1)
        L = self.one_hot.shape[1]
        W = self.ism_hypothetical.shape[1]
        ism_onehot = self.one_hot[self.ism_rows, self.ism_start : self.ism_start + W]
        if self.ism_start + W > L:
            raise ValueError("ISM window outside the input")
        arrays = {
            "region_id": self.regions["region_id"].to_numpy(np.int64),
            "chrom": self.regions["chrom"].to_numpy(str),
            "start": self.regions["start"].to_numpy(np.int64),
            "end": self.regions["end"].to_numpy(np.int64),
            "centre": self.regions["centre"].to_numpy(np.int64),
            "tasks": np.asarray(self.tasks, dtype=str),
            "selected": sel,
            "one_hot": self.one_hot.astype(np.uint8),
            "hypothetical": self.hypothetical.astype(np.float32),
            "actual": self.actual.astype(np.float32),
            "ism_rows": self.ism_rows.astype(np.int64),
            "ism_start": np.int64(self.ism_start),
            "ism_hypothetical": self.ism_hypothetical.astype(np.float32),
            "ism_actual": (self.ism_hypothetical * ism_onehot[..., None]).astype(np.float32),
        }
        with atomic_output(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


# --------------------------------------------------------------------------- targets


def model_architecture(model: Any) -> str:
    """``"basset"`` or ``"bpnet"`` from a model's output names."""
    names = set(model.output_names) if hasattr(model, "output_names") else set()
    if not names:
        names = set(model.output.keys()) if isinstance(model.output, dict) else set()
    if "labels" in names:
        return "basset"
    if "log_counts" in names:
        return "bpnet"
    raise ValueError(f"cannot explain a model with outputs {sorted(names)}")


def target_outputs(model: Any, bpnet_target: str = "counts") -> Callable[[Any], Any]:
    """Function ``x -> [B, T]`` tensor: the scalar per task that attributions explain.

    Works on TensorFlow tensors (differentiable) and on numpy arrays.
    """
    from keras import ops

    arch = model_architecture(model)
    if bpnet_target not in BPNET_TARGETS:
        raise ValueError(f"bpnet_target must be one of {BPNET_TARGETS}, not {bpnet_target!r}")

    def fn(x):  # type: ignore[no-untyped-def]
        out = model(x, training=False)
        if arch == "basset":
            return ops.cast(out["labels"], "float32")
        if bpnet_target == "counts":
            return ops.cast(out["log_counts"], "float32")
        logits = ops.cast(out["profile"], "float32")  # [B, bins, T]
        # BPNet/ChromBPNet's "weighted sum of mean-normalised logits": a constant shift of
        # every logit does not change the profile, so it must not change the target either
        centred = logits - ops.mean(logits, axis=1, keepdims=True)
        weights = ops.stop_gradient(ops.softmax(logits, axis=1))
        return ops.sum(weights * centred, axis=1)

    return fn


def predict_target(fn: Callable[[Any], Any], x: np.ndarray, batch_size: int = 512
                   ) -> np.ndarray:
    """``fn`` on ``x`` in batches, as a float64 numpy array ``(n, T)``."""
    from keras import ops

    parts = []
    for a in range(0, x.shape[0], batch_size):
        parts.append(np.asarray(ops.convert_to_numpy(fn(x[a : a + batch_size])),
                                dtype=np.float64))
    return np.concatenate(parts) if parts else np.zeros((0, 0))


def strand_averaged(fn: Callable[[Any], Any]) -> Callable[[np.ndarray], np.ndarray]:
    """Numpy function averaging ``fn`` over a sequence and its reverse complement."""

    def both(x: np.ndarray) -> np.ndarray:
        return 0.5 * (predict_target(fn, x) + predict_target(fn, x[:, ::-1, ::-1]))

    return both


# --------------------------------------------------------------------------- gradient x input


def _centre_bases(h: np.ndarray) -> np.ndarray:
    """Subtract the mean over the base axis (axis 2 of ``(n, L, 4, T)``)."""
    return h - h.mean(axis=2, keepdims=True)


def gradients(fn: Callable[[Any], Any], x: np.ndarray, n_tasks: int, batch_size: int = 128
              ) -> np.ndarray:
    """Gradients ``(n, L, 4, T)`` of each task's target with respect to the one-hot input."""
    import tensorflow as tf

    out = np.zeros((*x.shape, n_tasks), dtype=np.float32)
    for a in range(0, x.shape[0], batch_size):
        xb = tf.convert_to_tensor(x[a : a + batch_size], dtype=tf.float32)
        with tf.GradientTape(persistent=n_tasks > 1) as tape:
            tape.watch(xb)
            y = fn(xb)
            per_task = [tf.reduce_sum(y[:, t]) for t in range(n_tasks)]
        for t in range(n_tasks):
            out[a : a + batch_size, :, :, t] = tape.gradient(per_task[t], xb).numpy()
        del tape
    return out


def gradient_x_input(fn: Callable[[Any], Any], x: np.ndarray, n_tasks: int,
                     batch_size: int = 128) -> np.ndarray:
    """Strand-averaged hypothetical gradient x input scores ``(n, L, 4, T)``.

    The reverse-complement gradients are mapped back to the forward strand (reversed along
    positions and bases) before averaging; then scores are mean-centred over the bases.
    """
    fwd = gradients(fn, x, n_tasks, batch_size)
    rev = gradients(fn, np.ascontiguousarray(x[:, ::-1, ::-1]), n_tasks, batch_size)
    return _centre_bases(0.5 * (fwd + rev[:, ::-1, ::-1, :])).astype(np.float32)


# --------------------------------------------------------------------------- ISM


def ism_mutants(x: np.ndarray, start: int, width: int) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """All single-base substitutions of positions ``[start, start + width)`` of every sequence.

    Parameters
    ----------
    x
        ``(n, L, 4)`` one-hot sequences (an all-zero N position gets 4 "mutants", none skipped:
        each of the 3 non-reference bases is defined relative to the argmax, i.e. A for N).

    Returns
    -------
    mutants
        ``(n * width * 3, L, 4)`` one-hot mutants, ordered by sequence, position, alternative.
    positions
        ``(width * 3,)`` mutated position of each mutant of one sequence.
    bases
        ``(width * 3,)`` the alternative base (0..3) of each mutant of one sequence.
    """
    n, L, _ = x.shape
    if start < 0 or start + width > L:
        raise ValueError(f"ISM window [{start}, {start + width}) outside the input of length {L}")
    ref = x[:, start : start + width].argmax(axis=-1)  # (n, W)
    alt = (ref[:, :, None] + np.arange(1, 4)[None, None, :]) % 4  # (n, W, 3)
    mut = np.repeat(x[:, None, :, :], width * 3, axis=1)  # (n, 3W, L, 4)
    pos = np.repeat(np.arange(start, start + width), 3)  # (3W,)
    rows = np.arange(width * 3)
    mut[:, rows, pos, :] = 0
    nn = np.arange(n)[:, None]
    mut[nn, rows[None, :], pos[None, :], alt.reshape(n, -1)] = 1
    return mut.reshape(n * width * 3, L, 4), pos, alt.reshape(n, -1)


def ism(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, start: int, width: int,
        max_mutants: int = 8192) -> np.ndarray:
    """Hypothetical ISM scores ``(n, width, 4, T)`` for positions ``[start, start + width)``.

    ``predict`` maps one-hot ``(m, L, 4)`` to ``(m, T)`` (e.g. :func:`strand_averaged`). Blocks
    of sequences are mutated at once so that each call predicts up to ``max_mutants``
    sequences (plus the references).
    """
    n = x.shape[0]
    per_seq = 3 * width
    block = max(1, max_mutants // per_seq)
    out: np.ndarray | None = None
    for a in range(0, n, block):
        xb = x[a : a + block]
        b = xb.shape[0]
        mut, pos, alt = ism_mutants(xb, start, width)
        pred = predict(np.concatenate([xb, mut]))
        ref_pred, mut_pred = pred[:b], pred[b:].reshape(b, per_seq, -1)
        if out is None:
            out = np.zeros((n, width, 4, pred.shape[1]), dtype=np.float64)
        delta = mut_pred - ref_pred[:, None, :]  # (b, 3W, T)
        out[a + np.arange(b)[:, None], (pos - start)[None, :], alt] = delta
    if out is None:
        return np.zeros((0, width, 4, 0), dtype=np.float32)
    return _centre_bases(out).astype(np.float32)


# --------------------------------------------------------------------------- region choice


def select_peaks(regions: pd.DataFrame, tasks: Sequence[str], n_per_task: int) -> pd.DataFrame:
    """Test-set peaks to explain: for each task, its ``n_per_task`` strongest labelled peaks.

    Among ``source == "peak"`` regions with ``label_<task> == 1``, the ones with the highest
    ``log_counts_<task>`` (ties by region_id) are chosen. Returns the union, in region_id order,
    with a boolean ``selected_<task>`` column per task and ``rank_<task>``, the region's rank
    among the task's chosen peaks (0: strongest; -1: not chosen).
    """
    peaks = regions[regions["source"] == "peak"]
    chosen: dict[str, dict[int, int]] = {}
    for t in tasks:
        pos = peaks[peaks[f"label_{t}"] == 1]
        pos = pos.sort_values([f"log_counts_{t}", "region_id"], ascending=[False, True],
                              kind="stable")
        chosen[t] = {int(r): i for i, r in enumerate(pos["region_id"].head(n_per_task))}
    ids = sorted(set().union(*chosen.values())) if chosen else []
    out = peaks.set_index("region_id").loc[ids].reset_index()
    cols = ["region_id", "chrom", "start", "end", "centre"]
    out = out[cols].copy()
    for t in tasks:
        out[f"selected_{t}"] = out["region_id"].isin(list(chosen[t]))
        out[f"rank_{t}"] = out["region_id"].map(chosen[t]).fillna(-1).astype(np.int64)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- driver


def ism_selection(regions: pd.DataFrame, tasks: Sequence[str], ism_per_task: int
                  ) -> np.ndarray:
    """Rows explained by ISM: each task's ``ism_per_task`` strongest selected rows (by
    ``rank_<task>`` of :func:`select_peaks`; the first selected rows of a table without
    ranks), sorted, each once; none when ``ism_per_task`` is 0."""
    rows: list[int] = []
    if ism_per_task > 0:
        for t in tasks:
            picked = np.flatnonzero(regions[f"selected_{t}"].to_numpy(bool))
            if f"rank_{t}" in regions:
                picked = picked[np.argsort(regions[f"rank_{t}"].to_numpy()[picked],
                                           kind="stable")]
            rows += picked[:ism_per_task].tolist()
    return np.array(sorted(set(rows)), dtype=np.int64)


def concat_attributions(parts: Sequence[Attributions]) -> Attributions:
    """The attributions of several disjoint region sets as one, rows in ``region_id`` order.

    Raises
    ------
    ValueError
        If there is no part, or the parts differ in tasks, input length or ISM window.
    """
    if not parts:
        raise ValueError("no attributions to combine")
    first = parts[0]
    for p in parts[1:]:
        if (p.tasks != first.tasks or p.one_hot.shape[1:] != first.one_hot.shape[1:]
                or p.ism_start != first.ism_start
                or p.ism_hypothetical.shape[1:] != first.ism_hypothetical.shape[1:]):
            raise ValueError("attributions of different tasks, inputs or ISM windows")
    offsets = np.cumsum([0, *[len(p.regions) for p in parts]])
    regions = pd.concat([p.regions for p in parts], ignore_index=True)
    order = np.argsort(regions["region_id"].to_numpy(), kind="stable")
    new_row = np.empty(order.size, dtype=np.int64)
    new_row[order] = np.arange(order.size)
    ism_rows = new_row[np.concatenate([p.ism_rows + o for p, o in zip(parts, offsets,
                                                                        strict=False)])]
    ism_order = np.argsort(ism_rows, kind="stable")
    return Attributions(
        regions=regions.iloc[order].reset_index(drop=True), tasks=list(first.tasks),
        one_hot=np.concatenate([p.one_hot for p in parts])[order],
        hypothetical=np.concatenate([p.hypothetical for p in parts])[order],
        ism_rows=ism_rows[ism_order], ism_start=first.ism_start,
        ism_hypothetical=np.concatenate([p.ism_hypothetical for p in parts])[ism_order])


def explain_regions(model: Any, regions: pd.DataFrame, codes: np.ndarray, tasks: Sequence[str],
                    *, bpnet_target: str = "counts", ism_per_task: int = 20,
                    ism_width: int = 100, batch_size: int = 128,
                    ism_rows: np.ndarray | None = None) -> Attributions:
    """Gradient x input for every region and ISM for the strongest few of each task.

    Parameters
    ----------
    model
        A loaded accessibility model.
    regions
        From :func:`select_peaks` (rows in the order of ``codes``).
    codes
        ``(n, L)`` uint8 codes of the input windows.
    ism_per_task
        ISM on the ``ism_per_task`` strongest selected regions of each task (0: none;
        :func:`ism_selection`).
    ism_width
        ISM over the central ``ism_width`` positions of the input.
    ism_rows
        Rows explained by ISM, in place of :func:`ism_selection` by ``ism_per_task``.
    """
    from seq2func.core.sequence import one_hot

    x = one_hot(codes)
    fn = target_outputs(model, bpnet_target)
    log.info("gradient x input on %d regions x 2 strands", x.shape[0])
    hyp = gradient_x_input(fn, x, len(tasks), batch_size=batch_size)
    L = x.shape[1]
    width = min(int(ism_width), L)
    start = (L - width) // 2
    if ism_rows is None:
        ism_rows = ism_selection(regions, tasks, ism_per_task)
    ism_rows = np.asarray(ism_rows, dtype=np.int64)
    log.info("ISM on %d regions x %d positions x 3 alternatives x 2 strands", ism_rows.size,
             width)
    ism_h = (ism(strand_averaged(fn), x[ism_rows], start, width) if ism_rows.size
             else np.zeros((0, width, 4, len(tasks)), dtype=np.float32))
    return Attributions(regions=regions.reset_index(drop=True), tasks=list(tasks),
                        one_hot=x.astype(np.uint8), hypothetical=hyp, ism_rows=ism_rows,
                        ism_start=start, ism_hypothetical=ism_h)


def tiling(chrom: np.ndarray, start: np.ndarray, end: np.ndarray, centre: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping covered interval of each region, for writing a bigWig.

    Where windows of neighbouring regions (same chromosome, sorted by centre) overlap, the
    boundary is the midpoint between their centres: each base goes to the region whose centre
    is nearest. Returns ``(lo, hi)`` genomic bounds (``lo == hi``: nothing left).
    """
    lo = np.asarray(start, dtype=np.int64).copy()
    hi = np.asarray(end, dtype=np.int64).copy()
    order = np.lexsort((centre, chrom))
    c, s = np.asarray(chrom)[order], np.asarray(centre, dtype=np.int64)[order]
    same = c[1:] == c[:-1]
    mid = (s[1:] + s[:-1] + 1) // 2
    i, j = order[:-1][same], order[1:][same]
    hi[i] = np.minimum(hi[i], mid[same])
    lo[j] = np.maximum(lo[j], mid[same])
    lo = np.minimum(lo, hi)
    return lo, hi


def write_attribution_bigwigs(attr: Attributions, chrom_sizes: dict[str, int],
                              out_paths: dict[str, str | Path]) -> None:
    """One bigWig per task of the actual gradient x input score summed over bases.

    Only the explained regions are covered (overlaps split at the midpoint between centres);
    entries are written sorted, as one fixed-step block (a numpy array) per region.
    """
    import pyBigWig

    from seq2func.core.io import atomic_output

    reg = attr.regions
    lo, hi = tiling(reg["chrom"].to_numpy(str), reg["start"].to_numpy(),
                    reg["end"].to_numpy(), reg["centre"].to_numpy())
    per_base = (attr.hypothetical * attr.one_hot[..., None]).sum(axis=2)  # (n, L, T)
    chroms = [c for c in chrom_sizes if c in set(reg["chrom"])]
    for ti, task in enumerate(attr.tasks):
        with atomic_output(out_paths[task]) as tmp:
            bw = pyBigWig.open(str(tmp), "w")
            try:
                bw.addHeader(list(chrom_sizes.items()), maxZooms=4)
                for chrom in chroms:
                    rows = np.flatnonzero((reg["chrom"] == chrom).to_numpy() & (hi > lo))
                    rows = rows[np.argsort(lo[rows], kind="stable")]
                    if not rows.size:
                        continue
                    for r in rows:  # one fixed-step block per region, in genomic order
                        off = int(reg["start"].iat[r])
                        vals = per_base[r, lo[r] - off : hi[r] - off, ti].astype(np.float64)
                        bw.addEntries(chrom, int(lo[r]), values=vals, span=1, step=1)
            finally:
                bw.close()
