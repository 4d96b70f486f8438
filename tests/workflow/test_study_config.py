"""A study's --configfile starts from the schema's defaults, not from the demo.

``snakemake`` alone runs the demo (config/config.yaml); ``--configfile study.yaml`` reads only
the study (every key it leaves unset: its schema default); ``--configfile config/config.yaml
study.yaml`` extends the demo. Checked on the commands a dry run prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from conftest import MOTIFS, REPO, snakemake_cmd

STUDY = {"study": "mini", "source": "simulate", "samples": "config/samples.tsv",
         "simulate": {"chromosomes": {"chr1": 300_000, "chr2": 300_000, "chr3": 300_000}},
         "split": {"valid": ["chr2"], "test": ["chr1"]}}


def _dry_run(wd: Path, *configfiles: str) -> str:
    study = "mini" if "study.yaml" in configfiles else "demo"
    args = ["--configfile", *configfiles] if configfiles else []
    res = subprocess.run(
        snakemake_cmd("-s", str(REPO / "Snakefile"), "-d", str(wd), "-n", "-p", *args,
                      "--", f"resources/{study}/genome/chrom.sizes"),
        capture_output=True, text=True, timeout=300, cwd=wd,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    return out


def _simulate_params(out: str) -> dict:
    line = next(line for line in out.splitlines() if "seq2func simulate" in line)
    return json.loads(re.search(r"--params '([^']*)'", line).group(1))


def _workdir(tmp: Path) -> Path:
    (tmp / "config").mkdir()
    for name in ("config.yaml", "samples.tsv"):
        shutil.copy(REPO / "config" / name, tmp / "config" / name)
    (tmp / "resources" / "motifs").mkdir(parents=True)
    shutil.copy(MOTIFS, tmp / "resources" / "motifs" / MOTIFS.name)
    (tmp / "study.yaml").write_text(yaml.safe_dump(STUDY, sort_keys=False))
    return tmp


def test_a_study_reads_the_schema_defaults_not_the_demo(tmp_path: Path) -> None:
    wd = _workdir(tmp_path)
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    default_depth = schema["properties"]["simulate"]["properties"]["depth"]["default"]
    demo_depth = yaml.safe_load((REPO / "config/config.yaml").read_text())["simulate"]["depth"]
    assert default_depth != demo_depth

    study = _simulate_params(_dry_run(wd, "study.yaml"))
    assert study["depth"] == default_depth
    assert set(study["chromosomes"]) == {"chr1", "chr2", "chr3"}

    # the demo, extended by the study: the demo's depth, the study's chromosomes
    both = _simulate_params(_dry_run(wd, "config/config.yaml", "study.yaml"))
    assert both["depth"] == demo_depth and set(both["chromosomes"]) == {"chr1", "chr2", "chr3"}

    # no --configfile: the demo
    demo = _simulate_params(_dry_run(wd))
    assert demo["depth"] == demo_depth and len(demo["chromosomes"]) == 5
