# Expression models (issue 6): log1p(TPM) per sample from the oriented promoter sequence,
# alone or with chromatin around the TSS (observed, or predicted by the accessibility models),
# plus scikit-learn baselines, on the same chromosome split as the accessibility models.
# Training checkpoints every epoch (train.fit): a rerun resumes a killed job.

EXPR_RUN = f"{EXPR_MODELS_DIR}/{{variant}}/seed{{seed}}"
PREDICTED_CHROMATIN = f"{EXPR_DIR}/predicted_chromatin.npz"
EXPR_FIGURES = {
    "scatter": f"{FIGURES_DIR}/expression_scatter",
    "ablation": f"{FIGURES_DIR}/expression_ablation",
}
EXPR_METRICS = f"{EVAL_DIR}/expression_metrics.tsv"
EXPR_ABLATION = f"{EVAL_DIR}/expression_ablation.tsv"
# demo only: how much of the simulated expression the models explain
EXPR_TRUTH = f"{TRUTH_DIR}/expression_terms.tsv"
EXPR_EXPLAINABLE = f"{EVAL_DIR}/expression_explainable_variance.tsv"

# an accessibility-only study (no sample has an expression file: HAS_EXPRESSION, common.smk)
# registers nothing here, so no expression job is planned and the report has no expression part
if HAS_EXPRESSION:
    PAPER_FIGURES.extend(EXPR_FIGURES.values())
    METRIC_TABLES["expression"] = EXPR_METRICS
    if SIMULATED:
        METRIC_TABLES["expression_explainable_variance"] = EXPR_EXPLAINABLE
    # metrics, ablation, figures (+ the truth comparison on the demo)
    TARGETS["expression"] = [
        METRIC_TABLES["expression"],
        EXPR_ABLATION,
        *figure_files(EXPR_FIGURES.values()),
        *([EXPR_EXPLAINABLE] if SIMULATED else []),
    ]


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
        split=as_json(SPLIT),
        # optional: preprocess.exclude_chromosomes may be null
        exclude=from_config(
            ["--exclude-regex", config["preprocess"]["exclude_chromosomes"]]
            if config["preprocess"]["exclude_chromosomes"]
            else []
        ),
        bigwigs=lambda wc, input: name_file_pairs(SAMPLES, input.bigwigs),
        outdir=lambda wildcards, output: Path(output.genes).parent,
    shell:
        "seq2func expression-prepare --annotation {input.gtf:q}"
        " --expression {input.expression:q} --genome {input.genome:q}"
        " --bigwigs {params.bigwigs:q} --split {params.split:q} --params {params.params:q}"
        " {params.exclude:q} --outdir {params.outdir:q} > {log:q} 2>&1"


rule expression_predicted_chromatin:
    input:
        genes=f"{EXPR_DIR}/genes.tsv",
        genome=GENOME_FASTA,
        models=expression_accessibility_models(),
        dataset=DATASET_JSON,
    output:
        PREDICTED_CHROMATIN,
    log:
        f"{LOGS}/expression/predicted_chromatin.log",
    benchmark:
        f"{BENCH}/expression/predicted_chromatin.tsv"
    priority: TAIL_PRIORITY
    conda:
        "../../envs/train.yaml"
    threads: INFERENCE_THREADS
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
        gpu=INFERENCE_GPUS,
    params:
        params=as_json(EXPR),
        # the tasks (samples) of the training set, in its order
        # (a FileNotFoundError while the DAG is built defers it until the dataset exists)
        tasks=lambda wc, input: json.loads(Path(input.dataset).read_text())["tasks"],
        # cross-fitted (k-fold): FOLD=model.keras, with the folds' test chromosomes
        models=(
            ["--fold-models", *[f"{f}={m}" for f, m in expression_fold_models()]]
            + ["--dataset", DATASET_JSON]
            if EXPR_CROSS_FIT
            else ["--models", *expression_accessibility_models()]
        ),
    shell:
        "seq2func expression-predicted-chromatin --genes {input.genes:q}"
        " --genome {input.genome:q} {params.models:q} --tasks {params.tasks:q}"
        " --params {params.params:q} --threads {threads:q} --out {output:q} > {log:q} 2>&1"


rule train_expression:
    input:
        genes=f"{EXPR_DIR}/genes.tsv",
        features=f"{EXPR_DIR}/features.npz",
        predicted=lambda wc: (
            PREDICTED_CHROMATIN if wc.variant == "seq_predicted" else []
        ),
        warm_start=expression_warm_start,
    output:
        model=f"{EXPR_RUN}/model.keras",
        history=f"{EXPR_RUN}/history.tsv",
        run=f"{EXPR_RUN}/run.json",
        predictions=f"{EXPR_RUN}/predictions.npz",
    log:
        f"{LOGS}/train/expression_{{variant}}_seed{{seed}}.log",
    benchmark:
        f"{BENCH}/train/expression_{{variant}}_seed{{seed}}.tsv"
    wildcard_constraints:
        variant="seq_only|seq_observed|seq_predicted",
        seed=r"\d+",
    priority: TAIL_PRIORITY
    conda:
        "../../envs/train.yaml"
    threads: EXPRESSION_TRAIN_THREADS
    resources:
        # all genes' one-hot promoters in memory (n x L x 4 float32) + TensorFlow
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
        gpu=ACC["gpus_per_job"],
    params:
        params=as_json(EXPR),
        predicted=lambda wc, input: (
            ["--predicted", input.predicted] if input.predicted else []
        ),
        warm_start=lambda wc, input: (
            ["--warm-start", input.warm_start] if input.warm_start else []
        ),
        outdir=lambda wildcards, output: Path(output.model).parent,
    shell:
        "seq2func train-expression --genes {input.genes:q} --features {input.features:q}"
        " {params.predicted:q} {params.warm_start:q} --variant {wildcards.variant:q}"
        " --params {params.params:q}"
        " --seed {wildcards.seed:q} --threads {threads:q} --outdir {params.outdir:q}"
        " > {log:q} 2>&1"


rule evaluate_expression:
    input:
        genes=f"{EXPR_DIR}/genes.tsv",
        features=f"{EXPR_DIR}/features.npz",
        predictions=[path for _, path in expression_predictions()],
        truth=[EXPR_TRUTH] if SIMULATED else [],
    output:
        metrics=EXPR_METRICS,
        ablation=EXPR_ABLATION,
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
        explainable=[EXPR_EXPLAINABLE] if SIMULATED else [],
    log:
        f"{LOGS}/expression/evaluate.log",
    benchmark:
        f"{BENCH}/expression/evaluate.tsv"
    priority: TAIL_PRIORITY
    conda:
        "../../envs/expression.yaml"
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        params=as_json(EXPR),
        # VARIANT=path, one per seed
        predictions=[f"{v}={path}" for v, path in expression_predictions()],
        truth=(
            ["--truth", EXPR_TRUTH, "--truth-out", EXPR_EXPLAINABLE]
            if SIMULATED
            else []
        ),
        scatter=lambda wc, output: Path(output.scatter[0]).with_suffix(""),
        ablation_figure=lambda wc, output: Path(output.ablation_figure[0]).with_suffix(
            ""
        ),
    shell:
        "seq2func evaluate-expression --genes {input.genes:q} --features {input.features:q}"
        " --predictions {params.predictions:q} --params {params.params:q}"
        " --metrics {output.metrics:q} --ablation {output.ablation:q}"
        " --scatter {params.scatter:q} --ablation-figure {params.ablation_figure:q}"
        " {params.truth:q} > {log:q} 2>&1"
