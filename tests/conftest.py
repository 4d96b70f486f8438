"""Shared fixtures: repository paths, a small simulated demo study, helpers to run Snakemake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

# the `slurm_cluster` fixture (a real single-node SLURM cluster) for any test module
pytest_plugins = ["slurm_cluster"]

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
MOTIFS = REPO / "resources" / "motifs" / "jaspar2024_demo.jaspar"

#: a small genome for fast tests (the default demo is 8 Mb)
SMALL_SIMULATION = {
    "seed": 7,
    "chromosomes": {"chr1": 500_000, "chr2": 400_000, "chr3": 300_000},
    "n_variants": 300,
}

#: one tiny model of each family and one seed: the DAG of the default run, trained in seconds
TINY_ACCESSIBILITY = {
    "seeds": [1],
    "models": {
        "basset": {"architecture": "basset", "conv_filters": [16], "conv_kernels": [9],
                   "pool_sizes": [8], "dense_units": 8},
        "bpnet": {"architecture": "bpnet", "filters": 8, "n_dilated_layers": 2,
                  "profile_kernel": 15},
    },
    "train": {"max_epochs": 1},
}

#: the default config's grammar experiments on TINY_ACCESSIBILITY's basset (the default
#: config names chrombpnet, which TINY_ACCESSIBILITY does not train)
_TINY_GRAMMAR = {**yaml.safe_load((REPO / "config" / "config.yaml").read_text())
                 ["interpret"]["grammar"], "models": ["basset"]}

#: the later stages at test size (fewer epochs, peaks and bootstrap replicates)
FAST_STAGES = {
    "expression": {"train": {"max_epochs": 3}, "n_bootstrap": 50},
    "interpret": {"peaks_per_task": 100, "ism_peaks_per_task": 3, "grammar": _TINY_GRAMMAR},
    "evaluate": {"bootstrap": 50},
}


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def demo_samples() -> pd.DataFrame:
    from seq2func.core.config import load_samples

    return load_samples(REPO / "config" / "samples.tsv",
                        REPO / "workflow" / "schemas" / "samples.schema.yaml")


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory, demo_samples: pd.DataFrame):
    """A small simulated study: ``(DemoPaths, summary)``."""
    from seq2func.simulate import DemoPaths, SimulationConfig, simulate_demo

    out = tmp_path_factory.mktemp("small_demo")
    summary = simulate_demo(SimulationConfig.from_config(SMALL_SIMULATION), demo_samples, MOTIFS,
                            out, progress=False)
    return DemoPaths(out), summary


def snakemake_cmd(*args: str) -> list[str]:
    """``python -m snakemake`` with the current interpreter (works in any venv)."""
    return [sys.executable, "-m", "snakemake", *args]


def make_workdir(tmp: Path, config_overrides: dict | None = None) -> Path:
    """A working directory with the repo's config (optionally overridden) and motif set."""
    (tmp / "config").mkdir(parents=True, exist_ok=True)
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for key, value in (config_overrides or {}).items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    (tmp / "config" / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    shutil.copy(REPO / "config" / "samples.tsv", tmp / "config" / "samples.tsv")
    (tmp / "resources" / "motifs").mkdir(parents=True, exist_ok=True)
    shutil.copy(MOTIFS, tmp / "resources" / "motifs" / MOTIFS.name)
    return tmp


def random_genome(directory: Path, lengths: dict[str, int], seed: int = 0):
    """A FASTA of uniform random bases (chromosomes drawn in order from one seeded generator)
    in ``directory``, opened as a :class:`seq2func.core.sequence.Genome`."""
    import numpy as np

    from seq2func.core.sequence import Genome

    rng = np.random.default_rng(seed)
    seqs = {c: "".join("ACGT"[i] for i in rng.integers(0, 4, n)) for c, n in lengths.items()}
    fa = directory / "g.fa"
    fa.write_text("".join(f">{k}\n{v}\n" for k, v in seqs.items()))
    return Genome(fa)


def url_study(name: str, samples: Path, **download: object) -> dict:
    """The smallest download study over ``samples``: example.org URLs for the genome,
    blacklist and GFF3, chr1-chr3 split valid chr2 / test chr1 (``download`` keys added or
    replaced). For dry runs and start-up checks: nothing is fetched."""
    return {"study": name, "source": "download", "samples": str(samples),
            "download": {"genome": "https://example.org/g.fa.gz",
                         "chromosomes": ["chr1", "chr2", "chr3"],
                         "blacklist": "https://example.org/b.bed.gz",
                         "annotation": "https://example.org/a.gff3.gz", "assembly": None,
                         **download},
            "split": {"valid": ["chr2"], "test": ["chr1"]}}


def run_snakemake(workdir: Path, *args: str, timeout: int = 1800
                  ) -> subprocess.CompletedProcess[str]:
    """Run the repository's Snakefile in ``workdir`` with its config/config.yaml."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return subprocess.run(
        snakemake_cmd("-s", str(REPO / "Snakefile"), "-d", str(workdir), "--configfile",
                      str(workdir / "config" / "config.yaml"), *args),
        capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir)


def dataset_json(dataset_dir: str | Path) -> dict:
    """The raw ``dataset.json`` mapping (the on-disk contract the tests check)."""
    import json

    return json.loads((Path(dataset_dir) / "dataset.json").read_text())


def dataset_regions(dataset_dir: str | Path, split: str | None = None,
                    fold: str | None = None) -> pd.DataFrame:
    """``regions.tsv.gz`` of a dataset, optionally one split, as the package reads it."""
    from seq2func.dataset import Dataset

    return Dataset(dataset_dir).regions(split, fold)
