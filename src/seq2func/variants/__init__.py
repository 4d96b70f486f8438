"""Variant effects: VCF in, strand-averaged model scores out (annotated VCF + TSV).

* :mod:`~seq2func.variants.vcf` - reading, REF checks, writing with declared INFO fields;
* :mod:`~seq2func.variants.windows` - both alleles' model inputs, vectorised;
* :mod:`~seq2func.variants.score` - accessibility and expression scores;
* :mod:`~seq2func.variants.truth` - demo truth: how well scores separate true effects;
* :mod:`~seq2func.variants.run` - the stage's entry points (one per subcommand).
"""

from seq2func.variants.score import score_accessibility, score_expression, score_vcf
from seq2func.variants.settings import VariantSettings
from seq2func.variants.vcf import STATUSES, check_alleles, info_key, read_vcf, write_vcf
from seq2func.variants.windows import (
    allele_windows,
    promoter_allele_windows,
    promoter_hits,
    splice,
)

__all__ = ["STATUSES", "VariantSettings", "allele_windows", "check_alleles", "info_key",
           "promoter_allele_windows", "promoter_hits", "read_vcf", "score_accessibility",
           "score_expression", "score_vcf", "splice", "write_vcf"]
