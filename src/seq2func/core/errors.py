"""Exception types with messages that name the offending file, location and fix."""

from __future__ import annotations

from os import PathLike


class Seq2FuncError(Exception):
    """Base class of the errors seq2func raises on purpose (the CLI shows no traceback)."""


def format_message(where: str, problem: str, fix: str = "") -> str:
    """``<where>: <problem>`` and, when given, an indented ``fix:`` line (every error's layout)."""
    return f"{where}: {problem}" + (f"\n  fix: {fix}" if fix else "")


class ConfigError(Seq2FuncError):
    """An invalid configuration key or value.

    Parameters
    ----------
    source
        The configuration file (or ``"config"`` when built in memory).
    key
        Dotted path of the offending key, e.g. ``"simulate.seed"``.
    problem
        What is wrong.
    fix
        What the user should do about it.
    """

    def __init__(self, source: str | PathLike[str], key: str, problem: str, fix: str = "") -> None:
        self.source = str(source)
        self.key = key
        self.problem = problem
        self.fix = fix
        super().__init__(format_message(f"{self.source}: key '{key}'", problem, fix))


class InputError(Seq2FuncError):
    """A malformed or inconsistent input file.

    Parameters
    ----------
    path
        The file that is wrong.
    problem
        What is wrong with it.
    line
        1-based line number, when the problem is on one line.
    fix
        What the user should do about it.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        problem: str,
        line: int | None = None,
        fix: str = "",
    ) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        self.fix = fix
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(format_message(where, problem, fix))
