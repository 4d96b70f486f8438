"""Argument helpers shared by the subcommands: JSON objects and ``NAME=PATH`` pairs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from seq2func.core.errors import Seq2FuncError, format_message


def json_arg(text: str, flag: str, kind: type = dict) -> Any:
    """``flag``'s JSON value, a ``kind`` (object: dict, array: list)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Seq2FuncError(format_message(flag, f"not valid JSON: {exc}",
                                           "quote keys and strings with double quotes")) from exc
    if not isinstance(value, kind):
        what = "object" if kind is dict else "array"
        raise Seq2FuncError(format_message(flag, f"must be a JSON {what}",
                                           "give {...}" if kind is dict else "give [...]"))
    return value


def pairs(items: Sequence[str], flag: str, form: str = "NAME=PATH") -> list[tuple[str, str]]:
    """Parse ``NAME=VALUE`` arguments, in order; a malformed one is an error naming ``flag``."""
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise Seq2FuncError(format_message(f"{flag} {item!r}", f"expected {form}",
                                               f"give each value as {form}"))
        out.append((key, value))
    return out


def unique_pairs(items: Sequence[str], flag: str, form: str = "NAME=PATH") -> dict[str, str]:
    """:func:`pairs` as a mapping; a name given twice is an error."""
    out: dict[str, str] = {}
    for key, value in pairs(items, flag, form):
        if key in out:
            raise Seq2FuncError(format_message(flag, f"{key!r} is given twice ({out[key]}, "
                                               f"{value})", "give each name once"))
        out[key] = value
    return out


# ----------------------------------------------------------------------------- shared arguments


def add_params(p: argparse.ArgumentParser, section: str) -> None:
    """``--params``: the config section of the stage as JSON (missing keys: schema defaults)."""
    p.add_argument("--params", default="{}",
                   help=f"JSON: the config's {section} section (missing keys take the schema's "
                        "defaults)")


def add_dataset(p: argparse.ArgumentParser, what: str = "preprocessed dataset directory") -> None:
    """``--dataset-dir``: a directory written by preprocessing."""
    p.add_argument("--dataset-dir", required=True, help=what)


def add_genome(p: argparse.ArgumentParser) -> None:
    """``--genome``: the genome sequence."""
    p.add_argument("--genome", required=True, help="genome FASTA (plain or bgzip) or 2bit")


def add_ensemble(p: argparse.ArgumentParser, flag: str = "--model") -> None:
    """``--model``: one model.keras, or several that act as their seed ensemble."""
    p.add_argument(flag, required=True, nargs="+",
                   help="model.keras (several: their seed ensemble, mean of the probabilities)")


def add_runtime(p: argparse.ArgumentParser, progress: bool = False) -> None:
    """``--threads`` for TensorFlow (and ``--no-progress`` with ``progress``)."""
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    if progress:
        p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def add_fold(p: argparse.ArgumentParser) -> None:
    """``--fold``: a fold of the dataset (``split.folds``) instead of the default split."""
    p.add_argument("--fold", default=None,
                   help="a fold of the dataset (split.folds) instead of the default split")
