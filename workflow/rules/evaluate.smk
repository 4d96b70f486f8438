# Accessibility evaluation on the held-out test chromosomes: metrics of every model (per seed and
# seed ensemble) against baselines fitted on the same split, controls and (simulated studies) the
# truth ceiling; predicted-accessibility bigWigs; quality gates over every registered metric table
# (METRIC_TABLES, read when the gate jobs are planned: tables registered by later files count).
# Figures and the `figures` target are in report.smk.

GATES_TABLE = f"{EVAL_DIR}/gates.tsv"
GATES_PASSED = f"{EVAL_DIR}/gates.passed"

METRIC_TABLES["accessibility"] = f"{EVAL_DIR}/accessibility_metrics.tsv"
# k-fold: each fold on its own test chromosomes, and the fold mean (accessibility.folds)
FOLD_TABLES = {f: f"{EVAL_DIR}/folds/{f}/accessibility_metrics.tsv" for f in ACC_FOLDS}
if FOLD_TABLES:
    METRIC_TABLES["accessibility_folds"] = f"{EVAL_DIR}/accessibility_folds.tsv"
# ChromBPNet's checks of each chrombpnet model (one table per model, one name for the gates)
BIAS_QC = {m: f"{EVAL_DIR}/bias_qc/{m}.tsv" for m in factorised_models()}
if BIAS_QC:
    METRIC_TABLES["bias"] = list(BIAS_QC.values())

# metrics, predicted tracks, gates (and their enforcement, if asked for)
TARGETS["evaluate"] = [
    METRIC_TABLES["accessibility"],
    *([METRIC_TABLES["accessibility_folds"]] if FOLD_TABLES else []),
    GATES_TABLE,
    *accessibility_tracks(),
    *BIAS_QC.values(),
    *([GATES_PASSED] if EVAL["enforce_gates"] else []),
]


rule bias_qc:
    input:
        bias=lambda wc: bias_model_file(wc.model),
        # the bias model and the bias-free seeds of the default split
        nobias=default_split_models,
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        bias_patterns=f"{INTERP_DIR}/{{model}}{BIAS_SUFFIX}/patterns.npz",
        nobias_patterns=f"{INTERP_DIR}/{{model}}/patterns.npz",
        truth=[f"{TRUTH_DIR}/enzyme_bias.tsv"] if SIMULATED else [],
    output:
        f"{EVAL_DIR}/bias_qc/{{model}}.tsv",
    log:
        f"{LOGS}/evaluate/bias_qc_{{model}}.log",
    benchmark:
        f"{BENCH}/evaluate/bias_qc_{{model}}.tsv"
    wildcard_constraints:
        model="|".join(factorised_models()) or "(?!)",
    conda:
        "../../envs/train.yaml"
    threads: INFERENCE_THREADS
    resources:
        # the test regions and a few hundred footprint sequences per enzyme pattern
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt,
        gpu=INFERENCE_GPUS,
    params:
        evaluate=as_json(EVAL),
        dataset_dir=upstream_dir(DATASET_DIR),
        truth=lambda wc, input: ["--truth", input.truth[0]] if input.truth else [],
    shell:
        "seq2func bias-qc --name {wildcards.model:q} --bias-model {input.bias:q}"
        " --nobias-model {input.nobias:q} --dataset-dir {params.dataset_dir:q}"
        " --bias-patterns {input.bias_patterns:q} --nobias-patterns {input.nobias_patterns:q}"
        " {params.truth:q} --params {params.evaluate:q} --threads {threads:q}"
        " --out {output:q} > {log:q} 2>&1"


rule evaluate_accessibility:
    input:
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        predictions=accessibility_predictions("test"),
        samples=config["samples"],
        truth=[f"{TRUTH_DIR}/cres.tsv"] if SIMULATED else [],
    output:
        table=report(
            METRIC_TABLES["accessibility"],
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
        dataset_dir=upstream_dir(DATASET_DIR),
        truth=["--truth-dir", TRUTH_DIR] if SIMULATED else [],
        fold=[],
    shell:
        "seq2func evaluate-accessibility --dataset-dir {params.dataset_dir:q}"
        " --predictions {input.predictions:q} --samples {input.samples:q} {params.truth:q}"
        " {params.fold:q} --params {params.evaluate:q} --table {output.table:q}"
        " --scores {output.scores:q} > {log:q} 2>&1"


# one fold: its runs' predictions of its test chromosomes, baselines fitted on its training
# chromosomes
use rule evaluate_accessibility as evaluate_accessibility_fold with:
    input:
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        predictions=lambda wc: accessibility_predictions("test", wc.fold),
        samples=config["samples"],
        truth=[f"{TRUTH_DIR}/cres.tsv"] if SIMULATED else [],
    output:
        table=f"{EVAL_DIR}/folds/{{fold}}/accessibility_metrics.tsv",
        scores=f"{EVAL_DIR}/folds/{{fold}}/accessibility_scores.npz",
    log:
        f"{LOGS}/evaluate/accessibility_{{fold}}.log",
    benchmark:
        f"{BENCH}/evaluate/accessibility_{{fold}}.tsv"
    wildcard_constraints:
        fold="|".join(ACC_FOLDS) or "(?!)",
    params:
        evaluate=as_json(EVAL),
        dataset_dir=upstream_dir(DATASET_DIR),
        truth=["--truth-dir", TRUTH_DIR] if SIMULATED else [],
        fold=lambda wc: ["--fold", wc.fold],


rule fold_summary:
    input:
        tables=list(FOLD_TABLES.values()),
    output:
        report(
            f"{EVAL_DIR}/accessibility_folds.tsv",
            caption="../report/accessibility_folds.rst",
            category="Evaluation",
            labels={"table": "k-fold accessibility metrics"},
        ),
    log:
        f"{LOGS}/evaluate/accessibility_folds.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        tables=lambda wc, input: [f"{f}={t}" for f, t in zip(FOLD_TABLES, input.tables)],
    shell:
        "seq2func fold-summary --tables {params.tables:q} --out {output:q} > {log:q} 2>&1"


rule accessibility_tracks:
    input:
        models=seed_models,
        dataset=DATASET_JSON,
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
        "../../envs/train.yaml"
    threads: INFERENCE_THREADS
    resources:
        # one chromosome of codes + TensorFlow (+ each seed's weights); predictions are
        # streamed per chunk; time grows with the seeds of the ensemble. Whole test
        # chromosomes of a real genome are millions of windows per seed: a GPU job.
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt * len(inference_files(wc.model)),
        gpu=INFERENCE_GPUS,
    params:
        dataset_dir=upstream_dir(DATASET_DIR),
        outdir=lambda wildcards, output: Path(output[0]).parent,
        stride=EVAL["tracks"]["stride"],
        batch_size=EVAL["tracks"]["batch_size"],
    shell:
        "seq2func accessibility-tracks --model {input.models:q}"
        " --dataset-dir {params.dataset_dir:q} --genome {input.genome:q} --split test"
        " --stride {params.stride:q} --batch-size {params.batch_size:q}"
        " --threads {threads:q} --outdir {params.outdir:q} --no-progress > {log:q} 2>&1"


rule evaluate_gates:
    input:
        # every registered table a gate names (tables of later stages too: read at planning)
        tables=lambda wc: [f for v in gate_tables().values() for f in as_list(v)],
    output:
        report(
            GATES_TABLE,
            caption="../report/gates.rst",
            category="Quality gates",
            labels={"table": "quality gates"},
        ),
    log:
        f"{LOGS}/evaluate/gates.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        gates=as_json(EVAL["gates"]),
        tables=lambda wc: json_text(gate_tables()),
    shell:
        "seq2func evaluate-gates --gates {params.gates:q} --tables {params.tables:q}"
        " --out {output:q} > {log:q} 2>&1"


rule enforce_gates:
    input:
        GATES_TABLE,
    output:
        GATES_PASSED,
    log:
        f"{LOGS}/evaluate/enforce_gates.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        gates=as_json(EVAL["gates"]),
    shell:
        # the message listing failed gates goes to the terminal, not only to the log
        "seq2func evaluate-gates --gates {params.gates:q} --check {input:q} --enforce"
        " --done {output:q} 2>&1 | tee {log:q}"
