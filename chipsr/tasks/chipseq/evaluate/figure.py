"""The data of ``PREFIX.png``: a locus of every method against the truth (the truth's
highest-signal window when none is given) and a scatter of one track against the truth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from chipsr.io.genome import Region
from chipsr.io.tracks import BigWigFile, bin_range
from chipsr.tasks.chipseq.evaluate.inputs import SEED_TRACK
from chipsr.tasks.chipseq.evaluate.regions import Chrom
from chipsr.tasks.chipseq.evaluate.smoothing import SMOOTHED_NAME, smoothed_bins


#: Width (bp) of the locus drawn in the figure when none is given.
LOCUS_BP = 100_000


#: Scatter plots with more points than this become hexbin plots.
HEXBIN_MIN_POINTS = 5_000


@dataclass
class Figure:
    """What ``PREFIX.png`` draws: a locus of the tracks and the truth, and a scatter of one track."""

    locus: Region
    tracks: dict[str, np.ndarray]  # name -> bins of the locus (one per method, plus the smoothed input)
    truth: np.ndarray  # the truth's bins of the locus
    scatter_track: str
    x: np.ndarray  # the scatter track's evaluated, non-blacklisted bins
    r: float  # its overall Pearson r


def _best_window(truth: np.ndarray, valid: np.ndarray, width: int) -> int:
    """Start index of the ``width``-bin window with the highest summed truth (blacklist as 0)."""
    if len(truth) <= width:
        return 0
    c = np.concatenate(([0.0], np.cumsum(np.where(valid, truth, 0.0))))
    return int(np.argmax(c[width:] - c[:-width]))


def _auto_locus(chroms: list[Chrom], bin_size: int) -> Region:
    """The ``LOCUS_BP`` window of evaluated bins with the highest summed truth (a whole range if
    shorter), on the genome grid."""
    width = max(1, -(-LOCUS_BP // bin_size))
    best_sum, best = -math.inf, None
    for c in chroms:
        offset = 0
        for a, b in c.ranges:
            t, v = c.truth[offset : offset + b - a], c.valid[offset : offset + b - a]
            i = _best_window(t, v, width)
            total = float(np.where(v, t, 0.0)[i : i + width].sum())
            if total > best_sum:
                lo = (a + i) * bin_size
                best_sum, best = total, Region(c.name, lo, min(lo + width * bin_size, b * bin_size, c.size))
            offset += b - a
    return best


def figure_data(chroms: list[Chrom], tracks: Mapping, track_bws: dict[str, BigWigFile], truth_bw: BigWigFile,
                locus: Region | None, smoothing: dict | None, rows: list[dict], all_valid: np.ndarray,
                bin_size: int) -> Figure:
    """The figure's data: the locus (``locus``, or the best window of :func:`_auto_locus`) of every
    method (seeds and the depth series left out) and of the smoothed input, and the scatter of the
    primary model (tfilm) when scored, else of the last method listed (a seed only when every track
    is one)."""
    if locus is None:
        locus = _auto_locus(chroms, bin_size)
    lb0, lb1 = bin_range(locus.start, locus.end, bin_size)
    methods = [n for n in tracks if not SEED_TRACK.match(n)] or list(tracks)  # only seeds: draw them
    locus_tracks = {name: track_bws[name].binned(locus.chrom, bin_size, lb0, lb1) for name in methods}
    if smoothing is not None:
        locus_tracks[SMOOTHED_NAME] = smoothed_bins(track_bws[smoothing["input"]], locus.chrom, bin_size,
                                                    lb0, lb1, smoothing["sigma"])
    truth_locus = truth_bw.binned(locus.chrom, bin_size, lb0, lb1)
    last = "tfilm" if "tfilm" in tracks else methods[-1]
    x_last = np.concatenate([c.tracks[last] for c in chroms])[all_valid]
    r_last = next(r["pearson"] for r in rows if (r["track"], r["chrom"], r["subset"]) == (last, "all", "all"))
    return Figure(locus, locus_tracks, truth_locus, last, x_last, r_last)
