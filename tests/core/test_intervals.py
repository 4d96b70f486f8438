"""Peak reading and interval algebra used by preprocessing."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from seq2func.core.errors import InputError
from seq2func.core.intervals import (
    count_points,
    merge_intervals,
    nms_positions,
    overlaps_any,
    read_bed_intervals,
    read_peaks,
)

NARROWPEAK = ("chr1\t100\t300\tp1\t0\t.\t4.5\t12.0\t10.0\t50\n"
              "chr1\t500\t700\tp2\t0\t.\t9.0\t30.0\t25.0\t-1\n"
              "chr2\t10\t20\tp3\t0\t.\t1.0\t-1\t-1\t99\n")


def test_narrowpeak_summits_and_scores(tmp_path: Path) -> None:
    p = tmp_path / "a.narrowPeak"
    p.write_text(NARROWPEAK)
    df = read_peaks(p)
    assert df["summit"].tolist() == [150, 600, 15]  # -1 and out-of-peak offsets -> midpoint
    assert df.attrs["summit_from_midpoint"] == 2
    # pValue has a -1 (not given), so the signalValue column ranks the peaks
    assert df["score"].tolist() == [4.5, 9.0, 1.0]
    assert df["line"].tolist() == [1, 2, 3]


def test_bed_with_track_header_and_gzip(tmp_path: Path) -> None:
    p = tmp_path / "b.bed.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("track name=x\n#comment\nchrom\tstart\tend\nchr1\t5\t25\nchr3\t0\t10\n")
    df = read_peaks(p)
    assert df[["chrom", "start", "end", "summit"]].values.tolist() == [
        ["chr1", 5, 25, 15], ["chr3", 0, 10, 5]]
    assert df["line"].tolist() == [4, 5]
    assert read_bed_intervals(p).shape == (2, 3)


def test_irregular_files_report_the_line(tmp_path: Path) -> None:
    p = tmp_path / "c.bed"
    p.write_text("chr1\t5\t25\nchr1\t7\n")
    with pytest.raises(InputError, match="line 2: fewer than 3"):
        read_peaks(p)
    p.write_text("chr1\t5\t25\nchr1\t7\t9.5\n")
    with pytest.raises(InputError, match=r"line 2: end '9\.5' is not an integer"):
        read_peaks(p)


def test_empty_file_gives_an_empty_table(tmp_path: Path) -> None:
    p = tmp_path / "e.bed"
    p.write_text("")
    assert read_peaks(p).empty
    p.write_text("track name=empty\n")
    assert read_peaks(p).empty


def test_interval_algebra() -> None:
    s, e = merge_intervals(np.array([5, 1, 10, 14]), np.array([8, 6, 12, 20]))
    assert s.tolist() == [1, 10, 14] and e.tolist() == [8, 12, 20]
    got = overlaps_any(np.array([0, 8, 12, 30]), np.array([1, 10, 15, 40]), s, e)
    assert got.tolist() == [False, False, True, False]
    assert count_points(np.array([0, 5]), np.array([5, 10]), np.array([4, 5, 9, 10])).tolist() \
        == [1, 2]


def test_nms_keeps_the_strongest_and_spaces_summits() -> None:
    pos = np.array([100, 150, 400, 420, 1000, 1199])
    score = np.array([1.0, 5.0, 2.0, 3.0, 1.0, 0.5])
    keep = nms_positions(pos, np.argsort(-score, kind="stable"), 200)
    assert keep.tolist() == [False, True, False, True, True, False]
    kept = np.sort(pos[keep])
    assert np.diff(kept).min() >= 200
