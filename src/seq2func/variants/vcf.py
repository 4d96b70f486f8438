"""VCF in and out: variants read one row per alternate allele, checked against the genome,
written back with the scores as declared INFO fields.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import InputError
from seq2func.core.sequence import ASCII_TO_CODE, N_CODE, Genome
from seq2func.core.vcf import DNA, IUPAC, check_record

log = logging.getLogger(__name__)

VCF_COLUMNS = ("chrom", "pos", "id", "ref", "alt", "qual", "filter", "info")
#: statuses of :func:`check_alleles`; only ``ok`` is scored. ``ambiguous``: an allele with IUPAC
#: ambiguity letters such as ``N`` (:func:`seq2func.core.vcf.is_ambiguous`)
STATUSES = ("ok", "ref_mismatch", "unknown_chrom", "symbolic", "too_long", "outside_chrom",
            "ambiguous")


def _open_vcf(path: Path):  # type: ignore[no-untyped-def]
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":  # gzip or bgzip (a series of gzip members): gzip reads both
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_vcf(path: str | Path) -> tuple[list[str], pd.DataFrame]:
    """Read a VCF (plain or gzip/bgzip-compressed).

    Returns
    -------
    header
        The ``##`` meta lines (without newlines).
    variants
        One row per alternate allele: ``record`` (0-based record number), ``line`` (1-based line
        in the file), ``chrom, pos`` (1-based), ``id, ref, alt, qual, filter, info``;
        ``variant_id`` is the ID or, if ``.``, ``chrom:pos:ref:alt``.

    Raises
    ------
    InputError
        Missing file, no ``#CHROM`` header, or a record that is not VCF
        (:func:`seq2func.core.vcf.check_record`: columns, POS, REF, ALT, QUAL; the line is
        named).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "VCF not found", fix="check the path (config variants.vcf)")
    header: list[str] = []
    rows: list[tuple[Any, ...]] = []
    seen_chrom_line = False
    n_records = 0
    try:
        with _open_vcf(p) as fh:
            for lineno, line in enumerate(fh, start=1):
                line = line.rstrip("\n\r")
                if not line:
                    continue
                if line.startswith("##"):
                    header.append(line)
                    continue
                if line.startswith("#"):
                    seen_chrom_line = True
                    continue
                if not seen_chrom_line:
                    raise InputError(p, "record before the #CHROM header line", lineno,
                                     "a VCF needs a '#CHROM POS ID REF ALT QUAL FILTER INFO' "
                                     "line before its records")
                f = line.split("\t")
                pos = check_record(f, p, lineno)
                n_records += 1
                for alt in f[4].split(","):
                    rows.append((n_records - 1, lineno, f[0], pos, f[2], f[3].upper(), alt.upper()
                                 if IUPAC.match(alt) else alt, f[5], f[6], f[7]))
    except (UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(p, f"cannot read the VCF ({exc})",
                         fix="give a plain-text VCF or one compressed with gzip/bgzip") from exc
    if not seen_chrom_line:
        raise InputError(p, "no '#CHROM' header line", fix="is this a VCF file?")
    df = pd.DataFrame(rows, columns=["record", "line", *VCF_COLUMNS])
    vid = df["chrom"] + ":" + df["pos"].astype(str) + ":" + df["ref"] + ":" + df["alt"]
    df["variant_id"] = np.where(df["id"].isin([".", ""]), vid, df["id"])
    multi = df.duplicated("record", keep=False)
    df.loc[multi & ~df["id"].isin([".", ""]), "variant_id"] = (
        df["id"] + ":" + df["alt"])[multi & ~df["id"].isin([".", ""])]
    return header, df


def check_alleles(variants: pd.DataFrame, genome: Genome, max_allele_length: int = 50
                  ) -> pd.DataFrame:
    """Add ``status`` (see :data:`STATUSES`) and ``genome_chrom`` (the genome's name).

    The REF of ``ok`` variants equals the genome (case-insensitive) at ``pos``. Each chromosome
    is read once. Alleles with ambiguity letters (``N``, IUPAC codes) are ``ambiguous`` and
    not scored; their number is logged.
    """
    df = variants.copy()
    status = np.full(len(df), "ok", dtype=object)
    gchrom = np.full(len(df), "", dtype=object)
    is_seq = df["ref"].str.match(IUPAC) & df["alt"].str.match(IUPAC)
    status[~is_seq.to_numpy()] = "symbolic"
    ambiguous = is_seq.to_numpy() & ~(df["ref"].str.match(DNA) & df["alt"].str.match(DNA)
                                      ).to_numpy()
    status[ambiguous] = "ambiguous"
    if ambiguous.any():
        first = df.iloc[int(np.flatnonzero(ambiguous)[0])]
        log.warning("%d variant allele(s) with ambiguity letters (e.g. line %d: REF %s, ALT %s) "
                    "are reported as 'ambiguous' and not scored", int(ambiguous.sum()),
                    int(first["line"]), first["ref"], first["alt"])
    too_long = (df["ref"].str.len() > max_allele_length) | (df["alt"].str.len()
                                                             > max_allele_length)
    status[(status == "ok") & too_long.to_numpy()] = "too_long"
    for chrom in dict.fromkeys(df["chrom"]):
        rows = np.flatnonzero((df["chrom"] == chrom).to_numpy())
        try:
            name = genome.resolve(chrom)
        except KeyError:
            status[rows] = np.where(status[rows] == "ok", "unknown_chrom", status[rows])
            continue
        gchrom[rows] = name
        rows = rows[status[rows] == "ok"]
        if not rows.size:
            continue
        codes = genome.codes(name)
        p0 = df["pos"].to_numpy()[rows] - 1
        ref = df["ref"].to_numpy()[rows]
        lens = np.array([len(r) for r in ref])
        outside = p0 + lens > codes.size
        status[rows[outside]] = "outside_chrom"
        rows, p0, ref, lens = rows[~outside], p0[~outside], ref[~outside], lens[~outside]
        width = int(lens.max()) if lens.size else 0
        obs = allele_codes(ref, width)
        idx = np.minimum(p0[:, None] + np.arange(width)[None, :], codes.size - 1)
        got = codes[idx]
        mask = np.arange(width)[None, :] < lens[:, None]
        match = np.all((got == obs) | ~mask, axis=1)
        status[rows[~match]] = "ref_mismatch"
    df["status"] = status
    df["genome_chrom"] = gchrom
    return df


def allele_codes(alleles: Sequence[str] | np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` uint8 codes of allele strings (padded with N)."""
    out = np.full((len(alleles), max(width, 1)), N_CODE, dtype=np.uint8)
    if len(alleles):
        joined = np.frombuffer("".join(a.ljust(width, "N") for a in alleles).encode("ascii"),
                               dtype=np.uint8)
        out[:, :width] = ASCII_TO_CODE[joined].reshape(len(alleles), width)
    return out


def info_key(column: str) -> str:
    """INFO key of a score column (``S2F_`` prefix; characters outside the VCF set replaced)."""
    return "S2F_" + re.sub(r"[^0-9A-Za-z_.]", "_", column)


def write_vcf(path: str | Path, header: Sequence[str], table: pd.DataFrame,
              score_columns: Mapping[str, str], source: str,
              string_columns: Mapping[str, str] | None = None) -> None:
    """Write the variants with ``S2F_STATUS`` and the score columns as INFO fields.

    ``score_columns`` maps column -> description; each becomes an ``##INFO`` line
    (``Number=1,Type=Float``; ``.`` when missing); ``string_columns`` likewise as
    ``Type=String``. Split multi-allelic records are written one
    ALT per line. Existing INFO content is kept. Written atomically.
    """
    from seq2func.core.io import write_text_atomic

    lines = [h for h in header if not h.startswith("##fileformat")]
    # (``ambiguous`` is listed only where it occurs: the header of other files is unchanged)
    statuses = [s for s in STATUSES if s != "ambiguous" or (table["status"] == s).any()]
    out = ["##fileformat=VCFv4.2", *lines,
           f"##seq2func={source}",
           '##INFO=<ID=S2F_STATUS,Number=1,Type=String,Description="seq2func allele check: '
           + ", ".join(statuses) + ' (only ok is scored)">']
    for col, desc in score_columns.items():
        out.append(f'##INFO=<ID={info_key(col)},Number=1,Type=Float,Description="{desc}">')
    for col, desc in (string_columns or {}).items():
        out.append(f'##INFO=<ID={info_key(col)},Number=1,Type=String,Description="{desc}">')
    out.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    info = "S2F_STATUS=" + table["status"].astype(str)
    for col in string_columns or {}:
        txt = table[col].astype(object).where(table[col].notna(), "").astype(str)
        txt = txt.str.replace(r"[;=\s,]", "_", regex=True)
        info = info + np.where(txt == "", "", f";{info_key(col)}=" + txt)
    for col in score_columns:
        vals = table[col].to_numpy(dtype=float)
        txt = np.where(np.isfinite(vals), np.char.mod("%.5g", np.nan_to_num(vals)), ".")
        info = info + f";{info_key(col)}=" + txt
    keep = table["info"].astype(str)
    info = np.where(keep.isin([".", ""]), info, keep + ";" + info)
    body = (table["chrom"].astype(str) + "\t" + table["pos"].astype(str) + "\t"
            + table["id"].astype(str) + "\t" + table["ref"] + "\t" + table["alt"] + "\t"
            + table["qual"].astype(str) + "\t" + table["filter"].astype(str) + "\t" + info)
    write_text_atomic(path, "\n".join([*out, *body.tolist()]) + "\n")
