"""Gene expression (log1p TPM per sample) from promoter sequence, alone or with chromatin.

Modules: :mod:`~seq2func.expression.settings` (the ``expression`` config section, the input
window), :mod:`~seq2func.expression.genes` (the gene table and targets),
:mod:`~seq2func.expression.features` (promoter codes, observed chromatin, track matching),
:mod:`~seq2func.expression.predicted` (chromatin predicted by the accessibility models),
:mod:`~seq2func.expression.data` (one variant's in-memory inputs),
:mod:`~seq2func.expression.models` (Keras models and their training),
:mod:`~seq2func.expression.baselines` (ridge baselines), :mod:`~seq2func.expression.evaluate`
(metrics, ablation, explainable variance), :mod:`~seq2func.expression.figures`, and
:mod:`~seq2func.expression.run` (one entry point per subcommand). Nothing here imports
TensorFlow at import time.
"""
