"""The download workflow: the real study's DAG, and a whole run against a local ENCODE stand-in
(Ensembl-named files in, UCSC-named canonical inputs out), then reruns offline from a mirror."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, run_snakemake, snakemake_cmd, url_study
from encode_server import FakeEncode

CANONICAL = ["genome/genome.fa", "genome/genome.fa.fai", "genome/chrom.sizes",
             "genome/blacklist.bed", "genome/genes.gtf", "expression/expression.tsv",
             "signal/A.bw", "signal/B.bw", "peaks/A.narrowPeak", "peaks/B.narrowPeak"]


def test_dry_run_of_the_encode_study_shows_the_whole_dag() -> None:
    res = subprocess.run(snakemake_cmd("-n", "--forceall", "--configfile",
                                       "config/encode_hg38.yaml"),
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    # genome, blacklist, annotation + 3 samples x (signal, peaks, expression)
    assert counts["download"] == "12"
    for rule, n in [("ingest_genome", "1"), ("ingest_blacklist", "1"),
                    ("ingest_annotation", "1"), ("ingest_signal", "3"), ("ingest_peaks", "3"),
                    ("build_expression", "1")]:
        assert counts[rule] == n, (rule, out[-2000:])
    for acc in ("ENCFF356LFX", "ENCFF357GNC", "ENCFF333TAT", "ENCFF421TJX", "ENCFF262URW",
                "ENCFF439EIO", "ENCFF863QWG", "ENCFF667MDI", "ENCFF748UZH", "ENCFF084FUG",
                "GRCh38_no_alt_analysis_set_GCA_000001405.15", "gencode.v29.annotation"):
        assert acc in out
    assert "simulate_demo" not in out


def test_lint_of_the_encode_study() -> None:
    res = subprocess.run(snakemake_cmd("--lint", "--configfile", "config/encode_hg38.yaml"),
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "Congratulations" in res.stdout + res.stderr, \
        res.stdout + res.stderr


# ----------------------------------------------------------------------------- a whole run

SIZES = {"1": 6000, "2": 4000, "MT": 300, "KI270706.1": 700}


def _fasta_gz(rng: np.random.Generator) -> bytes:
    text = ""
    for name, n in SIZES.items():
        seq = "".join(rng.choice(list("ACGTacgtN"), size=n))
        text += f">{name}\n" + "".join(seq[i:i + 60] + "\n" for i in range(0, n, 60))
    return gzip.compress(text.encode(), mtime=0)


def _bigwig(path: Path, rng: np.random.Generator, ucsc: bool) -> bytes:
    import pyBigWig

    chroms = [("chr1" if ucsc else "1", 6000), ("chr2" if ucsc else "2", 4000)]
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(chroms)
    for c, n in chroms:
        starts = np.arange(0, n, 50, dtype=np.int64)
        bw.addEntries([c] * len(starts), starts, ends=starts + 50,
                      values=np.round(rng.exponential(2, len(starts)), 2))
    bw.close()
    return path.read_bytes()


def _peaks_gz(ucsc: bool) -> bytes:
    c = "chr" if ucsc else ""
    rows = [f"{c}2\t100\t300\t.\t500\t.\t5.5\t12.3\t10.5\t90",
            f"{c}1\t2000\t2400\t.\t1000\t.\t8\t30\t28\t150",
            f"{c}{'M' if ucsc else 'MT'}\t0\t100\t.\t100\t.\t2\t4\t3\t10"]
    return gzip.compress(("\n".join(rows) + "\n").encode(), mtime=0)


GTF = "".join(
    f'{c}\tHAVANA\tgene\t{a}\t{b}\t.\t+\t.\tgene_id "{g}"; gene_name "{n}";\n'
    for c, a, b, g, n in [("chr1", 100, 900, "ENSG00000000001.5", "AAA"),
                          ("chr2", 10, 400, "ENSG00000000002.3", "BBB"),
                          ("chrM", 10, 60, "ENSG00000000004.1", "MT-X"),
                          ("chr1_KI270706v1_random", 1, 50, "ENSG00000000003.1", "CCC")])
RSEM = (b"gene_id\ttranscript_id(s)\tlength\teffective_length\texpected_count\tTPM\tFPKM\n"
        b"ENSG00000000001.5\tT1\t800\t700\t10\t1.5\t3\n"
        b"ENSG00000000002.3\tT2\t390\t300\t10\t20\t40\n"
        b"ENSG00000000004.1\tT3\t50\t30\t1\t3\t6\n"
        b"gSpikein_ERCC-00002\tE\t1000\t900\t5\t5\t10\n")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory):
    """A workdir with a 2-sample study whose files are served by a local fake ENCODE."""
    tmp = tmp_path_factory.mktemp("download_study")
    rng = np.random.default_rng(5)
    server = FakeEncode()
    server.add_encode_file("GRCh38_test_reference", "fasta.gz", _fasta_gz(rng),
                           output_type="genome reference")
    sig_a = server.add_encode_file("TSTFF000SIA", "bigWig",
                                   _bigwig(tmp / "a.bw", rng, ucsc=False))
    server.add_encode_file("TSTFF000PKA", "bed.gz", _peaks_gz(ucsc=False),
                           output_type="pseudoreplicated peaks")
    server.add_encode_file("TSTFF000EXA", "tsv", RSEM, output_type="gene quantifications")
    sig_b_url = server.add_blob("/other/B_signal.bigWig", _bigwig(tmp / "b.bw", rng, ucsc=True))
    annotation_url = server.add_blob("/gencode/genes.gtf.gz", gzip.compress(GTF.encode(),
                                                                            mtime=0))
    vcf_url = server.add_blob("/vcf/variants.vcf.gz", gzip.compress(
        b"##fileformat=VCFv4.2\n##contig=<ID=1>\n##contig=<ID=GL000009.2>\n"
        b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        b"1\t1000\trs1\tA\tG\t.\tPASS\t.\nGL000009.2\t5\trs2\tC\tT\t.\tPASS\t.\n", mtime=0))
    local = tmp / "local"
    local.mkdir()
    (local / "B_peaks.bed.gz").write_bytes(_peaks_gz(ucsc=True))
    blacklist = gzip.compress(b"1\t0\t500\tHigh Signal Region\n2\t3900\t4000\tLow Mappability\n",
                              mtime=0)
    (local / "blacklist.bed.gz").write_bytes(blacklist)
    # a connection drop in the middle of a bigWig: the job retries and resumes
    server.then(sig_a, "drop:2000")

    work = tmp / "work"
    (work / "config").mkdir(parents=True)
    (work / "config" / "samples.tsv").write_text(
        "sample\tcell_type\tassay\tsignal\tpeaks\texpression\tpeaks_md5\n"
        "A\tK562\tATAC\tTSTFF000SIA\tTSTFF000PKA\tTSTFF000EXA\t\n"
        f"B\tHepG2\tDNase\t{sig_b_url}\t{local / 'B_peaks.bed.gz'}\tTSTFF000EXA\t"
        f"{hashlib.md5(_peaks_gz(ucsc=True)).hexdigest()}\n")
    config = {
        "study": "mini", "source": "download", "samples": "config/samples.tsv",
        # (chrM is processed here: the start-up check refuses a split chromosome that
        # preprocessing would exclude)
        "split": {"valid": ["chr2"], "test": ["chrM"]},
        "preprocess": {"exclude_chromosomes": None},
        "download": {
            "genome": {"source": "encode:GRCh38_test_reference"},
            "chromosomes": ["chr1", "chr2", "chrM"],
            "blacklist": {"source": (local / "blacklist.bed.gz").as_uri(),
                          "md5": hashlib.md5(blacklist).hexdigest()},
            "annotation": annotation_url,
            "variants": vcf_url,
            "encode_url": server.url, "retries": 3, "backoff_s": 0.01, "timeout_s": 20,
        },
    }
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    yield work, server, config
    server.close()


def _targets(study_name: str = "mini") -> list[str]:
    return [f"resources/{study_name}/{p}" for p in [*CANONICAL, "variants/variants.vcf"]]


@pytest.mark.slow
def test_download_and_ingest_end_to_end(study) -> None:
    import pyBigWig

    work, server, _ = study
    res = run_snakemake(work, "--cores", "2", *_targets(), timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    res_dir = work / "resources" / "mini"
    # the connection dropped mid-transfer was retried by the job (a body this small is lost
    # whole, so it restarts from byte 0; resuming is covered by test_download.py)
    assert len(server.requests_for("/blobs/TSTFF000SIA.bigWig")) == 2
    assert (res_dir / "genome" / "chrom.sizes").read_text() == \
        "chr1\t6000\nchr2\t4000\nchrM\t300\n"
    for s in ("A", "B"):
        bw = pyBigWig.open(str(res_dir / "signal" / f"{s}.bw"))
        assert bw.chroms() == {"chr1": 6000, "chr2": 4000, "chrM": 300}
        peaks = pd.read_csv(res_dir / "peaks" / f"{s}.narrowPeak", sep="\t", header=None)
        assert peaks[0].tolist() == ["chr1", "chr2", "chrM"]
    assert (res_dir / "genome" / "blacklist.bed").read_text().splitlines()[0] == \
        "chr1\t0\t500\tHigh Signal Region"
    gtf_chroms = [line.split("\t")[0] for line in
                  (res_dir / "genome" / "genes.gtf").read_text().splitlines()]
    assert gtf_chroms == ["chr1", "chr2", "chrM"]
    vcf = (res_dir / "variants" / "variants.vcf").read_text().splitlines()
    assert "##contig=<ID=chr1>" in vcf and vcf[-1].startswith("chr1\t1000\trs1")
    expr = pd.read_csv(res_dir / "expression" / "expression.tsv", sep="\t")
    assert list(expr.columns) == ["gene_id", "gene_name", "A", "B"]
    assert expr["A"].tolist() == [1.5, 20.0, 3.0]
    # provenance: downloads record source and checksums; canonical files record their sources
    dl = json.loads((res_dir / "downloads" / "TSTFF000SIA.bigWig.provenance.json").read_text())
    assert dl["download"]["accession"] == "TSTFF000SIA" and dl["download"]["verified"]
    assert dl["download"]["transfer"]["attempts"] == 2
    shared = sorted(p.name for p in (res_dir / "downloads").glob("TSTFF000EXA*"))
    assert shared == ["TSTFF000EXA.tsv", "TSTFF000EXA.tsv.provenance.json"]  # fetched once
    sig = json.loads((res_dir / "signal" / "A.bw.provenance.json").read_text())
    assert sig["sources"][0]["accession"] == "TSTFF000SIA"
    blk = json.loads((res_dir / "downloads" / "blacklist.bed.gz.provenance.json").read_text())
    assert blk["download"]["via"] == "local" and blk["download"]["verified"]

    # nothing to do on a rerun, even after changing transport settings
    cfg_path = work / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["download"]["retries"] = 7
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = run_snakemake(work, "-n", *_targets())
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr, \
        res.stdout[-3000:]


@pytest.mark.slow
def test_offline_from_a_mirror_and_offline_error(study, tmp_path: Path) -> None:
    work, server, config = study
    downloads = work / "resources" / "mini" / "downloads"
    if not (downloads / "TSTFF000SIA.bigWig").exists():
        pytest.skip("needs the end-to-end run first")
    mirror = tmp_path / "mirror"
    shutil.copytree(downloads, mirror)
    shutil.copytree(work / "config", tmp_path / "work" / "config")
    cfg = json.loads(json.dumps(config))
    cfg["study"] = "mini2"
    cfg["download"].update({"offline": True, "encode_url": "http://127.0.0.1:9"})
    cfg_path = tmp_path / "work" / "config" / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    # offline without a mirror: one error listing every missing file, before any job runs
    res = run_snakemake(tmp_path / "work", "-n", *_targets("mini2"))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "download.offline is set but 7 of 9 files are neither downloaded nor in the " \
        "mirror" in out, out[-3000:]
    for name in ("GRCh38_test_reference.fa.gz", "TSTFF000SIA.bigWig", "TSTFF000PKA.bed.gz",
                 "TSTFF000EXA.tsv", "genes.gtf.gz", "B_signal.bigWig", "variants.vcf.gz"):
        assert name in out
    # with the mirror, the whole study is built without the network
    n_requests = len(server.log)
    cfg["download"]["mirror"] = str(mirror)
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = run_snakemake(tmp_path / "work", "--cores", "2", *_targets("mini2"), timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-5000:]
    assert len(server.log) == n_requests
    rec = json.loads((tmp_path / "work" / "resources" / "mini2" / "downloads" /
                      "TSTFF000SIA.bigWig.provenance.json").read_text())["download"]
    assert rec["via"] == "mirror" and rec["md5_expected_from"] == "mirror provenance"
    assert rec["original"]["url"].endswith("/files/TSTFF000SIA/@@download/TSTFF000SIA.bigWig")


def test_download_env_is_pinned_and_complete() -> None:
    """envs/download.yaml pins every package the download/ingest code imports."""
    import ast
    import sys

    env = yaml.safe_load((REPO / "envs" / "download.yaml").read_text())
    assert env["channels"][:2] == ["conda-forge", "bioconda"]
    pins = {}
    for dep in env["dependencies"]:
        name, _, version = dep.partition("=")
        assert version.strip(), f"{dep} is not pinned"
        pins[name.strip().lower()] = version.strip()
    conda_name = {"pyBigWig": "pybigwig", "yaml": "pyyaml"}
    needed = set()
    src = REPO / "src" / "seq2func"
    modules = [src / "cli" / "__init__.py", *sorted((src / "download").glob("*.py"))]
    modules += [src / "core" / f"{m}.py" for m in ("naming", "io", "provenance", "errors")]
    for module in modules:
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and \
                not node.level else []
            for n in names:
                top = n.split(".")[0]
                if top not in sys.stdlib_module_names and top != "seq2func":
                    needed.add(conda_name.get(top, top).lower())
    # cli.py also dispatches to the simulator and config validation, which run in other envs
    needed -= {"jsonschema", "pyyaml"}
    assert needed <= set(pins), needed - set(pins)
    assert {"python", "requests", "pybigwig", "numpy", "pandas"} <= set(pins)


def test_download_section_is_validated() -> None:
    import copy

    from seq2func.core.config import validate_config
    from seq2func.core.errors import ConfigError

    schema = REPO / "workflow" / "schemas" / "config.schema.yaml"
    encode = yaml.safe_load((REPO / "config" / "encode_hg38.yaml").read_text())
    out = validate_config(copy.deepcopy(encode), schema)
    assert out["download"]["retries"] == 5 and out["download"]["variants"] is None
    demo = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    demo["source"] = "download"
    with pytest.raises(ConfigError, match=r"'download\.genome': required key is missing"):
        validate_config(demo, schema)
    bad = copy.deepcopy(encode)
    bad["download"]["blacklist"] = {"source": "ENCFF356LFX", "md5": "xyz"}
    with pytest.raises(ConfigError, match=r"download\.blacklist.*\n.*32 hex digits"):
        validate_config(bad, schema)
    bad = copy.deepcopy(encode)
    bad["download"]["retires"] = 3
    with pytest.raises(ConfigError, match="did you mean 'retries'"):
        validate_config(bad, schema)


def test_download_plan_errors_name_the_sample(tmp_path: Path) -> None:
    from seq2func.core.errors import ConfigError
    from seq2func.download.plan import DownloadPlan

    samples = pd.DataFrame({"sample": ["A", "B"], "signal": ["ENCFF000AAA", ""],
                            "peaks": ["ENCFF000AAB", "x.bed"], "expression": ["", ""]}
                           ).set_index("sample", drop=False)
    dl = {"genome": "g.fa.gz", "blacklist": "ENCFF356LFX", "annotation": "a.gtf"}
    with pytest.raises(ConfigError, match=r"samples\.tsv: key 'signal/peaks'.*B \(signal\)"):
        DownloadPlan.from_config(dl, samples, "samples.tsv", "dl")
    samples.loc["B", "signal"] = "https://x.org/ENCFF000AAA.bigWig"
    with pytest.raises(ConfigError, match=r"would both be saved as ENCFF000AAA\.bigWig"):
        DownloadPlan.from_config(dl, samples, "samples.tsv", "dl")
    samples.loc["B", "signal"] = "ENCFF000AAA"  # shared files are fetched once
    plan = DownloadPlan.from_config(dl, samples, "samples.tsv", "dl")
    assert plan.sample_file("B", "signal") == plan.sample_file("A", "signal")
    assert len(plan.files) == 6 and plan.local_input("x.bed") == ["x.bed"]
    assert plan.expression_samples() == []


def test_an_accessibility_only_study_plans_no_expression_stage(tmp_path: Path) -> None:
    """A samples table without expression files: the workflow runs everything else (no
    expression job, no expression figure in the report, variants.expression_model settled)."""
    samples = tmp_path / "samples.tsv"
    samples.write_text("sample\tcell_type\tassay\tsignal\tpeaks\n"
                       "A\ta\tATAC\thttps://example.org/a.bw\thttps://example.org/a.bed.gz\n")
    cfg = tmp_path / "study.yaml"
    cfg.write_text(yaml.safe_dump(url_study("acc_only", samples)))
    res = subprocess.run(snakemake_cmd("-n", "--forceall", "--configfile", str(cfg)),
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    # genome, blacklist, annotation, signal, peaks; the schema's default model is trained
    assert counts["download"] == "5" and counts["train_accessibility"] == "1", counts
    assert not [r for r in counts if r.startswith("expression") or "expression" in r], counts
    assert "expression_scatter" not in out and "expression.tsv" not in out
    assert "an accessibility-only study (no expression stage)" in out
    # nothing of the demo (its variants.expression_model: seq_only) reaches a study
    assert "variants are scored by the accessibility models only" not in out
