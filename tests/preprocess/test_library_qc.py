"""Library QC: FRiP and TSS enrichment on synthetic signals whose values are known exactly."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from seq2func.core.errors import ConfigError, InputError
from seq2func.core.settings import schema_fields
from seq2func.evaluate.gates import evaluate_gates
from seq2func.preprocess.library_qc import (
    LibraryQCSettings,
    TssProfile,
    annotation_tss,
    library_qc_table,
    merged_peaks,
    moving_average,
    run_library_qc,
    sample_library_qc,
    signal_in_intervals,
    tss_enrichment,
    tss_window_profile,
)

SIZES = {"chr1": 20_000, "chr2": 12_000}
#: a small window so that the synthetic chromosomes hold many TSSs
SMALL = {"flank": 500, "norm_width": 50, "smooth": 11, "centre_width": 100, "min_tss": 1}


def write_bigwig(path: Path, tracks: dict[str, np.ndarray]) -> Path:
    """A bigWig with one value per base (zeros included) of every chromosome in ``tracks``."""
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([(c, int(v.size)) for c, v in tracks.items()])
    for chrom, v in tracks.items():
        bw.addEntries(chrom, 0, values=v.astype(float).tolist(), span=1, step=1)
    bw.close()
    return path


def write_gtf(path: Path, genes: list[tuple[str, int, int, str]]) -> Path:
    """Gene records (chrom, 0-based start, end, strand); the TSS is start (+) or end - 1 (-)."""
    lines = [f'{c}\ttest\tgene\t{s + 1}\t{e}\t.\t{st}\t.\tgene_id "g{i}"; gene_name "G{i}";\n'
             for i, (c, s, e, st) in enumerate(genes)]
    path.write_text("".join(lines))
    return path


def write_peaks(path: Path, peaks: list[tuple[str, int, int]]) -> Path:
    path.write_text("".join(f"{c}\t{s}\t{e}\tp{i}\t0\t.\t1\t5\t-1\t-1\n"
                            for i, (c, s, e) in enumerate(peaks)))
    return path


# ----------------------------------------------------------------------------------- FRiP


def test_signal_in_intervals_matches_direct_sums() -> None:
    v = np.arange(100, dtype=np.float32)
    # touching intervals, an empty one and one ending at the chromosome end
    starts, ends = np.array([0, 10, 20, 50, 90]), np.array([10, 20, 20, 60, 100])
    expected = sum(float(v[s:e].sum()) for s, e in zip(starts, ends, strict=True))
    assert signal_in_intervals(v, starts, ends) == expected
    assert signal_in_intervals(v, np.array([], dtype=int), np.array([], dtype=int)) == 0.0


def test_signal_in_intervals_refuses_overlaps() -> None:
    with pytest.raises(ValueError, match="disjoint"):
        signal_in_intervals(np.ones(10, dtype=np.float32), np.array([0, 3]), np.array([5, 8]))


def test_frip_is_exact_with_overlapping_peaks_and_excluded_chromosome(tmp_path: Path) -> None:
    v1 = np.ones(SIZES["chr1"], dtype=np.float32)
    v1[1000:1100] = 9.0  # inside both overlapping peaks: counted once
    v2 = np.full(SIZES["chr2"], 2.0, dtype=np.float32)
    bw = write_bigwig(tmp_path / "s.bw", {"chr1": v1, "chr2": v2})
    peaks = write_peaks(tmp_path / "s.narrowPeak",
                        [("chr1", 900, 1100), ("chr1", 1000, 1200), ("chr2", 0, 500)])
    # chr2 not kept: neither its signal nor its peak counts
    r = sample_library_qc("s", "ATAC", bw, peaks, SIZES, ["chr1"], annotation_tss(
        None, SIZES, ["chr1"])[0], LibraryQCSettings.from_config(SMALL))
    inside = float(v1[900:1200].sum())
    assert r.signal_in_peaks == inside
    assert r.signal_total == float(v1.sum())
    assert r.frip == pytest.approx(inside / float(v1.sum()), rel=1e-12)
    assert r.n_peaks == 1


def test_merged_peaks_harmonises_names_and_clips(tmp_path: Path) -> None:
    peaks = write_peaks(tmp_path / "p.bed", [("1", 19_900, 20_500), ("1", 100, 200)])
    out = merged_peaks(peaks, SIZES, ["chr1"])
    assert out["chr1"][0].tolist() == [100, 19_900]
    assert out["chr1"][1].tolist() == [200, 20_000]


# --------------------------------------------------------------------------- TSS enrichment


def test_tss_enrichment_of_a_block_is_exact() -> None:
    flank, n = 500, 20_000
    v = np.ones(n, dtype=np.float32)
    tss = np.array([2000, 6000, 10_000, 14_000])
    for t in tss:
        v[t - 5:t + 6] = 10.0  # 11 bp at 10x the background, centred on the TSS
    prof = tss_window_profile(v, tss, np.zeros(4, dtype=bool), flank)
    assert prof.n_tss == prof.n_complete == 4
    assert prof.count.tolist() == [4] * (2 * flank + 1)
    res = tss_enrichment(prof, norm_width=50, smooth=11, centre_width=100)
    assert res.note == ""
    assert res.score == pytest.approx(10.0)  # the 11-bp average over the block
    assert res.enrichment[0] == pytest.approx(1.0)
    assert int(np.argmax(res.smoothed)) == flank


def test_minus_strand_windows_are_reversed() -> None:
    flank, n = 500, 10_000
    v = np.zeros(n, dtype=np.float32) + 1.0
    v[2100] = 50.0  # 100 bp downstream of a + TSS at 2000
    v[7900] = 50.0  # 100 bp downstream of a - TSS at 8000
    prof = tss_window_profile(v, np.array([2000, 8000]), np.array([False, True]), flank)
    mean = prof.total / prof.count
    assert mean[flank + 100] == pytest.approx(50.0)  # both TSSs put their peak at +100
    assert mean[flank - 100] == pytest.approx(1.0)
    only_minus = tss_window_profile(v, np.array([8000]), np.array([True]), flank)
    assert int(np.argmax(only_minus.total)) - flank == 100


def test_tss_near_chromosome_ends_uses_the_bases_inside() -> None:
    flank, n = 500, 3000
    v = np.arange(n, dtype=np.float32)
    prof = tss_window_profile(v, np.array([10, 1500, n - 1]), np.array([False, False, True]),
                              flank)
    assert prof.n_tss == 3 and prof.n_complete == 1
    offsets = prof.offsets
    # offset o: TSS 10 covers o >= -10; TSS 1500 all; the minus TSS at n-1 covers o >= 0
    expected_count = 1 + (offsets >= -10) + (offsets >= 0)
    assert prof.count.tolist() == expected_count.tolist()
    o = 20
    expected = (10 + o) + (1500 + o) + (n - 1 - o)
    assert prof.total[flank + o] == expected


def test_no_data_bases_can_be_left_out_of_the_profile(tmp_path: Path) -> None:
    # data over chr1:0-3000 only (a windows-only track): background 1, 10x at the TSS
    v = np.ones(3000, dtype=np.float32)
    v[1995:2006] = 10.0
    path = tmp_path / "window.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chr1", SIZES["chr1"])])
    bw.addEntries("chr1", 0, values=v.astype(float).tolist(), span=1, step=1)
    bw.close()
    peaks = write_peaks(tmp_path / "p.bed", [("chr1", 1900, 2100)])
    # one TSS with its window inside the data, one with half its window past the data
    tss = pd.DataFrame({"chrom": ["chr1", "chr1"], "tss": [2000, 2800], "minus": [False, False]})
    missing = sample_library_qc("w", "DNase", path, peaks, SIZES, ["chr1"], tss,
                                LibraryQCSettings.from_config({**SMALL, "no_data": "missing"}))
    assert missing.profile.n_complete == 1
    assert missing.profile.count[-1] == 1  # +500 of the second TSS has no data
    assert missing.profile.count[0] == 2
    zero = sample_library_qc("w", "DNase", path, peaks, SIZES, ["chr1"], tss,
                             LibraryQCSettings.from_config(SMALL))
    assert zero.profile.n_complete == 2 and zero.profile.count[-1] == 2
    # zero: the flank's mean (1 + 1 + 1 + 0)/4 = 0.75 on the right-hand side inflates the score
    assert missing.tss.score < zero.tss.score
    assert missing.frip == zero.frip


def test_tss_enrichment_not_available_cases() -> None:
    empty = TssProfile.empty(500)
    assert math.isnan(tss_enrichment(empty, 50, 11, 100).score)
    assert "no TSS" in tss_enrichment(empty, 50, 11, 100).note
    v = np.zeros(5000, dtype=np.float32)
    v[2500] = 3.0
    zero_flanks = tss_window_profile(v, np.array([2500]), np.array([False]), 500)
    res = tss_enrichment(zero_flanks, 50, 11, 100)
    assert math.isnan(res.score) and "no signal in the outer 50 bp" in res.note
    few = tss_enrichment(zero_flanks, 50, 11, 100, min_tss=2)
    assert math.isnan(few.score) and "only 1 TSS windows" in few.note


def test_moving_average_keeps_means_and_ignores_nan() -> None:
    x = np.array([1.0, 1.0, 4.0, 1.0, 1.0])
    assert moving_average(x, 3).tolist() == pytest.approx([1.0, 2.0, 2.0, 2.0, 1.0])
    assert moving_average(np.array([np.nan, 2.0, 4.0]), 3)[0] == 2.0
    with pytest.raises(ValueError, match="odd"):
        moving_average(x, 4)


# ------------------------------------------------------------------------------- inputs


def test_annotation_tss_is_strand_aware_and_filtered(tmp_path: Path) -> None:
    gtf = write_gtf(tmp_path / "g.gtf", [("1", 1000, 3000, "+"), ("1", 5000, 7000, "-"),
                                         ("2", 100, 900, "+"), ("1", 1000, 2000, "+")])
    tss, note = annotation_tss(gtf, SIZES, ["chr1"])
    assert note == ""
    # renamed 1 -> chr1; chr2 not kept; the duplicate TSS once
    assert tss.to_dict("list") == {"chrom": ["chr1", "chr1"], "tss": [1000, 6999],
                                   "minus": [False, True]}


def test_no_annotation_gives_nan_with_a_reason(tmp_path: Path) -> None:
    v = np.ones(SIZES["chr1"], dtype=np.float32)
    bw = write_bigwig(tmp_path / "s.bw", {"chr1": v})
    peaks = write_peaks(tmp_path / "s.bed", [("chr1", 0, 2000)])
    tss, note = annotation_tss(None, SIZES, ["chr1"])
    assert tss.empty and "no annotation" in note
    r = sample_library_qc("s", "ATAC", bw, peaks, SIZES, ["chr1"], tss,
                          LibraryQCSettings.from_config(SMALL), note)
    assert r.frip == pytest.approx(0.1)
    assert math.isnan(r.tss.score) and "no annotation" in r.tss.note
    table = library_qc_table([r], "GRCh38")
    row = table[(table["metric"] == "tss_enrichment") & (table["task"] == "s")].iloc[0]
    assert math.isnan(row["value"]) and "no annotation" in row["note"]


def test_a_signal_that_is_not_counts_is_noted(tmp_path: Path) -> None:
    v = np.full(SIZES["chr1"], 0.37, dtype=np.float32)  # e.g. a p-value track
    bw = write_bigwig(tmp_path / "pval.bw", {"chr1": v})
    peaks = write_peaks(tmp_path / "s.bed", [("chr1", 0, 2000)])
    r = sample_library_qc("s", "ATAC", bw, peaks, SIZES, ["chr1"], annotation_tss(
        None, SIZES, ["chr1"])[0], LibraryQCSettings.from_config(SMALL))
    assert not r.counts and r.frip == pytest.approx(0.1)
    notes = library_qc_table([r], "GRCh38").set_index(["metric", "task"])["note"]
    assert "not whole counts" in notes["frip", "s"]


def test_annotation_of_another_assembly_is_an_error(tmp_path: Path) -> None:
    gtf = write_gtf(tmp_path / "g.gtf", [("chrX", 1000, 3000, "+")])
    with pytest.raises(InputError, match="no chromosome of the annotation") as exc:
        annotation_tss(gtf, SIZES, ["chr1"])
    assert str(gtf) in str(exc.value) and "fix:" in str(exc.value)
    past = write_gtf(tmp_path / "past.gtf", [("chr1", 25_000, 26_000, "+")])
    with pytest.raises(InputError, match="past the chromosome's end"):
        annotation_tss(past, SIZES, ["chr1"])


def test_tss_chromosome_missing_from_bigwig_names_file_and_fix(tmp_path: Path) -> None:
    bw = write_bigwig(tmp_path / "only_chr1.bw", {"chr1": np.ones(SIZES["chr1"])})
    peaks = write_peaks(tmp_path / "s.bed", [("chr1", 0, 100)])
    gtf = write_gtf(tmp_path / "g.gtf", [("chr1", 1000, 3000, "+"), ("chr2", 4000, 5000, "-")])
    tss, _ = annotation_tss(gtf, SIZES, ["chr1", "chr2"])
    with pytest.raises(InputError, match="no data for chromosome chr2, which has 1 TSSs") as exc:
        sample_library_qc("s", "ATAC", bw, peaks, SIZES, ["chr1", "chr2"], tss,
                          LibraryQCSettings.from_config(SMALL))
    assert str(bw) in str(exc.value) and "exclude_chromosomes" in str(exc.value)


def test_settings_agree_with_schema_and_check_widths() -> None:
    assert {f.name for f in fields(LibraryQCSettings)} == schema_fields("library_qc")
    default = LibraryQCSettings.from_config({})
    assert (default.flank, default.norm_width, default.smooth) == (2000, 100, 11)
    assert default.no_data == "zero"
    with pytest.raises(ConfigError, match=r"library_qc\.smooth"):
        LibraryQCSettings.from_config({"smooth": 10})
    with pytest.raises(ConfigError, match=r"library_qc\.norm_width"):
        LibraryQCSettings.from_config({"flank": 200, "norm_width": 300})


# ------------------------------------------------------------------------ table and gates


def _study(tmp_path: Path) -> Path:
    """A plan with an ATAC sample (TSS block 10x, FRiP known) and a flat DNase sample."""
    rng = np.random.default_rng(0)
    tss = [2000, 6000, 10_000, 14_000]
    atac = {c: np.ones(n, dtype=np.float32) for c, n in SIZES.items()}
    for t in tss:
        atac["chr1"][t - 5:t + 6] = 10.0
    dnase = {c: rng.integers(1, 3, n).astype(np.float32) for c, n in SIZES.items()}
    genes = [("chr1", t, t + 500, "+") for t in tss]
    gtf = write_gtf(tmp_path / "genes.gtf", genes)
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    samples = []
    for name, assay, tracks in (("a", "ATAC", atac), ("d", "DNase", dnase)):
        samples.append({"name": name, "assay": assay, "cell_type": "x",
                        "bigwig": str(write_bigwig(tmp_path / f"{name}.bw", tracks)),
                        "peaks": str(write_peaks(tmp_path / f"{name}.bed",
                                                 [("chr1", 0, 4000), ("chr2", 0, 1200)]))})
    (plan_dir / "plan.json").write_text(json.dumps({
        "study": "toy", "chromosomes": list(SIZES), "sizes": SIZES, "samples": samples,
        "params": {"negative_signal": "error"}}))
    return gtf


def test_run_writes_table_profiles_figure_and_provenance(tmp_path: Path) -> None:
    gtf = _study(tmp_path)
    out = tmp_path / "qc"
    table = run_library_qc(tmp_path / "plan", gtf, "GRCh38", LibraryQCSettings.from_config(SMALL),
                           out / "library_qc.tsv", out / "profiles.tsv", out / "library_qc.svg")
    from seq2func.core.tables import read_metric_table

    back = read_metric_table(out / "library_qc.tsv")
    assert len(back) == len(table) == 3 * 2 + 2 * 2
    frip_a = back.query("metric == 'frip' and task == 'a'")["value"].iloc[0]
    total = float(sum(SIZES.values())) + 4 * 11 * 9
    # peaks chr1:0-4000 (one TSS block inside) and chr2:0-1200
    assert frip_a == pytest.approx((4000 + 11 * 9 + 1200) / total, rel=1e-5)
    tss_a = back.query("metric == 'tss_enrichment' and task == 'a'")["value"].iloc[0]
    assert tss_a == pytest.approx(10.0, rel=1e-5)
    assert set(back["assembly"]) == {"GRCh38"}
    worst = back.query("model == 'DNase' and task == 'all' and metric == 'frip'")
    assert worst["aggregation"].iloc[0] == "min over samples"
    profiles = pd.read_csv(out / "profiles.tsv", sep="\t")
    assert len(profiles) == 2 * (2 * SMALL["flank"] + 1)
    assert (out / "library_qc.svg").stat().st_size > 0
    prov = json.loads((out / "library_qc.tsv.provenance.json").read_text())
    assert prov["step"] == "library-qc"


def test_gates_read_the_table_and_skip_other_assemblies(tmp_path: Path) -> None:
    gtf = _study(tmp_path)
    out = tmp_path / "qc"
    run_library_qc(tmp_path / "plan", gtf, "sacCer3", LibraryQCSettings.from_config(SMALL),
                   out / "library_qc.tsv", out / "profiles.tsv")
    base = {"table": "library_qc", "aggregation": "min over samples", "op": ">="}
    gates = [{**base, "name": "frip_atac", "metric": "frip", "model": "ATAC", "threshold": 0.15},
             {**base, "name": "frip_dnase", "metric": "frip", "model": "DNase",
              "threshold": 0.9},
             {**base, "name": "tss_grch38", "metric": "tss_enrichment", "model": "ATAC",
              "assembly": "GRCh38", "threshold": 5},
             {**base, "name": "tss_saccer3", "metric": "tss_enrichment", "model": "ATAC",
              "assembly": "sacCer3", "threshold": 5}]
    result = evaluate_gates(gates, {"library_qc": out / "library_qc.tsv"}).set_index("gate")
    assert result["status"].to_dict() == {"frip_atac": "PASS", "frip_dnase": "FAIL",
                                          "tss_grch38": "NOT RUN", "tss_saccer3": "PASS"}
    assert "this study's is sacCer3" in result.loc["tss_grch38", "detail"]


def test_an_assembly_gate_on_a_table_without_assemblies_is_a_config_error(tmp_path: Path
                                                                          ) -> None:
    gtf = _study(tmp_path)
    out = tmp_path / "qc"
    table = run_library_qc(tmp_path / "plan", gtf, "GRCh38", LibraryQCSettings.from_config(SMALL),
                           out / "library_qc.tsv", out / "profiles.tsv")
    plain = tmp_path / "plain.tsv"
    table.drop(columns=["assembly"]).to_csv(plain, sep="\t", index=False)
    gate = {"name": "tss", "table": "library_qc", "metric": "tss_enrichment", "model": "ATAC",
            "aggregation": "min over samples", "assembly": "GRCh38", "threshold": 5}
    with pytest.raises(ConfigError, match="has no assembly column"):
        evaluate_gates([gate], {"library_qc": plain})


def test_every_study_gets_the_library_gates_whatever_its_models() -> None:
    from seq2func.evaluate.gates import baseline_gates

    library = [{"name": "library_frip_atac", "table": "library_qc", "metric": "frip",
                "model": "ATAC", "threshold": 0.2}]
    templates = {"basset": [{"name": "{model}_x", "table": "accessibility", "metric": "auROC",
                             "model": "{model}", "threshold": 0.5}], "library": library}
    names = [g["name"] for g in baseline_gates(templates, {"b": "basset"}, [])]
    assert names == ["b_x", "library_frip_atac"]
    assert [g["name"] for g in baseline_gates(templates, {}, [])] == ["library_frip_atac"]
