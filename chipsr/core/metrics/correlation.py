"""Track metrics (ChIP-seq): Pearson r, Spearman r and MSE, NaN- and mask-aware.

A pair is dropped when either side is NaN or the mask is False there (e.g. inside / outside
peaks, blacklist excluded); ``dim`` gives one value per slice. Conventions of the TFiLM paper's
ChIP-seq experiment (Birnbaum et al. 2019, Section 4.2), Coda (Koh et al. 2017) and AtacWorks
(Lal et al. 2021); full citations in :mod:`chipsr.core.metrics`.
"""

from __future__ import annotations

import math

import torch

from chipsr.core.metrics._inputs import (
    ArrayLike,
    _as_rows,
    _finish,
    _pair,
    _valid_pairs,
)

__all__ = ["pearson_r", "spearman_r", "mse"]


def _valid_rows(x: ArrayLike, y: ArrayLike, mask: ArrayLike | None, dim: int | None):
    """The pair rule of every metric here: ``(x, y, valid, out_shape)`` with x, y as float64 (R, L)
    rows (one row when ``dim`` is None) and ``valid`` False where either side is NaN or ``mask`` is
    False; ``out_shape`` is the result's shape (None for one value)."""
    xt, yt = _pair(x, y)
    return _as_rows(xt, yt, _valid_pairs(xt, yt, mask), dim)


def _pearson_rows(x: torch.Tensor, y: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Pearson r of each row of (R, L) float64 arrays over the ``valid`` entries; NaN when a row
    has < 2 valid pairs or a side is constant on them."""
    n = valid.sum(dim=-1)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    xv, yv = torch.where(valid, x, zero), torch.where(valid, y, zero)
    nf = n.clamp(min=1).to(x.dtype)
    mx = xv.sum(-1, keepdim=True) / nf[:, None]
    my = yv.sum(-1, keepdim=True) / nf[:, None]
    dx = torch.where(valid, x - mx, zero)
    dy = torch.where(valid, y - my, zero)
    sxy, sxx, syy = (dx * dy).sum(-1), (dx * dx).sum(-1), (dy * dy).sum(-1)
    r = (sxy / (torch.sqrt(sxx) * torch.sqrt(syy))).clamp(-1.0, 1.0)
    # constant detection on the raw values: centring a constant in floating point can leave
    # rounding noise whose "correlation" is meaningless.
    inf = torch.tensor(math.inf, dtype=x.dtype, device=x.device)
    x_const = torch.where(valid, x, -inf).amax(-1) == torch.where(valid, x, inf).amin(-1)
    y_const = torch.where(valid, y, -inf).amax(-1) == torch.where(valid, y, inf).amin(-1)
    undefined = (n < 2) | x_const | y_const
    return torch.where(undefined, torch.full_like(r, math.nan), r)


def _average_ranks_rows(v: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Average ranks (1-based; ties get the mean of their positions) of each row's valid entries.

    Invalid entries become NaN, which ``torch.sort`` places after every number (+inf included) and
    which never equals anything, so they neither share nor shift the ranks of valid entries.
    """
    v = torch.where(valid, v, torch.full_like(v, math.nan))
    n_rows, length = v.shape
    sorted_v, order = torch.sort(v, dim=-1, stable=True)
    new_group = torch.ones_like(sorted_v, dtype=torch.bool)
    new_group[:, 1:] = sorted_v[:, 1:] != sorted_v[:, :-1]
    group = torch.cumsum(new_group.to(torch.int64), dim=-1) - 1
    pos = torch.arange(1, length + 1, dtype=v.dtype, device=v.device).expand(n_rows, length)
    pos_sum = torch.zeros_like(v).scatter_add_(-1, group, pos)
    count = torch.zeros_like(v).scatter_add_(-1, group, torch.ones_like(v))
    rank_sorted = (pos_sum / count.clamp(min=1)).gather(-1, group)
    return torch.empty_like(v).scatter_(-1, order, rank_sorted)


def pearson_r(
    x: ArrayLike, y: ArrayLike, mask: ArrayLike | None = None, dim: int | None = None
) -> float | torch.Tensor:
    """Pearson correlation coefficient, NaN- and mask-aware.

    r = sum((x - mean x)(y - mean y)) / sqrt(sum((x - mean x)^2) sum((y - mean y)^2)), over the
    pairs where neither ``x`` nor ``y`` is NaN and ``mask`` is True. This is the metric of the TFiLM
    paper's ChIP-seq experiment (Birnbaum et al. 2019, Section 4.2, Table 2) and of Coda
    (Koh et al. 2017) and AtacWorks (Lal et al. 2021), which also report it inside / outside peaks
    (pass the peak mask or its complement).

    Parameters
    ----------
    x, y : torch.Tensor or numpy.ndarray, shape (...) (the same shape, e.g. (L,) or (N, L))
        Two tracks, e.g. predicted and high-depth signal per bin (any units: r is scale-free).
    mask : array of bool or 0/1, broadcastable to ``x.shape``, optional
        True / 1 = use this position (e.g. non-blacklisted bins, bins inside peaks).
    dim : int, optional
        ``None`` (default): one r over all valid pairs of the flattened arrays. An int (e.g. -1):
        one r per slice along ``dim`` (e.g. per row of an (N, L) array).

    Returns
    -------
    float or torch.Tensor
        ``float`` in [-1, 1] when ``dim`` is None; otherwise a float64 tensor of ``x.shape``
        without ``dim`` (e.g. (N,)). NaN (not an exception) where fewer than 2 valid pairs remain
        or either side is constant on them (r is undefined there).

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape (both shapes are named), ``mask`` does not broadcast or
        holds values other than 0/1, or ``dim`` is out of range.
    """
    xr, yr, vr, out_shape = _valid_rows(x, y, mask, dim)
    return _finish(_pearson_rows(xr, yr, vr), out_shape)


def spearman_r(
    x: ArrayLike, y: ArrayLike, mask: ArrayLike | None = None, dim: int | None = None
) -> float | torch.Tensor:
    """Spearman rank correlation: Pearson r of the average ranks, NaN- and mask-aware.

    Pairs where either side is NaN or ``mask`` is False are dropped first; the remaining values
    of each side are ranked 1..n, tied values getting the mean of the ranks they span (the
    "average" method of ``scipy.stats.rankdata`` and ``pandas.Series.rank``); r is the Pearson
    correlation of the two rank vectors (Spearman 1904; the definition AtacWorks, Lal et al. 2021,
    reports beside Pearson r for denoised tracks).

    Parameters
    ----------
    x, y : torch.Tensor or numpy.ndarray, shape (...) (the same shape, e.g. (L,) or (N, L))
        Two tracks (any units).
    mask : array of bool or 0/1, broadcastable to ``x.shape``, optional
        True / 1 = use this position.
    dim : int, optional
        ``None`` (default): one coefficient over the flattened arrays; an int: one per slice
        along ``dim`` (ranks are taken within each slice).

    Returns
    -------
    float or torch.Tensor
        ``float`` in [-1, 1] when ``dim`` is None, else a float64 tensor of ``x.shape`` without
        ``dim``. NaN where fewer than 2 valid pairs remain or a side is constant on them.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape (both named), ``mask`` is malformed, or ``dim`` is out
        of range.
    """
    xr, yr, vr, out_shape = _valid_rows(x, y, mask, dim)
    rx, ry = _average_ranks_rows(xr, vr), _average_ranks_rows(yr, vr)
    return _finish(_pearson_rows(rx, ry, vr), out_shape)


def mse(
    x: ArrayLike, y: ArrayLike, mask: ArrayLike | None = None, dim: int | None = None
) -> float | torch.Tensor:
    """Mean squared error over the valid pairs (same pair rule as :func:`pearson_r`).

    MSE = mean((x - y)^2) over the pairs where neither side is NaN and ``mask`` is True, so that
    MSE and r of a track are computed on the same bins (Coda, Koh et al. 2017, reports both over
    all bins and inside peaks). For imputation, where a NaN inside the evaluated set must *not* be
    skipped, use :func:`masked_mse`.

    Parameters
    ----------
    x, y : torch.Tensor or numpy.ndarray, shape (...) (the same shape)
        Prediction and target, in the same units.
    mask : array of bool or 0/1, broadcastable to ``x.shape``, optional
        True / 1 = use this position.
    dim : int, optional
        ``None``: one value over everything; an int: one value per slice along ``dim``.

    Returns
    -------
    float or torch.Tensor
        In squared units of the inputs; NaN where no valid pair remains.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape (both named), ``mask`` is malformed, or ``dim`` is out
        of range.
    """
    xr, yr, vr, out_shape = _valid_rows(x, y, mask, dim)
    sq = torch.where(vr, (xr - yr) ** 2, torch.zeros((), dtype=xr.dtype, device=xr.device))
    return _finish(sq.sum(-1) / vr.sum(-1).to(xr.dtype), out_shape)
