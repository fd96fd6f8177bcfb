"""Denoised tracks vs a deep-sequencing truth: metrics, tables and a figure (``chipsr evaluate``).

Every track is read from its bigWig **at bin resolution** (:func:`read_binned`): bins of
``bin_size`` bp on the genome-wide grid (bin ``i`` of a chromosome covers
``[i * bin_size, (i + 1) * bin_size)``, the last bin truncated at the chromosome end), a bin's value
being the mean of the per-bp values over its bases (bases without a bigWig interval count as 0).
This is the averaging that ``chipsr coverage`` writes (Coda's 25-bp bins, Koh et al. 2017).

Metrics, with their sources (full citations in the README's References; AtacWorks: Lal et al.,
Nature Communications 12:1507, 2021, doi:10.1038/s41467-021-21765-5):

* Pearson r between each track and the truth over all evaluated bins: the metric of the TFiLM
  paper (Birnbaum et al. 2019, Section 4.2, Table 2) and of Coda (Koh et al. 2017);
* Spearman r and MSE beside it, **overall, inside peaks and outside peaks**, as AtacWorks reports
  them (Lal et al. 2021: an r of 0.95 overall can hide 0.41 outside peaks); Coda reports MSE and r
  over all bins and inside full-depth peaks;
* per chromosome and over all evaluated chromosomes together; bins overlapping a blacklist region
  (e.g. ENCODE blacklist v2) are excluded from every subset.

Peaks are either given (``peaks=`` BED: bins overlapping a peak are "inside") or called from the
truth by :data:`PEAK_RULE` (see :func:`call_peaks`). A Gaussian-smoothed copy of the noisy input,
its width chosen on a separate validation region, is added as the "smoothed input" row: the
baseline every denoiser must beat (smoothing alone lifts r from 0.639 to 0.816 on the example's
MOLM-13 H3K27ac: README, "Results on the example").

Outputs of :func:`evaluate` (all written atomically; none is left behind on error):
``PREFIX.tsv`` (one row per track x chromosome (+ ``all``) x subset), ``PREFIX.json`` (the same
rows + metadata), ``PREFIX.md`` (a table shaped like the paper's Table 2) and ``PREFIX.png``
(a locus and a scatter of tfilm, or else the last track, against the truth).

Cost: memory is O(tracks x evaluated bins), float64, plus the transient copies that Spearman's
ranking makes. Measured on a 2-core machine with two tracks at 25 bp: hg19 chr22:40-51.3 Mb
(0.45 M bins, + smoothing) 7 s; every hg19 chromosome (114 M bins) 9 min and 18 GB peak RSS.
For genome-wide runs evaluate held-out chromosomes (``regions=``), as Coda and the paper do.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import check_output_path
from chipsr.io.genome import (
    Region,
    overlaps_intervals,
    parse_region,
    read_bed_intervals,
)
from chipsr.io.peaks import read_peak_intervals
from chipsr.io.tables import json_text, markdown_table, tsv_text
from chipsr.io.tracks import BigWigFile, bin_range, read_binned

log = logging.getLogger(__name__)

__all__ = [
    "PEAK_FOLD",
    "PEAK_RULE",
    "SMOOTHED_NAME",
    "SUBSETS",
    "read_binned",
    "parse_tracks",
    "call_peaks",
    "evaluate",
]

#: Fold enrichment over the mean of the evaluated bins above which a truth bin is a called peak.
PEAK_FOLD = 5.0
#: a single-seed model's track, ``METHOD.seedN`` (the report folds these into mean +- sd)
SEED_TRACK = re.compile(r"^(?P<base>.+)\.seed(?P<seed>\d+)$")
#: The peak-calling rule, as recorded in the outputs when no ``peaks`` BED is given.
PEAK_RULE = (
    f"truth >= {PEAK_FOLD:g} x mean(truth over the evaluated, non-blacklisted bins) "
    "(fold enrichment over a uniform background, per bin)"
)
#: Name of the extra row holding the Gaussian-smoothed noisy input.
SMOOTHED_NAME = "smoothed input"
#: Name of the extra row holding the Gaussian-smoothed reference (another sample's deep track).
SMOOTHED_REFERENCE_NAME = "smoothed reference"


def differential_r(track: np.ndarray, truth: np.ndarray, reference: np.ndarray) -> float:
    """Pearson r between (track - reference) and (truth - reference), each in fold enrichment
    over its own mean on the given bins (issue 12): does a method recover what is specific to
    the new sample, rather than copy the related sample's deep track? The reference itself
    scores NaN (its difference is zero); the reference plus independent noise scores about 0.

    Parameters
    ----------
    track, truth, reference : ndarray, shape (n,)
        The same n evaluated bins.
    """
    from chipsr.core.metrics import pearson_r

    def fe(v):
        m = float(np.mean(v))
        return v / m if m > 0 else v

    ref = fe(reference.astype(np.float64))
    return float(pearson_r(fe(track.astype(np.float64)) - ref, fe(truth.astype(np.float64)) - ref))
#: Metric subsets, in output order.
SUBSETS = ("all", "peaks", "background")

#: name of a raw track of the depth series: ``raw 4x`` = the input's reads x 4
DEPTH_NAME = "raw {:g}x"


def equivalent_depth(multiples: Sequence[float], rs: Sequence[float], r: float) -> tuple[float, str]:
    """The read depth at which a raw track would reach Pearson r ``r`` (issue 11's depth equivalence).

    Linear interpolation of r against log2(depth multiple) between the raw tracks of the series
    (depths as multiples of the input's reads, e.g. 1, 2, 4, 8, 16); the r values are made
    non-decreasing with depth first (a running maximum), so noise in one point cannot give two
    answers.

    Parameters
    ----------
    multiples : sequence of float
        Depth multiples of the raw tracks (> 0), any order.
    rs : sequence of float
        Their Pearson r against the full-depth truth (None/NaN entries are dropped).
    r : float
        The r of the track to place (e.g. a denoised track at 1x).

    Returns
    -------
    (float, str)
        The multiple and a bound: ``"="`` inside the series, ``">"`` above its deepest track (the
        deepest multiple is returned), ``"<"`` below its shallowest (the shallowest is returned).

    Raises
    ------
    ValueError
        Fewer than two usable points.
    """
    if r is None or not math.isfinite(r):
        raise ValueError(f"the track's r is not defined ({r})")
    pts = sorted((float(m), float(v)) for m, v in zip(multiples, rs) if v is not None and math.isfinite(v))
    if len(pts) < 2:
        raise ValueError("a depth series needs at least two raw tracks with a defined r")
    logm = np.log2([m for m, _ in pts])
    curve = np.maximum.accumulate([v for _, v in pts])
    if r > curve[-1]:
        return pts[-1][0], ">"
    if r < curve[0]:
        return pts[0][0], "<"
    # first point of the (non-decreasing) curve at or above r, interpolated from the one before
    i = int(np.searchsorted(curve, r, side="left"))
    if i == 0 or curve[i] == curve[i - 1]:
        return float(2 ** logm[i]), "="
    t = (r - curve[i - 1]) / (curve[i] - curve[i - 1])
    return float(2 ** (logm[i - 1] + t * (logm[i] - logm[i - 1]))), "="
#: Width (bp) of the locus drawn in the figure when none is given.
LOCUS_BP = 100_000
#: Scatter plots with more points than this become hexbin plots.
HEXBIN_MIN_POINTS = 5_000
#: Gaussian kernels are cut at this many sigmas (``scipy.ndimage.gaussian_filter1d``'s default).
TRUNCATE = 4.0
# ----------------------------------------------------------------------------------------------
# inputs


def parse_tracks(specs: Sequence[str]) -> dict[str, str]:
    """Parse ``NAME=PATH`` items (each spec may hold several, comma-separated) into an ordered dict.

    Parameters
    ----------
    specs : sequence of str
        e.g. ``["noisy=low.bw,tfilm=denoised.bw"]`` or ``["noisy=low.bw", "tfilm=denoised.bw"]``.
        Paths containing commas are not supported.

    Returns
    -------
    dict of str to str
        Track name -> path, in the order given.

    Raises
    ------
    ChipsrInputError
        An item without ``NAME=``, an empty name or path, a name used twice, or no items at all.
    """
    from chipsr.tasks.chipseq.data import parse_named_tracks

    return {name: str(path) for name, path in parse_named_tracks(specs, require_names=True, option="--tracks").items()}


def _as_region(value: str | Region, what: str) -> Region:
    if isinstance(value, Region):
        return value
    try:
        return parse_region(str(value))
    except ChipsrInputError as exc:
        raise ChipsrInputError(f"{what}: {exc}") from None


def _check_region(region: Region, sizes: Mapping[str, int], truth: Path, what: str) -> tuple[int, int]:
    """bp bounds of ``region``, which must lie inside a chromosome of the truth."""
    if region.chrom not in sizes:
        raise ChipsrInputError(f"{what} {region}: chromosome {region.chrom} is not in the truth bigWig {truth}")
    size = sizes[region.chrom]
    if region.start is None:
        return 0, size
    if region.end > size:
        raise ChipsrInputError(
            f"{what} {region}: END {region.end} is beyond the end of {region.chrom} ({size} bp in {truth})"
        )
    return region.start, region.end


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if b > a]


def _mask(ivs: dict | None, chrom: str, ranges: list[tuple[int, int]], bin_size: int, size: int) -> np.ndarray:
    """Bins of ``ranges`` (concatenated) that overlap an interval of ``ivs[chrom]``."""
    parts = []
    for b0, b1 in ranges:
        idx = np.arange(b0, b1, dtype=np.int64)
        if ivs is None or chrom not in ivs:
            parts.append(np.zeros(len(idx), dtype=bool))
        else:
            parts.append(overlaps_intervals(idx * bin_size, np.minimum((idx + 1) * bin_size, size), ivs[chrom]))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


# ----------------------------------------------------------------------------------------------
# peaks, smoothing, metrics


def call_peaks(truth: np.ndarray, valid: np.ndarray | None = None, fold: float = PEAK_FOLD) -> tuple[np.ndarray, float]:
    """Call peak bins from the truth track by fold enrichment over its mean (:data:`PEAK_RULE`).

    A bin is a peak when ``truth >= fold * mean(truth[valid])``. Why this rule: bigWig tracks hold
    mean depth, CPM or fold change, not counts, so a Poisson test (MACS's) is not defined on them;
    a fold enrichment over a uniform background (MACS's genome-wide lambda_BG, the background Coda
    normalises by) is scale-free (the same calls for raw depth, CPM or fold change) and is what
    ChIP-seq tools report as FE. At 5x it calls 2.0-2.7 % of the 25-bp bins of the MOLM-13
    H3K27ac / H3K4me1 / H3K4me3 full-depth tracks (hg19 chr22), the order of the genome fraction
    MACS2 peaks of histone marks cover. Coda (Koh et al. 2017) and AtacWorks (Lal et al. 2021)
    split their metrics by MACS2 peaks of the full-depth data: to reproduce them, call peaks with
    MACS and pass the BED as ``peaks=``.

    Parameters
    ----------
    truth : ndarray of float, shape (n_bins,)
        Truth bin values (any non-negative units).
    valid : ndarray of bool, shape (n_bins,), optional
        Bins that define the mean and may be called (e.g. not blacklisted); default all.
    fold : float
        Fold enrichment threshold (> 0).

    Returns
    -------
    (ndarray of bool, float)
        Peak mask of shape (n_bins,) (False outside ``valid``) and the threshold used (truth
        units). No bin is called when the mean is <= 0 (threshold ``inf``).
    """
    truth = np.asarray(truth, dtype=np.float64)
    valid = np.ones(truth.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    mean = float(truth[valid].mean()) if valid.any() else 0.0
    if not mean > 0:
        return np.zeros(truth.shape, dtype=bool), math.inf
    threshold = fold * mean
    return (truth >= threshold) & valid, threshold


def _smoothed(bw: BigWigFile, chrom: str, bin_size: int, b0: int, b1: int, sigma: float) -> np.ndarray:
    """Gaussian-smoothed bins ``[b0, b1)``, read with a kernel-radius margin so the edges see the
    real neighbouring signal (zeros beyond the chromosome ends)."""
    from scipy.ndimage import gaussian_filter1d

    n_chrom = -(-bw.size(chrom) // bin_size)
    pad = int(TRUNCATE * sigma + 0.5)  # gaussian_filter1d's kernel radius
    lo, hi = max(0, b0 - pad), min(n_chrom, b1 + pad)
    x = bw.binned(chrom, bin_size, lo, hi)
    return gaussian_filter1d(x, sigma, mode="constant", truncate=TRUNCATE)[b0 - lo : b0 - lo + (b1 - b0)]


def _nan_to_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _metrics(track: str, chrom: str, x: np.ndarray, y: np.ndarray, subsets: dict[str, np.ndarray],
             scale: tuple[float, float] = (1.0, 1.0)) -> list[dict]:
    """Rows of one track on one chromosome; MSE is taken between x / scale[0] and y / scale[1]
    (each track's fold enrichment over its mean on all evaluated bins: comparable across units)."""
    from chipsr.core.metrics import mse, pearson_r, spearman_r

    sx, sy = (s if s > 0 else 1.0 for s in scale)

    rows = []
    for subset in SUBSETS:
        m = subsets[subset]
        xs, ys = x[m], y[m]
        n = int(m.sum())
        if n == 0:
            r = rho = err = mean = math.nan
        else:
            r, rho, err, mean = pearson_r(xs, ys), spearman_r(xs, ys), mse(xs / sx, ys / sy), float(np.mean(xs))
        rows.append({"track": track, "chrom": chrom, "subset": subset, "n_bins": n,
                     "pearson": float(r), "spearman": float(rho), "mse": float(err), "mean": float(mean)})
    return rows


# ----------------------------------------------------------------------------------------------
# outputs

#: Columns of ``PREFIX.tsv`` (and keys of each ``metrics`` row of ``PREFIX.json``), in order.
_TSV_COLUMNS = ["track", "chrom", "subset", "n_bins", "pearson", "spearman", "mse", "mean"]


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


def _markdown(result: dict) -> str:
    """``PREFIX.md``: a paragraph on what was scored, the Pearson table (the paper's Table 2 shape:
    a row per track), then the depth-equivalence, differential-r and peak tables where ``result``
    has them."""
    rows = {(r["track"], r["chrom"], r["subset"]): r for r in result["metrics"]}
    table = []
    for track in result["track_order"]:
        a, p, b = (rows[(track, "all", s)] for s in SUBSETS)
        table.append([track, _fmt(a["pearson"]), _fmt(p["pearson"]), _fmt(b["pearson"]), _fmt(a["spearman"]),
                      _fmt(a["mse"], 4)])
    header = ["track", "Pearson r", "Pearson r (peaks)", "Pearson r (outside peaks)", "Spearman r", "MSE"]
    lines = [*_markdown_intro(result), "", markdown_table(header, table, "lrrrrr")]
    lines += _depth_equivalence_lines(result.get("depth_equivalence"))
    lines += _differential_lines(result.get("differential"))
    lines += peak_lines(result.get("peak_scores"))
    return "\n".join(lines) + "\n"


def _markdown_intro(result: dict) -> list[str]:
    """The title and the paragraph on the bins, the peaks and the smoothing of ``PREFIX.md``."""
    peaks = result["peaks"]
    regions = result["regions"]
    where = ", ".join(regions) if len(regions) <= 5 else f"{', '.join(regions[:5])}, ... ({len(regions)} regions)"
    text = (f"Bins of {result['bin_size']} bp over {where}: {result['n_bins']} bins "
            f"evaluated ({result['n_bins_blacklisted']} blacklisted bins excluded). "
            f"Peaks: {peaks['rule']}; {100 * peaks['fraction']:.2f} % of the bins.")
    if result["smoothing"] is not None:
        s = result["smoothing"]
        text += (f" Smoothed input: {s['input']} with a Gaussian of sigma {s['sigma']:g} bins, "
                 f"chosen on {s['select_region']}.")
    return [f"# chipsr evaluate: Pearson r against {Path(result['truth']).name}", "", text]


def _depth_equivalence_lines(eq: dict | None) -> list[str]:
    """Markdown lines of the depth-equivalence table (empty without a depth series)."""
    if not eq:
        return []
    text = ("Depth equivalence: the read depth (x the input's) at which the raw track would correlate "
            "with the truth as well as each track does (r interpolated against log2 depth over "
            + ", ".join(f"{k}x" for k in eq["series"]) + ").")
    table = [[name, format_depth(d)] for name, d in eq["by_track"].items()]
    return ["", text, "", markdown_table(["track", "depth equivalence"], table, "lr")]


def _differential_lines(diff: dict | None) -> list[str]:
    """Markdown lines of the differential-r table (empty without a differential reference)."""
    if not diff:
        return []
    text = (f"Differential r: Pearson r between (track - {diff['reference']}) and (truth - "
            f"{diff['reference']}), each in fold enrichment over its mean: how much of what is specific to "
            f"this sample a track recovers (the reference plus noise scores about 0).")
    table = [[name, _fmt(r)] for name, r in diff["by_track"].items()]
    return ["", text, "", markdown_table(["track", "differential r"], table, "lr")]


def peak_lines(scores: dict | None) -> list[str]:
    """Markdown lines of an evaluation's peak scores (empty without them): per track or peak set,
    peak F1, precision, recall, bp Jaccard and count, then the bins' AUPRC and AUROC."""
    if not scores:
        return []
    table = []
    for name in dict.fromkeys([*scores["by_track"], *scores["called"]]):
        c, b = scores["called"].get(name, {}), scores["by_track"].get(name, {})
        table.append([name, _fmt(c.get("f1")), _fmt(c.get("precision")), _fmt(c.get("recall")),
                      _fmt(c.get("jaccard")), str(c.get("n_called", "")), _fmt(b.get("auprc")),
                      _fmt(b.get("auroc"))])
    header = ["track or peak set", "peak F1", "precision", "recall", "bp Jaccard", "peaks", "AUPRC", "AUROC"]
    text = (f"Peaks against {Path(scores['truth']).name} (overlap >= {scores['overlap']}; bins: AUPRC / AUROC "
            f"of the track's values against bins in a truth peak, every evaluated bin):")
    return ["", text, "", markdown_table(header, table, "lrrrrrrr")]


def format_depth(d: dict | None) -> str:
    """``{"multiple": 4.2, "bound": "="}`` -> ``"4.2x"`` (``"> 16x"`` beyond the series)."""
    if not d:
        return "n/a"
    bound = "" if d["bound"] == "=" else d["bound"] + " "
    return f"{bound}{d['multiple']:.1f}x"


def _best_window(truth: np.ndarray, valid: np.ndarray, width: int) -> int:
    """Start index of the ``width``-bin window with the highest summed truth (blacklist as 0)."""
    if len(truth) <= width:
        return 0
    c = np.concatenate(([0.0], np.cumsum(np.where(valid, truth, 0.0))))
    return int(np.argmax(c[width:] - c[:-width]))


# ----------------------------------------------------------------------------------------------
# the command


@dataclass
class _Chrom:
    """Evaluated bins of one chromosome: merged grid-bin ranges and per-bin arrays over them."""

    name: str
    size: int
    ranges: list[tuple[int, int]]
    truth: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tracks: dict[str, np.ndarray] = field(default_factory=dict)
    valid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    peaks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


@dataclass
class _Selection:
    """The validation region (``smooth_select_region``): where each smoothing's sigma is chosen and
    each track's peak cutoff calibrated."""

    region: Region
    bins: tuple[int, int]  # its grid bins [s0, s1)
    sigmas: list[float]  # the candidate Gaussian sigmas (bins)


@dataclass
class _Figure:
    """What ``PREFIX.png`` draws: a locus of the tracks and the truth, and a scatter of one track."""

    locus: Region
    tracks: dict[str, np.ndarray]  # name -> bins of the locus (one per method, plus the smoothed input)
    truth: np.ndarray  # the truth's bins of the locus
    scatter_track: str
    x: np.ndarray  # the scatter track's evaluated, non-blacklisted bins
    r: float  # its overall Pearson r


def _peak_scores(chroms, names, peak_ivs, bl_ivs, region_list, sizes, bin_size, called, overlap, mode,
                 sel: _Selection | None, select_bins) -> dict:
    """Per-bin AUPRC / AUROC of each track against the truth-peak bins; peak-level scores of the peak
    sets in ``called`` (name -> (path, merged intervals)) and, with ``mode``, of peaks called on each
    track with a cutoff calibrated on the validation region ``sel``
    (:func:`chipsr.tasks.chipseq.peaks.calibrate_fold`; ``select_bins(name)``: the track's bins there)."""
    from chipsr.tasks.chipseq import peaks as pk

    valid = np.concatenate([c.valid for c in chroms])
    labels = np.concatenate([c.peaks for c in chroms])[valid]
    values = {name: np.concatenate([c.tracks[name] for c in chroms])[valid] for name in names}
    by_track = {name: pk.bin_scores(values[name], labels) for name in names}
    truth_ivs = pk.restrict(peak_ivs, region_list, sizes, bl_ivs)
    sets = {}
    for name, (path, ivs) in called.items():
        sets[name] = {"source": str(path), **pk.peak_set_scores(pk.restrict(ivs, region_list, sizes, bl_ivs),
                                                                truth_ivs, overlap)}
    if mode:
        select, s0 = sel.region, sel.bins[0]
        select_truth = pk.restrict(peak_ivs, [select], sizes, bl_ivs)
        options = {"broad": mode == "broad"}
        folds: dict[str, float] = {}
        for name in names:
            mean = float(values[name].mean()) if valid.any() else 0.0
            if not mean > 0:
                continue
            seed = SEED_TRACK.match(name)
            selection = select_bins(name)
            how = f"calibrated on {select}"
            if seed and not selection.any() and seed["base"] in folds:
                # a single-seed track written on the test region only (the workflow's denoised/seeds/):
                # it takes its ensemble's calibrated fold
                fold, how = folds[seed["base"]], f"the fold calibrated for {seed['base']} on {select}"
            elif sum(len(a) for a, _ in select_truth.values()):
                runs = pk.bins_to_runs(selection, s0, bin_size, sizes[select.chrom])
                fold, _ = pk.calibrate_fold(lambda runs=runs: [(select.chrom, *runs)], mean, select_truth, **options)
            else:
                fold = pk.DEFAULT_FOLD
                how = "the default (no truth peak to calibrate on)"
                log.warning("--call-peaks: no truth peak in %s to calibrate %s's cutoff on: fold %g", select, name, fold)
            folds[name] = fold
            found = pk.call_peaks([(c.name, *pk.bins_to_runs(c.tracks[name][i0:i0 + (b - a)], a, bin_size, c.size))
                                   for c in chroms for (a, b), i0 in zip(c.ranges, _offsets(c.ranges))],
                                  fold * mean, **options)
            scores = pk.peak_set_scores(pk.restrict(found.intervals(), region_list, sizes, bl_ivs), truth_ivs, overlap)
            sets[name] = {"source": f"{mode} peaks on the track, fold {fold:g} x its mean ({how})",
                          "fold": fold, **scores}
    return {"overlap": "1 bp" if overlap is None else f"{overlap:g} reciprocal", "mode": mode,
            "by_track": by_track, "called": sets}


def _none_for_nan(obj):
    """``obj`` with every non-finite float (at any depth of dicts and lists) replaced by None (JSON null)."""
    if isinstance(obj, dict):
        return {k: _none_for_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_none_for_nan(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _offsets(ranges: list[tuple[int, int]]) -> list[int]:
    """Start index of each bin range in the concatenated per-chromosome arrays."""
    return list(np.cumsum([0] + [b - a for a, b in ranges])[:-1])


def _auto_locus(chroms: list[_Chrom], bin_size: int) -> Region:
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


def _choose_sigma(bw_in: BigWigFile, truth_bw: BigWigFile, select: Region, bins: tuple[int, int], valid: np.ndarray,
                  bin_size: int, sigmas: list[float], name: str) -> tuple[float, dict[float, float]]:
    """The sigma of ``sigmas`` whose smoothing of ``bw_in`` best matches the truth (Pearson r) on
    the selection bins (first of equal bests), and r for each sigma."""
    from chipsr.core.metrics import pearson_r

    s0, s1 = bins
    sel_truth = truth_bw.binned(select.chrom, bin_size, s0, s1)
    by_sigma = {}
    for sigma in sigmas:
        smoothed = _smoothed(bw_in, select.chrom, bin_size, s0, s1, sigma)
        by_sigma[sigma] = float(pearson_r(smoothed, sel_truth, mask=valid))
    finite = {s: r for s, r in by_sigma.items() if math.isfinite(r)}
    if not finite:
        raise ChipsrInputError(
            f"--smooth-select-region {select}: Pearson r is undefined there for every sigma "
            f"(the truth or {name!r} is constant on it); choose another region"
        )
    return max(finite, key=lambda s: (finite[s], -sigmas.index(s))), by_sigma


def _checked_options(bin_size, tracks, depth_series, smooth_input, smooth_sigmas, smooth_select_region,
                     smooth_reference, differential_reference, call_peaks_mode, called_peaks, peaks, prefix):
    """The cheap checks of :func:`evaluate`'s options, before any track is read; reads the given peak
    sets (a bad file fails here). Returns (bin size, tracks, depth-series tracks, their multiples,
    given peak sets {name: (path, intervals)}, output paths {ext: Path}).

    Raises
    ------
    ChipsrInputError
        Naming the option and value at fault.
    """
    if isinstance(bin_size, bool) or int(bin_size) != bin_size or bin_size < 1:
        raise ChipsrInputError(f"--bin-size must be a positive number of bp, got {bin_size}")
    bin_size = int(bin_size)
    tracks = {str(k): v for k, v in tracks.items()}
    if not tracks:
        raise ChipsrInputError("--tracks: no NAME=PATH given")
    depth_tracks: dict[str, str | os.PathLike] = {}
    multiples: dict[str, float] = {}
    for k, path in (depth_series or {}).items():
        if not (isinstance(k, (int, float)) and math.isfinite(k) and k > 0):
            raise ChipsrInputError(f"--depth-series: depth multiple {k!r} must be a positive number")
        name = DEPTH_NAME.format(k)
        if name in tracks or name in depth_tracks:
            raise ChipsrInputError(f"--depth-series: the track name {name!r} is used twice")
        depth_tracks[name], multiples[name] = path, float(k)
    if depth_tracks and len(depth_tracks) < 2:
        raise ChipsrInputError("--depth-series needs at least two depths (e.g. 1=low.bw,2=x2.bw)")
    for name in tracks:
        if not name.strip() or any(c in name for c in "\t\n\r|"):
            raise ChipsrInputError(f"--tracks: track name {name!r} must be non-empty, without tabs, newlines or '|'")
    for option, name in (("--smooth-reference", smooth_reference), ("--differential-reference", differential_reference)):
        if name is not None and name not in tracks:
            raise ChipsrInputError(f"{option} {name!r} is not one of the --tracks names ({', '.join(tracks)})")
    if smooth_reference is not None and smooth_select_region is None:
        raise ChipsrInputError("--smooth-reference needs --smooth-select-region (a validation region)")
    if SMOOTHED_REFERENCE_NAME in tracks:
        raise ChipsrInputError(f"--tracks: the name {SMOOTHED_REFERENCE_NAME!r} is reserved for the smoothed reference")
    if smooth_input is not None:
        if smooth_input not in tracks:
            raise ChipsrInputError(
                f"--smooth-input {smooth_input!r} is not one of the --tracks names ({', '.join(tracks)})"
            )
        if SMOOTHED_NAME in tracks:
            raise ChipsrInputError(f"--tracks: the name {SMOOTHED_NAME!r} is reserved for the smoothed input row")
        if smooth_select_region is None:
            raise ChipsrInputError("--smooth-input needs --smooth-select-region (a validation region)")
        sigmas = [float(s) for s in smooth_sigmas]
        if not sigmas or not all(math.isfinite(s) and s > 0 for s in sigmas):
            raise ChipsrInputError(f"--smooth-sigmas must be positive numbers of bins, got {list(smooth_sigmas)}")
    if call_peaks_mode not in (None, "narrow", "broad"):
        raise ChipsrInputError(f"--call-peaks must be narrow or broad, got {call_peaks_mode!r}")
    if (call_peaks_mode or called_peaks) and peaks is None:
        raise ChipsrInputError("--call-peaks and --called need --peaks (the truth peak file)")
    if call_peaks_mode and smooth_select_region is None:
        raise ChipsrInputError("--call-peaks needs --smooth-select-region (the validation region where each "
                               "track's peak cutoff is calibrated)")
    called_peaks = {str(k): v for k, v in (called_peaks or {}).items()}
    called_ivs = {}  # read once, here: a bad peak file fails before any work
    for name, path in called_peaks.items():
        if name in tracks:
            raise ChipsrInputError(f"--called: the name {name!r} is also a track name")
        called_ivs[name] = (path, read_peak_intervals(path))
    prefix = str(prefix)
    outputs = {ext: Path(f"{prefix}.{ext}") for ext in ("tsv", "json", "md", "png")}
    for p in outputs.values():
        check_output_path(p)

    return bin_size, tracks, depth_tracks, multiples, called_ivs, outputs


def _metric_rows(chroms, order: list[str], all_truth: np.ndarray, all_valid: np.ndarray) -> list[dict]:
    """Every track's metric rows (:func:`_metrics`), per chromosome and over all of them ("all"), for
    all bins, in-peak bins and background bins."""
    rows: list[dict] = []
    all_peaks = np.concatenate([c.peaks for c in chroms])
    truth_mean = float(all_truth[all_valid].mean()) if all_valid.any() else 1.0
    for name in order:
        x = np.concatenate([c.tracks[name] for c in chroms])
        scale = (float(x[all_valid].mean()) if all_valid.any() else 1.0, truth_mean)
        for c in chroms:
            rows += _metrics(name, c.name, c.tracks[name], c.truth,
                             {"all": c.valid, "peaks": c.peaks, "background": c.valid & ~c.peaks}, scale)
        if len(chroms) == 1:  # "all" is that chromosome: copy its rows
            rows += [{**r, "chrom": "all"} for r in rows[-len(SUBSETS):]]
            continue
        rows += _metrics(name, "all", x, all_truth,
                         {"all": all_valid, "peaks": all_peaks, "background": all_valid & ~all_peaks}, scale)
    return rows


def _depth_equivalence(rows: list[dict], order: list[str], depth_tracks: dict, multiples: dict) -> dict:
    """Each track's equivalent depth (:func:`equivalent_depth`) against the raw depth series' overall r.

    Raises
    ------
    ChipsrInputError
        The series cannot be interpolated (``--depth-series``).
    """
    overall = {r["track"]: r["pearson"] for r in rows if r["chrom"] == "all" and r["subset"] == "all"}
    series = {multiples[n]: overall[n] for n in depth_tracks}
    by_track = {}
    for name in order:
        if name in depth_tracks or overall.get(name) is None or not math.isfinite(overall[name]):
            continue  # a constant track has no r, so no depth equivalence
        try:
            m, bound = equivalent_depth(list(series), list(series.values()), overall[name])
        except ValueError as exc:
            raise ChipsrInputError(f"--depth-series: {exc}") from None
        by_track[name] = {"multiple": m, "bound": bound}
    return {"series": {f"{k:g}": _nan_to_none(v) for k, v in series.items()}, "by_track": by_track}


def _open_bigwigs(stack: contextlib.ExitStack, truth: str | os.PathLike,
                  tracks: Mapping[str, str | os.PathLike]) -> tuple[BigWigFile, dict[str, BigWigFile]]:
    """The truth's and each track's bigWig, opened in that order (closed with ``stack``).

    Raises
    ------
    ChipsrInputError
        A missing or non-bigWig file (named).
    """
    truth_bw = BigWigFile(truth, "truth bigWig")
    stack.callback(truth_bw.close)
    track_bws: dict[str, BigWigFile] = {}
    for name, path in tracks.items():
        bw = BigWigFile(path, f"track {name!r} bigWig")
        stack.callback(bw.close)
        track_bws[name] = bw
    return truth_bw, track_bws


def _evaluated_chroms(regions, sizes: Mapping[str, int], truth: Path,
                      bin_size: int) -> tuple[list[Region], list[_Chrom]]:
    """The regions to evaluate (default: every chromosome of the truth) and, per chromosome, their
    merged grid-bin ranges (no arrays read yet).

    Raises
    ------
    ChipsrInputError
        A region that does not parse, whose chromosome is not in the truth or whose END is beyond
        it; no bin to evaluate.
    """
    if isinstance(regions, (str, Region)):
        regions = [regions]
    region_list = [_as_region(r, "--region") for r in regions] if regions else [Region(c) for c in sizes]
    per_chrom: dict[str, list[tuple[int, int]]] = {}
    for region in region_list:
        start, end = _check_region(region, sizes, truth, "--region")
        per_chrom.setdefault(region.chrom, []).append(bin_range(start, end, bin_size))
    chroms = [_Chrom(c, sizes[c], _merge_ranges(r)) for c, r in per_chrom.items()]
    chroms = [c for c in chroms if c.ranges]
    if not chroms:
        raise ChipsrInputError(f"--region: no bins to evaluate in {', '.join(map(str, region_list))}")
    return region_list, chroms


def _selection(smooth_select_region, smooth_sigmas: Sequence[float], sizes: Mapping[str, int], truth: Path,
               chroms: list[_Chrom], bin_size: int) -> _Selection:
    """The validation region, its grid bins and the candidate sigmas.

    Raises
    ------
    ChipsrInputError
        A sigma that is not a positive number; a region that does not parse or lies outside the
        truth's chromosomes; one that shares a bin with an evaluated region.
    """
    sigmas = [float(x) for x in smooth_sigmas]
    if not sigmas or not all(math.isfinite(x) and x > 0 for x in sigmas):
        raise ChipsrInputError(f"--smooth-sigmas must be positive numbers of bins, got {list(smooth_sigmas)}")
    select = _as_region(smooth_select_region, "--smooth-select-region")
    s0, s1 = bin_range(*_check_region(select, sizes, truth, "--smooth-select-region"), bin_size)
    for c in chroms:
        if c.name == select.chrom and any(a < s1 and s0 < b for a, b in c.ranges):
            raise ChipsrInputError(
                f"--smooth-select-region {select} overlaps the evaluated region(s) on {c.name} "
                f"(at {bin_size}-bp bins): choose a disjoint validation region"
            )
    return _Selection(select, (s0, s1), sigmas)


def _given_locus(locus, sizes: Mapping[str, int], truth: Path) -> Region | None:
    """``locus`` as a Region with bp bounds (None when not given).

    Raises
    ------
    ChipsrInputError
        It does not parse or lies outside the truth's chromosomes.
    """
    if locus is None:
        return None
    region = _as_region(locus, "--locus")
    lo, hi = _check_region(region, sizes, truth, "--locus")
    return Region(region.chrom, lo, hi)


def _check_track_chroms(track_bws: dict[str, BigWigFile], truth_bw: BigWigFile, needed: list[str]) -> None:
    """Every track gives each chromosome the truth's length and has the ``needed`` chromosomes.

    Raises
    ------
    ChipsrInputError
        Naming the track, the truth and the chromosome.
    """
    sizes = truth_bw.chroms
    for bw in track_bws.values():
        for chrom, length in bw.chroms.items():
            if chrom in sizes and sizes[chrom] != length:
                raise ChipsrInputError(
                    f"{bw.path}: chromosome {chrom} is {length} bp but {sizes[chrom]} bp in the truth "
                    f"{truth_bw.path} (a different genome build?)"
                )
        for chrom in needed:
            if chrom not in bw.chroms:
                raise ChipsrInputError(
                    f"{bw.path}: chromosome {chrom} of the truth {truth_bw.path} is not in this track"
                )


def _read_bins(chroms: list[_Chrom], truth_bw: BigWigFile, track_bws: dict[str, BigWigFile], bl_ivs: dict | None,
               bin_size: int) -> None:
    """Fill each chromosome's truth, track and non-blacklisted (``valid``) bins; warn where the truth
    is 0 over a whole chromosome's evaluated bins."""
    for c in chroms:
        c.truth = np.concatenate([truth_bw.binned(c.name, bin_size, a, b) for a, b in c.ranges])
        for name, bw in track_bws.items():
            c.tracks[name] = np.concatenate([bw.binned(c.name, bin_size, a, b) for a, b in c.ranges])
        c.valid = ~_mask(bl_ivs, c.name, c.ranges, bin_size, c.size)
    log.info("read %d tracks and the truth over %d bins", len(track_bws), sum(len(c.truth) for c in chroms))
    empty = [c.name for c in chroms if not c.truth.any()]
    if empty:
        log.warning("the truth %s is 0 over every evaluated bin of %d chromosome(s) (%s); "
                    "use --region to evaluate only where it has signal",
                    truth_bw.path, len(empty), ", ".join(empty[:5]) + (", ..." if len(empty) > 5 else ""))


def _mark_peaks(chroms: list[_Chrom], peaks, peak_ivs: dict | None, all_truth: np.ndarray, all_valid: np.ndarray,
                bin_size: int) -> dict:
    """Fill each chromosome's peak bins: those overlapping a peak of ``peaks`` or, without it, called
    from the truth (:data:`PEAK_RULE`); blacklisted bins are never peaks. Returns the ``peaks`` entry
    of the result (source, file, rule, threshold, n_bins, fraction)."""
    if peak_ivs is not None:
        for c in chroms:
            c.peaks = _mask(peak_ivs, c.name, c.ranges, bin_size, c.size) & c.valid
        peak_info = {"source": "file", "file": str(peaks),
                     "rule": f"bins overlapping a peak of {peaks}", "threshold": None}
    else:
        _, threshold = call_peaks(all_truth, all_valid)
        for c in chroms:
            c.peaks = (c.truth >= threshold) & c.valid
        peak_info = {"source": "called", "file": None, "rule": PEAK_RULE, "fold": PEAK_FOLD,
                     "threshold": _nan_to_none(threshold)}
    n_valid = int(all_valid.sum())
    n_peaks = int(sum(int(c.peaks.sum()) for c in chroms))
    peak_info.update(n_bins=n_peaks, fraction=n_peaks / n_valid if n_valid else 0.0)
    log.info("peaks: %s (%d of %d bins)", peak_info["rule"], n_peaks, n_valid)
    if peak_ivs is not None and n_peaks == 0:
        log.warning("%s: no peak in the evaluated regions: the in-peak scores are undefined (n/a)", peaks)
    return peak_info


def _add_smoothed(chroms: list[_Chrom], sources: dict[str, str | None], track_bws: dict[str, BigWigFile],
                  truth_bw: BigWigFile, sel: _Selection | None, bl_ivs: dict | None, bin_size: int) -> dict[str, dict]:
    """Add the Gaussian-smoothed rows: ``sources`` maps a row name (:data:`SMOOTHED_NAME`,
    :data:`SMOOTHED_REFERENCE_NAME`) to the track it smooths, or None for no such row; each sigma is
    chosen on ``sel`` (:func:`_choose_sigma`). Returns row -> the smoothing's description (input,
    sigmas, select_region, pearson_by_sigma, sigma), in the order of ``sources``.

    Raises
    ------
    ChipsrInputError
        Pearson r is undefined on the validation region for every sigma.
    """
    smoothings = {}
    for row, source in sources.items():
        if source is None:
            continue
        bw_in = track_bws[source]
        select = sel.region
        sel_valid = ~_mask(bl_ivs, select.chrom, [sel.bins], bin_size, truth_bw.chroms[select.chrom])
        best, by_sigma = _choose_sigma(bw_in, truth_bw, select, sel.bins, sel_valid, bin_size, sel.sigmas, source)
        for c in chroms:
            c.tracks[row] = np.concatenate([_smoothed(bw_in, c.name, bin_size, a, b, best) for a, b in c.ranges])
        smoothings[row] = {"input": source, "sigmas": sel.sigmas, "select_region": str(select),
                           "pearson_by_sigma": {f"{x:g}": _nan_to_none(r) for x, r in by_sigma.items()},
                           "sigma": best}
        log.info("%s: %s, sigma %g bins (r %.4f on %s)", row, source, best, by_sigma[best], select)
    return smoothings


def _differential(chroms: list[_Chrom], reference: str | None, order: list[str], all_truth: np.ndarray,
                  all_valid: np.ndarray) -> dict | None:
    """The result's ``differential`` entry: each track's :func:`differential_r` against ``reference``
    over the evaluated, non-blacklisted bins (None without a reference)."""
    if reference is None:
        return None
    ref_all = np.concatenate([c.tracks[reference] for c in chroms])[all_valid]
    truth_valid = all_truth[all_valid]
    return {"reference": reference, "by_track": {
        name: _nan_to_none(differential_r(np.concatenate([c.tracks[name] for c in chroms])[all_valid],
                                          truth_valid, ref_all)) for name in order}}


def _selection_bins(name: str, track_bws: dict[str, BigWigFile], smoothings: dict[str, dict], sel: _Selection,
                    bin_size: int) -> np.ndarray:
    """Bins of track ``name`` (or of a smoothed row) on the validation region."""
    s0, s1 = sel.bins
    if name in smoothings:
        src = smoothings[name]
        return _smoothed(track_bws[src["input"]], sel.region.chrom, bin_size, s0, s1, src["sigma"])
    return track_bws[name].binned(sel.region.chrom, bin_size, s0, s1)


def _figure(chroms: list[_Chrom], tracks: Mapping, track_bws: dict[str, BigWigFile], truth_bw: BigWigFile,
            locus: Region | None, smoothing: dict | None, rows: list[dict], all_valid: np.ndarray,
            bin_size: int) -> _Figure:
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
        locus_tracks[SMOOTHED_NAME] = _smoothed(track_bws[smoothing["input"]], locus.chrom, bin_size,
                                                lb0, lb1, smoothing["sigma"])
    truth_locus = truth_bw.binned(locus.chrom, bin_size, lb0, lb1)
    last = "tfilm" if "tfilm" in tracks else methods[-1]
    x_last = np.concatenate([c.tracks[last] for c in chroms])[all_valid]
    r_last = next(r["pearson"] for r in rows if (r["track"], r["chrom"], r["subset"]) == (last, "all", "all"))
    return _Figure(locus, locus_tracks, truth_locus, last, x_last, r_last)


def _write_outputs(outputs: dict[str, Path], rows: list[dict], result: dict, figure: _Figure, truth_valid: np.ndarray,
                   bin_size: int) -> None:
    """Write ``PREFIX.{tsv,json,md,png}`` together: each to a temporary file, all renamed only once
    every one is written (none appears on error)."""
    from chipsr.io.atomic import atomic_output
    from chipsr.plots import evaluation_figure

    with contextlib.ExitStack() as out:
        tmp = {ext: out.enter_context(atomic_output(p)) for ext, p in outputs.items()}
        tmp["tsv"].write_text(tsv_text(rows, "%.6g", _TSV_COLUMNS, na_rep="nan"), encoding="utf-8")
        tmp["json"].write_text(json_text(result, indent=2, allow_nan=False))
        tmp["md"].write_text(_markdown(result))
        evaluation_figure(tmp["png"], figure.locus, figure.tracks, figure.truth, bin_size, figure.scatter_track,
                          figure.x, truth_valid, _fmt(figure.r), hexbin_min=HEXBIN_MIN_POINTS)
    log.info("wrote %s", ", ".join(str(p) for p in outputs.values()))


def evaluate(
    truth: str | os.PathLike,
    tracks: Mapping[str, str | os.PathLike],
    prefix: str | os.PathLike,
    regions: Sequence[str | Region] | None = None,
    blacklist: str | os.PathLike | None = None,
    peaks: str | os.PathLike | None = None,
    *,
    bin_size: int,
    smooth_input: str | None = None,
    smooth_sigmas: Sequence[float],
    smooth_select_region: str | Region | None,
    locus: str | Region | None,
    depth_series: Mapping[float, str | os.PathLike] | None = None,
    smooth_reference: str | None = None,
    differential_reference: str | None = None,
    call_peaks_mode: str | None,
    called_peaks: Mapping[str, str | os.PathLike] | None = None,
    peak_overlap: float | None,
) -> dict:
    """Score tracks against a deep-sequencing truth bigWig; write PREFIX.{tsv,json,md,png}.

    Each track and the truth are read at ``bin_size`` resolution (:func:`read_binned`). Over the
    evaluated bins (those of ``regions``, minus bins overlapping ``blacklist``), Pearson r (the
    TFiLM paper's metric, Birnbaum et al. 2019, Table 2), Spearman r and MSE of each track against
    the truth are computed per chromosome and over all chromosomes together (``chrom = "all"``),
    for all bins, bins inside peaks and bins outside peaks ("background"), as Coda (Koh et al.
    2017) and AtacWorks (Lal et al. 2021) report them. Peaks come from ``peaks`` (bins overlapping
    a BED interval) or, without it, from :func:`call_peaks` (:data:`PEAK_RULE`) on the truth.
    MSE is between fold enrichments (each track and the truth divided by its own mean over all
    evaluated bins), so tracks in different units (raw depth, CPM, a model's fold enrichment)
    compare fairly; Pearson and Spearman r do not depend on scale.

    With ``smooth_input``, the named track is also smoothed with a Gaussian
    (``scipy.ndimage.gaussian_filter1d``, ``mode="constant"``, i.e. zeros beyond the chromosome
    ends; the kernel sees the real signal beyond a region's edges) whose sigma (bins) is the one of
    ``smooth_sigmas`` with the highest Pearson r against the truth on ``smooth_select_region`` (a
    validation region disjoint from ``regions``; blacklisted bins excluded; the first of equal
    bests); the smoothed track is scored as the extra row :data:`SMOOTHED_NAME`.

    Parameters
    ----------
    truth : path
        bigWig of the deep-sequencing (high-depth) track; its header defines the genome.
    tracks : mapping of str to path
        Track name -> bigWig, in table order (e.g. ``{"noisy": ..., "tfilm": ...}``); the last
        one is drawn against the truth in the scatter plot. Every track must give each chromosome
        the truth's length.
    prefix : path
        Output prefix: writes ``PREFIX.tsv``, ``PREFIX.json``, ``PREFIX.md``, ``PREFIX.png``.
    regions : sequence of str or Region, optional
        ``CHR`` or ``CHR:START-END`` (1-based inclusive); bins of the genome grid overlapping them
        (overlaps merged). Default: every chromosome of the truth bigWig.
    blacklist : path, optional
        BED of regions whose overlapping bins are excluded from every metric.
    peaks : path, optional
        BED of peaks (e.g. MACS2 peaks of the full-depth data); bins overlapping one are "peaks".
    bin_size : int
        Bin width in bp, >= 1.
    smooth_input : str, optional
        Name of one of ``tracks`` (the noisy low-depth input) to add as a smoothed row.
    smooth_sigmas : sequence of float
        Candidate Gaussian sigmas, in bins (> 0).
    smooth_reference : str, optional
        Name of one of ``tracks`` (a related sample's deep track, the reference baseline) to add
        as the row :data:`SMOOTHED_REFERENCE_NAME`, its sigma chosen the same way.
    differential_reference : str, optional
        Name of one of ``tracks``: every track also gets its :func:`differential_r` against it
        over all evaluated bins (result key ``differential``).
    smooth_select_region : str or Region, optional
        ``CHR:START-END`` where sigma is chosen; required with ``smooth_input``; must not share a
        bin with ``regions``.
    locus : str or Region, optional
        Region drawn in the figure; default the ``LOCUS_BP`` (100-kb) window of the evaluated bins
        with the highest summed truth.
    depth_series : mapping of float to path, optional
        Raw (undenoised) coverage of the same sample at several depths, as multiples of the input's
        reads (e.g. ``{1: low.bw, 2: x2.bw, 4: x4.bw}``): each is scored as the row ``raw Kx``, and
        every other track gets its **depth equivalence** (:func:`equivalent_depth`): the depth at
        which the raw track would correlate with the truth as well as it does (result key
        ``depth_equivalence``).

    call_peaks_mode : {"narrow", "broad"}, optional
        With ``peaks`` (a truth peak file): also call peaks on every track (MACS3's track caller,
        :mod:`chipsr.tasks.chipseq.peaks`), each with its own cutoff calibrated on
        ``smooth_select_region`` (best peak F1 against ``peaks`` there), and score them on the
        evaluated regions.
    called_peaks : mapping of name to path, optional
        Peak files to score against ``peaks`` as they are (e.g. ``macs3 callpeak`` on the low-depth
        reads at several thresholds).
    peak_overlap : float, optional
        A peak matches when it overlaps by >= this fraction of both lengths [default: >= 1 bp].

    Returns
    -------
    dict
        The content of ``PREFIX.json``: ``metrics`` (list of rows with keys track, chrom, subset,
        n_bins, pearson, spearman, mse, mean (the track's mean over the bins); ``None`` where a
        metric is undefined, e.g. a constant track), ``track_order``, ``truth``, ``tracks``,
        ``regions``, ``bin_size``, ``n_bins``
        (evaluated, non-blacklisted), ``n_bins_blacklisted``, ``blacklist``, ``peaks`` (source,
        file, rule, threshold, n_bins, fraction), ``smoothing`` (input, sigmas,
        pearson_by_sigma, sigma, select_region; or ``None``), ``locus``, ``outputs``, and
        ``peak_scores`` (with a ``peaks`` file: ``by_track`` AUPRC / AUROC of every track's bins
        against the truth-peak bins, ``called`` the peak-level precision / recall / F1 / bp
        Jaccard of each called or given peak set; else ``None``).

    Notes
    -----
    This function is longer than the others here for its docstring (every option) and for the
    result, whose keys it lists in ``PREFIX.json``'s order; each step is a helper:
    :func:`_checked_options`, :func:`_open_bigwigs`, :func:`_evaluated_chroms`, :func:`_selection`,
    :func:`_check_track_chroms`, :func:`_read_bins`, :func:`_mark_peaks`, :func:`_add_smoothed`,
    :func:`_differential`, :func:`_metric_rows`, :func:`_peak_scores`, :func:`_figure`,
    :func:`_depth_equivalence`, :func:`_write_outputs`.

    Raises
    ------
    ChipsrInputError
        A missing or non-bigWig file (named); a track whose chromosome sizes differ from the
        truth's or that lacks an evaluated chromosome (both files and the chromosome named); a
        region whose chromosome is absent or whose END is beyond the chromosome; a bad track name;
        ``smooth_input`` not among the tracks, without ``smooth_select_region``, or with a selection
        region that overlaps an evaluated region; non-positive sigmas or bin size; a missing
        output directory. Nothing is written then.
    """
    from chipsr import __version__

    bin_size, tracks, depth_tracks, multiples, called_ivs, outputs = _checked_options(
        bin_size, tracks, depth_series, smooth_input, smooth_sigmas, smooth_select_region, smooth_reference,
        differential_reference, call_peaks_mode, called_peaks, peaks, prefix)
    with contextlib.ExitStack() as stack:
        # ---- inputs: every check that reads only headers and small files, before any bin is read
        truth_bw, track_bws = _open_bigwigs(stack, truth, {**tracks, **depth_tracks})
        sizes = truth_bw.chroms
        region_list, chroms = _evaluated_chroms(regions, sizes, truth_bw.path, bin_size)
        sel = None
        if smooth_input is not None or smooth_reference is not None or call_peaks_mode:
            sel = _selection(smooth_select_region, smooth_sigmas, sizes, truth_bw.path, chroms, bin_size)
        locus_region = _given_locus(locus, sizes, truth_bw.path)
        extra = [sel.region if sel else None, locus_region]
        _check_track_chroms(track_bws, truth_bw, [c.name for c in chroms] + [r.chrom for r in extra if r is not None])
        bl_ivs = read_bed_intervals(blacklist) if blacklist is not None else None
        peak_ivs = read_peak_intervals(peaks) if peaks is not None else None

        # ---- the bins, the peaks, the smoothed rows
        _read_bins(chroms, truth_bw, track_bws, bl_ivs, bin_size)
        all_truth = np.concatenate([c.truth for c in chroms])
        all_valid = np.concatenate([c.valid for c in chroms])
        peak_info = _mark_peaks(chroms, peaks, peak_ivs, all_truth, all_valid, bin_size)
        smoothings = _add_smoothed(chroms, {SMOOTHED_NAME: smooth_input, SMOOTHED_REFERENCE_NAME: smooth_reference},
                                   track_bws, truth_bw, sel, bl_ivs, bin_size)
        order = [*track_bws, *smoothings]

        # ---- scores
        differential = _differential(chroms, differential_reference, order, all_truth, all_valid)
        rows = _metric_rows(chroms, order, all_truth, all_valid)
        peak_scores = None
        if peak_ivs is not None:  # AUPRC / AUROC of every track's bins; peak sets called on the tracks or given
            peak_scores = _peak_scores(chroms, [n for n in order if n not in depth_tracks], peak_ivs, bl_ivs,
                                       region_list, sizes, bin_size, called_ivs, peak_overlap, call_peaks_mode,
                                       sel, functools.partial(_selection_bins, track_bws=track_bws,
                                                              smoothings=smoothings, sel=sel, bin_size=bin_size))
            peak_scores = _none_for_nan({**peak_scores, "truth": str(peaks)})
        figure = _figure(chroms, tracks, track_bws, truth_bw, locus_region, smoothings.get(SMOOTHED_NAME), rows,
                         all_valid, bin_size)
        depth_equivalence = _depth_equivalence(rows, order, depth_tracks, multiples) if depth_tracks else None

        n_valid = int(all_valid.sum())
        result = {
            "chipsr_version": __version__,
            "truth": str(truth),
            "tracks": {name: str(p) for name, p in tracks.items()},
            "track_order": order,
            "regions": [str(r) for r in region_list],
            "bin_size": bin_size,
            "n_bins": n_valid,
            "n_bins_blacklisted": int(len(all_valid) - n_valid),
            "blacklist": None if blacklist is None else str(blacklist),
            "peaks": peak_info,
            "smoothing": smoothings.get(SMOOTHED_NAME),
            "reference_smoothing": smoothings.get(SMOOTHED_REFERENCE_NAME),
            "differential": differential,
            "peak_scores": peak_scores,
            "depth_series": {f"{multiples[n]:g}": str(p) for n, p in depth_tracks.items()},
            "depth_equivalence": depth_equivalence,
            "locus": str(figure.locus),
            "scatter_track": figure.scatter_track,
            "outputs": {ext: str(p) for ext, p in outputs.items()},
            "metrics": [{k: (_nan_to_none(v) if k in ("pearson", "spearman", "mse", "mean") else v)
                         for k, v in r.items()} for r in rows],
        }
        _write_outputs(outputs, rows, result, figure, all_truth[all_valid], bin_size)
    return result
