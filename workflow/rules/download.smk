# Public data by accession (source: download): fetch each file once into
# resources/<study>/downloads/ (verified, resumable, with provenance), then ingest it into the
# canonical inputs of common.smk (chromosome names harmonised, other sequences dropped).
import os
import re

from seq2func.download.cutsites import signal_formats
from seq2func.download.fetch import SETTINGS_ENV, DownloadSettings
from seq2func.download.plan import DownloadPlan

DOWNLOAD = config["download"]
try:
    DL = DownloadPlan.from_config(
        DOWNLOAD,
        SAMPLES_TABLE,
        config["samples"],
        f"{RES}/downloads",
        source="configuration",
    )
except ConfigError as exc:
    raise WorkflowError(
        f"invalid configuration:\n{attribute(exc, config_sources(workflow))}"
    ) from None
except Seq2FuncError as exc:
    raise WorkflowError(f"invalid configuration:\n{exc}") from None

# A sample's signal is a bigWig (ingest_signal) or reads, counted into one (cutsites_signal).
try:
    SIGNAL_FORMAT = signal_formats(
        SAMPLES_TABLE,
        {s: DL.sample_file(s, "signal") for s in SAMPLES},
        config["samples"],
    )
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration:\n{exc}") from None
READ_SIGNAL = [s for s in SAMPLES if SIGNAL_FORMAT[s] != "bigwig"]
ASSAY = dict(zip(SAMPLES_TABLE["sample"], SAMPLES_TABLE["assay"]))
# wildcard constraints of the two rules: exactly their samples ("(?!)" never matches)
BIGWIG_SIGNAL_RE = (
    "|".join(re.escape(s) for s in SAMPLES if s not in READ_SIGNAL) or "(?!)"
)
READ_SIGNAL_RE = "|".join(re.escape(s) for s in READ_SIGNAL) or "(?!)"


if DOWNLOAD["offline"]:
    _missing = DL.missing_offline(DOWNLOAD["mirror"])
    if _missing:
        raise WorkflowError(
            f"download.offline is set but {len(_missing)} of {len(DL.files)} files are "
            "neither downloaded nor in the mirror:\n  "
            + "\n  ".join(_missing)
            + "\nfix: set download.mirror to a directory holding them (e.g. a copy of "
            f"{DL.downloads_dir}/ made on a machine with internet), or unset download.offline"
        )

# Transport settings (mirror, offline, retries, time-outs) reach the download jobs through the
# environment, not `params`: changing them must not make Snakemake download everything again.
os.environ[SETTINGS_ENV] = DownloadSettings.from_config(DOWNLOAD).to_json()


envvars:
    SETTINGS_ENV,


# Time limits (minutes) and disk (MB) of download jobs: the GRCh38 FASTA (~0.9 GB gzipped) and
# ENCODE signal bigWigs (1-3 GB) over slow links, with retries; everything else is < 100 MB.
DOWNLOAD_RUNTIME = {"genome": 240, "signal": 240}
DOWNLOAD_DISK_MB = {"genome": 2000, "signal": 5000}
EXPRESSION_SAMPLES = DL.expression_samples()

TARGETS["download"] = CANONICAL_INPUTS


wildcard_constraints:
    name="|".join(re.escape(n) for n in DL.files),
    sample="|".join(re.escape(s) for s in SAMPLES),


rule download:
    input:
        lambda wc: DL.local_input(wc.name),
    output:
        file=f"{DL.downloads_dir}/{{name}}",
        provenance=f"{DL.downloads_dir}/{{name}}.provenance.json",
    log:
        f"{LOGS}/download/{{name}}.log",
    benchmark:
        f"{BENCH}/download/{{name}}.tsv"
    localrule: DOWNLOAD["localrule"]
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=lambda wc: DOWNLOAD_RUNTIME.get(DL.role(wc.name), 60),
        disk_mb=lambda wc: DOWNLOAD_DISK_MB.get(DL.role(wc.name), 500),
        # cap concurrent transfers with --resources downloads=N (profiles/default: 2)
        downloads=1,
    params:
        source=lambda wc: DL.spec(wc.name).source,
        md5=lambda wc: DL.spec(wc.name).md5 or "",
        size=lambda wc: DL.spec(wc.name).size or "",
        role=lambda wc: DL.role(wc.name),
    shell:
        "seq2func fetch --source {params.source:q} --md5={params.md5:q} --size={params.size:q}"
        " --role {params.role:q} --output {output.file:q} > {log:q} 2>&1"


rule ingest_genome:
    input:
        fasta=DL.paths["genome"],
        provenance=DL.paths["genome"] + ".provenance.json",
    output:
        fasta=GENOME_FASTA,
        fai=GENOME_FAI,
        sizes=CHROM_SIZES,
        # with every sequence of the source (what reads of this genome may name)
        provenance=f"{GENOME_FASTA}.provenance.json",
    log:
        f"{LOGS}/ingest/genome.log",
    benchmark:
        f"{BENCH}/ingest/genome.tsv"
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        # one chromosome at a time: 0.87 GB measured for chr1's 249 Mb (bench/)
        mem_mb=2000,
        runtime=90,
    params:
        chromosomes=as_json(DOWNLOAD["chromosomes"]),
    shell:
        "seq2func ingest fasta --input {input.fasta:q} --output {output.fasta:q}"
        " --sizes-out {output.sizes:q} --chromosomes {params.chromosomes:q}"
        " --provenance {input.provenance:q} > {log:q} 2>&1"


rule ingest_blacklist:
    input:
        bed=DL.paths["blacklist"],
        provenance=DL.paths["blacklist"] + ".provenance.json",
        sizes=CHROM_SIZES,
    output:
        BLACKLIST,
    log:
        f"{LOGS}/ingest/blacklist.log",
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "seq2func ingest bed --input {input.bed:q} --output {output:q}"
        " --chrom-sizes {input.sizes:q} --provenance {input.provenance:q} > {log:q} 2>&1"


rule ingest_annotation:
    input:
        gtf=DL.paths["annotation"],
        provenance=DL.paths["annotation"] + ".provenance.json",
        sizes=CHROM_SIZES,
    output:
        GENES_GTF,
    log:
        f"{LOGS}/ingest/annotation.log",
    benchmark:
        f"{BENCH}/ingest/annotation.tsv"
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "seq2func ingest gtf --input {input.gtf:q} --output {output:q}"
        " --chrom-sizes {input.sizes:q} --provenance {input.provenance:q} > {log:q} 2>&1"


rule ingest_signal:
    input:
        bigwig=lambda wc: DL.sample_file(wc.sample, "signal"),
        provenance=lambda wc: DL.sample_file(wc.sample, "signal") + ".provenance.json",
        sizes=CHROM_SIZES,
    output:
        signal_bigwig("{sample}"),
    log:
        f"{LOGS}/ingest/signal_{{sample}}.log",
    benchmark:
        f"{BENCH}/ingest/signal_{{sample}}.tsv"
    wildcard_constraints:
        sample=BIGWIG_SIGNAL_RE,
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        # read in 16 Mb chunks: 0.28 GB measured (bench/ingest_throughput.py)
        mem_mb=1500,
        runtime=120,
    shell:
        "seq2func ingest bigwig --input {input.bigwig:q} --output {output:q}"
        " --chrom-sizes {input.sizes:q} --provenance {input.provenance:q} > {log:q} 2>&1"


rule cutsites_signal:
    input:
        reads=lambda wc: DL.sample_file(wc.sample, "signal"),
        provenance=lambda wc: DL.sample_file(wc.sample, "signal") + ".provenance.json",
        sizes=CHROM_SIZES,
        # the genome's every sequence: reads on one the study leaves out are dropped
        genome=f"{GENOME_FASTA}.provenance.json",
    output:
        signal_bigwig("{sample}"),
    log:
        f"{LOGS}/ingest/cutsites_{{sample}}.log",
    benchmark:
        f"{BENCH}/ingest/cutsites_{{sample}}.tsv"
    wildcard_constraints:
        sample=READ_SIGNAL_RE,
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        # one streaming pass, then one chromosome's cut sites at a time (int32, sorted):
        # 0.2 GB measured on 0.47 M yeast fragments (bench/fragments/); human chr1 of 100 M
        # fragments holds ~16 M cut sites (~0.2 GB)
        mem_mb=3000,
        runtime=240,
    params:
        format=lambda wc: SIGNAL_FORMAT[wc.sample],
        assay=lambda wc: ASSAY[wc.sample],
        settings=as_json(DOWNLOAD["cutsites"]),
    shell:
        "seq2func cutsites --input {input.reads:q} --format {params.format:q}"
        " --assay {params.assay:q} --settings {params.settings:q} --output {output:q}"
        " --chrom-sizes {input.sizes:q} --provenance {input.provenance:q}"
        " --genome-provenance {input.genome:q} > {log:q} 2>&1"


rule ingest_peaks:
    input:
        peaks=lambda wc: DL.sample_file(wc.sample, "peaks"),
        provenance=lambda wc: DL.sample_file(wc.sample, "peaks") + ".provenance.json",
        sizes=CHROM_SIZES,
    output:
        peaks_file("{sample}"),
    log:
        f"{LOGS}/ingest/peaks_{{sample}}.log",
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "seq2func ingest peaks --input {input.peaks:q} --output {output:q}"
        " --chrom-sizes {input.sizes:q} --provenance {input.provenance:q} > {log:q} 2>&1"


rule build_expression:
    input:
        quants=[DL.sample_file(s, "expression") for s in EXPRESSION_SAMPLES],
        provenance=[
            DL.sample_file(s, "expression") + ".provenance.json"
            for s in EXPRESSION_SAMPLES
        ],
        gtf=GENES_GTF,
    output:
        EXPRESSION,
    log:
        f"{LOGS}/ingest/expression.log",
    conda:
        "../../envs/download.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        pairs=name_file_pairs(
            EXPRESSION_SAMPLES,
            [DL.sample_file(s, "expression") for s in EXPRESSION_SAMPLES],
        ),
        # SAMPLE=COLUMN of the samples whose TPM column is named
        columns=lambda wc: DL.expression_columns(),
    shell:
        "seq2func ingest expression --input {params.pairs:q} --column {params.columns:q}"
        " --gtf {input.gtf:q} --output {output:q} --provenance {input.provenance:q}"
        " > {log:q} 2>&1"


# HAS_VCF (common.smk): download.variants names a VCF, which DL then plans to fetch
if HAS_VCF:

    rule ingest_variants:
        input:
            vcf=DL.paths["variants"],
            provenance=DL.paths["variants"] + ".provenance.json",
            sizes=CHROM_SIZES,
        output:
            VARIANTS_VCF,
        log:
            f"{LOGS}/ingest/variants.log",
        conda:
            "../../envs/download.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=30,
        shell:
            "seq2func ingest vcf --input {input.vcf:q} --output {output:q}"
            " --chrom-sizes {input.sizes:q} --provenance {input.provenance:q} > {log:q} 2>&1"
