"""Variant effects: VCF in, strand-averaged model scores out (annotated VCF + TSV).

* :mod:`~seq2func.variants.vcf` - reading, REF checks, writing with declared INFO fields;
* :mod:`~seq2func.variants.windows` - both alleles' model inputs, vectorised;
* :mod:`~seq2func.variants.score` - accessibility and expression scores;
* :mod:`~seq2func.variants.effects` - logFC, JSD, AAQ, IES, IPS from both alleles' predictions;
* :mod:`~seq2func.variants.null` - the null (shuffled contexts), p-values and q-values;
* :mod:`~seq2func.variants.truth` - demo truth: how well scores separate true effects;
* :mod:`~seq2func.variants.run` - the stage's entry points (one per subcommand).
"""

from seq2func.variants.null import bh_qvalues, dinucleotide_shuffle, empirical_pvalues
from seq2func.variants.score import (
    add_pvalues,
    score_accessibility,
    score_expression,
    score_null,
    score_vcf,
)
from seq2func.variants.settings import NullSettings, VariantSettings
from seq2func.variants.vcf import STATUSES, check_alleles, info_key, read_vcf, write_vcf
from seq2func.variants.windows import (
    allele_windows,
    gene_allele_windows,
    promoter_allele_windows,
    promoter_hits,
    splice,
)

__all__ = ["STATUSES", "NullSettings", "VariantSettings", "add_pvalues", "allele_windows",
           "bh_qvalues", "check_alleles", "dinucleotide_shuffle", "empirical_pvalues",
           "gene_allele_windows",
           "info_key", "promoter_allele_windows", "promoter_hits", "read_vcf",
           "score_accessibility", "score_expression", "score_null", "score_vcf", "splice",
           "write_vcf"]
