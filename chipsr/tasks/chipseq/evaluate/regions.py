"""Which bins ``chipsr evaluate`` scores: the evaluated regions as grid-bin ranges per chromosome,
the validation region, the figure's locus, and masks of bins overlapping intervals.

Bins are on the genome-wide grid of ``bin_size`` bp (bin ``i`` of a chromosome covers
``[i * bin_size, (i + 1) * bin_size)``, the last one truncated at the chromosome end); regions are
``CHR`` or ``CHR:START-END`` (1-based inclusive), checked against the truth bigWig's chromosomes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.genome import Region, overlaps_intervals, parse_region
from chipsr.io.tracks import bin_range


@dataclass
class Chrom:
    """Evaluated bins of one chromosome: merged grid-bin ranges and per-bin arrays over them."""

    name: str
    size: int
    ranges: list[tuple[int, int]]
    truth: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tracks: dict[str, np.ndarray] = field(default_factory=dict)
    valid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    peaks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


@dataclass
class Selection:
    """The validation region (``smooth_select_region``): where each smoothing's sigma is chosen and
    each track's peak cutoff calibrated."""

    region: Region
    bins: tuple[int, int]  # its grid bins [s0, s1)
    sigmas: list[float]  # the candidate Gaussian sigmas (bins)


def as_region(value: str | Region, what: str) -> Region:
    """``value`` parsed as ``CHR`` or ``CHR:START-END`` (1-based inclusive), or a Region as it is.

    Raises
    ------
    ChipsrInputError
        It does not parse (the message starts with ``what``, the option's name).
    """
    if isinstance(value, Region):
        return value
    try:
        return parse_region(str(value))
    except ChipsrInputError as exc:
        raise ChipsrInputError(f"{what}: {exc}") from None


def check_region(region: Region, sizes: Mapping[str, int], truth: Path, what: str) -> tuple[int, int]:
    """bp bounds ``(start, end)`` of ``region`` (the whole chromosome for ``CHR``), 0-based half-open.

    Raises
    ------
    ChipsrInputError
        Its chromosome is not in ``sizes`` (the truth's) or its END is beyond the chromosome.
    """
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


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` ranges (bins) sorted, overlapping or touching ones merged, empty ones dropped."""
    from chipsr.io.genome import merge_intervals

    kept = [(a, b) for a, b in ranges if b > a]
    starts, ends = merge_intervals([a for a, _ in kept], [b for _, b in kept])
    return list(zip(starts.tolist(), ends.tolist()))


def bin_mask(ivs: dict | None, chrom: str, ranges: list[tuple[int, int]], bin_size: int, size: int) -> np.ndarray:
    """Bins of ``ranges`` (concatenated) that overlap an interval of ``ivs[chrom]``.

    ``ivs`` maps a chromosome to merged ``(starts, ends)`` bp arrays (``read_bed_intervals``); returns a
    bool array with one entry per bin of the ranges, all False where ``ivs`` is None or lacks ``chrom``.
    """
    parts = []
    for b0, b1 in ranges:
        idx = np.arange(b0, b1, dtype=np.int64)
        if ivs is None or chrom not in ivs:
            parts.append(np.zeros(len(idx), dtype=bool))
        else:
            parts.append(overlaps_intervals(idx * bin_size, np.minimum((idx + 1) * bin_size, size), ivs[chrom]))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def range_offsets(ranges: list[tuple[int, int]]) -> list[int]:
    """Start index of each bin range in the concatenated per-chromosome arrays."""
    return list(np.cumsum([0] + [b - a for a, b in ranges])[:-1])


def evaluated_chroms(regions, sizes: Mapping[str, int], truth: Path,
                     bin_size: int) -> tuple[list[Region], list[Chrom]]:
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
    region_list = [as_region(r, "--region") for r in regions] if regions else [Region(c) for c in sizes]
    per_chrom: dict[str, list[tuple[int, int]]] = {}
    for region in region_list:
        start, end = check_region(region, sizes, truth, "--region")
        per_chrom.setdefault(region.chrom, []).append(bin_range(start, end, bin_size))
    chroms = [Chrom(c, sizes[c], merge_ranges(r)) for c, r in per_chrom.items()]
    chroms = [c for c in chroms if c.ranges]
    if not chroms:
        raise ChipsrInputError(f"--region: no bins to evaluate in {', '.join(map(str, region_list))}")
    return region_list, chroms


def validation_region(smooth_select_region, smooth_sigmas: Sequence[float], sizes: Mapping[str, int], truth: Path,
                      chroms: list[Chrom], bin_size: int) -> Selection:
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
    select = as_region(smooth_select_region, "--valid-region")
    s0, s1 = bin_range(*check_region(select, sizes, truth, "--valid-region"), bin_size)
    for c in chroms:
        if c.name == select.chrom and any(a < s1 and s0 < b for a, b in c.ranges):
            raise ChipsrInputError(
                f"--valid-region {select} overlaps the evaluated region(s) on {c.name} "
                f"(at {bin_size}-bp bins): choose a disjoint validation region"
            )
    return Selection(select, (s0, s1), sigmas)


def given_locus(locus, sizes: Mapping[str, int], truth: Path) -> Region | None:
    """``locus`` as a Region with bp bounds (None when not given).

    Raises
    ------
    ChipsrInputError
        It does not parse or lies outside the truth's chromosomes.
    """
    if locus is None:
        return None
    region = as_region(locus, "--locus")
    lo, hi = check_region(region, sizes, truth, "--locus")
    return Region(region.chrom, lo, hi)
