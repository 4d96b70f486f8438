# Accessibility evaluation on the held-out test chromosomes: metrics of every model (per seed and
# seed ensemble) against baselines fitted on the same split, controls and (simulated studies) the
# truth ceiling; predicted-accessibility bigWigs; quality gates over every registered metric table
# (METRIC_TABLES, read when the gate jobs are planned: tables registered by later files count).
# Figures and the `figures` target are in report.smk.

GATES_TABLE = f"{EVAL_DIR}/gates.tsv"
GATES_PASSED = f"{EVAL_DIR}/gates.passed"

METRIC_TABLES["accessibility"] = f"{EVAL_DIR}/accessibility_metrics.tsv"

# metrics, predicted tracks, gates (and their enforcement, if asked for)
TARGETS["evaluate"] = [
    METRIC_TABLES["accessibility"],
    GATES_TABLE,
    *accessibility_tracks(),
    *([GATES_PASSED] if EVAL["enforce_gates"] else []),
]


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
    shell:
        "seq2func evaluate-accessibility --dataset-dir {params.dataset_dir:q}"
        " --predictions {input.predictions:q} --samples {input.samples:q} {params.truth:q}"
        " --params {params.evaluate:q} --table {output.table:q} --scores {output.scores:q}"
        " > {log:q} 2>&1"


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
        tables=lambda wc: list(gate_tables().values()),
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
