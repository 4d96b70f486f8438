"""Regions of one chromosome: summit-centred peak windows and GC-matched background windows.

:func:`select_regions` turns the summits of every sample on one chromosome into one region set:

1. each summit's window (the stored window, ``input_length + 2 * max_jitter`` bp) is dropped if
   it runs off the chromosome, overlaps the blacklist extended by ``blacklist_flank`` or has more
   than ``max_n_fraction`` N in the input window;
2. the remaining summits of all samples are merged by greedy non-maximum suppression: strongest
   first (per-sample rank of the peak score, ties by sample order then position), a summit is
   kept unless a kept one is closer than ``merge_distance`` (ArchR's iterative overlap removal);
3. background windows are tiled at half the window width, dropped if they overlap any peak of
   any sample, the blacklist or too many N, and sampled (``background_ratio`` per peak region)
   to match the G+C histogram of the peak regions bin by bin (nearest bins fill shortfalls);
4. every region gets per-task ``label`` (a summit of the task within the central
   ``label_window``) and ``is_peak`` (a peak of the task overlaps the count window).

Everything is vectorised over summits and windows except the greedy suppression, which visits
each summit once with a binary search (O(n log n)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from seq2func.core.intervals import count_points, merge_intervals, nms_positions, overlaps_any
from seq2func.core.sequence import window_composition
from seq2func.dataset.geometry import Geometry


@dataclass
class SummitSet:
    """Summits and peak intervals of every sample on one chromosome (genome coordinates)."""

    sample: np.ndarray  # int, index into the task list
    start: np.ndarray
    end: np.ndarray
    summit: np.ndarray
    score: np.ndarray  # per-sample rank score in (0, 1], higher is stronger

    def of(self, task: int) -> SummitSet:
        m = self.sample == task
        return SummitSet(self.sample[m], self.start[m], self.end[m], self.summit[m],
                         self.score[m])

    def __len__(self) -> int:
        return int(self.sample.size)


@dataclass
class RegionSelection:
    """Result of :func:`select_regions`."""

    regions: pd.DataFrame
    fates: dict[str, dict[str, int]]  # sample -> fate -> count
    background: dict[str, float | int] = field(default_factory=dict)


def gc_matched_sample(target_gc: np.ndarray, candidate_gc: np.ndarray, ratio: float,
                      n_bins: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of candidates whose G+C histogram matches ``ratio`` times the targets'.

    Targets and candidates are binned into ``n_bins`` equal G+C bins; each bin takes
    ``ratio * n_targets_in_bin`` candidates (largest-remainder rounding) at random without
    replacement; a bin short of candidates borrows from the nearest bins with spare ones.

    Returns
    -------
    numpy.ndarray
        Sorted candidate indices (fewer than requested only if candidates run out).
    """
    n_want = round(ratio * target_gc.size)
    if n_want == 0 or candidate_gc.size == 0:
        return np.zeros(0, dtype=np.int64)
    tb = np.clip((np.nan_to_num(target_gc, nan=0.4) * n_bins).astype(np.int64), 0, n_bins - 1)
    cb = np.clip((np.nan_to_num(candidate_gc, nan=0.4) * n_bins).astype(np.int64), 0,
                 n_bins - 1)
    exact = np.bincount(tb, minlength=n_bins) * ratio
    want = np.floor(exact).astype(np.int64)
    short = n_want - int(want.sum())
    if short > 0:
        frac_order = np.argsort(-(exact - want), kind="stable")
        want[frac_order[:short]] += 1
    pools = [rng.permutation(np.flatnonzero(cb == b)) for b in range(n_bins)]
    used = np.zeros(n_bins, dtype=np.int64)
    chosen: list[np.ndarray] = []
    deficit = np.zeros(n_bins, dtype=np.int64)
    for b in range(n_bins):
        k = min(int(want[b]), pools[b].size)
        chosen.append(pools[b][:k])
        used[b] = k
        deficit[b] = int(want[b]) - k
    for b in np.flatnonzero(deficit):
        need = int(deficit[b])
        for d in range(1, n_bins):
            for nb in (b - d, b + d):
                if need and 0 <= nb < n_bins:
                    k = min(need, pools[nb].size - int(used[nb]))
                    if k > 0:
                        chosen.append(pools[nb][used[nb] : used[nb] + k])
                        used[nb] += k
                        need -= k
            if not need:
                break
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def select_regions(chrom: str, size: int, codes: np.ndarray, summits: SummitSet,
                   blacklist: tuple[np.ndarray, np.ndarray], tasks: Sequence[str],
                   geo: Geometry, *, merge_distance: int, blacklist_flank: int,
                   max_n_fraction: float, background_ratio: float, gc_bins: int,
                   rng: np.random.Generator) -> RegionSelection:
    """Build the region set of one chromosome (see module docstring).

    Parameters
    ----------
    chrom, size, codes
        Chromosome name, length and uint8 codes.
    summits
        Peaks of every task on this chromosome that passed the plan's checks.
    blacklist
        Starts and ends of blacklisted intervals on this chromosome.
    tasks
        Sample names (task order).
    geo
        Window sizes.
    rng
        Random generator for background sampling (seed it per chromosome).

    Returns
    -------
    RegionSelection
        ``regions`` sorted by centre with columns chrom, centre, source, origin, gc, n_fraction,
        ``label_<task>``, ``is_peak_<task>``; per-sample summit fates; background statistics.
    """
    W = geo.extent
    half = W // 2
    L = geo.input_length
    bl_s, bl_e = merge_intervals(blacklist[0] - blacklist_flank, blacklist[1] + blacklist_flank)

    def window_checks(centres: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray, np.ndarray]:
        ws = centres - half
        off = (ws < 0) | (ws + W > size)
        black = np.zeros(centres.size, dtype=bool)
        nfrac = np.ones(centres.size)
        gc = np.full(centres.size, np.nan)
        ok = ~off
        black[ok] = overlaps_any(ws[ok], ws[ok] + W, bl_s, bl_e)
        if ok.any():
            gcn, nn = window_composition(codes, centres[ok] - L // 2, L)
            nfrac[ok] = nn / L
            with np.errstate(invalid="ignore", divide="ignore"):
                gc[ok] = np.where(nn < L, gcn / np.maximum(L - nn, 1), np.nan)
        too_n = ok & ~black & (nfrac > max_n_fraction)
        return off, black, too_n, gc, nfrac

    # ---- one pass of window checks for summits and background candidates together
    centres = summits.summit.astype(np.int64)
    stride = max(1, W // 2)
    cand = np.arange(half, size - half + 1, stride, dtype=np.int64)
    checks = window_checks(np.concatenate([centres, cand]))
    off, black, too_n, gc, nfrac = (c[: centres.size] for c in checks)
    c_off, c_black, c_n, c_gc, c_nfrac = (c[centres.size :] for c in checks)

    # ---- peaks: filters, then greedy suppression across samples
    passing = ~(off | black | too_n)
    idx = np.flatnonzero(passing)
    order = np.lexsort((centres[idx], summits.sample[idx], -summits.score[idx]))
    keep_sub = nms_positions(centres[idx], order, merge_distance)
    kept = np.zeros(centres.size, dtype=bool)
    kept[idx[keep_sub]] = True
    merged = passing & ~kept
    fates: dict[str, dict[str, int]] = {}
    for t, name in enumerate(tasks):
        m = summits.sample == t
        fates[name] = {"window_off_chrom": int((off & m).sum()),
                       "blacklisted": int((black & m).sum()),
                       "too_many_n": int((too_n & m).sum()), "merged": int((merged & m).sum()),
                       "kept": int((kept & m).sum())}
    pos = pd.DataFrame({"centre": centres[kept], "source": "peak",
                        "origin": np.asarray(tasks, dtype=object)[summits.sample[kept]],
                        "gc": gc[kept], "n_fraction": nfrac[kept]})

    # ---- background: tiled candidates, excluded near peaks / blacklist / N, GC-matched
    near_peak = overlaps_any(cand - half, cand - half + W, summits.start, summits.end)
    ok = ~(c_off | c_black | c_n | near_peak) & np.isfinite(c_gc)
    cand_ok = np.flatnonzero(ok)
    pick = cand_ok[gc_matched_sample(pos["gc"].to_numpy(), c_gc[cand_ok], background_ratio,
                                     gc_bins, rng)]
    bg = pd.DataFrame({"centre": cand[pick], "source": "background", "origin": "",
                       "gc": c_gc[pick], "n_fraction": c_nfrac[pick]})
    wanted = round(background_ratio * len(pos))
    background = {"candidates": int(cand.size), "eligible": int(cand_ok.size),
                  "requested": wanted, "selected": int(pick.size)}

    regions = pd.concat([pos, bg], ignore_index=True)
    regions = regions.sort_values(["centre", "source"], kind="stable").reset_index(drop=True)
    regions.insert(0, "chrom", chrom)
    c = regions["centre"].to_numpy(dtype=np.int64)
    lw = geo.label_window
    cw = geo.count_window
    for t, name in enumerate(tasks):
        st = summits.of(t)
        regions[f"label_{name}"] = (count_points(c - lw // 2, c - lw // 2 + lw, st.summit) > 0
                                    ).astype(np.uint8)
    for t, name in enumerate(tasks):
        st = summits.of(t)
        regions[f"is_peak_{name}"] = overlaps_any(c - cw // 2, c - cw // 2 + cw, st.start,
                                                  st.end).astype(np.uint8)
    return RegionSelection(regions, fates, background)
