"""Argument helpers shared by the subcommands: JSON objects and ``NAME=PATH`` pairs."""

from __future__ import annotations

import json
from collections.abc import Sequence

from seq2func.core.errors import Seq2FuncError


def json_arg(text: str, flag: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Seq2FuncError(f"{flag} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise Seq2FuncError(f"{flag} must be a JSON object")
    return value


def pairs(items: Sequence[str], flag: str, form: str = "NAME=PATH") -> list[tuple[str, str]]:
    """Parse ``NAME=VALUE`` arguments, in order; a malformed one is an error naming ``flag``."""
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise Seq2FuncError(f"{flag} {item!r}: expected {form}")
        out.append((key, value))
    return out


def unique_pairs(items: Sequence[str], flag: str, form: str = "NAME=PATH") -> dict[str, str]:
    """:func:`pairs` as a mapping; a name given twice is an error."""
    out: dict[str, str] = {}
    for key, value in pairs(items, flag, form):
        if key in out:
            raise Seq2FuncError(f"{flag}: {key!r} is given twice ({out[key]}, {value})")
        out[key] = value
    return out
