# Interpretation of the accessibility models (seed ensembles): attributions of the strongest
# test-set peaks (strand-averaged gradient x input; vectorised ISM on a few), TF-MoDISco motifs annotated with
# JASPAR, logos; on the demo, recovery of the planted motifs (metric table "motifs").


include: "interpret_common.smk"


rule explain_accessibility:
    input:
        models=seed_models,
        dataset=f"{DATASET}/dataset.json",
        regions=f"{DATASET}/regions.tsv.gz",
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
        chrom_sizes=CHROM_SIZES,
    output:
        attributions=f"{INTERP_DIR}/{{model}}/attributions.npz",
        bigwigs=expand(
            f"{INTERP_DIR}/{{{{model}}}}/attribution_bigwigs/{{task}}.bw", task=SAMPLES
        ),
    log:
        f"{LOGS}/interpret/explain_{{model}}.log",
    benchmark:
        f"{BENCH}/interpret/explain_{{model}}.tsv"
    wildcard_constraints:
        model="|".join(ACC["models"]),
    conda:
        "../../envs/interpret.yaml"
    threads: 2
    resources:
        # TensorFlow + model ~1.5 GB; gradients of peaks_per_task x tasks windows in batches
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt * len(model_seeds(wc.model)),
        gpu=ACC["gpus_per_job"],
    params:
        interpret=as_json(INTERP),
        dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
        bigwig_dir=lambda wildcards, output: Path(output.bigwigs[0]).parent,
    shell:
        "seq2func explain --model {input.models} --dataset-dir {params.dataset_dir}"
        " --genome {input.genome} --chrom-sizes {input.chrom_sizes}"
        " --params {params.interpret:q} --threads {threads} --out {output.attributions}"
        " --bigwig-dir {params.bigwig_dir} > {log} 2>&1"


rule discover_motifs:
    input:
        f"{INTERP_DIR}/{{model}}/attributions.npz",
    output:
        motifs=f"{INTERP_DIR}/{{model}}/motifs.tsv",
        patterns=f"{INTERP_DIR}/{{model}}/patterns.npz",
        logos=report(
            f"{FIGURES_DIR}/motif_logos_{{model}}.svg",
            caption="../report/motif_logos.rst",
            category="Interpretation",
        ),
        logos_other=multiext(f"{FIGURES_DIR}/motif_logos_{{model}}", ".pdf", ".png"),
    log:
        f"{LOGS}/interpret/motifs_{{model}}.log",
    benchmark:
        f"{BENCH}/interpret/motifs_{{model}}.tsv"
    wildcard_constraints:
        model="|".join(ACC["models"]),
    conda:
        "../../envs/interpret.yaml"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        interpret=as_json(INTERP),
        database=INTERP["motif_database"],
        stem=lambda wildcards, output: Path(output.logos).with_suffix(""),
    shell:
        "seq2func discover-motifs --attributions {input} --params {params.interpret:q}"
        " --database {params.database:q} --model-name {wildcards.model}"
        " --out {output.motifs} --patterns {output.patterns} --figure {params.stem}"
        " > {log} 2>&1"


PAPER_FIGURES.extend(logo_figure(m) for m in interpret_models())

if config["source"] == "simulate":
    METRIC_TABLES["motifs"] = f"{OUT}/evaluation/motif_recovery.tsv"

    rule motif_recovery:
        input:
            patterns=expand(
                f"{INTERP_DIR}/{{model}}/patterns.npz", model=interpret_models()
            ),
            simulation=f"{DEMO_TRUTH}/simulation.json",
            planted=PLANTED_MOTIFS,
            samples=config["samples"],
        output:
            METRIC_TABLES["motifs"],
        log:
            f"{LOGS}/interpret/motif_recovery.log",
        conda:
            "../../envs/interpret.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        params:
            patterns=lambda wildcards, input: model_file_pairs(
                interpret_models(), input.patterns
            ),
        shell:
            "seq2func motif-recovery --patterns {params.patterns} --simulation {input.simulation}"
            " --planted-motifs {input.planted} --samples {input.samples} --out {output}"
            " > {log} 2>&1"
