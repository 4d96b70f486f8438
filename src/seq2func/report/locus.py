"""The genome-browser-like locus panel: observed and predicted tracks, peaks and genes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seq2func.core.plotting import figure_style, pyplot
from seq2func.report.figures import model_color

#: models drawn in comparisons, in order (others in the table are drawn after them)

def parse_locus(text: str) -> tuple[str, int, int]:
    """``chr2:100000-150000`` -> ``("chr2", 100000, 150000)`` (0-based, end exclusive)."""
    try:
        chrom, rng = text.rsplit(":", 1)
        start, end = (int(v.replace(",", "")) for v in rng.split("-"))
    except ValueError as exc:
        raise ValueError(f"locus {text!r} is not chrom:start-end") from exc
    if end <= start or start < 0:
        raise ValueError(f"locus {text!r} has end <= start")
    return chrom, start, end


def auto_locus(peak_files: Sequence[str | Path], chromosomes: Sequence[str],
               chrom_sizes: Mapping[str, int], width: int) -> tuple[str, int, int]:
    """The ``width`` bp window of ``chromosomes`` holding the most peak summits of all samples
    (centred on a summit; the first such window in genome order on ties)."""
    from seq2func.core.intervals import read_peaks

    summits = pd.concat([read_peaks(p)[["chrom", "summit"]] for p in peak_files])
    best: tuple[int, str, int] = (-1, "", 0)
    for chrom in chromosomes:
        s = np.sort(summits.loc[summits["chrom"] == chrom, "summit"].to_numpy(np.int64))
        size = int(chrom_sizes[chrom])
        if s.size == 0:
            if best[0] < 0:
                best = (0, chrom, 0)
            continue
        lo = np.clip(s - width // 2, 0, max(0, size - width))
        counts = np.searchsorted(s, lo + width) - np.searchsorted(s, lo)
        i = int(np.argmax(counts))
        if counts[i] > best[0]:
            best = (int(counts[i]), chrom, int(lo[i]))
    _, chrom, start = best
    return chrom, start, min(start + width, int(chrom_sizes[chrom]))


def genes_in(gtf: str | Path, chrom: str, start: int, end: int) -> pd.DataFrame:
    """Genes (GTF/GFF3 gene records) overlapping a locus: name, start, end, strand, exons."""
    from seq2func.core.genes import annotation_features, gene_name

    genes: dict[str, dict[str, Any]] = {}
    for f in annotation_features(gtf, {"gene", "exon"}):
        if f.chrom != chrom or f.end <= start or f.start >= end or not f.gene_id:
            continue
        g = genes.setdefault(f.gene_id, {"gene_id": f.gene_id, "exons": []})
        if f.is_gene:
            g.update(name=gene_name(f), start=f.start, end=f.end, strand=f.strand)
        else:
            g["exons"].append((f.start, f.end))
    rows = [g for g in genes.values() if "start" in g]
    return pd.DataFrame(rows, columns=["gene_id", "name", "start", "end", "strand", "exons"])


def locus_panel(
    locus: tuple[str, int, int],
    observed: Mapping[str, str | Path],
    predicted: Mapping[str, str | Path],
    peaks: Mapping[str, str | Path],
    gtf: str | Path,
    *,
    bin_size: int = 50,
    predicted_label: str = "predicted",
) -> Any:
    """Observed signal, predicted track, peaks per task and genes over one locus.

    Observed base-resolution signal is summed in ``bin_size`` bp bins (NaN = no coverage = 0);
    the predicted track is averaged in the same bins.
    """
    import pyBigWig

    from seq2func.core.intervals import read_peaks

    chrom, start, end = locus
    n_bins = max(1, (end - start) // bin_size)
    end = start + n_bins * bin_size
    x = start + bin_size * (np.arange(n_bins) + 0.5)
    tasks = list(observed)
    plt = pyplot()
    with figure_style():
        heights = [1.0] * (2 * len(tasks)) + [0.35 * len(tasks), 0.8]
        fig, axes = plt.subplots(len(heights), 1, figsize=(7.0, 0.75 * sum(heights) + 0.6),
                                 sharex=True, gridspec_kw={"height_ratios": heights})
        for i, task in enumerate(tasks):
            with pyBigWig.open(str(observed[task])) as bw:
                v = np.nan_to_num(bw.values(chrom, start, end, numpy=True), nan=0.0)
            ax = axes[2 * i]
            ax.fill_between(x, v.reshape(n_bins, bin_size).sum(axis=1), step="mid",
                            color=model_color(i), lw=0)
            ax.set_ylabel(f"{task}\nobserved", rotation=0, ha="right", va="center")
            ax = axes[2 * i + 1]
            if task in predicted:
                with pyBigWig.open(str(predicted[task])) as bw:
                    size = bw.chroms(chrom) or 0
                    a, b = min(start, size), min(end, size)
                    p = np.full(end - start, np.nan)
                    if b > a:
                        p[a - start : b - start] = bw.values(chrom, a, b, numpy=True)
                with np.errstate(all="ignore"):
                    pb = np.nanmean(p.reshape(n_bins, bin_size), axis=1)
                ax.fill_between(x, np.nan_to_num(pb, nan=0.0), step="mid", color=model_color(i),
                                alpha=0.55, lw=0)
            ax.set_ylabel(f"{task}\n{predicted_label}", rotation=0, ha="right", va="center")
        ax = axes[-2]
        for i, task in enumerate(tasks):
            pk = read_peaks(peaks[task]) if task in peaks else pd.DataFrame()
            if len(pk):
                pk = pk[(pk["chrom"] == chrom) & (pk["end"] > start) & (pk["start"] < end)]
                for a, b in zip(pk["start"], pk["end"], strict=True):
                    ax.add_patch(plt.Rectangle((a, i - 0.3), b - a, 0.6, color=model_color(i),
                                               lw=0))
        ax.set_ylim(-0.6, len(tasks) - 0.4)
        ax.set_yticks(range(len(tasks)), [f"{t} peaks" for t in tasks])
        ax = axes[-1]
        genes = genes_in(gtf, chrom, start, end)
        for j, g in enumerate(genes.itertuples()):
            yy = j % 3
            ax.plot([max(g.start, start), min(g.end, end)], [yy, yy], color="0.2", lw=0.6)
            for a, b in g.exons:
                ax.add_patch(plt.Rectangle((a, yy - 0.25), b - a, 0.5, color="0.2", lw=0))
            mid = (max(g.start, start) + min(g.end, end)) / 2
            ax.text(mid, yy + 0.35, f"{g.name} ({g.strand})", ha="center", va="bottom",
                    fontsize=5)
        ax.set_ylim(-0.7, 3.0)
        ax.set_yticks([])
        ax.set_ylabel("genes", rotation=0, ha="right", va="center")
        ax.set_xlim(start, end)
        ax.set_xlabel(f"{chrom} position (bp)")
        fig.suptitle(f"{chrom}:{start:,}-{end:,} (held-out chromosome)")
        fig.tight_layout()
    return fig
