# Expression models (issue 6): log1p(TPM) per sample from the oriented promoter sequence,
# alone or with chromatin around the TSS (observed, or predicted by the accessibility models),
# plus scikit-learn baselines, on the same chromosome split as the accessibility models.
# Training checkpoints every epoch (train.fit): a rerun resumes a killed job.


include: "expression_common.smk"


rule expression_prepare:
    input:
        gtf=GENES_GTF,
        expression=EXPRESSION,
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
        bigwigs=[signal_bigwig(s) for s in SAMPLES],
    output:
        genes=f"{EXPR_DIR}/genes.tsv",
        qc=f"{EXPR_DIR}/genes_qc.json",
        features=f"{EXPR_DIR}/features.npz",
    log:
        f"{LOGS}/expression/prepare.log",
    benchmark:
        f"{BENCH}/expression/prepare.tsv"
    conda:
        "../../envs/expression.yaml"
    threads: 1
    resources:
        # one bigWig chromosome (float32 + float64 cumulative sum) + the promoter codes
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        params=as_json(EXPR),
        split=as_json(config["split"]),
        exclude=config["preprocess"]["exclude_chromosomes"] or "",
        bigwigs=lambda wc, input: " ".join(
            f"{s}={p}" for s, p in zip(SAMPLES, input.bigwigs)
        ),
        outdir=lambda wildcards, output: Path(output.genes).parent,
    shell:
        "seq2func expression-prepare --annotation {input.gtf} --expression {input.expression}"
        " --genome {input.genome} --bigwigs {params.bigwigs} --split {params.split:q}"
        " --params {params.params:q} --exclude-regex {params.exclude:q}"
        " --outdir {params.outdir} > {log} 2>&1"


rule expression_predicted_chromatin:
    input:
        genes=f"{EXPR_DIR}/genes.tsv",
        genome=GENOME_FASTA,
        models=expression_accessibility_models(),
        dataset=f"{DATASET}/dataset.json",
    output:
        f"{EXPR_DIR}/predicted_chromatin.npz",
    log:
        f"{LOGS}/expression/predicted_chromatin.log",
    benchmark:
        f"{BENCH}/expression/predicted_chromatin.tsv"
    conda:
        "../../envs/expression.yaml"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
        gpu=ACC["gpus_per_job"],
    params:
        params=as_json(EXPR),
        tasks=lambda wc, input: " ".join(
            json.loads(Path(input.dataset).read_text())["tasks"]
        ),
    shell:
        "seq2func expression-predicted-chromatin --genes {input.genes} --genome {input.genome}"
        " --models {input.models} --tasks {params.tasks} --params {params.params:q}"
        " --threads {threads} --out {output} > {log} 2>&1"


rule train_expression:
    input:
        genes=f"{EXPR_DIR}/genes.tsv",
        features=f"{EXPR_DIR}/features.npz",
        predicted=lambda wc: (
            f"{EXPR_DIR}/predicted_chromatin.npz"
            if wc.variant == "seq_predicted"
            else []
        ),
    output:
        model=f"{EXPR_MODELS}/{{variant}}/seed{{seed}}/model.keras",
        history=f"{EXPR_MODELS}/{{variant}}/seed{{seed}}/history.tsv",
        run=f"{EXPR_MODELS}/{{variant}}/seed{{seed}}/run.json",
        predictions=f"{EXPR_MODELS}/{{variant}}/seed{{seed}}/predictions.npz",
    log:
        f"{LOGS}/train/expression_{{variant}}_seed{{seed}}.log",
    benchmark:
        f"{BENCH}/train/expression_{{variant}}_seed{{seed}}.tsv"
    wildcard_constraints:
        variant="seq_only|seq_observed|seq_predicted",
        seed=r"\d+",
    conda:
        "../../envs/expression.yaml"
    threads: 2
    resources:
        # all genes' one-hot promoters in memory (n x L x 4 float32) + TensorFlow
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
        gpu=ACC["gpus_per_job"],
    params:
        params=as_json(EXPR),
        predicted=lambda wc, input: (
            f"--predicted {input.predicted}" if input.predicted else ""
        ),
        outdir=lambda wildcards, output: Path(output.model).parent,
    shell:
        "seq2func train-expression --genes {input.genes} --features {input.features}"
        " {params.predicted} --variant {wildcards.variant} --params {params.params:q}"
        " --seed {wildcards.seed} --threads {threads} --outdir {params.outdir} > {log} 2>&1"


rule evaluate_expression:
    input:
        genes=f"{EXPR_DIR}/genes.tsv",
        features=f"{EXPR_DIR}/features.npz",
        predictions=list(expression_predictions().values()),
        truth=[EXPR_TRUTH] if EXPR_SIMULATED else [],
    output:
        metrics=METRIC_TABLES["expression"],
        ablation=f"{EXPR_EVAL}/expression_ablation.tsv",
        scatter=report(
            multiext(EXPR_FIGURES["scatter"], ".pdf", ".svg", ".png"),
            caption="../report/expression_scatter.rst",
            category="Expression",
        ),
        ablation_figure=report(
            multiext(EXPR_FIGURES["ablation"], ".pdf", ".svg", ".png"),
            caption="../report/expression_ablation.rst",
            category="Expression",
        ),
        explainable=[EXPR_EXPLAINABLE] if EXPR_SIMULATED else [],
    log:
        f"{LOGS}/expression/evaluate.log",
    benchmark:
        f"{BENCH}/expression/evaluate.tsv"
    conda:
        "../../envs/expression.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        params=as_json(EXPR),
        predictions=" ".join(
            f"{k.split('/')[0]}={v}" for k, v in expression_predictions().items()
        ),
        truth=lambda wc, input, output: (
            f"--truth {input.truth} --truth-out {output.explainable}"
            if input.truth
            else ""
        ),
        scatter=lambda wc, output: Path(output.scatter[0]).with_suffix(""),
        ablation_figure=lambda wc, output: Path(output.ablation_figure[0]).with_suffix(
            ""
        ),
    shell:
        "seq2func evaluate-expression --genes {input.genes} --features {input.features}"
        " --predictions {params.predictions} --params {params.params:q}"
        " --metrics {output.metrics} --ablation {output.ablation}"
        " --scatter {params.scatter} --ablation-figure {params.ablation_figure}"
        " {params.truth} > {log} 2>&1"
