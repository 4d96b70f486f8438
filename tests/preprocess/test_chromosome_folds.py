"""Automatic chromosome folds (split.folds: k) and which folds accessibility.folds trains."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import dataset_json as load_metadata
from conftest import dataset_regions as load_regions
from preprocess_inputs import SMALL_PARAMS, SPLIT, make_study
from seq2func.core.errors import ConfigError
from seq2func.preprocess import PreprocessSettings, run_all, samples_from_table
from seq2func.preprocess.folds import chromosome_folds, fold_names, training_folds

YEAST = {"chrI": 230_218, "chrII": 813_184, "chrIII": 316_620, "chrIV": 1_531_933,
         "chrV": 576_874, "chrVI": 270_161, "chrVII": 1_090_940, "chrVIII": 562_643,
         "chrIX": 439_888, "chrX": 745_751, "chrXI": 666_816, "chrXII": 1_078_177,
         "chrXIII": 924_431, "chrXIV": 784_333, "chrXV": 1_091_291, "chrXVI": 948_066}


def test_every_chromosome_is_tested_by_exactly_one_fold_and_folds_are_balanced() -> None:
    folds = chromosome_folds(YEAST, 5)
    assert [f["name"] for f in folds] == [f"fold_{i}" for i in range(5)]
    tested = [c for f in folds for c in f["test"]]
    assert sorted(tested) == sorted(YEAST)
    for i, f in enumerate(folds):
        # validation is the next fold's test set; nothing overlaps
        assert f["valid"] == folds[(i + 1) % 5]["test"]
        assert not set(f["valid"]) & set(f["test"])
        train = set(YEAST) - set(f["valid"]) - set(f["test"])
        assert len(train) >= 8
    bases = [sum(YEAST[c] for c in f["test"]) for f in folds]
    assert max(bases) / min(bases) < 1.25
    # chromosomes keep the genome's order inside a fold; the same input gives the same folds
    order = list(YEAST)
    assert all(f["test"] == sorted(f["test"], key=order.index) for f in folds)
    assert chromosome_folds(YEAST, 5) == folds


@pytest.mark.parametrize("k", [2, 17])
def test_fold_count_out_of_range(k: int) -> None:
    with pytest.raises(ValueError, match="folds need 3 <= k <= the 16"):
        chromosome_folds(YEAST, k)


def test_training_folds_from_a_number_or_names() -> None:
    split = {"valid": ["chrV"], "test": ["chrI"]}
    # a number without split.folds: automatic folds are added to the split to preprocess
    eff, names = training_folds(split, 4)
    assert eff["folds"] == 4 and names == fold_names(4) == ["fold_0", "fold_1", "fold_2",
                                                            "fold_3"]
    assert "folds" not in split  # the config is not modified
    # a number with split.folds: the first k of them
    listed = {**split, "folds": [{"name": "a", "valid": ["chrII"], "test": ["chrIII"]},
                                 {"name": "b", "valid": ["chrIII"], "test": ["chrII"]}]}
    assert training_folds(listed, 1) == (listed, ["a"])
    assert training_folds({**split, "folds": 5}, 3)[1] == ["fold_0", "fold_1", "fold_2"]
    assert training_folds(listed, ["b"]) == (listed, ["b"])
    assert training_folds(listed, []) == (listed, [])
    with pytest.raises(ConfigError, match=r"3 folds asked for, split\.folds has 2"):
        training_folds(listed, 3)
    with pytest.raises(ConfigError, match=r"fold\(s\) c not in split.folds \(a, b\)"):
        training_folds(listed, ["c"])


def test_automatic_folds_are_stored_in_the_dataset(tmp_path: Path) -> None:
    study = make_study(tmp_path / "study")
    samples = samples_from_table(study.samples_table, [str(b) for b in study.bigwigs],
                                 [str(x) for x in study.peaks])
    run_all(study.genome, samples, PreprocessSettings.from_config(SMALL_PARAMS),
            {**SPLIT, "folds": 3}, tmp_path / "out", study.blacklist)
    meta = load_metadata(tmp_path / "out")
    assert [f["name"] for f in meta["folds"]] == ["fold_0", "fold_1", "fold_2"]
    tests = [tuple(f["split"]["test"]) for f in meta["folds"]]
    assert sorted(c for t in tests for c in t) == sorted(meta["split"]["train"]
                                                        + meta["split"]["valid"]
                                                        + meta["split"]["test"])
    for f in meta["folds"]:
        r = load_regions(tmp_path / "out", "test", fold=f["name"])
        assert set(r["chrom"]) == set(f["split"]["test"])


def test_a_fold_without_training_chromosomes_names_its_key(tmp_path: Path) -> None:
    from seq2func.preprocess.plan import choose_chromosomes

    sizes = {"chr1": 100, "chr2": 100, "chr3": 100}
    split = {"valid": ["chr2"], "test": ["chr3"],
             "folds": [{"name": "x", "valid": ["chr1", "chr2"], "test": ["chr3"]}]}
    with pytest.raises(ConfigError) as exc:
        choose_chromosomes(sizes, PreprocessSettings.from_config(SMALL_PARAMS), split)
    assert "split.folds[0]" in str(exc.value) and "no chromosome left for training" in str(
        exc.value)
