"""Preprocessing builds the documented dataset: regions, labels, targets, shards, QC, splits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pyBigWig
import pytest
import yaml

from conftest import REPO
from conftest import dataset_json as load_metadata
from conftest import dataset_regions as load_regions
from preprocess_inputs import SAMPLES, SMALL_PARAMS, SPLIT, Study, make_study
from seq2func.core.io import file_checksum
from seq2func.core.sequence import decode
from seq2func.preprocess import PreprocessSettings, run_all, samples_from_table
from seq2func.preprocess.histogram import HIST_BINS, hist_add, hist_quantile
from seq2func.preprocess.qc import FATE_COLUMNS
from seq2func.preprocess.regions import gc_matched_sample


def build(study: Study, out: Path, params: dict | None = None, split: dict | None = None,
          **kw) -> dict:
    p = PreprocessSettings.from_config({**SMALL_PARAMS, **(params or {})})
    samples = samples_from_table(study.samples_table, [str(b) for b in study.bigwigs],
                                 [str(x) for x in study.peaks])
    run_all(study.genome, samples, p, split or SPLIT, out, study.blacklist,
            qc_table=out / "qc.tsv", study="synthetic", **kw)
    return load_metadata(out)  # the dataset.json that was written


def _shard(dataset: Path, chrom: str) -> str:
    """The path of ``chrom``'s shard relative to the dataset (from dataset.json)."""
    return next(s["path"] for s in load_metadata(dataset)["shards"] if s["chrom"] == chrom)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return make_study(tmp_path_factory.mktemp("study"))


@pytest.fixture(scope="module")
def dataset(study: Study, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    build(study, out)
    return out


def test_metadata_describes_the_dataset(dataset: Path) -> None:
    meta = load_metadata(dataset)
    assert meta["tasks"] == list(SAMPLES)
    assert meta["input_length"] == 200 and meta["max_jitter"] == 10
    assert meta["sequence_stored_length"] == 220 and meta["signal_stored_length"] == 120
    assert meta["profile_bins"] == 100 and meta["count_window"] == 100
    assert meta["split"] == {"train": ["chr1"], "valid": ["chr2"], "test": ["chr3"]}
    regions = load_regions(dataset)
    assert meta["n_regions"]["total"] == len(regions)
    for part in ("train", "valid", "test"):
        assert meta["n_regions"][part] == int((regions["split"] == part).sum())
    for path, md5 in meta["checksums"].items():
        assert file_checksum(dataset / path) == md5
    assert meta["clipping"]["counts"].keys() == set(SAMPLES)


def test_regions_table_has_the_contract_columns(dataset: Path) -> None:
    r = load_regions(dataset)
    for col in ("region_id", "chrom", "start", "end", "centre", "split", "source", "gc",
                "shard", "shard_row"):
        assert col in r.columns
    for t in SAMPLES:
        for k in ("is_peak", "label", "counts", "log_counts"):
            assert f"{k}_{t}" in r.columns
    assert (r["end"] - r["start"] == 200).all()
    assert (r["centre"] - r["start"] == 100).all()
    assert list(r["region_id"]) == list(range(len(r)))
    assert set(r["source"]) == {"peak", "background"}
    # regions of a chromosome are sorted and their centres at least merge_distance apart
    for _, sub in r[r["source"] == "peak"].groupby("chrom"):
        assert np.diff(sub["centre"].to_numpy()).min() >= SMALL_PARAMS["merge_distance"]


def test_labels_follow_planted_summits(study: Study, dataset: Path) -> None:
    r = load_regions(dataset)
    for t in SAMPLES:
        for chrom, summits in study.summits[t].items():
            sub = r[(r["chrom"] == chrom)]
            c = sub["centre"].to_numpy()
            near = np.abs(c[:, None] - summits[None, :])
            expected = ((c[:, None] - summits[None, :] <= 25)
                        & (summits[None, :] - c[:, None] < 25)).any(axis=1)
            assert np.array_equal(sub[f"label_{t}"].to_numpy() == 1, expected)
            assert near.min(axis=0).max() < 1000  # every summit is covered by some region
    bg = r[r["source"] == "background"]
    assert (bg[[f"label_{t}" for t in SAMPLES]].to_numpy() == 0).all()
    assert (bg[[f"is_peak_{t}" for t in SAMPLES]].to_numpy() == 0).all()


def test_shards_match_direct_reads_of_genome_and_bigwigs(study: Study, dataset: Path) -> None:
    meta = load_metadata(dataset)
    r = load_regions(dataset)
    bws = [pyBigWig.open(str(p)) for p in study.bigwigs]
    for shard in meta["shards"]:
        rows = r[r["shard"] == shard["path"]]
        with h5py.File(dataset / shard["path"]) as f:
            assert f["sequence"].shape == (len(rows), 220)
            assert f["signal"].shape == (len(rows), 3, 120)
            assert f["signal"].dtype == np.uint16  # integral counts are stored compactly
            for i in np.linspace(0, len(rows) - 1, 7).astype(int):
                row = rows.iloc[i]
                c = int(row["centre"])
                seq = study.sequences[row["chrom"]][c - 110 : c + 110].upper()
                assert decode(f["sequence"][row["shard_row"]]) == seq
                for t, bw in enumerate(bws):
                    direct = np.nan_to_num(bw.values(row["chrom"], c - 60, c + 60, numpy=True))
                    assert np.array_equal(f["signal"][row["shard_row"], t, :], direct)
                    counts = direct[10:110].sum()
                    assert row[f"counts_{SAMPLES[t]}"] == pytest.approx(counts)
                    clip = meta["clipping"]["counts"][SAMPLES[t]]
                    assert row[f"log_counts_{SAMPLES[t]}"] == pytest.approx(
                        np.log1p(min(counts, clip)), rel=1e-5)


def test_background_is_gc_matched_and_avoids_peaks(study: Study, dataset: Path) -> None:
    r = load_regions(dataset)
    peak, bg = r[r["source"] == "peak"], r[r["source"] == "background"]
    assert len(bg) == pytest.approx(len(peak), abs=3)
    assert abs(bg["gc"].mean() - peak["gc"].mean()) < 0.01
    for t in SAMPLES:
        for chrom, summits in study.summits[t].items():
            c = bg.loc[bg["chrom"] == chrom, "centre"].to_numpy()
            # no peak interval (summit +- 100) overlaps the stored window (centre +- 110)
            assert (np.abs(c[:, None] - summits[None, :]) >= 210).all()


def test_gc_matching_fills_shortfalls_from_nearest_bins() -> None:
    rng = np.random.default_rng(0)
    target = np.array([0.61] * 10 + [0.41] * 10)
    cand = np.concatenate([np.full(5, 0.63), np.full(5, 0.55), np.full(100, 0.41),
                           np.full(100, 0.2)])
    pick = gc_matched_sample(target, cand, 1.0, 50, rng)
    assert pick.size == 20
    chosen = np.sort(cand[pick])
    assert (chosen[:10] == 0.41).all() and (chosen[10:] >= 0.55).all()
    assert gc_matched_sample(target, cand[:3], 1.0, 50, rng).size == 3


def test_blacklist_and_n_windows_are_dropped(study: Study, dataset: Path) -> None:
    r = load_regions(dataset)
    # blacklist chr2:20000-20500 with a 20 bp flank; stored windows are 220 bp
    c = r.loc[r["chrom"] == "chr2", "centre"].to_numpy()
    assert not ((c + 110 > 19_980) & (c - 110 < 20_520)).any()
    # an N block on chr1:30000-31000
    c = r.loc[r["chrom"] == "chr1", "centre"].to_numpy()
    assert not ((c > 30_000 - 100) & (c < 31_000 + 100)).any()
    assert (r["n_fraction"] <= 0.05).all()


def test_qc_accounts_for_every_peak(study: Study, dataset: Path) -> None:
    qc = pd.read_csv(dataset / "qc.tsv", sep="\t")
    assert list(qc["sample"]) == list(SAMPLES)
    assert (qc[FATE_COLUMNS].sum(axis=1) == qc["peaks_in_file"]).all()
    assert (qc["peaks_in_file"] == 75).all()
    assert (qc["kept"] + qc["merged"] > 60).all()
    assert (qc["signal_in_peaks_fraction"] > 0.5).all()
    assert (qc["gc_ks_positives_vs_background"] < 0.3).all()


def test_outputs_are_deterministic(study: Study, dataset: Path, tmp_path: Path) -> None:
    # also with chunks compressed by several threads
    build(study, tmp_path, threads=3)
    for rel in ["regions.tsv.gz", _shard(dataset, "chr1"), _shard(dataset, "chr3")]:
        assert file_checksum(tmp_path / rel) == file_checksum(dataset / rel), rel
    a = json.loads((dataset / "dataset.json").read_text())
    b = json.loads((tmp_path / "dataset.json").read_text())
    assert a == b


def test_uncompressed_shards_hold_the_same_data(study: Study, dataset: Path,
                                                tmp_path: Path) -> None:
    build(study, tmp_path, params={"compression": "none"})
    with (h5py.File(dataset / _shard(dataset, "chr1")) as a,
          h5py.File(tmp_path / _shard(tmp_path, "chr1")) as b):
        assert a["signal"].compression == "gzip" and b["signal"].compression is None
        for key in ("sequence", "signal", "labels", "counts", "centre", "gc"):
            assert np.array_equal(a[key][:], b[key][:]), key


def test_profile_bins_and_float_signal(tmp_path: Path) -> None:
    study = make_study(tmp_path / "in", float_signal=True, seed=3)
    meta = build(study, tmp_path / "out", params={"profile_bin": 5, "max_jitter": 10})
    assert meta["profile_bins"] == 20 and meta["signal_stored_bins"] == 24
    assert meta["shards"][0]["signal_dtype"] == "float32"
    r = load_regions(tmp_path / "out")
    row = r[r["source"] == "peak"].iloc[3]
    with h5py.File(tmp_path / "out" / row["shard"]) as f:
        stored = f["signal"][row["shard_row"], 0, :]
    c = int(row["centre"])
    direct = study.signal["alpha"][row["chrom"]][c - 60 : c + 60]
    assert np.allclose(stored, direct.reshape(24, 5).sum(1), rtol=1e-5)
    assert row["counts_alpha"] == pytest.approx(direct[10:110].sum(), rel=1e-5)


def test_folds_add_split_columns(study: Study, tmp_path: Path) -> None:
    split = {**SPLIT, "folds": [{"name": "f1", "valid": ["chr3"], "test": ["chr1"]}]}
    meta = build(study, tmp_path, split=split)
    assert meta["folds"] == [{"name": "f1", "split": {"train": ["chr2"], "valid": ["chr3"],
                                                       "test": ["chr1"]}}]
    r = load_regions(tmp_path, "test", fold="f1")
    assert set(r["chrom"]) == {"chr1"} and (r["split_f1"] == "test").all()


def test_clip_quantile_histogram() -> None:
    h = np.zeros(HIST_BINS, dtype=np.int64)
    hist_add(h, np.concatenate([np.ones(9990), np.full(10, 1000.0), np.zeros(50)]))
    assert 1.0 <= hist_quantile(h, 0.99) <= 1.0625  # one bin: at most 6.25% above
    assert 1000 <= hist_quantile(h, 0.9995) <= 1000 * 1.0625


def test_settings_fields_are_the_schema_properties_with_its_defaults() -> None:
    from dataclasses import fields

    from seq2func.core.settings import schema_fields, section_schema

    assert {f.name for f in fields(PreprocessSettings)} == schema_fields("preprocess")
    defaults = PreprocessSettings.from_config({})
    for key, spec in section_schema("preprocess")["properties"].items():
        want = spec["default"] if key != "count_window" else defaults.profile_length
        assert getattr(defaults, key) == want, key
    # the demo sets only keys the schema has (the rest: their defaults)
    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())["preprocess"]
    assert set(cfg) < schema_fields("preprocess")


def test_preprocessing_never_imports_tensorflow(study: Study, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from seq2func.cli import main\n"
        f"rc = main(['preprocess', '--genome', {str(study.genome)!r}, '--samples',"
        f" {str(study.samples_table)!r}, '--bigwigs', *{[str(b) for b in study.bigwigs]!r},"
        f" '--peaks', *{[str(p) for p in study.peaks]!r}, '--split', {json.dumps(SPLIT)!r},"
        f" '--params', {json.dumps(SMALL_PARAMS)!r}, '--outdir', {str(tmp_path / 'd')!r},"
        f" '--qc-dir', {str(tmp_path / 'qc')!r}, '--no-progress'])\n"
        "from seq2func.dataset import iter_numpy\n"
        f"n = sum(len(p.codes) for p in iter_numpy({str(tmp_path / 'd')!r}, 'train'))\n"
        "print(rc, n > 0, 'tensorflow' in sys.modules)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert res.stdout.split() == ["0", "True", "False"], res.stderr[-2000:]
    assert (tmp_path / "qc" / "preprocess_qc.svg").stat().st_size > 10_000
    assert (tmp_path / "qc" / "preprocess_qc.svg.provenance.json").exists()
