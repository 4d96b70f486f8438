# Preprocess bigWigs and peaks into a training set, scattered per chromosome:
# plan (checkpoint: checks inputs, lists chromosomes) -> one job per chromosome (HDF5 shard)
# -> gather (regions.tsv.gz, dataset.json, QC table) -> QC figure.
# The format is documented in src/seq2func/datasets.py and README ("Training sets").


include: "preprocess_common.smk"


checkpoint preprocess_plan:
    input:
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
        samples=config["samples"],
        bigwigs=[signal_bigwig(s) for s in SAMPLES],
        peaks=[peaks_file(s) for s in SAMPLES],
        blacklist=BLACKLIST,
    output:
        plan=f"{DATASET}/plan/plan.json",
        summits=f"{DATASET}/plan/summits.npz",
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
        split=as_json(config["split"]),
        study=STUDY,
        outdir=lambda wildcards, output: Path(output.plan).parent,
    shell:
        "seq2func preprocess-plan --genome {input.genome} --samples {input.samples}"
        " --bigwigs {input.bigwigs} --peaks {input.peaks} --blacklist {input.blacklist}"
        " --params {params.preprocess:q} --split {params.split:q} --study {params.study:q}"
        " --outdir {params.outdir} > {log} 2>&1"


rule preprocess_chrom:
    input:
        plan=f"{DATASET}/plan/plan.json",
        summits=f"{DATASET}/plan/summits.npz",
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
        bigwigs=[signal_bigwig(s) for s in SAMPLES],
    output:
        shard=f"{DATASET}/shards/{{chrom}}.h5",
        stats=f"{DATASET}/chroms/{{chrom}}.stats.json",
    log:
        f"{LOGS}/preprocess/chrom_{{chrom}}.log",
    benchmark:
        f"{BENCH}/preprocess/chrom_{{chrom}}.tsv"
    wildcard_constraints:
        chrom=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    conda:
        "../../envs/preprocess.yaml"
    # one thread reads and cuts windows, the others compress shard chunks
    threads: 2
    resources:
        # measured (bench/preprocess): ~220 MB + ~2.2 bytes per base of the chromosome
        mem_mb=lambda wc: 500 + 3 * _planned_chromosome_size(wc) // 1_000_000,
        runtime=lambda wc: 10 + _planned_chromosome_size(wc) // 5_000_000,
    params:
        plan_dir=lambda wildcards, input: Path(input.plan).parent,
    shell:
        "seq2func preprocess-chrom --plan-dir {params.plan_dir} --chrom {wildcards.chrom}"
        " --shard {output.shard} --stats {output.stats} --threads {threads}"
        " --no-progress > {log} 2>&1"


rule preprocess_gather:
    input:
        plan=f"{DATASET}/plan/plan.json",
        shards=preprocess_chrom_outputs(f"{DATASET}/shards/{{chrom}}.h5"),
        stats=preprocess_chrom_outputs(f"{DATASET}/chroms/{{chrom}}.stats.json"),
    output:
        dataset=f"{DATASET}/dataset.json",
        regions=f"{DATASET}/regions.tsv.gz",
        qc=f"{QC_DIR}/preprocess_qc.tsv",
        provenance=f"{DATASET}/dataset.json.provenance.json",
        qc_provenance=f"{QC_DIR}/preprocess_qc.tsv.provenance.json",
    log:
        f"{LOGS}/preprocess/gather.log",
    benchmark:
        f"{BENCH}/preprocess/gather.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        plan_dir=lambda wildcards, input: Path(input.plan).parent,
        dataset_dir=lambda wildcards, output: Path(output.dataset).parent,
    shell:
        "seq2func preprocess-gather --plan-dir {params.plan_dir}"
        " --dataset-dir {params.dataset_dir} --qc-table {output.qc} > {log} 2>&1"


rule preprocess_qc:
    input:
        plan=f"{DATASET}/plan/plan.json",
        dataset=f"{DATASET}/dataset.json",
        regions=f"{DATASET}/regions.tsv.gz",
        qc=f"{QC_DIR}/preprocess_qc.tsv",
    output:
        figure=report(
            f"{QC_DIR}/preprocess_qc.svg",
            caption="../report/preprocess_qc.rst",
            category="Preprocessing",
        ),
        provenance=f"{QC_DIR}/preprocess_qc.svg.provenance.json",
    log:
        f"{LOGS}/preprocess/qc.log",
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        plan_dir=lambda wildcards, input: Path(input.plan).parent,
        dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
    shell:
        "seq2func preprocess-qc --plan-dir {params.plan_dir} --dataset-dir {params.dataset_dir}"
        " --qc-table {input.qc} --figure {output.figure} > {log} 2>&1"
