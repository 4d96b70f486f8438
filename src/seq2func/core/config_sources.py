"""Where each value of a study's configuration comes from (``seq2func validate-config``).

A study's configuration is its ``--configfile`` files merged in order (later files win, as
Snakemake merges them: mappings key by key, anything else replaced), and every key they leave
unset takes the schema's default. :func:`annotated_yaml` prints the result as YAML with the
source of every value in a trailing comment::

    accessibility:
      seeds: [1]  # schema default
      models:
        chrombpnet:
          architecture: chrombpnet  # study.yaml
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from seq2func.core.config import load_yaml, lookup

SCHEMA_DEFAULT = "schema default"
BASELINE = "evaluate.baseline_gates"


def merge_files(files: Sequence[str | Path]) -> dict[str, Any]:
    """The configuration of ``files`` merged in order, as Snakemake merges ``--configfile``s."""
    merged: dict[str, Any] = {}
    for path in files:
        _update(merged, load_yaml(path))
    return merged


def _update(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _update(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def value_source(path: tuple[str, ...], loaded: Mapping[str, Mapping[str, Any]]) -> str:
    """The last file (of ``loaded``: file -> its YAML, in merge order) that sets ``path``,
    else :data:`SCHEMA_DEFAULT`."""
    setters = [name for name, data in loaded.items() if lookup(data, path)[0]]
    return setters[-1] if setters else SCHEMA_DEFAULT


def _flow(value: Any) -> str:
    """``value`` as one line of YAML flow style."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _gate_source(gate: Mapping[str, Any], loaded: Mapping[str, Mapping[str, Any]]) -> str:
    """The file whose ``evaluate.gates`` lists this gate, else the baseline templates."""
    setters = [name for name, data in loaded.items()
               if any(isinstance(g, Mapping) and g.get("name") == gate.get("name")
                      for g in (data.get("evaluate") or {}).get("gates") or [])]
    return setters[-1] if setters else BASELINE


def _render(data: Mapping[str, Any], path: tuple[str, ...],
            loaded: Mapping[str, Mapping[str, Any]], indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    for key, value in data.items():
        here = (*path, str(key))
        name = _flow(key)
        if isinstance(value, Mapping) and value:
            lines.append(f"{pad}{name}:")
            lines += _render(value, here, loaded, indent + 2)
        elif here == ("evaluate", "gates") and value:
            lines.append(f"{pad}{name}:")
            lines += [f"{pad}  - {_flow(g)}  # {_gate_source(g, loaded)}" for g in value]
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            source = value_source(here, loaded)
            lines.append(f"{pad}{name}:")
            lines += [f"{pad}  - {_flow(v)}  # {source}" for v in value]
        else:
            lines.append(f"{pad}{name}: {_flow(value)}  # {value_source(here, loaded)}")
    return lines


def annotated_yaml(config: Mapping[str, Any], files: Sequence[str | Path]) -> str:
    """``config`` (merged from ``files``, defaults filled in) as YAML, each value's source
    (a file of ``files``, the schema's default, or the baseline gate templates) in a comment.

    Parameters
    ----------
    config
        The checked configuration (:func:`seq2func.cli.startup.check_study` output).
    files
        The study's config files in merge order.

    Returns
    -------
    str
        Valid YAML that loads to ``config``.
    """
    loaded = {str(f): load_yaml(f) for f in files}
    head = [f"# merged from: {', '.join(map(str, files))} (later files win); every other "
            "value: its schema default (workflow/schemas/config.schema.yaml)"]
    return "\n".join(head + _render(config, (), loaded, 0)) + "\n"
