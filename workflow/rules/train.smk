# Accessibility models: one training job per model and seed (a GPU job on clusters), then
# strand-averaged predictions on the validation and test chromosomes.
# Training checkpoints every epoch into <outdir>/checkpoints (not a declared output, so it
# survives a killed job): rerunning the workflow resumes from the last complete epoch.

# the accessibility models (also explained, scored and evaluated by the later stages)
ACC = config["accessibility"]
ACC_RUN = f"{ACC_MODELS_DIR}/{{model}}/seed{{seed}}"


def model_seeds(model):
    """Seeds of one accessibility model (its own `seeds` or accessibility.seeds)."""
    return ACC["models"][model].get("seeds", ACC["seeds"])


def seed_models(wildcards):
    """model.keras of every seed of {model}: interpretation, variant scores and tracks use
    their seed ensemble (mean of the seeds' probabilities, as in the evaluation)."""
    return [
        f"{ACC_MODELS_DIR}/{wildcards.model}/seed{s}/model.keras"
        for s in model_seeds(wildcards.model)
    ]


def ensemble_label(model):
    """How figures name a model's seed ensemble, e.g. `basset (2 seeds)`."""
    n = len(model_seeds(model))
    return f"{model} ({n} seed{'s' if n > 1 else ''})"


def trained_models():
    """(model, seed) pairs of the config."""
    return [(m, s) for m in ACC["models"] for s in model_seeds(m)]


def accessibility_predictions(split):
    return [f"{PRED_DIR}/{m}/seed{s}/{split}.npz" for m, s in trained_models()]


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
        spec=lambda wc: as_json(ACC["models"][wc.model]),
        settings=as_json(ACC["train"]),
        dataset_dir=DATASET_DIR,
        outdir=ACC_RUN,
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
        dataset_dir=DATASET_DIR,
    shell:
        "seq2func predict-accessibility --model {input.model:q}"
        " --dataset-dir {params.dataset_dir:q} --split {wildcards.split:q}"
        " --threads {threads:q} --out {output:q} > {log:q} 2>&1"
