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

Peaks are either given (``peaks=`` BED: bins overlapping a peak are "inside") or called on the
truth by ``chipsr peaks``' default rule (:func:`chipsr.tasks.chipseq.peaks.default_cutoff`: bins
overlapping a peak are "inside"). A Gaussian-smoothed copy of the noisy input,
its width chosen on a separate validation region, is added as the "smoothed input" row: the
baseline every denoiser must beat (smoothing alone lifts r from 0.639 to 0.816 on the example's
MOLM-13 H3K27ac: README, "Results on the example").

Outputs of :func:`evaluate` (all written atomically; none is left behind on error):
``PREFIX.tsv`` (one row per track x chromosome (+ ``all``) x subset), ``PREFIX.json`` (the same
rows + metadata), ``PREFIX.md`` (a table shaped like the paper's Table 2) and ``PREFIX.png``
(a locus and a scatter of tfilm, or else the last track, against the truth).

One module per job: :mod:`.inputs` (option checks, track names, opening the bigWigs, reading the
bins), :mod:`.regions` (evaluated regions, the validation region, bin masks), :mod:`.metrics`
(metric rows, differential r), :mod:`.depth` (depth equivalence), :mod:`.smoothing` (sigma choice,
smoothed rows), :mod:`.peaks` (in-peak bins, peak scores), :mod:`.figure` (the figure's data) and
:mod:`.markdown` (the text of ``PREFIX.md``); :func:`evaluate` runs them in order and writes the
outputs.

Cost: memory is O(tracks x evaluated bins), float64, plus the transient copies that Spearman's
ranking makes. Measured on a 2-core machine with two tracks at 25 bp: hg19 chr22:40-51.3 Mb
(0.45 M bins, + smoothing) 7 s; every hg19 chromosome (114 M bins) 9 min and 18 GB peak RSS.
For genome-wide runs evaluate held-out chromosomes (``regions=``), as Coda and the paper do.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from chipsr.io.genome import Region, read_bed_intervals
from chipsr.tasks.chipseq.config import EvaluateSettings
from chipsr.io.peaks import check_peak_chromosomes, read_peak_intervals
from chipsr.io.tables import json_text, tsv_text
from chipsr.io.tracks import read_binned
from chipsr.tasks.chipseq.evaluate.depth import DEPTH_NAME, depth_equivalence_entry, equivalent_depth, format_depth
from chipsr.tasks.chipseq.evaluate.figure import HEXBIN_MIN_POINTS, LOCUS_BP, Figure, figure_data
from chipsr.tasks.chipseq.evaluate.inputs import (
    SEED_TRACK,
    check_track_chroms,
    checked_options,
    open_bigwigs,
    parse_tracks,
    read_bins,
)
from chipsr.tasks.chipseq.evaluate.markdown import fmt, markdown_text, peak_lines
from chipsr.tasks.chipseq.evaluate.metrics import SUBSETS, differential_entry, differential_r, metric_rows, nan_to_none
from chipsr.tasks.chipseq.evaluate.peaks import mark_peaks, none_for_nan, score_peaks
from chipsr.tasks.chipseq.evaluate.regions import evaluated_chroms, given_locus, validation_region
from chipsr.tasks.chipseq.evaluate.smoothing import (
    SMOOTHED_NAME,
    SMOOTHED_REFERENCE_NAME,
    TRUNCATE,
    add_smoothed,
    selection_bins,
)

log = logging.getLogger(__name__)

__all__ = [
    "DEPTH_NAME",
    "HEXBIN_MIN_POINTS",
    "LOCUS_BP",
    "SEED_TRACK",
    "SMOOTHED_NAME",
    "SMOOTHED_REFERENCE_NAME",
    "SUBSETS",
    "TRUNCATE",
    "differential_r",
    "equivalent_depth",
    "evaluate",
    "format_depth",
    "parse_tracks",
    "peak_lines",
    "read_binned",
]

#: Columns of ``PREFIX.tsv`` (and keys of each ``metrics`` row of ``PREFIX.json``), in order.
TSV_COLUMNS = ["track", "chrom", "subset", "n_bins", "pearson", "spearman", "mse", "mean"]


def _write_outputs(outputs: dict[str, Path], rows: list[dict], result: dict, figure: Figure, truth_valid: np.ndarray,
                   bin_size: int) -> None:
    """Write ``PREFIX.{tsv,json,md,png}`` together: each to a temporary file, all renamed only once
    every one is written (none appears on error)."""
    from chipsr.io.atomic import atomic_output
    from chipsr.plots import evaluation_figure

    with contextlib.ExitStack() as out:
        tmp = {ext: out.enter_context(atomic_output(p)) for ext, p in outputs.items()}
        tmp["tsv"].write_text(tsv_text(rows, "%.6g", TSV_COLUMNS, na_rep="nan"), encoding="utf-8")
        tmp["json"].write_text(json_text(result, indent=2, allow_nan=False))
        tmp["md"].write_text(markdown_text(result))
        evaluation_figure(tmp["png"], figure.locus, figure.tracks, figure.truth, bin_size, figure.scatter_track,
                          figure.x, truth_valid, fmt(figure.r), hexbin_min=HEXBIN_MIN_POINTS)
    log.info("wrote %s", ", ".join(str(p) for p in outputs.values()))


def evaluate(
    truth: str | os.PathLike,
    tracks: Mapping[str, str | os.PathLike],
    prefix: str | os.PathLike,
    regions: Sequence[str | Region] | None = None,
    blacklist: str | os.PathLike | None = None,
    truth_peaks: str | os.PathLike | None = None,
    settings: EvaluateSettings | None = None,
    *,
    smooth_input: str | None = None,
    depth_series: Mapping[float, str | os.PathLike] | None = None,
    smooth_reference: str | None = None,
    differential_reference: str | None = None,
    called_peaks: Mapping[str, str | os.PathLike] | None = None,
) -> dict:
    """Score tracks against a deep-sequencing truth bigWig; write PREFIX.{tsv,json,md,png}.

    Each track and the truth are read at ``bin_size`` resolution (:func:`read_binned`). Over the
    evaluated bins (those of ``regions``, minus bins overlapping ``blacklist``), Pearson r (the
    TFiLM paper's metric, Birnbaum et al. 2019, Table 2), Spearman r and MSE of each track against
    the truth are computed per chromosome and over all chromosomes together (``chrom = "all"``),
    for all bins, bins inside peaks and bins outside peaks ("background"), as Coda (Koh et al.
    2017) and AtacWorks (Lal et al. 2021) report them. Peaks come from ``truth_peaks`` (bins overlapping
    a BED interval) or, without it, from narrow peaks called on the truth by ``chipsr peaks``'
    default rule (:func:`.peaks.mark_peaks`).
    MSE is between fold enrichments (each track and the truth divided by its own mean over all
    evaluated bins), so tracks in different units (raw depth, CPM, a model's fold enrichment)
    compare fairly; Pearson and Spearman r do not depend on scale.

    With ``smooth_input``, the named track is also smoothed with a Gaussian
    (``scipy.ndimage.gaussian_filter1d``, ``mode="constant"``, i.e. zeros beyond the chromosome
    ends; the kernel sees the real signal beyond a region's edges) whose sigma (bins) is the one of
    ``settings.smooth_sigmas`` with the highest Pearson r against the truth on ``settings.valid_region``
    (a validation region disjoint from ``regions``; blacklisted bins excluded; the first of equal
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
    truth_peaks : path, optional
        BED of peaks (e.g. ``macs3 callpeak`` on the full-depth reads); bins overlapping one are "peaks".
    settings : EvaluateSettings, optional
        :class:`~chipsr.tasks.chipseq.config.EvaluateSettings` (default: its defaults): ``bin_size``
        (bp, >= 1), ``smooth_sigmas`` (candidate Gaussian sigmas in bins, > 0), ``valid_region``
        (``CHR:START-END`` where sigma and peak cutoffs are chosen; required with ``smooth_input``; must
        not share a bin with ``regions``), ``locus`` (drawn in the figure; default the ``LOCUS_BP``
        (100-kb) window of the evaluated bins with the highest summed truth), ``peak_type`` (narrow or
        broad: with ``truth_peaks``, also call peaks on every track with MACS3's track caller
        (:mod:`chipsr.tasks.chipseq.peaks`), each with its own cutoff calibrated on ``valid_region``
        (best peak F1 there), and score them on the evaluated regions), ``peak_overlap`` (a peak matches
        when it overlaps by >= this fraction of both lengths; default >= 1 bp).
    smooth_input : str, optional
        Name of one of ``tracks`` (the noisy low-depth input) to add as a smoothed row.
    smooth_reference : str, optional
        Name of one of ``tracks`` (a related sample's deep track, the reference baseline) to add
        as the row :data:`SMOOTHED_REFERENCE_NAME`, its sigma chosen the same way.
    differential_reference : str, optional
        Name of one of ``tracks``: every track also gets its :func:`differential_r` against it
        over all evaluated bins (result key ``differential``).
    depth_series : mapping of float to path, optional
        Raw (undenoised) coverage of the same sample at several depths, as multiples of the input's
        reads (e.g. ``{1: low.bw, 2: x2.bw, 4: x4.bw}``): each is scored as the row ``raw Kx``, and
        every other track gets its **depth equivalence** (:func:`equivalent_depth`): the depth at
        which the raw track would correlate with the truth as well as it does (result key
        ``depth_equivalence``).

    called_peaks : mapping of name to path, optional
        Peak files to score against ``truth_peaks`` as they are (e.g. ``macs3 callpeak`` on the low-depth
        reads at several thresholds).

    Returns
    -------
    dict
        The content of ``PREFIX.json``: ``metrics`` (list of rows with keys track, chrom, subset,
        n_bins, pearson, spearman, mse, mean (the track's mean over the bins); ``None`` where a
        metric is undefined, e.g. a constant track), ``track_order``, ``truth``, ``tracks``,
        ``regions``, ``bin_size``, ``n_bins``
        (evaluated, non-blacklisted), ``n_bins_blacklisted``, ``blacklist``, ``peaks`` (source,
        file, rule, fold, threshold, n_bins, fraction; fold and threshold, the cutoff over the truth's
        mean and in its units, only when called), ``smoothing`` (input, sigmas,
        pearson_by_sigma, sigma, select_region; or ``None``), ``locus``, ``outputs``, and
        ``peak_scores`` (with a ``truth_peaks`` file: ``by_track`` AUPRC / AUROC of every track's bins
        against the truth-peak bins, ``called`` the peak-level precision / recall / F1 / bp
        Jaccard of each called or given peak set; else ``None``).

    Notes
    -----
    This function is longer than the others here for its docstring (every option) and for the
    result, whose keys it lists in ``PREFIX.json``'s order; each step is a helper:
    :func:`.inputs.checked_options`, :func:`.inputs.open_bigwigs`, :func:`.regions.evaluated_chroms`,
    :func:`.regions.validation_region`, :func:`.inputs.check_track_chroms`, :func:`.inputs.read_bins`,
    :func:`.peaks.mark_peaks`, :func:`.smoothing.add_smoothed`, :func:`.metrics.differential_entry`,
    :func:`.metrics.metric_rows`, :func:`.peaks.score_peaks`, :func:`.figure.figure_data`,
    :func:`.depth.depth_equivalence_entry`, :func:`_write_outputs`.

    Raises
    ------
    ChipsrInputError
        A missing or non-bigWig file (named); a track whose chromosome sizes differ from the
        truth's or that lacks an evaluated chromosome (both files and the chromosome named); a
        region whose chromosome is absent or whose END is beyond the chromosome; a bad track name;
        ``smooth_input`` not among the tracks, without ``valid_region``, or with a selection
        region that overlaps an evaluated region; non-positive sigmas or bin size; a missing
        output directory. Nothing is written then.
    """
    from chipsr import __version__

    s = settings if settings is not None else EvaluateSettings()
    peaks, smooth_sigmas, smooth_select_region, locus = truth_peaks, list(s.smooth_sigmas), s.valid_region, s.locus
    call_peaks_mode, peak_overlap = s.peak_type, s.peak_overlap
    bin_size, tracks, depth_tracks, multiples, called_ivs, outputs = checked_options(
        s.bin_size, tracks, depth_series, smooth_input, smooth_sigmas, smooth_select_region, smooth_reference,
        differential_reference, call_peaks_mode, called_peaks, peaks, prefix)
    with contextlib.ExitStack() as stack:
        # ---- inputs: every check that reads only headers and small files, before any bin is read
        truth_bw, track_bws = open_bigwigs(stack, truth, {**tracks, **depth_tracks})
        sizes = truth_bw.chroms
        region_list, chroms = evaluated_chroms(regions, sizes, truth_bw.path, bin_size)
        sel = None
        if smooth_input is not None or smooth_reference is not None or call_peaks_mode:
            sel = validation_region(smooth_select_region, smooth_sigmas, sizes, truth_bw.path, chroms, bin_size)
        locus_region = given_locus(locus, sizes, truth_bw.path)
        extra = [sel.region if sel else None, locus_region]
        check_track_chroms(track_bws, truth_bw, [c.name for c in chroms] + [r.chrom for r in extra if r is not None])
        bl_ivs = read_bed_intervals(blacklist) if blacklist is not None else None
        peak_ivs = read_peak_intervals(peaks) if peaks is not None else None
        for path, ivs in [(peaks, peak_ivs), *called_ivs.values()]:
            if ivs is not None:
                check_peak_chromosomes(ivs, path, sizes, truth_bw.path)

        # ---- the bins, the peaks, the smoothed rows
        read_bins(chroms, truth_bw, track_bws, bl_ivs, bin_size)
        all_truth = np.concatenate([c.truth for c in chroms])
        all_valid = np.concatenate([c.valid for c in chroms])
        peak_info = mark_peaks(chroms, peaks, peak_ivs, all_truth, all_valid, bin_size, bl_ivs)
        smoothings = add_smoothed(chroms, {SMOOTHED_NAME: smooth_input, SMOOTHED_REFERENCE_NAME: smooth_reference},
                                  track_bws, truth_bw, sel, bl_ivs, bin_size)
        order = [*track_bws, *smoothings]

        # ---- scores
        differential = differential_entry(chroms, differential_reference, order, all_truth, all_valid)
        rows = metric_rows(chroms, order, all_truth, all_valid)
        peak_scores = None
        if peak_ivs is not None:  # AUPRC / AUROC of every track's bins; peak sets called on the tracks or given
            peak_scores = score_peaks(chroms, [n for n in order if n not in depth_tracks], peak_ivs, bl_ivs,
                                      region_list, sizes, bin_size, called_ivs, peak_overlap, call_peaks_mode,
                                      sel, functools.partial(selection_bins, track_bws=track_bws,
                                                             smoothings=smoothings, sel=sel, bin_size=bin_size))
            peak_scores = none_for_nan({**peak_scores, "truth": str(peaks)})
        figure = figure_data(chroms, tracks, track_bws, truth_bw, locus_region, smoothings.get(SMOOTHED_NAME), rows,
                             all_valid, bin_size)
        depth_equivalence = depth_equivalence_entry(rows, order, depth_tracks, multiples) if depth_tracks else None

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
            "metrics": [{k: (nan_to_none(v) if k in ("pearson", "spearman", "mse", "mean") else v)
                         for k, v in r.items()} for r in rows],
        }
        _write_outputs(outputs, rows, result, figure, all_truth[all_valid], bin_size)
    return result
