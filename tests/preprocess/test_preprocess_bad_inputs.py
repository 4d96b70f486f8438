"""Bad preprocessing inputs are harmonised, counted in QC, or stopped with a message and a fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import dataset_regions as load_regions
from preprocess_inputs import SAMPLES, SMALL_PARAMS, SPLIT, Study, make_study, write_bigwig
from seq2func.cli import main
from seq2func.core.config import load_samples
from seq2func.core.errors import ConfigError, InputError
from seq2func.core.sequence import encode
from seq2func.dataset import DatasetMeta
from seq2func.preprocess import PreprocessSettings, SampleInput, make_plan, run_all


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return make_study(tmp_path_factory.mktemp("bad_inputs"))


def samples(study: Study, bigwigs: list[Path] | None = None,
            peaks: list[Path] | None = None) -> list[SampleInput]:
    bigwigs = bigwigs or study.bigwigs
    peaks = peaks or study.peaks
    return [SampleInput(s, "ATAC", f"cell_{s}", str(b), str(p))
            for s, b, p in zip(SAMPLES, bigwigs, peaks, strict=True)]


def build(study: Study, out: Path, params: dict | None = None, split: dict | None = None,
          **files) -> DatasetMeta:
    p = PreprocessSettings.from_config({**SMALL_PARAMS, **(params or {})})
    return run_all(study.genome, samples(study, **files), p, split or SPLIT, out,
                   study.blacklist, qc_table=out / "qc.tsv")


def qc_row(out: Path, sample: str) -> pd.Series:
    qc = pd.read_csv(out / "qc.tsv", sep="\t").set_index("sample")
    return qc.loc[sample]


def with_extra_peaks(study: Study, tmp: Path, lines: str, index: int = 0) -> list[Path]:
    peaks = list(study.peaks)
    new = tmp / f"extra_{SAMPLES[index]}.narrowPeak"
    new.write_text(study.peaks[index].read_text() + lines)
    peaks[index] = new
    return peaks


def test_chr_prefix_differences_are_harmonised(study: Study, tmp_path: Path) -> None:
    bare = make_study(tmp_path / "bare", peak_names="bare", bigwig_names="bare")
    build(bare, tmp_path / "bare_out")
    build(study, tmp_path / "chr_out")
    a = load_regions(tmp_path / "bare_out")
    b = load_regions(tmp_path / "chr_out")
    pd.testing.assert_frame_equal(a, b)
    # config lists may use the other style too
    build(study, tmp_path / "split_out", split={"valid": ["2"], "test": ["3"]})


def test_names_matching_nothing_fail_listing_both_sets(study: Study, tmp_path: Path) -> None:
    peaks = list(study.peaks)
    peaks[1] = tmp_path / "scaffolds.bed"
    peaks[1].write_text("scaffold_7\t100\t300\nscaffold_9\t500\t900\n")
    with pytest.raises(InputError) as exc:
        build(study, tmp_path / "out", peaks=peaks)
    msg = str(exc.value)
    assert "scaffolds.bed" in msg and "scaffold_7" in msg and "chr1" in msg


def test_peaks_past_chromosome_ends_are_clipped_or_dropped(study: Study, tmp_path: Path,
                                                            monkeypatch) -> None:
    monkeypatch.setattr("seq2func.core.intervals.PAST_END_TOLERANCE", 0.05)  # 2 of 80 pass
    extra = ("chr3\t39950\t40100\tp1\t0\t.\t5\t20\t10\t100\n"   # summit 40050 > 40000: dropped
             "chr3\t39500\t40300\tp2\t0\t.\t5\t20\t10\t450\n"   # end clipped, window off chrom
             "chr3\t45000\t45200\tp3\t0\t.\t5\t20\t10\t100\n"   # entirely past the end
             "chr9\t100\t300\tp4\t0\t.\t5\t20\t10\t100\n"        # chromosome not in genome
             "chr2\t500\t400\tp5\t0\t.\t5\t20\t10\t-1\n")        # end before start
    out = tmp_path / "out"
    build(study, out, peaks=with_extra_peaks(study, tmp_path, extra))
    row = qc_row(out, "alpha")
    assert row["peaks_in_file"] == 80
    assert row["past_chrom_end"] == 2
    assert row["clipped_at_chrom_end"] == 1
    assert row["window_off_chrom"] >= 1
    assert row["chrom_not_in_genome"] == 1
    assert row["invalid_interval"] == 1
    r = load_regions(out)
    assert (r["end"] <= r["chrom"].map(study.sizes)).all()


def test_many_peaks_past_chromosome_ends_are_another_assembly(study: Study,
                                                             tmp_path: Path) -> None:
    extra = "".join(f"chr3\t{45000 + 300 * i}\t{45200 + 300 * i}\tp{i}\t0\t.\t5\t20\t10\t100\n"
                    for i in range(10))  # 10 of 85 peaks start past chr3's 40,000 bp
    with pytest.raises(InputError, match=r"line 76: 10 of .* peaks .* past .* another genome "
                                         r"assembly") as exc:
        build(study, tmp_path / "out", peaks=with_extra_peaks(study, tmp_path, extra))
    assert "same assembly" in str(exc.value)
    assert not (tmp_path / "out" / "dataset.json").exists()


def test_empty_peak_file(study: Study, tmp_path: Path) -> None:
    peaks = list(study.peaks)
    peaks[1] = tmp_path / "empty.narrowPeak"
    peaks[1].write_text("")
    with pytest.raises(InputError, match="no peaks") as exc:
        build(study, tmp_path / "out", peaks=peaks)
    assert "allow_empty_peaks" in str(exc.value)
    out = tmp_path / "allowed"
    build(study, out, params={"allow_empty_peaks": True}, peaks=peaks)
    r = load_regions(out)
    assert r["label_beta"].sum() == 0 and r["label_alpha"].sum() > 0
    assert qc_row(out, "beta")["peaks_in_file"] == 0


def test_nan_and_negative_bigwig_values(study: Study, tmp_path: Path) -> None:
    # bases without data are NaN in pyBigWig: they count as 0 and are reported
    out = tmp_path / "nan"
    build(study, out)
    assert qc_row(out, "alpha")["bigwig_bases_without_data"] > 100_000
    r = load_regions(out)
    assert np.isfinite(r[[f"log_counts_{s}" for s in SAMPLES]].to_numpy()).all()
    # a negative value stops the run by default, naming file and position
    values = {c: v.copy() for c, v in study.signal["gamma"].items()}
    summit = int(study.summits["gamma"]["chr1"][3])
    values["chr1"][summit] = -2.5
    bw = tmp_path / "negative.bw"
    write_bigwig(bw, study.sizes, values)
    bigwigs = [*study.bigwigs[:2], bw]
    with pytest.raises(InputError, match=f"negative signal.*chr1:{summit + 1}") as exc:
        build(study, tmp_path / "neg", bigwigs=bigwigs)
    assert "negative_signal: clip" in str(exc.value)
    out = tmp_path / "clip"
    build(study, out, params={"negative_signal": "clip"}, bigwigs=bigwigs)
    assert qc_row(out, "gamma")["bigwig_negative_bases_clipped"] == 1
    # infinities are always an error (pyBigWig cannot write them: stub the reader)
    from seq2func.core.bigwig import BigWig

    class Stub:
        def values(self, chrom, start, end, numpy=True):
            v = np.zeros(end - start, dtype=np.float32)
            v[2] = np.inf
            return v

    reader = BigWig(study.bigwigs[0], study.sizes, negative="clip")
    reader._bw = Stub()
    with pytest.raises(InputError, match="infinite value at chr1:13"):
        reader.values("chr1", 10, 100)


def test_lowercase_and_n_rich_sequence(study: Study, tmp_path: Path) -> None:
    # chr1 has soft-masked bases at 10,000-12,000 and N at 30,000-31,000
    extra = ("chr1\t10900\t11100\tsoft\t0\t.\t5\t99\t10\t100\n"
             "chr1\t30400\t30600\tgap\t0\t.\t5\t99\t10\t100\n")
    out = tmp_path / "out"
    build(study, out, peaks=with_extra_peaks(study, tmp_path, extra))
    r = load_regions(out)
    assert 11_000 in set(r.loc[r["chrom"] == "chr1", "centre"])
    assert 30_500 not in set(r.loc[r["chrom"] == "chr1", "centre"])
    assert qc_row(out, "alpha")["too_many_n"] >= 1
    from seq2func.dataset import iter_numpy

    for piece in iter_numpy(out, "train"):
        hit = piece.regions.index[piece.regions["centre"] == 11_000]
        if len(hit):
            expected = encode(study.sequences["chr1"][10_900:11_100])
            assert np.array_equal(piece.codes[hit[0]], expected)
            assert study.sequences["chr1"][10_900:11_100].islower()


def test_duplicate_sample_names(study: Study, tmp_path: Path, capsys) -> None:
    table = tmp_path / "samples.tsv"
    table.write_text("sample\tcell_type\tassay\nalpha\tx\tATAC\nbeta\tx\tATAC\nalpha\ty\tDNase\n")
    with pytest.raises(InputError, match="duplicate sample name"):
        load_samples(table)
    dup = samples(study)
    dup[2] = SampleInput("alpha", "ATAC", "x", str(study.bigwigs[2]), str(study.peaks[2]))
    with pytest.raises(InputError, match="duplicate"):
        make_plan(study.genome, dup, PreprocessSettings.from_config(SMALL_PARAMS), SPLIT,
                  tmp_path / "plan", study.blacklist)
    rc = main(["preprocess", "--genome", str(study.genome), "--samples", str(table),
               "--bigwigs", *map(str, study.bigwigs), "--peaks", *map(str, study.peaks),
               "--split", '{"valid": ["chr2"], "test": ["chr3"]}', "--outdir",
               str(tmp_path / "cli"), "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "duplicate sample name" in err and "samples.tsv, line 4" in err


def test_split_chromosomes_absent_from_the_genome(study: Study, tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        build(study, tmp_path / "out", split={"valid": ["chr2"], "test": ["chr22"]})
    msg = str(exc.value)
    assert "chr22" in msg and "split.test" in msg and "chr1, chr2, chr3" in msg
    with pytest.raises(ConfigError, match="both valid and test"):
        build(study, tmp_path / "out", split={"valid": ["chr2"], "test": ["chr2"]})
    with pytest.raises(ConfigError, match="excluded"):
        build(study, tmp_path / "out", params={"chromosomes": ["chr1", "chr3"]})


def test_truncated_bigwig(study: Study, tmp_path: Path) -> None:
    data = study.bigwigs[0].read_bytes()
    for frac in (0.02, 0.5, 0.9):
        cut = tmp_path / f"cut{frac}.bw"
        cut.write_bytes(data[: int(len(data) * frac)])
        with pytest.raises(InputError, match=r"truncated|not a bigWig") as exc:
            build(study, tmp_path / "out", bigwigs=[cut, *study.bigwigs[1:]])
        assert str(cut) in str(exc.value) and "re-download" in str(exc.value)


def test_bigwig_of_another_assembly(study: Study, tmp_path: Path) -> None:
    sizes = {**study.sizes, "chr2": study.sizes["chr2"] + 1000}
    values = {c: np.zeros(n) for c, n in sizes.items()}
    values["chr1"][100] = 3
    bw = tmp_path / "other.bw"
    write_bigwig(bw, sizes, values)
    with pytest.raises(InputError, match="different assemblies"):
        build(study, tmp_path / "out", bigwigs=[bw, *study.bigwigs[1:]])


def test_malformed_peak_line_names_the_line(study: Study, tmp_path: Path) -> None:
    peaks = with_extra_peaks(study, tmp_path, "chr1\t12x\t400\tbad\n")
    with pytest.raises(InputError, match=r"line 76: start '12x' is not an integer"):
        build(study, tmp_path / "out", peaks=peaks)


def test_invalid_geometry_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="profile_bin"):
        PreprocessSettings.from_config({"profile_bin": 3})
    with pytest.raises(ConfigError, match="exceed"):
        PreprocessSettings.from_config({"input_length": 500})
    with pytest.raises(ConfigError, match="unknown key"):
        PreprocessSettings.from_config({"input_lenght": 500})


def test_tiny_contigs_give_empty_shards(tmp_path: Path) -> None:
    sizes = {"chr1": 60_000, "chr2": 40_000, "chr3": 40_000, "chrS": 150}
    tiny = make_study(tmp_path / "in", sizes=sizes)
    meta = build(tiny, tmp_path / "out")
    shard = next(s for s in meta.shards if s.chrom == "chrS")
    assert shard.n_regions == 0
    r = load_regions(tmp_path / "out")
    assert "chrS" not in set(r["chrom"]) and len(r) > 100
    from seq2func.dataset import iter_batches

    n = sum(len(x) for x, _ in iter_batches(tmp_path / "out", "train", 32, shuffle=True,
                                            jitter=True, reverse_complement=True, seed=0))
    assert n == meta.n_regions["train"]


def test_missing_inputs_name_the_file(study: Study, tmp_path: Path) -> None:
    gone = tmp_path / "gone.bw"
    with pytest.raises(InputError, match=r"gone\.bw.*not found"):
        build(study, tmp_path / "out", bigwigs=[gone, *study.bigwigs[1:]])


def test_a_failing_chromosome_job_leaves_no_partial_shard(study: Study, tmp_path: Path,
                                                          monkeypatch) -> None:
    import seq2func.preprocess.chrom as pp

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pp, "extract_windows", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build(study, tmp_path / "out")
    # (the job's shard directory may exist; no shard, complete or partial, is in it)
    leftovers = [p.name for p in (tmp_path / "out" / "shards").rglob("*") if p.is_file()]
    assert leftovers == []
    assert not (tmp_path / "out" / "dataset.json").exists()
