"""The workflow's choice of rule per signal: bigWigs are ingested (ingest_signal), BAM and
fragment files are counted into cut sites (cutsites_signal), which feed preprocessing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from conftest import REPO, snakemake_cmd, url_study

SAMPLES = [
    ("A", "ATAC", "https://example.org/a.bw", ""),
    ("B", "DNase", "https://example.org/b.bam", ""),
    ("C", "ATAC", "https://example.org/pbmc_atac_fragments.tsv.gz", ""),
    ("D", "ATAC", "https://example.org/d.txt.gz", "bedpe"),
]


def _study(tmp_path: Path, samples: list[tuple[str, str, str, str]]) -> Path:
    table = tmp_path / "samples.tsv"
    table.write_text("sample\tcell_type\tassay\tsignal\tsignal_format\tpeaks\n" + "".join(
        f"{s}\tx\t{assay}\t{signal}\t{fmt}\thttps://example.org/{s}.bed.gz\n"
        for s, assay, signal, fmt in samples))
    cfg = tmp_path / "study.yaml"
    cfg.write_text(yaml.safe_dump(url_study("cutsites", table,
                                            cutsites={"shift_fragments": [0, 1]})))
    return cfg


def _dry_run(cfg: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(snakemake_cmd("-n", "--forceall", "-p", "--configfile", str(cfg)),
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_reads_become_cut_sites_before_preprocessing(tmp_path: Path) -> None:
    res = _dry_run(_study(tmp_path, SAMPLES))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    assert counts["ingest_signal"] == "1" and counts["cutsites_signal"] == "3", counts
    commands = re.findall(r"^Shell command: seq2func cutsites .*$", out, flags=re.M)
    assert len(commands) == 3
    by_sample = {re.search(r"signal/(\w)\.bw", c).group(1): c for c in commands}
    assert "--format bam --assay DNase" in by_sample["B"]
    assert "--format fragments --assay ATAC" in by_sample["C"]
    assert "--format bedpe" in by_sample["D"]
    assert '"shift_fragments": [0, 1]' in by_sample["C"]
    assert re.search(r"^Shell command: seq2func ingest bigwig .*signal/A\.bw", out, flags=re.M)
    # every sample's signal bigWig is an input of the preprocessing plan
    plan = re.search(r"^Shell command: seq2func preprocess-plan .*$", out, flags=re.M).group(0)
    assert all(f"signal/{s}.bw" in plan for s in "ABCD")


def test_a_signal_of_unknown_format_names_the_sample(tmp_path: Path) -> None:
    res = _dry_run(_study(tmp_path, [("A", "ATAC", "https://example.org/a.txt.gz", "")]))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "sample A, column signal" in out and "cannot tell the format of 'a.txt.gz'" in out
