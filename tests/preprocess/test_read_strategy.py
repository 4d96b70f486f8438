"""The two bigWig read strategies of a chromosome job give the same shard and statistics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import seq2func.preprocess.chrom as chrom
from preprocess_inputs import (
    SAMPLES,
    SMALL_PARAMS,
    SPLIT,
    Study,
    make_study,
    write_bigwig,
    write_raw_bigwig,
)
from seq2func.core.bigwig import BigWig
from seq2func.core.intervals import merge_intervals
from seq2func.core.io import file_checksum
from seq2func.preprocess import PreprocessSettings, SampleInput, make_plan, process_chromosome
from seq2func.preprocess.chrom import choose_read_strategy, span_fraction

#: byte offset of the summary offset in a bigWig header (UCSC spec: its 10th field)
SUMMARY_OFFSET_AT = 44


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return make_study(tmp_path_factory.mktemp("read_strategy"),
                      sizes={"chr1": 120_000, "chr2": 40_000, "chr3": 40_000}, n_peaks=12,
                      float_signal=True)  # (sums of non-integral values depend on their order)


def nan_bigwig(study: Study, path: Path) -> Path:
    """``beta``'s signal with NaN stored at some covered bases (its header sum is NaN)."""
    values = {c: v.copy() for c, v in study.signal["beta"].items()}
    for c, v in values.items():
        covered = np.flatnonzero(v)
        v[covered[::7]] = np.nan
        values[c] = v
    write_bigwig(path, study.sizes, values)
    return path


def no_summary_bigwig(study: Study, path: Path) -> Path:
    """``gamma``'s signal with one negative value, in a bigWig whose header has no summary."""
    intervals = {}
    for c, v in study.signal["gamma"].items():
        v = v.copy()
        v[int(study.summits["gamma"][c][2])] = -1.5
        nz = np.flatnonzero(v)
        intervals[c] = [(int(i), int(i) + 1, float(v[i])) for i in nz]
    write_raw_bigwig(path, study.sizes, intervals)
    data = bytearray(path.read_bytes())
    data[SUMMARY_OFFSET_AT : SUMMARY_OFFSET_AT + 8] = bytes(8)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def plan_dir(study: Study, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plan with one header-clean track, one storing NaN and one without a header summary
    (holding a negative value: ``negative_signal: clip``)."""
    tmp = tmp_path_factory.mktemp("plan")
    bigwigs = [study.bigwigs[0], nan_bigwig(study, tmp / "nan.bw"),
               no_summary_bigwig(study, tmp / "no_summary.bw")]
    samples = [SampleInput(s, "ATAC", f"cell_{s}", str(b), str(p))
               for s, b, p in zip(SAMPLES, bigwigs, study.peaks, strict=True)]
    params = PreprocessSettings.from_config({**SMALL_PARAMS, "negative_signal": "clip"})
    make_plan(study.genome, samples, params, SPLIT, tmp / "plan", study.blacklist)
    return tmp / "plan"


def test_the_plan_has_each_kind_of_track(plan_dir: Path, study: Study) -> None:
    plan = json.loads((plan_dir / "plan.json").read_text())
    clean = [BigWig(s["bigwig"], study.sizes, negative="clip").clean_by_header
             for s in plan["samples"]]
    assert clean == [True, False, False]


def run_jobs(plan_dir: Path, out: Path, strategy: str) -> dict[str, tuple[str, dict]]:
    """Every chromosome with ``strategy``: shard md5 and statistics (without the seconds)."""
    result = {}
    for c in ("chr1", "chr2", "chr3"):
        st = process_chromosome(plan_dir, c, out / f"{c}.h5", out / f"{c}.stats.json",
                                read_strategy=strategy)
        assert st["read_strategy"] == strategy
        written = json.loads((out / f"{c}.stats.json").read_text())
        for key in ("seconds", "shard", "read_strategy"):
            written.pop(key)
        assert written["shard_md5"] == file_checksum(out / f"{c}.h5")
        result[c] = (written["shard_md5"], written)
    return result


@pytest.mark.parametrize(("block_bases", "gap"), [(chrom.BLOCK_BASES, chrom.SPAN_MERGE_GAP),
                                                  (16_384, 0), (50_000, 300)])
def test_dense_and_sparse_reads_write_identical_shards_and_stats(
        plan_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bases: int,
        gap: int) -> None:
    # small blocks: windows and peaks cross block edges; gap 0: one span per window or peak
    monkeypatch.setattr(chrom, "BLOCK_BASES", block_bases)
    monkeypatch.setattr(chrom, "SPAN_MERGE_GAP", gap)
    spans = []
    real = chrom._cut_track_spans

    def spy(bw: BigWig, *args: object) -> np.ndarray | None:
        spans.append(bw.path.name)
        return real(bw, *args)

    dense = run_jobs(plan_dir, tmp_path / "dense", "dense")
    assert not spans
    monkeypatch.setattr(chrom, "_cut_track_spans", spy)
    sparse = run_jobs(plan_dir, tmp_path / "sparse", "sparse")
    # only the header-clean track is read span by span; the others stay whole-block reads
    assert spans and set(spans) == {"alpha.bw"}
    assert sparse == dense
    stats = dense["chr1"][1]["signal"]
    assert stats["gamma"]["negative_bases"] == 1 and stats["gamma"]["min_value"] == -1.5
    assert all(0 < s["in_peaks"] < s["total"] for s in stats.values())


def test_merge_intervals_with_a_gap_merges_overlapping_and_near_intervals() -> None:
    s, e = merge_intervals(np.array([50, 0, 12, 200]), np.array([60, 10, 30, 210]), 2)
    assert s.tolist() == [0, 50, 200] and e.tolist() == [30, 60, 210]  # 10..12: gap 2
    s, e = merge_intervals(np.array([0, 5]), np.array([100, 20]), 0)  # nested
    assert s.tolist() == [0] and e.tolist() == [100]


def test_span_fraction_and_strategy_choice() -> None:
    size = 10_000_000
    assert span_fraction(np.array([]), np.array([]), size) == 0.0
    assert choose_read_strategy(np.array([], dtype=np.int64), np.array([], dtype=np.int64),
                                size) == "sparse"
    # 100 windows of 1 kb, 100 kb apart: 1% of the chromosome (gaps are not merged)
    starts = np.arange(100) * 100_000
    assert span_fraction(starts, starts + 1000, size) == pytest.approx(0.01)
    assert choose_read_strategy(starts, starts + 1000, size) == "sparse"
    # windows 16 kb apart (0.06 per kb) merge into one span: all of it is read
    starts = np.arange(0, size, 16_000)
    assert span_fraction(starts, starts + 1000, size) > 0.99
    assert choose_read_strategy(starts, starts + 1000, size) == "dense"
    # the threshold decides between: a quarter of the chromosome
    starts = np.arange(0, size // 4, 16_000)
    assert choose_read_strategy(starts, starts + 1000, size, threshold=0.2) == "dense"
    assert choose_read_strategy(starts, starts + 1000, size, threshold=0.3) == "sparse"


def test_the_job_chooses_the_strategy_and_rejects_unknown_ones(plan_dir: Path,
                                                                tmp_path: Path) -> None:
    # 12 peaks x 3 samples with their windows and background on 120 kb: spans cover it all
    st = process_chromosome(plan_dir, "chr1", tmp_path / "a.h5", tmp_path / "a.json")
    assert st["read_strategy"] == "dense"
    with pytest.raises(ValueError, match="read_strategy"):
        process_chromosome(plan_dir, "chr1", tmp_path / "b.h5", tmp_path / "b.json",
                           read_strategy="windows")
