"""The tasks of a training set: one sample each, with its bigWig and peak file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from seq2func.core.config import load_samples
from seq2func.core.errors import InputError


@dataclass(frozen=True)
class SampleInput:
    """One task: its name, metadata and files."""

    name: str
    assay: str
    cell_type: str
    bigwig: str
    peaks: str


def samples_from_table(table: str | Path, bigwigs: Sequence[str] | None = None,
                       peaks: Sequence[str] | None = None) -> list[SampleInput]:
    """Tasks from a samples table, with files given in table order or in its columns.

    Raises
    ------
    InputError
        If files are neither given nor in the table's ``signal``/``peaks`` columns, or their
        number differs from the number of samples.
    """
    df = load_samples(table)
    n = len(df)
    if bigwigs is None:
        if "signal" not in df.columns:
            raise InputError(table, "no bigWigs given and no 'signal' column",
                             fix="pass --bigwigs in table order or add a 'signal' column")
        bigwigs = df["signal"].tolist()
    if peaks is None:
        if "peaks" not in df.columns:
            raise InputError(table, "no peaks given and no 'peaks' column",
                             fix="pass --peaks in table order or add a 'peaks' column")
        peaks = df["peaks"].tolist()
    if len(bigwigs) != n or len(peaks) != n:
        raise InputError(table, f"{n} samples but {len(bigwigs)} bigWigs and {len(peaks)} "
                                "peak files", fix="give one bigWig and one peak file per sample")
    return [SampleInput(str(r["sample"]), str(r["assay"]), str(r["cell_type"]), str(b), str(p))
            for (_, r), b, p in zip(df.iterrows(), bigwigs, peaks, strict=True)]
