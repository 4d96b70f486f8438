"""Paper figures of the evaluation and the HTML report's figures.

* :mod:`~seq2func.report.figures` - training curves, ROC/PR curves, count scatter, task bars;
* :mod:`~seq2func.report.locus` - the genome-browser-like locus panel;
* :mod:`~seq2func.report.run` - the ``figure`` subcommand's entry point (one builder per kind).

Figures of other stages (QC, expression, motif logos, variant effects) are drawn by those
stages with :func:`seq2func.core.plotting.save_figure`.
"""
