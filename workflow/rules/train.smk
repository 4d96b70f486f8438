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
        model="|".join(ACC["models"]),
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
    shell:
        "seq2func train-accessibility --dataset-dir {params.dataset_dir:q}"
        " --name {wildcards.model:q} --spec {params.spec:q} --settings {params.settings:q}"
        " --seed {wildcards.seed:q} --threads {threads:q} --outdir {params.outdir:q}"
        " > {log:q} 2>&1"


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
        "../../envs/train.yaml"
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
