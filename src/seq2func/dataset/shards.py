"""HDF5 shards: one file per chromosome, written by :class:`ShardWriter`, opened by readers."""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from seq2func.core.io import atomic_output, file_checksum

#: the datasets of every shard (see :mod:`seq2func.dataset`)
SHARD_DATASETS = ("sequence", "signal", "counts", "labels", "is_peak", "centre", "source",
                  "origin", "gc", "n_fraction")

PathLike = str | os.PathLike[str]


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


#: shards whose md5 matched ``dataset.json`` in this process: (path, size, mtime) -> md5
_VERIFIED: dict[tuple[str, int, int], str] = {}


def verify_shard(path: Path, shard: Any) -> None:
    """Check a shard's md5 against ``dataset.json`` once per process (and file version).

    Reading the file once costs about what one pass over its rows does; readers pass over
    the shards many times (every epoch), so the check is cheap where it matters.

    Raises
    ------
    InputError
        If the md5 differs (a truncated, overwritten or bit-flipped file).
    """
    from seq2func.core.errors import InputError

    if not shard.md5:
        return
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if _VERIFIED.get(key) == shard.md5:
        return
    got = file_checksum(path)
    if got != shard.md5:
        raise InputError(path, f"shard of chromosome {shard.chrom} is damaged: its md5 is "
                               f"{got}, dataset.json records {shard.md5}",
                         fix=_rerun_fix(path, shard.chrom))
    _VERIFIED[key] = got


def _rerun_fix(path: Path, chrom: str) -> str:
    """How to rebuild a shard: the workflow writes one folder per preprocessing job
    (``shards/<job>/<chrom>.h5``), which snakemake rebuilds only when the folder is gone."""
    if path.parent.name == "shards":  # written by `seq2func preprocess` or preprocess-chrom
        return (f"rerun preprocessing for chromosome {chrom} (`seq2func preprocess`, or "
                f"`seq2func preprocess-chrom --chrom {chrom} --shard {path} ...`)")
    return (f"delete the job folder {path.parent} and rerun snakemake, which rebuilds it "
            f"(or `seq2func preprocess-job --job {path.parent.name} --shard-dir "
            f"{path.parent} ...`), then the gather")


def verify_split(dataset: Any, split: str, fold: str | None = None) -> None:
    """Check the region table and every shard of a split (md5 and HDF5 open) before a reader
    that cannot raise a clear error itself, e.g. a ``tf.data`` generator, reads them.

    Raises
    ------
    InputError
        As :func:`open_shard` and :meth:`~seq2func.dataset.meta.Dataset.regions`.
    """
    dataset.regions()
    for shard in dataset.meta.shards_of(split, fold):
        open_shard(dataset, shard).close()


def open_shard(dataset: Any, shard: Any) -> Any:
    """Open a shard of ``dataset`` (a :class:`~seq2func.dataset.meta.Dataset`) for reading.

    The file's md5 is checked against ``dataset.json`` the first time this process opens it
    (:func:`verify_shard`).

    Raises
    ------
    InputError
        If the file is missing, its md5 differs or HDF5 cannot open it (truncated,
        overwritten), naming the chromosome whose preprocessing must be rerun.
    """
    import h5py

    from seq2func.core.errors import InputError

    path = dataset.shard_path(shard)
    fix = _rerun_fix(path, shard.chrom)
    if not path.is_file():
        raise InputError(path, f"shard of chromosome {shard.chrom} is missing", fix=fix)
    verify_shard(path, shard)
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputError(path, f"shard of chromosome {shard.chrom} is damaged ({exc})",
                         fix=fix) from exc
