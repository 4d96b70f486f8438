# Quality gates, paper figures and the `figures` target. Included last: the gates read every
# metric table and `figures` builds every stem that the stages registered (METRIC_TABLES,
# PAPER_FIGURES in common.smk). The HTML report: snakemake --report results/report.html
FIG_DIR = f"{OUT}/figures"
GATES_TABLE = f"{EVAL_DIR}/gates.tsv"
FIGURE_FORMATS = ["pdf", "svg", "png"]
ACC_FIGURES = {
    "training_curves": f"{FIG_DIR}/accessibility_training_curves",
    "roc_pr": f"{FIG_DIR}/accessibility_roc_pr",
    "counts_scatter": f"{FIG_DIR}/accessibility_counts_scatter",
    "task_bars": f"{FIG_DIR}/accessibility_task_bars",
    "locus": f"{FIG_DIR}/accessibility_locus",
}
PAPER_FIGURES += [
    v
    for k, v in ACC_FIGURES.items()
    if k != "counts_scatter"
    or any(ACC["models"][m]["architecture"] == "bpnet" for m in ACC["models"])
]


rule evaluate_gates:
    input:
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
        tables=as_json(gate_tables()),
    shell:
        "seq2func evaluate-gates --gates {params.gates:q} --tables {params.tables:q}"
        " --out {output} > {log} 2>&1"


rule enforce_gates:
    input:
        GATES_TABLE,
    output:
        f"{EVAL_DIR}/gates.passed",
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
        "seq2func evaluate-gates --gates {params.gates:q} --check {input} --enforce"
        " --done {output} 2>&1 | tee {log}"


rule figure_training_curves:
    input:
        histories=[f"{MODELS_DIR}/{m}/seed{s}/history.tsv" for m, s in trained_models()],
    output:
        figure_outputs(ACC_FIGURES["training_curves"], "../report/training_curves.rst"),
        provenance=f"{ACC_FIGURES['training_curves']}.provenance.json",
    log:
        f"{LOGS}/figures/training_curves.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
    shell:
        "seq2func figure training-curves --histories {input.histories}"
        " --out {params.stem} > {log} 2>&1"


rule figure_roc_pr:
    input:
        scores=f"{EVAL_DIR}/accessibility_scores.npz",
    output:
        figure_outputs(ACC_FIGURES["roc_pr"], "../report/roc_pr.rst"),
        provenance=f"{ACC_FIGURES['roc_pr']}.provenance.json",
    log:
        f"{LOGS}/figures/roc_pr.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
    shell:
        "seq2func figure roc-pr --scores {input.scores} --out {params.stem} > {log} 2>&1"


rule figure_counts_scatter:
    input:
        scores=f"{EVAL_DIR}/accessibility_scores.npz",
    output:
        figure_outputs(ACC_FIGURES["counts_scatter"], "../report/counts_scatter.rst"),
        provenance=f"{ACC_FIGURES['counts_scatter']}.provenance.json",
    log:
        f"{LOGS}/figures/counts_scatter.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
    shell:
        "seq2func figure counts-scatter --scores {input.scores} --out {params.stem}"
        " > {log} 2>&1"


rule figure_task_bars:
    input:
        table=METRIC_TABLES["accessibility"],
    output:
        figure_outputs(ACC_FIGURES["task_bars"], "../report/task_bars.rst"),
        provenance=f"{ACC_FIGURES['task_bars']}.provenance.json",
    log:
        f"{LOGS}/figures/task_bars.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
    shell:
        "seq2func figure task-bars --table {input.table} --metric auROC --out {params.stem}"
        " > {log} 2>&1"


rule figure_locus:
    input:
        observed=[signal_bigwig(s) for s in SAMPLES],
        predicted=[f"{locus_track_dir()}/{s}.bw" for s in SAMPLES],
        peaks=[peaks_file(s) for s in SAMPLES],
        gtf=GENES_GTF,
        sizes=CHROM_SIZES,
    output:
        figure_outputs(ACC_FIGURES["locus"], "../report/locus.rst"),
        provenance=f"{ACC_FIGURES['locus']}.provenance.json",
    log:
        f"{LOGS}/figures/locus.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
        tasks=SAMPLES,
        chromosomes=config["split"]["test"],
        locus=EVAL["locus"],
        width=EVAL["locus_width"],
        label=lambda wc: ensemble_label(track_models()[0]),
    shell:
        "seq2func figure locus --tasks {params.tasks} --observed {input.observed}"
        " --predicted {input.predicted} --peaks {input.peaks} --gtf {input.gtf}"
        " --chrom-sizes {input.sizes} --chromosomes {params.chromosomes}"
        " --locus {params.locus:q} --width {params.width} --label {params.label:q}"
        " --out {params.stem} > {log} 2>&1"


rule figures:
    input:
        [f"{stem}.{fmt}" for stem in PAPER_FIGURES for fmt in FIGURE_FORMATS],
    localrule: True
