"""Subcommands of the interpret stage: interpretation (``explain``, ``discover-motifs``,
``motif-recovery``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from seq2func.cli.args import json_arg, unique_pairs

log = logging.getLogger("seq2func")


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
    from seq2func.dataset import Dataset
    from seq2func.train.runtime import configure_runtime

    params = json_arg(args.params, "--params")
    device = configure_runtime(seed=0, deterministic=True, threads=args.threads)
    from seq2func.interpret import attributions as interpret
    from seq2func.models import load_ensemble

    ds = Dataset(args.dataset_dir)
    tasks = list(ds.tasks)
    regions = ds.regions("test")
    sel = interpret.select_peaks(regions, tasks, int(params.get("peaks_per_task", 500)))
    with Genome(args.genome) as genome:
        codes = genome.windows(sel["chrom"].tolist(), sel["start"].to_numpy(),
                               ds.geometry.input_length)
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

    params = json_arg(args.params, "--params")
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
    pattern_files = unique_pairs(args.patterns, "--patterns", "MODEL=PATH")
    for model, path in pattern_files.items():
        patterns = md.load_patterns(path)
        # every task counts: a task without patterns gets NaN (not recovered)
        rows += md.recovery_rows(patterns, model, cells, planted, planted_db)
    write_tsv_atomic(args.out, rows_to_frame(rows), float_format="%.4g")
    write_provenance(args.out, step="motif-recovery",
                     inputs=[args.simulation, *pattern_files.values()])
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this stage's subcommands to the top-level parser."""
    _add_explain(sub)
    _add_discover_motifs(sub)
    _add_motif_recovery(sub)
