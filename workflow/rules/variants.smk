# Variant effects: every variant of the study's VCF scored by each accessibility model (seed
# ensemble; both strands averaged), optionally by the sequence-only expression model for
# variants in promoter windows (variants.expression_model); annotated VCF + TSV with every
# score's p- and q-value against a null scored in the same job (variants.null_set). On the demo,
# auROC of true-effect vs neutral variants against the simulator's truth (metric table
# "variants"). Without a VCF (HAS_VCF, common.smk) nothing here is a target.

VARIANT_FIGURE = f"{FIGURES_DIR}/variant_effects"

if SIMULATED:
    METRIC_TABLES["variants"] = f"{EVAL_DIR}/variant_metrics.tsv"
    PAPER_FIGURES.append(VARIANT_FIGURE)

# scored VCFs of every scoring model (+ the truth comparison and its figure on the demo, which
# always has a VCF)
TARGETS["variants"] = (
    [f"{VARIANTS_DIR}/{m}/variants.vcf" for m in variant_models()] if HAS_VCF else []
)
if SIMULATED:
    TARGETS["variants"] += [METRIC_TABLES["variants"], *figure_files([VARIANT_FIGURE])]


rule score_variants:
    input:
        unpack(expression_inputs),
        vcf=VARIANTS_VCF,
        models=seed_models,
        dataset=DATASET_JSON,
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
        "../../envs/train.yaml"
    threads: INFERENCE_THREADS
    resources:
        # TensorFlow + model ~1.5 GB; one chunk of windows (chunk x input_length x 64 bytes)
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt * len(inference_files(wc.model)),
        gpu=INFERENCE_GPUS,
    params:
        variants=as_json(VAR),
        dataset_dir=upstream_dir(DATASET_DIR),
        expression=expression_args,
    shell:
        "seq2func score-variants --vcf {input.vcf:q} --genome {input.genome:q}"
        " --model {input.models:q} --model-name {wildcards.model:q}"
        " --dataset-dir {params.dataset_dir:q} --params {params.variants:q}"
        " {params.expression:q} --threads {threads:q} --no-progress"
        " --out-vcf {output.vcf:q} --out-tsv {output.tsv:q} > {log:q} 2>&1"


if SIMULATED:

    rule variant_metrics:
        input:
            scores=expand(
                f"{VARIANTS_DIR}/{{model}}/variants.tsv", model=variant_models()
            ),
            truth=f"{TRUTH_DIR}/variants.tsv",
            simulation=f"{TRUTH_DIR}/simulation.json",
            dataset=DATASET_JSON,
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
            # MODEL=variants.tsv
            scores=lambda wildcards, input: name_file_pairs(
                variant_models(), input.scores
            ),
            dataset_dir=upstream_dir(DATASET_DIR),
            stem=lambda wildcards, output: Path(output.figure).with_suffix(""),
            n_boot=VAR["bootstrap"],
        shell:
            "seq2func variant-metrics --scores {params.scores:q} --truth {input.truth:q}"
            " --simulation {input.simulation:q} --dataset-dir {params.dataset_dir:q}"
            " --samples {input.samples:q} --n-boot {params.n_boot:q}"
            " --out {output.table:q} --figure {params.stem:q} > {log:q} 2>&1"
