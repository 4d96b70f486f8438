# seq2func: from public data (or the embedded demo) to trained sequence-to-function models.
# Run: snakemake --cores all            (demo, offline)
#      snakemake --cores all --use-conda  (one pinned conda env per step)
# See README.md and config/README.md.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/preprocess.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
