"""Subcommands of the download stage: public data and canonical inputs (``fetch``, ``ingest``)."""

from __future__ import annotations

import argparse
import json
import logging

from seq2func.cli.args import unique_pairs
from seq2func.core.errors import Seq2FuncError

log = logging.getLogger("seq2func")


def _add_fetch(sub: argparse._SubParsersAction) -> None:
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
    import os

    from seq2func.download.fetch import SETTINGS_ENV, DownloadSettings, FileSpec, fetch

    raw = args.settings if args.settings is not None else os.environ.get(SETTINGS_ENV, "{}")
    try:
        settings = DownloadSettings.from_config(json.loads(raw))
    except (json.JSONDecodeError, TypeError) as exc:
        raise Seq2FuncError(f"--settings is not a valid JSON object: {exc}") from exc
    try:
        spec = FileSpec(args.source, args.md5 or None,
                        int(args.size) if str(args.size).strip() else None)
    except ValueError as exc:
        raise Seq2FuncError(f"bad --md5/--size: {exc}") from exc
    log.info("fetching %s (settings: %s)", args.source, settings.to_json())
    fetch(spec, args.output, settings, role=args.role)
    return 0


INGEST_KINDS = ("fasta", "bigwig", "peaks", "bed", "gtf", "vcf", "expression")


def _add_ingest(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--gtf", default=None, help="expression: the canonical GTF")
    p.add_argument("--provenance", nargs="*", default=[],
                   help="provenance sidecars of the inputs (their download records are copied "
                        "into the output's provenance)")
    p.set_defaults(func=_run_ingest)


def _run_ingest(args: argparse.Namespace) -> int:
    from seq2func.core.provenance import write_provenance
    from seq2func.download import ingest

    def need(value: str | None, flag: str) -> str:
        if not value:
            raise Seq2FuncError(f"ingest {args.kind} needs {flag}")
        return value

    inputs = list(args.input)
    extra: dict[str, object] = {}
    if args.kind == "expression":
        quants = unique_pairs(inputs, "--input", "SAMPLE=PATH")
        table = ingest.build_expression(quants, need(args.gtf, "--gtf"), args.output)
        extra = {"genes": len(table), "samples": list(quants)}
    else:
        if len(inputs) != 1:
            raise Seq2FuncError(f"ingest {args.kind} takes exactly one --input")
        src = inputs[0]
        if args.kind == "fasta":
            try:
                chromosomes = json.loads(need(args.chromosomes, "--chromosomes"))
            except json.JSONDecodeError as exc:
                raise Seq2FuncError(f"--chromosomes is not a JSON list: {exc}") from exc
            sizes = ingest.ingest_fasta(src, args.output, chromosomes, args.sizes_out)
            extra = {"chromosomes": sizes}
        else:
            fn = {"bigwig": ingest.ingest_bigwig, "peaks": ingest.ingest_peaks,
                  "bed": ingest.ingest_bed, "gtf": ingest.ingest_gtf,
                  "vcf": ingest.ingest_vcf}[args.kind]
            extra = {"records": fn(src, args.output, need(args.chrom_sizes, "--chrom-sizes"))}
    from seq2func.download.fetch import read_download_record

    sources = []
    for side in args.provenance:
        base = side[: -len(".provenance.json")] if side.endswith(".provenance.json") else side
        rec = read_download_record(base)
        if rec is not None:
            sources.append({k: rec.get(k) for k in ("source", "role", "accession", "url", "md5",
                                                    "bytes", "assembly", "retrieved_utc", "via",
                                                    "verified")})
    extra["sources"] = sources
    write_provenance(args.output, step=f"ingest-{args.kind}", extra=extra)
    log.info("ingested %s -> %s", ", ".join(inputs), args.output)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_fetch(sub)
    _add_ingest(sub)
