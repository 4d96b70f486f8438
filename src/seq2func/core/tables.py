"""Metric tables on disk: one row per :class:`~seq2func.core.metrics.MetricRow`.

Every stage that measures something writes such a table (TSV with a fixed float format, so
identical inputs give identical bytes); quality gates and figures read them back.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.metrics import MetricRow


def write_metric_table(path: str | Path, table: pd.DataFrame) -> None:
    """Write a metric table (TSV, fixed float format: byte-identical for identical inputs)."""
    from seq2func.core.io import write_tsv_atomic

    write_tsv_atomic(path, table, float_format="%.6g")


def read_metric_table(path: str | Path) -> pd.DataFrame:
    """Read a metric table, checking its columns."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "metric table not found",
                         fix="run the stage that writes it first (snakemake)")
    try:
        df = pd.read_csv(path, sep="\t", dtype={"task": str, "chromosome": str, "model": str},
                         keep_default_na=False, na_values=["NaN", "nan", ""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a metric table ({str(exc).strip()})",
                         fix="delete it and rerun the stage that writes it") from exc
    cols = list(MetricRow.__dataclass_fields__)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(path, f"not a metric table: columns {missing} are missing",
                         fix=f"write it with seq2func.core.metrics.rows_to_frame (columns {cols})")
    return df
