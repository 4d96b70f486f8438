"""Checks of a whole study configuration before anything runs (Snakefile parse time and
``seq2func validate-config``).

The schema checks types and keys one by one; what it cannot see is checked here, across
sections, so that a mistake stops the run at start-up rather than in a job hours later:

* every stage's settings are built (relations between sizes, the exclusion regex, the
  expression window: :meth:`~seq2func.core.settings.Settings.from_config` of each stage);
* names that refer to other sections exist (models of ``evaluate.tracks``, ``interpret``,
  ``variants`` and ``expression.chromatin.predicted_model``, the samples of
  ``expression.samples``, the metric tables of ``evaluate.gates``), with a suggestion for typos;
* the split and the chromosome lists name chromosomes of the genome: its ``chrom.sizes`` once it
  exists, else the configured ones (``simulate.chromosomes`` or ``download.chromosomes``).

Every error names the config file its key came from (:func:`seq2func.core.config.attribute`):
a key set by a study's ``--configfile`` is reported in that file, not in ``config/config.yaml``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from seq2func.core.config import (
    attribute,
    check_input_path,
    load_samples,
    replace_merged_mappings,
    validate_config,
)
from seq2func.core.errors import ConfigError, InputError


def check_study(config: dict[str, Any], files: Sequence[str], schema_dir: str | Path
                ) -> tuple[pd.DataFrame, list[str]]:
    """Validate ``config`` in place (defaults filled in) and check it across sections.

    Parameters
    ----------
    config
        The merged configuration (as Snakemake built it from ``files``).
    files
        The config files in merge order (the workflow's own first, each ``--configfile``
        after; see ``config_sources`` in ``workflow/rules/common.smk``).
    schema_dir
        Directory of ``config.schema.yaml`` and ``samples.schema.yaml``.

    Returns
    -------
    (pandas.DataFrame, list of str)
        The samples table, and notes for the log (mappings taken whole from one file:
        :func:`~seq2func.core.config.replace_merged_mappings`).

    Raises
    ------
    ConfigError
        Naming the file, the key and the fix.
    InputError
        For a bad samples table (naming it and the line).
    """
    files = [str(f) for f in files]
    notes = replace_merged_mappings(config, files)
    try:
        validate_config(config, Path(schema_dir) / "config.schema.yaml", source="config")
        for key, value in _input_paths(config):
            check_input_path(value, key)
        samples = load_samples(config["samples"], Path(schema_dir) / "samples.schema.yaml")
        notes += accessibility_only(config, samples)
        add_baseline_gates(config, samples)
        _check_settings(config)
        _check_references(config, samples)
    except ConfigError as exc:
        raise attribute(exc, files) from None
    return samples, notes


def add_baseline_gates(config: dict[str, Any], samples: pd.DataFrame) -> None:
    """Put the study's baseline gates (``evaluate.baseline_gates``) before ``evaluate.gates``.

    Every configured accessibility model gets its architecture's templates; the expression
    variants theirs when the study has an expression stage. A gate of ``evaluate.gates`` with
    the name of a baseline gate replaces it. After this, ``evaluate.gates`` is the list the
    workflow evaluates (gates.tsv has one row per entry).
    """
    from seq2func.evaluate.gates import baseline_gates, with_baseline_gates

    evaluate = config["evaluate"]
    architectures = {name: str(entry["architecture"])
                     for name, entry in config["accessibility"]["models"].items()}
    variants = (config["expression"]["variants"]
                if samples_with_expression(config, samples) else [])
    baseline = baseline_gates(evaluate["baseline_gates"], architectures, variants)
    evaluate["gates"] = with_baseline_gates(evaluate["gates"], baseline)


def accessibility_only(config: dict[str, Any], samples: pd.DataFrame) -> list[str]:
    """Settle an accessibility-only study's expression keys; notes for the log.

    With no expression quantification in the samples table there is no expression stage, so
    ``variants.expression_model: seq_only`` (the expression stage's model) has nothing to
    name: it is set to null - variants are scored by the accessibility models only - and the
    log says so.
    """
    if samples_with_expression(config, samples):
        return []
    notes = [f"no sample of {config['samples']} names an expression file: an "
             "accessibility-only study (no expression stage)"]
    if config["variants"]["expression_model"] == "seq_only":
        config["variants"]["expression_model"] = None
        notes.append("variants.expression_model: seq_only names the expression stage's model, "
                     "which an accessibility-only study does not train: variants are scored by "
                     "the accessibility models only")
    return notes


def _input_paths(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, path) of the config values that become files of rules."""
    out = [("samples", config["samples"]), ("variants.genes", config["variants"]["genes"]),
           ("variants.expression_model", config["variants"]["expression_model"])]
    for name, entry in config["accessibility"]["models"].items():
        bias = entry.get("bias") or {}
        out.append((f"accessibility.models.{name}.bias.model", bias.get("model")))
    return [(k, str(v)) for k, v in out if v]


def _check_settings(config: Mapping[str, Any]) -> None:
    """Build every stage's settings from its section (the relation checks of each stage).

    (The model entries are checked by the schema here; their per-architecture keys when a
    model is built: importing ``seq2func.models`` loads TensorFlow, too slow for start-up.)"""
    from seq2func.evaluate.gates import check_gates
    from seq2func.evaluate.settings import EvaluateSettings
    from seq2func.expression.settings import ExpressionSettings
    from seq2func.interpret.annotate import check_database
    from seq2func.interpret.settings import InterpretSettings
    from seq2func.preprocess.settings import PreprocessSettings
    from seq2func.train.settings import AccessibilityTrainSettings
    from seq2func.variants.settings import VariantSettings

    if config["source"] == "simulate":
        from seq2func.simulate.settings import SimulationConfig

        SimulationConfig.from_config(config["simulate"])
    PreprocessSettings.from_config(config["preprocess"])
    AccessibilityTrainSettings.from_config(config["accessibility"]["train"])
    ExpressionSettings.from_config(config["expression"])
    EvaluateSettings.from_config(config["evaluate"])
    InterpretSettings.from_config(config["interpret"])
    VariantSettings.from_config(config["variants"])
    check_gates(config["evaluate"]["gates"])
    window = config["interpret"]["modisco_window"]
    length = config["preprocess"]["input_length"]
    if window is not None and not 0 <= window[0] < window[1] <= length:
        raise ConfigError("config", "interpret.modisco_window", f"{window} is not a window "
                          f"[start, end) of the {length} bp model input",
                          f"give 0 <= start < end <= preprocess.input_length ({length})")
    check_database(config["interpret"]["motif_database"])


def _unknown(names: Iterable[str], known: Sequence[str], key: str, what: str) -> None:
    """A ConfigError for the first of ``names`` not in ``known`` (with a close match)."""
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
            raise ConfigError("config", key, f"{name!r} is not {what}",
                              (f"did you mean {close[0]!r}? " if close else "")
                              + f"known: {', '.join(map(str, known)) or '(none)'}")


def _check_references(config: Mapping[str, Any], samples: pd.DataFrame) -> None:
    """Names that refer to models or samples defined elsewhere in the config exist."""
    models = list(config["accessibility"]["models"])
    model = "a model of accessibility.models"
    _unknown(config["evaluate"]["tracks"]["models"], models, "evaluate.tracks.models", model)
    _unknown(config["interpret"]["models"], models, "interpret.models", model)
    _unknown(config["interpret"]["grammar"]["models"], models, "interpret.grammar.models",
             model)
    _unknown(config["variants"]["models"], models, "variants.models", model)
    with_expression = samples_with_expression(config, samples)
    expr = config["expression"]
    if not with_expression:
        return
    if "seq_predicted" in expr["variants"]:
        pred = expr["chromatin"]["predicted_model"]
        _unknown([pred["name"]], models, "expression.chromatin.predicted_model.name", model)
        entry = config["accessibility"]["models"][pred["name"]]
        seeds = entry.get("seeds", config["accessibility"]["seeds"])
        _unknown(pred["seeds"], seeds, "expression.chromatin.predicted_model.seeds",
                 f"a seed of model {pred['name']!r}")
    _unknown(expr["samples"], with_expression, "expression.samples",
             "a sample with an expression quantification")


def samples_with_expression(config: Mapping[str, Any], samples: pd.DataFrame) -> list[str]:
    """The samples with an expression quantification, in table order.

    A simulated study has expression for every sample; a downloaded one for the rows whose
    ``expression`` cell is not empty. None: an accessibility-only study (the workflow then
    plans no expression stage).
    """
    if config["source"] == "simulate":
        return list(samples["sample"])
    cells = samples.get("expression", pd.Series([""] * len(samples), index=samples.index))
    return [str(s) for s, v in zip(samples["sample"], cells, strict=True)
            if not pd.isna(v) and str(v).strip()]


def configured_chromosomes(config: Mapping[str, Any], chrom_sizes: str | Path | None = None
                           ) -> tuple[dict[str, int], str]:
    """The genome's chromosome sizes for the start-up checks, and where they come from.

    The genome's ``chrom.sizes`` when it exists; before that, the configured chromosomes
    (sizes unknown: 1).

    Raises
    ------
    ConfigError
        When ``download.chromosomes`` lists one chromosome in two spellings.
    """
    from seq2func.core.io import read_chrom_sizes
    from seq2func.core.naming import ChromRenamer

    if chrom_sizes is not None and Path(chrom_sizes).is_file():
        return read_chrom_sizes(chrom_sizes), str(chrom_sizes)
    if config["source"] == "simulate":
        return dict(config["simulate"]["chromosomes"]), "simulate.chromosomes"
    names = list(config["download"]["chromosomes"])
    try:
        ChromRenamer(names)
    except ValueError as exc:
        raise ConfigError("config", "download.chromosomes", str(exc),
                          "list each chromosome once, in one spelling") from None
    return dict.fromkeys(names, 1), "download.chromosomes"


def _check_locus(locus: str, chroms: Any, origin: str) -> None:
    """``evaluate.locus`` lies on a processed test chromosome (and inside it, sizes known)."""
    if locus == "auto":
        return
    chrom, span = locus.rsplit(":", 1)
    start, end = (int(v.replace(",", "")) for v in span.split("-"))
    fix = "give chrom:start-end (0-based) on a test chromosome, or auto"
    if end <= start:
        raise ConfigError("config", "evaluate.locus", f"{locus}: end <= start", fix)
    from seq2func.core.chroms import match_names

    name = match_names([chrom], list(chroms.sizes)).mapping.get(chrom)
    if name is None or chroms.split.get(name) != "test" or name not in chroms.processed:
        raise ConfigError("config", "evaluate.locus", f"{chrom} is not a processed test "
                          f"chromosome ({origin})", fix)
    if chroms.sizes[name] > 1 and end > chroms.sizes[name]:
        raise ConfigError("config", "evaluate.locus", f"{locus} ends past {name} "
                          f"({chroms.sizes[name]:,} bp)", fix)


def study_folds(config: Mapping[str, Any], files: Sequence[str] = ()
                ) -> tuple[dict[str, Any], list[str]]:
    """The split the study preprocesses (with the folds ``accessibility.folds`` asks for) and
    the folds its accessibility models train on
    (:func:`seq2func.preprocess.folds.training_folds`).

    Raises
    ------
    ConfigError
        Naming the file of ``accessibility.folds`` when it asks for folds the split lacks.
    """
    from seq2func.preprocess.folds import training_folds

    try:
        return training_folds(config["split"], config["accessibility"].get("folds", []))
    except ConfigError as exc:
        raise attribute(exc, [str(f) for f in files]) from None


def check_chromosomes(config: Mapping[str, Any], files: Sequence[str],
                      chrom_sizes: str | Path | None = None) -> None:
    """The split, its folds and ``preprocess.chromosomes``/``exclude_chromosomes`` against the
    genome's chromosomes (:func:`configured_chromosomes`), as preprocessing will check them.

    Raises
    ------
    ConfigError
        Naming the file and key (e.g. a test chromosome the genome does not have, or one the
        exclusion regex removes).
    """
    from seq2func.preprocess.plan import choose_chromosomes
    from seq2func.preprocess.settings import PreprocessSettings

    files = [str(f) for f in files]
    try:
        sizes, origin = configured_chromosomes(config, chrom_sizes)
        params = PreprocessSettings.from_config(config["preprocess"])
        split, _ = study_folds(config)
        try:
            chroms = choose_chromosomes(sizes, params, split, "config", origin)
        except InputError as exc:  # a name not in the genome (resolve_names)
            key = "preprocess.chromosomes" if "preprocess.chromosomes" in str(exc) else "split"
            raise ConfigError("config", key, exc.problem + f" ({origin})", exc.fix) from None
        _check_locus(config["evaluate"]["locus"], chroms, origin)
    except ConfigError as exc:
        raise attribute(exc, files) from None

