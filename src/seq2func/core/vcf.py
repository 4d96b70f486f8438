"""The checks every VCF record passes, in ingestion and in variant scoring alike.

A record needs 8 tab-separated columns, a positive integer ``POS``, a ``REF`` of DNA letters and
``ALT`` alleles that are DNA letters, ``*`` (a deletion upstream), ``.`` (no alternate allele), a
symbolic allele (``<DEL>``) or a breakend (``G]chr2:100]``); ``QUAL`` is ``.`` or a finite number.
IUPAC ambiguity letters (``N``, ``R``, ``Y``, ...) are valid VCF but say nothing definite about
the sequence: such alleles are read, then reported as ``ambiguous`` and not scored
(:func:`is_ambiguous`). The INFO column is passed through as it is.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence

from seq2func.core.errors import InputError

#: an allele of the four bases only (the alleles that are scored)
DNA = re.compile(r"^[ACGTacgt]+$")
#: DNA letters including the IUPAC ambiguity codes (N, R, Y, S, W, K, M, B, D, H, V)
IUPAC = re.compile(r"^[ACGTNRYSWKMBDHVacgtnryswkmbdhv]+$")
_SYMBOLIC = re.compile(r"^<[^<>]+>$")
_BREAKEND = re.compile(r"^([A-Za-z]*[\[\]][^\[\]]+[\[\]][A-Za-z]*|\.[A-Za-z]+|[A-Za-z]+\.)$")
_VCF_FIX = "see the VCF specification (samtools.github.io/hts-specs, VCFv4.3)"


def is_ambiguous(allele: str) -> bool:
    """Whether an allele is a DNA sequence with ambiguity letters (e.g. ``N``)."""
    return bool(IUPAC.match(allele)) and not DNA.match(allele)


def _valid_alt(allele: str) -> bool:
    return bool(IUPAC.match(allele) or allele in ("*", ".") or _SYMBOLIC.match(allele)
                or _BREAKEND.match(allele))


def check_record(fields: Sequence[str], path: str | os.PathLike[str], lineno: int) -> int:
    """Check one VCF record (its tab-separated fields) and return its ``POS``.

    Raises
    ------
    InputError
        Naming the file, line and column of a field that is not VCF.
    """
    if len(fields) < 8:
        raise InputError(path, f"{len(fields)} tab-separated columns, a VCF record needs 8",
                         lineno, "separate columns with tabs (not spaces)")
    try:
        pos = int(fields[1])
    except ValueError:
        pos = 0
    if pos < 1:
        raise InputError(path, f"POS {fields[1]!r} is not a positive integer", lineno,
                         "VCF positions are 1-based integers")
    if not IUPAC.match(fields[3]):
        raise InputError(path, f"REF {fields[3]!r} is not a DNA sequence", lineno,
                         "REF holds the reference bases (A, C, G, T; N for unknown); "
                         + _VCF_FIX)
    bad = [a for a in fields[4].split(",") if not _valid_alt(a)]
    if bad:
        raise InputError(path, f"ALT {bad[0]!r} is not a VCF allele", lineno,
                         "ALT alleles are bases (A, C, G, T, N), '*', '.', <ID> or breakends; "
                         + _VCF_FIX)
    qual = fields[5]
    if qual != ".":
        try:
            value = float(qual)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise InputError(path, f"QUAL {qual!r} is not a finite number", lineno,
                             "QUAL is a Phred-scaled number or '.' (missing)")
    return pos
