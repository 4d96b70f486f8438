"""Figures are byte-identical for the same inputs and carry a provenance sidecar."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from seq2func.core.io import file_checksum
from seq2func.core.plotting import figure_style, pyplot, save_figure


def _figure(seed: int):  # type: ignore[no-untyped-def]
    plt = pyplot()
    rng = np.random.default_rng(seed)
    with figure_style():
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot(np.arange(20), rng.normal(size=20), label="model")
        ax.scatter(rng.random(30), rng.random(30), s=4)
        ax.set_xlabel("position (bp)")
        ax.set_title("demo")
        ax.legend()
    return fig


def test_same_inputs_give_identical_svg_and_pdf(tmp_path: Path) -> None:
    a = save_figure(_figure(0), tmp_path / "a" / "fig", inputs=[], config={"x": 1})
    b = save_figure(_figure(0), tmp_path / "b" / "fig", inputs=[], config={"x": 1})
    assert [p.name for p in a] == ["fig.pdf", "fig.svg", "fig.png"]
    for pa, pb in zip(a, b, strict=True):
        assert file_checksum(pa) == file_checksum(pb), pa.name
    svg = (tmp_path / "a" / "fig.svg").read_text()
    assert "<dc:date>" not in svg and "position (bp)" in svg  # no date; text kept as text
    pdf = (tmp_path / "a" / "fig.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"DejaVuSans" in pdf
    c = save_figure(_figure(1), tmp_path / "c" / "fig")
    assert file_checksum(c[1]) != file_checksum(a[1])


def test_provenance_sidecar(tmp_path: Path) -> None:
    src = tmp_path / "input.tsv"
    src.write_text("a\tb\n1\t2\n")
    save_figure(_figure(0), tmp_path / "fig", formats=["svg"], inputs=[src], config={"k": 2},
                device="cpu")
    rec = json.loads((tmp_path / "fig.provenance.json").read_text())
    assert rec["files"] == ["fig.svg"]
    assert rec["inputs"][0]["md5"] == file_checksum(src)
    assert rec["config"] == {"k": 2} and len(rec["config_sha256_16"]) == 16
    assert rec["device"] == "cpu" and "matplotlib" in rec["packages"]
    assert "git_commit" in rec
