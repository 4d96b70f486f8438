"""Gene annotation: one transcription start site (TSS) per gene from GTF or GFF3, and promoter
windows around it.

TSS choice (gene level, documented because published numbers depend on it):

1. if the annotation tags a transcript of the gene as canonical (GENCODE/Ensembl
   ``tag "Ensembl_canonical"``, GFF3 ``tag=Ensembl_canonical``, or ``MANE_Select``), the 5' end
   of that transcript;
2. otherwise the 5' end of the ``gene`` record (its start on ``+``, its end on ``-``), i.e. the
   most upstream TSS of all its transcripts.

Coordinates are 0-based: the TSS is the first transcribed base. Files are streamed line by line
(GENCODE's ~1.5 GB GTF never has to fit in a data frame) by :func:`annotation_features`, the one
GTF/GFF3 reader (GENCODE, Ensembl, RefSeq and SGD-style GFF3), which checks every line; only
gene and transcript records are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.io import open_text

#: gene records: GTF ``gene``; in GFF3 also Ensembl's and SGD's typed genes (``ncRNA_gene``,
#: ``tRNA_gene``, ...: any ``*_gene``), pseudogenes and SGD's blocked reading frames
GFF3_GENE_FEATURES = {"gene", "pseudogene", "blocked_reading_frame"}
GENE_FEATURES = {"gene", "ncRNA_gene", "pseudogene", "transposable_element_gene"}
TRANSCRIPT_FEATURES = {"transcript", "mRNA", "ncRNA", "lnc_RNA", "snRNA", "snoRNA", "tRNA",
                       "rRNA", "pseudogenic_transcript", "miRNA", "primary_transcript",
                       "antisense_RNA"}
CANONICAL_TAGS = ("Ensembl_canonical", "MANE_Select")
_GTF_ATTR = re.compile(r'(\S+)\s+"([^"]*)"')
_VERSION = re.compile(r"\.\d+(_PAR_Y)?$")
#: ID prefixes of Ensembl (``gene:``, ``transcript:``) and RefSeq (``gene-``, ``rna-``) GFF3
_ID_PREFIXES = ("gene:", "transcript:", "gene-", "rna-")


def strip_version(gene_id: str) -> str:
    """``ENSG00000141510.17`` -> ``ENSG00000141510`` (also drops GENCODE's ``_PAR_Y``)."""
    return _VERSION.sub("", gene_id)


def _attributes(text: str, gff3: bool) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if gff3:
        for part in text.strip().strip(";").split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                out.setdefault(k.strip(), []).extend(unquote(x) for x in v.split(","))
    else:
        for k, v in _GTF_ATTR.findall(text):
            out.setdefault(k, []).append(v)
    return out


def _strip_prefix(value: str) -> str:
    for prefix in _ID_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


def is_gff3(path: str | Path) -> bool:
    """Whether an annotation is GFF3: a ``##gff-version 3`` header, a ``.gff``/``.gff3`` name,
    or a first feature whose attributes are ``key=value`` pairs (GTF writes ``key "value"``)."""
    p = Path(path)
    if p.name.endswith((".gff3", ".gff3.gz", ".gff", ".gff.gz")):
        return True
    with open_text(p) as fh:
        for line in fh:
            if line.startswith("##gff-version 3"):
                return True
            if line.startswith("#") or not line.strip():
                continue
            attrs = line.rstrip("\n").split("\t")[-1]
            return "=" in attrs and '"' not in attrs
    return False


@dataclass(frozen=True)
class Feature:
    """One line of a GTF/GFF3 annotation: 0-based half-open coordinates, parsed attributes and
    the gene it belongs to (``gene_id``: its own ID for a gene record)."""

    line: int
    chrom: str
    kind: str
    start: int
    end: int
    strand: str
    attrs: dict[str, list[str]]
    gene_id: str
    is_gene: bool

    def first(self, *keys: str, default: str = "") -> str:
        """The first value of the first of ``keys`` the record has."""
        for k in keys:
            if self.attrs.get(k):
                return self.attrs[k][0]
        return default


def _is_gene_kind(kind: str, gff3: bool) -> bool:
    return kind == "gene" or (gff3 and (kind in GFF3_GENE_FEATURES or kind.endswith("_gene")))


def record_coordinates(f: list[str], path: str | Path, lineno: int) -> tuple[int, int]:
    """0-based start, end of a 9-column record (1-based inclusive in the file), checked."""
    try:
        start, end = int(f[3]), int(f[4])
    except ValueError as exc:
        raise InputError(path, f"start/end {f[3]!r}/{f[4]!r} are not integers", lineno,
                         "columns 4 and 5 of a GTF/GFF3 record are 1-based positions"
                         ) from exc
    if start < 1 or end < start:
        raise InputError(path, f"{f[2]} at {f[0]}:{start}-{end}: start must be >= 1 and <= end",
                         lineno, "columns 4 and 5 are 1-based, inclusive: 1 <= start <= end")
    return start - 1, end


def annotation_features(path: str | Path, kinds: Iterable[str] | None = None
                        ) -> Iterator[Feature]:
    """Stream the records of a GTF or GFF3 annotation (plain or gzip), checked line by line.

    Every record must have 9 tab-separated columns and integer positions with
    ``1 <= start <= end``; a GFF3 ``##FASTA`` section ends the records. Each record is
    attributed to its gene: GTF by ``gene_id``; GFF3 by the gene's ``gene_id`` attribute
    (Ensembl, GENCODE) or ``ID`` without ``gene:``/``gene-`` (RefSeq, SGD), following ``Parent``
    links from exons to transcripts to genes.

    Parameters
    ----------
    kinds
        Only yield records of these feature types (``gene``: every gene record, e.g. GFF3
        ``ncRNA_gene``); all lines are still checked.

    Raises
    ------
    InputError
        Naming the line of a malformed record.
    """
    p = Path(path)
    gff3 = is_gff3(p)
    want = set(kinds) if kinds is not None else None
    owner: dict[str, str] = {}  # GFF3 ID -> gene_id
    with open_text(p) as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("#"):
                if line.startswith("##FASTA"):
                    break
                continue
            if not line.strip():
                continue
            f = line.rstrip("\n\r").split("\t")
            if len(f) != 9:
                raise InputError(p, f"expected 9 tab-separated columns, found {len(f)}", lineno,
                                 "give a GTF or GFF3 annotation")
            start, end = record_coordinates(f, p, lineno)
            is_gene = _is_gene_kind(f[2], gff3)
            if want is not None and f[2] not in want and not (
                    is_gene or (gff3 and f[2] in TRANSCRIPT_FEATURES)):
                continue  # (GFF3 genes and transcripts are parsed for the Parent links)
            attrs = _attributes(f[8], gff3)
            gene = _gene_of(is_gene, attrs, gff3, owner)
            if want is None or f[2] in want or (is_gene and "gene" in want):
                yield Feature(lineno, f[0], f[2], start, end, f[6], attrs, gene, is_gene)


def _gene_of(is_gene: bool, attrs: dict[str, list[str]], gff3: bool,
             owner: dict[str, str]) -> str:
    """The gene of a record; in GFF3, remembers which gene every ``ID`` belongs to."""
    if not gff3:
        return (attrs.get("gene_id") or [""])[0]
    own = (attrs.get("ID") or [""])[0]
    if is_gene:
        gid = (attrs.get("gene_id") or [_strip_prefix(own)])[0]
    else:
        parent = (attrs.get("Parent") or [""])[0]
        gid = owner.get(parent) or (attrs.get("gene_id") or [_strip_prefix(parent)])[0]
    if own:
        owner[own] = gid
    return gid


def gene_name(feature: Feature) -> str:
    """A gene record's name (``gene_name``, GFF3 ``Name`` or RefSeq ``gene``; else its ID)."""
    return feature.first("gene_name", "Name", "gene", default=feature.gene_id)


def gene_biotype(feature: Feature) -> str:
    return feature.first("gene_type", "gene_biotype", "biotype")


def transcript_genes(path: str | Path) -> dict[str, str]:
    """Transcript ID -> gene ID of an annotation (``transcript_id``; GFF3 ``ID`` without
    ``transcript:``/``rna-``), to sum transcript-level quantifications per gene."""
    out: dict[str, str] = {}
    for f in annotation_features(path, TRANSCRIPT_FEATURES):
        if f.is_gene or not f.gene_id:
            continue
        for tid in {f.first("transcript_id"), _strip_prefix(f.first("ID"))} - {""}:
            out.setdefault(tid, f.gene_id)
    return out


def read_gene_tss(path: str | Path, chromosomes: Iterable[str] | None = None,
                  biotypes: Iterable[str] | None = None) -> pd.DataFrame:
    """One TSS per gene from a GTF or GFF3 file (plain or gzipped).

    Parameters
    ----------
    path
        Annotation file (GFF3 is recognised by :func:`is_gff3`).
    chromosomes
        Keep only genes on these chromosomes.
    biotypes
        Keep only these gene biotypes (``gene_type``/``gene_biotype``/``biotype``).

    Returns
    -------
    pandas.DataFrame
        Columns ``gene_id`` (as in the file, versions kept), ``gene_id_base`` (no version),
        ``gene_name``, ``chrom``, ``tss`` (0-based), ``tes`` (the first base past the 3' end
        in transcription direction: the 0-based exclusive end on ``+``, the base before the
        start on ``-``), ``strand``, ``biotype``, ``tss_source`` (``canonical_transcript``,
        whose ends give both, or ``gene_5prime_end``: the gene's ends), sorted by chrom order
        and TSS.
    """
    p = Path(path)
    keep_chroms = set(chromosomes) if chromosomes is not None else None
    genes: dict[str, dict[str, object]] = {}
    canonical: dict[str, tuple[int, int]] = {}
    chrom_order: dict[str, int] = {}
    for f in annotation_features(p, {"gene", *TRANSCRIPT_FEATURES}):
        if keep_chroms is not None and f.chrom not in keep_chroms:
            continue
        if f.strand not in ("+", "-"):
            continue  # unstranded records have no TSS
        chrom_order.setdefault(f.chrom, len(chrom_order))
        if f.is_gene:
            if not f.gene_id:
                raise InputError(p, "gene record without gene_id/ID", f.line,
                                 "GTF genes need gene_id \"...\"; GFF3 genes an ID= or gene_id=")
            genes[f.gene_id] = {"gene_id": f.gene_id, "gene_name": gene_name(f),
                                "chrom": f.chrom, "start": f.start, "end": f.end,
                                "strand": f.strand, "biotype": gene_biotype(f)}
        else:
            tags = set(f.attrs.get("tag", [])) | set(",".join(f.attrs.get("tag", [])).split(","))
            if tags.intersection(CANONICAL_TAGS) and f.gene_id and f.gene_id not in canonical:
                canonical[f.gene_id] = (f.start, f.end)
    if not genes:
        raise InputError(p, "no gene records found", fix="give a GTF/GFF3 with 'gene' features"
                         " on the configured chromosomes")
    df = pd.DataFrame(list(genes.values()))
    if biotypes is not None:
        df = df[df["biotype"].isin(set(biotypes))]
    plus = (df["strand"] == "+").to_numpy()
    tss = np.where(plus, df["start"], df["end"] - 1)
    tes = np.where(plus, df["end"], df["start"] - 1)
    src = np.full(len(df), "gene_5prime_end", dtype=object)
    for i, gid in enumerate(df["gene_id"]):
        if gid in canonical:
            s, e = canonical[gid]
            tss[i], tes[i] = (s, e) if plus[i] else (e - 1, s - 1)
            src[i] = "canonical_transcript"
    df = df.assign(tss=tss.astype(np.int64), tes=tes.astype(np.int64), tss_source=src,
                   gene_id_base=[strip_version(g) for g in df["gene_id"]])
    df["_o"] = df["chrom"].map(chrom_order)
    df = df.sort_values(["_o", "tss", "gene_id"], kind="stable").drop(columns=["_o", "start",
                                                                                "end"])
    return df[["gene_id", "gene_id_base", "gene_name", "chrom", "tss", "tes", "strand",
               "biotype", "tss_source"]].reset_index(drop=True)


def promoter_windows(tss: pd.DataFrame, upstream: int, downstream: int) -> pd.DataFrame:
    """Strand-aware windows ``[TSS - upstream, TSS + downstream)`` in transcription direction.

    Returns ``chrom, start, end, strand`` (genomic, 0-based half-open); the sequence of a
    minus-strand window must be reverse-complemented so that every window reads 5'->3' with the
    TSS at offset ``upstream``.
    """
    plus = tss["strand"].to_numpy() == "+"
    t = tss["tss"].to_numpy()
    start = np.where(plus, t - upstream, t - downstream + 1)
    end = np.where(plus, t + downstream, t + upstream + 1)
    return pd.DataFrame({"chrom": tss["chrom"].to_numpy(), "start": start, "end": end,
                         "strand": tss["strand"].to_numpy()}, index=tss.index)
