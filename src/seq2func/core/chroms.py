"""Chromosome names: harmonise UCSC (``chr1``, ``chrM``) and Ensembl/NCBI (``1``, ``MT``) styles.

Genome, bigWig, peak and blacklist files often disagree on the ``chr`` prefix. The genome's names
are the reference: every other file's names are mapped onto them with :func:`match_names`. A name
present in the genome as it is maps to itself; any other maps to the genome name that spells the
same sequence, judged by :func:`seq2func.core.naming.chrom_key` (the one key of every spelling of a
chromosome: ``chr`` prefix or not, ``chrM``/``MT``, NCBI accessions, UCSC scaffold names) - the
same rule ingestion renames by. When nothing maps, :func:`require_overlap` raises an
:class:`~seq2func.core.errors.InputError` that lists both name sets, so the user sees the mismatch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike

from seq2func.core.errors import InputError
from seq2func.core.naming import chrom_key, format_names

#: file-name-safe chromosome names (shards are named after chromosomes)
SAFE_CHROM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

AS_IS = "as is"
RENAMED = "renamed (chr prefix, chrM/MT, accessions: naming.chrom_key)"


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
        :data:`AS_IS` when every mapped name is spelled as in the reference, else
        :data:`RENAMED`.
    """

    mapping: dict[str, str]
    unmatched: list[str] = field(default_factory=list)
    transform: str = AS_IS

    def reverse(self) -> dict[str, str]:
        """Reference name -> source name."""
        return {ref: src for src, ref in self.mapping.items()}


def match_names(source: Iterable[str], reference: Iterable[str]) -> NameMatch:
    """Map ``source`` chromosome names onto ``reference`` names (see module docstring).

    Names that exist in ``reference`` as they are always map to themselves and win over another
    spelling of the same chromosome (``chr1`` and ``1`` against a genome with ``chr1``: ``1``
    stays unmatched). A key shared by two reference names maps to neither.
    """
    src = list(dict.fromkeys(source))
    ref = list(dict.fromkeys(reference))
    by_key: dict[str, str | None] = {}
    for name in ref:
        key = chrom_key(name)
        by_key[key] = None if key in by_key else name
    present = set(ref)
    mapping = {name: name for name in src if name in present}
    taken = set(mapping.values())
    for name in src:
        target = by_key.get(chrom_key(name)) if name not in mapping else None
        if target is not None and target not in taken:
            mapping[name] = target
            taken.add(target)
    unmatched = [n for n in src if n not in mapping]
    renamed = any(s != r for s, r in mapping.items())
    return NameMatch(mapping, unmatched, RENAMED if renamed else AS_IS)


def require_overlap(match: NameMatch, reference: Sequence[str], path: str | PathLike[str],
                    what: str) -> None:
    """Raise :class:`InputError` when no name of a non-empty file maps onto the genome."""
    if match.mapping or not match.unmatched:
        return
    raise InputError(
        path,
        f"none of the chromosome names of this {what} is in the genome, even after adding or "
        f"removing the 'chr' prefix (and chrM/MT, accession and scaffold spellings).\n"
        f"  {what} names: {format_names(match.unmatched)}\n"
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


def exclusion_regex(pattern: str | None, source: str = "config",
                    key: str = "preprocess.exclude_chromosomes") -> re.Pattern[str] | None:
    """The compiled ``exclude_chromosomes`` regex (None for none).

    Raises
    ------
    ConfigError
        Naming ``key`` when the pattern is not a regular expression.
    """
    from seq2func.core.errors import ConfigError

    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(source, key, f"{pattern!r} is not a valid regular expression ({exc})",
                          "fix the pattern, e.g. '^chrM$|_random$'") from None


def filter_chromosomes(sizes: Mapping[str, int], include: Sequence[str],
                       exclude_regex: str | None) -> tuple[list[str], dict[str, str]]:
    """Chromosomes to process (genome order) and the reason each other one is skipped."""
    skipped: dict[str, str] = {}
    chosen = []
    wanted = set(include) if include else None
    rx = exclusion_regex(exclude_regex)
    for name in sizes:
        if wanted is not None and name not in wanted:
            skipped[name] = "not in preprocess.chromosomes"
        elif wanted is None and rx is not None and rx.search(name):
            skipped[name] = "matches preprocess.exclude_chromosomes"
        else:
            chosen.append(name)
    return chosen, skipped
