"""Training sets on disk: the format written by preprocessing and the readers training uses.

This docstring is the contract between preprocessing and the later stages (training,
evaluation, interpretation). Format version: :data:`FORMAT_VERSION`.

Directory layout
----------------
``results/<study>/dataset/`` (the workflow's ``DATASET``) holds::

    dataset.json                 metadata (below); written last, so its presence means "complete"
    regions.tsv.gz               one row per region (below), in region_id order
    shards/<chrom>.h5            one HDF5 shard per chromosome (rows in genomic order)
    chroms/<chrom>.stats.json    per-chromosome QC statistics (intermediate)
    plan/plan.json, plan/summits.npz                           the scatter plan (intermediate)

Regions
-------
Every region is a fixed-width window centred on ``centre``: a peak summit (``source`` =
``peak``; peaks of all samples are merged by greedy non-maximum suppression, strongest summit
first, so no two region centres are closer than ``merge_distance``) or a GC-matched background
window (``source`` = ``background``; no peak of any sample overlaps its stored window).
``regions.tsv.gz`` columns:

==================  =========================================================================
``region_id``       0..n-1, the row number
``chrom``           chromosome (the genome's naming)
``start``, ``end``  the model input window, ``[centre - input_length/2, centre + input_length/2)``
``centre``          summit (peaks) or window centre (background), 0-based
``split``           ``train``/``valid``/``test`` (top-level ``split:`` config); with folds, also
                    ``split_<fold name>`` columns
``source``          ``peak`` or ``background``
``origin``          sample whose summit is the centre (empty for background)
``gc``              G+C fraction of the input window (N excluded); ``n_fraction``: N fraction
``shard``           shard path relative to the dataset directory; ``shard_row``: row in it
``is_peak_<task>``  1 if a peak of the task overlaps the count window
``label_<task>``    Basset-style binary label: 1 if a summit of the task lies within the central
                    ``label_window`` bp (``[centre - w/2, centre + w/2)``)
``counts_<task>``   signal summed over the count window (raw, unclipped)
``log_counts_<task>``  ``log1p(min(counts, clip_counts[task]))``: the count target
==================  =========================================================================

Tasks are the sample names in samples-table order.

Shards (HDF5, one per chromosome)
---------------------------------
==============  ======================  ==================================================
dataset         shape                   content
==============  ======================  ==================================================
``sequence``    ``(n, L + 2J)`` uint8   codes A0 C1 G2 T3 N4; L = input_length, J = max_jitter
``signal``      ``(n, T, S / bin)``     signal summed per ``profile_bin`` over
                                        ``S = max(profile_length, count_window) + 2J`` bases,
                                        task-major (each track's bins contiguous);
                                        uint16 (integral tracks), float32 or float16
``counts``      ``(n, T)`` float32      raw counts in the centred count window
``labels``      ``(n, T)`` uint8        as ``label_<task>``
``is_peak``     ``(n, T)`` uint8        as ``is_peak_<task>``
``centre``      ``(n,)`` int64          region centres
``source``      ``(n,)`` uint8          0 = peak, 1 = background
``origin``      ``(n,)`` int16          task whose summit is the centre (-1: background)
``gc``          ``(n,)`` float32        G+C fraction of the input window (N excluded)
``n_fraction``  ``(n,)`` float32        N fraction of the input window
==============  ======================  ==================================================

Rows are regions of one chromosome sorted by centre (``shard_row`` in ``regions.tsv.gz``).
Datasets are chunked by ``chunk_rows`` rows and, by default, compressed with HDF5's standard
byte-shuffle + deflate filters (any HDF5 reader decodes them; the writer compresses chunks in
parallel threads). Why HDF5: it is already a dependency, needs no TensorFlow to write (TFRecord
does), supports chunked compressed random access by row ranges (NPZ does not: a member is read
whole), is one self-describing file per scattered job, and is readable from numpy, PyTorch, R
and Julia. Readers stream chunk-aligned row blocks, so no split is ever loaded whole.

Targets and augmentation
------------------------
For an example with jitter offset ``o`` (a multiple of ``profile_bin`` in ``[-J, J]``; 0
without jitter):

* sequence = ``sequence[J + o : J + o + L]`` one-hot (N = all zeros);
* profile = stored bins of the ``profile_length`` window centred at ``centre + o``, each bin
  clipped at ``clipping.signal[task]`` (a quantile of positive training bins): float32
  ``(profile_length / profile_bin, T)`` (counts per bin);
* log_counts = ``log1p(min(sum of the unclipped bins of the count_window centred at
  centre + o, clipping.counts[task]))``;
* labels: float32 ``(T,)``, independent of jitter.

Reverse-complement augmentation (probability 1/2 per example) reverse-complements the one-hot
sequence and reverses the profile along its length axis (tracks are unstranded). Both are
exact because windows are centred on the same base. Everything is deterministic given
``seed`` (and, for the n-th pass over a non-repeating dataset, the pass number).

``dataset.json``
----------------
``format``, ``format_version``, ``study``, ``tasks``, ``samples`` (assay, cell type, files),
``input_length``, ``max_jitter``, ``sequence_stored_length`` (L + 2J), ``profile_length``,
``profile_bin``, ``profile_bins``, ``count_window``, ``signal_stored_length`` (S),
``signal_stored_bins``, ``label_window``, ``merge_distance``, ``encoding``, ``clipping``
(``counts_quantile``, ``counts`` per task, ``signal_quantile``, ``signal`` per task, computed on
training regions), ``split`` (chromosomes per split), ``folds``, ``n_regions`` (per split and
source), ``positives`` (per task and split), ``shards`` (chrom, path, split, rows, dtype, md5),
``checksums`` (md5 of regions.tsv.gz and every shard), ``params`` (the ``preprocess`` config).

Python API
----------
:func:`load_metadata`, :func:`load_regions`, :func:`iter_numpy` (non-TF consumers: centred,
unaugmented, per shard piece), :func:`iter_batches` (numpy batches with shuffling and
augmentation) and :func:`make_tf_dataset` (a ``tf.data.Dataset`` over :func:`iter_batches`;
TensorFlow is imported inside that function only).
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.io import atomic_output, file_checksum
from seq2func.core.sequence import COMPLEMENT_CODE

FORMAT = "seq2func-dataset"
FORMAT_VERSION = 1
TARGETS = ("labels", "log_counts", "profile")
SHARD_DATASETS = ("sequence", "signal", "counts", "labels", "is_peak", "centre", "source",
                  "origin", "gc", "n_fraction")

PathLike = str | os.PathLike[str]


# ----------------------------------------------------------------------------- writing


#: datasets written chunk by chunk (large); the others are kept in memory until close
_STREAMED = ("sequence", "signal")


#: deflate strategy per streamed dataset: the signal (mostly zeros after the byte shuffle)
#: compresses best and as fast with run-length matching only; DNA codes have no long repeats,
#: so Huffman coding alone gets the same ratio 1.6x faster than level-1 LZ matching
_STRATEGY = {"signal": zlib.Z_RLE, "sequence": zlib.Z_HUFFMAN_ONLY}


def _encode_chunk(block: np.ndarray, compression: str, strategy: int) -> bytes:
    """One HDF5 chunk through the shuffle + deflate filters, or raw.

    The output is a standard zlib stream after HDF5's byte shuffle, so any HDF5 reader decodes
    it with its built-in filters (the strategy only changes how the compressor searches).
    ``zlib`` releases the GIL, so chunks compress in parallel threads.
    """
    if compression == "none":
        return block.tobytes()
    size = block.dtype.itemsize
    raw = block.tobytes()
    if size > 1:
        raw = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size).T.tobytes()
    z = zlib.compressobj(1, zlib.DEFLATED, 15, 9, strategy)
    return z.compress(raw) + z.flush()


class ShardWriter:
    """Append regions to an HDF5 shard; the file appears atomically on :meth:`close`.

    ``sequence`` and ``signal`` are cut into chunks of ``chunk_rows`` rows that are compressed
    (gzip level 1 with byte shuffle, HDF5's standard filters) by ``threads`` threads while the
    caller goes on reading, and stored with direct chunk writes in order. The small per-region
    datasets are written at :meth:`close`. Files are byte-identical for identical input (no
    timestamps; chunks always written in the same order).
    """

    def __init__(self, path: PathLike, *, n_tasks: int, sequence_length: int, signal_bins: int,
                 signal_dtype: str, compression: str = "gzip", chunk_rows: int = 64,
                 attrs: Mapping[str, Any] | None = None, threads: int = 1) -> None:
        import h5py

        if compression not in ("gzip", "none"):
            raise ValueError(f"compression must be 'gzip' or 'none', not {compression!r}")
        self.path = Path(path)
        self.compression = compression
        self.chunk_rows = int(chunk_rows)
        self._ctx = atomic_output(self.path)
        self._tmp = self._ctx.__enter__()
        self._f = h5py.File(self._tmp, "w", libver="earliest", track_order=False)
        self._shapes = {"sequence": ((sequence_length,), np.dtype(np.uint8)),
                        "signal": ((n_tasks, signal_bins), np.dtype(signal_dtype)),
                        "counts": ((n_tasks,), np.dtype(np.float32)),
                        "labels": ((n_tasks,), np.dtype(np.uint8)),
                        "is_peak": ((n_tasks,), np.dtype(np.uint8)),
                        "centre": ((), np.dtype(np.int64)), "source": ((), np.dtype(np.uint8)),
                        "origin": ((), np.dtype(np.int16)), "gc": ((), np.dtype(np.float32)),
                        "n_fraction": ((), np.dtype(np.float32))}
        self._ds = {}
        for name in _STREAMED:
            tail, dtype = self._shapes[name]
            self._ds[name] = self._f.create_dataset(name, **self._layout(tail, dtype))
        for k, v in (attrs or {}).items():
            self._f.attrs[k] = v
        self._buf: dict[str, list[np.ndarray]] = {k: [] for k in self._shapes}
        self._buffered = 0
        self._chunks_done = 0
        self._rows_allocated = 0
        self._pending: list[tuple[int, Any, Any]] = []
        self._pool = None
        if threads > 1:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=int(threads))
        self.n_rows = 0
        self.md5: str | None = None

    def _layout(self, tail: tuple[int, ...], dtype: np.dtype, n: int = 0) -> dict[str, Any]:
        kw: dict[str, Any] = {"shape": (n, *tail), "maxshape": (None, *tail), "dtype": dtype,
                              "chunks": (self.chunk_rows, *tail), "track_times": False}
        if self.compression == "gzip":
            kw.update(compression="gzip", compression_opts=1, shuffle=dtype.itemsize > 1)
        return kw

    def append(self, **arrays: np.ndarray) -> None:
        """Append rows; keyword arguments are the datasets of :data:`SHARD_DATASETS`."""
        missing = set(SHARD_DATASETS) - set(arrays)
        if missing:
            raise ValueError(f"missing shard datasets {sorted(missing)}")
        for k in SHARD_DATASETS:
            self._buf[k].append(np.asarray(arrays[k]).astype(self._shapes[k][1], copy=False))
        self._buffered += len(arrays["centre"])
        if self._buffered >= 4 * self.chunk_rows:
            self._emit(final=False)

    def _emit(self, final: bool) -> None:
        """Send whole chunks of the streamed datasets to compression (all rows if final)."""
        merged = {k: np.concatenate(self._buf[k]) if self._buf[k] else None for k in _STREAMED}
        n = self._buffered if final else (self._buffered // self.chunk_rows) * self.chunk_rows
        for a in range(0, n, self.chunk_rows):
            b = min(n, a + self.chunk_rows)
            for k in _STREAMED:
                block = merged[k][a:b]
                if b - a < self.chunk_rows:  # the last chunk is stored full size
                    pad = np.zeros((self.chunk_rows, *block.shape[1:]), dtype=block.dtype)
                    pad[: b - a] = block
                    block = pad
                if self._pool is not None:
                    fut = self._pool.submit(_encode_chunk, np.ascontiguousarray(block),
                                            self.compression, _STRATEGY[k])
                else:
                    fut = _encode_chunk(block, self.compression, _STRATEGY[k])
                self._pending.append((self._chunks_done, k, fut))
            self._chunks_done += 1
        for k in _STREAMED:
            self._buf[k] = [merged[k][n:]] if n < self._buffered else []
        self.n_rows += n
        self._buffered -= n
        self._drain(keep=0 if final else 8 * max(1, getattr(self._pool, "_max_workers", 1)))

    def _drain(self, keep: int) -> None:
        """Write finished chunks in order, leaving at most ``keep`` in flight."""
        while len(self._pending) > keep:
            index, name, fut = self._pending.pop(0)
            data = fut if isinstance(fut, bytes) else fut.result()
            ds = self._ds[name]
            if self._rows_allocated < self.n_rows:  # (h5py's shape lookup is slow)
                for d in self._ds.values():
                    d.resize(self.n_rows, axis=0)
                self._rows_allocated = self.n_rows
            offset = (index * self.chunk_rows,) + (0,) * (ds.ndim - 1)
            ds.id.write_direct_chunk(offset, data, filter_mask=0)

    def close(self, ok: bool = True) -> None:
        """Write the remaining rows and move the file into place (``ok=False``: discard)."""
        if self._f is None:
            return
        try:
            if ok:
                self._emit(final=True)
                for name in self._ds:
                    self._ds[name].resize(self.n_rows, axis=0)
                for name, (tail, dtype) in self._shapes.items():
                    if name in _STREAMED:
                        continue
                    data = (np.concatenate(self._buf[name]) if self._buf[name]
                            else np.zeros((0, *tail), dtype=dtype))
                    self._f.create_dataset(name, data=data, **{
                        k: v for k, v in self._layout(tail, dtype, len(data)).items()
                        if k not in ("shape", "dtype")})
                self._f.attrs["n_regions"] = self.n_rows
            self._f.close()
            self._f = None
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            if ok:
                self.md5 = file_checksum(self._tmp)
                self._ctx.__exit__(None, None, None)
            else:
                self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)
        except BaseException:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            with contextlib.suppress(BaseException):
                if self._f is not None:
                    self._f.close()
                self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)
            raise

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if self._f is not None:
            self.close(ok=exc_type is None)


# ----------------------------------------------------------------------------- metadata


def load_metadata(dataset_dir: PathLike) -> dict[str, Any]:
    """Read ``dataset.json`` (raises :class:`InputError` if absent or of another format)."""
    path = Path(dataset_dir) / "dataset.json"
    if not path.is_file():
        raise InputError(path, "dataset metadata not found",
                         fix="build the dataset first (snakemake ... or seq2func preprocess)")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT or int(meta.get("format_version", -1)) > FORMAT_VERSION:
        raise InputError(path, f"unsupported dataset format {meta.get('format')!r} version "
                               f"{meta.get('format_version')!r}",
                         fix=f"rebuild it with this version of seq2func (format {FORMAT_VERSION})")
    meta["_dir"] = str(Path(dataset_dir))
    return meta


def split_column(meta: Mapping[str, Any], fold: str | None = None) -> str:
    """The ``regions.tsv.gz`` column holding the split (``split`` or ``split_<fold>``)."""
    if fold is None:
        return "split"
    names = [f["name"] for f in meta.get("folds", [])]
    if fold not in names:
        raise KeyError(f"fold {fold!r} not in dataset (folds: {names or 'none'})")
    return f"split_{fold}"


def split_chromosomes(meta: Mapping[str, Any], split: str, fold: str | None = None
                      ) -> list[str]:
    """Chromosomes of ``split`` (``train``, ``valid``, ``test`` or ``all``), in shard order."""
    if split == "all":
        return [s["chrom"] for s in meta["shards"]]
    if split not in ("train", "valid", "test"):
        raise ValueError(f"split must be train, valid, test or all, not {split!r}")
    table = meta["split"] if fold is None else next(
        f for f in meta["folds"] if f["name"] == fold)["split"]
    chosen = set(table[split])
    return [s["chrom"] for s in meta["shards"] if s["chrom"] in chosen]


def load_regions(dataset_dir: PathLike, split: str | None = None, fold: str | None = None
                 ) -> pd.DataFrame:
    """``regions.tsv.gz`` as a data frame, optionally only the rows of one split."""
    meta = load_metadata(dataset_dir)
    df = pd.read_csv(Path(dataset_dir) / "regions.tsv.gz", sep="\t",
                     dtype={"chrom": str, "origin": str}, keep_default_na=False)
    if split is not None and split != "all":
        df = df[df[split_column(meta, fold)] == split]
    return df


# ----------------------------------------------------------------------------- assembling examples


@dataclass
class _Geometry:
    L: int
    J: int
    bin: int
    profile_bins: int
    profile_offset_bins: int  # first stored bin of the centred profile window
    count_bins: int
    count_offset_bins: int
    clip_counts: np.ndarray  # (T,), inf = none
    clip_signal: np.ndarray  # (T,), inf = none

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> _Geometry:
        b = int(meta["profile_bin"])
        J = int(meta["max_jitter"])
        width = max(int(meta["profile_length"]), int(meta["count_window"]))
        tasks = meta["tasks"]

        def clip(section: str) -> np.ndarray:
            vals = meta["clipping"][section]
            return np.array([np.inf if vals.get(t) is None else float(vals[t]) for t in tasks],
                            dtype=np.float32)

        return cls(L=int(meta["input_length"]), J=J, bin=b,
                   profile_bins=int(meta["profile_length"]) // b,
                   profile_offset_bins=(J + (width - int(meta["profile_length"])) // 2) // b,
                   count_bins=int(meta["count_window"]) // b,
                   count_offset_bins=(J + (width - int(meta["count_window"])) // 2) // b,
                   clip_counts=clip("counts"), clip_signal=clip("signal"))


def _assemble(geo: _Geometry, seq: np.ndarray, signal: np.ndarray | None,
              labels: np.ndarray | None, shifts: np.ndarray, rc: np.ndarray,
              targets: Sequence[str], one_hot: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Crop, clip and augment stored rows into model inputs and targets (vectorised)."""
    n = seq.shape[0]
    shift_bins = shifts // geo.bin
    cols = (geo.J + shifts)[:, None] + np.arange(geo.L)
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
            out["log_counts"] = np.log1p(np.minimum(counts, geo.clip_counts))
        if "profile" in targets:
            pb = (geo.profile_offset_bins + shift_bins)[:, None, None] + np.arange(
                geo.profile_bins)
            prof = signal[rows, tasks, pb].astype(np.float32).transpose(0, 2, 1)
            prof = np.minimum(prof, geo.clip_signal)
            if rc.any():
                prof[rc] = prof[rc][:, ::-1]
            out["profile"] = np.ascontiguousarray(prof)
    if one_hot:
        eye = np.zeros((5, 4), dtype=np.float32)
        eye[np.arange(4), np.arange(4)] = 1.0
        x = eye[x]
    return x, out


def _check_targets(targets: Sequence[str]) -> tuple[str, ...]:
    targets = tuple(targets)
    bad = [t for t in targets if t not in TARGETS]
    if bad:
        raise ValueError(f"unknown targets {bad}; choose from {TARGETS}")
    return targets


# ----------------------------------------------------------------------------- numpy readers


@dataclass
class ShardPiece:
    """Consecutive rows of one shard, centred and unaugmented (see :func:`iter_numpy`)."""

    chrom: str
    codes: np.ndarray  # (n, input_length) uint8
    labels: np.ndarray  # (n, T) float32
    log_counts: np.ndarray  # (n, T) float32
    profile: np.ndarray  # (n, profile_bins, T) float32
    regions: pd.DataFrame  # the matching rows of regions.tsv.gz


def iter_numpy(dataset_dir: PathLike, split: str, *, fold: str | None = None,
               max_rows: int = 4096, with_profile: bool = True) -> Iterator[ShardPiece]:
    """Stream a split as centred numpy arrays, shard by shard, at most ``max_rows`` at a time.

    For baselines and evaluation: no shuffling, jitter or reverse complement. Concatenating the
    pieces gives the split's rows of ``regions.tsv.gz`` in order. Memory is bounded by
    ``max_rows``.
    """
    import h5py

    meta = load_metadata(dataset_dir)
    geo = _Geometry.from_meta(meta)
    regions = load_regions(dataset_dir)
    col = split_column(meta, fold)
    targets = ("labels", "log_counts", "profile") if with_profile else ("labels", "log_counts")
    for chrom in split_chromosomes(meta, split, fold):
        shard = next(s for s in meta["shards"] if s["chrom"] == chrom)
        rows = regions[(regions["shard"] == shard["path"])]
        if split != "all":
            rows = rows[rows[col] == split]
        if rows.empty:
            continue
        with h5py.File(Path(dataset_dir) / shard["path"], "r") as f:
            n = f["centre"].shape[0]
            for a in range(0, n, max_rows):
                b = min(n, a + max_rows)
                seq = f["sequence"][a:b]
                sig = f["signal"][a:b]
                lab = f["labels"][a:b]
                zeros = np.zeros(b - a, dtype=np.int64)
                codes, t = _assemble(geo, seq, sig, lab, zeros, np.zeros(b - a, dtype=bool),
                                     targets, one_hot=False)
                piece = rows[(rows["shard_row"] >= a) & (rows["shard_row"] < b)]
                yield ShardPiece(chrom=chrom, codes=codes, labels=t["labels"],
                                 log_counts=t["log_counts"],
                                 profile=t.get("profile", np.zeros((b - a, 0, len(meta["tasks"])),
                                                                   dtype=np.float32)),
                                 regions=piece.reset_index(drop=True))


def _blocks(meta: Mapping[str, Any], dataset_dir: Path, split: str, fold: str | None
            ) -> list[tuple[str, int, int]]:
    """Chunk-aligned row blocks ``(shard path, a, b)`` of a split, in shard order."""
    chunk = int(meta["params"]["chunk_rows"])
    out = []
    chroms = set(split_chromosomes(meta, split, fold))
    for s in meta["shards"]:
        if s["chrom"] in chroms:
            n = int(s["n_regions"])
            out += [(s["path"], a, min(n, a + chunk)) for a in range(0, n, chunk)]
    return out


def iter_batches(dataset_dir: PathLike, split: str, batch_size: int, *, shuffle: bool,
                 jitter: bool, reverse_complement: bool, seed: int,
                 targets: Sequence[str] = TARGETS, repeat: bool = False,
                 fold: str | None = None, one_hot: bool = True, drop_remainder: bool = False,
                 shuffle_buffer: int = 4096, epoch: int = 0
                 ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Numpy batches ``(x, {target: array})`` for training, streamed from the shards.

    Shuffling is two-level, as in WebDataset: the chunk-aligned row blocks of all shards of
    the split are permuted, then ``shuffle_buffer`` rows at a time are read and permuted. Jitter
    offsets are multiples of ``profile_bin`` in ``[-max_jitter, max_jitter]``; reverse
    complement applies to each example with probability 1/2. The random stream is
    ``numpy.random.default_rng([seed, epoch])`` for pass ``epoch`` (incremented per pass when
    ``repeat``), so batches are reproducible. See the module docstring for the targets.

    Yields
    ------
    tuple
        ``x`` float32 ``(B, input_length, 4)`` (uint8 codes ``(B, input_length)`` if
        ``one_hot=False``) and a dict with the requested targets.
    """
    import h5py

    ddir = Path(dataset_dir)
    meta = load_metadata(ddir)
    targets = _check_targets(targets)
    geo = _Geometry.from_meta(meta)
    blocks = _blocks(meta, ddir, split, fold)
    if not blocks:
        raise InputError(ddir / "dataset.json", f"split {split!r} has no regions",
                         fix="check the split chromosomes in the config")
    k_max = geo.J // geo.bin
    need_signal = "profile" in targets or "log_counts" in targets
    files: dict[str, Any] = {}
    try:
        while True:
            rng = np.random.default_rng([int(seed), int(epoch)])
            order = rng.permutation(len(blocks)) if shuffle else np.arange(len(blocks))
            carry: list[tuple[np.ndarray, ...]] = []
            carried = 0
            i = 0
            while i < len(order):
                group = []
                rows = 0
                while i < len(order) and (rows < shuffle_buffer or not group):
                    group.append(blocks[order[i]])
                    rows += group[-1][2] - group[-1][1]
                    i += 1
                parts = []
                for path, a, b in group:
                    if path not in files:
                        files[path] = h5py.File(ddir / path, "r")
                    f = files[path]
                    parts.append((f["sequence"][a:b],
                                  f["signal"][a:b] if need_signal else None,
                                  f["labels"][a:b]))
                seq = np.concatenate([p[0] for p in parts])
                sig = np.concatenate([p[1] for p in parts]) if need_signal else None
                lab = np.concatenate([p[2] for p in parts])
                if shuffle:
                    perm = rng.permutation(seq.shape[0])
                    seq, lab = seq[perm], lab[perm]
                    sig = sig[perm] if sig is not None else None
                if carried:
                    seq = np.concatenate([carry[0][0], seq])
                    lab = np.concatenate([carry[0][2], lab])
                    sig = np.concatenate([carry[0][1], sig]) if sig is not None else None
                    carry, carried = [], 0
                last_group = i >= len(order)
                n = seq.shape[0]
                full = (n // batch_size) * batch_size
                stop = n if last_group else full
                for a in range(0, stop, batch_size):
                    b = min(stop, a + batch_size)
                    if b - a < batch_size and drop_remainder:
                        break
                    m = b - a
                    shifts = (rng.integers(-k_max, k_max + 1, m) * geo.bin if jitter and k_max
                              else np.zeros(m, dtype=np.int64))
                    rc = (rng.random(m) < 0.5 if reverse_complement
                          else np.zeros(m, dtype=bool))
                    x, t = _assemble(geo, seq[a:b], None if sig is None else sig[a:b],
                                     lab[a:b], shifts.astype(np.int64), rc, targets, one_hot)
                    yield x, {k: t[k] for k in targets}
                if not last_group and full < n:
                    carry = [(seq[full:], None if sig is None else sig[full:], lab[full:])]
                    carried = n - full
            if not repeat:
                break
            epoch += 1
    finally:
        for f in files.values():
            f.close()


def steps_per_epoch(dataset_dir: PathLike, split: str, batch_size: int,
                    fold: str | None = None, drop_remainder: bool = False) -> int:
    """Batches in one pass over ``split``."""
    meta = load_metadata(dataset_dir)
    n = sum(int(s["n_regions"]) for s in meta["shards"]
            if s["chrom"] in set(split_chromosomes(meta, split, fold)))
    return n // batch_size if drop_remainder else -(-n // batch_size)


def make_tf_dataset(dataset_dir: PathLike, split: str, batch_size: int, *, shuffle: bool,
                    jitter: bool, reverse_complement: bool, seed: int,
                    targets: Sequence[str] = TARGETS, repeat: bool = False,
                    fold: str | None = None, drop_remainder: bool = False,
                    shuffle_buffer: int = 4096):  # type: ignore[no-untyped-def]
    """A ``tf.data.Dataset`` of ``(one_hot, {target: tensor})`` batches (see module docstring).

    ``one_hot`` is float32 ``[B, input_length, 4]``; ``labels`` and ``log_counts`` float32
    ``[B, T]``; ``profile`` float32 ``[B, profile_length // profile_bin, T]``. Batches come from
    :func:`iter_batches` (deterministic given ``seed``); each new iteration over a
    non-repeating dataset is a new pass with its own shuffle (pass 0, 1, ...). Batches are
    prefetched. TensorFlow is imported here only.
    """
    import tensorflow as tf

    meta = load_metadata(dataset_dir)
    targets = _check_targets(targets)
    T = len(meta["tasks"])
    L = int(meta["input_length"])
    shapes = {"labels": (None, T), "log_counts": (None, T),
              "profile": (None, int(meta["profile_length"]) // int(meta["profile_bin"]), T)}
    signature = (tf.TensorSpec((None, L, 4), tf.float32),
                 {k: tf.TensorSpec(shapes[k], tf.float32) for k in targets})
    passes = {"n": 0}

    def generator() -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        epoch = passes["n"]
        passes["n"] += 1
        yield from iter_batches(dataset_dir, split, batch_size, shuffle=shuffle, jitter=jitter,
                                reverse_complement=reverse_complement, seed=seed,
                                targets=targets, repeat=repeat, fold=fold,
                                drop_remainder=drop_remainder, shuffle_buffer=shuffle_buffer,
                                epoch=epoch)

    ds = tf.data.Dataset.from_generator(generator, output_signature=signature)
    return ds.prefetch(tf.data.AUTOTUNE)
