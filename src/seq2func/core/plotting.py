"""Reproducible figures: one style, byte-identical SVG/PDF, provenance sidecars.

:func:`save_figure` writes a figure as PDF, SVG and PNG with fixed metadata (no dates), fixed SVG
element IDs, embedded TrueType fonts in PDF and text kept as text in SVG, so the same inputs give
byte-identical SVG and PDF files. matplotlib is imported lazily and always with the non-interactive
Agg backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from seq2func.core.io import atomic_output
from seq2func.core.provenance import write_provenance

FORMATS = ("pdf", "svg", "png")

#: rcParams of every seq2func figure (DejaVu Sans ships with matplotlib: same glyphs everywhere).
STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": "seq2func",
    "path.simplify": False,
    "image.interpolation": "nearest",
}

_METADATA = {
    "pdf": {"Creator": "seq2func", "Producer": "seq2func (matplotlib)", "CreationDate": None,
            "ModDate": None},
    "svg": {"Creator": "seq2func", "Date": None},
    "png": {"Software": "seq2func"},
}


def pyplot():  # type: ignore[no-untyped-def]
    """``matplotlib.pyplot`` with the Agg backend (safe on headless cluster nodes)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


@contextlib.contextmanager
def figure_style(extra: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Context manager applying :data:`STYLE` (plus ``extra``) to figures created inside it."""
    import matplotlib

    with matplotlib.rc_context({**STYLE, **(extra or {})}):
        yield


def save_figure(
    fig: Any,
    stem: str | Path,
    formats: Sequence[str] = FORMATS,
    *,
    inputs: Iterable[str | Path] = (),
    config: Mapping[str, Any] | None = None,
    device: str | None = None,
    extra: Mapping[str, Any] | None = None,
    close: bool = True,
) -> list[Path]:
    """Write ``fig`` as ``<stem>.<fmt>`` for each format, atomically, plus a provenance sidecar.

    Parameters
    ----------
    fig
        A matplotlib figure (create it inside :func:`figure_style`).
    stem
        Output path without suffix, e.g. ``results/demo/figures/roc``.
    formats
        Any of ``pdf``, ``svg``, ``png``.
    inputs, config, device, extra
        Recorded in ``<stem>.provenance.json`` (see :func:`seq2func.core.provenance.make_record`).
    close
        Close the figure afterwards.

    Returns
    -------
    list of pathlib.Path
        The written figure files.
    """
    stem = Path(stem)
    written = []
    with figure_style():
        for fmt in formats:
            if fmt not in _METADATA:
                raise ValueError(f"unsupported figure format {fmt!r}; use {FORMATS}")
            out = stem.with_name(f"{stem.name}.{fmt}")
            with atomic_output(out) as tmp:
                fig.savefig(tmp, format=fmt, metadata=_METADATA[fmt])
            written.append(out)
    write_provenance(stem, step="figure", inputs=inputs, config=config, device=device,
                     extra={"files": [p.name for p in written], **dict(extra or {})})
    if close:
        pyplot().close(fig)
    return written
