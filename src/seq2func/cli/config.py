"""Subcommands of the config stage: configuration checks (``validate-config``)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger("seq2func")


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate-config", help="check a config file and its samples table",
                       description="Validate a configuration file against the workflow's JSON "
                                   "schema, check it across sections as the workflow does at "
                                   "start-up (settings, model and sample names, gate tables, "
                                   "split chromosomes) and print it with defaults filled in.")
    p.add_argument("configfile", help="YAML configuration, e.g. config/config.yaml")
    p.add_argument("--schemas", default="workflow/schemas",
                   help="directory of config.schema.yaml and samples.schema.yaml")
    p.set_defaults(func=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    import yaml

    from seq2func.cli.startup import check_chromosomes, check_study
    from seq2func.core.config import load_yaml

    cfg = load_yaml(args.configfile)
    samples, _ = check_study(cfg, [args.configfile], Path(args.schemas))
    check_chromosomes(cfg, [args.configfile], f"resources/{cfg['study']}/genome/chrom.sizes")
    sys.stdout.write(yaml.safe_dump(cfg, sort_keys=False))
    log.info("%s is valid; %d samples", args.configfile, len(samples))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_validate(sub)
