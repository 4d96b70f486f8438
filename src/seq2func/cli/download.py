"""Subcommands of the download stage: public data and canonical inputs (``fetch``, ``ingest``)."""

from __future__ import annotations

import argparse
import json
import logging

from seq2func.cli.args import json_arg, unique_pairs
from seq2func.core.errors import Seq2FuncError

log = logging.getLogger("seq2func")


def _add_fetch(sub: argparse._SubParsersAction) -> None:
    """Add ``seq2func fetch``."""
    p = sub.add_parser(
        "fetch", help="download one file by ENCODE accession, URL or path (verified, resumable)",
        description="Fetch SOURCE into OUTPUT: an ENCODE file accession (ENCFF...), "
                    "encode:<id>, an http(s):// or file:// URL, or a local path. Checks md5 and "
                    "size (from --md5/--size or ENCODE's metadata), resumes partial downloads "
                    "and writes OUTPUT.provenance.json.")
    p.add_argument("--source", required=True, help="accession, URL or path")
    p.add_argument("--output", required=True, help="destination file")
    p.add_argument("--md5", default="", help="expected md5 (empty: from ENCODE or unchecked)")
    p.add_argument("--size", default="", help="expected size in bytes (empty: unchecked)")
    p.add_argument("--role", default=None, help="what the file is for (recorded)")
    p.add_argument("--settings", default=None,
                   help="JSON object of the config's download section (mirror, retries, ...); "
                        "default: the environment variable SEQ2FUNC_DOWNLOAD_SETTINGS, which "
                        "the workflow sets")
    p.set_defaults(func=_run_fetch)


def _run_fetch(args: argparse.Namespace) -> int:
    """Fetch one file (``seq2func fetch``)."""
    import os

    from seq2func.download import SETTINGS_ENV, DownloadSettings, FileSpec
    from seq2func.download.fetch import fetch

    raw = args.settings if args.settings is not None else os.environ.get(SETTINGS_ENV, "{}")
    settings = DownloadSettings.from_config(json_arg(raw, "--settings"), source="--settings")
    try:
        spec = FileSpec(args.source, args.md5 or None,
                        int(args.size) if str(args.size).strip() else None)
    except ValueError as exc:
        raise Seq2FuncError(f"bad --md5/--size: {exc}") from exc
    log.info("fetching %s (settings: %s)", args.source, settings.to_json())
    fetch(spec, args.output, settings, role=args.role)
    return 0


#: the kinds of seq2func.download.ingest.INGEST_KINDS (not imported: it loads pandas, and every
#: subcommand builds this parser)
INGEST_KINDS = ("fasta", "bigwig", "peaks", "bed", "gtf", "vcf", "expression")


def _add_ingest(sub: argparse._SubParsersAction) -> None:
    """Add ``seq2func ingest``."""
    p = sub.add_parser(
        "ingest", help="convert a downloaded file into a canonical input (renamed chromosomes)",
        description="Convert a downloaded file into the workflow's canonical input: "
                    "chromosome names harmonised to the configured ones (UCSC chr1/chrM vs "
                    "Ensembl 1/MT), other sequences dropped, coordinates checked against the "
                    "genome. Kinds: " + ", ".join(INGEST_KINDS) + ".")
    p.add_argument("kind", choices=INGEST_KINDS)
    p.add_argument("--input", nargs="*", default=[],
                   help="input file; for 'expression': SAMPLE=PATH pairs (none: an empty table)")
    p.add_argument("--output", required=True, help="canonical output file")
    p.add_argument("--chromosomes", default=None,
                   help="fasta: JSON list of the chromosomes to keep (output names)")
    p.add_argument("--chrom-sizes", default=None,
                   help="the canonical chrom.sizes (all kinds but fasta and expression)")
    p.add_argument("--sizes-out", default=None, help="fasta: chrom.sizes to write")
    p.add_argument("--column", nargs="*", default=[],
                   help="expression: SAMPLE=COLUMN, the column of a sample's TPM in its file "
                        "(default: the file's TPM column)")
    p.add_argument("--gtf", default=None, help="expression: the canonical GTF/GFF3")
    p.add_argument("--provenance", nargs="*", default=[],
                   help="provenance sidecars of the inputs (their download records are copied "
                        "into the output's provenance)")
    p.set_defaults(func=_run_ingest)


def _run_ingest(args: argparse.Namespace) -> int:
    """Ingest downloaded file(s) into a canonical input (``seq2func ingest KIND``)."""
    from seq2func.download.ingest import ingest

    inputs = (unique_pairs(args.input, "--input", "SAMPLE=PATH") if args.kind == "expression"
              else args.input)
    try:
        chromosomes = (json.loads(args.chromosomes) if args.kind == "fasta" and args.chromosomes
                       else None)
    except json.JSONDecodeError as exc:
        raise Seq2FuncError(f"--chromosomes is not a JSON list: {exc}") from exc
    ingest(args.kind, inputs, args.output, chrom_sizes=args.chrom_sizes,
           chromosomes=chromosomes, sizes_out=args.sizes_out, gtf=args.gtf,
           columns=unique_pairs(args.column, "--column", "SAMPLE=COLUMN"),
           provenance=args.provenance)
    return 0


#: the formats of seq2func.download.cutsites.READ_FORMATS (not imported: see INGEST_KINDS)
READ_FORMATS = ("bam", "fragments", "bedpe", "bed")


def _add_cutsites(sub: argparse._SubParsersAction) -> None:
    """Add ``seq2func cutsites``."""
    p = sub.add_parser(
        "cutsites", help="reads (BAM, fragments, BEDPE, BED) -> bigWig of cut sites per base",
        description="Count enzyme cut sites per base into a bigWig with the canonical "
                    "chromosomes: a BAM read's shifted 5' end, both shifted ends of a fragment "
                    "(10x fragments.tsv.gz, BEDPE, BED). Shifts default to the config's "
                    "download.cutsites (ATAC BAM +4/-4, DNase BAM 0/+1, fragments 0/0).")
    p.add_argument("--input", required=True, help="BAM, fragments, BEDPE or BED file")
    p.add_argument("--format", required=True, choices=READ_FORMATS)
    p.add_argument("--assay", default="ATAC", choices=["ATAC", "DNase"],
                   help="picks the default BAM shift")
    p.add_argument("--output", required=True, help="output bigWig")
    p.add_argument("--chrom-sizes", required=True, help="the canonical chrom.sizes")
    p.add_argument("--settings", default="{}",
                   help="JSON object of the config's download.cutsites (missing keys: defaults)")
    p.add_argument("--shift", nargs=2, type=int, default=None, metavar=("PLUS", "MINUS"),
                   help="override the shift of --format")
    p.add_argument("--provenance", nargs="*", default=[],
                   help="provenance sidecar of the input (its download record is copied)")
    p.add_argument("--genome-provenance", default=None,
                   help="provenance of the ingested genome (its source_sequences: reads on a "
                        "genome sequence the study does not keep are dropped, not unknown)")
    p.set_defaults(func=_run_cutsites)


def _run_cutsites(args: argparse.Namespace) -> int:
    """Convert reads to a cut-site bigWig, with its provenance (``seq2func cutsites``)."""
    from seq2func.download.cutsites import CutSiteSettings, cutsites_with_provenance

    settings = CutSiteSettings.from_config(json_arg(args.settings, "--settings"),
                                           source="--settings")
    shift = tuple(args.shift) if args.shift else settings.shift(args.format, args.assay)
    cutsites_with_provenance(args.input, args.output, args.chrom_sizes, args.format,
                             assay=args.assay, settings=settings, shift=shift,
                             sources=args.provenance, genome_provenance=args.genome_provenance)
    log.info("cut sites of %s -> %s", args.input, args.output)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_fetch(sub)
    _add_ingest(sub)
    _add_cutsites(sub)
