"""Chromosome-name harmonisation: UCSC (``chr1``, ``chrM``) vs Ensembl/GENCODE (``1``, ``MT``).

Public files disagree on chromosome names: ENCODE and UCSC write ``chr1`` and ``chrM``, Ensembl
writes ``1`` and ``MT``, NCBI writes ``NC_000001.11`` or ``CM000663.2``, and unplaced scaffolds
are ``chrUn_KI270302v1`` at UCSC but ``KI270302.1`` at Ensembl. Mixing them silently drops data
(a peak on ``1`` never overlaps a window on ``chr1``). At ingestion every file is renamed to the
names the configuration lists, and everything else is dropped, with :class:`ChromRenamer`.

Names are matched through a *key* that is the same for every spelling of one sequence
(:func:`chrom_key`): ``chr1``, ``1``, ``CHR1``, ``NC_000001.11`` and ``CM000663.2`` all have key
``1``; ``chrM``, ``chrMT``, ``MT``, ``M`` and ``Mito`` have key ``MT``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

from seq2func.core.errors import InputError

#: NCBI RefSeq and GenBank accessions of the GRCh38 primary chromosomes -> Ensembl name
GRCH38_ACCESSIONS: dict[str, str] = {
    **{f"NC_0000{i:02d}": str(i) for i in range(1, 23)},
    "NC_000023": "X",
    "NC_000024": "Y",
    "NC_012920": "MT",
    **{f"CM0006{63 + i - 1}": str(i) for i in range(1, 23)},
    "CM000685": "X",
    "CM000686": "Y",
    "J01415": "MT",
}

_MITO = {"M", "MT", "MITO"}  # MITO: Ensembl's name of the yeast mitochondrial genome
# UCSC scaffold names: chr1_KI270706v1_random, chrUn_GL000195v1, chr19_KI270938v1_alt
_UCSC_SCAFFOLD = re.compile(r"^chr[0-9A-Za-z]+_([A-Z]{2}\d+)v(\d+)(?:_random|_alt|_fix)?$")
_VERSIONED = re.compile(r"^([A-Z]{1,2}_?\d+)\.(\d+)$")


def chrom_key(name: str) -> str:
    """A spelling-independent key of a chromosome name.

    Parameters
    ----------
    name
        A chromosome or scaffold name in UCSC, Ensembl, GENCODE or NCBI style.

    Returns
    -------
    str
        ``"1"`` .. ``"22"``, ``"X"``, ``"Y"``, ``"MT"`` for the primary chromosomes; the Ensembl
        name (``"KI270706.1"``) for UCSC scaffold names; the name itself otherwise.

    Examples
    --------
    >>> [chrom_key(n) for n in ("chr1", "1", "NC_000001.11", "chrM", "MT", "chrUn_KI270302v1")]
    ['1', '1', '1', 'MT', 'MT', 'KI270302.1']
    """
    n = name.strip()
    m = _UCSC_SCAFFOLD.match(n)
    if m:
        return f"{m.group(1)}.{m.group(2)}"
    m = _VERSIONED.match(n)
    if m and m.group(1) in GRCH38_ACCESSIONS:
        return GRCH38_ACCESSIONS[m.group(1)]
    bare = n[3:] if n[:3].lower() == "chr" and len(n) > 3 else n
    if bare.upper() in _MITO:
        return "MT"
    if bare.upper() in ("X", "Y"):
        return bare.upper()
    if bare.isdigit():
        return str(int(bare))
    return bare


def to_ucsc(name: str) -> str:
    """UCSC spelling of a primary chromosome (``1`` -> ``chr1``, ``MT`` -> ``chrM``).

    Names that are not primary chromosomes are returned unchanged.
    """
    key = chrom_key(name)
    if key == "MT":
        return "chrM"
    if key.isdigit() or key in ("X", "Y"):
        return f"chr{key}"
    return name


def to_ensembl(name: str) -> str:
    """Ensembl spelling of a primary chromosome (``chr1`` -> ``1``, ``chrM`` -> ``MT``)."""
    key = chrom_key(name)
    if key == "MT" or key.isdigit() or key in ("X", "Y"):
        return key
    return name


def naming_style(names: Iterable[str]) -> str:
    """``"ucsc"``, ``"ensembl"``, ``"mixed"`` or ``"other"``: how a file spells its chromosomes."""
    ucsc = ens = 0
    for n in names:
        key = chrom_key(n)
        if not (key == "MT" or key.isdigit() or key in ("X", "Y")):
            continue
        if n.lower().startswith("chr"):
            ucsc += 1
        else:
            ens += 1
    if ucsc and ens:
        return "mixed"
    if ucsc:
        return "ucsc"
    if ens:
        return "ensembl"
    return "other"


def format_names(names: Iterable[str], limit: int = 8) -> str:
    """``a, b, c, ... (N names)`` for error messages."""
    names = list(names)
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} names)"
    return shown or "(none)"


class ChromRenamer:
    """Rename chromosomes of any spelling to the configured names; drop the others.

    Parameters
    ----------
    keep
        The chromosome names to keep, spelled as the outputs should spell them (the
        configuration's ``download.chromosomes``, e.g. ``chr1`` .. ``chr22``, ``chrX``).

    Raises
    ------
    ValueError
        If two names in ``keep`` are spellings of the same chromosome (``chr1`` and ``1``).
    """

    def __init__(self, keep: Sequence[str]) -> None:
        self.keep = list(keep)
        self._by_key: dict[str, str] = {}
        for name in self.keep:
            key = chrom_key(name)
            if key in self._by_key:
                raise ValueError(f"chromosomes {self._by_key[key]!r} and {name!r} are the same "
                                 "sequence; list it once")
            self._by_key[key] = name

    def __call__(self, name: str) -> str | None:
        """The configured name of ``name``, or None when it is not kept."""
        return self._by_key.get(chrom_key(name))

    def mapping(self, names: Iterable[str], path: str | os.PathLike[str]) -> dict[str, str]:
        """Map the chromosome names of one file to the configured names.

        Parameters
        ----------
        names
            The names the file uses.
        path
            The file (for error messages).

        Returns
        -------
        dict
            Source name -> configured name, for the kept chromosomes only.

        Raises
        ------
        InputError
            If two names of the file are the same chromosome (``chr1`` and ``1``), or if none of
            the configured chromosomes is in the file.
        """
        names = list(dict.fromkeys(names))
        out: dict[str, str] = {}
        seen: dict[str, str] = {}
        for n in names:
            target = self(n)
            if target is None:
                continue
            if target in seen:
                raise InputError(path, f"chromosomes {seen[target]!r} and {n!r} are both "
                                 f"{target!r} (mixed UCSC/Ensembl naming)",
                                 fix="the file is inconsistent; use a file with one naming style")
            seen[target] = n
            out[n] = target
        if names and not out:
            raise InputError(
                path, f"none of the configured chromosomes ({format_names(self.keep)}) is in "
                f"this file; it names: {format_names(names)}",
                fix="check that the file belongs to the same genome assembly and species as the "
                    "configured genome, or fix download.chromosomes")
        return out

    def missing(self, names: Iterable[str]) -> list[str]:
        """Configured chromosomes that none of ``names`` provides, in configured order."""
        have = {self(n) for n in names}
        return [c for c in self.keep if c not in have]
