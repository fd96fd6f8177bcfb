"""Peaks in ``chipsr evaluate``: the in-peak bins of the metrics (bins overlapping a truth peak file,
or called from the truth track) and the peak scores (per-bin AUPRC / AUROC; peak-level precision,
recall, F1 and bp Jaccard of given peak sets and of peaks called on every track).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from chipsr.tasks.chipseq.evaluate.inputs import SEED_TRACK
from chipsr.tasks.chipseq.evaluate.regions import Chrom, Selection, bin_mask, range_offsets

log = logging.getLogger(__name__)


def evaluated_runs(chroms: list[Chrom], arrays: list[np.ndarray], bin_size: int) -> list[tuple]:
    """One track's evaluated bins as the runs :func:`chipsr.tasks.chipseq.peaks.call_peaks` takes:
    ``(chrom, ends, values)`` per evaluated range (:func:`chipsr.tasks.chipseq.peaks.bins_to_runs`).

    ``arrays`` holds, per chromosome of ``chroms``, the track's bins over that chromosome's ranges
    (concatenated, shape (n_bins,)); ends are bp, zero before each range's first bin.
    """
    from chipsr.tasks.chipseq import peaks as pk

    return [(c.name, *pk.bins_to_runs(x[i0:i0 + (b - a)], a, bin_size, c.size))
            for c, x in zip(chroms, arrays) for (a, b), i0 in zip(c.ranges, range_offsets(c.ranges))]


def mark_peaks(chroms: list[Chrom], peaks, peak_ivs: dict | None, all_truth: np.ndarray, all_valid: np.ndarray,
               bin_size: int, bl_ivs: dict | None = None) -> dict:
    """Fill each chromosome's peak bins: those overlapping a peak of ``peaks`` or, without it, a peak
    called on the truth track by ``chipsr peaks``' default rule (narrow peaks,
    :func:`chipsr.tasks.chipseq.peaks.call_peaks` at
    :func:`chipsr.tasks.chipseq.peaks.default_cutoff` of the truth's evaluated, non-blacklisted bins;
    peaks overlapping ``bl_ivs`` dropped); blacklisted bins are never peaks. Returns the ``peaks``
    entry of the result (source, file, rule, fold, threshold, n_bins, fraction).

    Raises
    ------
    ChipsrInputError
        MACS3 missing (peaks are called only without ``peaks``).
    """
    from chipsr.tasks.chipseq import peaks as pk

    if peak_ivs is not None:
        for c in chroms:
            c.peaks = bin_mask(peak_ivs, c.name, c.ranges, bin_size, c.size) & c.valid
        peak_info = {"source": "file", "file": str(peaks),
                     "rule": f"bins overlapping a peak of {peaks}", "threshold": None}
    else:
        values = all_truth[all_valid]
        mean = float(values.mean()) if len(values) else 0.0
        if mean > 0:
            rule = pk.default_cutoff(mean, pk.positive_median([(values, None)]))
            found = pk.call_peaks(evaluated_runs(chroms, [c.truth for c in chroms], bin_size), rule["cutoff"])
            if bl_ivs is not None and len(found):
                found = pk.drop_blacklisted(found, bl_ivs)
            called = found.intervals()
            text, fold, threshold = f"narrow peaks of the truth where it >= {rule['rule']}", rule["fold"], rule["cutoff"]
        else:
            called, text, fold, threshold = {}, "none: the truth is 0 over the evaluated bins", None, None
        for c in chroms:
            c.peaks = bin_mask(called, c.name, c.ranges, bin_size, c.size) & c.valid
        peak_info = {"source": "called", "file": None, "rule": text, "fold": fold, "threshold": threshold}
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
            else:
                fold = None
                if sum(len(a) for a, _ in select_truth.values()):
                    runs = pk.bins_to_runs(selection, s0, bin_size, sizes[select.chrom])
                    fold, _ = pk.calibrate_fold(lambda runs=runs: [(select.chrom, *runs)], mean, select_truth,
                                                **options)
                    why = f"no fold of {name} matches a truth peak in {select} (no signal there?)"
                else:
                    why = f"no truth peak in {select} to calibrate {name}'s cutoff on"
                if fold is None:
                    fold = pk.default_cutoff(mean, pk.positive_median([(values[name], None)]))["fold"]
                    how = f"the default rule: {why}"
                    log.warning("--peak-type: %s: the default rule, fold %g", why, fold)
            folds[name] = fold
            found = pk.call_peaks(evaluated_runs(chroms, [c.tracks[name] for c in chroms], bin_size), fold * mean,
                                  **options)
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
