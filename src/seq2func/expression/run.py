"""Stage entry points of the expression models, one per subcommand.

1. :func:`prepare` (``expression-prepare``) - gene table, QC record and features (promoter
   codes, observed chromatin) of every gene;
2. :func:`predicted_chromatin` (``expression-predicted-chromatin``) - accessibility predicted
   around each TSS by the accessibility models;
3. :func:`train` (``train-expression``) - one model variant and seed;
4. :func:`evaluate` (``evaluate-expression``) - scikit-learn baselines fitted on the training
   genes (k-mer ridge on the promoter, ridge on the observed chromatin only), Pearson/Spearman
   per sample across test genes with bootstrap intervals, the ablation table and figures; on
   the simulated demo, the explainable variance captured.

All models are scored on the test chromosomes of the shared ``split`` configuration. Every
setting comes from :class:`~seq2func.expression.settings.ExpressionSettings`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError, Seq2FuncError
from seq2func.core.io import atomic_output, load_npz, write_tsv_atomic
from seq2func.core.provenance import write_provenance
from seq2func.expression.settings import ExpressionSettings

log = logging.getLogger(__name__)


def _save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def prepare(
    annotation: str | Path,
    expression: str | Path,
    genome_path: str | Path,
    bigwigs: Mapping[str, str | Path],
    split: Mapping[str, Sequence[str]],
    settings: ExpressionSettings,
    outdir: str | Path,
    *,
    exclude_regex: str | None = None,
) -> dict[str, Any]:
    """Write ``genes.tsv`` (with provenance), ``genes_qc.json`` and ``features.npz``.

    ``features.npz`` holds ``codes`` ``(n, L)`` uint8 (the sequence input: oriented promoter
    and gene-end window, :func:`~seq2func.expression.features.sequence_codes`), ``observed``
    ``(n, bins, tracks)`` float32, ``tracks`` (the accessibility sample of each track) and
    ``gene_id``.

    Parameters
    ----------
    annotation, expression, genome_path
        GTF/GFF3, expression table (TPM) and genome FASTA.
    bigwigs
        Accessibility sample -> bigWig (the chromatin tracks).
    split
        The config's ``split`` section.
    settings
        The ``expression`` section (window, ``samples``, ``biotypes``).
    outdir
        Output directory.
    exclude_regex
        Chromosomes to skip (``preprocess.exclude_chromosomes``).

    Returns
    -------
    dict
        The QC record.
    """
    from seq2func.core.sequence import Genome
    from seq2func.expression.features import observed_chromatin, sequence_codes
    from seq2func.expression.genes import build_gene_table, write_qc

    out = Path(outdir)
    window = settings.window
    with Genome(genome_path) as genome:
        sizes = dict(genome.sizes)
        genes, qc = build_gene_table(annotation, expression, sizes, split, window,
                                     samples=settings.samples or None,
                                     exclude_regex=exclude_regex,
                                     biotypes=settings.biotypes or None)
        codes = sequence_codes(genome, genes, window)
    observed = observed_chromatin(list(bigwigs.values()), genes, window, sizes)
    qc["n_fraction_promoters"] = float((codes[:, : window.promoter_length] == 4).mean())
    qc["chromatin_tracks"] = list(bigwigs)
    _save_npz(out / "features.npz", codes=codes, observed=observed,
              tracks=np.asarray(list(bigwigs)), gene_id=genes["gene_id"].to_numpy().astype(str))
    write_tsv_atomic(out / "genes.tsv", genes, float_format="%.6g")
    write_qc(out / "genes_qc.json", qc)
    write_provenance(out / "genes.tsv", step="expression-prepare",
                     inputs=[annotation, expression, genome_path, *bigwigs.values()],
                     config=settings.to_config(), extra={"qc": qc})
    return qc


def predicted_chromatin(genes_path: str | Path, genome_path: str | Path,
                        models: Sequence[str | Path], tasks: Sequence[str],
                        settings: ExpressionSettings, out: str | Path, *, threads: int = 0,
                        progress: bool = False,
                        fold_models: Mapping[str, Sequence[str | Path]] | None = None,
                        dataset_json: str | Path | None = None) -> np.ndarray:
    """Write ``out`` (``.npz``: ``predicted`` ``(genes, bins, tasks)``, ``tracks``,
    ``gene_id``) with its provenance: :func:`seq2func.expression.predicted.predict_chromatin`
    of the accessibility ``models`` (one model's seeds), whose tasks are ``tasks``; with
    ``fold_models`` (fold -> its seeds' models) and ``dataset_json`` (the folds' test
    chromosomes), cross-fitted instead
    (:func:`~seq2func.expression.predicted.predict_chromatin_cross_fitted`).

    Raises
    ------
    seq2func.core.errors.Seq2FuncError
        If the models predict another number of tasks than ``tasks`` names, or
        ``fold_models`` comes without ``dataset_json``.
    """
    from seq2func.core.sequence import Genome
    from seq2func.expression.genes import read_gene_table
    from seq2func.train.runtime import configure_runtime

    window, grid = settings.window, settings.chromatin.grid
    device = configure_runtime(seed=0, deterministic=True, threads=threads)
    from seq2func.expression.predicted import predict_chromatin

    genes = read_gene_table(genes_path)
    fold_test = _fold_test_chromosomes(dataset_json) if fold_models else None
    with Genome(genome_path) as genome:
        if fold_models and fold_test is not None:
            from seq2func.expression.predicted import predict_chromatin_cross_fitted

            pred, outputs = predict_chromatin_cross_fitted(fold_models, fold_test, genome,
                                                           genes, window, grid=grid,
                                                           progress=progress)
            models = [m for ms in fold_models.values() for m in ms]
        else:
            pred, outputs = predict_chromatin(models, genome, genes, window, grid=grid,
                                              progress=progress)
    if pred.shape[2] != len(tasks):
        raise Seq2FuncError(f"the models predict {pred.shape[2]} tasks but --tasks names "
                            f"{len(tasks)}")
    _save_npz(out, predicted=pred, tracks=np.asarray(tasks),
              gene_id=genes["gene_id"].to_numpy().astype(str))
    write_provenance(out, step="expression-predicted-chromatin",
                     inputs=[genes_path, *models], device=device.description,
                     extra={"outputs": outputs, "shape": list(pred.shape),
                            "cross_fitted": fold_test is not None, "grid_bp": grid,
                            **({"fold_test": fold_test} if fold_test else {})})
    return pred


def _fold_test_chromosomes(dataset_json: str | Path | None) -> dict[str, list[str]]:
    """Fold name -> test chromosomes, from the training set's ``dataset.json``.

    Raises
    ------
    seq2func.core.errors.Seq2FuncError
        Without ``dataset_json``; InputError if it lists no folds.
    """
    import json

    if dataset_json is None:
        raise Seq2FuncError("cross-fitted predicted chromatin needs --dataset (dataset.json: "
                            "the folds' test chromosomes)")
    folds = json.loads(Path(dataset_json).read_text()).get("folds") or []
    if not folds:
        raise InputError(dataset_json, "lists no folds",
                         fix="set split.folds and accessibility.folds (k-fold training)")
    return {str(f["name"]): [str(c) for c in f["split"]["test"]] for f in folds}


def train(genes_path: str | Path, features_path: str | Path, variant: str,
          settings: ExpressionSettings, seed: int, outdir: str | Path, *,
          predicted: str | Path | None = None, threads: int = 0,
          warm_start: str | Path | None = None) -> dict[str, Any]:
    """Train one model variant (one seed): see
    :func:`seq2func.expression.models.train_expression` (its outputs) and
    :func:`seq2func.expression.data.load_arrays` (its inputs; ``predicted`` is the predicted
    chromatin of ``seq_predicted``). ``warm_start`` is the trained ``seq_only`` model.keras of
    the same seed a chromatin variant starts from (``expression.chromatin.warm_start``; None,
    or the mode ``none``: from scratch).

    Returns
    -------
    dict
        The run record.
    """
    from seq2func.expression.data import load_arrays
    from seq2func.expression.models import train_expression

    arrays = load_arrays(genes_path, features_path, variant, predicted,
                         match=settings.chromatin.match)
    window = settings.window
    if arrays.codes.shape[1] != window.length:
        raise InputError(features_path, f"sequence inputs of {arrays.codes.shape[1]} bp, but "
                         f"the expression settings make {window.length} bp (promoter "
                         f"{window.promoter_length}, gene end {window.end_length})",
                         fix="rerun expression-prepare with the same expression settings "
                             "(upstream, downstream, end_upstream, end_downstream)")
    inputs = [genes_path, features_path] + ([predicted] if predicted else [])
    warm = (None if warm_start is None or variant == "seq_only"
            else (warm_start, settings.chromatin.warm_start))
    if warm is not None and not Path(warm[0]).is_file():
        raise InputError(warm_start, "no such seq_only model to warm-start from",
                         fix="train seq_only of the same seed first, or set "
                             "expression.chromatin.warm_start: none")
    rec = train_expression(arrays, variant, settings.model, settings.train, seed, outdir,
                           settings.window, threads=threads, inputs=inputs, warm_start=warm)
    log.info("trained %s seed %d: best epoch %d, val loss %.4f", variant, seed,
             rec["best_epoch"], rec["best_val_loss"])
    return rec


def evaluate(
    genes_path: str | Path,
    features_path: str | Path,
    model_predictions: Mapping[str, Sequence[str | Path]],
    settings: ExpressionSettings,
    metrics_out: str | Path,
    ablation_out: str | Path,
    figure_stems: Mapping[str, str | Path],
    *,
    truth: str | Path | None = None,
    truth_out: str | Path | None = None,
) -> pd.DataFrame:
    """Fit the baselines, score every model on the test genes and write tables and figures.

    Parameters
    ----------
    model_predictions
        Variant -> ``predictions.npz`` of its seeds (the mean over seeds is scored).
    settings
        The ``expression`` section (``baselines.k``, ``chromatin.match``, ``n_bootstrap``).
    metrics_out, ablation_out
        The metric table (MetricRow format) and the ablation table (TSV, with provenance).
    figure_stems
        ``scatter`` and ``ablation`` -> output stem (PDF, SVG, PNG and provenance are written).
    truth, truth_out
        Simulator truth (``expression_terms.tsv``) and where to write the explainable-variance
        table (demo only).

    Returns
    -------
    pandas.DataFrame
        The ablation table.
    """
    from seq2func.core import metrics
    from seq2func.expression.baselines import BASELINE_NAMES, baseline_predictions
    from seq2func.expression.evaluate import ablation_table, explainable_variance, score_models
    from seq2func.expression.genes import read_gene_table

    config = settings.to_config()
    n_boot = settings.n_bootstrap
    genes = read_gene_table(genes_path)
    preds, inputs = _seed_means(model_predictions)
    inputs = [genes_path, features_path, *inputs]
    base, info = baseline_predictions(genes, features_path, k=settings.baselines.k,
                                      match=settings.chromatin.match)
    preds.update(base)
    order = [*[v for v in ("seq_only", "seq_observed", "seq_predicted") if v in preds],
             *BASELINE_NAMES]
    rows = score_models(genes, preds, n_boot=n_boot)
    write_tsv_atomic(metrics_out, metrics.rows_to_frame(rows), float_format="%.6g")
    extra = {"baselines": info, "seeds": {k: len(v) for k, v in model_predictions.items()}}
    write_provenance(metrics_out, step="evaluate-expression", inputs=inputs, config=config,
                     extra=extra)
    ablation = ablation_table(rows, order)
    write_tsv_atomic(ablation_out, ablation, float_format="%.6g")
    write_provenance(ablation_out, step="evaluate-expression", inputs=inputs, config=config)
    if truth is not None and truth_out is not None:
        trows = explainable_variance(genes, preds, truth, n_boot=n_boot)
        write_tsv_atomic(truth_out, metrics.rows_to_frame(trows), float_format="%.6g")
        write_provenance(truth_out, step="evaluate-expression", inputs=[*inputs, truth],
                         config=config)
    _figures(genes, preds, rows, order, figure_stems, inputs, config)
    log.info("expression ablation (test genes):\n%s", ablation.to_string(index=False))
    return ablation


def _seed_means(model_predictions: Mapping[str, Sequence[str | Path]]
                ) -> tuple[dict[str, np.ndarray], list[str | Path]]:
    """Each variant's prediction averaged over its seeds' ``predictions.npz``, and the files."""
    preds: dict[str, np.ndarray] = {}
    inputs: list[str | Path] = []
    for variant, paths in model_predictions.items():
        arrays = []
        for p in paths:
            arrays.append(load_npz(p, ("prediction",))["prediction"])
            inputs.append(p)
        preds[variant] = np.mean(arrays, axis=0)
    return preds, inputs


def _figures(genes: pd.DataFrame, preds: Mapping[str, np.ndarray], rows: Sequence[Any],
             order: Sequence[str], figure_stems: Mapping[str, str | Path],
             inputs: Sequence[str | Path], config: Mapping[str, Any]) -> None:
    """The scatter (deep models) and ablation figures asked for in ``figure_stems``."""
    from seq2func.core.plotting import save_figure
    from seq2func.expression.figures import ablation_figure, scatter_figure

    deep = [m for m in order if m.startswith("seq_")] or list(order)
    if "scatter" in figure_stems:
        save_figure(scatter_figure(genes, preds, deep), figure_stems["scatter"], inputs=inputs,
                    config=config)
    if "ablation" in figure_stems:
        save_figure(ablation_figure(rows, order), figure_stems["ablation"], inputs=inputs,
                    config=config)
