"""The error of the download stage: a file that could not be fetched or failed verification."""

from __future__ import annotations

from seq2func.core.errors import Seq2FuncError, format_message


class DownloadError(Seq2FuncError):
    """A file could not be fetched or failed verification.

    Parameters
    ----------
    source
        What was being fetched (accession, URL or path).
    problem
        What went wrong.
    fix
        What the user can do about it.
    """

    def __init__(self, source: str, problem: str, fix: str = "") -> None:
        self.source = source
        self.problem = problem
        self.fix = fix
        super().__init__(format_message(source, problem, fix))
