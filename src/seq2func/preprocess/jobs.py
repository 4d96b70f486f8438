"""Preprocessing jobs: small chromosomes packed together, each chromosome still its own shard.

A study with hundreds of small contigs would pay a process start, the imports and the plan load
per contig; :func:`group_chromosomes` packs consecutive small chromosomes into one job of at
most ``preprocess.group_bases`` bases. The job writes one shard per chromosome
(``shards/<job>/<chrom>.h5``) and one statistics file (``chroms/<job>.stats.json``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from seq2func.core.chroms import format_names


def _job(chroms: Sequence[str]) -> dict[str, Any]:
    name = chroms[0] if len(chroms) == 1 else f"{chroms[0]}..{chroms[-1]}"
    return {"name": name, "chromosomes": list(chroms)}


def group_chromosomes(chroms: Sequence[str], sizes: Mapping[str, int], group_bases: int
                      ) -> list[dict[str, Any]]:
    """Pack chromosomes, in order, into preprocessing jobs.

    A chromosome of at least ``group_bases`` bases is a job of its own; smaller ones are
    collected consecutively until adding the next would exceed ``group_bases``.

    Parameters
    ----------
    chroms
        The chromosomes to process, in plan order.
    sizes
        Length of every chromosome.
    group_bases
        Most bases of a job of several chromosomes (at least 1).

    Returns
    -------
    list of dict
        Jobs ``{"name": ..., "chromosomes": [...]}`` in order; a one-chromosome job is named
        after its chromosome, a group ``"{first}..{last}"``.

    Raises
    ------
    ValueError
        If ``group_bases`` < 1, or a job name is the name of a chromosome.
    """
    if group_bases < 1:
        raise ValueError(f"group_bases must be at least 1, not {group_bases}")
    jobs: list[dict[str, Any]] = []
    group: list[str] = []
    total = 0
    for c in chroms:
        size = int(sizes[c])
        if size >= group_bases:
            if group:
                jobs.append(_job(group))
            jobs.append(_job([c]))
            group, total = [], 0
            continue
        if group and total + size > group_bases:
            jobs.append(_job(group))
            group, total = [], 0
        group.append(c)
        total += size
    if group:
        jobs.append(_job(group))
    names = set(chroms)
    clash = [j["name"] for j in jobs if len(j["chromosomes"]) > 1 and j["name"] in names]
    if clash:
        raise ValueError(f"job name(s) {format_names(clash)} are also chromosome names; "
                         "rename the chromosomes or change preprocess.group_bases")
    return jobs


def plan_jobs(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The jobs of a plan (one per chromosome for a plan written before jobs existed)."""
    if "jobs" in plan:
        return list(plan["jobs"])
    return [_job([c]) for c in plan["chromosomes"]]
