"""File formats and safe writing: atomic outputs, checksums, chrom.sizes, FASTA, BED/narrowPeak.

Every writer in seq2func goes through :func:`atomic_output`, so an interrupted job never leaves a
partial file that a rerun of the workflow would trust.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError

PathLike = str | os.PathLike[str]

_UMASK = os.umask(0)
os.umask(_UMASK)

NARROWPEAK_COLUMNS = [
    "chrom",
    "start",
    "end",
    "name",
    "score",
    "strand",
    "signalValue",
    "pValue",
    "qValue",
    "peak",
]


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only if the block succeeds.

    The temporary file lives in the same directory, so the final :func:`os.replace` is atomic on
    POSIX file systems. On any exception the temporary file is removed and ``path`` is untouched.

    Parameters
    ----------
    path
        Final destination. Parent directories are created.

    Yields
    ------
    pathlib.Path
        Where to write. It keeps the suffix of ``path`` so libraries that sniff the extension work.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp" + final.suffix,
                                    dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if tmp.exists():  # mkstemp creates 0600; give the file the usual umask-based mode
            os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_text_atomic(path: PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_tsv_atomic(path: PathLike, df: pd.DataFrame, float_format: str | None = None) -> None:
    """Write a data frame as a tab-separated file with a header, atomically."""
    with atomic_output(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format=float_format, lineterminator="\n")


def write_tsv_gz_atomic(path: PathLike, df: pd.DataFrame, float_format: str | None = None,
                        level: int = 6) -> None:
    """Write a data frame as gzip-compressed TSV atomically, byte-identical across runs.

    The gzip header carries no file name and no time stamp (pandas would store both).
    """
    with atomic_output(path) as tmp, open(tmp, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                          compresslevel=level) as gz, \
            io.TextIOWrapper(gz, encoding="utf-8", newline="") as fh:
        df.to_csv(fh, sep="\t", index=False, float_format=float_format, lineterminator="\n")


def file_checksum(path: PathLike, algorithm: str = "md5", chunk_size: int = 1 << 20) -> str:
    """Hex digest of a file, read in chunks (constant memory)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def read_json(path: PathLike, keys: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON object another job (or the simulator) wrote.

    Raises
    ------
    InputError
        If the file is missing, not a JSON object or lacks one of ``keys``, naming it.
    """
    import json

    fix = "delete it and rerun the job that writes it (snakemake recreates it)"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(path, "file not found", fix="run the job that writes it first") from exc
    except (OSError, ValueError) as exc:
        raise InputError(path, f"damaged JSON file ({exc})", fix=fix) from exc
    if not isinstance(data, dict):
        raise InputError(path, "not a JSON object", fix=fix)
    missing = [k for k in keys if k not in data]
    if missing:
        raise InputError(path, f"lacks {', '.join(missing)} (written by another version?)",
                         fix=fix)
    return data


def load_npz(path: PathLike, keys: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` another job wrote (read at once, no pickles).

    Raises
    ------
    InputError
        If the file is missing, damaged (truncated, not an npz) or lacks one of ``keys``,
        naming it and the fix (rerun the job that writes it).
    """
    import zipfile
    import zlib

    fix = "delete it and rerun the job that writes it (snakemake recreates it)"
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError as exc:
        raise InputError(path, "file not found", fix="run the job that writes it first"
                         ) from exc
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise InputError(path, f"damaged .npz file ({exc})", fix=fix) from exc
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise InputError(path, f"lacks the array(s) {', '.join(missing)} (written by another "
                               "version or step?)", fix=fix)
    return arrays


class _CheckedText(io.TextIOBase):
    """A text stream whose decoding errors (binary data, a damaged gzip) are InputErrors
    naming the file, raised wherever the reader stands."""

    def __init__(self, inner: IO[str], path: Path) -> None:
        self._inner = inner
        self._path = path

    def _fail(self, exc: Exception) -> InputError:
        return InputError(self._path, f"cannot read as text ({type(exc).__name__}: {exc})",
                          fix="give a UTF-8 text file, plain or gzip-compressed (is the "
                              "download complete? compare its md5)")

    def read(self, size: int | None = -1) -> str:
        try:
            return self._inner.read(size)
        except (UnicodeDecodeError, EOFError, OSError, zlib.error) as exc:
            raise self._fail(exc) from exc

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        try:
            return self._inner.readline(size)
        except (UnicodeDecodeError, EOFError, OSError, zlib.error) as exc:
            raise self._fail(exc) from exc

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return self

    def __next__(self) -> str:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._inner.close()
        super().close()


def open_text(path: PathLike) -> IO[str]:
    """Open a plain or gzip/bgzip-compressed text file for reading; text that cannot be decoded
    (binary data, a truncated gzip) raises an InputError naming the file."""
    p = Path(path)
    with open(p, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return _CheckedText(gzip.open(p, "rt", encoding="utf-8"), p)  # type: ignore[return-value]
    return _CheckedText(open(p, encoding="utf-8"), p)  # type: ignore[return-value]


# ----------------------------------------------------------------------------- chrom.sizes


_SIZES_FIX = "each line is 'name<TAB>length' with a positive integer length"


def read_chrom_sizes(path: PathLike) -> dict[str, int]:
    """Read a UCSC ``chrom.sizes`` file (name, length; tab separated) preserving order."""
    sizes: dict[str, int] = {}
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 2:
                raise InputError(path, f"expected 'name<TAB>length', got {line.strip()!r}", lineno,
                                 "use a UCSC chrom.sizes file (two tab-separated columns)")
            name, length = fields[0], fields[1]
            try:
                n = int(length)
            except ValueError as exc:
                raise InputError(path, f"length {length!r} of {name!r} is not an integer",
                                 lineno, _SIZES_FIX) from exc
            if n <= 0:
                raise InputError(path, f"length of {name!r} must be positive, got {n}", lineno,
                                 _SIZES_FIX)
            if name in sizes:
                raise InputError(path, f"chromosome {name!r} listed twice", lineno,
                                 "list every chromosome once")
            sizes[name] = n
    if not sizes:
        raise InputError(path, "no chromosomes listed", fix="check that the file is not empty")
    return sizes


def write_chrom_sizes(path: PathLike, sizes: Mapping[str, int]) -> None:
    """Write a ``chrom.sizes`` file atomically."""
    write_text_atomic(path, "".join(f"{c}\t{n}\n" for c, n in sizes.items()))


# ----------------------------------------------------------------------------- FASTA


class FastaWriter:
    """Stream chromosomes into a FASTA file and write its ``.fai`` index at the same time.

    Sequences are given as uint8 arrays of ASCII codes (upper/lower case and ``N`` preserved), so
    a whole chromosome never has to become a Python string. Both files appear atomically when the
    writer is closed without error.

    Parameters
    ----------
    path
        Destination FASTA (uncompressed); the index is ``path + ".fai"``.
    line_width
        Bases per line (60, as in UCSC/Ensembl FASTA).
    """

    def __init__(self, path: PathLike, line_width: int = 60) -> None:
        self.path = Path(path)
        self.line_width = line_width
        self._stack = contextlib.ExitStack()
        self._tmp = self._stack.enter_context(atomic_output(self.path))
        self._tmp_fai = self._stack.enter_context(atomic_output(str(self.path) + ".fai"))
        self._fh = open(self._tmp, "wb")
        self._fai: list[str] = []
        self._offset = 0

    def write(self, name: str, seq: np.ndarray) -> None:
        """Append one sequence (uint8 ASCII codes)."""
        header = f">{name}\n".encode()
        self._fh.write(header)
        self._offset += len(header)
        n = int(seq.shape[0])
        self._fai.append(f"{name}\t{n}\t{self._offset}\t{self.line_width}\t{self.line_width + 1}\n")
        w = self.line_width
        full = n // w
        if full:
            block = np.empty((full, w + 1), dtype=np.uint8)
            block[:, :w] = seq[: full * w].reshape(full, w)
            block[:, w] = ord("\n")
            self._fh.write(block.tobytes())
        rest = seq[full * w :]
        if rest.size:
            self._fh.write(rest.tobytes() + b"\n")
        self._offset += full * (w + 1) + (rest.size + 1 if rest.size else 0)

    def close(self, ok: bool = True) -> None:
        """Finish both files; with ``ok=False`` discard them."""
        self._fh.close()
        if ok:
            Path(self._tmp_fai).write_text("".join(self._fai), encoding="utf-8")
            self._stack.close()
        else:
            self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> FastaWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        self.close(ok=exc_type is None)


# ----------------------------------------------------------------------------- BED / narrowPeak


def write_narrowpeak(path: PathLike, peaks: pd.DataFrame) -> None:
    """Write an ENCODE narrowPeak file (BED6+4, no header) atomically.

    ``peaks`` must have the ten :data:`NARROWPEAK_COLUMNS`; ``peak`` is the summit offset from
    ``start`` (-1 when unknown).
    """
    missing = [c for c in NARROWPEAK_COLUMNS if c not in peaks.columns]
    if missing:
        raise ValueError(f"narrowPeak table lacks columns {missing}")
    with atomic_output(path) as tmp:
        peaks[NARROWPEAK_COLUMNS].to_csv(tmp, sep="\t", header=False, index=False,
                                         float_format="%.5g", lineterminator="\n")


def write_bed(path: PathLike, bed: pd.DataFrame) -> None:
    """Write a headerless BED file (columns in the frame's order) atomically."""
    with atomic_output(path) as tmp:
        bed.to_csv(tmp, sep="\t", header=False, index=False, lineterminator="\n")
