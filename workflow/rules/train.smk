# Accessibility models: one training job per model and seed (a GPU job on clusters), then
# strand-averaged predictions on the validation and test chromosomes.
# Training checkpoints every epoch into <outdir>/checkpoints (not a declared output, so it
# survives a killed job): rerunning the workflow resumes from the last complete epoch.

ACC_RUN = f"{ACC_MODELS_DIR}/{{model}}/seed{{seed}}"

# strand-averaged test-set predictions of every seed
TARGETS["train"] = accessibility_predictions("test")


rule train_accessibility:
    input:
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
    output:
        model=f"{ACC_RUN}/model.keras",
        history=f"{ACC_RUN}/history.tsv",
        run=f"{ACC_RUN}/run.json",
    log:
        f"{LOGS}/train/accessibility_{{model}}_seed{{seed}}.log",
    benchmark:
        f"{BENCH}/train/accessibility_{{model}}_seed{{seed}}.tsv"
    wildcard_constraints:
        model="|".join(m for m in ACC["models"] if not factorised(m)) or "(?!)",
        seed=r"\d+",
    conda:
        "../../envs/train.yaml"
    # TensorFlow uses every thread it is given; on a GPU node these feed the input pipeline
    threads: 2
    resources:
        # the input pipeline streams shards (a few hundred MB); TensorFlow + model ~1.5 GB
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 120 * attempt,
        gpu=ACC["gpus_per_job"],
    params:
        spec=lambda wc: json_text(ACC["models"][wc.model]),
        settings=as_json(ACC["train"]),
        dataset_dir=upstream_dir(DATASET_DIR),
        outdir=lambda wildcards, output: Path(output.model).parent,
        bias=lambda wc, input: (
            ["--bias-model", input.bias] if "bias" in input.keys() else []
        ),
    shell:
        "seq2func train-accessibility --dataset-dir {params.dataset_dir:q}"
        " --name {wildcards.model:q} --spec {params.spec:q} --settings {params.settings:q}"
        " --seed {wildcards.seed:q} --threads {threads:q} --outdir {params.outdir:q}"
        " {params.bias:q} > {log:q} 2>&1"


# a chrombpnet model: the same job, on top of its bias model, also writing the bias-free part
use rule train_accessibility as train_chrombpnet with:
    input:
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        bias=lambda wc: bias_model_file(wc.model),
    output:
        model=f"{ACC_RUN}/model.keras",
        nobias=f"{ACC_RUN}/nobias.keras",
        history=f"{ACC_RUN}/history.tsv",
        run=f"{ACC_RUN}/run.json",
    log:
        f"{LOGS}/train/accessibility_{{model}}_seed{{seed}}.log",
    benchmark:
        f"{BENCH}/train/accessibility_{{model}}_seed{{seed}}.tsv"
    wildcard_constraints:
        model="|".join(factorised_models()) or "(?!)",
        seed=r"\d+",


# the bias model of a chrombpnet model, trained once (its first seed) for all its seeds
rule train_bias:
    input:
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
    output:
        model=f"{ACC_MODELS_DIR}/{{model}}/bias/model.keras",
        history=f"{ACC_MODELS_DIR}/{{model}}/bias/history.tsv",
        run=f"{ACC_MODELS_DIR}/{{model}}/bias/run.json",
    log:
        f"{LOGS}/train/bias_{{model}}.log",
    benchmark:
        f"{BENCH}/train/bias_{{model}}.tsv"
    wildcard_constraints:
        model="|".join(factorised_models()) or "(?!)",
    conda:
        "../../envs/train.yaml"
    threads: 2
    resources:
        # a small model on the background regions only
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
        gpu=ACC["gpus_per_job"],
    params:
        spec=lambda wc: json_text(ACC["models"][wc.model]),
        settings=as_json(ACC["train"]),
        seed=lambda wc: model_seeds(wc.model)[0],
        dataset_dir=upstream_dir(DATASET_DIR),
        outdir=lambda wildcards, output: Path(output.model).parent,
    shell:
        "seq2func train-bias --dataset-dir {params.dataset_dir:q} --name {wildcards.model:q}"
        " --spec {params.spec:q} --settings {params.settings:q} --seed {params.seed:q}"
        " --threads {threads:q} --outdir {params.outdir:q} > {log:q} 2>&1"


rule predict_accessibility:
    input:
        model=f"{ACC_RUN}/model.keras",
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
    output:
        f"{PRED_DIR}/{{model}}/seed{{seed}}/{{split}}.npz",
    log:
        f"{LOGS}/predict/accessibility_{{model}}_seed{{seed}}_{{split}}.log",
    wildcard_constraints:
        model="|".join(ACC["models"]),
        seed=r"\d+",
        split="valid|test",
    conda:
        "../../envs/evaluate.yaml"
    # a CPU job (~10^5 regions: minutes), so the CPU environment
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        dataset_dir=upstream_dir(DATASET_DIR),
    shell:
        "seq2func predict-accessibility --model {input.model:q}"
        " --dataset-dir {params.dataset_dir:q} --split {wildcards.split:q}"
        " --threads {threads:q} --out {output:q} > {log:q} 2>&1"
