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

from seq2func.core.config import load_samples, validate_config  # noqa: E402
from seq2func.core.errors import Seq2FuncError  # noqa: E402

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"

try:
    validate_config(
        config,
        SCHEMAS / "config.schema.yaml",
        source="configuration (config/config.yaml)",
    )
    SAMPLES_TABLE = load_samples(config["samples"], SCHEMAS / "samples.schema.yaml")
except Seq2FuncError as exc:
    raise WorkflowError(f"invalid configuration:\n{exc}") from None

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


# The inputs every study has (the VCF is optional: HAS_VCF).
CANONICAL_INPUTS = [
    GENOME_FASTA,
    CHROM_SIZES,
    BLACKLIST,
    GENES_GTF,
    EXPRESSION,
    *[signal_bigwig(s) for s in SAMPLES],
    *[peaks_file(s) for s in SAMPLES],
]

# Where the inputs come from. The demo simulates a VCF (and the truth behind every input);
# a downloaded study has one only if download.variants names it.
SIMULATED = config["source"] == "simulate"
HAS_VCF = SIMULATED or bool(config["download"].get("variants"))
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
QC_DIR = f"{OUT}/qc"
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


def as_json(obj):
    """Serialise a config section for a rule's params (reruns when it changes)."""
    return json.dumps(obj, sort_keys=True)


def figure_files(stems):
    """Every file (PDF, SVG, PNG) of the figures with these stems."""
    return [f"{stem}.{fmt}" for stem in stems for fmt in FIGURE_FORMATS]


def figure_outputs(stem, caption):
    """pdf + svg + png of a figure; the png goes into the HTML report."""
    png = report(f"{stem}.png", caption=caption, category="Figures")
    return [f"{stem}.pdf", f"{stem}.svg", png]


def all_targets():
    """Final targets of the default run: every stage's TARGETS (call after every include)."""
    return list(dict.fromkeys(t for targets in TARGETS.values() for t in targets))


def name_file_pairs(names, paths):
    """`NAME=path` arguments (one shell argument each) of the subcommands that take files
    labelled by sample, model or variant."""
    return [f"{n}={p}" for n, p in zip(names, paths, strict=True)]
