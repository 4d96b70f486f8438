"""The catalogue of bad inputs: one case per bad input, across every stage.

Each case runs one subcommand in this process (``seq2func.cli.main``) with one input made bad
(everything else valid: the control tests run the same commands on the good inputs) and
checks what a user sees:

* a non-zero exit code (2: a seq2func error), and no traceback;
* a message of one screen (at most 20 lines) that names the file (and the line or config key)
  and says what to do (``fix:``);
* no output file left that a rerun would trust (nor a temporary one).

A few cases run ``snakemake -n`` (start-up checks of the workflow) in a subprocess.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, snakemake_cmd
from preprocess_inputs import (
    SAMPLES,
    SMALL_PARAMS,
    SPLIT,
    Study,
    build_dataset,
    make_study,
    write_bigwig,
    write_raw_bigwig,
)
from seq2func.cli import main

MOTIFS = REPO / "resources" / "motifs" / "jaspar2024_demo.jaspar"
EXPR_PARAMS = {"upstream": 200, "downstream": 100, "chromatin": {"flank": 500, "bin_size": 100},
               "samples": ["alpha", "beta"]}
TINY_MODEL = {"architecture": "basset", "conv_filters": [8], "conv_kernels": [9],
              "pool_sizes": [8], "dense_units": 8}


# ----------------------------------------------------------------------------- good inputs


@dataclass
class Base:
    """The good inputs every case starts from."""

    study: Study
    root: Path
    sizes: Path
    dataset: Path
    gtf: Path
    expression: Path
    rsem: Path
    vcf: Path
    config: dict

    def copy_dataset(self, tmp: Path) -> Path:
        out = tmp / "dataset"
        shutil.copytree(self.dataset, out)
        return out


def _shard(ds: Path, chrom: str) -> Path:
    """The shard of ``chrom`` in a dataset (its path from dataset.json)."""
    meta = json.loads((ds / "dataset.json").read_text())
    return ds / next(s["path"] for s in meta["shards"] if s["chrom"] == chrom)


def _genes(sizes: dict[str, int]) -> list[tuple[str, int, str, str]]:
    """(chrom, TSS 1-based, strand, gene ID) every 3 kb."""
    out, i = [], 0
    for c, n in sizes.items():
        for t in range(2000, n - 2000, 3000):
            i += 1
            out.append((c, t, "+-"[i % 2], f"ENSG{i:011d}"))
    return out


def _write_gtf(path: Path, genes: list[tuple[str, int, str, str]]) -> Path:
    lines = []
    for c, t, s, g in genes:
        a, b = (t, t + 900) if s == "+" else (t - 900, t)
        attrs = f'gene_id "{g}.1"; gene_name "N{g[-4:]}"; gene_type "protein_coding";'
        lines.append(f"{c}\tT\tgene\t{a}\t{b}\t.\t{s}\t.\t{attrs}")
        lines.append(f'{c}\tT\texon\t{a}\t{a + 200}\t.\t{s}\t.\t{attrs} transcript_id "T{g}";')
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    root = tmp_path_factory.mktemp("catalogue")
    study = make_study(root / "study")
    sizes = root / "chrom.sizes"
    sizes.write_text("".join(f"{c}\t{n}\n" for c, n in study.sizes.items()))
    dataset = build_dataset(study, root / "dataset")
    genes = _genes(study.sizes)
    gtf = _write_gtf(root / "genes.gtf", genes)
    rng = np.random.default_rng(3)
    tpm = rng.gamma(0.5, 20.0, size=(len(genes), 2)).round(3)
    expr = root / "expression.tsv"
    pd.DataFrame({"gene_id": [f"{g}.1" for *_, g in genes],
                  "gene_name": [f"N{g[-4:]}" for *_, g in genes],
                  "alpha": tpm[:, 0], "beta": tpm[:, 1]}).to_csv(expr, sep="\t", index=False)
    rsem = root / "rsem.tsv"
    rsem.write_text("gene_id\ttranscript_id(s)\tlength\teffective_length\texpected_count\tTPM"
                    "\tFPKM\n" + "".join(f"{g}.1\tT{g}\t900\t800\t10\t{v}\t{2 * v}\n"
                                         for (*_, g), v in zip(genes, tpm[:, 0], strict=True)))
    seq = study.sequences["chr1"]
    vcf = root / "variants.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   + "".join(f"chr1\t{p}\tv{p}\t{seq[p - 1].upper()}\t"
                             f"{'C' if seq[p - 1].upper() != 'C' else 'G'}\t50\tPASS\t.\n"
                             for p in (1200, 2500, 5100, 20000, 40100)))
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["samples"] = str(REPO / "config" / "samples.tsv")
    return Base(study, root, sizes, dataset, gtf, expr, rsem, vcf, cfg)


@pytest.fixture(scope="module")
def model(base: Base) -> Path:
    """A tiny trained accessibility model (one epoch)."""
    out = base.root / "model"
    assert main(["train-accessibility", "--dataset-dir", str(base.dataset), "--name", "basset",
                 "--spec", json.dumps(TINY_MODEL), "--settings",
                 json.dumps({"max_epochs": 1, "batch_size": 32}), "--seed", "1",
                 "--threads", "2", "--outdir", str(out)]) == 0
    return out / "model.keras"


# ----------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One bad input: how to build the command, what the message names, what must not exist."""

    name: str
    stage: str
    build: Callable[..., list[str]]
    expect: tuple[str, ...]
    outputs: tuple[str, ...]
    needs_model: bool = False


CASES: list[Case] = []


def case(stage: str, *expect: str, outputs: tuple[str, ...] = ("out",),
         needs_model: bool = False) -> Callable[[Callable[..., list[str]]], Callable]:
    """Register a case: ``fn(base, tmp[, model]) -> argv``."""
    def register(fn: Callable[..., list[str]]) -> Callable[..., list[str]]:
        CASES.append(Case(fn.__name__, stage, fn, expect, outputs, needs_model))
        return fn
    return register


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def edited(src: Path, dst: Path, edit: Callable[[str], str]) -> Path:
    return write(dst, edit(src.read_text()))


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# --- config: validate-config (the checks the workflow runs at start-up)


def _config(base: Base, tmp: Path, edit: Callable[[dict], None], name: str = "study.yaml"
            ) -> list[str]:
    cfg = json.loads(json.dumps(base.config))
    # a study with no resources/<study>/genome/chrom.sizes in the checkout (validate-config
    # reads it when it exists: a demo run must not change what these cases check)
    cfg["study"] = "bad_input_case"
    edit(cfg)
    path = write(tmp / name, yaml.safe_dump(cfg, sort_keys=False))
    return ["validate-config", str(path), "--schemas", str(REPO / "workflow" / "schemas")]


@case("config", "study.yaml", "evaluate.tracks.models", "did you mean 'basset'", outputs=())
def tracks_model_typo(base, tmp):
    return _config(base, tmp, lambda c: c["evaluate"]["tracks"].update(models=["baset"]))


@case("config", "study.yaml", "interpret.models", "did you mean 'basset'", outputs=())
def interpret_model_typo(base, tmp):
    return _config(base, tmp, lambda c: c["interpret"].update(models=["bassett"]))


@case("config", "study.yaml", "variants.models", "known: basset", outputs=())
def variants_model_typo(base, tmp):
    return _config(base, tmp, lambda c: c["variants"].update(models=["cnn"]))


@case("config", "study.yaml", "expression.chromatin.predicted_model.name", outputs=())
def predicted_model_typo(base, tmp):
    return _config(base, tmp, lambda c: c["expression"]["chromatin"]["predicted_model"].update(
        name="basett"))


@case("config", "study.yaml", "expression.chromatin.predicted_model.seeds", outputs=())
def predicted_model_seed_not_trained(base, tmp):
    return _config(base, tmp, lambda c: c["expression"]["chromatin"]["predicted_model"].update(
        seeds=[7]))


@case("config", "study.yaml", "expression.samples", "did you mean 'erythroid'", outputs=())
def expression_sample_typo(base, tmp):
    return _config(base, tmp, lambda c: c["expression"].update(samples=["erythriod"]))


@case("config", "study.yaml", "evaluate.gates[basset_auroc].table", "did you mean 'accessibility'",
      outputs=())
def gate_table_misspelt(base, tmp):
    return _config(base, tmp, lambda c: c["evaluate"]["gates"][1].update(table="accesibility"))


@case("config", "study.yaml", "evaluate.gates", "exactly one of threshold, compare_to", outputs=())
def gate_with_threshold_and_compare_to(base, tmp):
    return _config(base, tmp, lambda c: c["evaluate"]["gates"][0].update(threshold=0.5))


@case("config", "study.yaml", "evaluate.gates", "op", outputs=())
def gate_with_unknown_operator(base, tmp):
    return _config(base, tmp, lambda c: c["evaluate"]["gates"][0].update(op="=>"))


@case("config", "study.yaml", "expression.chromatin.bin_size", "multiple", outputs=())
def flank_not_divisible_by_bin(base, tmp):
    return _config(base, tmp, lambda c: c["expression"]["chromatin"].update(flank=1000,
                                                                          bin_size=300))


@case("config", "study.yaml", "preprocess.exclude_chromosomes", "regular expression",
      outputs=())
def bad_exclude_regex(base, tmp):
    return _config(base, tmp, lambda c: c["preprocess"].update(exclude_chromosomes="chr(1"))


@case("config", "study.yaml", "split.test", "chr9", outputs=())
def split_chromosome_not_in_genome(base, tmp):
    return _config(base, tmp, lambda c: c["split"].update(test=["chr9"]))


@case("config", "study.yaml", "split", "both valid and test", outputs=())
def split_chromosome_in_valid_and_test(base, tmp):
    return _config(base, tmp, lambda c: c["split"].update(test=["chr5", "chr2"]))


@case("config", "study.yaml", "split.test", "excluded from preprocessing", outputs=())
def split_chromosome_excluded_by_regex(base, tmp):
    return _config(base, tmp, lambda c: c["preprocess"].update(exclude_chromosomes="^chr2$"))


@case("config", "study.yaml", "split", "no chromosome left for training", outputs=())
def no_training_chromosome(base, tmp):
    return _config(base, tmp, lambda c: c["split"].update(valid=["chr1", "chr3", "chr4"],
                                                          test=["chr2", "chr5"]))


@case("config", "study.yaml", "preprocess.chromosomes", "chr9", outputs=())
def processed_chromosome_not_in_genome(base, tmp):
    return _config(base, tmp, lambda c: c["preprocess"].update(chromosomes=["chr1", "chr9"]))


#: config edits refused at start-up: name, the edit (section, key, value), what is named
CONFIG_EDITS = [
    ("locus_off_the_test_chromosomes", ("evaluate", "locus", "chr1:1000-5000"),
     ("evaluate.locus", "not a processed test chromosome")),
    ("locus_past_the_chromosome_end", ("evaluate", "locus", "chr2:1000-9000000"),
     ("evaluate.locus", "ends past chr2")),
    ("locus_end_before_start", ("evaluate", "locus", "chr2:5000-1000"),
     ("evaluate.locus", "end <= start")),
    ("negative_bootstrap", ("evaluate", "bootstrap", -1), ("evaluate.bootstrap", "minimum")),
    ("no_seeds", ("accessibility", "seeds", []), ("accessibility.seeds", "should be non-empty")),
    ("unknown_expression_variant", ("expression", "variants", ["seq_al"]),
     ("expression.variants", "seq_only")),
]
for _name, (_section, _key, _value), _expect in CONFIG_EDITS:
    CASES.append(Case(_name, "config", lambda b, t, s=_section, k=_key, v=_value: _config(
        b, t, lambda c: c[s].update({k: v})), ("study.yaml", *_expect), ()))


@case("config", "study.yaml", "interpret.modisco_window", "input_length", outputs=())
def modisco_window_outside_the_input(base, tmp):
    return _config(base, tmp, lambda c: c["interpret"].update(modisco_window=[100, 900]))


@case("config", "study.yaml", "preprocess.input_lenght", "did you mean 'input_length'",
      outputs=())
def unknown_key_typo(base, tmp):
    return _config(base, tmp, lambda c: c["preprocess"].update(input_lenght=500))


@case("config", "study.yaml", "preprocess.profile_length", "odd", outputs=())
def odd_profile_length(base, tmp):
    return _config(base, tmp, lambda c: c["preprocess"].update(profile_length=499))


@case("config", "study.yaml", "simulate.seed", "integer", outputs=())
def wrong_type(base, tmp):
    return _config(base, tmp, lambda c: c["simulate"].update(seed="one"))


@case("config", "study.yaml", "interpret.motif_database", "JASPAR2024", outputs=())
def motif_database_typo(base, tmp):
    return _config(base, tmp, lambda c: c["interpret"].update(motif_database="JASPAR2042"))


@case("config", "study.yaml", "'samples'", "braces", outputs=())
def samples_path_with_braces(base, tmp):
    table = tmp / "samples_{x}.tsv"
    shutil.copy(REPO / "config" / "samples.tsv", table)
    return _config(base, tmp, lambda c: c.update(samples=str(table)))


@case("config", "study.yaml", "download.chromosomes", "same sequence", outputs=())
def download_chromosome_twice(base, tmp):
    def edit(c):
        c.update(source="download", samples=str(write(tmp / "s.tsv", (
            "sample\tcell_type\tassay\tsignal\tpeaks\nA\tK562\tATAC\ta.bw\ta.bed\n"))))
        c["download"].update(genome="g.fa.gz", blacklist="b.bed", annotation="a.gtf",
                             chromosomes=["chr1", "1", "chr2"])
        c["split"] = {"valid": ["chr2"], "test": ["chr1"]}
        c["expression"]["samples"] = []
    return _config(base, tmp, edit)


@case("config", "broken.yaml", "line 3", "not valid YAML", outputs=())
def yaml_syntax_error(base, tmp):
    path = write(tmp / "broken.yaml", "study: demo\nsplit:\n  valid: [chr5\n  test: [chr2]\n")
    return ["validate-config", str(path)]


def _samples(base: Base, tmp: Path, name: str, text: str) -> list[str]:
    """validate-config of the demo with the samples table ``text``."""
    table = write(tmp / name, text)
    return _config(base, tmp, lambda c: c.update(samples=str(table)))


@case("config", "dup.tsv", "line 3", "duplicate sample", outputs=())
def samples_table_duplicate_sample(base, tmp):
    return _samples(base, tmp, "dup.tsv", "sample\tcell_type\tassay\na\tx\tATAC\na\ty\tATAC\n")


@case("config", "bad.tsv", "line 2", "file-name safe", outputs=())
def samples_table_unsafe_name(base, tmp):
    return _samples(base, tmp, "bad.tsv", "sample\tcell_type\tassay\na b\tx\tATAC\n")


@case("config", "cols.tsv", "missing column 'assay'", outputs=())
def samples_table_missing_column(base, tmp):
    return _samples(base, tmp, "cols.tsv", "sample\tcell_type\na\tx\n")


@case("config", "assay.tsv", "line 2", "assay", outputs=())
def samples_table_unknown_assay(base, tmp):
    return _samples(base, tmp, "assay.tsv", "sample\tcell_type\tassay\na\tx\tChIP\n")


# --- simulate


def _simulate(base: Base, tmp: Path, params: str, samples: Path | None = None) -> list[str]:
    return ["simulate", "--params", params, "--samples",
            str(samples or REPO / "config" / "samples.tsv"), "--motifs", str(MOTIFS),
            "--outdir", str(tmp / "out"), "--no-progress"]


@case("simulate", "simulate.n_variants", "minimum")
def simulate_negative_count(base, tmp):
    return _simulate(base, tmp, '{"n_variants": -1}')


@case("simulate", "simulate.chromosomes.chr1", "50000")
def simulate_chromosome_too_short(base, tmp):
    return _simulate(base, tmp, '{"chromosomes": {"chr1": 100}}')


@case("simulate", "--params", "not valid JSON")
def simulate_params_not_json(base, tmp):
    return _simulate(base, tmp, "{seed: 1}")


@case("simulate", "cols.tsv", "missing column")
def simulate_bad_samples_table(base, tmp):
    return _simulate(base, tmp, "{}", write(tmp / "cols.tsv", "sample\tassay\na\tATAC\n"))


# --- download: ingest (and fetch)


def _ingest(base: Base, kind: str, src: Path, tmp: Path, *extra: str) -> list[str]:
    return ["ingest", kind, "--input", str(src), "--output", str(tmp / "out"),
            "--chrom-sizes", str(base.sizes), *extra]


def _fasta_ingest(src: Path, tmp: Path, chroms: list[str]) -> list[str]:
    return ["ingest", "fasta", "--input", str(src), "--output", str(tmp / "out"),
            "--sizes-out", str(tmp / "out.sizes"), "--chromosomes", json.dumps(chroms)]


@case("download", "genome.fa", "chr9", "not in the FASTA", outputs=("out", "out.sizes"))
def fasta_lacks_configured_chromosome(base, tmp):
    return _fasta_ingest(base.study.genome, tmp, ["chr1", "chr9"])


@case("download", "twice.fa", "appears twice", outputs=("out", "out.sizes", "out.fai"))
def fasta_chromosome_twice(base, tmp):
    src = write(tmp / "twice.fa", ">chr1\nACGT\n>1\nACGT\n")
    return _fasta_ingest(src, tmp, ["chr1"])


@case("download", "nohead.fa", "line 1", "before the first", outputs=("out", "out.sizes"))
def fasta_without_header(base, tmp):
    return _fasta_ingest(write(tmp / "nohead.fa", "ACGT\n>chr1\nACGT\n"), tmp, ["chr1"])


def _bigwig(tmp: Path, name: str, edit: Callable[[dict], None],
            sizes: dict[str, int] | None = None, base: Base | None = None) -> Path:
    sizes = sizes or base.study.sizes
    values = {c: np.zeros(n) for c, n in sizes.items()}
    for c in values:
        values[c][100:200] = 3.0
    edit(values)
    path = tmp / name
    write_bigwig(path, sizes, values)
    return path


def _infinite_bigwig(base: Base, path: Path, chrom: str, pos: int) -> Path:
    """A bigWig with 3.0 over 100-200 of every chromosome, and +inf at ``chrom:pos`` (0-based;
    pyBigWig cannot write infinities)."""
    runs = {c: [(100, 200, 3.0)] for c in base.study.sizes}
    runs[chrom] = [(100, pos, 3.0), (pos, pos + 1, float("inf")), (pos + 1, 200, 3.0)]
    write_raw_bigwig(path, base.study.sizes, runs)
    return path


@case("download", "inf.bw", "infinite value at chr1:151")
def bigwig_with_infinity(base, tmp):
    return _ingest(base, "bigwig", _infinite_bigwig(base, tmp / "inf.bw", "chr1", 150), tmp)


@case("download", "cut.bw", "truncated")
def bigwig_truncated(base, tmp):
    src = tmp / "cut.bw"
    shutil.copy(base.study.bigwigs[0], src)
    truncate(src, 0.3)
    return _ingest(base, "bigwig", src, tmp)


@case("download", "peaks.bb", "not a bigWig")
def bigbed_given_as_bigwig(base, tmp):
    src = write(tmp / "peaks.bb", "")
    src.write_bytes((0x8789F2EB).to_bytes(4, "little") + b"\0" * 60)
    return _ingest(base, "bigwig", src, tmp)


@case("download", "hg19.bw", "assembly mismatch", "chr1")
def bigwig_of_another_assembly(base, tmp):
    sizes = {**base.study.sizes, "chr1": 61_000}
    return _ingest(base, "bigwig", _bigwig(tmp, "hg19.bw", lambda v: None, sizes), tmp)


def _peaks_with(base: Base, tmp: Path, name: str, extra: str) -> Path:
    return write(tmp / name, base.study.peaks[0].read_text() + extra)


@case("download", "past.narrowPeak", "line 76", "another genome assembly")
def peaks_past_chromosome_ends(base, tmp):
    extra = "".join(f"chr3\t{45000 + 300 * i}\t{45200 + 300 * i}\tp\t0\t.\t5\t20\t10\t100\n"
                    for i in range(5))
    return _ingest(base, "peaks", _peaks_with(base, tmp, "past.narrowPeak", extra), tmp)


@case("download", "inverted.bed", "line 1", "end <= start")
def peaks_end_before_start(base, tmp):
    return _ingest(base, "peaks", write(tmp / "inverted.bed", "chr1\t500\t400\nchr1\t10\t20\n"),
                   tmp)


@case("download", "text.bed", "line 2", "column 2 is not an integer")
def peaks_non_integer_start(base, tmp):
    return _ingest(base, "peaks", write(tmp / "text.bed", "chr1\t10\t20\nchr1\t1e400\t20\n"),
                   tmp)


@case("download", "empty.bed", "no peaks")
def peaks_empty(base, tmp):
    return _ingest(base, "peaks", write(tmp / "empty.bed", "track name=x\n"), tmp)


@case("download", "mouse.bed", "chr1")
def peaks_of_other_chromosome_names(base, tmp):
    return _ingest(base, "peaks", write(tmp / "mouse.bed", "scaffold_7\t10\t20\n"), tmp)


@case("download", "bl.bb", "bigBed files are not supported")
def blacklist_as_bigbed(base, tmp):
    src = tmp / "bl.bb"
    src.write_bytes((0x8789F2EB).to_bytes(4, "little") + b"\0" * 60)
    return _ingest(base, "bed", src, tmp)


def swapped_exon(text: str) -> str:
    """The annotation with the first exon's start and end swapped (line 2)."""
    lines = text.splitlines(keepends=True)
    f = lines[1].split("\t")
    f[3], f[4] = f[4], f[3]
    lines[1] = "\t".join(f)
    return "".join(lines)


@case("download", "exon.gtf", "line 2", "start must be >= 1 and <= end")
def gtf_exon_start_after_end(base, tmp):
    return _ingest(base, "gtf", edited(base.gtf, tmp / "exon.gtf", swapped_exon), tmp)


@case("download", "eight.gtf", "line 1", "9 needed")
def gtf_with_eight_columns(base, tmp):
    return _ingest(base, "gtf", write(tmp / "eight.gtf", "chr1\tT\tgene\t1\t10\t.\t+\t.\n"), tmp)


@case("download", "end.gtf", "line 1", "not integers")
def gtf_non_integer_end(base, tmp):
    return _ingest(base, "gtf", write(tmp / "end.gtf",
                                      'chr1\tT\tgene\t1\tten\t.\t+\t.\tgene_id "g";\n'), tmp)


@case("download", "long.gtf", "line 1", "another assembly")
def gtf_beyond_chromosome_end(base, tmp):
    return _ingest(base, "gtf", write(tmp / "long.gtf",
                                      'chr2\tT\tgene\t10\t90000\t.\t+\t.\tgene_id "g";\n'), tmp)


def _vcf_with(base: Base, tmp: Path, name: str, record: str) -> Path:
    return write(tmp / name, base.vcf.read_text() + record + "\n")


def _ingest_record(base: Base, tmp: Path, name: str, record: str) -> list[str]:
    """ingest vcf of the good VCF with one more record (line 8)."""
    return _ingest(base, "vcf", _vcf_with(base, tmp, name, record), tmp)


#: one record added to the good VCF (its line 8): name, record, what the message says
BAD_RECORDS = [
    ("vcf_alt_not_an_allele", "chr1\t300\t.\tA\tX\t.\t.\t.", "ALT 'X'"),
    ("vcf_infinite_qual", "chr1\t300\t.\tA\tC\t1e400\t.\t.", "QUAL '1e400'"),
    ("vcf_nan_qual", "chr1\t300\t.\tA\tC\tnan\t.\t.", "QUAL 'nan'"),
    ("vcf_position_zero", "chr1\t0\t.\tA\tC\t.\t.\t.", "POS '0'"),
    ("vcf_ref_not_dna", "chr1\t300\t.\t12\tC\t.\t.\t.", "REF '12'"),
    ("vcf_position_beyond_chromosome", "chr1\t99999\t.\tA\tC\t.\t.\t.", "outside chr1"),
    ("vcf_alt_with_space", "chr1\t300\t.\tA\tA C\t.\t.\t.", "ALT 'A C'"),
]
for _name, _record, _problem in BAD_RECORDS:
    CASES.append(Case(_name, "download", lambda b, t, r=_record, n=_name: _ingest_record(
        b, t, f"{n}.vcf", r), (f"{_name}.vcf", "line 8", _problem), ("out",)))


@case("download", "head.vcf", "line 1", "#CHROM")
def vcf_record_before_header(base, tmp):
    return _ingest(base, "vcf", write(tmp / "head.vcf", "chr1\t300\t.\tA\tC\t.\t.\t.\n"), tmp)


@case("download", "spaces.vcf", "line 3", "8")
def vcf_space_separated(base, tmp):
    return _ingest(base, "vcf", write(tmp / "spaces.vcf", "##fileformat=VCFv4.2\n#CHROM POS\n"
                                      "chr1 300 . A C . . .\n"), tmp)


def _expression(base: Base, tmp: Path, table: Path, *columns: str,
                gtf: Path | None = None) -> list[str]:
    return ["ingest", "expression", "--input", f"alpha={table}", "--output", str(tmp / "out"),
            "--gtf", str(gtf or base.gtf), *(("--column", *columns) if columns else ())]


def _quant(base: Base, tmp: Path, name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]
           ) -> Path:
    df = pd.read_csv(base.rsem, sep="\t", dtype=str)
    path = tmp / name
    edit(df).to_csv(path, sep="\t", index=False)
    return path


@case("download", "fpkm.tsv", "'FPKM'", "does not hold TPM")
def quantification_fpkm_as_tpm(base, tmp):
    return _expression(base, tmp, _quant(base, tmp, "fpkm.tsv",
                                         lambda d: d[["gene_id", "FPKM"]]))


def cell(column: str, row: int, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """An edit of a table: ``value`` in ``column`` of row ``row`` (line ``row + 2``)."""
    return lambda d: d.assign(**{column: d[column].where(d.index != row, value)})


@case("download", "inf.tsv", "line 4", "'1e400'")
def quantification_infinite_tpm(base, tmp):
    return _expression(base, tmp, _quant(base, tmp, "inf.tsv", cell("TPM", 2, "1e400")))


@case("download", "nan.tsv", "line 3", "'NaN'")
def quantification_nan_tpm(base, tmp):
    return _expression(base, tmp, _quant(base, tmp, "nan.tsv", cell("TPM", 1, "NaN")))


@case("download", "neg.tsv", "line 2", "non-negative")
def quantification_negative_tpm(base, tmp):
    return _expression(base, tmp, _quant(base, tmp, "neg.tsv", cell("TPM", 0, "-1")))


@case("download", "dup.tsv", "listed twice", "line")
def quantification_duplicate_gene(base, tmp):
    return _expression(base, tmp, _quant(base, tmp, "dup.tsv",
                                         lambda d: pd.concat([d, d.iloc[[3]]])))


@case("download", "counts.tsv", "sums to", "not TPM")
def quantification_counts_under_another_name(base, tmp):
    return _expression(base, tmp, _quant(base, tmp, "counts.tsv", lambda d: pd.DataFrame(
        {"gene_id": d["gene_id"], "value": np.full(len(d), 123456)})))


@case("download", "two.tsv", "no column 'mean_tpm_WT'")
def quantification_named_column_missing(base, tmp):
    return _expression(base, tmp, _quant(base, tmp, "two.tsv", lambda d: d), "alpha=mean_tpm_WT")


@case("download", "log.tsv", "'log2_tpm'", "does not hold TPM")
def quantification_log_values(base, tmp):
    return _expression(base, tmp, _quant(base, tmp, "log.tsv", lambda d: pd.DataFrame(
        {"gene_id": d["gene_id"], "log2_tpm": 1.5, "other": 1})), "alpha=log2_tpm")


@case("download", "fc.tsv", "featureCounts", "expression_column")
def featurecounts_with_two_samples_unnamed(base, tmp):
    rows = "".join(f"{g}.1\tchr1\t1\t900\t+\t900\t10\t20\n" for *_, g in _genes(base.study.sizes))
    src = write(tmp / "fc.tsv", "# Program:featureCounts v2.0.1\n"
                "Geneid\tChr\tStart\tEnd\tStrand\tLength\ta.bam\tb.bam\n" + rows)
    return _expression(base, tmp, src)


@case("download", "mouse.tsv", "no gene or transcript ID matches")
def quantification_of_other_ids(base, tmp):
    return _expression(base, tmp, write(tmp / "mouse.tsv", "gene_id\tTPM\nXYZ1\t1\nXYZ2\t2\n"))


@case("download", "nogenes.gff3", "no gene records")
def annotation_without_genes(base, tmp):
    gff = write(tmp / "nogenes.gff3", "##gff-version 3\nchr1\tT\texon\t1\t10\t.\t+\t.\tID=e1\n")
    return _expression(base, tmp, base.rsem, gtf=gff)


@case("download", "empty.tsv", "empty quantification table")
def quantification_empty(base, tmp):
    return _expression(base, tmp, write(tmp / "empty.tsv", "gene_id\tTPM\n"))


@case("download", "--input", "expected SAMPLE=PATH")
def ingest_expression_pair_malformed(base, tmp):
    return ["ingest", "expression", "--input", str(base.rsem), "--output", str(tmp / "out"),
            "--gtf", str(base.gtf)]


@case("download", "missing.bed.gz", "does not exist")
def fetch_local_file_missing(base, tmp):
    return ["fetch", "--source", str(tmp / "missing.bed.gz"), "--output", str(tmp / "out"),
            "--settings", "{}"]


@case("download", "md5", "a.bed")
def fetch_local_file_wrong_md5(base, tmp):
    src = write(tmp / "a.bed", "chr1\t1\t2\n")
    return ["fetch", "--source", str(src), "--md5", "0" * 32, "--output", str(tmp / "out"),
            "--settings", "{}"]


# --- preprocess


def _plan(base: Base, tmp: Path, *, genome: Path | None = None,
          bigwigs: list[Path] | None = None, peaks: list[Path] | None = None,
          params: dict | None = None, split: dict | None = None) -> list[str]:
    bigwigs = bigwigs or list(base.study.bigwigs)
    peaks = peaks or list(base.study.peaks)
    return ["preprocess-plan", "--genome", str(genome or base.study.genome), "--samples",
            str(base.study.samples_table), "--bigwigs", *map(str, bigwigs),
            "--peaks", *map(str, peaks), "--blacklist", str(base.study.blacklist),
            "--params", json.dumps({**SMALL_PARAMS, **(params or {})}),
            "--split", json.dumps(split or SPLIT), "--outdir", str(tmp / "out")]


def _signal(base: Base, tmp: Path, name: str, edit: Callable[[dict], None]) -> list[Path]:
    values = {c: v.copy() for c, v in base.study.signal["alpha"].items()}
    edit(values)
    write_bigwig(tmp / name, base.study.sizes, values)
    return [tmp / name, *base.study.bigwigs[1:]]


@case("preprocess", "inf.bw", "infinite")
def preprocess_bigwig_with_infinity(base, tmp):
    bad = _infinite_bigwig(base, tmp / "inf.bw", "chr2", 150)
    return _plan(base, tmp, bigwigs=[bad, *base.study.bigwigs[1:]])


@case("preprocess", "neg.bw", "negative signal", "negative_signal: clip")
def preprocess_negative_signal(base, tmp):
    return _plan(base, tmp, bigwigs=_signal(base, tmp, "neg.bw",
                                            lambda v: v["chr1"].__setitem__(99, -0.5)))


@case("preprocess", "cut.bw", "truncated")
def preprocess_truncated_bigwig(base, tmp):
    shutil.copy(base.study.bigwigs[0], tmp / "cut.bw")
    truncate(tmp / "cut.bw", 0.4)
    return _plan(base, tmp, bigwigs=[tmp / "cut.bw", *base.study.bigwigs[1:]])


@case("preprocess", "other.bw", "lengths differ")
def preprocess_bigwig_of_another_assembly(base, tmp):
    sizes = {**base.study.sizes, "chr2": 41_000}
    write_bigwig(tmp / "other.bw", sizes, {c: np.zeros(n) for c, n in sizes.items()})
    return _plan(base, tmp, bigwigs=[tmp / "other.bw", *base.study.bigwigs[1:]])


@case("preprocess", "past.narrowPeak", "line 76", "another genome assembly")
def preprocess_peaks_past_ends(base, tmp):
    extra = "".join(f"chr3\t{45000 + 300 * i}\t{45200 + 300 * i}\tp\t0\t.\t5\t20\t10\t100\n"
                    for i in range(5))
    return _plan(base, tmp, peaks=[_peaks_with(base, tmp, "past.narrowPeak", extra),
                                   *base.study.peaks[1:]])


@case("preprocess", "inv.narrowPeak", "line 76", "end <= start")
def preprocess_peaks_end_before_start(base, tmp):
    extra = "".join(f"chr1\t{900 + i}\t{800 + i}\tp\t0\t.\t5\t20\t10\t-1\n" for i in range(5))
    return _plan(base, tmp, peaks=[_peaks_with(base, tmp, "inv.narrowPeak", extra),
                                   *base.study.peaks[1:]])


@case("preprocess", "empty.narrowPeak", "no peaks", "allow_empty_peaks")
def preprocess_empty_peaks(base, tmp):
    return _plan(base, tmp, peaks=[write(tmp / "empty.narrowPeak", ""), *base.study.peaks[1:]])


@case("preprocess", "scaffolds.bed", "none of the chromosome names")
def preprocess_peak_names_match_nothing(base, tmp):
    return _plan(base, tmp, peaks=[write(tmp / "scaffolds.bed", "scaffold_7\t1\t300\n"),
                                   *base.study.peaks[1:]])


@case("preprocess", "dup.fa", "appears twice")
def preprocess_duplicate_fasta_record(base, tmp):
    text = base.study.genome.read_text()
    return _plan(base, tmp, genome=write(tmp / "dup.fa", text + text.split(">chr2")[0]))


@case("preprocess", "split.test", "chr9")
def preprocess_split_chromosome_missing(base, tmp):
    return _plan(base, tmp, split={"valid": ["chr2"], "test": ["chr9"]})


@case("preprocess", "preprocess.exclude_chromosomes", "regular expression")
def preprocess_bad_regex(base, tmp):
    return _plan(base, tmp, params={"exclude_chromosomes": "[chr"})


@case("preprocess", "preprocess.input_length", "odd")
def preprocess_odd_window(base, tmp):
    return _plan(base, tmp, params={"input_length": 201})


@case("preprocess", "preprocess.max_jitter", "multiple of profile_bin")
def preprocess_jitter_not_multiple_of_bin(base, tmp):
    return _plan(base, tmp, params={"profile_bin": 4, "max_jitter": 10})


@case("preprocess", "samples.tsv", "3 samples but 2 bigWigs")
def preprocess_too_few_bigwigs(base, tmp):
    return _plan(base, tmp, bigwigs=list(base.study.bigwigs[:2]))


def _chrom_job(base: Base, tmp: Path, damaged: str) -> list[str]:
    """preprocess-chrom on a copy of the good plan whose file ``damaged`` is cut in half."""
    plan = tmp / "plan"
    shutil.copytree(base.dataset / "plan", plan)
    truncate(plan / damaged, 0.5)
    return ["preprocess-chrom", "--plan-dir", str(plan), "--chrom", "chr1", "--shard",
            str(tmp / "shard.h5"), "--stats", str(tmp / "stats.json"), "--no-progress"]


@case("preprocess", "plan.json", "damaged", outputs=("shard.h5", "stats.json"))
def preprocess_chrom_damaged_plan(base, tmp):
    return _chrom_job(base, tmp, "plan.json")


@case("preprocess", "summits.npz", "damaged", outputs=("shard.h5", "stats.json"))
def preprocess_chrom_damaged_summits(base, tmp):
    return _chrom_job(base, tmp, "summits.npz")


@case("preprocess", "plan.json", "job 'chrX' is not planned", "choose one of",
      outputs=("shards", "stats.json"))
def preprocess_job_unknown(base, tmp):
    return ["preprocess-job", "--plan-dir", str(base.dataset / "plan"), "--job", "chrX",
            "--shard-dir", str(tmp / "shards"), "--stats", str(tmp / "stats.json"),
            "--no-progress"]


@case("preprocess", "dataset.json", "not readable as JSON", outputs=("qc.svg",))
def preprocess_qc_damaged_dataset_json(base, tmp):
    ds = base.copy_dataset(tmp)
    truncate(ds / "dataset.json", 0.5)
    return ["preprocess-qc", "--plan-dir", str(ds / "plan"), "--dataset-dir", str(ds),
            "--qc-table", str(tmp / "qc.tsv"), "--figure", str(tmp / "qc.svg")]


# --- train


def _train(ds: Path, tmp: Path, settings: dict | None = None) -> list[str]:
    return ["train-accessibility", "--dataset-dir", str(ds), "--name", "basset", "--spec",
            json.dumps(TINY_MODEL), "--settings",
            json.dumps(settings or {"max_epochs": 1, "batch_size": 32}), "--seed", "1",
            "--threads", "2", "--outdir", str(tmp / "m")]


TRAIN_OUT = ("m/model.keras", "m/history.tsv", "m/run.json")


@case("train", "chr1.h5", "chromosome chr1", "md5", outputs=TRAIN_OUT)
def train_bit_flipped_shard(base, tmp):
    ds = base.copy_dataset(tmp)
    flip_byte(_shard(ds, "chr1"), 5000)
    return _train(ds, tmp)


@case("train", "chr1.h5", "delete the job folder", outputs=TRAIN_OUT)
def train_truncated_shard(base, tmp):
    ds = base.copy_dataset(tmp)
    truncate(_shard(ds, "chr1"), 0.5)
    return _train(ds, tmp)


@case("train", "chr1.h5", "missing", outputs=TRAIN_OUT)
def train_missing_shard(base, tmp):
    ds = base.copy_dataset(tmp)
    (_shard(ds, "chr1")).unlink()
    return _train(ds, tmp)


@case("train", "regions.tsv.gz", "md5", outputs=TRAIN_OUT)
def train_truncated_regions(base, tmp):
    ds = base.copy_dataset(tmp)
    truncate(ds / "regions.tsv.gz", 0.5)
    return _train(ds, tmp)


@case("train", "dataset.json", "not found", outputs=TRAIN_OUT)
def train_without_dataset(base, tmp):
    return _train(tmp / "nothing", tmp)


@case("train", "dataset.json", "damaged dataset metadata", outputs=TRAIN_OUT)
def train_dataset_json_lacking_keys(base, tmp):
    ds = base.copy_dataset(tmp)
    meta = json.loads((ds / "dataset.json").read_text())
    del meta["shards"]
    (ds / "dataset.json").write_text(json.dumps(meta))
    return _train(ds, tmp)


@case("train", "accessibility.train.max_epoch", "did you mean 'max_epochs'", outputs=TRAIN_OUT)
def train_setting_typo(base, tmp):
    return _train(base.dataset, tmp, {"max_epoch": 1})


@case("train", "model.keras", "damaged model file", outputs=("p.npz",), needs_model=True)
def predict_with_damaged_model(base, tmp, model):
    shutil.copy(model, tmp / "model.keras")
    truncate(tmp / "model.keras", 0.6)
    return ["predict-accessibility", "--model", str(tmp / "model.keras"), "--dataset-dir",
            str(base.dataset), "--split", "test", "--out", str(tmp / "p.npz")]


@case("train", "none.keras", "model file not found", outputs=("p.npz",))
def predict_with_missing_model(base, tmp):
    return ["predict-accessibility", "--model", str(tmp / "none.keras"), "--dataset-dir",
            str(base.dataset), "--split", "test", "--out", str(tmp / "p.npz")]


# --- expression


def _prepare(base: Base, tmp: Path, *, gtf: Path | None = None, expression: Path | None = None,
             params: dict | None = None, exclude: str | None = None) -> list[str]:
    return ["expression-prepare", "--annotation", str(gtf or base.gtf), "--expression",
            str(expression or base.expression), "--genome", str(base.study.genome),
            "--bigwigs", *[f"{s}={b}" for s, b in zip(SAMPLES, base.study.bigwigs, strict=True)],
            "--split", json.dumps(SPLIT), "--params", json.dumps({**EXPR_PARAMS, **(params or {})}),
            *(["--exclude-regex", exclude] if exclude else []), "--outdir", str(tmp / "out")]


def _table(base: Base, tmp: Path, name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]
           ) -> Path:
    df = pd.read_csv(base.expression, sep="\t", dtype=str)
    edit(df).to_csv(tmp / name, sep="\t", index=False)
    return tmp / name


@case("expression", "inf.tsv", "line 3", "sample 'alpha'")
def expression_infinite_tpm(base, tmp):
    return _prepare(base, tmp, expression=_table(base, tmp, "inf.tsv",
                                                 cell("alpha", 1, "1e400")))


@case("expression", "nan.tsv", "line 2", "finite")
def expression_nan_tpm(base, tmp):
    return _prepare(base, tmp, expression=_table(base, tmp, "nan.tsv", cell("beta", 0, "nan")))


@case("expression", "dup.tsv", "listed twice")
def expression_duplicate_gene(base, tmp):
    return _prepare(base, tmp, expression=_table(base, tmp, "dup.tsv",
                                                 lambda d: pd.concat([d, d.iloc[[0]]])))


@case("expression", "exon.gtf", "line 2", "start must be")
def expression_gtf_exon_start_after_end(base, tmp):
    return _prepare(base, tmp, gtf=edited(base.gtf, tmp / "exon.gtf", swapped_exon))


@case("expression", "--exclude-regex", "preprocess.exclude_chromosomes")
def expression_bad_exclude_regex(base, tmp):
    return _prepare(base, tmp, exclude="(chrM")


@case("expression", "expression.chromatin.bin_size", "multiple")
def expression_flank_not_divisible(base, tmp):
    return _prepare(base, tmp, params={"chromatin": {"flank": 500, "bin_size": 300}})


@case("expression", "expression.tsv", "gamma")
def expression_sample_not_in_table(base, tmp):
    return _prepare(base, tmp, params={"samples": ["alpha", "gamma"]})


@case("expression", "other.gtf", "no gene ID matches")
def expression_annotation_of_other_genes(base, tmp):
    return _prepare(base, tmp, gtf=edited(base.gtf, tmp / "other.gtf",
                                          lambda t: t.replace("ENSG", "ENSMUSG")))


@pytest.fixture(scope="module")
def prepared(base: Base) -> Path:
    out = base.root / "prepared"
    assert main([*_prepare(base, base.root / "unused")[:-1], str(out)]) == 0
    return out


@case("expression", "features.npz", "damaged .npz", outputs=("m/model.keras",))
def train_expression_damaged_features(base, tmp, prepared):
    bad = tmp / "features.npz"
    shutil.copy(prepared / "features.npz", bad)
    truncate(bad, 0.5)
    return ["train-expression", "--genes", str(prepared / "genes.tsv"), "--features", str(bad),
            "--variant", "seq_only", "--params", json.dumps(EXPR_PARAMS), "--seed", "1",
            "--outdir", str(tmp / "m")]


@case("expression", "predictions.npz", "damaged .npz", outputs=("metrics.tsv", "ablation.tsv"))
def evaluate_expression_damaged_predictions(base, tmp, prepared):
    bad = write(tmp / "seed1" / "predictions.npz", "PK\x03\x04 not really")
    return ["evaluate-expression", "--genes", str(prepared / "genes.tsv"), "--features",
            str(prepared / "features.npz"), "--predictions", f"seq_only={bad}", "--params",
            json.dumps(EXPR_PARAMS), "--metrics", str(tmp / "metrics.tsv"), "--ablation",
            str(tmp / "ablation.tsv")]


# --- evaluate


def _gates(tmp: Path, gates: list[dict] | str, tables: dict | None = None) -> list[str]:
    text = gates if isinstance(gates, str) else json.dumps(gates)
    return ["evaluate-gates", "--gates", text, "--tables", json.dumps(tables or {}), "--out",
            str(tmp / "out")]


GATE = {"name": "g", "table": "accessibility", "metric": "auROC", "model": "basset",
        "threshold": 0.5}


@case("evaluate", "evaluate.gates[g].table", "did you mean 'accessibility'")
def gates_unknown_table(base, tmp):
    return _gates(tmp, [{**GATE, "table": "acessibility"}])


@case("evaluate", "evaluate.gates[g]", "exactly one of threshold and compare_to")
def gates_threshold_and_compare_to(base, tmp):
    return _gates(tmp, [{**GATE, "compare_to": "kmer_lr"}])


@case("evaluate", "evaluate.gates[g].op", "unknown operator")
def gates_unknown_operator(base, tmp):
    return _gates(tmp, [{**GATE, "op": "=="}])


@case("evaluate", "evaluate.gates[g]", "lacks metric")
def gates_without_metric(base, tmp):
    return _gates(tmp, [{k: v for k, v in GATE.items() if k != "metric"}])


@case("evaluate", "--gates", "not valid JSON")
def gates_not_json(base, tmp):
    return _gates(tmp, "[{name: g}]")


@case("evaluate", "evaluate.gates[g]", "selects 2 rows", "aggregation")
def gates_select_several_rows(base, tmp):
    return _gates(tmp, [GATE], _metric_table(tmp, ("macro mean over tasks", "pooled")))


def _metric_table(tmp: Path, aggregations: tuple[str, ...]) -> dict[str, str]:
    """A metric table with one basset auROC row per aggregation, as the gates' tables."""
    rows = [{"model": "basset", "split": "test", "metric": "auROC", "task": "all",
             "aggregation": agg, "value": 0.9, "ci_low": 0.8, "ci_high": 0.95, "n": 10,
             "chromosome": "all"} for agg in aggregations]
    pd.DataFrame(rows).to_csv(tmp / "metrics.tsv", sep="\t", index=False)
    return {"accessibility": str(tmp / "metrics.tsv")}


@case("evaluate", "evaluate.gates[g].metric", "did you mean 'auROC'")
def gates_metric_typo(base, tmp):
    return _gates(tmp, [{**GATE, "metric": "auRoc"}], _metric_table(tmp, ("pooled",)))


@case("evaluate", "metrics.tsv", "not a metric table")
def gates_table_not_a_metric_table(base, tmp):
    write(tmp / "metrics.tsv", "model\tvalue\nbasset\t0.9\n")
    return _gates(tmp, [GATE], {"accessibility": str(tmp / "metrics.tsv")})


def _evaluate(ds: Path, tmp: Path, predictions: list[Path]) -> list[str]:
    return ["evaluate-accessibility", "--dataset-dir", str(ds), "--predictions",
            *map(str, predictions), "--params", json.dumps({"bootstrap": 0}),
            "--table", str(tmp / "out"), "--scores", str(tmp / "scores.npz")]


@case("evaluate", "test.npz", "damaged .npz", outputs=("out", "scores.npz"))
def evaluate_damaged_predictions(base, tmp):
    bad = write(tmp / "basset" / "seed1" / "test.npz", "not an npz")
    return _evaluate(base.dataset, tmp, [bad])


@case("evaluate", "chr3.h5", "chromosome chr3", outputs=("out", "scores.npz"))
def evaluate_bit_flipped_test_shard(base, tmp):
    ds = base.copy_dataset(tmp)
    flip_byte(_shard(ds, "chr3"), 3000)
    return _evaluate(ds, tmp, [])


@case("evaluate", "regions.tsv.gz", "md5", outputs=("out", "scores.npz"))
def evaluate_damaged_regions(base, tmp):
    ds = base.copy_dataset(tmp)
    flip_byte(ds / "regions.tsv.gz", 100)
    return _evaluate(ds, tmp, [])


# --- interpret


@case("interpret", "attributions.npz", "damaged .npz",
      outputs=("out", "patterns.npz", "logos.svg"))
def discover_motifs_damaged_attributions(base, tmp):
    bad = write(tmp / "attributions.npz", "garbage")
    return ["discover-motifs", "--attributions", str(bad), "--database", str(MOTIFS),
            "--model-name", "basset", "--out", str(tmp / "out"), "--figure",
            str(tmp / "logos"), "--patterns", str(tmp / "patterns.npz")]


@case("interpret", "--database", "JASPAR2024",
      outputs=("out", "patterns.npz", "logos.svg"))
def discover_motifs_unknown_database(base, tmp):
    return ["discover-motifs", "--attributions", str(tmp / "a.npz"), "--database", "JASPAR2042",
            "--model-name", "basset", "--out", str(tmp / "out"), "--figure",
            str(tmp / "logos"), "--patterns", str(tmp / "patterns.npz")]


@case("interpret", "model.keras", "damaged model file", outputs=("out", "bw"), needs_model=True)
def explain_with_damaged_model(base, tmp, model):
    shutil.copy(model, tmp / "model.keras")
    flip_byte(tmp / "model.keras", 2000)
    return ["explain", "--model", str(tmp / "model.keras"), "--dataset-dir", str(base.dataset),
            "--genome", str(base.study.genome), "--chrom-sizes", str(base.sizes), "--params",
            json.dumps({"peaks_per_task": 5, "ism_peaks_per_task": 0}), "--out",
            str(tmp / "out"), "--bigwig-dir", str(tmp / "bw")]


@case("interpret", "simulation.json", "lacks grammar")
def motif_recovery_simulation_record_of_another_version(base, tmp):
    bad = write(tmp / "patterns.npz", "garbage")
    return ["motif-recovery", "--patterns", f"basset={bad}", "--simulation",
            str(write(tmp / "simulation.json", '{"seed": 1}')), "--planted-motifs", str(MOTIFS),
            "--samples", str(REPO / "config" / "samples.tsv"), "--out", str(tmp / "out")]


@case("interpret", "demo.jaspar", "line 3", "JASPAR-format")
def motif_recovery_bad_motif_file(base, tmp):
    bad = write(tmp / "demo.jaspar", ">MA1 X\nA [ 1 2 ]\nG [ 1 2 ]\nC [ 1 2 ]\nT [ 1 2 ]\n")
    return ["motif-recovery", "--patterns", f"basset={tmp / 'p.npz'}", "--simulation",
            str(tmp / "simulation.json"), "--planted-motifs", str(bad),
            "--samples", str(REPO / "config" / "samples.tsv"), "--out", str(tmp / "out")]


# --- variants


def _score(base: Base, tmp: Path, vcf: Path, model: Path) -> list[str]:
    return ["score-variants", "--vcf", str(vcf), "--genome", str(base.study.genome), "--model",
            str(model), "--model-name", "basset", "--dataset-dir", str(base.dataset),
            "--no-progress", "--out-vcf", str(tmp / "out"), "--out-tsv", str(tmp / "out.tsv")]


SCORED = ("out", "out.tsv")


@case("variants", "alt.vcf", "line 8", "ALT 'X'", outputs=SCORED, needs_model=True)
def score_vcf_alt_not_an_allele(base, tmp, model):
    return _score(base, tmp, _vcf_with(base, tmp, "alt.vcf", "chr1\t300\t.\tA\tX\t.\t.\t."),
                  model)


@case("variants", "qual.vcf", "line 8", "QUAL 'inf'", outputs=SCORED, needs_model=True)
def score_vcf_infinite_qual(base, tmp, model):
    return _score(base, tmp, _vcf_with(base, tmp, "qual.vcf", "chr1\t300\t.\tA\tC\tinf\t.\t."),
                  model)


@case("variants", "pos.vcf", "line 8", "POS '1.5'", outputs=SCORED, needs_model=True)
def score_vcf_fractional_position(base, tmp, model):
    return _score(base, tmp, _vcf_with(base, tmp, "pos.vcf", "chr1\t1.5\t.\tA\tC\t.\t.\t."),
                  model)


@case("variants", "nohead.vcf", "#CHROM", outputs=SCORED, needs_model=True)
def score_vcf_without_header(base, tmp, model):
    return _score(base, tmp, write(tmp / "nohead.vcf", "##fileformat=VCFv4.2\n"), model)


@case("variants", "bin.vcf.gz", "cannot read the VCF", outputs=SCORED, needs_model=True)
def score_vcf_corrupt_gzip(base, tmp, model):
    data = gzip.compress(base.vcf.read_bytes())
    (tmp / "bin.vcf.gz").write_bytes(data[: len(data) // 2])
    return _score(base, tmp, tmp / "bin.vcf.gz", model)


@case("variants", "model.keras", "damaged model file", outputs=SCORED, needs_model=True)
def score_with_damaged_model(base, tmp, model):
    shutil.copy(model, tmp / "model.keras")
    truncate(tmp / "model.keras", 0.3)
    return _score(base, tmp, base.vcf, tmp / "model.keras")


# --- report


@case("report", "scores.npz", "damaged .npz", outputs=("fig.pdf", "fig.svg", "fig.png"))
def figure_roc_pr_damaged_scores(base, tmp):
    bad = write(tmp / "scores.npz", "garbage")
    return ["figure", "roc-pr", "--scores", str(bad), "--out", str(tmp / "fig")]


@case("report", "metrics.tsv", "not a metric table", outputs=("fig.pdf", "fig.svg", "fig.png"))
def figure_task_bars_bad_table(base, tmp):
    write(tmp / "metrics.tsv", "a\tb\n1\t2\n")
    return ["figure", "task-bars", "--table", str(tmp / "metrics.tsv"), "--out",
            str(tmp / "fig")]


@case("report", "exon.gtf", "line 2", "start must be", outputs=("fig.pdf", "fig.svg", "fig.png"))
def figure_locus_bad_annotation(base, tmp):
    gtf = edited(base.gtf, tmp / "exon.gtf", swapped_exon)
    return ["figure", "locus", "--tasks", "alpha", "--observed", str(base.study.bigwigs[0]),
            "--predicted", str(base.study.bigwigs[0]), "--peaks", str(base.study.peaks[0]),
            "--gtf", str(gtf), "--chrom-sizes", str(base.sizes), "--locus", "chr1:1000-3000",
            "--out", str(tmp / "fig")]


@case("report", "history.tsv", "history", outputs=("fig.pdf", "fig.svg", "fig.png"))
def figure_training_curves_bad_history(base, tmp):
    bad = write(tmp / "basset" / "seed1" / "history.tsv", "nothing\n1\n")
    return ["figure", "training-curves", "--histories", str(bad), "--out", str(tmp / "fig")]


# --- files that are missing, directories, empty or cut short (every stage reads files)


def _gz_cut(src: Path, dst: Path) -> Path:
    data = gzip.compress(src.read_bytes())
    dst.write_bytes(data[: len(data) // 2])
    return dst


#: stage, case name, command builder, what the message names
UNREADABLE: list[tuple[str, str, Callable[[Base, Path], list[str]], tuple[str, ...]]] = [
    ("config", "config_file_missing", lambda b, t: ["validate-config", str(t / "none.yaml")],
     ("none.yaml", "no such file")),
    ("download", "ingest_input_is_a_directory",
     lambda b, t: _ingest(b, "peaks", t, t), ("is a directory",)),
    ("download", "ingest_annotation_missing",
     lambda b, t: _ingest(b, "gtf", t / "none.gtf", t), ("none.gtf", "no such file")),
    ("download", "ingest_chrom_sizes_missing", lambda b, t: [
        "ingest", "peaks", "--input", str(b.study.peaks[0]), "--output", str(t / "out"),
        "--chrom-sizes", str(t / "none.sizes")], ("none.sizes", "no such file")),
    ("download", "ingest_genome_missing",
     lambda b, t: _fasta_ingest(t / "none.fa", t, ["chr1"]), ("none.fa", "no such file")),
    ("download", "ingest_vcf_missing",
     lambda b, t: _ingest(b, "vcf", t / "none.vcf", t), ("none.vcf", "no such file")),
    ("download", "ingest_truncated_gzip_peaks",
     lambda b, t: _ingest(b, "peaks", _gz_cut(b.study.peaks[0], t / "p.bed.gz"), t),
     ("p.bed.gz", "cannot read as text")),
    ("download", "ingest_chrom_sizes_not_sizes", lambda b, t: [
        "ingest", "peaks", "--input", str(b.study.peaks[0]), "--output", str(t / "out"),
        "--chrom-sizes", str(b.study.genome)], ("genome.fa", "line 1", "chrom.sizes")),
    ("preprocess", "plan_truncated_gzip_peaks", lambda b, t: _plan(
        b, t, peaks=[_gz_cut(b.study.peaks[0], t / "p.bed.gz"), *b.study.peaks[1:]]),
     ("p.bed.gz", "cannot read as text")),
    ("preprocess", "plan_genome_missing", lambda b, t: _plan(b, t, genome=t / "none.fa"),
     ("none.fa", "not found")),
    ("preprocess", "plan_samples_table_empty", lambda b, t: [
        *_plan(b, t)[:4], str(write(t / "empty.tsv", "")), *_plan(b, t)[5:]],
     ("empty.tsv", "samples table")),
    ("expression", "prepare_expression_table_missing",
     lambda b, t: _prepare(b, t, expression=t / "none.tsv"), ("none.tsv", "no such file")),
    ("evaluate", "gates_metric_table_missing", lambda b, t: _gates(
        t, [GATE], {"accessibility": str(t / "none.tsv")}), ("none.tsv", "not found")),
    ("report", "figure_scores_missing", lambda b, t: [
        "figure", "roc-pr", "--scores", str(t / "none.npz"), "--out", str(t / "fig")],
     ("none.npz", "not found")),
]
for _stage, _name, _build, _expect in UNREADABLE:
    CASES.append(Case(_name, _stage, _build, _expect, ("out",)))


# ----------------------------------------------------------------------------- the checks


def _temporaries(root: Path) -> list[Path]:
    """Files an interrupted atomic write would leave (``.name.XXXX.tmp...``)."""
    return [p for p in root.rglob(".*") if ".tmp" in p.name]


@pytest.mark.parametrize("c", CASES, ids=[f"{c.stage}-{c.name}" for c in CASES])
def test_bad_input_is_refused_with_a_message(c: Case, base: Base, tmp_path: Path,
                                             request: pytest.FixtureRequest, capsys) -> None:
    extra = [request.getfixturevalue("model")] if c.needs_model else []
    if "prepared" in c.build.__code__.co_varnames[: c.build.__code__.co_argcount]:
        extra = [request.getfixturevalue("prepared")]
    argv = c.build(base, tmp_path, *extra)
    capsys.readouterr()
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err[-2000:]
    assert "Traceback" not in err
    message = err.split(": error: ", 1)[1].strip()
    lines = message.splitlines()
    assert len(lines) <= 20 and max(map(len, lines)) <= 500, message
    assert "\n  fix: " in message, message
    for text in c.expect:
        assert text in message, (text, message)
    for out in c.outputs:
        assert not (tmp_path / out).exists(), out
    assert not _temporaries(tmp_path), _temporaries(tmp_path)


def test_the_catalogue_covers_every_stage() -> None:
    from seq2func.cli import STAGES

    counts = pd.Series([c.stage for c in CASES]).value_counts()
    assert set(counts.index) == set(STAGES), counts
    assert len(CASES) >= 60


# ----------------------------------------------------------------------------- controls


def _nan_signal(base: Base, tmp: Path) -> list[str]:
    """preprocess-plan with a bigWig storing NaN (no data): accepted, no crash."""
    import pyBigWig

    path = tmp / "nan.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(base.study.sizes.items()), maxZooms=2)
    for c in base.study.sizes:
        bw.addEntries(c, [100, 200], values=[3.0, float("nan")], span=50)
    bw.close()
    return _plan(base, tmp, bigwigs=[path, *base.study.bigwigs[1:]])


CONTROLS = {
    "validate-config": lambda b, t: _config(b, t, lambda c: None),
    "ingest-fasta": lambda b, t: _fasta_ingest(b.study.genome, t, ["chr1", "chr2"]),
    "ingest-bigwig": lambda b, t: _ingest(b, "bigwig", b.study.bigwigs[0], t),
    "ingest-peaks": lambda b, t: _ingest(b, "peaks", b.study.peaks[0], t),
    "ingest-gtf": lambda b, t: _ingest(b, "gtf", b.gtf, t),
    "ingest-vcf": lambda b, t: _ingest(b, "vcf", b.vcf, t),
    "ingest-expression": lambda b, t: _expression(b, t, b.rsem),
    "preprocess-plan": lambda b, t: _plan(b, t),
    "preprocess-plan-nan-signal": _nan_signal,
    "expression-prepare": lambda b, t: _prepare(b, t),
    "evaluate-gates": lambda b, t: _gates(t, [{**GATE, "table": "motifs"}]),
}


@pytest.mark.parametrize("name", CONTROLS)
def test_the_same_commands_accept_the_good_inputs(name: str, base: Base, tmp_path: Path) -> None:
    """Each case differs from one of these runs by its one bad input."""
    assert main(CONTROLS[name](base, tmp_path)) == 0


# ----------------------------------------------------------------------------- workflow start-up


def _workdir(tmp: Path, study: dict | None = None) -> tuple[Path, list[str]]:
    """A working directory with the demo config, and the demo extended by ``study.yaml`` if
    given (``--configfile config/config.yaml study.yaml``: a --configfile alone does not read
    the demo)."""
    (tmp / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "config.yaml", tmp / "config" / "config.yaml")
    shutil.copy(REPO / "config" / "samples.tsv", tmp / "config" / "samples.tsv")
    (tmp / "resources" / "motifs").mkdir(parents=True, exist_ok=True)
    shutil.copy(MOTIFS, tmp / "resources" / "motifs" / MOTIFS.name)
    if study is None:
        return tmp, []
    write(tmp / "study.yaml", yaml.safe_dump(study, sort_keys=False))
    return tmp, ["--configfile", str(tmp / "config" / "config.yaml"), str(tmp / "study.yaml")]


STARTUP = {
    # a key of the --configfile is reported in that file, not in config/config.yaml
    "tracks_model_typo": ({"evaluate": {"tracks": {"models": ["baset"]}}},
                          ("study.yaml", "evaluate.tracks.models", "did you mean 'basset'")),
    "gate_table_typo": ({"evaluate": {"gates": [{**GATE, "table": "expresion"}]}},
                        ("study.yaml", "evaluate.gates[g].table", "did you mean 'expression'")),
    "split_not_in_genome": ({"split": {"valid": ["chr5"], "test": ["chr7"]}},
                            ("study.yaml", "split.test", "chr7")),
    "flank_not_divisible": ({"expression": {"chromatin": {"flank": 1000, "bin_size": 300}}},
                            ("study.yaml", "expression.chromatin.bin_size")),
    "braces_in_samples_path": ({"samples": "config/samples_{x}.tsv"},
                               ("study.yaml", "'samples'", "braces")),
    "interpret_model_typo": ({"interpret": {"models": ["basst"]}},
                             ("study.yaml", "interpret.models", "did you mean 'basset'")),
    # the workflow's own config: a YAML syntax error names file and line
    "yaml_syntax_error": (None, ("config/config.yaml", "line", "not valid YAML")),
}


@pytest.mark.parametrize("name", STARTUP)
def test_workflow_start_up_refuses_a_bad_config(name: str, tmp_path: Path) -> None:
    study, expect = STARTUP[name]
    wd, args = _workdir(tmp_path, study)
    if study is None:
        cfg = wd / "config" / "config.yaml"
        cfg.write_text(cfg.read_text().replace("study: demo", "study: [demo", 1))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    res = subprocess.run(snakemake_cmd("-s", str(REPO / "Snakefile"), "-d", str(wd), "-n",
                                       *args), capture_output=True, text=True, timeout=300,
                         env=env, cwd=wd)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-2000:]
    assert "Traceback" not in out and "fix: " in out, out[-2000:]
    for text in expect:
        assert text in out, (text, out[-2000:])
    assert not (wd / "results").exists() and not (wd / "resources" / "demo").exists()


def test_a_configfile_with_fewer_chromosomes_replaces_the_mapping(tmp_path: Path) -> None:
    """Snakemake would merge simulate.chromosomes key by key (keeping the demo's chr3-chr5):
    the study's mapping is taken whole, and the log says so."""
    wd, args = _workdir(tmp_path, {"simulate": {"chromosomes": {
        "chr1": 500_000, "chr2": 400_000, "chr6": 300_000}},
        "split": {"valid": ["chr2"], "test": ["chr1"]}})
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    res = subprocess.run(snakemake_cmd("-s", str(REPO / "Snakefile"), "-d", str(wd), "-n", "-p",
                                       *args, "--", "resources/demo/genome/chrom.sizes"),
                         capture_output=True, text=True, timeout=300, env=env, cwd=wd)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-2000:]
    command = next(line for line in out.splitlines() if "seq2func simulate" in line)
    assert '"chr6": 300000' in command and '"chr3"' not in command
    assert "simulate.chromosomes: taken whole from" in out and "chr3, chr4, chr5 are not" in out
