"""``dataset.json`` as typed objects: :class:`DatasetMeta` and the :class:`Dataset` directory.

``dataset.json`` is parsed in one place (:meth:`DatasetMeta.from_json`); every reader, the
trainer, evaluation and interpretation use the typed object. Preprocessing writes it with
:meth:`DatasetMeta.to_json`, so the file's layout is defined here too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.dataset.geometry import Geometry

FORMAT = "seq2func-dataset"
FORMAT_VERSION = 1
SPLITS = ("train", "valid", "test")

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class ShardInfo:
    """One shard of ``dataset.json``'s ``shards`` list (one chromosome)."""

    chrom: str
    path: str  # relative to the dataset directory
    split: str
    n_regions: int
    signal_dtype: str
    md5: str | None

    def to_json(self) -> dict[str, Any]:
        return {"chrom": self.chrom, "path": self.path, "split": self.split,
                "n_regions": self.n_regions, "signal_dtype": self.signal_dtype, "md5": self.md5}


@dataclass(frozen=True)
class Fold:
    """A named chromosome split of the dataset (``split.folds`` of the config)."""

    name: str
    split: dict[str, list[str]]


@dataclass(frozen=True)
class DatasetMeta:
    """Everything ``dataset.json`` records (see :mod:`seq2func.dataset`)."""

    study: str
    tasks: tuple[str, ...]
    samples: list[dict[str, Any]]
    genome: dict[str, Any]
    geometry: Geometry
    merge_distance: int
    clipping: dict[str, Any]
    split: dict[str, list[str]]
    folds: tuple[Fold, ...]
    n_regions: dict[str, int]
    positives: dict[str, dict[str, int]]
    shards: tuple[ShardInfo, ...]
    checksums: dict[str, str | None]
    params: dict[str, Any]
    encoding: dict[str, int] = field(default_factory=lambda: {"A": 0, "C": 1, "G": 2, "T": 3,
                                                               "N": 4})
    format_version: int = FORMAT_VERSION

    # ------------------------------------------------------------------ (de)serialisation

    @classmethod
    def from_json(cls, data: Mapping[str, Any], path: PathLike = "dataset.json") -> DatasetMeta:
        """Parse a ``dataset.json`` mapping; a missing key or another format is an InputError."""
        if data.get("format") != FORMAT or int(data.get("format_version", -1)) > FORMAT_VERSION:
            raise InputError(path, f"unsupported dataset format {data.get('format')!r} version "
                             f"{data.get('format_version')!r}",
                             fix=f"rebuild it with this version of seq2func (format "
                                 f"{FORMAT_VERSION})")
        try:
            return cls(
                study=str(data["study"]), tasks=tuple(data["tasks"]),
                samples=list(data["samples"]), genome=dict(data["genome"]),
                geometry=Geometry.from_meta(data), merge_distance=int(data["merge_distance"]),
                clipping=dict(data["clipping"]), split=dict(data["split"]),
                folds=tuple(Fold(str(f["name"]), dict(f["split"])) for f in data["folds"]),
                n_regions=dict(data["n_regions"]), positives=dict(data["positives"]),
                shards=tuple(ShardInfo(**s) for s in data["shards"]),
                checksums=dict(data["checksums"]), params=dict(data["params"]),
                encoding=dict(data["encoding"]), format_version=int(data["format_version"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(path, f"damaged dataset metadata ({type(exc).__name__}: {exc})",
                             fix="rerun preprocessing (snakemake rebuilds dataset.json)") from exc

    def to_json(self) -> dict[str, Any]:
        """The ``dataset.json`` mapping (key order as documented)."""
        return {"format": FORMAT, "format_version": self.format_version, "study": self.study,
                "tasks": list(self.tasks), "samples": self.samples, "genome": self.genome,
                **self.geometry.to_meta(), "merge_distance": self.merge_distance,
                "encoding": self.encoding, "clipping": self.clipping, "split": self.split,
                "folds": [{"name": f.name, "split": f.split} for f in self.folds],
                "n_regions": self.n_regions, "positives": self.positives,
                "shards": [s.to_json() for s in self.shards], "checksums": self.checksums,
                "params": self.params}

    # ------------------------------------------------------------------ splits

    def fold(self, name: str) -> Fold:
        """The fold called ``name`` (KeyError listing the folds otherwise)."""
        for f in self.folds:
            if f.name == name:
                return f
        raise KeyError(f"fold {name!r} not in dataset (folds: "
                       f"{[f.name for f in self.folds] or 'none'})")

    def split_column(self, fold: str | None = None) -> str:
        """The ``regions.tsv.gz`` column holding the split (``split`` or ``split_<fold>``)."""
        return "split" if fold is None else f"split_{self.fold(fold).name}"

    def split_chromosomes(self, split: str, fold: str | None = None) -> list[str]:
        """Chromosomes of ``split`` (``train``, ``valid``, ``test`` or ``all``), in shard order."""
        if split == "all":
            return [s.chrom for s in self.shards]
        if split not in SPLITS:
            raise ValueError(f"split must be train, valid, test or all, not {split!r}")
        table = self.split if fold is None else self.fold(fold).split
        chosen = set(table[split])
        return [s.chrom for s in self.shards if s.chrom in chosen]

    def shards_of(self, split: str, fold: str | None = None) -> list[ShardInfo]:
        """Shards of the chromosomes of ``split``, in shard order."""
        chroms = set(self.split_chromosomes(split, fold))
        return [s for s in self.shards if s.chrom in chroms]

    def n_examples(self, split: str, fold: str | None = None) -> int:
        """Regions of ``split`` (every region of a split chromosome belongs to it)."""
        return sum(s.n_regions for s in self.shards_of(split, fold))

    # ------------------------------------------------------------------ targets

    def _clip(self, section: str) -> np.ndarray:
        values = self.clipping[section]
        return np.array([np.inf if values.get(t) is None else float(values[t])
                         for t in self.tasks], dtype=np.float32)

    @property
    def clip_counts(self) -> np.ndarray:
        """Per-task upper bound of the count targets (``inf``: none)."""
        return self._clip("counts")

    @property
    def clip_signal(self) -> np.ndarray:
        """Per-task upper bound of the profile bins (``inf``: none)."""
        return self._clip("signal")

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def chunk_rows(self) -> int:
        """Rows per HDF5 chunk of the shards (the unit of streaming and shuffling)."""
        return int(self.params["chunk_rows"])


class Dataset:
    """A preprocessed training set: its directory, metadata and region table.

    Parameters
    ----------
    directory
        The dataset directory (``results/<study>/dataset``), holding ``dataset.json``.

    Raises
    ------
    InputError
        If ``dataset.json`` is missing, damaged or of another format.
    """

    def __init__(self, directory: PathLike) -> None:
        self.dir = Path(directory)
        path = self.dir / "dataset.json"
        if not path.is_file():
            raise InputError(path, "dataset metadata not found",
                             fix="build the dataset first (snakemake ... or seq2func preprocess)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(path, f"not readable as JSON ({exc})",
                             fix="rerun preprocessing (snakemake rebuilds dataset.json)") from exc
        self.meta = DatasetMeta.from_json(data, path)

    def __repr__(self) -> str:
        return f"Dataset({str(self.dir)!r}, tasks={list(self.meta.tasks)})"

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.meta.tasks

    @property
    def geometry(self) -> Geometry:
        return self.meta.geometry

    @property
    def metadata_path(self) -> Path:
        return self.dir / "dataset.json"

    def shard_path(self, shard: ShardInfo) -> Path:
        return self.dir / shard.path

    @cached_property
    def _all_regions(self) -> pd.DataFrame:
        """``regions.tsv.gz``, its md5 checked against ``dataset.json`` first.

        Raises
        ------
        InputError
            If the table is missing, damaged or not the one ``dataset.json`` describes.
        """
        import gzip
        import zlib

        from seq2func.core.io import file_checksum

        path = self.dir / "regions.tsv.gz"
        fix = "rerun preprocessing (snakemake rebuilds the dataset: preprocess_gather)"
        if not path.is_file():
            raise InputError(path, "region table not found", fix=fix)
        want = self.meta.checksums.get("regions.tsv.gz")
        if want and file_checksum(path) != want:
            raise InputError(path, "region table is damaged or was replaced: its md5 differs "
                                   "from the one dataset.json records", fix=fix)
        try:
            return pd.read_csv(path, sep="\t", dtype={"chrom": str, "origin": str},
                               keep_default_na=False)
        except (OSError, EOFError, ValueError, zlib.error, gzip.BadGzipFile,
                pd.errors.ParserError) as exc:
            raise InputError(path, f"region table cannot be read ({exc})", fix=fix) from exc

    def regions(self, split: str | None = None, fold: str | None = None) -> pd.DataFrame:
        """``regions.tsv.gz`` (read once), optionally only the rows of one split."""
        df = self._all_regions
        if split is not None and split != "all":
            df = df[df[self.meta.split_column(fold)] == split]
        return df

    def columns(self, prefix: str) -> list[str]:
        """Per-task columns of the region table, e.g. ``columns("log_counts")``."""
        return [f"{prefix}_{t}" for t in self.tasks]


def as_dataset(dataset: Dataset | PathLike) -> Dataset:
    """A :class:`Dataset` from itself or its directory."""
    return dataset if isinstance(dataset, Dataset) else Dataset(dataset)

