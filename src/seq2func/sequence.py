"""DNA sequence encodings: uint8 codes, one-hot, reverse complement, composition.

Sequences are stored as uint8 codes ``A=0, C=1, G=2, T=3, N=4`` (any other IUPAC letter is N),
case-insensitive. Soft-masking (lowercase) is kept separately where it matters.
"""

from __future__ import annotations

import numpy as np

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
