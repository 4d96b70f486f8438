"""Quality control of preprocessing: a per-sample table and a figure.

The table (one row per sample) accounts for every peak of the sample's file: dropped (and
why), merged into a stronger summit of any sample, or kept as a region centre; the columns
``peaks_in_file = chrom_not_in_genome + chrom_excluded + invalid_interval + past_chrom_end +
below_top_n + window_off_chrom + blacklisted + too_many_n + merged + kept`` add up. It also
reports the fraction of signal inside the sample's peaks (FRiP-like; the denominator is the
signal on the processed chromosomes, from the bigWig's zoom summaries), how many regions carry a
positive label, the G+C content of positives and of background regions (and the
Kolmogorov-Smirnov distance between them: small when background is GC-matched), peak widths
and data problems seen in the bigWig (bases without data, negative values).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: the fates that add up to ``peaks_in_file``
FATE_COLUMNS = ["chrom_not_in_genome", "chrom_excluded", "invalid_interval", "past_chrom_end",
                "below_top_n", "window_off_chrom", "blacklisted", "too_many_n", "merged", "kept"]


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (max distance between empirical CDFs)."""
    a = np.sort(a[np.isfinite(a)])
    b = np.sort(b[np.isfinite(b)])
    if a.size == 0 or b.size == 0:
        return float("nan")
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                               - np.searchsorted(b, grid, side="right") / b.size)))


def qc_table(plan: Mapping[str, Any], stats: Mapping[str, Mapping[str, Any]],
             regions: pd.DataFrame) -> pd.DataFrame:
    """One row per sample (see module docstring)."""
    rows = []
    bg = regions["source"] == "background"
    for s in plan["samples"]:
        name = s["name"]
        pq = plan["peak_qc"][name]
        row: dict[str, Any] = {"sample": name, "assay": s["assay"], "cell_type": s["cell_type"],
                               "peaks_in_file": pq["peaks_in_file"]}
        for k in ("chrom_not_in_genome", "chrom_excluded", "invalid_interval", "past_chrom_end",
                  "below_top_n"):
            row[k] = pq[k]
        for k in ("window_off_chrom", "blacklisted", "too_many_n", "merged", "kept"):
            row[k] = sum(st["fates"][name][k] for st in stats.values())
        row["clipped_at_chrom_end"] = pq["clipped_at_chrom_end"]
        row["summit_from_midpoint"] = pq["summit_from_midpoint"]
        row["kept_fraction"] = row["kept"] / pq["peaks_in_file"] if pq["peaks_in_file"] else 0.0
        row["median_peak_width"] = pq["median_width"]
        pos = regions[f"label_{name}"] == 1
        row["regions_labelled_1"] = int(pos.sum())
        row["regions_is_peak"] = int((regions[f"is_peak_{name}"] == 1).sum())
        total = sum(st["signal"][name]["total"] for st in stats.values())
        inside = sum(st["signal"][name]["in_peaks"] for st in stats.values())
        row["signal_total"] = total
        row["signal_in_peaks"] = inside
        row["signal_in_peaks_fraction"] = inside / total if total > 0 else float("nan")
        row["gc_positives_mean"] = float(regions.loc[pos, "gc"].mean()) if pos.any() else None
        row["gc_background_mean"] = float(regions.loc[bg, "gc"].mean()) if bg.any() else None
        row["gc_ks_positives_vs_background"] = ks_distance(
            regions.loc[pos, "gc"].to_numpy(dtype=float), regions.loc[bg, "gc"].to_numpy(
                dtype=float))
        header = s.get("bigwig_header", {})
        row["bigwig_bases_without_data"] = (int(s.get("bigwig_bases", 0)
                                                - header.get("nBasesCovered", 0))
                                            if header.get("nBasesCovered") else None)
        row["bigwig_negative_bases_clipped"] = sum(st["signal"][name]["negative_bases"]
                                                   for st in stats.values())
        row["bigwig_missing_chromosomes"] = ",".join(s.get("bigwig_missing_chromosomes", []))
        rows.append(row)
    return pd.DataFrame(rows)


def qc_figure(qc: pd.DataFrame, regions: pd.DataFrame, plan: Mapping[str, Any],
              output: str | Path) -> None:
    """Six-panel QC figure (vector format from the file suffix, e.g. ``.svg`` or ``.pdf``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "seq2func"
    samples = qc["sample"].tolist()
    fig, axes = plt.subplots(3, 2, figsize=(11, 12), constrained_layout=True)

    ax = axes[0, 0]
    left = np.zeros(len(samples))
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, len(FATE_COLUMNS)))
    for k, col in enumerate(reversed(FATE_COLUMNS)):
        vals = qc[col].to_numpy(dtype=float)
        if vals.sum() == 0:
            continue  # keep the legend to the fates that occur
        ax.barh(samples, vals, left=left, color=colours[k], label=col.replace("_", " "))
        left += vals
    ax.set_xlabel("peaks in file")
    ax.set_title("Fate of each peak")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4,
              frameon=False)

    ax = axes[0, 1]
    ax.barh(samples, qc["signal_in_peaks_fraction"].fillna(0), color="tab:blue")
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of signal inside the sample's peaks")
    ax.set_title("Signal in peaks (FRiP-like)")

    ax = axes[1, 0]
    edges = np.linspace(0, 1, 51)
    peak = regions["source"] == "peak"
    for sel, lab, c in ((peak, "peak regions", "tab:red"),
                        (~peak, "background regions", "tab:grey")):
        vals = regions.loc[sel, "gc"].to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            ax.hist(vals, bins=edges, histtype="step", density=True, label=f"{lab} (n={sel.sum()})",
                    color=c, linewidth=1.5)
    ax.set_xlabel("G+C fraction of the input window")
    ax.set_ylabel("density")
    ax.set_title("GC: positives vs GC-matched background")
    ax.legend(fontsize=8, frameon=False)

    ax = axes[1, 1]
    for name in samples:
        h = plan["peak_qc"][name]["width_hist"]
        e = np.asarray(h["edges"], dtype=float)
        c = np.asarray(h["counts"], dtype=float)
        if c.sum():
            ax.stairs(c / c.sum(), e, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("peak width (bp)")
    ax.set_ylabel("fraction of peaks")
    ax.set_title("Peak width distribution")
    ax.legend(fontsize=8, frameon=False)

    ax = axes[2, 0]
    data, labels = [], []
    for name in samples:
        for sel, tag in ((regions[f"label_{name}"] == 1, "+"), (~peak, "bg")):
            data.append(regions.loc[sel, f"log_counts_{name}"].to_numpy(dtype=float))
            labels.append(f"{name} {tag}")
    nonempty = [(d, lab) for d, lab in zip(data, labels, strict=True) if d.size]
    if nonempty:
        ax.boxplot([d for d, _ in nonempty], tick_labels=[lab for _, lab in nonempty],
                   showfliers=False)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax.set_ylabel("log(1 + counts) in count window")
    ax.set_title("Count targets: positives (+) vs background (bg)")

    ax = axes[2, 1]
    parts = ["train", "valid", "test"]
    n_peak = [int(((regions["split"] == p) & peak).sum()) for p in parts]
    n_bg = [int(((regions["split"] == p) & ~peak).sum()) for p in parts]
    ax.bar(parts, n_peak, color="tab:red", label="peak")
    ax.bar(parts, n_bg, bottom=n_peak, color="tab:grey", label="background")
    ax.set_ylabel("regions")
    ax.set_title("Regions per split")
    ax.legend(fontsize=8, frameon=False)

    fig.suptitle(f"Preprocessing QC: study {plan.get('study', '')}")
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    from seq2func.core.io import atomic_output

    with atomic_output(out) as tmp:
        fig.savefig(tmp, format=out.suffix.lstrip(".") or "svg", metadata={"Date": None}
                    if out.suffix in (".svg", ".pdf") else None)
    plt.close(fig)
