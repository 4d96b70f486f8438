# Paper figures of the accessibility models and the `figures` target, which builds every paper
# figure the stages registered (PAPER_FIGURES, common.smk; read when the target is planned).
# The HTML report: snakemake --report results/report.html

ACC_FIGURES = {
    "training_curves": f"{FIGURES_DIR}/accessibility_training_curves",
    "roc_pr": f"{FIGURES_DIR}/accessibility_roc_pr",
    "counts_scatter": f"{FIGURES_DIR}/accessibility_counts_scatter",
    "task_bars": f"{FIGURES_DIR}/accessibility_task_bars",
    "locus": f"{FIGURES_DIR}/accessibility_locus",
}
# the counts scatter needs a model with a counts head (BPNet)
ACC_PAPER_FIGURES = [
    v
    for k, v in ACC_FIGURES.items()
    if k != "counts_scatter"
    or any(
        ACC["models"][m]["architecture"] in ("bpnet", "chrombpnet")
        for m in ACC["models"]
    )
]
PAPER_FIGURES.extend(ACC_PAPER_FIGURES)

TARGETS["report"] = figure_files(ACC_PAPER_FIGURES)


rule figure_training_curves:
    input:
        histories=[
            f"{ACC_MODELS_DIR}/{m}/{r}/history.tsv"
            for m in ACC["models"]
            for r in default_runs(m)
        ],
    output:
        figure_outputs(ACC_FIGURES["training_curves"], "../report/training_curves.rst"),
        provenance=f"{ACC_FIGURES['training_curves']}.provenance.json",
    log:
        f"{LOGS}/figures/training_curves.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
    shell:
        "seq2func figure training-curves --histories {input.histories:q}"
        " --out {params.stem:q} > {log:q} 2>&1"


rule figure_roc_pr:
    input:
        scores=f"{EVAL_DIR}/accessibility_scores.npz",
    output:
        figure_outputs(ACC_FIGURES["roc_pr"], "../report/roc_pr.rst"),
        provenance=f"{ACC_FIGURES['roc_pr']}.provenance.json",
    log:
        f"{LOGS}/figures/roc_pr.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
    shell:
        "seq2func figure roc-pr --scores {input.scores:q} --out {params.stem:q}"
        " > {log:q} 2>&1"


rule figure_counts_scatter:
    input:
        scores=f"{EVAL_DIR}/accessibility_scores.npz",
    output:
        figure_outputs(ACC_FIGURES["counts_scatter"], "../report/counts_scatter.rst"),
        provenance=f"{ACC_FIGURES['counts_scatter']}.provenance.json",
    log:
        f"{LOGS}/figures/counts_scatter.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
    shell:
        "seq2func figure counts-scatter --scores {input.scores:q} --out {params.stem:q}"
        " > {log:q} 2>&1"


rule figure_task_bars:
    input:
        table=METRIC_TABLES["accessibility"],
    output:
        figure_outputs(ACC_FIGURES["task_bars"], "../report/task_bars.rst"),
        provenance=f"{ACC_FIGURES['task_bars']}.provenance.json",
    log:
        f"{LOGS}/figures/task_bars.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
    shell:
        "seq2func figure task-bars --table {input.table:q} --metric auROC"
        " --out {params.stem:q} > {log:q} 2>&1"


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
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        stem=lambda wildcards, output: output.provenance.removesuffix(
            ".provenance.json"
        ),
        tasks=SAMPLES,
        chromosomes=from_config(config["split"]["test"]),
        locus=from_config(EVAL["locus"]),
        width=EVAL["locus_width"],
        label=lambda wc: ensemble_label(track_models()[0]),
    shell:
        "seq2func figure locus --tasks {params.tasks:q} --observed {input.observed:q}"
        " --predicted {input.predicted:q} --peaks {input.peaks:q} --gtf {input.gtf:q}"
        " --chrom-sizes {input.sizes:q} --chromosomes {params.chromosomes:q}"
        " --locus {params.locus:q} --width {params.width:q} --label {params.label:q}"
        " --out {params.stem:q} > {log:q} 2>&1"


rule figures:
    input:
        # every registered paper figure (read when planned: the include order does not matter)
        lambda wc: figure_files(PAPER_FIGURES),
    localrule: True
