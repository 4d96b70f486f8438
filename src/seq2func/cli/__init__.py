"""Command-line interface: ``seq2func <subcommand>`` (or ``python -m seq2func``).

Each Snakemake rule calls one subcommand. Subcommands import their modules lazily, so
``seq2func --help`` and the preprocessing commands start without loading TensorFlow.
New stages register their subcommands in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from seq2func import __version__
from seq2func.core.errors import Seq2FuncError

log = logging.getLogger("seq2func")

# --------------------------------------------------------------------------- subcommands


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="simulate the embedded demo study (genome, signal, truth)",
                       description="Simulate the demo study into OUTDIR (genome/, signal/, "
                                   "peaks/, expression/, variants/, truth/).")
    p.add_argument("--params", default="{}",
                   help="JSON object of simulator parameters (the config's 'simulate' section)")
    p.add_argument("--samples", required=True, help="samples table (TSV)")
    p.add_argument("--motifs", required=True, help="JASPAR file with the demo motifs")
    p.add_argument("--outdir", required=True, help="output directory, e.g. resources/demo")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_run_simulate)


def _run_simulate(args: argparse.Namespace) -> int:
    from seq2func.core.config import load_samples
    from seq2func.simulate import SimulationConfig, simulate_demo

    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as exc:
        raise Seq2FuncError(f"--params is not valid JSON: {exc}") from exc
    cfg = SimulationConfig.from_config(params)
    samples = load_samples(args.samples)
    summary = simulate_demo(cfg, samples, args.motifs, Path(args.outdir),
                            progress=not args.no_progress)
    log.info("simulated %d bp, %s peaks, %d genes, %s variants",
             summary["genome"]["length"], summary["peaks"], summary["genes"],
             sum(summary["variants"].values()))
    return 0


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate-config", help="check a config file and its samples table",
                       description="Validate a configuration file against the workflow's JSON "
                                   "schema and print it with defaults filled in.")
    p.add_argument("configfile", help="YAML configuration, e.g. config/config.yaml")
    p.add_argument("--schemas", default="workflow/schemas",
                   help="directory of config.schema.yaml and samples.schema.yaml")
    p.set_defaults(func=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    import yaml

    from seq2func.core.config import load_config, load_samples

    schemas = Path(args.schemas)
    cfg = load_config(args.configfile, schemas / "config.schema.yaml")
    samples = load_samples(cfg["samples"], schemas / "samples.schema.yaml")
    sys.stdout.write(yaml.safe_dump(cfg, sort_keys=False))
    log.info("%s is valid; %d samples", args.configfile, len(samples))
    return 0


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
        quants = _unique_pairs(inputs, "--input", "SAMPLE=PATH")
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


# --------------------------------------------------------------------------- preprocessing


def _json_arg(text: str, flag: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Seq2FuncError(f"{flag} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise Seq2FuncError(f"{flag} must be a JSON object")
    return value


def _pairs(items: Sequence[str], flag: str, form: str = "NAME=PATH") -> list[tuple[str, str]]:
    """Parse ``NAME=VALUE`` arguments, in order; a malformed one is an error naming ``flag``."""
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise Seq2FuncError(f"{flag} {item!r}: expected {form}")
        out.append((key, value))
    return out


def _unique_pairs(items: Sequence[str], flag: str, form: str = "NAME=PATH") -> dict[str, str]:
    """:func:`_pairs` as a mapping; a name given twice is an error."""
    out: dict[str, str] = {}
    for key, value in _pairs(items, flag, form):
        if key in out:
            raise Seq2FuncError(f"{flag}: {key!r} is given twice ({out[key]}, {value})")
        out[key] = value
    return out


def _add_inputs_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--genome", required=True,
                   help="genome FASTA (plain or bgzip) or 2bit; chromosome names are the "
                        "reference the other files are harmonised to")
    p.add_argument("--samples", required=True,
                   help="samples table (TSV): task order, assay, cell type")
    p.add_argument("--bigwigs", nargs="+", default=None,
                   help="bigWigs in samples-table order (default: the table's 'signal' column)")
    p.add_argument("--peaks", nargs="+", default=None,
                   help="narrowPeak/BED files in table order (default: the 'peaks' column)")
    p.add_argument("--blacklist", default=None, help="BED of regions to avoid (optional)")
    p.add_argument("--params", default="{}",
                   help="JSON object: the config's 'preprocess' section (defaults filled in)")
    p.add_argument("--split", required=True,
                   help='JSON object: the config\'s \'split\' section, e.g. '
                        '\'{"valid": ["chr5"], "test": ["chr2"]}\'')
    p.add_argument("--study", default="study", help="study name recorded in the metadata")


def _inputs(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from seq2func.preprocess.pipeline import PreprocessParams, samples_from_table

    params = PreprocessParams.from_config(_json_arg(args.params, "--params"), source="--params")
    samples = samples_from_table(args.samples, args.bigwigs, args.peaks)
    return params, samples, _json_arg(args.split, "--split")


def _add_preprocess(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess", help="build a training set in one process (plan, every "
                                          "chromosome, gather, QC)",
                       description="Build a training set from a genome, bigWigs and peaks in "
                                   "one process. The workflow runs the same steps as separate "
                                   "jobs (preprocess-plan, -chrom, -gather, -qc).")
    _add_inputs_args(p)
    p.add_argument("--outdir", required=True, help="dataset directory")
    p.add_argument("--qc-dir", default=None, help="where to write the QC table and figure")
    p.add_argument("--threads", type=int, default=1,
                   help="threads compressing shard chunks while reading goes on")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=_run_preprocess)


def _run_preprocess(args: argparse.Namespace) -> int:
    from seq2func.preprocess.pipeline import run_all

    params, samples, split = _inputs(args)
    qc_dir = Path(args.qc_dir) if args.qc_dir else None
    meta = run_all(args.genome, samples, params, split, args.outdir, args.blacklist,
                   qc_dir / "preprocess_qc.tsv" if qc_dir else None, study=args.study,
                   progress=not args.no_progress, threads=args.threads)
    if qc_dir:
        _qc(Path(args.outdir) / "plan", Path(args.outdir), qc_dir / "preprocess_qc.tsv",
            qc_dir / "preprocess_qc.svg")
    log.info("dataset with %d regions in %s", meta["n_regions"]["total"], args.outdir)
    return 0


def _add_preprocess_plan(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess-plan", help="check preprocessing inputs, plan the "
                                               "per-chromosome jobs",
                       description="Check genome, bigWigs, peaks, blacklist and split; write "
                                   "plan.json and summits.npz into OUTDIR.")
    _add_inputs_args(p)
    p.add_argument("--outdir", required=True, help="plan directory (dataset/plan)")
    p.set_defaults(func=_run_preprocess_plan)


def _run_preprocess_plan(args: argparse.Namespace) -> int:
    from seq2func.preprocess.pipeline import make_plan

    params, samples, split = _inputs(args)
    make_plan(args.genome, samples, params, split, args.outdir, args.blacklist, args.study)
    return 0


def _add_preprocess_chrom(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess-chrom", help="build the shard of one chromosome",
                       description="Select regions of one chromosome and write its HDF5 shard "
                                   "and statistics.")
    p.add_argument("--plan-dir", required=True, help="directory of plan.json and summits.npz")
    p.add_argument("--chrom", required=True, help="chromosome (genome name)")
    p.add_argument("--shard", required=True, help="output HDF5 shard")
    p.add_argument("--stats", required=True, help="output statistics (.json)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads compressing shard chunks while reading goes on")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_run_preprocess_chrom)


def _run_preprocess_chrom(args: argparse.Namespace) -> int:
    from seq2func.preprocess.pipeline import process_chromosome

    process_chromosome(args.plan_dir, args.chrom, args.shard, args.stats,
                       progress=not args.no_progress, threads=args.threads)
    return 0


def _add_preprocess_gather(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess-gather", help="gather per-chromosome shards into a dataset",
                       description="Write regions.tsv.gz, dataset.json and the QC table.")
    p.add_argument("--plan-dir", required=True, help="directory of plan.json and summits.npz")
    p.add_argument("--dataset-dir", required=True, help="dataset directory")
    p.add_argument("--qc-table", required=True, help="output per-sample QC table (TSV)")
    p.set_defaults(func=_run_preprocess_gather)


def _run_preprocess_gather(args: argparse.Namespace) -> int:
    from seq2func.core.provenance import write_provenance
    from seq2func.preprocess.pipeline import gather, load_plan

    meta = gather(args.plan_dir, args.dataset_dir, args.qc_table)
    plan, _ = load_plan(args.plan_dir)
    inputs = [plan["genome"]["path"]] + [s["bigwig"] for s in plan["samples"]]
    inputs += [s["peaks"] for s in plan["samples"]] + ([plan["blacklist"]]
                                                       if plan["blacklist"] else [])
    for out in (Path(args.dataset_dir) / "dataset.json", Path(args.qc_table)):
        write_provenance(out, step="preprocess", inputs=inputs, config=plan["params"],
                         extra={"n_regions": meta["n_regions"]})
    return 0


def _qc(plan_dir: Path, dataset_dir: Path, table: Path, figure: Path) -> None:
    import pandas as pd

    from seq2func.core.provenance import write_provenance
    from seq2func.dataset.format import load_regions
    from seq2func.preprocess.pipeline import load_plan
    from seq2func.preprocess.qc import qc_figure

    plan, _ = load_plan(plan_dir)
    qc = pd.read_csv(table, sep="\t")
    qc_figure(qc, load_regions(dataset_dir), plan, figure)
    write_provenance(figure, step="preprocess-qc", inputs=[table, dataset_dir / "regions.tsv.gz"],
                     config=plan["params"])


def _add_preprocess_qc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preprocess-qc", help="draw the preprocessing QC figure",
                       description="Draw the per-sample QC figure (vector format from the "
                                   "suffix: .svg or .pdf).")
    p.add_argument("--plan-dir", required=True, help="directory of plan.json")
    p.add_argument("--dataset-dir", required=True, help="dataset directory")
    p.add_argument("--qc-table", required=True, help="QC table written by preprocess-gather")
    p.add_argument("--figure", required=True, help="output figure (.svg or .pdf)")
    p.set_defaults(func=_run_preprocess_qc)


def _run_preprocess_qc(args: argparse.Namespace) -> int:
    _qc(Path(args.plan_dir), Path(args.dataset_dir), Path(args.qc_table), Path(args.figure))
    return 0


# --------------------------------------------------------------------------- training


def _add_train_accessibility(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-accessibility", help="train one accessibility model (one seed) on a dataset",
        description="Train a Basset- or BPNet-style model on a preprocessed dataset with "
                    "checkpoints every epoch; a rerun after interruption resumes from the last "
                    "checkpoint. Writes OUTDIR/model.keras, history.tsv and run.json.")
    p.add_argument("--dataset-dir", required=True, help="preprocessed dataset directory")
    p.add_argument("--name", required=True, help="model name (config key)")
    p.add_argument("--spec", required=True, help="JSON: the model's config (architecture, sizes)")
    p.add_argument("--settings", default="{}", help="JSON: the config's accessibility.train")
    p.add_argument("--seed", type=int, required=True, help="replicate seed")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    p.add_argument("--outdir", required=True, help="output directory")
    p.set_defaults(func=_run_train_accessibility)


def _run_train_accessibility(args: argparse.Namespace) -> int:
    from seq2func.models.accessibility import parse_model_config
    from seq2func.train.loop import TrainSettings, train_accessibility

    spec = parse_model_config(args.name, _json_arg(args.spec, "--spec"))
    settings = TrainSettings.from_config(_json_arg(args.settings, "--settings"),
                                         "accessibility.train")
    rec = train_accessibility(args.dataset_dir, args.name, spec, settings, args.seed,
                              args.outdir, threads=args.threads)
    log.info("trained %s seed %d on %s: best epoch %d, val loss %.4f", args.name, args.seed,
             rec["device"], rec["best_epoch"], rec["best_val_loss"])
    return 0


def _add_predict_accessibility(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict-accessibility", help="strand-averaged predictions for a dataset split",
        description="Predict every region of a dataset split on both strands and average: "
                    "peak probabilities (labels), log counts and profile probabilities, "
                    "whichever the model has. Writes a compressed .npz with region_id.")
    p.add_argument("--model", required=True, help="model.keras")
    p.add_argument("--dataset-dir", required=True, help="preprocessed dataset directory")
    p.add_argument("--split", required=True, choices=["train", "valid", "test"])
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    p.add_argument("--batch-size", type=int, default=256)
    p.set_defaults(func=_run_predict_accessibility)


def _run_predict_accessibility(args: argparse.Namespace) -> int:
    import numpy as np

    from seq2func.core.io import atomic_output
    from seq2func.core.provenance import write_provenance
    from seq2func.train.loop import configure_runtime

    device = configure_runtime(seed=0, deterministic=True, threads=args.threads)
    from seq2func.models.accessibility import predict_split

    pred = predict_split(args.model, args.dataset_dir, args.split, batch_size=args.batch_size)
    with atomic_output(args.out) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **pred)
    write_provenance(args.out, step="predict-accessibility",
                     inputs=[args.model, Path(args.dataset_dir) / "dataset.json"],
                     device=device.description,
                     extra={"split": args.split, "n_regions": int(pred["region_id"].size),
                            "outputs": sorted(k for k in pred if k != "region_id")})
    log.info("predicted %d %s regions -> %s", pred["region_id"].size, args.split, args.out)
    return 0


# --------------------------------------------------------------------------- expression


def _add_expression_prepare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "expression-prepare", help="gene table, QC and features of the expression models",
        description="One TSS per gene, log1p(TPM) targets matched by version-free gene ID, "
                    "the split of each gene, oriented promoter sequences and binned observed "
                    "chromatin around each TSS. Writes OUTDIR/genes.tsv, genes_qc.json and "
                    "features.npz.")
    p.add_argument("--annotation", required=True, help="GTF or GFF3")
    p.add_argument("--expression", required=True,
                   help="expression table (gene_id, gene_name, one TPM column per sample)")
    p.add_argument("--genome", required=True, help="genome FASTA")
    p.add_argument("--bigwigs", nargs="+", required=True,
                   help="SAMPLE=PATH accessibility bigWigs (the chromatin tracks)")
    p.add_argument("--split", required=True, help="JSON: the config's split section")
    p.add_argument("--params", default="{}", help="JSON: the config's expression section")
    p.add_argument("--exclude-regex", default=None,
                   help="skip chromosomes matching this regex (preprocess.exclude_chromosomes)")
    p.add_argument("--outdir", required=True, help="output directory")
    p.set_defaults(func=_run_expression_prepare)


def _run_expression_prepare(args: argparse.Namespace) -> int:
    from seq2func.core.provenance import write_provenance
    from seq2func.expression.data import ExpressionWindow
    from seq2func.expression.stage import prepare

    params = _json_arg(args.params, "--params")
    window = ExpressionWindow.from_config(params)
    bigwigs = _unique_pairs(args.bigwigs, "--bigwigs", "SAMPLE=PATH")
    qc = prepare(args.annotation, args.expression, args.genome, bigwigs,
                 _json_arg(args.split, "--split"), window, args.outdir,
                 samples=params.get("samples") or None, exclude_regex=args.exclude_regex,
                 biotypes=params.get("biotypes") or None)
    out = Path(args.outdir) / "genes.tsv"
    write_provenance(out, step="expression-prepare",
                     inputs=[args.annotation, args.expression, args.genome, *bigwigs.values()],
                     config=params, extra={"qc": qc})
    return 0


def _add_expression_predicted_chromatin(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "expression-predicted-chromatin",
        help="accessibility predicted by trained models around each TSS",
        description="Tile each gene's chromatin window with accessibility-model inputs centred "
                    "on its bins, predict on both strands and average (over strands and the "
                    "models given). Writes a .npz with 'predicted' (genes, bins, tasks).")
    p.add_argument("--genes", required=True, help="genes.tsv of expression-prepare")
    p.add_argument("--genome", required=True, help="genome FASTA")
    p.add_argument("--models", nargs="+", required=True, help="accessibility model.keras files")
    p.add_argument("--tasks", nargs="+", required=True,
                   help="the accessibility models' task (sample) names, in output order")
    p.add_argument("--params", default="{}", help="JSON: the config's expression section")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    p.add_argument("--out", required=True, help="output .npz")
    p.set_defaults(func=_run_expression_predicted_chromatin)


def _run_expression_predicted_chromatin(args: argparse.Namespace) -> int:
    import numpy as np

    from seq2func.core.io import atomic_output
    from seq2func.core.provenance import write_provenance
    from seq2func.core.sequence import Genome
    from seq2func.expression.data import ExpressionWindow, read_gene_table
    from seq2func.train.loop import configure_runtime

    window = ExpressionWindow.from_config(_json_arg(args.params, "--params"))
    device = configure_runtime(seed=0, deterministic=True, threads=args.threads)
    from seq2func.expression.models import predict_chromatin

    genes = read_gene_table(args.genes)
    with Genome(args.genome) as genome:
        pred, outputs = predict_chromatin(args.models, genome, genes, window)
    if pred.shape[2] != len(args.tasks):
        raise Seq2FuncError(f"the models predict {pred.shape[2]} tasks but --tasks names "
                            f"{len(args.tasks)}")
    with atomic_output(args.out) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, predicted=pred, tracks=np.asarray(args.tasks),
                            gene_id=genes["gene_id"].to_numpy().astype(str))
    write_provenance(args.out, step="expression-predicted-chromatin",
                     inputs=[args.genes, *args.models], device=device.description,
                     extra={"outputs": outputs, "shape": list(pred.shape)})
    return 0


def _add_train_expression(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-expression", help="train one expression model variant (one seed)",
        description="Train seq_only, seq_observed or seq_predicted on the genes of the training "
                    "chromosomes (early stopping on the validation chromosomes), with "
                    "checkpoints and resume; writes model.keras, history.tsv, run.json and "
                    "predictions.npz (every gene).")
    p.add_argument("--genes", required=True, help="genes.tsv of expression-prepare")
    p.add_argument("--features", required=True, help="features.npz of expression-prepare")
    p.add_argument("--predicted", default=None, help="predicted chromatin (.npz; seq_predicted)")
    p.add_argument("--variant", required=True, choices=["seq_only", "seq_observed",
                                                        "seq_predicted"])
    p.add_argument("--params", default="{}", help="JSON: the config's expression section")
    p.add_argument("--seed", type=int, required=True, help="replicate seed")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    p.add_argument("--outdir", required=True, help="output directory")
    p.set_defaults(func=_run_train_expression)


def _run_train_expression(args: argparse.Namespace) -> int:
    from seq2func.expression.data import ExpressionWindow
    from seq2func.expression.models import ExpressionModelSpec, train_expression
    from seq2func.expression.stage import load_arrays
    from seq2func.train.loop import TrainSettings

    params = _json_arg(args.params, "--params")
    window = ExpressionWindow.from_config(params)
    arrays = load_arrays(args.genes, args.features, args.variant, args.predicted,
                         match=params.get("chromatin", {}).get("match", "auto"))
    spec = ExpressionModelSpec.from_config(params.get("model", {}))
    settings = TrainSettings.from_config(params.get("train", {}), "expression.train")
    inputs = [args.genes, args.features] + ([args.predicted] if args.predicted else [])
    rec = train_expression(arrays, args.variant, spec, settings, args.seed, args.outdir,
                           {"upstream": window.upstream, "downstream": window.downstream},
                           threads=args.threads, inputs=inputs)
    log.info("trained %s seed %d: best epoch %d, val loss %.4f", args.variant, args.seed,
             rec["best_epoch"], rec["best_val_loss"])
    return 0


def _add_evaluate_expression(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate-expression", help="baselines, metrics, ablation and figures of expression",
        description="Fit the k-mer ridge and chromatin-only ridge baselines on training genes; "
                    "score all models (Pearson/Spearman per sample across test genes, bootstrap "
                    "intervals); write the metric table (MetricRow format), the ablation table, "
                    "figures and, with --truth, the explainable variance captured (demo).")
    p.add_argument("--genes", required=True)
    p.add_argument("--features", required=True)
    p.add_argument("--predictions", nargs="*", default=[],
                   help="VARIANT=predictions.npz (repeat a variant for its seeds)")
    p.add_argument("--params", default="{}", help="JSON: the config's expression section")
    p.add_argument("--metrics", required=True, help="output metric table (TSV)")
    p.add_argument("--ablation", required=True, help="output ablation table (TSV)")
    p.add_argument("--scatter", default=None, help="figure stem: observed vs predicted")
    p.add_argument("--ablation-figure", default=None, help="figure stem: ablation bars")
    p.add_argument("--truth", default=None, help="simulator truth expression_terms.tsv")
    p.add_argument("--truth-out", default=None, help="output explainable-variance table")
    p.set_defaults(func=_run_evaluate_expression)


def _run_evaluate_expression(args: argparse.Namespace) -> int:
    from seq2func.expression.stage import evaluate

    params = _json_arg(args.params, "--params")
    preds: dict[str, list[str]] = {}
    for variant, path in _pairs(args.predictions, "--predictions", "VARIANT=PATH"):
        preds.setdefault(variant, []).append(path)
    stems = {k: v for k, v in (("scatter", args.scatter),
                               ("ablation", args.ablation_figure)) if v}
    base = params.get("baselines", {})
    evaluate(args.genes, args.features, preds, args.metrics, args.ablation, stems,
             k=int(base.get("k", 5)), match=params.get("chromatin", {}).get("match", "auto"),
             truth=args.truth, truth_out=args.truth_out,
             n_boot=int(params.get("n_bootstrap", 1000)), config=params)
# --------------------------------------------------------------------------- evaluation


def _add_evaluate_accessibility(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate-accessibility", help="metrics of models, baselines and controls on a split",
        description="Score every accessibility model (per seed and seed ensemble) against "
                    "k-mer, GC-only and shuffled-label baselines fitted on the train split "
                    "(and, for simulated studies, the truth ceiling), with bootstrap intervals.")
    p.add_argument("--dataset-dir", required=True, help="preprocessed dataset directory")
    p.add_argument("--predictions", nargs="*", default=[],
                   help="prediction files .../<model>/seed<k>/<split>.npz")
    p.add_argument("--split", default="test", choices=["valid", "test"])
    p.add_argument("--samples", help="samples table (task -> cell type for the truth ceiling)")
    p.add_argument("--truth-dir", help="simulator truth directory (adds bayes_ceiling rows)")
    p.add_argument("--params", default="{}", help="JSON: the config's evaluate section")
    p.add_argument("--table", required=True, help="output metric table (TSV)")
    p.add_argument("--scores", required=True, help="output scores of every model (.npz)")
    p.set_defaults(func=_run_evaluate_accessibility)


def _run_evaluate_accessibility(args: argparse.Namespace) -> int:
    from seq2func.core.config import load_samples
    from seq2func.core.provenance import write_provenance
    from seq2func.evaluate.accessibility import (
        evaluate_accessibility,
        summary_json,
        write_metric_table,
    )

    params = _json_arg(args.params, "--params")
    preds: dict[str, list[str]] = {}
    for f in args.predictions:
        preds.setdefault(Path(f).parent.parent.name, []).append(f)
    cell_types = None
    if args.samples:
        samples = load_samples(args.samples)
        cell_types = dict(zip(samples["sample"], samples["cell_type"], strict=True))
    table, scores = evaluate_accessibility(
        args.dataset_dir, preds, split=args.split, truth_dir=args.truth_dir,
        cell_types=cell_types, k=int(params.get("kmer_k", 5)),
        n_boot=int(params.get("bootstrap", 1000)), seed=int(params.get("seed", 0)),
        per_chromosome=bool(params.get("per_chromosome", True)))
    write_metric_table(args.table, table)
    scores.save(args.scores)
    inputs = [Path(args.dataset_dir) / "dataset.json", *args.predictions]
    for out in (args.table, args.scores):
        write_provenance(out, step="evaluate-accessibility", inputs=inputs, config=params,
                         extra={"split": args.split, "truth_dir": args.truth_dir})
    log.info("macro auROC: %s", summary_json(table))
    return 0


def _add_accessibility_tracks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "accessibility-tracks", help="predicted accessibility bigWigs over whole chromosomes",
        description="Tile chromosomes with model input windows every STRIDE bp, predict on both "
                    "strands and write one bigWig per task (peak probability, or predicted "
                    "counts per base for profile models).")
    p.add_argument("--model", required=True, nargs="+",
                   help="model.keras (several: their seed ensemble, mean of the probabilities)")
    p.add_argument("--dataset-dir", required=True, help="dataset (tasks, input length, split)")
    p.add_argument("--genome", required=True, help="genome FASTA / 2bit")
    p.add_argument("--split", default="test", choices=["valid", "test", "all"],
                   help="chromosomes to tile")
    p.add_argument("--stride", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    p.add_argument("--outdir", required=True, help="directory of <task>.bw")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_run_accessibility_tracks)


def _run_accessibility_tracks(args: argparse.Namespace) -> int:
    from seq2func.core.provenance import write_provenance
    from seq2func.dataset import format as datasets
    from seq2func.train.loop import configure_runtime

    device = configure_runtime(seed=0, deterministic=True, threads=args.threads)
    from seq2func.evaluate.tracks import write_tracks

    meta = datasets.load_metadata(args.dataset_dir)
    chroms = datasets.split_chromosomes(meta, args.split)
    files = write_tracks(args.model, args.genome, chroms, meta["tasks"],
                         int(meta["input_length"]), args.outdir, stride=args.stride,
                         batch_size=args.batch_size, progress=not args.no_progress,
                         profile_bin=int(meta.get("profile_bin", 1)))
    for f in files:
        write_provenance(f, step="accessibility-tracks", inputs=[*args.model, args.genome],
                         device=device.description,
                         extra={"chromosomes": chroms, "stride": args.stride})
    log.info("wrote %d tracks over %s", len(files), ",".join(chroms))
    return 0


def _add_evaluate_gates(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate-gates", help="check quality gates against metric tables",
        description="Evaluate the config's quality gates (evaluate.gates) against registered "
                    "metric tables; write a PASS/FAIL/NOT RUN table. With --enforce, exit with "
                    "an error listing failed gates (after writing the table).")
    p.add_argument("--gates", required=True, help="JSON list of gates")
    p.add_argument("--tables", default="{}", help="JSON: table name -> metric table path")
    p.add_argument("--out", help="output gates table (TSV)")
    p.add_argument("--check", help="an existing gates table to enforce (with --enforce)")
    p.add_argument("--enforce", action="store_true", help="fail when a gate failed")
    p.add_argument("--done", help="with --enforce: file written when no gate failed")
    p.set_defaults(func=_run_evaluate_gates)


def _run_evaluate_gates(args: argparse.Namespace) -> int:
    import pandas as pd

    from seq2func.core.io import write_text_atomic, write_tsv_atomic
    from seq2func.core.provenance import write_provenance
    from seq2func.evaluate.gates import evaluate_gates, failed_message

    gates = json.loads(args.gates)
    tables = _json_arg(args.tables, "--tables")
    if args.check:
        result = pd.read_csv(args.check, sep="\t", keep_default_na=False,
                             na_values=["NaN", "nan", ""])
    else:
        result = evaluate_gates(gates, tables, source="config (evaluate.gates)")
    if args.out:
        write_tsv_atomic(args.out, result, float_format="%.6g")
        write_provenance(args.out, step="evaluate-gates", inputs=list(tables.values()),
                         config={"gates": gates, "tables": tables})
    counts = result["status"].value_counts().to_dict()
    log.info("quality gates: %s", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if args.enforce:
        msg = failed_message(result)
        if msg:
            raise Seq2FuncError(msg)
        if args.done:
            write_text_atomic(args.done, f"all {len(result)} gates passed or did not run\n")
    return 0


_FIGURES = ("training-curves", "roc-pr", "counts-scatter", "task-bars", "locus")


def _add_figure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "figure", help="build one paper figure (PDF + SVG + PNG + provenance)",
        description="Build an evaluation figure as <out>.pdf/.svg/.png with a provenance "
                    "sidecar. Kinds: " + ", ".join(_FIGURES) + ".")
    p.add_argument("kind", choices=_FIGURES)
    p.add_argument("--out", required=True, help="output stem (path without extension)")
    p.add_argument("--histories", nargs="*", default=[], help="training-curves: history.tsv")
    p.add_argument("--scores", help="roc-pr, counts-scatter: scores .npz of evaluation")
    p.add_argument("--table", help="task-bars: metric table")
    p.add_argument("--metric", default="auROC", help="task-bars: metric")
    p.add_argument("--observed", nargs="*", default=[], help="locus: observed bigWigs (per task)")
    p.add_argument("--predicted", nargs="*", default=[], help="locus: predicted bigWigs")
    p.add_argument("--peaks", nargs="*", default=[], help="locus: peak files (per task)")
    p.add_argument("--tasks", nargs="*", default=[], help="locus: task names (in file order)")
    p.add_argument("--gtf", help="locus: gene annotation")
    p.add_argument("--chrom-sizes", help="locus: chromosome sizes")
    p.add_argument("--chromosomes", nargs="*", default=[], help="locus: where to auto-choose")
    p.add_argument("--locus", default="auto", help="locus: chrom:start-end or auto")
    p.add_argument("--width", type=int, default=40000, help="locus: width when auto")
    p.add_argument("--label", default="predicted", help="locus: predicted track label")
    p.set_defaults(func=_run_figure)


def _run_figure(args: argparse.Namespace) -> int:
    from seq2func.core.plotting import save_figure
    from seq2func.report import figures

    inputs: list[str] = []
    extra: dict = {"kind": args.kind}
    if args.kind == "training-curves":
        hist = {f"{Path(h).parent.parent.name}/{Path(h).parent.name}": h for h in args.histories}
        fig, inputs = figures.training_curves(hist), list(args.histories)
    elif args.kind == "roc-pr":
        fig, inputs = figures.roc_pr_curves(args.scores), [args.scores]
    elif args.kind == "counts-scatter":
        fig, inputs = figures.counts_scatter(args.scores), [args.scores]
    elif args.kind == "task-bars":
        fig, inputs = figures.task_bars(args.table, metric=args.metric), [args.table]
    else:
        from seq2func.core.io import read_chrom_sizes

        if args.locus == "auto":
            locus = figures.auto_locus(args.peaks, args.chromosomes,
                                       read_chrom_sizes(args.chrom_sizes), args.width)
        else:
            locus = figures.parse_locus(args.locus)
        tasks = args.tasks
        fig = figures.locus_panel(locus, dict(zip(tasks, args.observed, strict=True)),
                                  dict(zip(tasks, args.predicted, strict=True)),
                                  dict(zip(tasks, args.peaks, strict=True)), args.gtf,
                                  predicted_label=args.label)
        inputs = [*args.observed, *args.predicted, *args.peaks, args.gtf]
        extra["locus"] = f"{locus[0]}:{locus[1]}-{locus[2]}"
    save_figure(fig, args.out, inputs=inputs, extra=extra)
    log.info("wrote %s.{pdf,svg,png}", args.out)
    return 0


# --------------------------------------------------------------------------- interpretation


def _add_explain(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain", help="attributions (gradient x input, ISM) of test-set peaks",
        description="Explain an accessibility model on the strongest test-set peaks of each "
                    "task: strand-averaged gradient x input for all of them, vectorised ISM "
                    "for the strongest few. Writes an .npz and one bigWig per task.")
    p.add_argument("--model", required=True, nargs="+",
                   help="model.keras (several: their seed ensemble, mean of the probabilities)")
    p.add_argument("--dataset-dir", required=True, help="preprocessed dataset directory")
    p.add_argument("--genome", required=True, help="genome FASTA/2bit")
    p.add_argument("--chrom-sizes", required=True, help="chrom.sizes (bigWig header)")
    p.add_argument("--params", default="{}", help="JSON: the config's interpret section")
    p.add_argument("--out", required=True, help="output attributions.npz")
    p.add_argument("--bigwig-dir", required=True, help="directory of <task>.bw")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    p.set_defaults(func=_run_explain)


def _run_explain(args: argparse.Namespace) -> int:
    from seq2func.core.io import read_chrom_sizes
    from seq2func.core.provenance import write_provenance
    from seq2func.core.sequence import Genome
    from seq2func.dataset import format as datasets
    from seq2func.train.loop import configure_runtime

    params = _json_arg(args.params, "--params")
    device = configure_runtime(seed=0, deterministic=True, threads=args.threads)
    from seq2func.interpret import attributions as interpret
    from seq2func.models.accessibility import load_ensemble

    meta = datasets.load_metadata(args.dataset_dir)
    tasks = list(meta["tasks"])
    regions = datasets.load_regions(args.dataset_dir, "test")
    sel = interpret.select_peaks(regions, tasks, int(params.get("peaks_per_task", 500)))
    with Genome(args.genome) as genome:
        codes = genome.windows(sel["chrom"].tolist(), sel["start"].to_numpy(),
                               int(meta["input_length"]))
    attr = interpret.explain_regions(
        load_ensemble(args.model), sel, codes, tasks,
        bpnet_target=params.get("bpnet_target", "counts"),
        ism_per_task=int(params.get("ism_peaks_per_task", 20)),
        ism_width=int(params.get("ism_width", 100)))
    attr.save(args.out)
    bw = {t: Path(args.bigwig_dir) / f"{t}.bw" for t in tasks}
    interpret.write_attribution_bigwigs(attr, read_chrom_sizes(args.chrom_sizes), bw)
    write_provenance(args.out, step="explain", inputs=[*args.model, args.genome,
                     Path(args.dataset_dir) / "dataset.json"], config=params,
                     device=device.description,
                     extra={"n_regions": len(sel), "n_ism_regions": int(attr.ism_rows.size),
                            "bigwigs": [str(v) for v in bw.values()]})
    log.info("explained %d test peaks (%d with ISM) -> %s", len(sel), attr.ism_rows.size,
             args.out)
    return 0


def _add_discover_motifs(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "discover-motifs", help="TF-MoDISco motifs from attributions, annotated with JASPAR",
        description="Run TF-MoDISco (modisco-lite) per task on the gradient x input scores of "
                    "the task's peaks, annotate each pattern with its most similar database "
                    "motif, draw logos; patterns are saved for motif-recovery.")
    p.add_argument("--attributions", required=True, help="attributions.npz of `explain`")
    p.add_argument("--params", default="{}", help="JSON: the config's interpret section")
    p.add_argument("--database", required=True,
                   help="JASPAR-format file, or a pyjaspar release such as JASPAR2024")
    p.add_argument("--model-name", required=True, help="model name (metric rows)")
    p.add_argument("--out", required=True, help="motifs.tsv")
    p.add_argument("--figure", required=True, help="logo figure stem (.pdf/.svg/.png)")
    p.add_argument("--patterns", required=True, help="output patterns.npz (PPM/CWM per pattern)")
    p.set_defaults(func=_run_discover_motifs)


def _run_discover_motifs(args: argparse.Namespace) -> int:
    import numpy as np

    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.plotting import save_figure
    from seq2func.core.provenance import write_provenance
    from seq2func.interpret import modisco as md

    params = _json_arg(args.params, "--params")
    d = np.load(args.attributions)
    tasks = [str(t) for t in d["tasks"]]
    a, b = params.get("modisco_window") or (0, d["one_hot"].shape[1])
    patterns = []
    for i, t in enumerate(tasks):
        rows = np.flatnonzero(d["selected"][:, i])
        oh = d["one_hot"][rows, a:b]
        hyp = d["hypothetical"][rows, a:b, :, i]
        found = md.discover(oh, hyp, t, params.get("modisco", {}),
                            trim_threshold=float(params.get("trim_threshold", 0.3)))
        log.info("%s: %d patterns from %d peaks", t, len(found), rows.size)
        patterns += found
    database = md.load_database(args.database)
    table = md.annotate(patterns, database)
    write_tsv_atomic(args.out, table, float_format="%.4g")
    write_provenance(args.out, step="discover-motifs", inputs=[args.attributions],
                     config=params, extra={"database": args.database,
                                           "n_database_motifs": len(database)})
    fig = md.plot_logos(patterns, table, tasks, top=int(params.get("logos_per_task", 4)))
    save_figure(fig, args.figure, inputs=[args.attributions, args.out])
    md.save_patterns(args.patterns, patterns)
    return 0


def _add_motif_recovery(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "motif-recovery", help="demo: how well discovered patterns recover planted motifs",
        description="Best similarity of each motif planted by the demo simulator to a pattern "
                    "discovered for the same cell type (metric motif_recovery).")
    p.add_argument("--patterns", nargs="+", required=True, help="MODEL=patterns.npz ...")
    p.add_argument("--simulation", required=True, help="demo truth/simulation.json")
    p.add_argument("--planted-motifs", required=True, help="JASPAR file of the planted motifs")
    p.add_argument("--samples", required=True, help="samples table (task -> cell type)")
    p.add_argument("--out", required=True, help="motif_recovery.tsv")
    p.set_defaults(func=_run_motif_recovery)


def _run_motif_recovery(args: argparse.Namespace) -> int:
    from seq2func.core.config import load_samples
    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.metrics import rows_to_frame
    from seq2func.core.motifs import read_jaspar
    from seq2func.core.provenance import write_provenance
    from seq2func.interpret import modisco as md

    samples = load_samples(args.samples)
    cells = dict(zip(samples["sample"], samples["cell_type"], strict=True))
    planted_db = {m.motif_id: m for m in read_jaspar(args.planted_motifs)}
    planted = md.planted_motifs(args.simulation)
    rows = []
    pattern_files = _unique_pairs(args.patterns, "--patterns", "MODEL=PATH")
    for model, path in pattern_files.items():
        patterns = md.load_patterns(path)
        # every task counts: a task without patterns gets NaN (not recovered)
        rows += md.recovery_rows(patterns, model, cells, planted, planted_db)
    write_tsv_atomic(args.out, rows_to_frame(rows), float_format="%.4g")
    write_provenance(args.out, step="motif-recovery",
                     inputs=[args.simulation, *pattern_files.values()])
    return 0


def _add_score_variants(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score-variants", help="predict variant effects (VCF in, annotated VCF + TSV out)",
        description="Check REF alleles against the genome (mismatches reported, not scored), "
                    "build reference/alternate windows of SNVs and indels, predict both in "
                    "batches on both strands, and write per-task scores.")
    p.add_argument("--vcf", required=True, help="VCF, plain or gzip/bgzip-compressed")
    p.add_argument("--genome", required=True, help="genome FASTA/2bit")
    p.add_argument("--model", required=True, nargs="+",
                   help="accessibility model.keras (several: their seed ensemble)")
    p.add_argument("--model-name", required=True, help="model name (INFO descriptions)")
    p.add_argument("--dataset-dir", required=True, help="dataset directory (task names)")
    p.add_argument("--params", default="{}", help="JSON: the config's variants section")
    p.add_argument("--expression-model", nargs="+",
                   help="sequence-only expression model.keras (several: their seed ensemble)")
    p.add_argument("--genes", help="gene table genes.tsv of the expression stage")
    p.add_argument("--out-vcf", required=True)
    p.add_argument("--out-tsv", required=True)
    p.add_argument("--threads", type=int, default=0, help="CPU threads for TensorFlow")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_run_score_variants)


def _run_score_variants(args: argparse.Namespace) -> int:
    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.provenance import write_provenance
    from seq2func.dataset import format as datasets
    from seq2func.train.loop import configure_runtime

    params = _json_arg(args.params, "--params")
    device = configure_runtime(seed=0, deterministic=True, threads=args.threads)
    from seq2func.variants import score as va
    tasks = list(datasets.load_metadata(args.dataset_dir)["tasks"])
    header, table, desc, strings = va.score_vcf(
        args.vcf, args.genome, args.model, tasks, model_name=args.model_name,
        expression_models=args.expression_model, genes_path=args.genes,
        max_allele_length=int(params.get("max_allele_length", 50)),
        chunk=int(params.get("chunk", 4096)), batch_size=int(params.get("batch_size", 512)),
        progress=not args.no_progress)
    va.write_vcf(args.out_vcf, header, table, desc, f"score-variants model={args.model_name}",
                 strings)
    cols = [c for c in table if c not in ("record", "line", "qual", "filter", "info",
                                          "genome_chrom")]
    write_tsv_atomic(args.out_tsv, table[cols], float_format="%.6g")
    inputs = [args.vcf, *args.model, *(args.expression_model or [])]
    extra = {"status_counts": {str(k): int(v)
                               for k, v in table["status"].value_counts().items()}}
    for out in (args.out_vcf, args.out_tsv):
        write_provenance(out, step="score-variants", inputs=inputs, config=params,
                         device=device.description, extra=extra)
    log.info("scored %s", extra["status_counts"])
    return 0


def _add_variant_metrics(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "variant-metrics", help="auROC of true-effect vs neutral variants (demo truth)",
        description="Join each model's variants.tsv to the simulator's truth and write "
                    "auROC/auPRC rows (bootstrap CIs) and a figure.")
    p.add_argument("--scores", nargs="+", required=True, help="MODEL=variants.tsv ...")
    p.add_argument("--truth", required=True, help="truth/variants.tsv of the simulator")
    p.add_argument("--dataset-dir", required=True, help="dataset (tasks, test chromosomes)")
    p.add_argument("--samples", required=True, help="samples table (task -> cell type)")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--out", required=True, help="variant_metrics.tsv")
    p.add_argument("--figure", required=True, help="figure stem (.pdf/.svg/.png)")
    p.set_defaults(func=_run_variant_metrics)


def _run_variant_metrics(args: argparse.Namespace) -> int:
    import pandas as pd

    from seq2func.core.config import load_samples
    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.metrics import rows_to_frame
    from seq2func.core.plotting import save_figure
    from seq2func.core.provenance import write_provenance
    from seq2func.dataset import format as datasets
    from seq2func.variants import truth as vm

    meta = datasets.load_metadata(args.dataset_dir)
    samples = load_samples(args.samples)
    cells = dict(zip(samples["sample"], samples["cell_type"], strict=True))
    truth = vm.read_truth(args.truth)
    rows, joined = [], {}
    score_files = _unique_pairs(args.scores, "--scores", "MODEL=PATH")
    for model, path in score_files.items():
        table = pd.read_csv(path, sep="\t", dtype={"chrom": str, "ref": str, "alt": str},
                            keep_default_na=False, na_values=[""])
        joined[model] = vm.join_truth(table, truth)
        rows += vm.variant_rows(model, joined[model], meta["tasks"], cells,
                                meta["split"]["test"], n_boot=args.n_boot)
    write_tsv_atomic(args.out, rows_to_frame(rows), float_format="%.4g")
    inputs = [args.truth, *score_files.values()]
    write_provenance(args.out, step="variant-metrics", inputs=inputs,
                     extra={"n_boot": args.n_boot})
    save_figure(vm.plot_variant_effects(joined), args.figure, inputs=inputs)
    return 0


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_simulate,
    _add_validate,
    _add_fetch,
    _add_ingest,
    _add_preprocess,
    _add_preprocess_plan,
    _add_preprocess_chrom,
    _add_preprocess_gather,
    _add_preprocess_qc,
    _add_train_accessibility,
    _add_predict_accessibility,
    _add_expression_prepare,
    _add_expression_predicted_chromatin,
    _add_train_expression,
    _add_evaluate_expression,
    _add_evaluate_accessibility,
    _add_accessibility_tracks,
    _add_evaluate_gates,
    _add_figure,
    _add_explain,
    _add_discover_motifs,
    _add_motif_recovery,
    _add_score_variants,
    _add_variant_metrics,
]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="seq2func",
        description="Learn chromatin accessibility and gene expression from DNA sequence. "
                    "The Snakemake workflow calls these subcommands; you can call them too.")
    parser.add_argument("--version", action="version", version=f"seq2func {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(title="subcommands", dest="command", metavar="<subcommand>")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (2 for a seq2func error, with no traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except Seq2FuncError as exc:
        print(f"seq2func {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
