"""Turn downloaded public files into the workflow's canonical inputs: :func:`ingest`.

Every ingester reads one downloaded file (plain or gzip/bgzip), renames its chromosomes to the
configured names (:mod:`seq2func.core.naming`), drops the chromosomes that are not configured,
checks coordinates against the genome (a chromosome of another length means another assembly),
and writes the canonical file atomically:

==========  ================  ===============================  ====================================
kind        function          input                            canonical output
==========  ================  ===============================  ====================================
fasta       ingest_fasta      FASTA(.gz)                       genome.fa + .fai, chrom.sizes
bigwig      ingest_bigwig     bigWig                           signal/<sample>.bw
peaks       ingest_peaks      narrowPeak/BED(.gz)              peaks/<sample>.narrowPeak
bed         ingest_bed        BED(.gz) (blacklist)             genome/blacklist.bed (BED4)
gtf         ingest_gtf        GTF/GFF3(.gz)                    genome/genes.gtf (GTF or GFF3)
vcf         ingest_vcf        VCF(.gz)                         variants/variants.vcf
expression  build_expression  RSEM, Salmon, kallisto, ... TSV  expression/expression.tsv (TPM)
==========  ================  ===============================  ====================================

The ingesters live in one module per input kind: :mod:`~seq2func.download.fasta`,
:mod:`~seq2func.download.signal`, :mod:`~seq2func.download.tables` (BED-like, GTF, VCF) and
:mod:`~seq2func.download.expression`. Memory stays bounded: the FASTA is streamed in blocks and
holds one chromosome at a time; the bigWig is rewritten one chromosome at a time in fixed-size
chunks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from seq2func.core.errors import Seq2FuncError
from seq2func.core.provenance import write_provenance
from seq2func.download.expression import build_expression, read_gtf_genes, read_quantification
from seq2func.download.fasta import ingest_fasta
from seq2func.download.fetch import source_records
from seq2func.download.formats import PathLike
from seq2func.download.signal import ingest_bigwig
from seq2func.download.tables import (
    ingest_bed,
    ingest_gtf,
    ingest_peaks,
    ingest_vcf,
    read_bed_like,
)

__all__ = ["INGEST_KINDS", "build_expression", "ingest", "ingest_bed", "ingest_bigwig",
           "ingest_fasta", "ingest_gtf", "ingest_peaks", "ingest_vcf", "read_bed_like",
           "read_gtf_genes", "read_quantification"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: the kinds whose single input is checked against the canonical chrom.sizes, and their
#: ingester (the number of records written; per chromosome for bigWigs)
SIZED_KINDS: dict[str, Callable[[PathLike, PathLike, PathLike | Mapping[str, int]],
                                int | dict[str, int]]] = {
    "bigwig": ingest_bigwig,
    "peaks": ingest_peaks,
    "bed": ingest_bed,
    "gtf": ingest_gtf,
    "vcf": ingest_vcf,
}
#: every kind :func:`ingest` takes (``seq2func ingest KIND``)
INGEST_KINDS = ("fasta", *SIZED_KINDS, "expression")


def ingest(kind: str, inputs: Sequence[PathLike] | Mapping[str, PathLike], output: PathLike,
           *, chrom_sizes: PathLike | Mapping[str, int] | None = None,
           chromosomes: Sequence[str] | None = None, sizes_out: PathLike | None = None,
           gtf: PathLike | None = None, columns: Mapping[str, str] | None = None,
           provenance: Sequence[PathLike] = ()) -> dict[str, Any]:
    """Ingest downloaded file(s) of one kind into a canonical input, with its provenance.

    Parameters
    ----------
    kind
        One of :data:`INGEST_KINDS`.
    inputs
        The downloaded file (a one-element sequence); for ``expression``, sample ->
        quantification file (empty: an empty table).
    output
        The canonical file; its provenance is written to ``output + ".provenance.json"``.
    chrom_sizes
        The canonical genome (all kinds but ``fasta`` and ``expression``).
    chromosomes
        ``fasta``: the chromosomes to keep, spelled as the outputs will spell them.
    sizes_out
        ``fasta``: the ``chrom.sizes`` to write.
    gtf
        ``expression``: the canonical annotation.
    columns
        ``expression``: sample -> the column of its TPM in its file (others: the TPM column).
    provenance
        Provenance sidecars of the inputs; their download records are copied into the
        output's provenance as ``sources``.

    Returns
    -------
    dict
        What the output's provenance records besides the standard fields: ``chromosomes``
        (fasta: name -> length), ``records`` (what was written: peaks, intervals, lines or
        variants; intervals per chromosome for bigwig) or ``genes`` and ``samples``
        (expression); and ``sources``.

    Raises
    ------
    Seq2FuncError
        For an unknown kind, a missing argument of the kind, or not exactly one input.
    InputError
        When an input is not of its format or does not fit the genome.
    """
    if kind not in INGEST_KINDS:
        raise Seq2FuncError(f"unknown ingest kind {kind!r}; use one of "
                            f"{', '.join(INGEST_KINDS)}")
    if kind == "expression":
        if not isinstance(inputs, Mapping):
            raise Seq2FuncError("ingest expression takes sample -> path pairs "
                                "(--input SAMPLE=PATH)")
        table = build_expression(inputs, _need(kind, gtf, "--gtf"), output, columns)
        extra: dict[str, Any] = {"genes": len(table), "samples": list(inputs),
                                 "columns": dict(columns or {})}
        names = [f"{sample}={path}" for sample, path in inputs.items()]
    else:
        src = _single_input(kind, inputs)
        names = [str(src)]
        if kind == "fasta":
            chroms = _need(kind, chromosomes, "--chromosomes")
            seen: list[str] = []
            extra = {"chromosomes": ingest_fasta(src, output, chroms, sizes_out, seen),
                     "source_sequences": seen}
        else:
            sizes = _need(kind, chrom_sizes, "--chrom-sizes")
            extra = {"records": SIZED_KINDS[kind](src, output, sizes)}
    extra["sources"] = source_records(provenance)
    write_provenance(output, step=f"ingest-{kind}", extra=extra)
    log.info("ingested %s -> %s", ", ".join(names), output)
    return extra


def _need(kind: str, value: T | None, flag: str) -> T:
    """``value``, which ``kind`` needs (an error naming the command-line flag when empty)."""
    if not value:
        raise Seq2FuncError(f"ingest {kind} needs {flag}")
    return value


def _single_input(kind: str, inputs: Sequence[PathLike] | Mapping[str, PathLike]) -> PathLike:
    """The one input of a kind other than ``expression`` (a path, or a one-path sequence)."""
    if isinstance(inputs, str | os.PathLike):
        return inputs
    if isinstance(inputs, Mapping) or len(inputs) != 1:
        raise Seq2FuncError(f"ingest {kind} takes exactly one --input")
    return inputs[0]
