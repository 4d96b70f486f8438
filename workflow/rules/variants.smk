# Variant effects: every variant of the study's VCF scored by each accessibility model (seed
# ensemble; both strands averaged), optionally by the sequence-only expression model for
# variants in promoter windows (variants.expression_model); annotated VCF + TSV. On the demo, auROC of
# true-effect vs neutral variants against the simulator's truth (metric table "variants").


include: "interpret_common.smk"


rule score_variants:
    input:
        unpack(expression_inputs),
        vcf=VARIANTS_VCF,
        models=seed_models,
        dataset=f"{DATASET}/dataset.json",
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
    output:
        vcf=f"{VARIANTS_DIR}/{{model}}/variants.vcf",
        tsv=f"{VARIANTS_DIR}/{{model}}/variants.tsv",
    log:
        f"{LOGS}/variants/score_{{model}}.log",
    benchmark:
        f"{BENCH}/variants/score_{{model}}.tsv"
    wildcard_constraints:
        model="|".join(ACC["models"]),
    conda:
        "../../envs/interpret.yaml"
    threads: 2
    resources:
        # TensorFlow + model ~1.5 GB; one chunk of windows (chunk x input_length x 64 bytes)
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt * len(model_seeds(wc.model)),
        gpu=ACC["gpus_per_job"],
    params:
        variants=as_json(VAR),
        dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
        expression=expression_args,
    shell:
        "seq2func score-variants --vcf {input.vcf} --genome {input.genome}"
        " --model {input.models} --model-name {wildcards.model}"
        " --dataset-dir {params.dataset_dir} --params {params.variants:q} {params.expression}"
        " --threads {threads} --no-progress --out-vcf {output.vcf} --out-tsv {output.tsv}"
        " > {log} 2>&1"


if config["source"] == "simulate":
    METRIC_TABLES["variants"] = f"{OUT}/evaluation/variant_metrics.tsv"
    PAPER_FIGURES.append(VARIANT_FIGURE)

    rule variant_metrics:
        input:
            scores=expand(
                f"{VARIANTS_DIR}/{{model}}/variants.tsv", model=variant_models()
            ),
            truth=f"{DEMO_TRUTH}/variants.tsv",
            dataset=f"{DATASET}/dataset.json",
            samples=config["samples"],
        output:
            table=METRIC_TABLES["variants"],
            figure=report(
                f"{VARIANT_FIGURE}.svg",
                caption="../report/variant_effects.rst",
                category="Variant effects",
            ),
            figure_other=multiext(VARIANT_FIGURE, ".pdf", ".png"),
        log:
            f"{LOGS}/variants/metrics.log",
        conda:
            "../../envs/interpret.yaml"
        threads: 1
        resources:
            mem_mb=1500,
            runtime=10,
        params:
            scores=lambda wildcards, input: model_file_pairs(
                variant_models(), input.scores
            ),
            dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
            stem=lambda wildcards, output: Path(output.figure).with_suffix(""),
        shell:
            "seq2func variant-metrics --scores {params.scores} --truth {input.truth}"
            " --dataset-dir {params.dataset_dir} --samples {input.samples}"
            " --out {output.table} --figure {params.stem} > {log} 2>&1"
