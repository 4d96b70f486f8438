"""Annotation of discovered patterns with the most similar motif of a database (JASPAR).

:func:`similarity` compares two position probability matrices: the best Pearson correlation of
their base-centred matrices (``ppm - 0.25``, flattened over the overlapping columns) over all
offsets with an overlap of at least ``min_overlap`` of the shorter motif and both orientations.
1 = identical shape; unrelated motifs score near 0. :func:`annotate` gives each pattern its most
similar motif of a database (a pyjaspar release, or a JASPAR-format file).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from seq2func.core.motifs import Motif
from seq2func.interpret.modisco import Pattern


def similarity(a: np.ndarray, b: np.ndarray, min_overlap: float = 0.75,
               of: str = "shorter") -> float:
    """Best Pearson correlation of base-centred PPMs over offsets and both orientations.

    Parameters
    ----------
    a, b
        ``(la, 4)`` and ``(lb, 4)`` position probability matrices (rows sum to 1).
    min_overlap
        Offsets must overlap at least this fraction of one motif (and >= 4 columns).
    of
        Which motif ``min_overlap`` is a fraction of: ``"shorter"`` (the shorter may lie
        anywhere inside the longer: a motif inside a composite matches it) or ``"a"`` (the
        overlap must cover most of ``a``: ``a`` is explained by ``b``, not merely contains it;
        -1 when ``b`` is too short for that).
    """
    if of not in ("shorter", "a"):
        raise ValueError(f"of must be 'shorter' or 'a', not {of!r}")
    a = np.asarray(a, dtype=np.float64) - 0.25
    b = np.asarray(b, dtype=np.float64) - 0.25
    short = min(len(a), len(b)) if of == "shorter" else len(a)
    need = max(min(4, short), int(np.ceil(min_overlap * short)))
    if need > min(len(a), len(b)):
        return -1.0
    return max(_best_correlation(a, b, need), _best_correlation(a, b[::-1, ::-1], need))


def _window_sums(rows: np.ndarray, starts: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Sums of ``rows[s : s + n]`` for each start ``s`` and length ``n`` (prefix sums)."""
    prefix = np.concatenate([[0.0], np.cumsum(rows)])
    return prefix[starts + n] - prefix[starts]


def _best_correlation(a: np.ndarray, b: np.ndarray, need: int) -> float:
    """Best Pearson correlation of ``a`` and ``b`` (centred PPMs) over every offset of ``b``
    against ``a`` whose overlap has at least ``need`` columns; -1 if none has variance.

    All offsets at once: the cross products of the overlaps are the column-summed full
    cross-correlation of the two matrices, their sums and sums of squares come from prefix
    sums of row totals (population moments, as ``numpy.std``).
    """
    la, lb = len(a), len(b)
    offsets = np.arange(-(lb - need), la - need + 1)  # a[a0 + i] is aligned with b[b0 + i]
    a0, b0 = np.maximum(offsets, 0), np.maximum(-offsets, 0)
    n = np.minimum(la - a0, lb - b0)
    # sum_i a[a0 + i] . b[b0 + i]: np.correlate(x, y, "full")[k] pairs x[k - (len(y) - 1) + i]
    # with y[i], i.e. the offset k - (lb - 1)
    full = sum(np.correlate(a[:, c], b[:, c], "full") for c in range(4))
    sxy = full[offsets + lb - 1]
    sx, sy = _window_sums(a.sum(1), a0, n), _window_sums(b.sum(1), b0, n)
    sxx, syy = _window_sums((a * a).sum(1), a0, n), _window_sums((b * b).sum(1), b0, n)
    size = 4.0 * n
    vx, vy = sxx / size - (sx / size) ** 2, syy / size - (sy / size) ** 2
    ok = (vx > _NO_VARIANCE) & (vy > _NO_VARIANCE)
    if not ok.any():
        return -1.0
    r = (sxy[ok] / size[ok] - sx[ok] * sy[ok] / size[ok] ** 2) / np.sqrt(vx[ok] * vy[ok])
    return float(r.max())


#: variance below which an overlap is flat (a PPM of 0.25 everywhere): no correlation
_NO_VARIANCE = 1e-12


#: JASPAR's taxonomic groups (CORE collection) a motif database may name
JASPAR_TAXA = ("vertebrates", "plants", "insects", "nematodes", "fungi", "urochordates",
               "diatoms", "trematodes", "cnidaria", "oomycota")
DEFAULT_RELEASE = "JASPAR2024"
_DATABASE_FIX = ("give a pyjaspar release (e.g. JASPAR2024: CORE vertebrates), a release and "
                 "JASPAR taxa (JASPAR2024:fungi, JASPAR2024:plants+insects), a taxon alone "
                 f"(fungi: {DEFAULT_RELEASE}), or the path of a JASPAR-format file")


def parse_database(source: str, key: str = "interpret.motif_database"
                   ) -> tuple[str, tuple[str, ...]] | None:
    """The pyjaspar release and taxa a database name means; None for a file.

    ``JASPAR2024`` is CORE vertebrates; ``JASPAR2024:fungi`` (or ``fungi``, the default
    release) a taxon; ``JASPAR2024:plants+insects`` several.

    Raises
    ------
    ConfigError
        Naming ``key``, the releases or taxa available and the closest one.
    """
    import difflib

    from pyjaspar import jaspardb

    from seq2func.core.errors import ConfigError

    if Path(source).is_file():
        return None
    release, _, taxa_text = source.partition(":")
    if not taxa_text and release.lower() in JASPAR_TAXA:
        release, taxa_text = DEFAULT_RELEASE, release
    releases = list(jaspardb().get_releases())
    if release not in releases:
        close = difflib.get_close_matches(release, releases + list(JASPAR_TAXA), n=1)
        raise ConfigError("config", key, f"{source!r} is neither a file nor a JASPAR release "
                          "or taxon", (f"did you mean {close[0]!r}? " if close else "")
                          + f"releases: {', '.join(releases)}; " + _DATABASE_FIX)
    taxa = tuple(t.strip().lower() for t in taxa_text.split("+")) if taxa_text else (
        "vertebrates",)
    for taxon in taxa:
        if taxon not in JASPAR_TAXA:
            close = difflib.get_close_matches(taxon, JASPAR_TAXA, n=1)
            raise ConfigError("config", key, f"{taxon!r} is not a JASPAR taxon"
                              + (f" (did you mean {close[0]!r}?)" if close else ""),
                              f"taxa: {', '.join(JASPAR_TAXA)}")
    return release, taxa


def check_database(source: str, key: str = "interpret.motif_database") -> None:
    """Check that ``source`` is a file or names a release (and taxa) of pyjaspar's database.

    Raises
    ------
    ConfigError
        As :func:`parse_database`.
    """
    parse_database(source, key)


def load_database(source: str, key: str = "interpret.motif_database") -> list[Motif]:
    """Motifs to annotate against: a JASPAR-format file, or pyjaspar's bundled database.

    A release name (e.g. ``JASPAR2024``) loads the latest version of every CORE vertebrate
    matrix from the SQLite database that ships with pyjaspar (no network); with taxa
    (``JASPAR2024:fungi``, or ``fungi``) those taxonomic groups instead.

    Raises
    ------
    ConfigError
        For a source that is neither (:func:`parse_database`), or taxa with no matrix in that
        release.
    """
    from seq2func.core.errors import ConfigError
    from seq2func.core.motifs import read_jaspar

    parsed = parse_database(source, key)
    if parsed is None:
        return read_jaspar(source)
    release, taxa = parsed
    import warnings

    from pyjaspar import jaspardb

    db = jaspardb(release=release)
    with warnings.catch_warnings():  # pyjaspar warns, and we refuse, when nothing matches
        warnings.simplefilter("ignore")
        found = db.fetch_motifs(collection="CORE", tax_group=list(taxa), all_versions=False)
    if not found:
        raise ConfigError("config", key, f"{release} has no CORE matrix of {'+'.join(taxa)}",
                          "name another taxon or release: " + _DATABASE_FIX)
    out = []
    for m in found:
        counts = np.array([[m.counts[base][i] for base in "ACGT"] for i in range(m.length)])
        out.append(Motif(m.matrix_id, m.name, counts))
    return out


def ppm_of(motif: Motif) -> np.ndarray:
    """Position probability matrix ``(width, 4)`` of a motif (its counts, row-normalised)."""
    c = np.asarray(motif.counts, dtype=np.float64)
    return c / np.maximum(c.sum(axis=1, keepdims=True), 1e-12)


def annotate(patterns: Sequence[Pattern], database: Sequence[Motif]) -> pd.DataFrame:
    """Motif table: one row per pattern with its best database match.

    Columns: ``pattern, task, n_seqlets, length, consensus, best_id, best_name, similarity``,
    plus ``second_id``, ``second_name``, ``second_similarity``.
    """
    rows = []
    ppms = [(ppm_of(m), m) for m in database]
    for p in patterns:
        scored = sorted(((similarity(p.ppm, q), m) for q, m in ppms),
                        key=lambda t: (-t[0], t[1].motif_id))
        first = scored[0] if scored else (np.nan, Motif("", "", np.zeros((0, 4))))
        second = scored[1] if len(scored) > 1 else (np.nan, Motif("", "", np.zeros((0, 4))))
        rows.append({"pattern": p.name, "task": p.task, "n_seqlets": p.n_seqlets,
                     "length": len(p.ppm), "consensus": p.consensus,
                     "best_id": first[1].motif_id, "best_name": first[1].name,
                     "similarity": round(float(first[0]), 4),
                     "second_id": second[1].motif_id, "second_name": second[1].name,
                     "second_similarity": round(float(second[0]), 4)})
    cols = ["pattern", "task", "n_seqlets", "length", "consensus", "best_id", "best_name",
            "similarity", "second_id", "second_name", "second_similarity"]
    return pd.DataFrame(rows, columns=cols)
