# Accessibility models: one training job per model and run - a seed on the default split
# (`<model>/seed<k>`) or on a fold of accessibility.folds (`<model>/folds/<fold>/seed<k>`), a
# GPU job on clusters - then strand-averaged predictions on the run's validation and test
# chromosomes, and out-of-fold predictions of every region from the fold runs.
# Training checkpoints every epoch into <outdir>/checkpoints (not a declared output, so it
# survives a killed job): rerunning the workflow resumes from the last complete epoch.

ACC_RUN = f"{ACC_MODELS_DIR}/{{model}}/{{run}}"

# strand-averaged test-set predictions of every run; out-of-fold predictions with folds
TARGETS["train"] = [
    *accessibility_predictions("test"),
    *[p for f in ACC_FOLDS for p in accessibility_predictions("test", f)],
    *([f"{PRED_DIR}/{m}/oof.npz" for m in ACC["models"]] if ACC_FOLDS else []),
]


rule train_accessibility:
    input:
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        library_qc=library_qc_check(),
    output:
        model=f"{ACC_RUN}/model.keras",
        history=f"{ACC_RUN}/history.tsv",
        run=f"{ACC_RUN}/run.json",
    log:
        f"{LOGS}/train/accessibility_{{model}}/{{run}}.log",
    benchmark:
        f"{BENCH}/train/accessibility_{{model}}/{{run}}.tsv"
    wildcard_constraints:
        model="|".join(m for m in ACC["models"] if not factorised(m)) or "(?!)",
        run=RUN_PATTERN,
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
        settings=lambda wc: json_text(model_train_settings(wc.model)),
        dataset_dir=upstream_dir(DATASET_DIR),
        outdir=lambda wildcards, output: Path(output.model).parent,
        seed=lambda wc: run_seed(wc.run),
        fold=lambda wc: ["--fold", run_fold(wc.run)] if run_fold(wc.run) else [],
        bias=lambda wc, input: (
            ["--bias-model", input.bias] if "bias" in input.keys() else []
        ),
    shell:
        "seq2func train-accessibility --dataset-dir {params.dataset_dir:q}"
        " --name {wildcards.model:q} --spec {params.spec:q} --settings {params.settings:q}"
        " --seed {params.seed:q} {params.fold:q} --threads {threads:q}"
        " --outdir {params.outdir:q} {params.bias:q} > {log:q} 2>&1"


# a chrombpnet model: the same job, on top of its bias model (of the same split), also
# writing the bias-free part
use rule train_accessibility as train_chrombpnet with:
    input:
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        library_qc=library_qc_check(),
        bias=lambda wc: bias_model_file(wc.model, run_fold(wc.run)),
    output:
        model=f"{ACC_RUN}/model.keras",
        nobias=f"{ACC_RUN}/nobias.keras",
        history=f"{ACC_RUN}/history.tsv",
        run=f"{ACC_RUN}/run.json",
    log:
        f"{LOGS}/train/accessibility_{{model}}/{{run}}.log",
    benchmark:
        f"{BENCH}/train/accessibility_{{model}}/{{run}}.tsv"
    wildcard_constraints:
        model="|".join(factorised_models()) or "(?!)",
        run=RUN_PATTERN,
    # bias model -> chrombpnet -> TF-MoDISco -> bias QC is the longest chain: start it first
    priority: 10


# the bias model of a chrombpnet model on the default split, trained once (with its first
# seed) for all its seeds
rule train_bias:
    input:
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        library_qc=library_qc_check(),
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
    # the start of the longest chain (bias -> chrombpnet -> TF-MoDISco -> bias QC)
    priority: 10
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
        fold=lambda wc: ["--fold", wc.fold] if "fold" in wc.keys() else [],
        dataset_dir=upstream_dir(DATASET_DIR),
        outdir=lambda wildcards, output: Path(output.model).parent,
    shell:
        "seq2func train-bias --dataset-dir {params.dataset_dir:q} --name {wildcards.model:q}"
        " --spec {params.spec:q} --settings {params.settings:q} --seed {params.seed:q}"
        " {params.fold:q} --threads {threads:q} --outdir {params.outdir:q} > {log:q} 2>&1"


# the bias model of one fold: the same job on the fold's training chromosomes
use rule train_bias as train_bias_fold with:
    output:
        model=f"{ACC_MODELS_DIR}/{{model}}/folds/{{fold}}/bias/model.keras",
        history=f"{ACC_MODELS_DIR}/{{model}}/folds/{{fold}}/bias/history.tsv",
        run=f"{ACC_MODELS_DIR}/{{model}}/folds/{{fold}}/bias/run.json",
    log:
        f"{LOGS}/train/bias_{{model}}_{{fold}}.log",
    benchmark:
        f"{BENCH}/train/bias_{{model}}_{{fold}}.tsv"
    wildcard_constraints:
        model="|".join(factorised_models()) or "(?!)",
        fold="|".join(ACC_FOLDS) or "(?!)",


rule predict_accessibility:
    input:
        model=f"{ACC_RUN}/model.keras",
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
    output:
        f"{PRED_DIR}/{{model}}/{{run}}/{{split}}.npz",
    log:
        f"{LOGS}/predict/accessibility_{{model}}/{{run}}_{{split}}.log",
    wildcard_constraints:
        model="|".join(ACC["models"]),
        run=RUN_PATTERN,
        split="valid|test",
    conda:
        "../../envs/evaluate.yaml"
    # a CPU job (~10^5 regions: minutes), so the CPU environment
    threads: INFERENCE_THREADS
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
    params:
        dataset_dir=upstream_dir(DATASET_DIR),
        fold=lambda wc: ["--fold", run_fold(wc.run)] if run_fold(wc.run) else [],
    shell:
        "seq2func predict-accessibility --model {input.model:q}"
        " --dataset-dir {params.dataset_dir:q} --split {wildcards.split:q} {params.fold:q}"
        " --threads {threads:q} --out {output:q} > {log:q} 2>&1"


# every region predicted by the runs of the folds that hold its chromosome out (test set)
rule predict_out_of_fold:
    input:
        models=lambda wc: [
            f"{ACC_MODELS_DIR}/{wc.model}/{r}/model.keras"
            for f in ACC_FOLDS
            for r in fold_runs(wc.model, f)
        ],
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
    output:
        f"{PRED_DIR}/{{model}}/oof.npz",
    log:
        f"{LOGS}/predict/accessibility_{{model}}_oof.log",
    benchmark:
        f"{BENCH}/predict/accessibility_{{model}}_oof.tsv"
    wildcard_constraints:
        model="|".join(ACC["models"]),
    conda:
        "../../envs/evaluate.yaml"
    threads: INFERENCE_THREADS
    resources:
        # every region once, by the seeds of its chromosome's fold
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt * len(model_seeds(wc.model)),
    params:
        dataset_dir=upstream_dir(DATASET_DIR),
    shell:
        "seq2func predict-out-of-fold --models {input.models:q}"
        " --dataset-dir {params.dataset_dir:q} --threads {threads:q} --out {output:q}"
        " > {log:q} 2>&1"
