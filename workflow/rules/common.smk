# Shared set-up: configuration and samples validation, canonical paths, helpers.
import json
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
LOGS = f"{OUT}/logs"
BENCH = f"{OUT}/benchmarks"
SAMPLES = list(SAMPLES_TABLE["sample"])

# With --use-conda each rule's env provides `python`; otherwise use the interpreter running
# Snakemake, so the workflow also works from a venv that is not activated.
USE_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
PY = "python" if USE_CONDA else sys.executable
# (Snakemake formats the prefix like a shell command, hence the doubled braces.)
_KEEP_PYTHONPATH = "${{PYTHONPATH:+:$PYTHONPATH}}"
shell.prefix(
    f"set -euo pipefail; export PYTHONPATH={SRC}{_KEEP_PYTHONPATH}; "
    f'seq2func() {{{{ {PY} -m seq2func "$@"; }}}}; '
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

# Canonical inputs, whatever their source (simulator or download).
GENOME_FASTA = f"{RES}/genome/genome.fa"
GENOME_FAI = f"{RES}/genome/genome.fa.fai"
CHROM_SIZES = f"{RES}/genome/chrom.sizes"
BLACKLIST = f"{RES}/genome/blacklist.bed"
GENES_GTF = f"{RES}/genome/genes.gtf"
EXPRESSION = f"{RES}/expression/expression.tsv"
VARIANTS_VCF = f"{RES}/variants/variants.vcf"


# Registries filled by the stage files included after this one:
# - PAPER_FIGURES: stems (paths without extension) of the paper figures; rule `figures`
#   (report.smk) builds each as PDF + SVG + PNG;
# - METRIC_TABLES: name -> path of a metric table in the seq2func.core.metrics.MetricRow format
#   (model, split, metric, task, aggregation, value, ci_low, ci_high, n, chromosome); quality
#   gates (evaluate.smk) refer to these names.
PAPER_FIGURES = []
METRIC_TABLES = {}


def signal_bigwig(sample):
    return f"{RES}/signal/{sample}.bw"


def peaks_file(sample):
    return f"{RES}/peaks/{sample}.narrowPeak"


def as_json(obj):
    """Serialise a config section for a rule's params (reruns when it changes)."""
    return json.dumps(obj, sort_keys=True)


def all_outputs():
    """Final targets of the default run (each stage adds its own)."""
    targets = [GENOME_FASTA, CHROM_SIZES, BLACKLIST, GENES_GTF, EXPRESSION]
    targets += [signal_bigwig(s) for s in SAMPLES]
    targets += [peaks_file(s) for s in SAMPLES]
    # preprocessing (preprocess.smk): the training set and its QC
    targets += [f"{OUT}/dataset/dataset.json", f"{OUT}/qc/preprocess_qc.svg"]
    # accessibility models (train.smk): strand-averaged test-set predictions of every seed
    targets += accessibility_predictions("test")
    # expression models (expression.smk): metrics, ablation, figures (+ truth on the demo)
    targets += expression_outputs()
    # evaluation (evaluate.smk, report.smk): metrics, tracks, gates, paper figures
    targets += [METRIC_TABLES["accessibility"], GATES_TABLE]
    targets += accessibility_tracks()
    targets += [f"{stem}.{fmt}" for stem in PAPER_FIGURES for fmt in FIGURE_FORMATS]
    if config["evaluate"]["enforce_gates"]:
        targets.append(f"{EVAL_DIR}/gates.passed")
    # interpretation (interpret.smk) and variant effects (variants.smk)
    targets += interpret_outputs() + variants_outputs()
    return targets
