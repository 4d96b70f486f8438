"""The rules of the workflow's Snakemake files as text, for the static workflow tests."""

from __future__ import annotations

import re
from pathlib import Path

#: a rule or checkpoint at any indentation (inside `if` blocks too) and its body: the lines
#: indented deeper than its header, and blank lines; also `use rule A as B with:` (B inherits
#: A's body, then its own directives override)
RULE = re.compile(r"^([ \t]*)(?:(?:rule|checkpoint) (\w+)|use rule (\w+) as (\w+) with):[ \t]*\n"
                  r"((?:\1[ \t]+\S.*\n|[ \t]*\n)*)", flags=re.M)


def rule_bodies(paths: list[Path]) -> list[tuple[Path, str, str]]:
    """(file, name, body) of every rule; a derived rule's body is its parent's followed by
    its own (so a directive it overrides appears twice, its own last)."""
    found = []
    for path in paths:
        for m in RULE.finditer(path.read_text()):
            found.append((path, m.group(2) or m.group(4), m.group(3), m.group(5)))
    by_name = {name: body for _, name, parent, body in found if parent is None}
    return [(path, name, (by_name[parent] if parent else "") + body)
            for path, name, parent, body in found]
