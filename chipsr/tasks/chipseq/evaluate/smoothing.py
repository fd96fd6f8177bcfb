"""The Gaussian-smoothed rows of ``chipsr evaluate`` (the smoothed noisy input, the smoothed
reference): the sigma chosen on the validation region, the smoothed bins read with a kernel margin.

Smoothing is ``scipy.ndimage.gaussian_filter1d`` with ``mode="constant"`` (zeros beyond the
chromosome ends) and its default truncation at 4 sigmas.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.genome import Region
from chipsr.io.tracks import BigWigFile
from chipsr.tasks.chipseq.evaluate.metrics import nan_to_none
from chipsr.tasks.chipseq.evaluate.regions import Chrom, Selection, bin_mask

log = logging.getLogger(__name__)


#: Name of the extra row holding the Gaussian-smoothed noisy input.
SMOOTHED_NAME = "smoothed input"


#: Name of the extra row holding the Gaussian-smoothed reference (another sample's deep track).
SMOOTHED_REFERENCE_NAME = "smoothed reference"


#: Gaussian kernels are cut at this many sigmas (``scipy.ndimage.gaussian_filter1d``'s default).
TRUNCATE = 4.0


def smoothed_bins(bw: BigWigFile, chrom: str, bin_size: int, b0: int, b1: int, sigma: float) -> np.ndarray:
    """Gaussian-smoothed bins ``[b0, b1)``, read with a kernel-radius margin so the edges see the
    real neighbouring signal (zeros beyond the chromosome ends)."""
    from scipy.ndimage import gaussian_filter1d

    n_chrom = -(-bw.size(chrom) // bin_size)
    pad = int(TRUNCATE * sigma + 0.5)  # gaussian_filter1d's kernel radius
    lo, hi = max(0, b0 - pad), min(n_chrom, b1 + pad)
    x = bw.binned(chrom, bin_size, lo, hi)
    return gaussian_filter1d(x, sigma, mode="constant", truncate=TRUNCATE)[b0 - lo : b0 - lo + (b1 - b0)]


def _choose_sigma(bw_in: BigWigFile, truth_bw: BigWigFile, select: Region, bins: tuple[int, int], valid: np.ndarray,
                  bin_size: int, sigmas: list[float], name: str) -> tuple[float, dict[float, float]]:
    """The sigma of ``sigmas`` whose smoothing of ``bw_in`` best matches the truth (Pearson r) on
    the selection bins (first of equal bests), and r for each sigma."""
    from chipsr.core.metrics import pearson_r

    s0, s1 = bins
    sel_truth = truth_bw.binned(select.chrom, bin_size, s0, s1)
    by_sigma = {}
    for sigma in sigmas:
        smoothed = smoothed_bins(bw_in, select.chrom, bin_size, s0, s1, sigma)
        by_sigma[sigma] = float(pearson_r(smoothed, sel_truth, mask=valid))
    finite = {s: r for s, r in by_sigma.items() if math.isfinite(r)}
    if not finite:
        raise ChipsrInputError(
            f"--valid-region {select}: Pearson r is undefined there for every sigma "
            f"(the truth or {name!r} is constant on it); choose another region"
        )
    return max(finite, key=lambda s: (finite[s], -sigmas.index(s))), by_sigma


def add_smoothed(chroms: list[Chrom], sources: dict[str, str | None], track_bws: dict[str, BigWigFile],
                 truth_bw: BigWigFile, sel: Selection | None, bl_ivs: dict | None, bin_size: int) -> dict[str, dict]:
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
        sel_valid = ~bin_mask(bl_ivs, select.chrom, [sel.bins], bin_size, truth_bw.chroms[select.chrom])
        best, by_sigma = _choose_sigma(bw_in, truth_bw, select, sel.bins, sel_valid, bin_size, sel.sigmas, source)
        for c in chroms:
            c.tracks[row] = np.concatenate([smoothed_bins(bw_in, c.name, bin_size, a, b, best) for a, b in c.ranges])
        smoothings[row] = {"input": source, "sigmas": sel.sigmas, "select_region": str(select),
                           "pearson_by_sigma": {f"{x:g}": nan_to_none(r) for x, r in by_sigma.items()},
                           "sigma": best}
        log.info("%s: %s, sigma %g bins (r %.4f on %s)", row, source, best, by_sigma[best], select)
    return smoothings


def selection_bins(name: str, track_bws: dict[str, BigWigFile], smoothings: dict[str, dict], sel: Selection,
                   bin_size: int) -> np.ndarray:
    """Bins of track ``name`` (or of a smoothed row) on the validation region."""
    s0, s1 = sel.bins
    if name in smoothings:
        src = smoothings[name]
        return smoothed_bins(track_bws[src["input"]], sel.region.chrom, bin_size, s0, s1, src["sigma"])
    return track_bws[name].binned(sel.region.chrom, bin_size, s0, s1)
