"""Entry points of the interpretation stage (one per subcommand), with provenance records."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seq2func.core.provenance import write_provenance
from seq2func.interpret.settings import InterpretSettings

log = logging.getLogger(__name__)


def explain(model_paths: Sequence[str | Path], dataset_dir: str | Path,
            genome_path: str | Path, chrom_sizes: str | Path, settings: InterpretSettings,
            out: str | Path, bigwig_dir: str | Path, threads: int = 0,
            target: str | None = None) -> None:
    """Attributions of the seed ensemble of ``model_paths`` on the strongest peaks.

    Which peaks, ``settings.peaks``: the default split's test peaks, or out of fold (runs
    trained on folds: every peak, each explained by the runs of the fold that held its
    chromosome out, :func:`out_of_fold_groups`). Writes ``out``
    (:class:`~seq2func.interpret.attributions.Attributions`) and one bigWig of actual scores
    per task into ``bigwig_dir``. A bias model of a chrombpnet model (its ``run.json`` names
    its heads) is explained task by task through its heads. ``target`` overrides
    ``settings.bpnet_target`` (``counts`` or ``profile``).

    Raises
    ------
    seq2func.core.errors.InputError
        With ``peaks: out_of_fold``, if a model is not a fold run or no fold holds out a
        chromosome with peaks.
    """
    from seq2func.core.io import read_chrom_sizes
    from seq2func.core.sequence import Genome
    from seq2func.dataset import Dataset
    from seq2func.train.runtime import configure_runtime

    device = configure_runtime(seed=0, deterministic=True, threads=threads)
    from seq2func.interpret import attributions

    ds = Dataset(dataset_dir)
    tasks = list(ds.tasks)
    by_fold = fold_runs_to_explain(model_paths, settings.peaks)
    if by_fold is None:
        sel = attributions.select_peaks(ds.regions("test"), tasks, settings.peaks_per_task)
        groups = [(list(map(str, model_paths)), np.arange(len(sel)))]
    else:
        sel, groups = out_of_fold_groups(ds, tasks, settings.peaks_per_task, by_fold)
    with Genome(genome_path) as genome:
        codes = genome.windows(sel["chrom"].tolist(), sel["start"].to_numpy(),
                               ds.geometry.input_length)
    ism_rows = attributions.ism_selection(sel, tasks, settings.ism_peaks_per_task)
    parts = [attributions.explain_regions(
        _task_model(paths, ds), sel.iloc[rows].reset_index(drop=True), codes[rows], tasks,
        bpnet_target=target or settings.bpnet_target, ism_width=settings.ism_width,
        ism_rows=np.flatnonzero(np.isin(rows, ism_rows))) for paths, rows in groups]
    attr = parts[0] if len(parts) == 1 else attributions.concat_attributions(parts)
    attr.save(out)
    bigwigs = {t: Path(bigwig_dir) / f"{t}.bw" for t in tasks}
    attributions.write_attribution_bigwigs(attr, read_chrom_sizes(chrom_sizes), bigwigs)
    peaks = "test" if by_fold is None else "out_of_fold"
    write_provenance(out, step="explain", inputs=[*model_paths, genome_path, ds.metadata_path],
                     config=settings.to_config(), device=device.description,
                     extra={"n_regions": len(sel), "n_ism_regions": int(attr.ism_rows.size),
                            "peaks": peaks,
                            "regions_per_model_group": {"+".join(sorted(map(str, p))): int(r.size)
                                                        for p, r in groups},
                            "bigwigs": [str(v) for v in bigwigs.values()]})
    log.info("explained %d %s peaks (%d with ISM) -> %s", len(sel), peaks.replace("_", "-"),
             attr.ism_rows.size, out)


def fold_runs_to_explain(model_paths: Sequence[str | Path], peaks: str
                         ) -> dict[str, list[str]] | None:
    """The runs of ``model_paths`` by fold when their peaks are explained out of fold, else
    None (``peaks``: ``test``; or ``auto`` with a run that is not a fold's).

    Raises
    ------
    seq2func.core.errors.InputError
        With ``peaks="out_of_fold"``, if a run was not trained on a fold (or has no record).
    """
    from seq2func.core.errors import InputError
    from seq2func.models.oof import runs_by_fold

    if peaks == "test":
        return None
    try:
        return runs_by_fold(model_paths)
    except InputError as exc:
        if peaks == "auto":
            return None
        raise InputError(exc.path, f"interpret.peaks is out_of_fold, but {exc.problem}",
                         fix="train the model on folds (accessibility.folds) or set "
                             "interpret.peaks: test") from None


def out_of_fold_groups(ds: Any, tasks: Sequence[str], n_per_task: int,
                       by_fold: Mapping[str, Sequence[str]]
                       ) -> tuple[Any, list[tuple[list[str], Any]]]:
    """The peaks to explain out of fold and which runs explain which of them.

    The strongest ``n_per_task`` peaks of each task among the peaks of every chromosome some
    fold of ``by_fold`` holds out (:func:`~seq2func.interpret.attributions.select_peaks`); a
    peak is explained by the runs of the folds whose test set holds its chromosome (one fold
    with automatic folds; several are ensembled).

    Returns
    -------
    (pandas.DataFrame, list)
        The selected peaks and ``(model paths, row indices into them)`` per group of folds.

    Raises
    ------
    seq2func.core.errors.InputError
        If no fold holds out any chromosome with a peak.
    """
    from seq2func.core.errors import InputError
    from seq2func.interpret.attributions import select_peaks
    from seq2func.models.oof import held_out_by

    held = held_out_by(ds.meta, list(by_fold))
    regions = ds.regions()
    peaks = regions[regions["source"] == "peak"]
    outside = sorted(set(peaks["chrom"]) - set(held))
    if outside:
        log.warning("out-of-fold attributions: no fold holds out %s; their peaks are not "
                    "explained", ", ".join(outside))
    sel = select_peaks(regions[regions["chrom"].isin(list(held))], tasks, n_per_task)
    if sel.empty:
        raise InputError(ds.metadata_path, f"no fold of {', '.join(by_fold)} holds out a "
                         "chromosome with peaks", fix="set interpret.peaks: test")
    rows_of: dict[tuple[str, ...], list[int]] = {}
    for i, chrom in enumerate(sel["chrom"]):
        rows_of.setdefault(tuple(held[chrom]), []).append(i)
    return sel, [([p for f in folds for p in by_fold[f]], np.asarray(rows))
                 for folds, rows in rows_of.items()]


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


def resolve_pairs(settings: Any, patterns: Sequence[Any], database: Any,
                  source: str = "--params") -> tuple[list[tuple[Any, Any]], list[Any]]:
    """The pairs to sweep and the motifs to marginalise, as
    :class:`~seq2func.interpret.grammar.MotifSpec`.

    Pairs: every pair of each task's top ``pattern_pairs_top`` patterns, then
    ``pairs`` of the config. Marginalised: each task's top ``marginalize_top`` patterns and
    every motif of a pair (each once).

    Raises
    ------
    ConfigError
        For a pair naming an unknown motif (the key ``interpret.grammar.pairs[i].first``).
    """
    from seq2func.interpret.grammar import pattern_pairs, resolve_motif, top_patterns

    by_name = {p.name: p for p in patterns}

    def spec(name: str, key: str) -> Any:
        return resolve_motif(name, key, settings.motifs, by_name, database, source)

    pairs = [(spec(a, "pattern"), spec(b, "pattern"))
             for a, b in pattern_pairs(patterns, settings.pattern_pairs_top)]
    for i, pair in enumerate(settings.pairs):
        key = f"interpret.grammar.pairs[{i}]"
        pairs.append((spec(pair["first"], f"{key}.first"), spec(pair["second"], f"{key}.second")))
    singles = {n: spec(n, "pattern")
               for names in top_patterns(patterns, settings.marginalize_top).values()
               for n in names}
    for a, b in pairs:
        singles.setdefault(a.name, a)
        singles.setdefault(b.name, b)
    return pairs, list(singles.values())


def _cached(fn: Any) -> Any:
    """``fn`` called at most once (the motif database loads only when a name needs it)."""
    box: list[Any] = []

    def once() -> Any:
        if not box:
            box.append(fn())
        return box[0]

    return once


def _backgrounds(ds: Any, genome_path: str | Path, n: int, seed: int) -> Any:
    """Codes of ``n`` test-split regions that are peaks in no task (seeded draw)."""
    from seq2func.core.sequence import Genome
    from seq2func.interpret.grammar import low_signal_rows

    rows = low_signal_rows(ds.regions("test"), ds.columns("label"), n, seed)
    with Genome(genome_path) as genome:
        return genome.windows(rows["chrom"].tolist(), rows["start"].to_numpy(),
                              ds.geometry.input_length)


def grammar_experiments(model_paths: Sequence[str | Path], model_name: str,
                        dataset_dir: str | Path, genome_path: str | Path,
                        patterns_path: str | Path | None, database: str,
                        settings: InterpretSettings, marginal_out: str | Path,
                        sweeps_out: str | Path, figure: str | Path, threads: int = 0) -> None:
    """Marginalisation of motifs and pair sweeps of one model (:mod:`~.grammar`).

    Writes ``marginal_out`` (one row per motif x task), ``sweeps_out`` (one row per pair x
    orientation x spacing x task: interaction and pair effect, with intervals) and the
    figure of the interaction curves, each with provenance. Without ``patterns_path`` only
    the config's pairs run.
    """
    import pandas as pd

    from seq2func.core.io import write_tsv_atomic
    from seq2func.dataset import Dataset
    from seq2func.interpret.annotate import load_database
    from seq2func.interpret.grammar import (
        accessibility_output,
        marginal_effects,
        marginal_table,
        pair_sweep,
        scores,
        spacing_grid,
        sweep_table,
    )
    from seq2func.interpret.modisco import load_patterns

    g = settings.grammar
    patterns = load_patterns(patterns_path) if patterns_path else []
    pairs, singles = resolve_pairs(g, patterns, _cached(lambda: load_database(database)))
    spacings = spacing_grid(g.max_spacing, g.spacing_step, g.extra_spacings)
    ds = Dataset(dataset_dir)
    tasks = list(ds.tasks)
    _check_fits(pairs, spacings, ds.geometry.input_length)
    bg = _backgrounds(ds, genome_path, g.backgrounds, g.seed)

    from seq2func.train.runtime import configure_runtime

    device = configure_runtime(seed=0, deterministic=True, threads=threads)
    from seq2func.interpret.insilico import predict_codes
    from seq2func.models import load_ensemble, output_submodel

    model = load_ensemble(model_paths)
    first = predict_codes(model, bg, g.batch_size)
    output = accessibility_output(list(first))
    base = scores(first, output)
    model = output_submodel(model, output)  # the sweeps score one output: skip the others
    eff = marginal_effects(model, bg, [s.codes for s in singles], output, base, g.batch_size)
    marg = marginal_table(eff, [s.name for s in singles], tasks, g.bootstrap, g.ci, g.seed)
    info = pd.DataFrame({"motif": [s.name for s in singles],
                         "motif_id": [s.motif_id for s in singles],
                         "source": [s.source for s in singles],
                         "sequence": [decode_codes(s.codes) for s in singles]})
    marg = marg.merge(info, on="motif", how="left")
    marg.insert(0, "model", model_name)
    marg["output"] = output
    frames = []
    for a, b in pairs:
        sw = pair_sweep(model, bg, a.codes, b.codes, spacings, output, g.orientations, base,
                        g.batch_size)
        t = sweep_table(sw, tasks, g.bootstrap, g.ci, g.seed)
        meta = {"model": model_name, "pair": f"{a.name}+{b.name}", "first": a.name,
                "second": b.name, "first_id": a.motif_id, "second_id": b.motif_id,
                "first_width": a.width, "second_width": b.width,
                "first_sequence": decode_codes(a.codes), "second_sequence": decode_codes(b.codes)}
        frames.append(pd.concat([pd.DataFrame([meta] * len(t)), t], axis=1))
        log.info("%s: swept %s+%s (%d spacings)", model_name, a.name, b.name, spacings.size)
    sweeps = pd.concat(frames, ignore_index=True) if frames else _empty_sweeps()
    sweeps["output"] = output
    config = g.to_config()
    inputs = [*model_paths, genome_path, ds.metadata_path,
              *([patterns_path] if patterns_path else [])]
    extra = {"model": model_name, "output": output, "n_backgrounds": int(bg.shape[0]),
             "backgrounds": "test-split regions that are peaks in no task",
             "plotted": "interaction = s(A+B) - s(A) - s(B) + s(background)",
             "database": database}
    write_tsv_atomic(marginal_out, marg, float_format="%.5g")
    write_provenance(marginal_out, step="grammar", inputs=inputs, config=config,
                     device=device.description, extra=extra)
    write_tsv_atomic(sweeps_out, sweeps, float_format="%.5g")
    write_provenance(sweeps_out, step="grammar", inputs=inputs, config=config,
                     device=device.description, extra=extra)
    from seq2func.core.plotting import save_figure
    from seq2func.interpret.grammar_plots import plot_sweeps

    save_figure(plot_sweeps(sweeps, tasks, f"{model_name}: interaction vs spacing ({output})"),
                figure, inputs=[sweeps_out], config=config)


def decode_codes(codes: Any) -> str:
    """A motif's codes as a string."""
    from seq2func.core.sequence import decode

    return decode(codes)


def _check_fits(pairs: Sequence[tuple[Any, Any]], spacings: Any, length: int) -> None:
    """Every pair at the widest spacing fits the input window, else a ConfigError."""
    from seq2func.core.errors import ConfigError

    for a, b in pairs:
        span = a.width + int(spacings.max()) + b.width
        if span > length:
            raise ConfigError("--params", "interpret.grammar.max_spacing",
                              f"{a.name} ({a.width} bp) and {b.name} ({b.width} bp) "
                              f"{int(spacings.max())} bp apart span {span} bp, more than the "
                              f"{length}-bp input", "lower max_spacing / extra_spacings")


def _empty_sweeps() -> Any:
    """A sweeps table with no rows (no pairs to sweep)."""
    import pandas as pd

    return pd.DataFrame(columns=["model", "pair", "first", "second", "first_id", "second_id",
                                 "first_width", "second_width", "first_sequence",
                                 "second_sequence", "orientation", "spacing",
                                 "task", "interaction", "interaction_low", "interaction_high",
                                 "pair_effect", "pair_effect_low", "pair_effect_high",
                                 "n_backgrounds"])


def grammar_truth(sweep_files: Mapping[str, str | Path], simulation: str | Path,
                  planted_motifs_path: str | Path, samples: str | Path,
                  settings: InterpretSettings, out: str | Path) -> None:
    """Demo: the ``grammar`` metric table, sweeps against the planted pair rules (where a
    rule holds is scored by the simulator's grammar with the planted matrices)."""
    import pandas as pd

    from seq2func.core.config import task_cell_types
    from seq2func.core.io import write_tsv_atomic
    from seq2func.core.metrics import rows_to_frame
    from seq2func.core.motifs import read_jaspar
    from seq2func.interpret.grammar_truth import planted_rules, simulator_decoys, truth_rows
    from seq2func.simulate.grammar import load_grammar_motifs

    t = settings.grammar.truth
    cells = task_cell_types(samples)
    motifs = load_grammar_motifs(read_jaspar(planted_motifs_path))
    rules, decoys = planted_rules(simulation), simulator_decoys()
    rows = []
    for model, path in sweep_files.items():
        sweeps = pd.read_csv(path, sep="\t")
        rows += truth_rows(sweeps, model, cells, rules, decoys, motifs,
                           t.other_task_fraction, t.flat_fraction)
    write_tsv_atomic(out, rows_to_frame(rows), float_format="%.4g")
    write_provenance(out, step="grammar-truth",
                     inputs=[simulation, planted_motifs_path, *sweep_files.values()],
                     config=t.to_config())
