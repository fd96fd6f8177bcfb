"""Imputation metrics: masked MAE / MSE / RMSE / MRE on the hidden entries, and the L2 distance.

:func:`masked_mae`, :func:`masked_mse`, :func:`masked_rmse`, :func:`masked_mre` follow PyPOTS's
``calc_*`` (also SAITS, BRITS), scored only where the mask is set (the artificially hidden
entries; a NaN target outside the mask is ignored, inside it propagates). :func:`l2_distance` is
the TFiLM paper's "L2 distance" (Appendix H, Table 10) over all steps. Full citations in
:mod:`chipsr.core.metrics`.
"""

from __future__ import annotations

import math

import torch

from chipsr.core.metrics._inputs import ArrayLike, _pair, _to_mask

__all__ = ["masked_mae", "masked_mse", "masked_rmse", "masked_mre", "l2_distance"]


def _masked_terms(pred: ArrayLike, target: ArrayLike, mask: ArrayLike):
    p, t = _pair(pred, target, ("pred", "target"))
    m = _to_mask(mask, p.shape, p.device)
    zero = torch.zeros((), dtype=p.dtype, device=p.device)
    # torch.where, not multiplication: NaN * 0 is NaN, and targets are NaN where truly missing.
    abs_err = torch.where(m, (p - t).abs(), zero)
    return p, t, m, abs_err, zero


def masked_mae(pred: ArrayLike, target: ArrayLike, mask: ArrayLike) -> float:
    """Mean absolute error on the evaluated (artificially hidden) entries.

    MAE = sum(|pred - target| * mask) / sum(mask), the PyPOTS ``calc_mae`` convention
    (also SAITS, BRITS, CSDI, TSI-Bench), without PyPOTS's +1e-12 in the denominator.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_samples, n_steps, n_features) or any
        matching shape
        Imputed values and ground truth (NaN allowed in ``target`` outside the mask, where the
        value is truly missing; it is ignored).
    mask : array of bool or 0/1, broadcastable to ``pred.shape``
        1 / True = evaluate this entry (the entries hidden before imputation).

    Returns
    -------
    float
        In the units of the data; NaN if the mask selects nothing, or if ``pred`` or ``target``
        is NaN on a selected entry.

    Raises
    ------
    ValueError
        If the shapes differ (both named) or ``mask`` does not broadcast or holds values other
        than 0/1.
    """
    _, _, m, abs_err, _ = _masked_terms(pred, target, mask)
    return float(abs_err.sum() / m.sum())


def masked_mse(pred: ArrayLike, target: ArrayLike, mask: ArrayLike) -> float:
    """Mean squared error on the evaluated entries: sum((pred - target)^2 * mask) / sum(mask).

    PyPOTS ``calc_mse`` convention (without its +1e-12). Shapes, mask, NaN rules and errors as
    :func:`masked_mae`.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_samples, n_steps, n_features) or any
        matching shape
        Imputed values and ground truth.
    mask : array of bool or 0/1, broadcastable to ``pred.shape``
        1 / True = evaluate this entry.

    Returns
    -------
    float
        In squared units of the data; NaN if the mask selects nothing.

    Raises
    ------
    ValueError
        As :func:`masked_mae`.
    """
    _, _, m, abs_err, _ = _masked_terms(pred, target, mask)
    return float((abs_err**2).sum() / m.sum())


def masked_rmse(pred: ArrayLike, target: ArrayLike, mask: ArrayLike) -> float:
    """Root mean squared error on the evaluated entries: sqrt(:func:`masked_mse`).

    PyPOTS ``calc_rmse`` convention (one square root of the pooled MSE, not a mean of per-sample
    RMSEs; compare :func:`l2_distance`). Shapes, mask, NaN rules and errors as :func:`masked_mae`.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_samples, n_steps, n_features) or any
        matching shape
        Imputed values and ground truth.
    mask : array of bool or 0/1, broadcastable to ``pred.shape``
        1 / True = evaluate this entry.

    Returns
    -------
    float
        In the units of the data; NaN if the mask selects nothing.

    Raises
    ------
    ValueError
        As :func:`masked_mae`.
    """
    return math.sqrt(masked_mse(pred, target, mask))


def masked_mre(pred: ArrayLike, target: ArrayLike, mask: ArrayLike) -> float:
    """Mean relative error on the evaluated entries.

    MRE = sum(|pred - target| * mask) / sum(|target| * mask), the PyPOTS ``calc_mre`` convention
    (a ratio of sums, reported as a percentage in SAITS / TSI-Bench tables), without PyPOTS's
    +1e-12. Shapes, mask, NaN rules and errors as :func:`masked_mae`.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_samples, n_steps, n_features) or any
        matching shape
        Imputed values and ground truth.
    mask : array of bool or 0/1, broadcastable to ``pred.shape``
        1 / True = evaluate this entry.

    Returns
    -------
    float
        Dimensionless fraction (multiply by 100 for %); ``inf`` if the target is 0 on every
        selected entry but the error is not, NaN if the mask selects nothing.

    Raises
    ------
    ValueError
        As :func:`masked_mae`.
    """
    _, t, m, abs_err, zero = _masked_terms(pred, target, mask)
    return float(abs_err.sum() / torch.where(m, t.abs(), zero).sum())


def l2_distance(pred: ArrayLike, target: ArrayLike) -> float:
    """The TFiLM paper's "L2 distance" for imputation: mean over series of per-series RMSE.

    L2 = 1/S sum_s sqrt( 1/T sum_t (pred[s, t] - target[s, t])^2 ), over **all** T steps (hidden
    or not), in raw units (Birnbaum et al. 2019, Appendix H, Table 10: Favorita grocery sales,
    one series per item, T = 1024 days). The reference code's training objective is the same
    quantity per example with +1e-6 under the root; none is added here.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_series, n_steps)
        Axis 0 indexes the series (items); axis 1 is time (days). Transposing the inputs changes
        the value.

    Returns
    -------
    float
        In the units of the data; NaN if any entry is NaN.

    Raises
    ------
    ValueError
        If the shapes differ (both named) or are not 2-dimensional.
    """
    p, t = _pair(pred, target, ("pred", "target"))
    if p.ndim != 2:
        raise ValueError(
            f"l2_distance needs arrays of shape (n_series, n_steps); got shape {tuple(p.shape)}"
        )
    return float(torch.sqrt(((p - t) ** 2).mean(dim=1)).mean())
