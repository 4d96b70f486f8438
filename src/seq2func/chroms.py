"""Chromosome names: harmonise UCSC (``chr1``, ``chrM``) and Ensembl/NCBI (``1``, ``MT``) styles.

Genome, bigWig, peak and blacklist files often disagree on the ``chr`` prefix. The genome's names
are the reference: every other file's names are mapped onto them with :func:`match_names`, which
tries the names as they are, with ``chr`` added and with ``chr`` removed (``chrM`` <-> ``MT``), and
keeps whichever maps most names. When nothing maps, :func:`require_overlap` raises an
:class:`~seq2func.errors.InputError` that lists both name sets, so the user sees the mismatch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike

from seq2func.errors import InputError

#: file-name-safe chromosome names (shards are named after chromosomes)
SAFE_CHROM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _identity(name: str) -> str:
    return name


def _add_chr(name: str) -> str:
    if name.startswith("chr"):
        return name
    return "chrM" if name in ("MT", "M") else "chr" + name


def _strip_chr(name: str) -> str:
    if not name.startswith("chr"):
        return name
    rest = name[3:]
    return "MT" if rest == "M" else rest


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "as is": _identity,
    "add 'chr'": _add_chr,
    "remove 'chr'": _strip_chr,
}


@dataclass
class NameMatch:
    """How the names of one file map onto the reference (genome) names.

    Attributes
    ----------
    mapping
        Source name -> reference name, for every source name that maps.
    unmatched
        Source names with no reference counterpart (in source order).
    transform
        The rule that was applied (``"as is"``, ``"add 'chr'"`` or ``"remove 'chr'"``).
    """

    mapping: dict[str, str]
    unmatched: list[str] = field(default_factory=list)
    transform: str = "as is"

    def reverse(self) -> dict[str, str]:
        """Reference name -> source name."""
        return {ref: src for src, ref in self.mapping.items()}


def match_names(source: Iterable[str], reference: Iterable[str]) -> NameMatch:
    """Map ``source`` chromosome names onto ``reference`` names (see module docstring).

    Names that exist in ``reference`` as they are always map to themselves; the chosen transform
    is applied to the others. Ties between transforms prefer leaving names as they are.
    """
    src = list(dict.fromkeys(source))
    ref = set(reference)
    best_name, best_map = "as is", {}
    for tname, fn in TRANSFORMS.items():
        # names present as they are win; a transformed name may not take a name already taken
        mapping = {name: name for name in src if name in ref}
        taken = set(mapping.values())
        for name in src:
            if name not in mapping and fn(name) in ref and fn(name) not in taken:
                mapping[name] = fn(name)
                taken.add(fn(name))
        if len(mapping) > len(best_map):
            best_name, best_map = tname, mapping
    unmatched = [n for n in src if n not in best_map]
    return NameMatch(best_map, unmatched, best_name)


def format_names(names: Iterable[str], limit: int = 8) -> str:
    """``a, b, c, ... (N names)`` for error messages."""
    names = list(names)
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} names)"
    return shown or "(none)"


def require_overlap(match: NameMatch, reference: Sequence[str], path: str | PathLike[str],
                    what: str) -> None:
    """Raise :class:`InputError` when no name of a non-empty file maps onto the genome."""
    if match.mapping or not match.unmatched:
        return
    raise InputError(
        path,
        f"none of the chromosome names of this {what} is in the genome, even after adding or "
        f"removing the 'chr' prefix.\n  {what} names: {format_names(match.unmatched)}\n"
        f"  genome names: {format_names(reference)}",
        fix="use files of the same assembly and naming (UCSC 'chr1' or Ensembl '1'); rename with "
            "e.g. `sed 's/^/chr/'` for BED files or bigWigToBedGraph/bedGraphToBigWig for bigWigs",
    )


def resolve_names(names: Iterable[str], reference: Sequence[str], source: str,
                  key: str) -> list[str]:
    """Map names given in a configuration (e.g. split chromosomes) onto genome names.

    Raises
    ------
    InputError
        Naming every name that is not in the genome, with the genome's names.
    """
    names = list(names)
    match = match_names(names, reference)
    if match.unmatched:
        raise InputError(
            source,
            f"'{key}' lists chromosome(s) that are not in the genome: "
            f"{format_names(match.unmatched)}\n  genome names: {format_names(reference, 30)}",
            fix=f"list only chromosomes of the genome in '{key}'",
        )
    return [match.mapping[n] for n in names]


def check_safe_names(names: Iterable[str], source: str | PathLike[str]) -> None:
    """Chromosome names become file names of shards: reject unsafe ones with a fix."""
    bad = [n for n in names if not SAFE_CHROM_RE.match(n)]
    if bad:
        raise InputError(source, f"chromosome names unusable as file names: {format_names(bad)}",
                         fix="exclude them with preprocess.exclude_chromosomes (a regex) or "
                             "rename them")


def filter_chromosomes(sizes: Mapping[str, int], include: Sequence[str],
                       exclude_regex: str | None) -> tuple[list[str], dict[str, str]]:
    """Chromosomes to process (genome order) and the reason each other one is skipped."""
    skipped: dict[str, str] = {}
    chosen = []
    wanted = set(include) if include else None
    rx = re.compile(exclude_regex) if exclude_regex else None
    for name in sizes:
        if wanted is not None and name not in wanted:
            skipped[name] = "not in preprocess.chromosomes"
        elif wanted is None and rx is not None and rx.search(name):
            skipped[name] = "matches preprocess.exclude_chromosomes"
        else:
            chosen.append(name)
    return chosen, skipped
