"""Evaluation on held-out chromosomes: deep models against baselines, tracks, quality gates.

* :mod:`~seq2func.evaluate.scores` - observed targets and every model's predictions of a split;
* :mod:`~seq2func.evaluate.baselines` - k-mer, GC-only and shuffled-label baselines;
* :mod:`~seq2func.evaluate.ceiling` - the simulator's Bayes ceiling (demo);
* :mod:`~seq2func.evaluate.accessibility` - the metric table (entry point :func:`run_evaluation`);
* :mod:`~seq2func.evaluate.tracks` - predicted-accessibility bigWigs;
* :mod:`~seq2func.evaluate.gates` - quality gates over every registered metric table.
"""

from seq2func.evaluate.accessibility import evaluate_accessibility, metric_rows, run_evaluation
from seq2func.evaluate.gates import enforce_gates, evaluate_gates, run_gates
from seq2func.evaluate.scores import SplitScores, load_scores, read_split
from seq2func.evaluate.settings import EvaluateSettings, TracksSettings

__all__ = ["EvaluateSettings", "SplitScores", "TracksSettings", "enforce_gates",
           "evaluate_accessibility", "evaluate_gates", "load_scores", "metric_rows",
           "read_split", "run_evaluation", "run_gates"]
