"""DNA sequence: uint8 codes, one-hot, reverse complement, composition, and genome access.

Sequences are stored as uint8 codes ``A=0, C=1, G=2, T=3, N=4`` (any other IUPAC letter is N),
case-insensitive. Soft-masking (lowercase) is kept separately where it matters.

:class:`Genome` reads a reference (plain or bgzip-compressed FASTA, or UCSC 2bit) one whole
chromosome at a time as codes and cuts windows from it in numpy; other stages use it to fetch
sequence for arbitrary intervals (:meth:`Genome.windows`, :meth:`Genome.fetch`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from seq2func.core.errors import InputError

ALPHABET = "ACGT"
N_CODE = 4

#: 256-entry lookup from ASCII byte to code.
ASCII_TO_CODE = np.full(256, N_CODE, dtype=np.uint8)
for _i, _b in enumerate(ALPHABET):
    ASCII_TO_CODE[ord(_b)] = _i
    ASCII_TO_CODE[ord(_b.lower())] = _i

#: code -> upper-case ASCII byte.
CODE_TO_ASCII = np.frombuffer(b"ACGTN", dtype=np.uint8)

#: complement of each code (N stays N).
COMPLEMENT_CODE = np.array([3, 2, 1, 0, 4], dtype=np.uint8)


def as_ascii(seq: str | bytes | np.ndarray) -> np.ndarray:
    """Return ``seq`` as a uint8 array of ASCII bytes (a view when possible)."""
    if isinstance(seq, np.ndarray):
        return seq.astype(np.uint8, copy=False)
    if isinstance(seq, str):
        seq = seq.encode("ascii")
    return np.frombuffer(seq, dtype=np.uint8)


def encode(seq: str | bytes | np.ndarray) -> np.ndarray:
    """Encode a sequence (text or ASCII bytes) to uint8 codes 0-4."""
    return ASCII_TO_CODE[as_ascii(seq)]


def decode(codes: np.ndarray) -> str:
    """Decode uint8 codes back to an upper-case string."""
    return CODE_TO_ASCII[np.asarray(codes, dtype=np.uint8)].tobytes().decode("ascii")


def reverse_complement(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of codes along the last axis."""
    return COMPLEMENT_CODE[np.asarray(codes)][..., ::-1]


def one_hot(codes: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """One-hot encode codes ``(..., L)`` to ``(..., L, 4)``; N becomes all zeros."""
    eye = np.zeros((5, 4), dtype=dtype)
    eye[np.arange(4), np.arange(4)] = 1
    return eye[np.asarray(codes)]


def kmer_lookup(codes: np.ndarray, table: np.ndarray, k: int = 4, offset: int = 2,
                missing: float = 1.0) -> np.ndarray:
    """``table[k-mer]`` at every position of codes ``(..., L)``: the k-mer starting ``offset``
    bases before the position (index ``sum(base_j * 4**(k-1-j))``, A0 C1 G2 T3).

    Positions whose k-mer runs off the sequence or holds an N get ``missing``.
    """
    codes = np.asarray(codes, dtype=np.int64)
    length = codes.shape[-1]
    pad = np.full((*codes.shape[:-1], length + k - 1), 4, dtype=np.int64)
    pad[..., offset:offset + length] = codes
    windows = np.lib.stride_tricks.sliding_window_view(pad, k, axis=-1)[..., :length, :]
    ok = (windows < 4).all(axis=-1)
    idx = (np.minimum(windows, 3) * (4 ** np.arange(k - 1, -1, -1))).sum(axis=-1)
    return np.where(ok, np.asarray(table)[idx], missing).astype(np.float32)


def cut_preference(codes: np.ndarray, table: np.ndarray, k: int = 4, offset: int = 2
                   ) -> np.ndarray:
    """An enzyme's cut preference per base, cuts of both strands pooled.

    The mean of :func:`kmer_lookup` on the sequence and, mirrored back, on its reverse
    complement: an enzyme reads the k-mer of the strand it cuts, and unstranded cut counts
    (ATAC insertions, DNase I cuts) pool both strands. The result is strand-symmetric:
    ``cut_preference(reverse_complement(x)) == cut_preference(x)[..., ::-1]``.
    """
    codes = np.asarray(codes)
    forward = kmer_lookup(codes, table, k=k, offset=offset)
    reverse = kmer_lookup(reverse_complement(codes), table, k=k, offset=offset)[..., ::-1]
    return (0.5 * (forward + reverse)).astype(np.float32)


def gc_fraction(codes: np.ndarray, axis: int = -1) -> np.ndarray:
    """GC fraction among non-N bases along ``axis`` (NaN where all bases are N)."""
    codes = np.asarray(codes)
    gc = ((codes == 1) | (codes == 2)).sum(axis=axis)
    acgt = (codes < N_CODE).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(acgt > 0, gc / np.maximum(acgt, 1), np.nan)


def n_fraction(codes: np.ndarray, axis: int = -1) -> np.ndarray:
    """Fraction of N along ``axis``."""
    return (np.asarray(codes) == N_CODE).mean(axis=axis)


def cpg_observed_expected(codes: np.ndarray) -> float:
    """CpG observed/expected ratio of a 1-D code array (Gardiner-Garden & Frommer)."""
    codes = np.asarray(codes)
    n = int((codes < N_CODE).sum())
    c = int((codes == 1).sum())
    g = int((codes == 2).sum())
    cg = int(((codes[:-1] == 1) & (codes[1:] == 2)).sum())
    if c == 0 or g == 0:
        return 0.0
    return cg * n / (c * g)


# ----------------------------------------------------------------------------- windows


def window_composition(codes: np.ndarray, starts: np.ndarray, length: int,
                       chunk: int = 1 << 24) -> tuple[np.ndarray, np.ndarray]:
    """Counts of G/C and of N in ``codes[s : s + length]`` for every start ``s``.

    Works through the chromosome in chunks with cumulative sums, so memory stays at a few bytes
    per base of one chunk whatever the number of windows. Windows must lie inside ``codes``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        G+C counts and N counts (int64), one per start.
    """
    starts = np.asarray(starts, dtype=np.int64)
    gc = np.zeros(starts.size, dtype=np.int64)
    nn = np.zeros(starts.size, dtype=np.int64)
    if starts.size == 0:
        return gc, nn
    if starts.min() < 0 or starts.max() + length > codes.size:
        raise ValueError("window_composition: windows must lie inside the sequence")
    bucket = starts // chunk
    for b in np.unique(bucket):
        sel = np.flatnonzero(bucket == b)
        c0 = int(b) * chunk
        seg = codes[c0 : min(codes.size, c0 + chunk + length)]
        rel = starts[sel] - c0
        for mask, out in (((seg == 1) | (seg == 2), gc), (seg == N_CODE, nn)):
            cs = np.zeros(seg.size + 1, dtype=np.int32)
            np.cumsum(mask, out=cs[1:])
            out[sel] = cs[rel + length] - cs[rel]
    return gc, nn


def distinct_rows(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``(n, L)`` codes and where each row is among them.

    Models are deterministic functions of their input window: predicting the distinct rows and
    indexing the result with ``inverse`` gives the prediction of every row, each distinct
    window computed once (e.g. the shared reference window of the alleles at one position).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``distinct`` ``(m, L)`` (in order of first appearance) and ``inverse`` ``(n,)`` with
        ``distinct[inverse] == windows``.
    """
    windows = np.ascontiguousarray(windows)
    if windows.shape[0] == 0:
        return windows, np.zeros(0, dtype=np.int64)
    keys = windows.view(np.dtype((np.void, windows.dtype.itemsize * windows.shape[1])))[:, 0]
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # distinct rows in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return windows[first[order]], rank[inverse.ravel()]


def extract_windows(codes: np.ndarray, starts: np.ndarray, length: int,
                    strands: np.ndarray | None = None) -> np.ndarray:
    """Windows ``codes[s : s + length]`` as a ``(n, length)`` uint8 array.

    Bases outside the sequence are N. Rows with strand ``"-"`` are reverse complemented.
    """
    starts = np.asarray(starts, dtype=np.int64)
    out = np.full((starts.size, length), N_CODE, dtype=np.uint8)
    if starts.size == 0:
        return out
    inside = (starts >= 0) & (starts + length <= codes.size)
    if inside.any() and codes.size >= length:
        view = np.lib.stride_tricks.sliding_window_view(codes, length)
        out[inside] = view[starts[inside]]
    for i in np.flatnonzero(~inside):
        s = int(starts[i])
        a, b = max(0, s), min(codes.size, s + length)
        if a < b:
            out[i, a - s : b - s] = codes[a:b]
    if strands is not None:
        minus = np.asarray(strands) == "-"
        if minus.any():
            out[minus] = reverse_complement(out[minus])
    return out


# ----------------------------------------------------------------------------- genome


def genome_format(path: str | Path) -> str:
    """``"2bit"``, ``"fasta"`` or ``"bgzf-fasta"`` from the file's first bytes.

    Raises
    ------
    InputError
        For a missing file, plain gzip (not random-accessible) or an unknown format.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "genome file not found", fix="check the path of the genome")
    with open(p, "rb") as fh:
        head = fh.read(18)
    if head[:4] in (TWOBIT_MAGIC_LE, TWOBIT_MAGIC_BE):
        return "2bit"
    if head[:2] == b"\x1f\x8b":
        # BGZF: gzip with FEXTRA and a 'BC' subfield (SAM spec, section 4.1)
        if len(head) >= 16 and head[3] & 4 and head[12:14] == b"BC":
            return "bgzf-fasta"
        raise InputError(p, "gzip-compressed FASTA without BGZF blocks cannot be read "
                            "by position",
                         fix=f"recompress it with bgzip: `gunzip -c {p.name} | bgzip > "
                             f"{p.name.removesuffix('.gz')}.bgz` (or decompress it)")
    if head[:1] == b">":
        return "fasta"
    raise InputError(p, "not a FASTA or 2bit file (first byte is not '>')",
                     fix="give a FASTA (plain or bgzip-compressed) or a UCSC 2bit file")


TWOBIT_MAGIC_LE = (0x1A412743).to_bytes(4, "little")
TWOBIT_MAGIC_BE = (0x1A412743).to_bytes(4, "big")


class Genome:
    """A reference genome read as uint8 codes, one whole chromosome at a time.

    Reads plain FASTA (with its ``.fai``, built if missing), bgzip-compressed FASTA (``.fai`` and
    ``.gzi`` built by pyfaidx if missing) and UCSC 2bit (py2bit). Chromosome names of other files
    can be harmonised with :meth:`resolve` (``chr`` prefix added or removed). The last
    ``cache`` chromosomes stay in memory, so memory scales with the largest chromosome.

    Parameters
    ----------
    path
        The genome file.
    cache
        Number of chromosomes (as codes) kept in memory.

    Examples
    --------
    >>> g = Genome("resources/demo/genome/genome.fa")        # doctest: +SKIP
    >>> g.codes("chr1")[:10]                                 # uint8 codes, A0 C1 G2 T3 N4
    >>> g.windows(["chr1", "chr2"], [1000, 5000], 1000, ["+", "-"])   # (2, 1000)
    """

    def __init__(self, path: str | Path, cache: int = 1) -> None:
        self.path = Path(path)
        self.format = genome_format(self.path)
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = max(1, cache)
        self._fai: dict[str, tuple[int, int, int, int]] = {}
        self._faidx = None
        self._tb = None
        if self.format == "2bit":
            import py2bit

            try:
                self._tb = py2bit.open(str(self.path), True)
            except RuntimeError as exc:
                raise InputError(self.path, f"cannot open 2bit file ({exc})",
                                 fix="check that the file is complete (compare its checksum)"
                                 ) from exc
            self.sizes: dict[str, int] = {k: int(v) for k, v in self._tb.chroms().items()}
        elif self.format == "fasta":
            self._fai = _load_fai(self.path)
            self.sizes = {k: v[0] for k, v in self._fai.items()}
        else:
            self._faidx = _open_faidx(self.path)
            self.sizes = {k: int(r.rlen) for k, r in self._faidx.index.items()}
        if not self.sizes:
            raise InputError(self.path, "the genome has no sequences",
                             fix="give a FASTA (or 2bit) with at least one sequence")

    # -- names
    @property
    def chroms(self) -> list[str]:
        """Chromosome names in file order."""
        return list(self.sizes)

    def resolve(self, name: str) -> str:
        """The genome's name for ``name`` (``chr`` prefix added or removed if needed).

        Raises
        ------
        KeyError
            If no variant of ``name`` is in the genome.
        """
        from seq2func.core.chroms import match_names

        if name in self.sizes:
            return name
        m = match_names([name], self.chroms)
        if name in m.mapping:
            return m.mapping[name]
        raise KeyError(f"chromosome {name!r} is not in {self.path}")

    # -- whole chromosomes
    def ascii(self, chrom: str) -> np.ndarray:
        """The chromosome as uint8 ASCII bytes, case preserved (lower case = soft-masked)."""
        chrom = self.resolve(chrom)
        if self._tb is not None:
            return np.frombuffer(self._tb.sequence(chrom).encode("ascii"), dtype=np.uint8)
        if self._faidx is not None:
            seq = self._faidx.from_file(chrom, 1, self.sizes[chrom])
            return np.frombuffer(seq.encode("ascii"), dtype=np.uint8)
        return _read_fasta_record(self.path, chrom, *self._fai[chrom])

    def codes(self, chrom: str) -> np.ndarray:
        """The chromosome as uint8 codes (A0 C1 G2 T3 N4, case-insensitive). Read-only, cached."""
        chrom = self.resolve(chrom)
        if chrom not in self._cache:
            while len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            codes = ASCII_TO_CODE[self.ascii(chrom)]
            codes.flags.writeable = False
            self._cache[chrom] = codes
        return self._cache[chrom]

    # -- intervals
    def fetch(self, chrom: str, start: int, end: int, strand: str = "+") -> np.ndarray:
        """Codes of ``chrom:start-end`` (0-based, end exclusive); N outside the chromosome."""
        row = extract_windows(self.codes(chrom), np.array([start]), end - start,
                              np.array([strand]))
        return row[0]

    def windows(self, chroms: str | Sequence[str], starts: Sequence[int] | np.ndarray,
                length: int, strands: Sequence[str] | np.ndarray | None = None) -> np.ndarray:
        """Fixed-length windows on any chromosomes as ``(n, length)`` uint8 codes.

        Each chromosome is read once (in order of first appearance); rows keep the input order.
        Bases outside a chromosome are N; rows on strand ``"-"`` are reverse complemented.
        """
        starts = np.asarray(starts, dtype=np.int64)
        names = np.asarray([chroms] * starts.size if isinstance(chroms, str) else chroms)
        strand_arr = None if strands is None else np.asarray(strands)
        out = np.empty((starts.size, length), dtype=np.uint8)
        for chrom in dict.fromkeys(names.tolist()):
            rows = np.flatnonzero(names == chrom)
            out[rows] = extract_windows(self.codes(chrom), starts[rows], length,
                                        None if strand_arr is None else strand_arr[rows])
        return out

    def close(self) -> None:
        """Release file handles and cached chromosomes."""
        self._cache.clear()
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._faidx is not None:
            self._faidx.close()
            self._faidx = None

    def __enter__(self) -> Genome:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Genome({str(self.path)!r}, format={self.format!r}, {len(self.sizes)} sequences)"


def _index_path(path: Path, suffix: str) -> Path:
    """Where to keep an index of ``path``: next to it, or in a cache if that is read-only."""
    beside = Path(str(path) + suffix)
    if beside.exists() or os.access(path.parent, os.W_OK):
        return beside
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "seq2func"
    cache.mkdir(parents=True, exist_ok=True)
    digest = hashlib.md5(str(path.resolve()).encode()).hexdigest()[:12]
    return cache / f"{path.name}.{digest}{suffix}"


def _load_fai(path: Path) -> dict[str, tuple[int, int, int, int]]:
    """Read (building it if missing or stale) the ``.fai`` of a plain FASTA."""
    fai = _index_path(path, ".fai")
    if not fai.exists() or fai.stat().st_mtime < path.stat().st_mtime:
        import pyfaidx

        try:
            pyfaidx.Faidx(str(path), indexname=str(fai), rebuild=True).close()
        except pyfaidx.FastaIndexingError as exc:
            raise InputError(path, f"cannot index the FASTA: {exc}",
                             fix="every line of a sequence (but its last) must have the same "
                                 "length; reformat e.g. with `seqkit seq -w 60`") from exc
        except ValueError as exc:  # pyfaidx: 'Duplicate key "chr1"'
            raise InputError(path, f"cannot index the FASTA: {exc} (a sequence name appears "
                                   "twice)", fix="give every FASTA record a unique name"
                             ) from exc
    out: dict[str, tuple[int, int, int, int]] = {}
    with open(fai, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            f = line.rstrip("\n").split("\t")
            if len(f) < 5:
                raise InputError(fai, "not a FASTA index (.fai) line", lineno,
                                 "delete the .fai so that it is rebuilt")
            name = f[0].split()[0]
            if name in out:
                raise InputError(path, f"sequence name {name!r} appears twice",
                                 fix="give every FASTA record a unique name")
            out[name] = (int(f[1]), int(f[2]), int(f[3]), int(f[4]))
    return out


def _read_fasta_record(path: Path, chrom: str, length: int, offset: int, line_bases: int,
                       line_bytes: int) -> np.ndarray:
    """One record of an indexed plain FASTA as ASCII bytes, newlines removed (vectorised)."""
    if length == 0:
        return np.zeros(0, dtype=np.uint8)
    full, rest = divmod(length, line_bases)
    nbytes = full * line_bytes + rest
    raw = np.fromfile(path, dtype=np.uint8, count=nbytes, offset=offset)
    if raw.size < nbytes:
        raise InputError(path, f"sequence {chrom!r} is shorter than its index says "
                               "(truncated file?)",
                         fix="delete the .fai so that it is rebuilt, or re-download the genome")
    body = raw[: full * line_bytes].reshape(full, line_bytes)[:, :line_bases]
    seq = np.concatenate([body.reshape(-1), raw[full * line_bytes :]])
    if seq.size != length or (seq < 33).any():
        raise InputError(path, f"sequence {chrom!r} does not match its .fai index",
                         fix="delete the .fai so that it is rebuilt")
    return seq


def _open_faidx(path: Path):  # type: ignore[no-untyped-def]
    """pyfaidx index of a bgzip-compressed FASTA (``.fai`` and ``.gzi`` built if missing)."""
    import pyfaidx

    try:
        return pyfaidx.Faidx(str(path), indexname=str(_index_path(path, ".fai")),
                             gzi_indexname=str(_index_path(path, ".gzi")),
                             sequence_always_upper=False, rebuild=False)
    except (pyfaidx.FastaIndexingError, pyfaidx.UnsupportedCompressionFormat, ValueError,
            OSError) as exc:
        raise InputError(path, f"cannot index the compressed FASTA: {exc}",
                         fix="compress with bgzip (htslib) and index with `samtools faidx`"
                         ) from exc
