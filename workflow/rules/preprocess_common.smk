# Paths and input functions of the preprocessing rules (preprocess.smk).

DATASET = f"{OUT}/dataset"
QC_DIR = f"{OUT}/qc"


def _planned_chromosome_size(wildcards):
    """Length of a planned chromosome (the plan exists once its jobs are scheduled)."""
    try:
        with open(f"{DATASET}/plan/plan.json") as fh:
            return json.load(fh)["sizes"][wildcards.chrom]
    except (OSError, KeyError, ValueError):
        return 250_000_000


def planned_chromosomes():
    """Chromosomes listed by the preprocess_plan checkpoint."""
    with open(checkpoints.preprocess_plan.get().output.plan) as fh:
        return json.load(fh)["chromosomes"]


def preprocess_chrom_outputs(pattern):
    """Input function: one file per planned chromosome."""

    def files(wildcards):
        return expand(pattern, chrom=planned_chromosomes())

    return files
