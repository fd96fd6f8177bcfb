"""Peaks on a track (``chipsr peaks``) and how well a peak set matches the full-depth peaks.

Calling: MACS3's own track callers, through its Python API: ``bdgpeakcall``'s
``bedGraphTrackI.call_peaks`` (narrow) and ``bdgbroadcall``'s ``call_broadpeaks`` (broad: strong
regions above ``cutoff`` linked through regions above ``low_cutoff``), MACS3 >= 3.0.4. Nothing of
the caller is re-implemented here. The track is handed to MACS3 chromosome by chromosome as a run
list with **explicit zeros** (MACS3 stores only each interval's end, so a gap in a bedGraph would take
the next interval's value and merge two peaks; checked with MACS3 3.0.4, and tested here). One
chromosome is held at a time.

The cutoff is a track value: ``fold`` x the track's genome-wide mean over its non-blacklisted
bins (:func:`chipsr.io.tracks.genome_mean`, the fold-enrichment units of ``chipsr denoise``), so
one fold serves tracks of any depth or scale. :func:`calibrate_fold` chooses the fold that makes a
track's peaks match a truth peak set best (peak F1) on a calibration region: the rule the workflow
applies to every method on the validation region. Without a fold, a cutoff or a truth to calibrate
against, :func:`default_cutoff` sets it from the track's own values (:data:`DEFAULT_RULE`): the
rule ``chipsr peaks`` applies by default and ``chipsr evaluate`` applies to the truth track for
its in-peak bins when no truth peak file is given.

Scoring (:func:`peak_set_scores`, :func:`bin_scores`): peak-level precision, recall and F1 (a
called peak is right when it overlaps a truth peak by >= 1 bp, or by a reciprocal fraction of both
lengths), base-pair Jaccard of the two sets, and AUPRC / AUROC of per-bin track values against
per-bin truth-peak labels over **all** evaluated bins (Coda scored an unseeded random sample of
bins, so its AUPRC changed run to run; AtacWorks scores all bins).
"""

from __future__ import annotations

import itertools
import logging
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.genome import Region, merge_intervals
from chipsr.tasks.chipseq.config import PeaksSettings

log = logging.getLogger(__name__)

#: the default rule's fold over the track's mean (:func:`default_cutoff`): of 4, 5, 5.5, 6, 7 and 8,
#: the fold at which the example's full-depth coverage matches MACS3 callpeak's full-depth peaks best
#: on the validation region (mean peak F1 of H3K27ac, H3K4me3, H3K4me1: benchmarks/peak_default.py)
DEFAULT_FOLD = 5.5
#: the default rule's Poisson tail probability: a cutoff of k reads is kept only where
#: P(X >= k) <= this for X ~ Poisson(the track's mean in reads) (:func:`default_cutoff`); at the
#: example's 0.1 reads per base it asks for 2 reads (P = 0.0047), from 0.15 for 3
DEFAULT_READ_P = 0.01
#: the default rule in words (recorded with the peaks it calls)
DEFAULT_RULE = (f"the larger of {DEFAULT_FOLD:g} x the track's mean and k x the median of its positive values "
                f"(one read's signal on a coverage track), k the fewest reads, at least 2, with Poisson "
                f"P(X >= k) <= {DEFAULT_READ_P:g} at the track's mean in those units")
#: broad calls: the linking cutoff is this fraction of the peak cutoff (MACS3 bdgbroadcall: -C < -c)
DEFAULT_LOW_FRACTION = 0.5
#: the folds tried by :func:`calibrate_fold` (geometric, 1.25x to 32x the genome mean)
CALIBRATION_FOLDS = tuple(round(1.25 * 2 ** (k / 4), 3) for k in range(19))
MACS3_HINT = "pip install 'macs3>=3.0.4' (Python >= 3.9; chipsr peaks uses MACS3's bdgpeakcall/bdgbroadcall)"


def require_macs3():
    """MACS3's bedGraph track class, or one clear line saying how to install MACS3.

    Raises
    ------
    ChipsrInputError
        MACS3 is not importable.
    """
    try:
        from MACS3.Signal.BedGraph import bedGraphTrackI
    except ImportError:
        raise ChipsrInputError(f"MACS3 is not installed: {MACS3_HINT}") from None
    return bedGraphTrackI


@dataclass
class PeakSet:
    """Peaks of one call, sorted by chromosome then start (0-based half-open, bp).

    ``summit`` is the absolute position of the highest run (MACS3's summit), ``value`` the track
    value there (the narrowPeak signalValue); ``blocks`` (broad calls only) lists, per peak, the
    strong (above ``cutoff``) sub-regions as ``(start, end)`` pairs for the gappedPeak format.
    """

    chrom: list[str] = field(default_factory=list)
    start: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    summit: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    blocks: list[list[tuple[int, int]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.start)

    def select(self, keep: np.ndarray) -> PeakSet:
        """The peaks where the boolean mask ``keep`` (shape (n,)) is True, in the same order."""
        idx = np.flatnonzero(keep)
        return PeakSet(*([col[i] for i in idx] for col in (self.chrom, self.start, self.end, self.summit, self.value)),
                       blocks=[self.blocks[i] for i in idx] if self.blocks else [])

    def intervals(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Merged, sorted ``(starts, ends)`` per chromosome (the layout of ``read_bed_intervals``)."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        chroms = np.asarray(self.chrom)
        for c in dict.fromkeys(self.chrom):
            sel = chroms == c
            out[c] = merge_intervals(np.asarray(self.start)[sel], np.asarray(self.end)[sel])
        return out


def _int_array(values: np.ndarray) -> array:
    """A C-int ``array.array`` (what MACS3's track stores positions in) from a numpy array."""
    out = array("i")
    out.frombytes(np.asarray(values, dtype=np.intc).tobytes())
    return out


def _float_array(values: np.ndarray) -> array:
    """A C-float ``array.array`` (MACS3's track values) from a numpy array."""
    out = array("f")
    out.frombytes(np.asarray(values, dtype=np.float32).tobytes())
    return out


def bins_to_runs(values: np.ndarray, first_bin: int, bin_size: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Bins ``[first_bin, first_bin + n)`` of a chromosome of ``size`` bp as runs from 0, the layout of
    :meth:`chipsr.io.tracks.BigWigFile.runs` that :func:`call_peaks` takes.

    ``values`` has shape (n,) (bin means); returns ``(ends, values)``: int64 run ends (bp, the last
    clipped at ``size``) and float64 values, shape (n,), or (n + 1,) with a zero run ``[0,
    first_bin * bin_size)`` first when ``first_bin > 0``."""
    ends = np.minimum((first_bin + 1 + np.arange(len(values), dtype=np.int64)) * bin_size, size)
    if first_bin > 0:
        return np.concatenate(([first_bin * bin_size], ends)), np.concatenate(([0.0], values))
    return ends, np.asarray(values, np.float64)


def call_peaks(runs: Iterable[tuple[str, np.ndarray, np.ndarray]], cutoff: float, broad: bool = False,
               low_cutoff: float | None = None, min_length: int = 200, max_gap: int = 50,
               max_link_gap: int = 800) -> PeakSet:
    """Call peaks with MACS3 on a track given chromosome by chromosome as runs.

    Parameters
    ----------
    runs : iterable of (chrom, ends, values)
        Per chromosome, the run ends (bp, increasing, the first run starting at 0) and values of a
        track with every base covered (explicit zeros): :meth:`chipsr.io.tracks.BigWigFile.runs`.
    cutoff : float
        Track value at or above which a run is in a peak (bdgpeakcall ``-c``; bdgbroadcall ``-c``).
    broad : bool
        Broad peaks (bdgbroadcall): regions above ``cutoff`` linked by regions above ``low_cutoff``.
    low_cutoff : float, optional
        Broad calls' linking cutoff (``-C``) [default: ``DEFAULT_LOW_FRACTION`` x ``cutoff``].
    min_length, max_gap, max_link_gap : int
        Minimum peak length, largest gap (bp) merged inside a peak (``-l``, ``-g``), and for broad
        calls the largest linking gap (``-G``).

    Returns
    -------
    PeakSet

    Raises
    ------
    ChipsrInputError
        Non-positive or non-finite cutoffs, ``low_cutoff >= cutoff``, ``max_link_gap <= max_gap``,
        negative lengths, or MACS3 missing.
    """
    if not (math.isfinite(cutoff) and cutoff > 0):
        raise ChipsrInputError(f"--cutoff must be a positive number (a track value), got {cutoff}")
    if broad:
        low_cutoff = DEFAULT_LOW_FRACTION * cutoff if low_cutoff is None else low_cutoff
        if not (math.isfinite(low_cutoff) and 0 < low_cutoff < cutoff):
            raise ChipsrInputError(f"--low-cutoff must be above 0 and below the cutoff {cutoff:g}, got {low_cutoff}")
        if max_link_gap <= max_gap:
            raise ChipsrInputError(f"--max-link-gap ({max_link_gap}) must exceed --max-gap ({max_gap})")
    if min_length < 1 or max_gap < 0:
        raise ChipsrInputError(f"--min-length must be >= 1 and --max-gap >= 0, got {min_length} and {max_gap}")
    track_class = require_macs3()
    out = PeakSet()
    for chrom, ends, values in runs:
        if len(ends) == 0:
            continue
        track = track_class(baseline_value=0)
        track.add_chrom_data(chrom.encode(), _int_array(ends), _float_array(values))
        if broad:
            called = track.call_broadpeaks(lvl1_cutoff=cutoff, lvl2_cutoff=low_cutoff, min_length=min_length,
                                           lvl1_max_gap=max_gap, lvl2_max_gap=max_link_gap)
        else:
            called = track.call_peaks(cutoff=cutoff, min_length=min_length, max_gap=max_gap)
        for peak in called.peaks.get(chrom.encode(), []):  # PeakIO / BroadPeakIO: sorted by start
            start, end = int(peak["start"]), int(peak["end"])
            out.chrom.append(chrom)
            out.start.append(start)
            out.end.append(end)
            if broad:
                sizes = [int(v) for v in peak["blockSizes"].decode().split(",")]
                offsets = [int(v) for v in peak["blockStarts"].decode().split(",")]
                out.blocks.append([(start + o, start + o + s) for o, s in zip(offsets, sizes)])
                out.summit.append(-1)
            else:
                out.summit.append(int(peak["summit"]))
            out.value.append(float(peak["score"]))
    return out


def cutoff_analysis(runs: Iterable[tuple[str, np.ndarray, np.ndarray]], max_score: float, steps: int = 100,
                    min_length: int = 200, max_gap: int = 50) -> str:
    """MACS3's cutoff analysis (``bdgpeakcall --cutoff-analysis``) of a track: a TSV of peak count,
    total and mean length (bp) per cutoff from 0 to ``max_score`` in ``steps`` steps, all
    chromosomes of ``runs`` together (MACS3 sums them).

    Raises
    ------
    ChipsrInputError
        MACS3 missing, or no runs.
    """
    track_class = require_macs3()
    track = track_class(baseline_value=0)
    n = 0
    for chrom, ends, values in runs:
        if len(ends):
            track.add_chrom_data(chrom.encode(), _int_array(ends), _float_array(values))
            n += 1
    if n == 0:
        raise ChipsrInputError("--cutoff-analysis: the track has no signal in the regions asked for")
    return track.cutoff_analysis(max_gap, min_length, steps=steps, min_score=0, max_score=max_score)


def _overlap_lengths(s: np.ndarray, e: np.ndarray, ts: np.ndarray, te: np.ndarray) -> np.ndarray:
    """For each interval ``[s, e)`` the largest overlap (bp) with one of the merged intervals ``[ts, te)``
    and the length of that partner: shape (n, 2)."""
    out = np.zeros((len(s), 2), np.int64)
    if len(ts) == 0:
        return out
    first = np.searchsorted(te, s, side="right")  # first truth interval ending after s
    for i in range(len(s)):
        j = first[i]
        while j < len(ts) and ts[j] < e[i]:
            ov = min(e[i], te[j]) - max(s[i], ts[j])
            if ov > out[i, 0]:
                out[i] = ov, te[j] - ts[j]
            j += 1
    return out


def _hits(a: dict, b: dict, reciprocal: float | None) -> tuple[int, int]:
    """Number of intervals of ``a`` matched by ``b`` (>= 1 bp, or reciprocal overlap), and of ``a``."""
    hit = total = 0
    for chrom, (s, e) in a.items():
        total += len(s)
        ts, te = b.get(chrom, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        ov = _overlap_lengths(s, e, ts, te)
        if reciprocal is None:
            hit += int((ov[:, 0] > 0).sum())
        else:
            ok = (ov[:, 0] >= reciprocal * (e - s)) & (ov[:, 0] >= reciprocal * ov[:, 1]) & (ov[:, 0] > 0)
            hit += int(ok.sum())
    return hit, total


def bp_jaccard(a: dict, b: dict) -> float:
    """Base-pair Jaccard index |A n B| / |A u B| of two merged interval sets (NaN when both are empty)."""
    inter = union = 0
    for chrom in set(a) | set(b):
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        (sa, ea), (sb, eb) = a.get(chrom, empty), b.get(chrom, empty)
        pos = np.concatenate([sa, ea, sb, eb])
        if len(pos) == 0:
            continue
        delta = np.concatenate([np.ones(len(sa)), -np.ones(len(ea)), np.ones(len(sb)), -np.ones(len(eb))])
        order = np.lexsort((delta, pos))  # ends before starts at one position: touching is not overlapping
        pos, depth = pos[order], np.cumsum(delta[order])
        lengths = np.diff(pos)
        inter += int(lengths[depth[:-1] >= 2].sum())
        union += int(lengths[depth[:-1] >= 1].sum())
    return inter / union if union else math.nan


def restrict(ivs: dict, regions: Sequence[Region], sizes: dict[str, int], exclude: dict | None = None) -> dict:
    """Peak intervals clipped to ``regions``, dropping every peak that overlaps ``exclude`` (the blacklist,
    as ENCODE filters peaks); merged per chromosome.

    Raises
    ------
    ChipsrInputError
        A region's chromosome missing from ``sizes``.
    """
    from chipsr.io.genome import overlaps_intervals

    out: dict[str, list] = {}
    for reg in regions:
        if reg.chrom not in sizes:
            raise ChipsrInputError(f"region {reg}: chromosome {reg.chrom} not in the truth")
        a, b = reg.bounds(sizes[reg.chrom])
        s, e = ivs.get(reg.chrom, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        keep = (e > a) & (s < b)
        s, e = np.clip(s[keep], a, b), np.clip(e[keep], a, b)
        if exclude is not None and reg.chrom in exclude and len(s):
            bad = overlaps_intervals(s, e, exclude[reg.chrom])
            s, e = s[~bad], e[~bad]
        out.setdefault(reg.chrom, []).append((s, e))
    return {c: merge_intervals(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
            for c, parts in out.items()}


def peak_set_scores(called: dict, truth: dict, reciprocal: float | None = None) -> dict:
    """Peak-level precision, recall and F1 of ``called`` against ``truth``, and their bp Jaccard.

    Both are merged interval sets (``{chrom: (starts, ends)}``, bp), already restricted to the
    evaluated regions (:func:`restrict`). Precision: fraction of called peaks that overlap a truth
    peak; recall: fraction of truth peaks overlapped by a called peak; overlap means >= 1 bp, or,
    with ``reciprocal`` = f, >= f of both peaks' lengths (bedtools ``-f f -r``).

    Returns
    -------
    dict
        ``n_called``, ``n_truth``, ``precision``, ``recall``, ``f1``, ``jaccard`` (NaN where undefined).

    Raises
    ------
    ChipsrInputError
        ``reciprocal`` outside (0, 1].
    """
    if reciprocal is not None and not 0 < reciprocal <= 1:
        raise ChipsrInputError(f"--peak-overlap must be in (0, 1], got {reciprocal}")
    tp_called, n_called = _hits(called, truth, reciprocal)
    tp_truth, n_truth = _hits(truth, called, reciprocal)
    precision = tp_called / n_called if n_called else math.nan
    recall = tp_truth / n_truth if n_truth else math.nan
    f1 = (2 * precision * recall / (precision + recall)
          if n_called and n_truth and precision + recall > 0 else (0.0 if n_truth else math.nan))
    return {"n_called": n_called, "n_truth": n_truth, "precision": precision, "recall": recall, "f1": f1,
            "jaccard": bp_jaccard(called, truth)}


def bin_scores(values: np.ndarray, labels: np.ndarray) -> dict:
    """AUPRC (average precision) and AUROC of per-bin track values against per-bin peak labels.

    Every bin given is scored (no sampling). Uses scikit-learn's ``average_precision_score`` and
    ``roc_auc_score``; NaN when the labels are all one class.

    Parameters
    ----------
    values : ndarray, shape (n,)
        Track values per bin.
    labels : ndarray of bool, shape (n,)
        True where the bin overlaps a truth peak.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    labels = np.asarray(labels, bool)
    if labels.all() or not labels.any():
        return {"auprc": math.nan, "auroc": math.nan, "positives": float(labels.mean()) if len(labels) else math.nan}
    values = np.asarray(values, np.float64)
    return {"auprc": float(average_precision_score(labels, values)), "auroc": float(roc_auc_score(labels, values)),
            "positives": float(labels.mean())}


def _rounded(values: np.ndarray) -> np.ndarray:
    """``values`` with their binary mantissa rounded to 12 bits (relative error < 1.3e-4; whole numbers
    below 4096 and powers of two unchanged), so that a continuous track has few distinct values."""
    mantissa, exponent = np.frexp(values)
    return np.ldexp(np.round(mantissa * 4096) / 4096, exponent)


def positive_median(chunks: Iterable[tuple[np.ndarray, np.ndarray | None]]) -> float:
    """The weighted median of a track's positive values: on a coverage track, the signal of one read.

    At the depths where a read floor matters, most covered bins of a coverage track hold one read,
    so the median of the positive values is one read's signal in the track's units (1 for mean
    depth, 1e6 / N for CPM); on a denoised track it is the background level. Values are pooled
    after rounding their mantissa to 12 bits (a relative error below 1.3e-4; whole numbers stay
    exact), so a genome's worth of chunks takes little memory.

    Parameters
    ----------
    chunks : iterable of (values, weights)
        Track values, ndarray of shape (n,), and their weights, shape (n,) (bp lengths of runs), or
        None for a weight of 1 each (bins); zero and negative values are left out.

    Returns
    -------
    float
        The smallest positive value v such that the values <= v hold at least half of the positive
        values' weight; NaN when no value is positive.
    """
    pooled_v, pooled_w = np.zeros(0), np.zeros(0)
    for values, weights in chunks:
        values = np.asarray(values, np.float64)
        weights = np.ones(len(values)) if weights is None else np.asarray(weights, np.float64)
        keep = values > 0
        v, inv = np.unique(np.concatenate([pooled_v, _rounded(values[keep])]), return_inverse=True)
        pooled_w = np.bincount(inv, weights=np.concatenate([pooled_w, weights[keep]]), minlength=len(v))
        pooled_v = v
    if not len(pooled_v) or not pooled_w.sum() > 0:
        return math.nan
    cum = np.cumsum(pooled_w)
    return float(pooled_v[int(np.searchsorted(cum, cum[-1] / 2))])


def default_cutoff(mean: float, unit: float, fold: float = DEFAULT_FOLD, p: float = DEFAULT_READ_P) -> dict:
    """The default cutoff of a track, from its own values (:data:`DEFAULT_RULE`).

    ``cutoff = max(fold * mean, k * unit)``: ``fold`` x the track's mean (a fold enrichment over a
    uniform background, the units of ``chipsr denoise``), but never below ``k`` reads, ``unit``
    being one read's signal (:func:`positive_median`) and ``k`` the fewest reads whose Poisson tail
    P(X >= k), X ~ Poisson(mean / unit), is at most ``p`` (MACS's background model, Zhang et al.,
    Genome Biology 9:R137, 2008, with the track's own mean as lambda), and at least 2 (one read is
    no evidence of enrichment, however sparse the track). On a low-depth coverage track the read
    floor sets the cutoff (at 0.1 reads per base one read is 10 x the mean, so a fold alone would
    call every read); on a deep or denoised track the fold does.

    Measured on the example's MOLM-13 chr22 tracks (``benchmarks/peak_default.py``; test region,
    peak F1 against ``macs3 callpeak`` on the full-depth reads): within 0.05 of the fold calibrated
    on the validation region for H3K27ac, H3K4me3 (narrow) and H3K4me1 (broad), on the 16,600-read
    coverage and on its denoised track. At other depths the read floor is coarser (whole reads):
    broad marks at 4x the reads and narrow ones at 0.5x fall further behind the calibrated fold.

    Parameters
    ----------
    mean : float
        The track's mean (its genome-wide mean over non-blacklisted bins, track units).
    unit : float
        The median of its positive values (:func:`positive_median`); NaN or <= 0: no read floor.
    fold, p : float
        The rule's constants [default: :data:`DEFAULT_FOLD`, :data:`DEFAULT_READ_P`].

    Returns
    -------
    dict
        ``cutoff`` (track units), ``fold`` (``cutoff / mean``), ``mean``, ``unit``, ``reads`` (k, or
        None without a floor), ``rule`` (the rule with its numbers, in words).

    Raises
    ------
    ChipsrInputError
        ``mean`` is not a positive number (a track without signal has no default cutoff).
    """
    from scipy.stats import poisson

    if not (math.isfinite(mean) and mean > 0):
        raise ChipsrInputError(f"the track's mean is {mean}: no default cutoff (a track without signal?)")
    floor, reads, rule = 0.0, None, f"{fold:g} x the mean {mean:.4g}"
    if math.isfinite(unit) and unit > 0:
        reads = max(2, int(poisson.isf(p, mean / unit)) + 1)  # isf: the smallest k with P(X > k) <= p
        floor = reads * unit
        rule = (f"the larger of {rule} and {reads} reads x {unit:.4g} (Poisson P(X >= {reads}) = "
                f"{poisson.sf(reads - 1, mean / unit):.2g} at a mean of {mean / unit:.3g} reads)")
    cutoff = max(fold * mean, floor)
    return {"cutoff": cutoff, "fold": cutoff / mean, "mean": mean, "unit": None if reads is None else unit,
            "reads": reads, "rule": f"the default rule, {rule}"}


def calibrate_fold(runs_of_region, mean: float, truth: dict, folds: Sequence[float] = CALIBRATION_FOLDS,
                   **call_options) -> tuple[float, list[dict]]:
    """The fold (x the track's genome-wide mean) whose peaks match ``truth`` best on a region.

    Rule: the fold with the highest peak F1 (>= 1 bp overlap) against ``truth`` on the calibration
    region; ties go to the higher fold (fewer peaks). When no fold calls a peak that matches (the
    track has no signal there, e.g. it was not denoised on that region), the fold is None: the highest
    fold would call nothing anywhere, so callers fall back to the default rule and say so.

    Parameters
    ----------
    runs_of_region : callable
        ``runs_of_region()`` -> iterable of ``(chrom, ends, values)`` over the calibration region only.
    mean : float
        The track's genome-wide mean (the unit of the fold).
    truth : dict
        Truth peaks restricted to the calibration region (:func:`restrict`).
    folds : sequence of float
        Candidate folds.
    **call_options
        Passed to :func:`call_peaks` (``broad``, ``min_length``, ...).

    Returns
    -------
    (fold, table)
        The chosen fold (None when no fold matches a truth peak) and one dict per candidate
        (``fold``, ``cutoff``, and the :func:`peak_set_scores` keys).

    Raises
    ------
    ChipsrInputError
        No truth peak in the calibration region.
    """
    if not sum(len(s) for s, _ in truth.values()):
        raise ChipsrInputError("--truth-peaks: the truth peak set has no peak in the validation region (--valid-region)")
    regions = list(runs_of_region())
    table = []
    for fold in folds:
        called = call_peaks(regions, fold * mean, **call_options)
        table.append({"fold": float(fold), "cutoff": fold * mean, **peak_set_scores(called.intervals(), truth)})
    best = max(table, key=lambda row: (-1.0 if math.isnan(row["f1"]) else row["f1"], row["fold"]))
    return (best["fold"] if best["f1"] > 0 else None), table


def calibrate_prediction(prediction: np.ndarray, first_bin: int, bin_size: int, chrom: str, size: int,
                         truth: dict, broad: bool = False) -> dict:
    """The peak rule stored in a model card (``chipsr train --truth-peaks``): the fold over the mean
    (1 in fold-enrichment units) at which peaks of the model's prediction on the validation region
    match the full-depth peaks best there (:func:`calibrate_fold`).

    Parameters
    ----------
    prediction : ndarray, shape (n,)
        The model's output bins (fold enrichment) from ``first_bin`` on ``chrom`` (``size`` bp).
    truth : dict
        Truth peaks restricted to the same region (:func:`restrict`).

    Returns
    -------
    dict
        ``type`` (narrow / broad), ``fold``, ``f1_valid``, ``n_truth``, ``rule``.

    Raises
    ------
    ChipsrInputError
        No truth peak in the region.
    """
    runs = bins_to_runs(prediction, first_bin, bin_size, size)
    fold, table = calibrate_fold(lambda: [(chrom, *runs)], 1.0, truth, broad=broad)
    kind = "broad" if broad else "narrow"
    if fold is None:
        raise ChipsrInputError(f"--truth-peaks: the model's prediction on {chrom} matches no truth peak there at any "
                               f"fold: no peak rule to store")
    best = next(row for row in table if row["fold"] == fold)
    return {"type": kind, "fold": fold, "f1_valid": best["f1"], "n_truth": best["n_truth"],
            "rule": f"{kind} peaks where the denoised track >= {fold:g} x its genome-wide mean: the fold whose peaks "
                    f"matched the full-depth peaks best (peak F1 {best['f1']:.3f}) on the validation region"}


def model_peak_rule(model) -> dict:
    """The peak rule stored in a chipsr model (``chipsr train --truth-peaks``).

    Raises
    ------
    ChipsrInputError
        The model has none, or is not a chipsr ChIP-seq model (named).
    """
    from chipsr.io.checkpoint import load_checkpoint

    rule = (load_checkpoint(model, task="chipseq").get("meta") or {}).get("peaks")
    if not rule:
        raise ChipsrInputError(f"{model}: the model has no calibrated peak rule (train it with --truth-peaks "
                               f"FULL.narrowPeak), or give --fold / --cutoff")
    return rule


def _regions(bw, regions: Sequence[str | Region] | None) -> list[tuple[str, int, int]]:
    """``(chrom, start, end)`` bp of each region (default: every chromosome of the track), checked."""
    from chipsr.io.genome import parse_region

    if not regions:
        return [(c, 0, size) for c, size in bw.chroms.items()]
    out = []
    for reg in regions:
        reg = parse_region(reg) if isinstance(reg, str) else reg
        size = bw.size(reg.chrom)
        if reg.end is not None and reg.end > size:
            raise ChipsrInputError(f"region {reg}: beyond the end of {reg.chrom} ({size} bp) in {bw.path}")
        out.append((reg.chrom, *reg.bounds(size)))
    spans = sorted(out)
    for (c0, _, e0), (c1, s1, _) in itertools.pairwise(spans):
        if c0 == c1 and s1 < e0:
            raise ChipsrInputError(f"--region: regions overlap on {c0} near {s1 + 1}")
    return out


def run(track, output: str | None = None, settings: PeaksSettings | None = None, *,
        regions: Sequence[str | Region] | None = None, blacklist=None, truth_peaks=None,
        valid_region: str | Region | None = None, gapped=None, analysis_steps: int | None = None,
        model=None) -> dict:
    """``chipsr peaks``: call peaks on a bigWig track with MACS3 and write narrowPeak or broadPeak.

    The cutoff, in this order: ``settings.cutoff`` (a track value); else ``settings.fold`` x the
    track's genome-wide mean over non-blacklisted bins; else, with ``truth_peaks`` and ``valid_region``, the fold
    :func:`calibrate_fold` picks there; else the fold stored in ``model``; else the default rule
    (:func:`default_cutoff`: the larger of :data:`DEFAULT_FOLD` x that mean and a read floor from
    the track's own values). Peaks overlapping the blacklist are dropped (ENCODE practice).

    Parameters
    ----------
    track : path
        bigWig (any units: coverage, fold enrichment, a ``chipsr denoise`` output).
    output : path, optional
        narrowPeak (or broadPeak with ``peak_type`` broad) file; not needed with ``analysis_steps``.
    settings : PeaksSettings, optional
        :class:`~chipsr.tasks.chipseq.config.PeaksSettings` (default: its defaults): ``peak_type``
        (narrow / broad), ``cutoff``, ``fold``, and ``low_cutoff``, ``min_length``, ``max_gap``,
        ``max_link_gap`` (bp; see :func:`call_peaks`), ``name`` (peak name prefix; default the output's
        file stem).
    regions : sequence of str or Region, optional
        Call only inside these (non-overlapping) regions [default: every chromosome].
    blacklist : path, optional
        BED of regions left out of the mean and whose peaks are dropped.
    truth_peaks, valid_region :
        A peak file (e.g. ``macs3 callpeak`` on the full-depth reads) and the validation region where
        the fold is calibrated against it; use a region that is not scored afterwards.
    gapped : path, optional
        With broad peaks, also write the gappedPeak file (strong sub-regions as blocks).
    model : path, optional
        A chipsr model trained with ``--truth-peaks``: its stored fold and peak type (narrow / broad)
        are used (:func:`model_peak_rule`).
    analysis_steps : int, optional
        Instead of calling: return MACS3's cutoff analysis (``analysis`` key) over that many
        cutoffs from 0 to the track's maximum in the regions.

    Returns
    -------
    dict
        ``n_peaks``, ``cutoff``, ``fold`` (None when ``cutoff`` was given), ``mean``, ``rule``,
        ``calibration`` (the table, or None), ``analysis`` (text, or None).

    Raises
    ------
    ChipsrInputError
        Both ``cutoff`` and ``fold``; ``truth_peaks`` without ``valid_region``; broad peaks on a
        track at 1-bp resolution; bad regions, files or values (named); MACS3 missing.
    """
    from chipsr.io.genome import read_bed_intervals
    from chipsr.io.tracks import BigWigFile

    s = settings if settings is not None else PeaksSettings()
    cutoff, low_cutoff, name, truth, calibrate_region = s.cutoff, s.low_cutoff, s.name, truth_peaks, valid_region
    min_length, max_gap, max_link_gap = s.min_length, s.max_gap, s.max_link_gap
    fold, broad = _check_peak_options(model, cutoff, s.fold, s.peak_type == "broad", truth, calibrate_region, gapped)
    require_macs3()
    options = {"broad": broad, "min_length": min_length, "max_gap": max_gap, "max_link_gap": max_link_gap}
    bw = BigWigFile(track, "track")
    try:
        covered, resolution = _covered(bw, regions, broad)
        bl = read_bed_intervals(blacklist) if blacklist is not None else None
        if not covered:
            log.warning("%s has no signal in the regions asked for: no peaks", bw.path)
        if analysis_steps is not None:
            return _analysis(bw, covered, analysis_steps, min_length, max_gap)
        mean, calibration, default = None, None, None
        if cutoff is None:
            cutoff, fold, mean, calibration, default = _fold_cutoff(bw, covered, resolution, bl, fold, truth,
                                                                    calibrate_region, options)
        rule = _rule_text(cutoff, fold, mean, broad, low_cutoff, min_length, max_gap, max_link_gap, truth,
                          calibrate_region, model, default)
        found = call_peaks(((c, *bw.runs(c, s, e)) for c, s, e in covered), cutoff, low_cutoff=low_cutoff, **options)
    finally:
        bw.close()
    if bl is not None and len(found):
        found = drop_blacklisted(found, bl)
    _write_peak_files(found, output, gapped, name or Path(output).name.split(".")[0], broad, cutoff)
    return {"n_peaks": len(found), "cutoff": cutoff, "fold": fold, "mean": mean, "rule": rule,
            "calibration": calibration, "analysis": None}


def _analysis(bw, covered, steps: int, min_length: int, max_gap: int) -> dict:
    """:func:`run`'s result with MACS3's cutoff analysis over ``steps`` cutoffs from 0 to the track's
    maximum in the covered regions, and no peaks."""
    top = max((float(bw.stat(c, s, e, "max", exact=True)[0]) for c, s, e in covered), default=0)
    text = cutoff_analysis(((c, *bw.runs(c, s, e)) for c, s, e in covered), max_score=top,
                           steps=steps, min_length=min_length, max_gap=max_gap)
    return {"analysis": text, "n_peaks": None, "cutoff": None, "fold": None, "mean": None, "rule": None,
            "calibration": None}


def _write_peak_files(found: PeakSet, output, gapped, label: str, broad: bool, cutoff: float) -> None:
    """Write the peaks as narrowPeak or broadPeak (and gappedPeak to ``gapped``), names prefixed with
    ``label``; an empty set is valid, with a warning."""
    from chipsr.io.atomic import all_or_none
    from chipsr.io.peaks import write_peaks

    fmt = "broadPeak" if broad else "narrowPeak"
    with all_or_none(output, gapped):  # the gappedPeak failing leaves no broadPeak either
        write_peaks(output, fmt, found.chrom, found.start, found.end, found.value,
                    summit=None if broad else found.summit, name=label)
        if gapped is not None:
            write_peaks(gapped, "gappedPeak", found.chrom, found.start, found.end, found.value, blocks=found.blocks,
                        name=label)
    if not len(found):
        log.warning("no peak at cutoff %.4g: %s is empty (valid); try a lower --fold or --cutoff", cutoff, output)
    log.info("%d %s peaks -> %s", len(found), "broad" if broad else "narrow", output)


def _check_peak_options(model, cutoff, fold, broad: bool, truth, calibrate_region, gapped) -> tuple[float | None, bool]:
    """Check how :func:`run` is asked to set its cutoff; returns (fold, broad), those stored in ``model``
    when one is given.

    Raises
    ------
    ChipsrInputError
        Options that exclude each other, or go together and are given alone; a fold that is not
        positive; a model without a peak rule.
    """
    if model is not None:
        if cutoff is not None or fold is not None or truth is not None:
            raise ChipsrInputError("--model gives the calibrated fold: leave out --cutoff, --fold and --truth-peaks")
        stored = model_peak_rule(model)
        fold, broad = float(stored["fold"]), stored["type"] == "broad"
        log.info("peak rule of %s: %s", model, stored["rule"])
    if cutoff is not None and fold is not None:
        raise ChipsrInputError("give --cutoff (a track value) or --fold (x the track's mean), not both")
    if fold is not None and not (math.isfinite(fold) and fold > 0):
        raise ChipsrInputError(f"--fold must be a positive number, got {fold}")
    if (truth is None) != (calibrate_region is None):
        raise ChipsrInputError("--truth-peaks and --valid-region go together")
    if truth is not None and (cutoff is not None or fold is not None):
        raise ChipsrInputError("--truth-peaks calibrates the cutoff: leave out --cutoff and --fold")
    if gapped is not None and not broad:
        raise ChipsrInputError("--gapped-peak needs --peak-type broad")
    return fold, broad


def _covered(bw, regions, broad: bool) -> tuple[list[tuple[str, int, int]], int]:
    """The regions (:func:`_regions`) with any signal, and the track's resolution (bp) there (1 when
    none). Raises ChipsrInputError for broad calls on a track under 10-bp resolution."""
    spans = _regions(bw, regions)
    covered = [(c, s, e) for c, s, e in spans if e > s and bw.stat(c, s, e, "max")[0] > 0]
    resolution = min((bw.resolution(c, min(e - s, 2_000_000), s) for c, s, e in covered), default=1)
    if broad and resolution < 10:
        raise ChipsrInputError(f"{bw.path}: --peak-type broad on a track at {resolution}-bp resolution: bin it first "
                               f"(e.g. `chipsr coverage --bin-size 25`); broad calls link regions of binned signal")
    return covered, resolution


def _fold_cutoff(bw, covered, resolution: int, bl, fold, truth, calibrate_region, options: dict):
    """The cutoff as a fold of the track's genome-wide mean: ``fold``, else the fold calibrated against
    ``truth`` on ``calibrate_region``, else the default rule (:func:`default_cutoff`, its read unit
    the median of the positive values of the covered regions outside the blacklist). Returns
    (cutoff, fold, mean, calibration table or None, the default rule's dict or None)."""
    from chipsr.io.genome import parse_region
    from chipsr.io.peaks import check_peak_chromosomes, read_peak_intervals
    from chipsr.io.tracks import genome_mean

    calibration = None
    mean = genome_mean(bw.path, max(1, min(resolution, 1000)), bl)["mean"] if covered else 1.0
    if truth is not None:
        reg = parse_region(calibrate_region) if isinstance(calibrate_region, str) else calibrate_region
        (c, s, e), = _regions(bw, [reg])
        given = read_peak_intervals(truth)
        check_peak_chromosomes(given, truth, bw.chroms, bw.path)
        truth_ivs = restrict(given, [reg], bw.chroms, bl)
        if not sum(len(a) for a, _ in truth_ivs.values()):
            raise ChipsrInputError(f"{truth}: no truth peak in the validation region {reg} (--valid-region) to "
                                   f"calibrate the cutoff on")
        fold, calibration = calibrate_fold(lambda: [(c, *bw.runs(c, s, e))], mean, truth_ivs, **options)
        if fold is None:
            log.warning("%s: no fold calls a peak matching %s on %s (is the track empty there?): the default rule",
                        bw.path, truth, reg)
        else:
            best = next(row for row in calibration if row["fold"] == fold)
            log.info("calibrated on %s against %s: fold %g (cutoff %.4g), F1 %.3f", reg, truth, fold,
                     fold * mean, best["f1"])
    if fold is not None:
        return fold * mean, fold, mean, calibration, None
    default = default_cutoff(mean, positive_median(_positive_runs(bw, covered, bl)) if covered else math.nan)
    log.info("default cutoff: %s", default["rule"])
    return default["cutoff"], default["fold"], mean, calibration, default


def _positive_runs(bw, covered, bl):
    """Per covered region, the track's run values and lengths (bp) outside the blacklist: the chunks
    :func:`positive_median` takes."""
    from chipsr.io.genome import overlaps_intervals

    for c, s, e in covered:
        ends, values = bw.runs(c, s, e)
        starts = np.concatenate(([0], ends[:-1]))
        keep = ends > s
        if bl is not None and c in bl:
            keep &= ~overlaps_intervals(starts, ends, bl[c])
        yield values[keep], (np.minimum(ends, e) - np.maximum(starts, s))[keep]


def _rule_text(cutoff: float, fold, mean, broad: bool, low_cutoff, min_length: int, max_gap: int, max_link_gap: int,
               truth, calibrate_region, model, default: dict | None = None) -> str:
    """The peak rule in words (the ``rule`` :func:`run` returns)."""
    return (f"{'broad' if broad else 'narrow'} peaks (MACS3 {'bdgbroadcall' if broad else 'bdgpeakcall'}) "
            f"where the track >= {cutoff:.4g}"
            + (f" = {default['rule']} (genome-wide)" if default
               else f" = {fold:g} x its genome-wide mean {mean:.4g}" if fold else "")
            + (f" (fold calibrated on {calibrate_region} against {Path(truth).name})" if truth else "")
            + (f" (the fold stored in {Path(model).name})" if model is not None else "")
            + f"; min length {min_length} bp, max gap {max_gap} bp"
            + (f", linking cutoff {low_cutoff or DEFAULT_LOW_FRACTION * cutoff:.4g}, max link gap {max_link_gap} bp"
               if broad else ""))


def drop_blacklisted(found: PeakSet, bl: dict) -> PeakSet:
    """The peaks of ``found`` that overlap no interval of ``bl`` (merged blacklist intervals per
    chromosome, :func:`chipsr.io.genome.read_bed_intervals`), in the same order (ENCODE practice)."""
    from chipsr.io.genome import overlaps_intervals

    keep = np.ones(len(found), bool)
    chroms = np.asarray(found.chrom)
    for c in set(found.chrom) & set(bl):
        sel = np.flatnonzero(chroms == c)
        keep[sel] = ~overlaps_intervals(np.asarray(found.start)[sel], np.asarray(found.end)[sel], bl[c])
    return found.select(keep)
