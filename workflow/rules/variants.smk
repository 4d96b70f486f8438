# Variant effects: every variant of the study's VCF scored by each accessibility model (first
# seed; both strands averaged), optionally by the sequence-only expression model for variants
# in promoter windows (variants.expression_model); annotated VCF + TSV. On the demo, auROC of
# true-effect vs neutral variants against the simulator's truth (metric table "variants").

VAR = config["variants"]
VARIANTS_DIR = f"{OUT}/variants"
VARIANT_FIGURE = f"{OUT}/figures/variant_effects"
# download.smk defines DL (the download plan) and ingests a VCF only if the config lists one
HAS_VCF = config["source"] == "simulate" or (
    "DL" in globals() and "variants" in DL.paths
)


def variant_models():
    """Accessibility models that score variants (variants.models, or all)."""
    return VAR["models"] or list(ACC["models"])


def expression_inputs(wildcards):
    """Expression model and gene table, when variants.expression_model is set."""
    if not VAR["expression_model"]:
        return {}
    return {
        "expression_model": VAR["expression_model"],
        "genes": VAR["genes"] or f"{OUT}/expression/genes.tsv",
    }


def expression_args(wildcards, input):
    if not VAR["expression_model"]:
        return ""
    return f"--expression-model {input.expression_model} --genes {input.genes}"


rule score_variants:
    input:
        unpack(expression_inputs),
        vcf=VARIANTS_VCF,
        model=first_seed_model,
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
        runtime=lambda wc, attempt: 60 * attempt,
        gpu=ACC["gpus_per_job"],
    params:
        variants=as_json(VAR),
        dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
        expression=expression_args,
    shell:
        "seq2func score-variants --vcf {input.vcf} --genome {input.genome}"
        " --model {input.model} --model-name {wildcards.model}"
        " --dataset-dir {params.dataset_dir} --params {params.variants:q} {params.expression}"
        " --threads {threads} --no-progress --out-vcf {output.vcf} --out-tsv {output.tsv}"
        " > {log} 2>&1"


def variants_outputs():
    """Final targets of the variant stage."""
    if not HAS_VCF:
        return []
    out = [f"{VARIANTS_DIR}/{m}/variants.vcf" for m in variant_models()]
    if config["source"] == "simulate":
        out += [METRIC_TABLES["variants"], f"{VARIANT_FIGURE}.svg"]
    return out


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
            scores=lambda wildcards, input: " ".join(
                f"{m}={p}" for m, p in zip(variant_models(), input.scores)
            ),
            dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
        shell:
            "seq2func variant-metrics --scores {params.scores} --truth {input.truth}"
            " --dataset-dir {params.dataset_dir} --samples {input.samples}"
            " --out {output.table} --figure {VARIANT_FIGURE} > {log} 2>&1"
