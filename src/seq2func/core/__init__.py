"""The foundation every stage builds on (no stage is imported from here).

errors and messages (:mod:`~seq2func.core.errors`), configuration and samples
(:mod:`~seq2func.core.config`, :mod:`~seq2func.core.settings`), atomic file output
(:mod:`~seq2func.core.io`), provenance records (:mod:`~seq2func.core.provenance`), chromosome
names (:mod:`~seq2func.core.naming`, :mod:`~seq2func.core.chroms`), genomic inputs
(:mod:`~seq2func.core.sequence`, :mod:`~seq2func.core.bigwig`,
:mod:`~seq2func.core.intervals`, :mod:`~seq2func.core.genes`, :mod:`~seq2func.core.motifs`),
metrics with bootstrap intervals (:mod:`~seq2func.core.metrics`, :mod:`~seq2func.core.tables`)
and reproducible figures (:mod:`~seq2func.core.plotting`).
"""
