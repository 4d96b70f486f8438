# Interpretation of the accessibility models (seed ensembles): attributions of the strongest
# test-set peaks, or of all peaks out of fold with accessibility.folds (interpret.peaks;
# strand-averaged gradient x input; vectorised ISM on a few), TF-MoDISco motifs
# annotated with JASPAR, logos; in-silico grammar (motif marginalisation, pair spacing and
# orientation sweeps); on the demo, recovery of the planted motifs (metric table "motifs") and
# of the planted pair rules (metric table "grammar").

PAPER_FIGURES.extend(logo_figure(m) for m in interpret_models())
PAPER_FIGURES.extend(grammar_figure(m) for m in grammar_models())
if SIMULATED:
    METRIC_TABLES["motifs"] = f"{EVAL_DIR}/motif_recovery.tsv"
    METRIC_TABLES["grammar"] = f"{EVAL_DIR}/grammar_truth.tsv"

# motifs and logos of every explained model, grammar sweeps (+ the planted motifs' and pair
# rules' recovery on the demo)
TARGETS["interpret"] = [
    *[f"{INTERP_DIR}/{m}/motifs.tsv" for m in interpret_models()],
    *figure_files(logo_figure(m) for m in interpret_models()),
    *[f"{INTERP_DIR}/{m}/grammar_sweeps.tsv" for m in grammar_models()],
    *figure_files(grammar_figure(m) for m in grammar_models()),
    *([METRIC_TABLES["motifs"], METRIC_TABLES["grammar"]] if SIMULATED else []),
]


rule explain_accessibility:
    input:
        models=seed_models,
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
        chrom_sizes=CHROM_SIZES,
    output:
        attributions=f"{INTERP_DIR}/{{model}}/attributions.npz",
        bigwigs=expand(
            f"{INTERP_DIR}/{{{{model}}}}/attribution_bigwigs/{{task}}.bw", task=SAMPLES
        ),
    log:
        f"{LOGS}/interpret/explain_{{model}}.log",
    benchmark:
        f"{BENCH}/interpret/explain_{{model}}.tsv"
    wildcard_constraints:
        model="|".join(interpret_models()),
    conda:
        "../../envs/train.yaml"
    threads: INFERENCE_THREADS
    resources:
        # TensorFlow + model ~1.5 GB; gradients of peaks_per_task x tasks windows in batches
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt * len(inference_files(wc.model)),
        gpu=INFERENCE_GPUS,
    params:
        interpret=as_json(INTERP),
        target=explain_target,
        dataset_dir=upstream_dir(DATASET_DIR),
        bigwig_dir=lambda wildcards, output: Path(output.bigwigs[0]).parent,
    shell:
        "seq2func explain --model {input.models:q} --dataset-dir {params.dataset_dir:q}"
        " --genome {input.genome:q} --chrom-sizes {input.chrom_sizes:q}"
        " --params {params.interpret:q} --threads {threads:q} {params.target:q}"
        " --out {output.attributions:q} --bigwig-dir {params.bigwig_dir:q} > {log:q} 2>&1"


rule discover_motifs:
    input:
        f"{INTERP_DIR}/{{model}}/attributions.npz",
    output:
        motifs=f"{INTERP_DIR}/{{model}}/motifs.tsv",
        patterns=f"{INTERP_DIR}/{{model}}/patterns.npz",
        logos=report(
            f"{logo_figure('{model}')}.svg",
            caption="../report/motif_logos.rst",
            category="Interpretation",
        ),
        logos_other=multiext(logo_figure("{model}"), ".pdf", ".png"),
    log:
        f"{LOGS}/interpret/motifs_{{model}}.log",
    benchmark:
        f"{BENCH}/interpret/motifs_{{model}}.tsv"
    wildcard_constraints:
        model="|".join(interpret_models()),
    conda:
        "../../envs/interpret.yaml"
    # TF-MoDISco and the database match are single-threaded numpy (no --threads to pass)
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        interpret=as_json(INTERP),
        database=from_config(INTERP["motif_database"]),
        stem=lambda wildcards, output: Path(output.logos).with_suffix(""),
    shell:
        "seq2func discover-motifs --attributions {input:q} --params {params.interpret:q}"
        " --database {params.database:q} --model-name {wildcards.model:q}"
        " --out {output.motifs:q} --patterns {output.patterns:q} --figure {params.stem:q}"
        " > {log:q} 2>&1"


if SIMULATED:

    rule motif_recovery:
        input:
            patterns=expand(
                f"{INTERP_DIR}/{{model}}/patterns.npz", model=interpret_models()
            ),
            simulation=f"{TRUTH_DIR}/simulation.json",
            planted=PLANTED_MOTIFS,
            samples=config["samples"],
        output:
            METRIC_TABLES["motifs"],
        log:
            f"{LOGS}/interpret/motif_recovery.log",
        conda:
            "../../envs/interpret.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        params:
            # MODEL=patterns.npz
            patterns=lambda wildcards, input: name_file_pairs(
                interpret_models(), input.patterns
            ),
        shell:
            "seq2func motif-recovery --patterns {params.patterns:q}"
            " --simulation {input.simulation:q} --planted-motifs {input.planted:q}"
            " --samples {input.samples:q} --out {output:q} > {log:q} 2>&1"


rule grammar_experiments:
    input:
        models=seed_models,
        patterns=grammar_patterns,
        dataset=DATASET_JSON,
        regions=DATASET_REGIONS,
        genome=GENOME_FASTA,
        fai=GENOME_FAI,
    output:
        marginal=f"{INTERP_DIR}/{{model}}/grammar_marginal.tsv",
        sweeps=f"{INTERP_DIR}/{{model}}/grammar_sweeps.tsv",
        figure=figure_outputs(grammar_figure("{model}"), "../report/grammar_sweeps.rst"),
    log:
        f"{LOGS}/interpret/grammar_{{model}}.log",
    benchmark:
        f"{BENCH}/interpret/grammar_{{model}}.tsv"
    wildcard_constraints:
        model="|".join(grammar_models()) or "(?!)",
    priority: TAIL_PRIORITY
    conda:
        "../../envs/train.yaml"
    threads: INFERENCE_THREADS
    resources:
        # TensorFlow + model ~1 GB; a sweep's sequences (8 x spacings x backgrounds) at once
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 30 * attempt * len(inference_files(wc.model)),
        gpu=INFERENCE_GPUS,
    params:
        interpret=as_json(INTERP),
        database=from_config(INTERP["motif_database"]),
        patterns=lambda wildcards, input: (
            ["--patterns", *input.patterns] if input.patterns else []
        ),
        dataset_dir=upstream_dir(DATASET_DIR),
        stem=lambda wildcards, output: Path(output.figure[0]).with_suffix(""),
    shell:
        "seq2func grammar --model {input.models:q} --model-name {wildcards.model:q}"
        " --dataset-dir {params.dataset_dir:q} --genome {input.genome:q}"
        " {params.patterns:q} --database {params.database:q} --params {params.interpret:q}"
        " --marginal-out {output.marginal:q} --sweeps-out {output.sweeps:q}"
        " --figure {params.stem:q} --threads {threads:q} > {log:q} 2>&1"


if SIMULATED:

    rule grammar_truth:
        input:
            sweeps=expand(
                f"{INTERP_DIR}/{{model}}/grammar_sweeps.tsv", model=grammar_models()
            ),
            simulation=f"{TRUTH_DIR}/simulation.json",
            planted=PLANTED_MOTIFS,
            samples=config["samples"],
        output:
            METRIC_TABLES["grammar"],
        log:
            f"{LOGS}/interpret/grammar_truth.log",
        benchmark:
            f"{BENCH}/interpret/grammar_truth.tsv"
        conda:
            "../../envs/interpret.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        params:
            # MODEL=grammar_sweeps.tsv
            sweeps=lambda wildcards, input: name_file_pairs(
                grammar_models(), input.sweeps
            ),
            interpret=as_json(INTERP),
        shell:
            "seq2func grammar-truth --sweeps {params.sweeps:q}"
            " --simulation {input.simulation:q} --planted-motifs {input.planted:q}"
            " --samples {input.samples:q} --params {params.interpret:q} --out {output:q}"
            " > {log:q} 2>&1"
