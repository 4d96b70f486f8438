"""SimulationConfig: the simulate section with the schema's defaults, which are the values (and
types: they appear in truth/simulation.json) the simulator always had."""

from __future__ import annotations

import json
from dataclasses import fields
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from conftest import SMALL_SIMULATION
from seq2func.core.errors import ConfigError
from seq2func.core.settings import schema_fields
from seq2func.simulate import SimulationConfig
from seq2func.simulate.markov import DEFAULT_MODEL, load_markov, save_markov

#: the defaults of the simulator before the schema became their one source
DEFAULTS = {"seed": 1, "chromosomes": {"chr1": 2_000_000, "chr2": 1_500_000, "chr3": 1_200_000,
                                       "chr4": 1_000_000, "chr5": 800_000},
            "repeat_fraction": 0.5, "enhancers_per_mb": 120.0, "ctcf_per_mb": 30.0,
            "decoys_per_mb": 60.0, "orphan_cgi_per_mb": 10.0, "isochore_gc_sd": 0.12,
            "genes_per_mb": 80.0, "cgi_fraction": 0.7, "depth": 100.0, "enzyme_bias_sd": 0.6,
            "background_rate": 0.04,
            "artefacts_per_chromosome": 1, "n_variants": 2000, "peak_min_log10p": 5.0}


def test_fields_are_the_schema_properties() -> None:
    assert {f.name for f in fields(SimulationConfig)} == schema_fields("simulate")


def test_defaults_keep_their_values_and_types() -> None:
    cfg = SimulationConfig.from_config({}).to_config()
    assert json.dumps(cfg, sort_keys=True) == json.dumps(DEFAULTS, sort_keys=True)


def test_given_values_win_and_are_validated() -> None:
    cfg = SimulationConfig.from_config(SMALL_SIMULATION)
    assert (cfg.seed, cfg.chromosomes, cfg.n_variants, cfg.depth) == (
        7, SMALL_SIMULATION["chromosomes"], 300, 100.0)
    with pytest.raises(ConfigError, match=r"(?s)'simulate\.dept'.*did you mean 'depth'"):
        SimulationConfig.from_config({"dept": 10})
    with pytest.raises(ConfigError, match=r"simulate\.chromosomes"):
        SimulationConfig.from_config({"chromosomes": {"chr1": 10}})


def test_save_markov_writes_the_shipped_format(tmp_path: Path) -> None:
    counts = load_markov()
    save_markov(tmp_path / "m.tsv", counts)
    np.testing.assert_array_equal(load_markov(tmp_path / "m.tsv"), counts)
    shipped = files("seq2func.simulate.data").joinpath(DEFAULT_MODEL).read_text()
    assert (tmp_path / "m.tsv").read_text() == shipped
