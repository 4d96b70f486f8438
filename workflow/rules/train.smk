# Accessibility models: one training job per model and seed (a GPU job on clusters), then
# strand-averaged predictions on the validation and test chromosomes.
# Training checkpoints every epoch into <outdir>/checkpoints (not a declared output, so it
# survives a killed job): rerunning the workflow resumes from the last complete epoch.


include: "train_common.smk"


rule train_accessibility:
    input:
        dataset=f"{DATASET}/dataset.json",
        regions=f"{DATASET}/regions.tsv.gz",
    output:
        model=f"{MODELS_DIR}/{{model}}/seed{{seed}}/model.keras",
        history=f"{MODELS_DIR}/{{model}}/seed{{seed}}/history.tsv",
        run=f"{MODELS_DIR}/{{model}}/seed{{seed}}/run.json",
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
        spec=lambda wc: as_json(ACC["models"][wc.model]),
        settings=as_json(ACC["train"]),
        dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
        outdir=lambda wildcards, output: Path(output.model).parent,
    shell:
        "seq2func train-accessibility --dataset-dir {params.dataset_dir} --name {wildcards.model}"
        " --spec {params.spec:q} --settings {params.settings:q} --seed {wildcards.seed}"
        " --threads {threads} --outdir {params.outdir} > {log} 2>&1"


rule predict_accessibility:
    input:
        model=f"{MODELS_DIR}/{{model}}/seed{{seed}}/model.keras",
        dataset=f"{DATASET}/dataset.json",
        regions=f"{DATASET}/regions.tsv.gz",
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
        dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
    shell:
        "seq2func predict-accessibility --model {input.model} --dataset-dir {params.dataset_dir}"
        " --split {wildcards.split} --threads {threads} --out {output} > {log} 2>&1"
