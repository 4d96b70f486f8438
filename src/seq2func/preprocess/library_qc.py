"""Library QC before training: FRiP and TSS enrichment of every sample (ENCODE's standards).

Two signal-to-noise numbers that ENCODE's ATAC-seq and DNase-seq standards ask of a library,
computed from the sample's signal bigWig (cut sites, or coverage), its peaks and the study's
annotation, so that a poor library is flagged (and, with ``evaluate.enforce_gates``, stops the
run) before any model is trained.

FRiP
    Fraction of reads in peaks: the signal summed inside the sample's peaks (merged, so an
    overlap counts once) over the signal summed over the kept chromosomes (the plan's processed
    chromosomes). With a cut-site bigWig this is the fraction of Tn5/DNase I cuts in peaks;
    with coverage it is coverage-weighted. ENCODE's ATAC standard: FRiP > 0.3 ideal, > 0.2
    acceptable. For DNase-seq ENCODE's signal-to-noise measure is the SPOT score (Signal
    Portion Of Tags: the fraction of tags in hotspots, > 0.4), FRiP-like but counted in
    hotspots, which are broader than narrowPeak peaks.

TSS enrichment
    As ENCODE defines it (https://www.encodeproject.org/data-standards/terms/#enrichment) and
    ArchR computes it (``plotTSSEnrichment``: flank 2,000 bp, norm 100 bp, smoothing 11 bp):
    the per-base signal is aggregated over a window of +/- ``flank`` bp around every TSS, in the
    direction of transcription (a minus-strand TSS's window is reversed); the aggregate (the
    mean over the TSSs whose window covers that base) is divided by the mean of its outer
    ``norm_width`` bp at both ends, so that the flanks sit at 1; the normalised profile is
    smoothed with a centred moving average of ``smooth`` bp, and the score is its maximum
    within +/- ``centre_width`` bp of the TSS. ENCODE's ATAC standards: GRCh38 < 5 concerning,
    5-7 acceptable, > 7 ideal; hg19 < 6 / 6-10 / > 10; mm10 < 10 / 10-15 / > 15; other
    assemblies have no standard.

TSSs are one per gene, chosen by :func:`seq2func.core.genes.read_gene_tss`; a TSS whose window
runs past a chromosome end contributes the bases inside the chromosome only (the profile keeps,
per offset, how many TSSs it averages). Each chromosome's bigWig values are read once and every
window is cut from them in numpy, a chunk of TSSs at a time. Bases the bigWig has no data for
read as 0 (as everywhere in preprocessing, ``library_qc.no_data: zero``): right for cut-site
tracks, which store no zeros. A track with data over windows of the genome only (e.g. Borzoi's
targets) would then read its uncovered flanks as background 0; ``no_data: missing`` leaves such
bases out of the profile like bases past a chromosome end. The table says how many TSSs had
their whole window inside the chromosome (and, with ``missing``, covered by data).

Without an annotation (or without a TSS on the kept chromosomes) TSS enrichment is NaN and the
table's ``note`` says why; FRiP is still reported. ENCODE's thresholds are made for reads (cut
sites); a signal that is not whole counts (ENCODE's "signal p-value" or fold-change bigWigs,
scaled targets) gives other numbers, and the ``note`` of its rows says so.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.errors import ConfigError, InputError
from seq2func.core.settings import Settings

log = logging.getLogger(__name__)

#: TSS windows cut from a chromosome at once (memory: chunk x (2 flank + 1) x 12 bytes)
TSS_CHUNK = 1024
#: aggregation of the per-sample rows and of the worst-sample row of each assay
PER_SAMPLE, WORST_SAMPLE = "per sample", "min over samples"
#: bases at the start of each chromosome checked for whole counts
COUNTS_SAMPLE = 1_000_000
NOT_COUNTS = "signal is not whole counts: not comparable with ENCODE's read-based standards"
METRICS = ("frip", "tss_enrichment")


@dataclass(frozen=True)
class LibraryQCSettings(Settings):
    """The config's ``library_qc`` section (defaults from the schema)."""

    SECTION = "library_qc"

    flank: int
    norm_width: int
    smooth: int
    centre_width: int
    min_tss: int
    no_data: str

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None = None, *, key: str | None = None,
                    source: str = "config") -> LibraryQCSettings:
        """Build from the ``library_qc`` section; check what the schema cannot express."""
        s = super().from_config(section, key=key, source=source)
        k = key or cls.SECTION
        if s.smooth % 2 == 0:
            raise ConfigError(source, f"{k}.smooth", f"{s.smooth} is even",
                              "give an odd width (the moving average is centred)")
        for name in ("norm_width", "centre_width"):
            if getattr(s, name) > s.flank:
                raise ConfigError(source, f"{k}.{name}",
                                  f"{getattr(s, name)} is wider than flank ({s.flank})",
                                  f"give {name} <= flank")
        return s


@dataclass(frozen=True)
class TssProfile:
    """Signal summed per offset over TSS windows, and how many TSSs cover each offset.

    ``total[i]`` and ``count[i]`` belong to offset ``i - flank`` (bp downstream of the TSS in
    the direction of transcription).
    """

    total: np.ndarray
    count: np.ndarray
    n_tss: int
    n_complete: int

    @property
    def flank(self) -> int:
        return (self.total.size - 1) // 2

    @property
    def offsets(self) -> np.ndarray:
        return np.arange(-self.flank, self.flank + 1)

    @classmethod
    def empty(cls, flank: int) -> TssProfile:
        return cls(np.zeros(2 * flank + 1), np.zeros(2 * flank + 1, dtype=np.int64), 0, 0)

    def __add__(self, other: TssProfile) -> TssProfile:
        return TssProfile(self.total + other.total, self.count + other.count,
                          self.n_tss + other.n_tss, self.n_complete + other.n_complete)


@dataclass(frozen=True)
class TssEnrichment:
    """The normalised profile of :func:`tss_enrichment` and its score (NaN with a note)."""

    score: float
    mean: np.ndarray
    enrichment: np.ndarray
    smoothed: np.ndarray
    note: str = ""


@dataclass(frozen=True)
class SampleLibraryQC:
    """FRiP and TSS enrichment of one sample."""

    sample: str
    assay: str
    signal_total: float
    signal_in_peaks: float
    n_peaks: int
    profile: TssProfile
    tss: TssEnrichment
    frip_note: str = ""
    #: whether the signal looks like whole counts (cut sites, reads), which ENCODE's
    #: thresholds are made for; p-value or fold-change tracks give other numbers
    counts: bool = True

    @property
    def frip(self) -> float:
        return self.signal_in_peaks / self.signal_total if self.signal_total > 0 else math.nan


# --------------------------------------------------------------------------- pure functions


def signal_in_intervals(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> float:
    """Sum of ``values`` over sorted, disjoint intervals ``[start, end)`` (float64).

    The intervals must lie in ``[0, values.size]`` (e.g. from
    :func:`~seq2func.core.intervals.merge_intervals`, clipped to the chromosome).
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if starts.size == 0:
        return 0.0
    if starts[0] < 0 or ends[-1] > values.size or np.any(starts[1:] < ends[:-1]):
        raise ValueError("intervals must be sorted, disjoint and inside the values")
    # prefix sums at the interval bounds only: no chromosome-sized temporary
    bounds = np.stack([starts, ends], axis=1).ravel()
    inner = bounds < values.size
    sums = np.add.reduceat(values, bounds[inner], dtype=np.float64)
    # reduceat sums [b_i, b_{i+1}): the even entries are the intervals (a touching pair
    # [s, e) [e, s') leaves an empty gap, which reduceat reports as values[e]: skipped here)
    return float(sums[0::2].sum())


def tss_window_profile(values: np.ndarray, tss: np.ndarray, minus: np.ndarray, flank: int,
                       chunk: int = TSS_CHUNK, has_data: np.ndarray | None = None
                       ) -> TssProfile:
    """Strand-aware aggregate of ``values`` over ``+/- flank`` bp around every TSS.

    Parameters
    ----------
    values
        The signal of one chromosome (index = 0-based position).
    tss
        0-based TSS positions on that chromosome.
    minus
        Whether each TSS is on the minus strand (its window is read right to left).
    flank
        Half-width of the window (bp).
    chunk
        TSS windows gathered at once.
    has_data
        Optional mask of the bases the track has data for (same shape as ``values``): the
        others are left out like bases past the ends (``library_qc.no_data: missing``).

    Returns
    -------
    TssProfile
        Bases past the chromosome ends are left out of ``total`` and ``count``.
    """
    tss = np.asarray(tss, dtype=np.int64)
    minus = np.asarray(minus, dtype=bool)
    if tss.shape != minus.shape:
        raise ValueError("tss and minus must have the same shape")
    n = values.size
    if np.any((tss < 0) | (tss >= n)):
        raise ValueError("a TSS lies outside the chromosome")
    offsets = np.arange(-flank, flank + 1, dtype=np.int64)
    total = np.zeros(offsets.size)
    count = np.zeros(offsets.size, dtype=np.int64)
    for a in range(0, tss.size, chunk):
        t, m = tss[a:a + chunk], minus[a:a + chunk]
        idx = t[:, None] + np.where(m, -1, 1)[:, None] * offsets[None, :]
        inside = (idx >= 0) & (idx < n)
        idx = np.clip(idx, 0, n - 1)
        if has_data is not None:
            inside &= has_data[idx]
        cut = values[idx]
        total += np.where(inside, cut, 0).sum(axis=0, dtype=np.float64)
        count += inside.sum(axis=0)
    complete = (tss - flank >= 0) & (tss + flank < n)
    if has_data is not None and tss.size:
        covered = np.concatenate([[0], np.cumsum(has_data, dtype=np.int64)])
        lo, hi = np.clip(tss - flank, 0, n), np.clip(tss + flank + 1, 0, n)
        complete &= covered[hi] - covered[lo] == 2 * flank + 1
    return TssProfile(total, count, int(tss.size), int(np.count_nonzero(complete)))


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average of odd ``width`` (the ends average the values they have)."""
    if width < 1 or width % 2 == 0:
        raise ValueError("width must be a positive odd number")
    kernel = np.ones(width)
    finite = np.isfinite(x)
    num = np.convolve(np.where(finite, x, 0.0), kernel, mode="same")
    den = np.convolve(finite.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def tss_enrichment(profile: TssProfile, norm_width: int, smooth: int, centre_width: int,
                   min_tss: int = 1) -> TssEnrichment:
    """ENCODE/ArchR TSS enrichment of an aggregate profile (see the module docstring).

    Parameters
    ----------
    profile
        From :func:`tss_window_profile` (summed over chromosomes).
    norm_width
        bp at each end of the window whose mean normalises the profile (ENCODE/ArchR: 100).
    smooth
        Width (odd, bp) of the moving average (ArchR: 11).
    centre_width
        The score is the maximum of the smoothed profile within ``+/- centre_width`` bp.
    min_tss
        Fewer TSSs than this covering the flanks: NaN (too few to normalise).

    Returns
    -------
    TssEnrichment
        ``score`` NaN with ``note`` when no TSS, too few TSSs or no signal in the flanks.
    """
    flank = profile.flank
    if not 0 < norm_width <= flank or not 0 <= centre_width <= flank:
        raise ValueError("norm_width and centre_width must lie within the flank")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(profile.count > 0, profile.total / np.maximum(profile.count, 1), np.nan)
    nan = np.full_like(mean, np.nan)
    ends = np.r_[0:norm_width, mean.size - norm_width:mean.size]
    covering = int(profile.count[ends].min())
    if profile.n_tss == 0:
        return TssEnrichment(math.nan, mean, nan, nan, "no TSS on the kept chromosomes")
    if covering < min_tss:
        return TssEnrichment(math.nan, mean, nan, nan,
                             f"only {covering} TSS windows reach the flanks (< {min_tss})")
    norm = float(mean[ends].mean())
    if not norm > 0:
        return TssEnrichment(math.nan, mean, nan, nan,
                             f"no signal in the outer {norm_width} bp of the TSS windows")
    enrichment = mean / norm
    smoothed = moving_average(enrichment, smooth)
    centre = slice(flank - centre_width, flank + centre_width + 1)
    return TssEnrichment(float(np.nanmax(smoothed[centre])), mean, enrichment, smoothed)


# ----------------------------------------------------------------------------------- inputs


def annotation_tss(path: str | Path | None, sizes: Mapping[str, int],
                   chromosomes: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """Unique (chrom, tss, strand) of an annotation on the kept chromosomes (genome names).

    Returns
    -------
    (pandas.DataFrame, str)
        Columns ``chrom, tss, minus``, and a note ("" or why there are no TSSs).

    Raises
    ------
    InputError
        When the annotation names no kept chromosome in any spelling (a different assembly),
        or puts a TSS past a chromosome's end.
    """
    from seq2func.core.chroms import match_names
    from seq2func.core.genes import read_gene_tss

    cols = {"chrom": pd.Series(dtype=str), "tss": pd.Series(dtype=np.int64),
            "minus": pd.Series(dtype=bool)}
    if path is None:
        return pd.DataFrame(cols), "no annotation: TSS enrichment not available"
    genes = read_gene_tss(path)
    match = match_names(genes["chrom"].unique().tolist(), list(sizes))
    genes = genes.assign(chrom=genes["chrom"].map(match.mapping))
    if not genes["chrom"].notna().any():
        raise InputError(path, "no chromosome of the annotation is a chromosome of the genome "
                               f"(e.g. {sorted(match.unmatched)[:3]}, genome: "
                               f"{list(sizes)[:3]})",
                         fix="use the annotation of the genome's assembly")
    genes = genes[genes["chrom"].isin(set(chromosomes))]
    past = genes["tss"].to_numpy() >= genes["chrom"].map(sizes).to_numpy()
    if past.any():
        r = genes[past].iloc[0]
        raise InputError(path, f"gene {r['gene_id']}: TSS {r['chrom']}:{int(r['tss']) + 1} is "
                               f"past the chromosome's end ({sizes[r['chrom']]} bp)",
                         fix="use the annotation of the genome's assembly")
    out = pd.DataFrame({"chrom": genes["chrom"].to_numpy(),
                        "tss": genes["tss"].to_numpy(dtype=np.int64),
                        "minus": genes["strand"].to_numpy() == "-"}).drop_duplicates()
    note = "" if len(out) else "no TSS of the annotation on the kept chromosomes"
    return out.reset_index(drop=True), note


def merged_peaks(path: str | Path, sizes: Mapping[str, int], chromosomes: Sequence[str]
                 ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A sample's peaks on the kept chromosomes (genome names), clipped and merged.

    Raises
    ------
    InputError
        From :func:`~seq2func.core.intervals.read_peaks`, or when the peak file names no
        chromosome of the genome.
    """
    from seq2func.core.chroms import match_names, require_overlap
    from seq2func.core.intervals import merge_intervals, read_peaks

    df = read_peaks(path)
    match = match_names(df["chrom"].unique().tolist(), list(sizes))
    if not df.empty:
        require_overlap(match, list(sizes), path, "peak file")
    df = df.assign(chrom=df["chrom"].map(match.mapping))
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for chrom, g in df[df["chrom"].isin(set(chromosomes))].groupby("chrom", sort=False):
        s = np.clip(g["start"].to_numpy(dtype=np.int64), 0, sizes[chrom])
        e = np.clip(g["end"].to_numpy(dtype=np.int64), 0, sizes[chrom])
        out[str(chrom)] = merge_intervals(s[e > s], e[e > s])
    return out


def check_bigwig_covers(bw: Any, path: str | Path, tss: pd.DataFrame,
                        chromosomes: Sequence[str]) -> None:
    """A kept chromosome with TSSs must be in the bigWig (else the profile is biased).

    Raises
    ------
    InputError
        Naming the bigWig, the chromosome and its number of TSSs.
    """
    per_chrom = tss["chrom"].value_counts()
    missing = [c for c in chromosomes if per_chrom.get(c, 0) and not bw.has(c)]
    if missing:
        raise InputError(path, f"no data for chromosome {missing[0]}, which has "
                               f"{int(per_chrom[missing[0]])} TSSs of the annotation"
                               + (f" (and {len(missing) - 1} more chromosomes)"
                                  if len(missing) > 1 else ""),
                         fix="give a bigWig of every kept chromosome, or leave the chromosome "
                             "out (preprocess.chromosomes / exclude_chromosomes)")


def _chromosome_values(bw: Any, chrom: str, size: int, no_data: str
                       ) -> tuple[np.ndarray, np.ndarray | None]:
    """One chromosome's signal (no data = 0) and, with ``no_data="missing"``, the mask of the
    bases it has data for (one read of the bigWig either way).

    Only a bigWig whose header guarantees clean values keeps its no-data bases apart (the
    others are cleaned while read: every base then counts as having data).
    """
    from seq2func.core.bigwig import clean

    if no_data != "missing":
        return bw.values(chrom, 0, size), None
    raw = bw.raw(chrom, 0, size)
    has_data = ~np.isnan(raw)
    return clean(raw), has_data


def sample_library_qc(sample: str, assay: str, bigwig: str | Path, peaks: str | Path,
                      sizes: Mapping[str, int], chromosomes: Sequence[str], tss: pd.DataFrame,
                      settings: LibraryQCSettings, tss_note: str = "",
                      negative: str = "error") -> SampleLibraryQC:
    """FRiP and TSS enrichment of one sample; each chromosome's bigWig is read once.

    Parameters
    ----------
    tss
        From :func:`annotation_tss` (columns ``chrom, tss, minus``; genome names).
    tss_note
        Why ``tss`` is empty, if it is (reported instead of a score).
    negative
        What to do with negative signal (``preprocess.negative_signal``).
    """
    from seq2func.core.bigwig import BigWig, is_integral

    intervals = merged_peaks(peaks, sizes, chromosomes)
    by_chrom = {str(c): g for c, g in tss.groupby("chrom", sort=False)}
    total = inside = 0.0
    counts = True
    profile = TssProfile.empty(settings.flank)
    with BigWig(bigwig, dict(sizes), negative=negative) as bw:
        check_bigwig_covers(bw, bigwig, tss, chromosomes)
        for chrom in chromosomes:
            if not bw.has(chrom):
                continue
            values, has_data = _chromosome_values(bw, chrom, sizes[chrom], settings.no_data)
            total += float(values.sum(dtype=np.float64))
            counts = counts and is_integral(values[:COUNTS_SAMPLE])
            if chrom in intervals:
                inside += signal_in_intervals(values, *intervals[chrom])
            if chrom in by_chrom:
                g = by_chrom[chrom]
                profile = profile + tss_window_profile(values, g["tss"].to_numpy(),
                                                       g["minus"].to_numpy(), settings.flank,
                                                       has_data=has_data)
    score = tss_enrichment(profile, settings.norm_width, settings.smooth,
                           settings.centre_width, settings.min_tss)
    if tss_note and tss.empty:
        score = TssEnrichment(score.score, score.mean, score.enrichment, score.smoothed,
                              tss_note)
    n_peaks = sum(int(s.size) for s, _ in intervals.values())
    if not counts:
        log.warning("%s: the signal is not whole counts (a p-value, fold-change or scaled "
                    "track?): FRiP and TSS enrichment are not comparable with ENCODE's "
                    "read-based standards", bigwig)
    return SampleLibraryQC(sample, assay, total, inside, n_peaks, profile, score,
                           "" if total > 0 else "no signal on the kept chromosomes", counts)


# ----------------------------------------------------------------------------------- tables


def _row(model: str, metric: str, task: str, aggregation: str, value: float, n: int,
         assembly: str, note: str) -> dict[str, Any]:
    return {"model": model, "split": "all", "metric": metric, "task": task,
            "aggregation": aggregation, "value": value, "ci_low": math.nan,
            "ci_high": math.nan, "n": n, "chromosome": "all", "assembly": assembly,
            "note": note}


def library_qc_table(results: Sequence[SampleLibraryQC], assembly: str) -> pd.DataFrame:
    """The metric table ``library_qc`` (gates read it; :class:`~seq2func.core.metrics.MetricRow`
    columns plus ``assembly`` and ``note``).

    ``model`` is the assay (the standards differ by assay), ``task`` the sample. Rows: per
    sample (aggregation ``per sample``) ``frip`` (``n``: merged peaks), ``tss_enrichment``
    (``n``: TSSs) and ``tss_complete_windows`` (TSSs whose window lies inside the chromosome);
    per assay (task ``all``, aggregation ``min over samples``) the worst ``frip`` and
    ``tss_enrichment`` over its samples with a value (``n``: those samples).
    """
    rows = []
    for r in results:
        extra = [] if r.counts else [NOT_COUNTS]
        rows.append(_row(r.assay, "frip", r.sample, PER_SAMPLE, r.frip, r.n_peaks, assembly,
                         "; ".join([n for n in [r.frip_note] if n] + extra)))
        rows.append(_row(r.assay, "tss_enrichment", r.sample, PER_SAMPLE, r.tss.score,
                         r.profile.n_tss, assembly,
                         "; ".join([n for n in [r.tss.note] if n] + extra)))
        rows.append(_row(r.assay, "tss_complete_windows", r.sample, PER_SAMPLE,
                         float(r.profile.n_complete), r.profile.n_tss, assembly, ""))
    per_sample = pd.DataFrame(rows)
    for assay in dict.fromkeys(r.assay for r in results):
        for metric in METRICS:
            sel = per_sample[(per_sample["model"] == assay) & (per_sample["metric"] == metric)]
            vals = sel["value"].to_numpy(dtype=float)
            ok = np.isfinite(vals)
            worst = float(vals[ok].min()) if ok.any() else math.nan
            note = "" if ok.all() else (f"{int((~ok).sum())} of {len(vals)} samples without "
                                        "a value")
            rows.append(_row(assay, metric, "all", WORST_SAMPLE, worst, int(ok.sum()),
                             assembly, note))
    return pd.DataFrame(rows)


def profile_table(results: Sequence[SampleLibraryQC]) -> pd.DataFrame:
    """The TSS profile of every sample, long format (one row per sample and offset)."""
    parts = [pd.DataFrame({"sample": r.sample, "offset": r.profile.offsets,
                           "tss_windows": r.profile.count,
                           "enrichment": r.tss.enrichment,
                           "enrichment_smoothed": r.tss.smoothed}) for r in results]
    return pd.concat(parts, ignore_index=True)


def library_qc_figure(results: Sequence[SampleLibraryQC], output: str | Path,
                      title: str = "") -> None:
    """TSS profile of every sample (smoothed, normalised), FRiP and score in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seq2func.core.io import atomic_output

    plt.rcParams["svg.hashsalt"] = "seq2func"
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for r in results:
        label = f"{r.sample} ({r.assay}): TSS enr. {r.tss.score:.2f}, FRiP {r.frip:.2f}"
        if np.isfinite(r.tss.smoothed).any():
            ax.plot(r.profile.offsets, r.tss.smoothed, label=label, linewidth=1.2)
        else:
            ax.plot([], [], label=f"{label} ({r.tss.note})")
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("distance to TSS (bp, direction of transcription)")
    ax.set_ylabel("signal / mean of the window's outer flanks")
    ax.set_title(title or "TSS enrichment")
    ax.legend(fontsize=7, frameon=False)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as tmp:
        fig.savefig(tmp, format=out.suffix.lstrip(".") or "svg",
                    metadata={"Date": None} if out.suffix in (".svg", ".pdf") else None)
    plt.close(fig)


# ---------------------------------------------------------------------------------- the step


def run_library_qc(plan_dir: str | Path, annotation: str | Path | None, assembly: str,
                   settings: LibraryQCSettings, table: str | Path, profiles: str | Path,
                   figure: str | Path | None = None) -> pd.DataFrame:
    """The workflow step: every sample of the preprocessing plan, its table, profiles, figure.

    The plan (``plan.json``) gives the kept chromosomes, their sizes and each sample's bigWig,
    peaks and assay; its ``negative_signal`` setting applies. Writes ``table`` (with a
    provenance record), ``profiles`` and the figure atomically.
    """
    from seq2func.core.io import read_json, write_tsv_atomic
    from seq2func.core.provenance import write_provenance
    from seq2func.core.tables import write_metric_table

    plan = read_json(Path(plan_dir) / "plan.json", keys=("chromosomes", "sizes", "samples"))
    chroms, sizes = list(plan["chromosomes"]), {k: int(v) for k, v in plan["sizes"].items()}
    negative = plan.get("params", {}).get("negative_signal", "error")
    tss, note = annotation_tss(annotation, sizes, chroms)
    log.info("%d TSSs on %d kept chromosomes%s", len(tss), len(chroms), f" ({note})" * bool(note))
    results = [sample_library_qc(s["name"], s["assay"], s["bigwig"], s["peaks"], sizes, chroms,
                                 tss, settings, note, negative) for s in plan["samples"]]
    for r in results:
        log.info("%s (%s): FRiP %.3f, TSS enrichment %.2f over %d TSSs%s", r.sample, r.assay,
                 r.frip, r.tss.score, r.profile.n_tss, f" ({r.tss.note})" * bool(r.tss.note))
    out = library_qc_table(results, assembly)
    write_metric_table(table, out)
    write_tsv_atomic(profiles, profile_table(results), float_format="%.4g")
    inputs = [Path(plan_dir) / "plan.json", *([annotation] if annotation else []),
              *[s["bigwig"] for s in plan["samples"]], *[s["peaks"] for s in plan["samples"]]]
    write_provenance(table, step="library-qc", inputs=inputs,
                     config={"library_qc": settings.to_config(), "assembly": assembly})
    if figure is not None:
        library_qc_figure(results, figure, f"Library QC: study {plan.get('study', '')}")
    return out
