# Shared set-up of every stage file: configuration and samples validation, the shell prefix,
# every shared path (canonical inputs, output directories), the registries the stage files fill
# (TARGETS, PAPER_FIGURES, METRIC_TABLES) and small generic helpers. Nothing here refers to a
# name defined in a stage file.
import json
import shlex
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod

# Rules call the package through the shell function `seq2func` defined in the shell prefix
# below. It runs the workflow's own copy of the package (src/ on PYTHONPATH), also inside the
# per-step conda envs, which do not install seq2func.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)

from seq2func.cli.startup import (
    check_chromosomes,
    check_study,
    samples_with_expression,
    study_folds,
)  # noqa: E402
from seq2func.core.config import attribute  # noqa: E402
from seq2func.core.errors import ConfigError, Seq2FuncError  # noqa: E402

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"


def config_sources(workflow):
    """The config files in the order Snakemake merged them: the workflow's own `configfile:`
    first, then each --configfile (later ones win). Errors name the file a key came from.
    """
    cli = [str(f) for f in workflow.overwrite_configfiles]
    return [str(f) for f in workflow.configfiles if str(f) not in cli] + cli


# the whole configuration, checked across sections before anything runs (seq2func.cli.startup)
try:
    SAMPLES_TABLE, _notes = check_study(config, config_sources(workflow), SCHEMAS)
    check_chromosomes(
        config,
        config_sources(workflow),
        f"resources/{config['study']}/genome/chrom.sizes",
    )
    # the split to preprocess (with the folds accessibility.folds asks for) and those folds
    SPLIT, ACC_FOLDS = study_folds(config, config_sources(workflow))
except Seq2FuncError as exc:
    raise WorkflowError(f"invalid configuration:\n{exc}") from None
for _note in _notes:
    logger.warning(f"configuration: {_note}")

STUDY = config["study"]
RES = f"resources/{STUDY}"
OUT = f"results/{STUDY}"
SAMPLES = list(SAMPLES_TABLE["sample"])

# With --use-conda each rule's env provides `python`; otherwise use the interpreter running
# Snakemake, so the workflow also works from a venv that is not activated.
USE_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
PY = "python" if USE_CONDA else sys.executable


def _prefix_quote(path):
    """A path quoted for the shell, braces doubled: Snakemake formats the prefix like a shell
    command (hence also the doubled braces below)."""
    return shlex.quote(path).replace("{", "{{").replace("}", "}}")


_KEEP_PYTHONPATH = "${{PYTHONPATH:+:$PYTHONPATH}}"
shell.prefix(
    f"set -euo pipefail; export PYTHONPATH={_prefix_quote(SRC)}{_KEEP_PYTHONPATH}; "
    f'seq2func() {{{{ {_prefix_quote(PY)} -m seq2func "$@"; }}}}; '
)

# profiles/default (workstation) limits the jobs running at once to this machine's memory and to
# one GPU job. Snakemake also applies it under `--profile profiles/slurm`, where those limits
# would throttle the whole cluster run: say so (`--workflow-profile profiles/slurm` replaces it).
_LIMITS = {
    name: res.value
    for name, res in workflow.global_resources.items()
    if name in ("mem_mb", "gpu") and res.value is not None
}
if _LIMITS and workflow.global_resources["_nodes"].value is not None:
    logger.warning(
        "cluster run with global resource limits "
        + ", ".join(f"{k}={v}" for k, v in _LIMITS.items())
        + ": they cap all jobs running at once (e.g. one GPU job at a time). If they come from"
        " profiles/default (a workstation profile), run with --workflow-profile profiles/slurm"
        " instead of --profile profiles/slurm."
    )

# ----------------------------------------------------------------------------------- paths
# Every path the rules share, defined once. Stage files add only the files of their own stage.

# Canonical inputs, whatever their source (simulate.smk or download.smk writes them).
GENOME_FASTA = f"{RES}/genome/genome.fa"
GENOME_FAI = f"{RES}/genome/genome.fa.fai"
CHROM_SIZES = f"{RES}/genome/chrom.sizes"
BLACKLIST = f"{RES}/genome/blacklist.bed"
GENES_GTF = f"{RES}/genome/genes.gtf"
EXPRESSION = f"{RES}/expression/expression.tsv"
VARIANTS_VCF = f"{RES}/variants/variants.vcf"


def signal_bigwig(sample):
    return f"{RES}/signal/{sample}.bw"


def peaks_file(sample):
    return f"{RES}/peaks/{sample}.narrowPeak"


# Where the inputs come from. The demo simulates a VCF and expression (and the truth behind
# every input); a downloaded study has expression only if a sample of its table names an
# expression file (else it is an accessibility-only study: no expression stage), and a VCF only
# if download.variants names it.
SIMULATED = config["source"] == "simulate"
HAS_EXPRESSION = bool(samples_with_expression(config, SAMPLES_TABLE))
HAS_VCF = SIMULATED or bool(config["download"].get("variants"))

# The inputs every study has (expression: HAS_EXPRESSION; the VCF: HAS_VCF).
CANONICAL_INPUTS = [
    GENOME_FASTA,
    CHROM_SIZES,
    BLACKLIST,
    GENES_GTF,
    *([EXPRESSION] if HAS_EXPRESSION else []),
    *[signal_bigwig(s) for s in SAMPLES],
    *[peaks_file(s) for s in SAMPLES],
]

# the simulator's truth (demo only)
TRUTH_DIR = f"{RES}/truth"
# the JASPAR motifs the simulator plants: read from the working directory by the simulator,
# from the workflow's own copy by the motif recovery
DEMO_MOTIFS = "resources/motifs/jaspar2024_demo.jaspar"
PLANTED_MOTIFS = str(Path(workflow.basedir) / DEMO_MOTIFS)

# Output directories.
DATASET_DIR = f"{OUT}/dataset"
DATASET_JSON = f"{DATASET_DIR}/dataset.json"
DATASET_REGIONS = f"{DATASET_DIR}/regions.tsv.gz"
PLAN_DIR = f"{DATASET_DIR}/plan"
QC_DIR = f"{OUT}/qc"
# library QC (preprocess.smk): its metric table, and the file its gates write when they pass
LIBRARY_QC = f"{QC_DIR}/library_qc.tsv"
LIBRARY_QC_GATES = f"{QC_DIR}/library_qc_gates.tsv"
LIBRARY_QC_PASSED = f"{QC_DIR}/library_qc_gates.passed"
ACC_MODELS_DIR = f"{OUT}/models/accessibility"
EXPR_MODELS_DIR = f"{OUT}/models/expression"
PRED_DIR = f"{OUT}/predictions/accessibility"
EXPR_DIR = f"{OUT}/expression"
EVAL_DIR = f"{OUT}/evaluation"
TRACKS_DIR = f"{OUT}/tracks/accessibility"
INTERP_DIR = f"{OUT}/interpret"
VARIANTS_DIR = f"{OUT}/variants"
FIGURES_DIR = f"{OUT}/figures"
LOGS = f"{OUT}/logs"
BENCH = f"{OUT}/benchmarks"

# ------------------------------------------------------------------------------ registries
# Filled by the stage files included after this one; read only when jobs are planned (input
# functions, `rule all` in the Snakefile after every include), never at include time.
# - TARGETS: stage -> final targets of the default run (`rule all`);
# - PAPER_FIGURES: stems (paths without extension) of the paper figures; rule `figures`
#   (report.smk) builds each as PDF + SVG + PNG;
# - METRIC_TABLES: name -> path of a metric table in the seq2func.core.metrics.MetricRow format
#   (model, split, metric, task, aggregation, value, ci_low, ci_high, n, chromosome); quality
#   gates (evaluate.smk) refer to these names.
TARGETS = {}
PAPER_FIGURES = []
METRIC_TABLES = {}
FIGURE_FORMATS = ["pdf", "svg", "png"]


# ------------------------------------------------------------------------------- helpers


def json_text(obj):
    """A config section as JSON text (the value of a --params argument)."""
    return json.dumps(obj, sort_keys=True)


def model_train_settings(model):
    """accessibility.train for one model: its entry's max_epochs overrides the section's."""
    entry = ACC["models"][model]
    return {**ACC["train"], **{k: entry[k] for k in ("max_epochs",) if k in entry}}


def as_json(obj):
    """A rule's params value serialising a config section (reruns when it changes). A function:
    Snakemake formats params strings as wildcard patterns, so a config value with braces (e.g.
    exclude_chromosomes: "^chr\\d{1,2}$") would otherwise fail as a WildcardError."""
    return lambda wildcards: json_text(obj)


def from_config(value):
    """A params value taken from the config as it is (a function, not formatted: see as_json)."""
    return lambda wildcards: value


def figure_files(stems):
    """Every file (PDF, SVG, PNG) of the figures with these stems."""
    return [f"{stem}.{fmt}" for stem in stems for fmt in FIGURE_FORMATS]


def figure_outputs(stem, caption):
    """pdf + svg + png of a figure; the png goes into the HTML report."""
    png = report(f"{stem}.png", caption=caption, category="Figures")
    return [f"{stem}.pdf", f"{stem}.svg", png]


def upstream_dir(path):
    """A `params` value naming a directory that upstream rules fill (DATASET_DIR, PLAN_DIR).

    The subcommands read more of it than the rule declares (e.g. the shards), so they get the
    path constant, not the parent of one input. It is a function because `snakemake --lint`
    flags a string that prefixes an input as hard-coded, a warning for file systems that jobs
    do not share; this workflow needs a shared one (the undeclared shards).
    """
    return lambda wildcards: path


def all_targets():
    """Final targets of the default run: every stage's TARGETS (call after every include)."""
    return list(dict.fromkeys(t for targets in TARGETS.values() for t in targets))


def as_list(value):
    """A registry value (one path, or several) as a list."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def name_file_pairs(names, paths):
    """`NAME=path` arguments (one shell argument each) of the subcommands that take files
    labelled by sample, model or variant."""
    return [f"{n}={p}" for n, p in zip(names, paths, strict=True)]


# ------------------------------------------------------------ stage settings and functions
# The config section and the input/helper functions of each stage. They live here rather than
# in the stage files because `snakemake --lint` wants functions apart from rules; each refers
# only to names defined in this file (and, at planning time, to checkpoints and registries).

# preprocess.smk: the scatter of the training set over jobs (a large chromosome, or a group
# of small ones; seq2func.preprocess.jobs)


def _planned_job_sizes(wildcards):
    """Sizes of the chromosomes of a planned job (the plan exists once its jobs are scheduled)."""
    try:
        with open(f"{PLAN_DIR}/plan.json") as fh:
            plan = json.load(fh)
        jobs = plan.get("jobs") or [
            {"name": c, "chromosomes": [c]} for c in plan["chromosomes"]
        ]
        chroms = {j["name"]: j["chromosomes"] for j in jobs}[wildcards.job]
        return [plan["sizes"][c] for c in chroms]
    except (OSError, KeyError, ValueError):
        return [250_000_000]


def _planned_job_largest(wildcards):
    """Length of the largest chromosome of a planned job."""
    return max(_planned_job_sizes(wildcards))


def _planned_job_bases(wildcards):
    """Bases of all chromosomes of a planned job."""
    return sum(_planned_job_sizes(wildcards))


def planned_jobs():
    """Preprocessing jobs listed by the preprocess_plan checkpoint."""
    with open(checkpoints.preprocess_plan.get().output.plan) as fh:
        plan = json.load(fh)
    if "jobs" in plan:
        return [j["name"] for j in plan["jobs"]]
    return plan["chromosomes"]


def preprocess_job_outputs(pattern):
    """Input function: one file per planned preprocessing job."""

    def files(wildcards):
        return expand(pattern, job=planned_jobs())

    return files


# train.smk: accessibility models (also explained, scored, evaluated later)
ACC = config["accessibility"]
# GPUs of a job that runs a trained model (tracks, attributions, variant scores, predicted
# chromatin): one at most, inference runs on the first visible GPU; training jobs take
# accessibility.gpus_per_job (MirroredStrategy over all of them)
INFERENCE_GPUS = min(ACC["gpus_per_job"], 1)
# Threads of those jobs: one. They are short (TensorFlow's start-up is much of them on the demo)
# and many, so jobs side by side use the cores better than threads inside one job; a CPU-only
# study with long predictions can raise them (`--set-threads explain_accessibility=8`).
INFERENCE_THREADS = 1
# expression models are small (one promoter window per gene, all in memory): one thread each,
# so seq_observed and seq_predicted train side by side and no job waits for both cores (the
# demo's 2-thread jobs queued behind 1-thread ones; a 2-thread seq_only took 16.8 s, 1-thread
# 18.8 s); a large study raises it (`--set-threads train_expression=4`)
EXPRESSION_TRAIN_THREADS = 1
# Priority of the run's last serial chains (basset -> predicted chromatin -> seq_predicted ->
# its evaluation -> gates; the grammar experiments -> grammar_truth -> gates): ahead of the
# ready single-core jobs, which the 2-core demo ran first, 120 s after basset was trained
TAIL_PRIORITY = 5


def model_seeds(model):
    """Seeds of one accessibility model (its own `seeds` or accessibility.seeds)."""
    return ACC["models"][model].get("seeds", ACC["seeds"])


# A run of a model is one seed trained on one split, in {ACC_MODELS_DIR}/{model}/{run}:
# `seed<k>` on the default split, `folds/<fold>/seed<k>` on a fold of accessibility.folds
RUN_PATTERN = r"(?:folds/[A-Za-z0-9_]+/)?seed\d+"


def fold_dir(fold):
    """Where the runs of one fold live, relative to a model's directory ("" default split)."""
    return f"folds/{fold}/" if fold else ""


def run_fold(run):
    """The fold of a run (None: the default split)."""
    parts = Path(run).parts
    return parts[1] if parts[0] == "folds" else None


def run_seed(run):
    """The seed of a run."""
    return int(run.rsplit("seed", 1)[1])


def default_runs(model):
    """The runs of {model} on the default split."""
    return [f"seed{s}" for s in model_seeds(model)]


def fold_runs(model, fold):
    """The runs of {model} on one fold."""
    return [f"{fold_dir(fold)}seed{s}" for s in model_seeds(model)]


def model_runs(model):
    """Every run of {model}: the default split's, then each fold's."""
    return default_runs(model) + [r for f in ACC_FOLDS for r in fold_runs(model, f)]


def factorised(model):
    """Whether {model} is a chrombpnet model (a frozen bias model inside)."""
    return ACC["models"][model]["architecture"] == "chrombpnet"


# the bias models of chrombpnet models are explained (TF-MoDISco) as models of their own
BIAS_SUFFIX = "_bias"


def bias_model_file(model, fold=None):
    """The bias model.keras of a chrombpnet model on the default split or a fold:
    bias.pretrained, or trained here (one per split: it must not see test chromosomes).
    """
    pretrained = ACC["models"][model]["bias"]["pretrained"]
    return pretrained or f"{ACC_MODELS_DIR}/{model}/{fold_dir(fold)}bias/model.keras"


def run_files(model, runs):
    """The model files inference runs for these runs of {model} (bias-free parts of
    chrombpnet models)."""
    name = "nobias.keras" if factorised(model) else "model.keras"
    return [f"{ACC_MODELS_DIR}/{model}/{r}/{name}" for r in runs]


def inference_files(model):
    """What tracks, attributions and variant scores run: the ensemble of {model} - its
    folds' runs with accessibility.folds, else its seeds on the default split (bias-free
    parts for chrombpnet models) - or the bias model of `<model>_bias`."""
    if model.endswith(BIAS_SUFFIX) and model.removesuffix(BIAS_SUFFIX) in ACC["models"]:
        return [bias_model_file(model.removesuffix(BIAS_SUFFIX))]
    runs = [r for f in ACC_FOLDS for r in fold_runs(model, f)] or default_runs(model)
    return run_files(model, runs)


def seed_models(wildcards):
    """Input function: the models of {model} that inference jobs run (inference_files)."""
    return inference_files(wildcards.model)


def default_split_models(wildcards):
    """Input function: the seeds of {model} on the default split (bias-free parts)."""
    return run_files(wildcards.model, default_runs(wildcards.model))


def factorised_models():
    """The chrombpnet models of the config."""
    return [m for m in ACC["models"] if factorised(m)]


def ensemble_label(model):
    """How figures name a model's seed ensemble, e.g. `basset (2 seeds)`."""
    n = len(model_seeds(model))
    return f"{model} ({n} seed{'s' if n > 1 else ''})"


def trained_models():
    """(model, run) pairs of the config: every seed on the default split and on each fold."""
    return [(m, r) for m in ACC["models"] for r in model_runs(m)]


def accessibility_predictions(split, fold=None):
    """Prediction files of every model's runs on the default split or on one fold."""
    return [
        f"{PRED_DIR}/{m}/{r}/{split}.npz"
        for m in ACC["models"]
        for r in (fold_runs(m, fold) if fold else default_runs(m))
    ]


# expression.smk: expression models
EXPR = config["expression"]


# the accessibility model whose predictions are the expression models' predicted chromatin;
# cross-fitted with k-fold accessibility training and cross_fit
PRED_MODEL = EXPR["chromatin"]["predicted_model"]
EXPR_CROSS_FIT = bool(ACC_FOLDS) and PRED_MODEL["cross_fit"]


def predicted_model_runs(folds):
    """(fold, model.keras) of the predicted-chromatin model's seeds on each of ``folds``
    (None: the default split)."""
    seeds = PRED_MODEL["seeds"] or model_seeds(PRED_MODEL["name"])
    return [
        (f, f"{ACC_MODELS_DIR}/{PRED_MODEL['name']}/{fold_dir(f)}seed{s}/model.keras")
        for f in folds
        for s in seeds
    ]


def expression_accessibility_models():
    """model.keras files whose strand-averaged predictions form the predicted chromatin: the
    default split's (no cross-fitting) or every fold's (expression_fold_models)."""
    folds = ACC_FOLDS if EXPR_CROSS_FIT else [None]
    return [m for _, m in predicted_model_runs(folds)]


def expression_fold_models():
    """(fold, model.keras) of the predicted-chromatin model's seeds on every fold."""
    return predicted_model_runs(ACC_FOLDS)


def expression_warm_start(wildcards):
    """The trained seq_only model.keras a chromatin variant of this seed starts from
    (expression.chromatin.warm_start; none for seq_only, for ``none`` or without seq_only).
    """
    warm = (
        EXPR["chromatin"]["warm_start"] != "none"
        and wildcards.variant != "seq_only"
        and "seq_only" in EXPR["variants"]
    )
    return (
        [f"{EXPR_MODELS_DIR}/seq_only/seed{wildcards.seed}/model.keras"] if warm else []
    )


def expression_predictions():
    """(variant, predictions.npz) of every expression model and seed."""
    return [
        (v, f"{EXPR_MODELS_DIR}/{v}/seed{s}/predictions.npz")
        for v in EXPR["variants"]
        for s in EXPR["seeds"]
    ]


# evaluate.smk: metrics, predicted tracks, gates
EVAL = config["evaluate"]


def track_models():
    """Models whose seed ensembles tile the test chromosomes as predicted-accessibility tracks
    (evaluate.tracks.models; by default the first accessibility model)."""
    return EVAL["tracks"]["models"] or list(ACC["models"])[:1]


def accessibility_tracks():
    return [f"{TRACKS_DIR}/{m}/{t}.bw" for m in track_models() for t in SAMPLES]


def locus_track_dir():
    return f"{TRACKS_DIR}/{track_models()[0]}"


def library_qc_gates():
    """The gates on the library QC table (checked before training)."""
    return [g for g in EVAL["gates"] if g["table"] == "library_qc"]


def library_qc_check():
    """Input of every training rule: the passed library QC gates when evaluate.enforce_gates
    is on (a failing library then stops the run before training), else nothing."""
    return [LIBRARY_QC_PASSED] if EVAL["enforce_gates"] and library_qc_gates() else []


def study_assembly():
    """The assembly the library QC table names (its gates choose ENCODE's standard by it)."""
    if SIMULATED:
        return "simulated"
    return config["download"].get("assembly") or "unspecified"


def gate_tables():
    """Registered metric tables that some gate refers to (unregistered ones: NOT RUN)."""
    names = {g["table"] for g in EVAL["gates"]}
    return {k: v for k, v in METRIC_TABLES.items() if k in names}


# interpret.smk: attributions and motifs
INTERP = config["interpret"]


def interpret_models():
    """Accessibility models to explain (interpret.models, or all), each chrombpnet model
    followed by its bias model (`<model>_bias`)."""
    out = []
    for m in INTERP["models"] or list(ACC["models"]):
        out += [m, m + BIAS_SUFFIX] if factorised(m) else [m]
    return out


def explain_target(wildcards):
    """`--target profile` for bias models (ChromBPNet explains their profiles), else none."""
    return ["--target", "profile"] if wildcards.model.endswith(BIAS_SUFFIX) else []


def logo_figure(model):
    return f"{FIGURES_DIR}/motif_logos_{model}"


GRAMMAR = INTERP["grammar"]


def grammar_models():
    """Models of the grammar experiments: interpret.grammar.models, or every explained model
    but the bias models."""
    return GRAMMAR["models"] or [
        m for m in interpret_models() if not m.endswith(BIAS_SUFFIX)
    ]


def grammar_patterns(wildcards):
    """Input function: the discovered patterns of {model} when it is explained (their top
    pairs are swept), else none (only the config's pairs)."""
    if wildcards.model in interpret_models():
        return [f"{INTERP_DIR}/{wildcards.model}/patterns.npz"]
    return []


def grammar_figure(model):
    return f"{FIGURES_DIR}/grammar_{model}"


# variants.smk: variant effects
VAR = config["variants"]


def variant_models():
    """Accessibility models that score variants (variants.models, or all)."""
    return VAR["models"] or list(ACC["models"])


def variant_expression_model():
    """variants.expression_model as paths: `seq_only` names the expression stage's model
    (every seed: their ensemble scores); anything else is a path; null = none."""
    value = VAR["expression_model"]
    if value == "seq_only":
        return [
            f"{EXPR_MODELS_DIR}/seq_only/seed{s}/model.keras"
            for s in config["expression"]["seeds"]
        ]
    return [value]


def expression_inputs(wildcards):
    """Expression model and gene table, when variants.expression_model is set."""
    if not VAR["expression_model"]:
        return {}
    return {
        "expression_model": variant_expression_model(),
        "genes": VAR["genes"] or f"{EXPR_DIR}/genes.tsv",
    }


def expression_args(wildcards, input):
    """--expression-model/--genes options of score-variants (separate arguments), or none."""
    if not VAR["expression_model"]:
        return []
    return ["--expression-model", *input.expression_model, "--genes", input.genes]
