# Preprocess bigWigs and peaks into a training set, scattered over jobs:
# plan (checkpoint: checks inputs, lists chromosomes and jobs) -> one job per large chromosome
# or group of small ones (preprocess.group_bases; an HDF5 shard per chromosome)
# -> gather (regions.tsv.gz, dataset.json, QC table) -> QC figure.
# The format is documented in the seq2func.dataset package and README ("Training sets").

PREPROCESS_QC_FIGURE = f"{QC_DIR}/preprocess_qc.svg"
# Library QC (FRiP, TSS enrichment; seq2func.preprocess.library_qc) from the plan's inputs:
# a metric table for the gates. With evaluate.enforce_gates its gates are checked before
# any training job (library_qc_check, common.smk).
LIBRARY_QC_FIGURE = f"{QC_DIR}/library_qc.svg"
METRIC_TABLES["library_qc"] = LIBRARY_QC

TARGETS["preprocess"] = [DATASET_JSON, PREPROCESS_QC_FIGURE, LIBRARY_QC_FIGURE]


checkpoint preprocess_plan:
    input:
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
        samples=config["samples"],
        bigwigs=[signal_bigwig(s) for s in SAMPLES],
        peaks=[peaks_file(s) for s in SAMPLES],
        blacklist=BLACKLIST,
    output:
        plan=f"{PLAN_DIR}/plan.json",
        summits=f"{PLAN_DIR}/summits.npz",
    log:
        f"{LOGS}/preprocess/plan.log",
    benchmark:
        f"{BENCH}/preprocess/plan.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        preprocess=as_json(config["preprocess"]),
        split=as_json(SPLIT),
        study=STUDY,
        outdir=lambda wildcards, output: Path(output.plan).parent,
    shell:
        "seq2func preprocess-plan --genome {input.genome:q} --samples {input.samples:q}"
        " --bigwigs {input.bigwigs:q} --peaks {input.peaks:q} --blacklist {input.blacklist:q}"
        " --params {params.preprocess:q} --split {params.split:q} --study {params.study:q}"
        " --outdir {params.outdir:q} > {log:q} 2>&1"


rule preprocess_job:
    input:
        plan=f"{PLAN_DIR}/plan.json",
        summits=f"{PLAN_DIR}/summits.npz",
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
        bigwigs=[signal_bigwig(s) for s in SAMPLES],
    output:
        shards=directory(f"{DATASET_DIR}/shards/{{job}}"),
        stats=f"{DATASET_DIR}/chroms/{{job}}.stats.json",
    log:
        f"{LOGS}/preprocess/job_{{job}}.log",
    benchmark:
        f"{BENCH}/preprocess/job_{{job}}.tsv"
    wildcard_constraints:
        job=r"[A-Za-z0-9][A-Za-z0-9_.+-]*",
    # every model waits for the dataset: build it before other ready jobs
    priority: 10
    conda:
        "../../envs/preprocess.yaml"
    # one thread reads and cuts windows, the others compress shard chunks
    threads: 2
    resources:
        # measured (bench/preprocess): ~220 MB + ~2.2 bytes per base of the chromosome; the
        # chromosomes of a job are processed one after the other
        mem_mb=lambda wc: 500 + 3 * _planned_job_largest(wc) // 1_000_000,
        runtime=lambda wc: 10 + _planned_job_bases(wc) // 5_000_000,
    params:
        plan_dir=upstream_dir(PLAN_DIR),
    shell:
        "seq2func preprocess-job --plan-dir {params.plan_dir:q} --job {wildcards.job:q}"
        " --shard-dir {output.shards:q} --stats {output.stats:q} --threads {threads:q}"
        " --no-progress > {log:q} 2>&1"


rule preprocess_gather:
    input:
        plan=f"{PLAN_DIR}/plan.json",
        shards=preprocess_job_outputs(f"{DATASET_DIR}/shards/{{job}}"),
        stats=preprocess_job_outputs(f"{DATASET_DIR}/chroms/{{job}}.stats.json"),
    output:
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        qc=f"{QC_DIR}/preprocess_qc.tsv",
        provenance=f"{DATASET_JSON}.provenance.json",
        qc_provenance=f"{QC_DIR}/preprocess_qc.tsv.provenance.json",
    log:
        f"{LOGS}/preprocess/gather.log",
    benchmark:
        f"{BENCH}/preprocess/gather.tsv"
    # every model waits for the dataset: build it before other ready jobs
    priority: 10
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        plan_dir=upstream_dir(PLAN_DIR),
        dataset_dir=lambda wildcards, output: Path(output.dataset).parent,
    shell:
        "seq2func preprocess-gather --plan-dir {params.plan_dir:q}"
        " --dataset-dir {params.dataset_dir:q} --stats {input.stats:q}"
        " --qc-table {output.qc:q} > {log:q} 2>&1"


rule preprocess_qc:
    input:
        plan=f"{PLAN_DIR}/plan.json",
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        qc=f"{QC_DIR}/preprocess_qc.tsv",
    output:
        figure=report(
            PREPROCESS_QC_FIGURE,
            caption="../report/preprocess_qc.rst",
            category="Preprocessing",
        ),
        provenance=f"{PREPROCESS_QC_FIGURE}.provenance.json",
    log:
        f"{LOGS}/preprocess/qc.log",
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        plan_dir=upstream_dir(PLAN_DIR),
        dataset_dir=upstream_dir(DATASET_DIR),
    shell:
        "seq2func preprocess-qc --plan-dir {params.plan_dir:q}"
        " --dataset-dir {params.dataset_dir:q} --qc-table {input.qc:q}"
        " --figure {output.figure:q} > {log:q} 2>&1"


rule library_qc:
    input:
        plan=f"{PLAN_DIR}/plan.json",
        gtf=GENES_GTF,
        bigwigs=[signal_bigwig(s) for s in SAMPLES],
        peaks=[peaks_file(s) for s in SAMPLES],
    output:
        table=report(
            LIBRARY_QC,
            caption="../report/library_qc.rst",
            category="Preprocessing",
            labels={"table": "library QC"},
        ),
        provenance=f"{LIBRARY_QC}.provenance.json",
        profiles=f"{QC_DIR}/library_qc_tss_profiles.tsv",
        figure=report(
            LIBRARY_QC_FIGURE,
            caption="../report/library_qc.rst",
            category="Preprocessing",
            labels={"figure": "TSS enrichment"},
        ),
    log:
        f"{LOGS}/preprocess/library_qc.log",
    benchmark:
        f"{BENCH}/preprocess/library_qc.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    resources:
        # one chromosome of float32 values at a time (~1 GB for human chr1) + TSS windows
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=30,
    params:
        plan_dir=upstream_dir(PLAN_DIR),
        assembly=lambda wc: study_assembly(),
        library_qc=as_json(config["library_qc"]),
    shell:
        "seq2func library-qc --plan-dir {params.plan_dir:q} --annotation {input.gtf:q}"
        " --assembly {params.assembly:q} --params {params.library_qc:q}"
        " --table {output.table:q} --profiles {output.profiles:q}"
        " --figure {output.figure:q} > {log:q} 2>&1"


# the library QC gates alone, before training (requested only with evaluate.enforce_gates);
# the table is written by one job and enforced by another, so it stays when a gate fails
rule library_qc_gates:
    input:
        LIBRARY_QC,
    output:
        LIBRARY_QC_GATES,
    log:
        f"{LOGS}/preprocess/library_qc_gates.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        gates=lambda wc: json_text(library_qc_gates()),
        tables=lambda wc, input: json_text({"library_qc": input[0]}),
    shell:
        "seq2func evaluate-gates --gates {params.gates:q} --tables {params.tables:q}"
        " --out {output:q} > {log:q} 2>&1"


rule library_qc_enforce:
    input:
        LIBRARY_QC_GATES,
    output:
        LIBRARY_QC_PASSED,
    log:
        f"{LOGS}/preprocess/library_qc_enforce.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        gates=lambda wc: json_text(library_qc_gates()),
    shell:
        # the message listing failed gates goes to the terminal, not only to the log
        "seq2func evaluate-gates --gates {params.gates:q} --check {input:q} --enforce"
        " --done {output:q} 2>&1 | tee {log:q}"
