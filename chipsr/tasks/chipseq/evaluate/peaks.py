"""Peaks in ``chipsr evaluate``: the in-peak bins of the metrics (bins overlapping a truth peak file,
or called from the truth track) and the peak scores (per-bin AUPRC / AUROC; peak-level precision,
recall, F1 and bp Jaccard of given peak sets and of peaks called on every track).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from chipsr.tasks.chipseq.evaluate.inputs import SEED_TRACK
from chipsr.tasks.chipseq.evaluate.metrics import nan_to_none
from chipsr.tasks.chipseq.evaluate.regions import Chrom, Selection, bin_mask, range_offsets

log = logging.getLogger(__name__)


#: Fold enrichment over the mean of the evaluated bins above which a truth bin is a called peak.
PEAK_FOLD = 5.0


#: The peak-calling rule, as recorded in the outputs when no ``peaks`` BED is given.
PEAK_RULE = (
    f"truth >= {PEAK_FOLD:g} x mean(truth over the evaluated, non-blacklisted bins) "
    "(fold enrichment over a uniform background, per bin)"
)


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


def mark_peaks(chroms: list[Chrom], peaks, peak_ivs: dict | None, all_truth: np.ndarray, all_valid: np.ndarray,
               bin_size: int) -> dict:
    """Fill each chromosome's peak bins: those overlapping a peak of ``peaks`` or, without it, called
    from the truth (:data:`PEAK_RULE`); blacklisted bins are never peaks. Returns the ``peaks`` entry
    of the result (source, file, rule, threshold, n_bins, fraction)."""
    if peak_ivs is not None:
        for c in chroms:
            c.peaks = bin_mask(peak_ivs, c.name, c.ranges, bin_size, c.size) & c.valid
        peak_info = {"source": "file", "file": str(peaks),
                     "rule": f"bins overlapping a peak of {peaks}", "threshold": None}
    else:
        _, threshold = call_peaks(all_truth, all_valid)
        for c in chroms:
            c.peaks = (c.truth >= threshold) & c.valid
        peak_info = {"source": "called", "file": None, "rule": PEAK_RULE, "fold": PEAK_FOLD,
                     "threshold": nan_to_none(threshold)}
    n_valid = int(all_valid.sum())
    n_peaks = int(sum(int(c.peaks.sum()) for c in chroms))
    peak_info.update(n_bins=n_peaks, fraction=n_peaks / n_valid if n_valid else 0.0)
    log.info("peaks: %s (%d of %d bins)", peak_info["rule"], n_peaks, n_valid)
    if peak_ivs is not None and n_peaks == 0:
        log.warning("%s: no peak in the evaluated regions: the in-peak scores are undefined (n/a)", peaks)
    return peak_info


def score_peaks(chroms, names, peak_ivs, bl_ivs, region_list, sizes, bin_size, called, overlap, mode,
                sel: Selection | None, select_bins) -> dict:
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
                log.warning("--peak-type: no truth peak in %s to calibrate %s's cutoff on: fold %g", select, name, fold)
            folds[name] = fold
            found = pk.call_peaks([(c.name, *pk.bins_to_runs(c.tracks[name][i0:i0 + (b - a)], a, bin_size, c.size))
                                   for c in chroms for (a, b), i0 in zip(c.ranges, range_offsets(c.ranges))],
                                  fold * mean, **options)
            scores = pk.peak_set_scores(pk.restrict(found.intervals(), region_list, sizes, bl_ivs), truth_ivs, overlap)
            sets[name] = {"source": f"{mode} peaks on the track, fold {fold:g} x its mean ({how})",
                          "fold": fold, **scores}
    return {"overlap": "1 bp" if overlap is None else f"{overlap:g} reciprocal", "mode": mode,
            "by_track": by_track, "called": sets}


def none_for_nan(obj):
    """``obj`` with every non-finite float (at any depth of dicts and lists) replaced by None (JSON null)."""
    if isinstance(obj, dict):
        return {k: none_for_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [none_for_nan(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
