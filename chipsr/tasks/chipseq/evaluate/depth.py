"""Depth equivalence: the read depth at which a raw track of the same sample would correlate with the
truth as well as a given track does, interpolated over a series of raw tracks at several depths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.tasks.chipseq.evaluate.metrics import nan_to_none


#: name of a raw track of the depth series: ``raw 4x`` = the input's reads x 4
DEPTH_NAME = "raw {:g}x"


def equivalent_depth(multiples: Sequence[float], rs: Sequence[float], r: float) -> tuple[float, str]:
    """The read depth at which a raw track would reach Pearson r ``r`` (its depth equivalence).

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


def depth_equivalence_entry(rows: list[dict], order: list[str], depth_tracks: dict, multiples: dict) -> dict:
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
    return {"series": {f"{k:g}": nan_to_none(v) for k, v in series.items()}, "by_track": by_track}


def format_depth(d: dict | None) -> str:
    """``{"multiple": 4.2, "bound": "="}`` -> ``"4.2x"`` (``"> 16x"`` beyond the series)."""
    if not d:
        return "n/a"
    bound = "" if d["bound"] == "=" else d["bound"] + " "
    return f"{bound}{d['multiple']:.1f}x"
