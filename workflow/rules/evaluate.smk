# Accessibility evaluation on the held-out test chromosomes: metrics of every model (per seed and
# seed ensemble) against baselines fitted on the same split, controls and (simulated studies) the
# truth ceiling; predicted-accessibility bigWigs; quality gates over every registered metric table.
# Figures and the `figures` target are in report.smk.


include: "evaluate_common.smk"


METRIC_TABLES["accessibility"] = f"{EVAL_DIR}/accessibility_metrics.tsv"


rule evaluate_accessibility:
    input:
        dataset=f"{DATASET}/dataset.json",
        regions=f"{DATASET}/regions.tsv.gz",
        predictions=accessibility_predictions("test"),
        samples=config["samples"],
        truth=[f"{TRUTH_DIR}/cres.tsv"] if TRUTH_DIR else [],
    output:
        table=report(
            f"{EVAL_DIR}/accessibility_metrics.tsv",
            caption="../report/accessibility_metrics.rst",
            category="Evaluation",
            labels={"table": "accessibility metrics"},
        ),
        scores=f"{EVAL_DIR}/accessibility_scores.npz",
    log:
        f"{LOGS}/evaluate/accessibility.log",
    benchmark:
        f"{BENCH}/evaluate/accessibility.tsv"
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    params:
        evaluate=as_json(EVAL),
        dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
        truth=f"--truth-dir {TRUTH_DIR}" if TRUTH_DIR else "",
    shell:
        "seq2func evaluate-accessibility --dataset-dir {params.dataset_dir}"
        " --predictions {input.predictions} --samples {input.samples} {params.truth}"
        " --params {params.evaluate:q} --table {output.table} --scores {output.scores}"
        " > {log} 2>&1"


rule accessibility_tracks:
    input:
        models=seed_models,
        dataset=f"{DATASET}/dataset.json",
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
    output:
        [f"{TRACKS_DIR}/{{model}}/{t}.bw" for t in SAMPLES],
    log:
        f"{LOGS}/evaluate/tracks_{{model}}.log",
    benchmark:
        f"{BENCH}/evaluate/tracks_{{model}}.tsv"
    wildcard_constraints:
        model="|".join(ACC["models"]),
    conda:
        "../../envs/evaluate.yaml"
    threads: 2
    resources:
        # one chromosome of codes + TensorFlow (+ each seed's weights); predictions are
        # streamed per chunk; time grows with the seeds of the ensemble. Whole test
        # chromosomes of a real genome are millions of windows per seed: a GPU job.
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt * len(model_seeds(wc.model)),
        gpu=ACC["gpus_per_job"],
    params:
        dataset_dir=lambda wildcards, input: Path(input.dataset).parent,
        outdir=lambda wildcards, output: Path(output[0]).parent,
        stride=EVAL["tracks"]["stride"],
        batch_size=EVAL["tracks"]["batch_size"],
    shell:
        "seq2func accessibility-tracks --model {input.models} --dataset-dir {params.dataset_dir}"
        " --genome {input.genome} --split test --stride {params.stride}"
        " --batch-size {params.batch_size} --threads {threads} --outdir {params.outdir}"
        " --no-progress > {log} 2>&1"
