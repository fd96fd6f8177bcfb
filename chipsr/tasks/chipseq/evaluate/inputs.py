"""The inputs of ``chipsr evaluate``: track names, the cheap checks of every option, opening the
bigWigs, and reading the evaluated bins of the truth and of every track.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import check_output_path
from chipsr.io.peaks import read_peak_intervals
from chipsr.io.tracks import BigWigFile
from chipsr.tasks.chipseq.evaluate.depth import DEPTH_NAME
from chipsr.tasks.chipseq.evaluate.regions import Chrom, bin_mask
from chipsr.tasks.chipseq.evaluate.smoothing import SMOOTHED_NAME, SMOOTHED_REFERENCE_NAME

log = logging.getLogger(__name__)


#: a single-seed model's track, ``METHOD.seedN`` (the report folds these into mean +- sd)
SEED_TRACK = re.compile(r"^(?P<base>.+)\.seed(?P<seed>\d+)$")


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


def checked_options(bin_size, tracks, depth_series, smooth_input, smooth_sigmas, smooth_select_region,
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
        raise ChipsrInputError("--smooth-reference needs --valid-region (a validation region)")
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
            raise ChipsrInputError("--smooth-input needs --valid-region (a validation region)")
        sigmas = [float(s) for s in smooth_sigmas]
        if not sigmas or not all(math.isfinite(s) and s > 0 for s in sigmas):
            raise ChipsrInputError(f"--smooth-sigmas must be positive numbers of bins, got {list(smooth_sigmas)}")
    if call_peaks_mode not in (None, "narrow", "broad"):
        raise ChipsrInputError(f"--peak-type must be narrow or broad, got {call_peaks_mode!r}")
    if (call_peaks_mode or called_peaks) and peaks is None:
        raise ChipsrInputError("--peak-type and --called need --truth-peaks (the truth peak file)")
    if call_peaks_mode and smooth_select_region is None:
        raise ChipsrInputError("--peak-type needs --valid-region (the validation region where each "
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


def open_bigwigs(stack: contextlib.ExitStack, truth: str | os.PathLike,
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


def check_track_chroms(track_bws: dict[str, BigWigFile], truth_bw: BigWigFile, needed: list[str]) -> None:
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


def read_bins(chroms: list[Chrom], truth_bw: BigWigFile, track_bws: dict[str, BigWigFile], bl_ivs: dict | None,
              bin_size: int) -> None:
    """Fill each chromosome's truth, track and non-blacklisted (``valid``) bins; warn where the truth
    is 0 over a whole chromosome's evaluated bins."""
    for c in chroms:
        c.truth = np.concatenate([truth_bw.binned(c.name, bin_size, a, b) for a, b in c.ranges])
        for name, bw in track_bws.items():
            c.tracks[name] = np.concatenate([bw.binned(c.name, bin_size, a, b) for a, b in c.ranges])
        c.valid = ~bin_mask(bl_ivs, c.name, c.ranges, bin_size, c.size)
    log.info("read %d tracks and the truth over %d bins", len(track_bws), sum(len(c.truth) for c in chroms))
    empty = [c.name for c in chroms if not c.truth.any()]
    if empty:
        log.warning("the truth %s is 0 over every evaluated bin of %d chromosome(s) (%s); "
                    "use --region to evaluate only where it has signal",
                    truth_bw.path, len(empty), ", ".join(empty[:5]) + (", ..." if len(empty) > 5 else ""))
