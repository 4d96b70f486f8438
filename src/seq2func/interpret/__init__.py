"""Interpretation of accessibility models: attributions, TF-MoDISco motifs, annotation, logos.

* :mod:`~seq2func.interpret.attributions` - strand-averaged gradient x input and vectorised ISM;
* :mod:`~seq2func.interpret.modisco` - TF-MoDISco patterns (:class:`Pattern`);
* :mod:`~seq2func.interpret.annotate` - similarity to a motif database (JASPAR);
* :mod:`~seq2func.interpret.logos` - logo figures;
* :mod:`~seq2func.interpret.recovery` - demo truth: recovery of the planted motifs;
* :mod:`~seq2func.interpret.grammar` - in-silico grammar: marginalisation, pair sweeps
  (:mod:`~seq2func.interpret.grammar_truth`: demo truth of the planted pair rules;
  :mod:`~seq2func.interpret.grammar_plots`: their figure);
* :mod:`~seq2func.interpret.run` - the stage's entry points (one per subcommand).
"""

from seq2func.interpret.annotate import annotate, load_database, ppm_of, similarity
from seq2func.interpret.logos import plot_logos
from seq2func.interpret.modisco import Pattern, discover, load_patterns, save_patterns, trim
from seq2func.interpret.recovery import planted_motifs, recovery_rows
from seq2func.interpret.settings import InterpretSettings

__all__ = ["InterpretSettings", "Pattern", "annotate", "discover", "load_database",
           "load_patterns", "planted_motifs", "plot_logos", "ppm_of", "recovery_rows",
           "save_patterns", "similarity", "trim"]
