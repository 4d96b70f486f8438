"""Automatic chromosome folds (``split.folds: k``) for k-fold training.

Every processed chromosome is in the test set of exactly one fold, so out-of-fold predictions
cover the genome (:mod:`seq2func.models.oof`). Chromosomes are dealt, largest first, to the
fold whose test set is smallest so far (ties: the lower fold), which balances the folds by
bases; fold ``i`` validates on the test chromosomes of fold ``i + 1`` (cyclically) and trains
on the rest - ChromBPNet's layout of its five human folds, for any genome.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: fewest folds: with two, the validation chromosomes of one fold are the other's test set and
#: nothing is left for training
MIN_FOLDS = 3


def fold_name(index: int) -> str:
    """Name of automatic fold ``index`` (``fold_0``, ``fold_1``, ...)."""
    return f"fold_{index}"


def chromosome_folds(sizes: Mapping[str, int], k: int) -> list[dict[str, Any]]:
    """``k`` folds over the chromosomes of ``sizes``, as ``split.folds`` entries.

    Parameters
    ----------
    sizes
        Chromosome -> length of the chromosomes to fold (the processed ones).
    k
        Number of folds, ``MIN_FOLDS <= k <= len(sizes)``.

    Returns
    -------
    list of dict
        ``{"name", "valid", "test"}`` per fold, chromosomes in ``sizes`` order.

    Raises
    ------
    ValueError
        If ``k`` is out of range.
    """
    if not MIN_FOLDS <= k <= len(sizes):
        raise ValueError(f"{k} folds need {MIN_FOLDS} <= k <= the {len(sizes)} processed "
                         "chromosomes")
    order = sorted(sizes, key=lambda c: (-int(sizes[c]), c))
    groups: list[list[str]] = [[] for _ in range(k)]
    totals = [0] * k
    for chrom in order:
        i = min(range(k), key=lambda j: (totals[j], j))
        groups[i].append(chrom)
        totals[i] += int(sizes[chrom])
    rank = {c: n for n, c in enumerate(sizes)}
    groups = [sorted(g, key=rank.__getitem__) for g in groups]
    return [{"name": fold_name(i), "valid": groups[(i + 1) % k], "test": groups[i]}
            for i in range(k)]


def fold_names(split_folds: Any) -> list[str]:
    """Names of the folds of a ``split.folds`` value (a number or a list of folds)."""
    if isinstance(split_folds, int) and not isinstance(split_folds, bool):
        return [fold_name(i) for i in range(split_folds)]
    return [str(f["name"]) for f in split_folds or []]


def training_folds(split_cfg: Mapping[str, Any], acc_folds: Any, source: str = "config"
                   ) -> tuple[dict[str, Any], list[str]]:
    """The split to preprocess and the folds to train (``accessibility.folds``).

    A number ``k`` trains the first ``k`` folds of ``split.folds``, or ``k`` automatic folds
    when ``split.folds`` is unset (the returned split then asks for them); a list names folds
    of ``split.folds``; an empty list trains none.

    Raises
    ------
    ConfigError
        If more folds are asked for than ``split.folds`` has, or a named fold is not there.
    """
    from seq2func.core.errors import ConfigError

    split = dict(split_cfg)
    have = fold_names(split.get("folds"))
    if isinstance(acc_folds, int) and not isinstance(acc_folds, bool):
        if not have:
            split["folds"] = acc_folds
            return split, fold_names(acc_folds)
        if acc_folds > len(have):
            raise ConfigError(source, "accessibility.folds",
                              f"{acc_folds} folds asked for, split.folds has {len(have)}",
                              f"ask for at most {len(have)}, or add folds to split.folds")
        return split, have[:acc_folds]
    names = [str(n) for n in acc_folds or []]
    missing = [n for n in names if n not in have]
    if missing:
        raise ConfigError(source, "accessibility.folds",
                          f"fold(s) {', '.join(missing)} not in split.folds "
                          f"({', '.join(have) or 'none'})",
                          "name folds of split.folds, or give a number of folds")
    return split, names
