"""Gene annotation: one transcription start site (TSS) per gene from GTF or GFF3, and promoter
windows around it.

TSS choice (gene level, documented because published numbers depend on it):

1. if the annotation tags a transcript of the gene as canonical (GENCODE/Ensembl
   ``tag "Ensembl_canonical"``, GFF3 ``tag=Ensembl_canonical``, or ``MANE_Select``), the 5' end
   of that transcript;
2. otherwise the 5' end of the ``gene`` record (its start on ``+``, its end on ``-``), i.e. the
   most upstream TSS of all its transcripts.

Coordinates are 0-based: the TSS is the first transcribed base. Files are streamed line by line
(GENCODE's ~1.5 GB GTF never has to fit in a data frame); only gene and transcript records are
kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.io import open_text

GENE_FEATURES = {"gene", "ncRNA_gene", "pseudogene", "transposable_element_gene"}
TRANSCRIPT_FEATURES = {"transcript", "mRNA", "ncRNA", "lnc_RNA", "snRNA", "snoRNA", "tRNA",
                       "rRNA", "pseudogenic_transcript", "miRNA"}
CANONICAL_TAGS = ("Ensembl_canonical", "MANE_Select")
_GTF_ATTR = re.compile(r'(\S+)\s+"([^"]*)"')
_VERSION = re.compile(r"\.\d+(_PAR_Y)?$")


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
    return value.split(":", 1)[1] if value.startswith(("gene:", "transcript:")) else value


def read_gene_tss(path: str | Path, chromosomes: Iterable[str] | None = None,
                  biotypes: Iterable[str] | None = None) -> pd.DataFrame:
    """One TSS per gene from a GTF or GFF3 file (plain or gzipped).

    Parameters
    ----------
    path
        Annotation file; GFF3 is recognised by its ``##gff-version 3`` header or ``.gff3`` name.
    chromosomes
        Keep only genes on these chromosomes.
    biotypes
        Keep only these gene biotypes (``gene_type``/``gene_biotype``/``biotype``).

    Returns
    -------
    pandas.DataFrame
        Columns ``gene_id`` (as in the file, versions kept), ``gene_id_base`` (no version),
        ``gene_name``, ``chrom``, ``tss`` (0-based), ``strand``, ``biotype``, ``tss_source``
        (``canonical_transcript`` or ``gene_5prime_end``), sorted by chrom order and TSS.
    """
    p = Path(path)
    keep_chroms = set(chromosomes) if chromosomes is not None else None
    genes: dict[str, dict[str, object]] = {}
    canonical: dict[str, tuple[int, int]] = {}
    gff3 = p.name.endswith((".gff3", ".gff3.gz", ".gff", ".gff.gz"))
    chrom_order: dict[str, int] = {}
    with open_text(p) as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("#"):
                if line.startswith("##gff-version 3"):
                    gff3 = True
                continue
            if not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            if len(f) != 9:
                raise InputError(p, f"expected 9 tab-separated columns, found {len(f)}", lineno,
                                 "give a GTF or GFF3 annotation")
            chrom, feature, start, end, strand, attr_text = f[0], f[2], f[3], f[4], f[6], f[8]
            if feature not in GENE_FEATURES and feature not in TRANSCRIPT_FEATURES:
                continue
            if keep_chroms is not None and chrom not in keep_chroms:
                continue
            try:
                s, e = int(start) - 1, int(end)
            except ValueError as exc:
                raise InputError(p, f"start/end {start!r}/{end!r} are not integers",
                                 lineno) from exc
            if strand not in ("+", "-"):
                continue  # unstranded records have no TSS
            attrs = _attributes(attr_text, gff3)
            chrom_order.setdefault(chrom, len(chrom_order))
            if feature in GENE_FEATURES and (gff3 or feature == "gene"):
                gid = (attrs.get("gene_id") or [_strip_prefix(attrs.get("ID", [""])[0])])[0]
                if not gid:
                    raise InputError(p, "gene record without gene_id/ID", lineno)
                name = (attrs.get("gene_name") or attrs.get("Name") or [gid])[0]
                biotype = (attrs.get("gene_type") or attrs.get("gene_biotype")
                           or attrs.get("biotype") or [""])[0]
                genes[gid] = {"gene_id": gid, "gene_name": name, "chrom": chrom, "start": s,
                              "end": e, "strand": strand, "biotype": biotype}
            elif feature in TRANSCRIPT_FEATURES:
                tags = set(attrs.get("tag", [])) | set(",".join(attrs.get("tag", [])).split(","))
                if not tags.intersection(CANONICAL_TAGS):
                    continue
                gid = (attrs.get("gene_id") or [_strip_prefix(attrs.get("Parent", [""])[0])])[0]
                if gid and gid not in canonical:
                    canonical[gid] = (s, e)
    if not genes:
        raise InputError(p, "no gene records found", fix="give a GTF/GFF3 with 'gene' features"
                         " on the configured chromosomes")
    df = pd.DataFrame(list(genes.values()))
    if biotypes is not None:
        df = df[df["biotype"].isin(set(biotypes))]
    tss = np.where(df["strand"] == "+", df["start"], df["end"] - 1)
    src = np.full(len(df), "gene_5prime_end", dtype=object)
    for i, (gid, strand) in enumerate(zip(df["gene_id"], df["strand"], strict=True)):
        if gid in canonical:
            s, e = canonical[gid]
            tss[i] = s if strand == "+" else e - 1
            src[i] = "canonical_transcript"
    df = df.assign(tss=tss.astype(np.int64), tss_source=src,
                   gene_id_base=[strip_version(g) for g in df["gene_id"]])
    df["_o"] = df["chrom"].map(chrom_order)
    df = df.sort_values(["_o", "tss", "gene_id"], kind="stable").drop(columns=["_o", "start",
                                                                                "end"])
    return df[["gene_id", "gene_id_base", "gene_name", "chrom", "tss", "strand", "biotype",
               "tss_source"]].reset_index(drop=True)


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
