"""Readers of a training set: centred numpy pieces and shuffled, augmented batches.

:func:`iter_numpy` streams a split centred and unaugmented (baselines, evaluation,
prediction); :func:`iter_batches` streams training batches with two-level shuffling, jitter
and reverse complement. Both read chunk-aligned row ranges of the shards, so memory is bounded
by their buffer sizes, never by the split.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.sequence import COMPLEMENT_CODE, one_hot
from seq2func.dataset.geometry import Geometry
from seq2func.dataset.meta import Dataset, DatasetMeta, PathLike, as_dataset

TARGETS = ("labels", "log_counts", "profile")


def check_targets(targets: Sequence[str]) -> tuple[str, ...]:
    """``targets`` as a tuple; a name outside :data:`TARGETS` is a ValueError."""
    targets = tuple(targets)
    bad = [t for t in targets if t not in TARGETS]
    if bad:
        raise ValueError(f"unknown targets {bad}; choose from {TARGETS}")
    return targets


# ----------------------------------------------------------------------------- examples


@dataclass(frozen=True)
class Targets:
    """What :func:`assemble` needs besides the stored rows: geometry and clipping."""

    geometry: Geometry
    clip_counts: np.ndarray  # (T,), inf = none
    clip_signal: np.ndarray  # (T,), inf = none

    @classmethod
    def of(cls, meta: DatasetMeta) -> Targets:
        return cls(meta.geometry, meta.clip_counts, meta.clip_signal)


def assemble(spec: Targets, seq: np.ndarray, signal: np.ndarray | None,
             labels: np.ndarray | None, shifts: np.ndarray, rc: np.ndarray,
             targets: Sequence[str], one_hot_encode: bool
             ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Crop, clip and augment stored rows into model inputs and targets (vectorised).

    Parameters
    ----------
    spec
        Geometry and clipping of the dataset.
    seq
        Stored sequence codes ``(n, sequence_stored)``.
    signal
        Stored signal ``(n, T, signal_bins)`` (``None`` if no signal target is asked for).
    labels
        Stored labels ``(n, T)``.
    shifts
        Jitter of each row in bases (multiples of ``profile_bin``).
    rc
        Rows to reverse-complement (their profiles are reversed too).
    targets
        Names of :data:`TARGETS` to return.
    one_hot_encode
        Return one-hot ``(n, L, 4)`` float32 instead of codes ``(n, L)``.
    """
    geo = spec.geometry
    n = seq.shape[0]
    shift_bins = shifts // geo.profile_bin
    cols = (geo.max_jitter + shifts)[:, None] + np.arange(geo.input_length)
    x = np.take_along_axis(seq, cols, axis=1)
    if rc.any():
        x[rc] = COMPLEMENT_CODE[x[rc]][:, ::-1]
    out: dict[str, np.ndarray] = {}
    if "labels" in targets:
        out["labels"] = labels.astype(np.float32)
    if signal is not None and ("profile" in targets or "log_counts" in targets):
        # stored (n, T, bins); gather each row's jittered bins for every task at once
        rows = np.arange(n)[:, None, None]
        tasks = np.arange(signal.shape[1])[None, :, None]
        if "log_counts" in targets:
            cb = (geo.count_offset_bins + shift_bins)[:, None, None] + np.arange(geo.count_bins)
            counts = signal[rows, tasks, cb].sum(axis=2, dtype=np.float64).astype(np.float32)
            out["log_counts"] = np.log1p(np.minimum(counts, spec.clip_counts))
        if "profile" in targets:
            pb = (geo.profile_offset_bins + shift_bins)[:, None, None] + np.arange(
                geo.profile_bins)
            prof = signal[rows, tasks, pb].astype(np.float32).transpose(0, 2, 1)
            prof = np.minimum(prof, spec.clip_signal)
            if rc.any():
                prof[rc] = prof[rc][:, ::-1]
            out["profile"] = np.ascontiguousarray(prof)
    if one_hot_encode:
        x = one_hot(x)
    return x, out


# ----------------------------------------------------------------------------- numpy pieces


@dataclass
class ShardPiece:
    """Consecutive rows of one shard, centred and unaugmented (see :func:`iter_numpy`)."""

    chrom: str
    codes: np.ndarray  # (n, input_length) uint8
    labels: np.ndarray  # (n, T) float32
    log_counts: np.ndarray  # (n, T) float32
    profile: np.ndarray  # (n, profile_bins, T) float32
    regions: pd.DataFrame  # the matching rows of regions.tsv.gz


def iter_numpy(dataset: Dataset | PathLike, split: str, *, fold: str | None = None,
               max_rows: int = 4096, with_profile: bool = True) -> Iterator[ShardPiece]:
    """Stream a split as centred numpy arrays, shard by shard, at most ``max_rows`` at a time.

    For baselines and evaluation: no shuffling, jitter or reverse complement. Concatenating the
    pieces gives the split's rows of ``regions.tsv.gz`` in order. Memory is bounded by
    ``max_rows``.
    """
    from seq2func.dataset.shards import open_shard

    ds = as_dataset(dataset)
    meta = ds.meta
    spec = Targets.of(meta)
    regions = ds.regions()
    col = meta.split_column(fold)
    targets = TARGETS if with_profile else ("labels", "log_counts")
    for shard in meta.shards_of(split, fold):
        rows = regions[regions["shard"] == shard.path]
        if split != "all":
            rows = rows[rows[col] == split]
        if rows.empty:
            continue
        with open_shard(ds, shard) as f:
            n = f["centre"].shape[0]
            for a in range(0, n, max_rows):
                b = min(n, a + max_rows)
                zeros = np.zeros(b - a, dtype=np.int64)
                codes, t = assemble(spec, f["sequence"][a:b], f["signal"][a:b], f["labels"][a:b],
                                    zeros, np.zeros(b - a, dtype=bool), targets,
                                    one_hot_encode=False)
                piece = rows[(rows["shard_row"] >= a) & (rows["shard_row"] < b)]
                empty = np.zeros((b - a, 0, meta.n_tasks), dtype=np.float32)
                yield ShardPiece(chrom=shard.chrom, codes=codes, labels=t["labels"],
                                 log_counts=t["log_counts"], profile=t.get("profile", empty),
                                 regions=piece.reset_index(drop=True))


def own_peaks(regions: pd.DataFrame, tasks: Sequence[str]) -> np.ndarray:
    """``(n, tasks)`` booleans: whether each region is a peak *of that task*
    (``is_peak_<task>``; merged peaks of several samples are not every sample's peaks)."""
    return np.stack([(regions[f"is_peak_{t}"] == 1).to_numpy() for t in tasks], axis=1)


def average_peak_profile(dataset: Dataset | PathLike, split: str = "train",
                         fold: str | None = None) -> np.ndarray | None:
    """Mean normalised profile ``(bins, tasks)`` of each task's own peaks in ``split``, streamed.

    The profile baseline (``average_profile``): every region gets the average shape of the
    task's training peaks (regions that are peaks of the task), a position-only model. Its
    JSD is the reference a sequence model must beat. Regions with no reads in a task do not
    contribute to it. Returns None without profiles (or for a task without peaks).
    """
    ds = as_dataset(dataset)
    total = None
    n = None
    for piece in iter_numpy(ds, split, with_profile=True, fold=fold):
        if piece.profile is None:
            return None
        prof = np.asarray(piece.profile, dtype=np.float64)  # (n, bins, tasks)
        own = own_peaks(piece.regions, ds.tasks)
        sums = prof.sum(axis=1, keepdims=True)
        use = (sums[:, 0, :] > 0) & own
        frac = np.divide(prof, sums, out=np.zeros_like(prof), where=sums > 0)
        if total is None:
            total, n = np.zeros(prof.shape[1:]), np.zeros(prof.shape[2])
        total += (frac * use[:, None, :]).sum(axis=0)
        n += use.sum(axis=0)
    if total is None or not (n > 0).all():
        return None
    return total / n


# ----------------------------------------------------------------------------- training batches


Block = tuple[str, int, int]  # (shard path, first row, end row)


def row_blocks(meta: DatasetMeta, split: str, fold: str | None = None) -> list[Block]:
    """Chunk-aligned row blocks of a split, in shard order."""
    chunk = meta.chunk_rows
    return [(s.path, a, min(s.n_regions, a + chunk))
            for s in meta.shards_of(split, fold) for a in range(0, s.n_regions, chunk)]


def _groups(blocks: Sequence[Block], order: np.ndarray, shuffle_buffer: int) -> list[list[Block]]:
    """Consecutive blocks of ``order`` gathered until each group holds ``shuffle_buffer`` rows."""
    groups, i = [], 0
    while i < len(order):
        group: list[Block] = []
        rows = 0
        while i < len(order) and (rows < shuffle_buffer or not group):
            group.append(blocks[order[i]])
            rows += group[-1][2] - group[-1][1]
            i += 1
        groups.append(group)
    return groups


@dataclass
class _Rows:
    """Stored rows read into memory: sequence codes, signal (or None) and labels."""

    seq: np.ndarray
    sig: np.ndarray | None
    lab: np.ndarray

    def __len__(self) -> int:
        return self.seq.shape[0]

    def take(self, index: np.ndarray | slice) -> _Rows:
        return _Rows(self.seq[index], None if self.sig is None else self.sig[index],
                     self.lab[index])

    def after(self, other: _Rows | None) -> _Rows:
        """``other``'s rows followed by these."""
        if other is None:
            return self
        sig = None if self.sig is None else np.concatenate([other.sig, self.sig])
        return _Rows(np.concatenate([other.seq, self.seq]), sig,
                     np.concatenate([other.lab, self.lab]))


#: rows of a split to read, per shard path: a boolean mask over the shard's rows
Selection = Mapping[str, np.ndarray]


class _ShardFiles:
    """Open shards of one dataset, each opened once and closed together.

    With ``select``, only the selected rows of each block are read (see :data:`Selection`).
    """

    def __init__(self, ds: Dataset, select: Selection | None = None) -> None:
        self.ds = ds
        self.select = select
        self.files: dict[str, Any] = {}

    def read(self, group: Sequence[Block], need_signal: bool) -> _Rows:
        from seq2func.dataset.shards import open_shard

        parts = []
        for path, a, b in group:
            if path not in self.files:
                shard = next(s for s in self.ds.meta.shards if s.path == path)
                self.files[path] = open_shard(self.ds, shard)
            f = self.files[path]
            rows = _Rows(f["sequence"][a:b], f["signal"][a:b] if need_signal else None,
                         f["labels"][a:b])
            parts.append(rows if self.select is None else rows.take(self.select[path][a:b]))
        sig = np.concatenate([p.sig for p in parts]) if need_signal else None
        return _Rows(np.concatenate([p.seq for p in parts]), sig,
                     np.concatenate([p.lab for p in parts]))

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.files.clear()


def _augmented_batches(spec: Targets, rows: _Rows, stop: int, batch_size: int,
                       rng: np.random.Generator, *, jitter: bool, reverse_complement: bool,
                       drop_remainder: bool, targets: Sequence[str], one_hot_encode: bool
                       ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Batches of the first ``stop`` rows, each with its own jitter and strand draws."""
    geo = spec.geometry
    k_max = geo.max_shift_bins
    for a in range(0, stop, batch_size):
        b = min(stop, a + batch_size)
        if b - a < batch_size and drop_remainder:
            break
        m = b - a
        shifts = (rng.integers(-k_max, k_max + 1, m) * geo.profile_bin if jitter and k_max
                  else np.zeros(m, dtype=np.int64))
        rc = rng.random(m) < 0.5 if reverse_complement else np.zeros(m, dtype=bool)
        part = rows.take(slice(a, b))
        x, t = assemble(spec, part.seq, part.sig, part.lab, shifts.astype(np.int64), rc,
                        targets, one_hot_encode)
        yield x, {k: t[k] for k in targets}


def iter_batches(dataset: Dataset | PathLike, split: str, batch_size: int, *, shuffle: bool,
                 jitter: bool, reverse_complement: bool, seed: int,
                 targets: Sequence[str] = TARGETS, repeat: bool = False,
                 fold: str | None = None, one_hot: bool = True, drop_remainder: bool = False,
                 shuffle_buffer: int = 4096, epoch: int = 0, workers: int = 1, worker: int = 0,
                 select: Selection | None = None
                 ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Numpy batches ``(x, {target: array})`` for training, streamed from the shards.

    Shuffling is two-level, as in WebDataset: the chunk-aligned row blocks of all shards of
    the split are permuted, then ``shuffle_buffer`` rows at a time are read and permuted (rows
    that do not fill a batch are carried into the next buffer). Jitter offsets are multiples
    of ``profile_bin`` in ``[-max_jitter, max_jitter]``; reverse complement applies to each
    example with probability 1/2. The random stream is ``numpy.random.default_rng([seed,
    epoch])`` for pass ``epoch`` (incremented per pass when ``repeat``), so batches are
    reproducible. See :mod:`seq2func.dataset` for the targets.

    With ``workers`` > 1 this is the share of reader ``worker`` (0-based) of ``workers``
    parallel readers (:func:`~seq2func.dataset.tf.make_tf_dataset` interleaves them): the
    block order and the buffer groups are those of one reader, and reader ``w`` takes groups
    ``w, w + workers, ...``, shuffled and augmented with ``default_rng([seed, epoch, workers,
    w])``. Rows left over at the end of each reader's share make one short batch per reader.

    ``select`` (per shard path, a boolean mask over its rows, e.g. from :func:`selection`)
    restricts the split to some of its regions (e.g. low-count background for a bias model).

    Yields
    ------
    tuple
        ``x`` float32 ``(B, input_length, 4)`` (uint8 codes ``(B, input_length)`` if
        ``one_hot=False``) and a dict with the requested targets.
    """
    ds = as_dataset(dataset)
    targets = check_targets(targets)
    spec = Targets.of(ds.meta)
    blocks = row_blocks(ds.meta, split, fold)
    if not blocks:
        raise InputError(ds.metadata_path, f"split {split!r} has no regions",
                         fix="check the split chromosomes in the config")
    need_signal = "profile" in targets or "log_counts" in targets
    files = _ShardFiles(ds, select)
    try:
        while True:
            rng = np.random.default_rng([int(seed), int(epoch)])
            order = rng.permutation(len(blocks)) if shuffle else np.arange(len(blocks))
            groups = _groups(blocks, order, shuffle_buffer)
            if workers > 1:
                groups = groups[worker::workers]
                rng = np.random.default_rng([int(seed), int(epoch), int(workers), int(worker)])
            carry: _Rows | None = None
            rows_this_pass = 0
            for g, group in enumerate(groups):
                rows = files.read(group, need_signal)
                rows_this_pass += len(rows)
                if shuffle:
                    rows = rows.take(rng.permutation(len(rows)))
                rows = rows.after(carry)
                last = g == len(groups) - 1
                full = (len(rows) // batch_size) * batch_size
                yield from _augmented_batches(
                    spec, rows, len(rows) if last else full, batch_size, rng, jitter=jitter,
                    reverse_complement=reverse_complement, drop_remainder=drop_remainder,
                    targets=targets, one_hot_encode=one_hot)
                carry = rows.take(slice(full, None)) if not last and full < len(rows) else None
            # a reader whose share is empty (more readers than shuffle groups, or a selection
            # with no row in its groups) ends instead of repeating nothing forever
            if not repeat or rows_this_pass == 0:
                break
            epoch += 1
    finally:
        files.close()


def selection(dataset: Dataset | PathLike, keep: np.ndarray) -> dict[str, np.ndarray]:
    """A :data:`Selection` from a boolean over every row of ``regions.tsv.gz``."""
    ds = as_dataset(dataset)
    regions = ds.regions()
    keep = np.asarray(keep, dtype=bool)
    if keep.shape != (len(regions),):
        raise ValueError(f"keep has {keep.size} values for {len(regions)} regions")
    out = {}
    for s in ds.meta.shards:
        mask = np.zeros(s.n_regions, dtype=bool)
        rows = (regions["shard"] == s.path).to_numpy()
        mask[regions["shard_row"].to_numpy()[rows]] = keep[rows]
        out[s.path] = mask
    return out


def steps_per_epoch(dataset: Dataset | PathLike, split: str, batch_size: int,
                    fold: str | None = None, drop_remainder: bool = False) -> int:
    """Batches in one pass over ``split``."""
    n = as_dataset(dataset).meta.n_examples(split, fold)
    return n // batch_size if drop_remainder else -(-n // batch_size)
