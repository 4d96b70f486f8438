"""The workflow follows Snakemake conventions: lint clean, snakefmt clean, complete rules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from rule_bodies import rule_bodies

from conftest import REPO, snakemake_cmd

SMK_FILES = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]


def test_snakemake_lint_is_clean() -> None:
    res = subprocess.run(snakemake_cmd("--lint"), cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "Congratulations, your workflow is in a good condition!" in out, out


def test_snakefmt_check_is_clean() -> None:
    res = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "--diff", "."], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr


def _rules(path: Path) -> list[tuple[str, str]]:
    """(name, body) of every rule and checkpoint in a Snakemake file (derived rules with
    their parent's body: see ``rule_bodies``)."""
    return [(name, body) for _, name, body in rule_bodies(SMK_FILES) if _ == path]


def _listed_rules(*config_args: str) -> list[str]:
    """The rules `snakemake --list` reports for a config."""
    res = subprocess.run(snakemake_cmd("--list", *config_args), cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout.split()


def test_rule_parser_finds_every_rule(tmp_path: Path) -> None:
    """The parser above (and so the checks below) sees every rule Snakemake sees. The demo
    includes every file but download.smk; a downloaded study (with a VCF, so that
    ingest_variants exists) includes download.smk but not simulate.smk and not the demo-only
    rules inside `if SIMULATED:` blocks; together they list every rule of every file."""
    found = {p.name: [name for name, _ in _rules(p)] for p in SMK_FILES}
    everywhere = [n for names in found.values() for n in names]
    assert len(everywhere) == len(set(everywhere)), "a rule name appears twice"
    demo = sorted(n for file, names in found.items() if file != "download.smk" for n in names)
    listed = sorted(_listed_rules())
    assert len(demo) == len(listed), (demo, listed)
    assert demo == listed
    overlay = tmp_path / "with_vcf.yaml"
    overlay.write_text("download:\n  variants: https://example.org/study/variants.vcf.gz\n")
    download = _listed_rules("--configfile", "config/encode_hg38.yaml", str(overlay))
    assert "ingest_variants" in download and "simulate_demo" not in download
    assert sorted(everywhere) == sorted(set(listed) | set(download))


def test_every_rule_declares_log_conda_threads_resources() -> None:
    rules = [(p, name, body) for p in SMK_FILES for name, body in _rules(p)]
    assert rules, "no rules found"
    problems = []
    for path, name, body in rules:
        if name == "all" or re.search(r"^\s+localrule: True", body, flags=re.M):
            continue
        for directive in ("log:", "conda:", "threads:", "resources:", "mem_mb=", "runtime="):
            if directive not in body:
                problems.append(f"{path.name}: rule {name} lacks {directive}")
        env = re.search(r'conda:\n\s+"([^"]+)"', body)
        if env and not (path.parent / env.group(1)).resolve().exists():
            problems.append(f"{path.name}: rule {name} names missing env {env.group(1)}")
    assert not problems, "\n".join(problems)


def test_dry_run_default_config() -> None:
    res = subprocess.run(snakemake_cmd("-n", "--forceall", "--quiet", "rules"), cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "simulate_demo" in res.stdout + res.stderr


def test_a_model_entry_max_epochs_overrides_the_training_section() -> None:
    """models.<name>.max_epochs reaches that model's training job only."""
    import yaml

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    acc = cfg["accessibility"]
    own = acc["models"]["chrombpnet"]["max_epochs"]
    assert own != acc["train"]["max_epochs"]
    res = subprocess.run(snakemake_cmd("-n", "-p", "--forceall",
                                       "results/demo/models/accessibility/chrombpnet/seed1/model.keras",
                                       "results/demo/models/accessibility/basset/seed1/model.keras"),
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-2000:]
    jobs = [line for line in out.splitlines() if "seq2func train-accessibility" in line]
    by_model = {m: [j for j in jobs if f"--name {m} " in j] for m in ("chrombpnet", "basset")}
    assert f'"max_epochs": {own},' in by_model["chrombpnet"][0]
    assert f'"max_epochs": {acc["train"]["max_epochs"]},' in by_model["basset"][0]
