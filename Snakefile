# seq2func: from public data (or the embedded demo) to trained sequence-to-function models.
# Run: snakemake --cores all            (demo, offline)
#      snakemake --cores all --use-conda  (one pinned conda env per step)
# See README.md and config/README.md.

import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

# config/config.yaml is the embedded demo, read only when no --configfile is given: a study's
# --configfile(s) start from the schema's production defaults (workflow/schemas), nothing of
# the demo (`seq2func validate-config study.yaml` shows where every value comes from). A YAML
# syntax error in the demo config is reported with its file and line (Snakemake's loader says
# only "not valid JSON or YAML"; check a study file with `seq2func validate-config`).
sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from seq2func.core.config import check_yaml_files  # noqa: E402

if not workflow.overwrite_configfiles:
    try:
        check_yaml_files(["config/config.yaml"])
    except Exception as exc:
        raise WorkflowError(str(exc)) from None

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


# config and samples validation, shared paths, registries (TARGETS, ...), helpers
include: "workflow/rules/common.smk"


# One file per stage, named like its package seq2func.<stage>. The inputs (simulated or
# downloaded) land at the canonical paths of common.smk.
if SIMULATED:

    include: "workflow/rules/simulate.smk"

else:

    include: "workflow/rules/download.smk"


include: "workflow/rules/preprocess.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/expression.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/interpret.smk"
include: "workflow/rules/variants.smk"
include: "workflow/rules/report.smk"


# the final targets every stage registered (TARGETS, common.smk)
rule all:
    default_target: True
    input:
        all_targets(),
