"""Entry points of the interpretation stage (one per subcommand), with provenance records."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from seq2func.core.provenance import write_provenance
from seq2func.interpret.settings import InterpretSettings

log = logging.getLogger(__name__)


def explain(model_paths: Sequence[str | Path], dataset_dir: str | Path,
            genome_path: str | Path, chrom_sizes: str | Path, settings: InterpretSettings,
            out: str | Path, bigwig_dir: str | Path, threads: int = 0,
            target: str | None = None) -> None:
    """Attributions of the seed ensemble of ``model_paths`` on the strongest test-set peaks.

    Writes ``out`` (:class:`~seq2func.interpret.attributions.Attributions`) and one bigWig of
    actual scores per task into ``bigwig_dir``. A bias model of a chrombpnet model (its
    ``run.json`` names its heads) is explained task by task through its heads. ``target``
    overrides ``settings.bpnet_target`` (``counts`` or ``profile``).
    """
    from seq2func.core.io import read_chrom_sizes
    from seq2func.core.sequence import Genome
    from seq2func.dataset import Dataset
    from seq2func.train.runtime import configure_runtime

    device = configure_runtime(seed=0, deterministic=True, threads=threads)
    from seq2func.interpret import attributions

    ds = Dataset(dataset_dir)
    tasks = list(ds.tasks)
    sel = attributions.select_peaks(ds.regions("test"), tasks, settings.peaks_per_task)
    with Genome(genome_path) as genome:
        codes = genome.windows(sel["chrom"].tolist(), sel["start"].to_numpy(),
                               ds.geometry.input_length)
    attr = attributions.explain_regions(
        _task_model(model_paths, ds), sel, codes, tasks,
        bpnet_target=target or settings.bpnet_target,
        ism_per_task=settings.ism_peaks_per_task, ism_width=settings.ism_width)
    attr.save(out)
    bigwigs = {t: Path(bigwig_dir) / f"{t}.bw" for t in tasks}
    attributions.write_attribution_bigwigs(attr, read_chrom_sizes(chrom_sizes), bigwigs)
    write_provenance(out, step="explain", inputs=[*model_paths, genome_path, ds.metadata_path],
                     config=settings.to_config(), device=device.description,
                     extra={"n_regions": len(sel), "n_ism_regions": int(attr.ism_rows.size),
                            "bigwigs": [str(v) for v in bigwigs.values()]})
    log.info("explained %d test peaks (%d with ISM) -> %s", len(sel), attr.ism_rows.size, out)


def _task_model(model_paths: Sequence[str | Path], ds: Any) -> Any:
    """The ensemble of ``model_paths`` with one output per task of ``ds`` (bias models of
    chrombpnet models through their heads: :func:`seq2func.models.chrombpnet.task_view`)."""
    from seq2func.models import load_ensemble

    if (Path(model_paths[0]).parent / "run.json").is_file():
        from seq2func.train.bias import GROUPS_KEY, bias_task_groups

        record = (Path(model_paths[0]).parent / "run.json").read_text(encoding="utf-8")
        if GROUPS_KEY in record:
            from seq2func.models.chrombpnet import task_view

            return task_view(load_ensemble(model_paths), bias_task_groups(model_paths[0], ds))
    return load_ensemble(model_paths)


def discover_motifs(attributions_path: str | Path, settings: InterpretSettings,
                    database: str, out: str | Path, patterns_out: str | Path,
                    figure: str | Path, model_name: str = "") -> None:
    """TF-MoDISco per task, JASPAR annotation (``motifs.tsv``), patterns and logos."""
    import numpy as np

    from seq2func.core.io import load_npz, write_tsv_atomic
    from seq2func.core.plotting import save_figure
    from seq2func.interpret.annotate import annotate, check_database, load_database
    from seq2func.interpret.logos import plot_logos
    from seq2func.interpret.modisco import discover, save_patterns

    check_database(database, "--database")  # before minutes of motif discovery
    d = load_npz(attributions_path, ("tasks", "one_hot", "hypothetical", "selected"))
    tasks = [str(t) for t in d["tasks"]]
    a, b = settings.modisco_window or (0, d["one_hot"].shape[1])
    patterns = []
    for i, t in enumerate(tasks):
        rows = np.flatnonzero(d["selected"][:, i])
        found = discover(d["one_hot"][rows, a:b], d["hypothetical"][rows, a:b, :, i], t,
                         settings.modisco, trim_threshold=settings.trim_threshold)
        log.info("%s: %d patterns from %d peaks", t, len(found), rows.size)
        patterns += found
    db = load_database(database, "--database")
    table = annotate(patterns, db)
    write_tsv_atomic(out, table, float_format="%.4g")
    write_provenance(out, step="discover-motifs", inputs=[attributions_path],
                     config=settings.to_config(),
                     extra={"model": model_name, "database": database,
                            "n_database_motifs": len(db)})
    fig = plot_logos(patterns, table, tasks, top=settings.logos_per_task)
    save_figure(fig, figure, inputs=[attributions_path, out])
    save_patterns(patterns_out, patterns)


def motif_recovery(pattern_files: Mapping[str, str | Path], simulation: str | Path,
                   planted_motifs_path: str | Path, samples: str | Path,
                   out: str | Path) -> None:
    """Demo: best similarity of each planted motif to the patterns of each model (a table)."""
    from seq2func.core.config import task_cell_types
    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.metrics import rows_to_frame
    from seq2func.core.motifs import read_jaspar
    from seq2func.interpret.modisco import load_patterns
    from seq2func.interpret.recovery import planted_motifs, recovery_rows

    cells = task_cell_types(samples)
    planted_db = {m.motif_id: m for m in read_jaspar(planted_motifs_path)}
    planted = planted_motifs(simulation)
    rows = []
    for model, path in pattern_files.items():
        # every task counts: a task without patterns gets NaN (not recovered)
        rows += recovery_rows(load_patterns(path), model, cells, planted, planted_db)
    write_tsv_atomic(out, rows_to_frame(rows), float_format="%.4g")
    write_provenance(out, step="motif-recovery", inputs=[simulation, *pattern_files.values()])
