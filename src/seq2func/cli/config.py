"""Subcommands of the config stage: configuration checks (``validate-config``)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger("seq2func")


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate-config", help="check a study's config files and samples table",
                       description="Merge the config files in order (as snakemake --configfile "
                                   "does), validate the result against the workflow's JSON "
                                   "schema, check it across sections as the workflow does at "
                                   "start-up (settings, model and sample names, gate tables, "
                                   "split chromosomes) and print it with defaults filled in, "
                                   "each value followed by where it came from (a file or the "
                                   "schema's default).")
    p.add_argument("configfile", nargs="+",
                   help="YAML configuration(s), e.g. study.yaml (the demo: config/config.yaml)")
    p.add_argument("--plain", action="store_true",
                   help="print plain YAML, without the source comments")
    p.add_argument("--schemas", default="workflow/schemas",
                   help="directory of config.schema.yaml and samples.schema.yaml")
    p.set_defaults(func=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    import yaml

    from seq2func.cli.startup import check_chromosomes, check_study
    from seq2func.core.config_sources import annotated_yaml, merge_files

    files = list(args.configfile)
    cfg = merge_files(files)
    samples, notes = check_study(cfg, files, Path(args.schemas))
    check_chromosomes(cfg, files, f"resources/{cfg['study']}/genome/chrom.sizes")
    for note in notes:
        log.info("configuration: %s", note)
    sys.stdout.write(yaml.safe_dump(cfg, sort_keys=False) if args.plain
                     else annotated_yaml(cfg, files))
    log.info("%s: valid; %d samples", " + ".join(files), len(samples))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_validate(sub)
