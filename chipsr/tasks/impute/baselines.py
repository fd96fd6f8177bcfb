"""Non-learned imputers with the PyPOTS interface: ``fit(train, valid)``, ``predict``, ``impute``.

All work along the time axis of ``(n_samples, n_steps, n_features)`` arrays (NaN = missing),
each (sample, feature) series on its own, and return observed values unchanged.

========================  ==========================================================================
name                      fills a missing value with
========================  ==========================================================================
``ZeroFill``              0 (in the units of the array given). The TFiLM paper's "Spline" row: its
                          spline was fitted on the zero-filled grid, so it returned the zero-filled
                          input (TFiLM paper, appendix H).
``Mean``                  the feature's mean over the training data (``fit``), or over ``X``.
``LOCF``                  the last observation before it; leading gaps take the first observation
                          after them (NOCB).
``Linear``                linear interpolation between the observations before and after it; the
                          end values are held constant before the first / after the last one.
``CubicSpline``           a cubic spline (``scipy.interpolate.CubicSpline``, not-a-knot) through
                          the observed points, held constant outside them like ``Linear``.
========================  ==========================================================================

A series with no observed value at all is filled with the feature's mean (``fit`` data, else the
mean over ``X``, else 0). These baselines are affine-equivariant per feature (except ZeroFill and
Mean's fallback), so standardising before or after gives the same standardised errors.
"""

from __future__ import annotations

import numpy as np

from chipsr.tasks.impute.data import as_3d

__all__ = ["BASELINES", "LOCF", "CubicSpline", "Linear", "Mean", "ZeroFill", "linear_fill", "locf_fill"]


def _series(X: np.ndarray) -> np.ndarray:
    """(n, T, F) -> (n * F, T) copy, series-major."""
    n, t, f = X.shape
    return np.ascontiguousarray(X.transpose(0, 2, 1).reshape(n * f, t))


def _unseries(S: np.ndarray, shape) -> np.ndarray:
    n, t, f = shape
    return S.reshape(n, f, t).transpose(0, 2, 1).copy()


def _neighbours(valid: np.ndarray):
    """Index of the previous (-1 if none) and next (T if none) observed step, per position."""
    t = valid.shape[1]
    idx = np.arange(t)
    prev = np.maximum.accumulate(np.where(valid, idx, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(valid, idx, t)[:, ::-1], axis=1)[:, ::-1]
    return prev, nxt


def linear_fill(S: np.ndarray) -> np.ndarray:
    """Linear interpolation along axis 1 of a 2-D array ``(n_series, T)``; ends held constant.

    Fully vectorised (no Python loop over series). Series without an observed value stay NaN.
    """
    S = np.asarray(S, float)
    valid = ~np.isnan(S)
    prev, nxt = _neighbours(valid)
    t = S.shape[1]
    rows = np.arange(S.shape[0])[:, None]
    p = np.where(prev >= 0, prev, nxt)
    q = np.where(nxt < t, nxt, prev)
    p_c, q_c = np.clip(p, 0, t - 1), np.clip(q, 0, t - 1)
    yp, yq = S[rows, p_c], S[rows, q_c]
    span = (q - p).astype(float)
    w = np.divide(np.arange(t)[None, :] - p, span, out=np.zeros_like(span), where=span > 0)
    out = yp + (yq - yp) * w
    out[p < 0] = np.nan  # no observation at all
    return np.where(valid, S, out)


def locf_fill(S: np.ndarray) -> np.ndarray:
    """Last observation carried forward along axis 1 of ``(n_series, T)``; leading gaps take
    the next observation; series without an observed value stay NaN."""
    S = np.asarray(S, float)
    valid = ~np.isnan(S)
    prev, nxt = _neighbours(valid)
    t = S.shape[1]
    src = np.where(prev >= 0, prev, nxt)
    rows = np.arange(S.shape[0])[:, None]
    out = S[rows, np.clip(src, 0, t - 1)]
    out[src >= t] = np.nan
    return np.where(valid, S, out)


def spline_fill(S: np.ndarray) -> np.ndarray:
    """Cubic spline through the observed points of each row of ``(n_series, T)``, held constant
    before the first and after the last observation. One observed point: constant; none: NaN."""
    from scipy.interpolate import CubicSpline as _CS

    S = np.asarray(S, float)
    out = linear_fill(S)  # also covers the ends (held constant) and rows with < 3 points
    valid = ~np.isnan(S)
    idx = np.arange(S.shape[1])
    need = np.flatnonzero((~valid).any(1) & (valid.sum(1) >= 3))
    for r in need:
        v = valid[r]
        x = idx[v]
        inside = ~v & (idx > x[0]) & (idx < x[-1])
        if inside.any():
            out[r, inside] = _CS(x, S[r, v], bc_type="not-a-knot")(idx[inside])
    return out


class _Baseline:
    """Common PyPOTS-shaped interface; subclasses implement ``_fill_series``."""

    name = "baseline"

    def __init__(self) -> None:
        self.feature_mean: np.ndarray | None = None

    def fit(self, train_set, valid_set=None) -> _Baseline:
        """Store the per-feature mean of ``train_set`` (used by :class:`Mean` and as the fallback
        for all-missing series). ``train_set``: an array ``(n, T, F)`` or a dict with key ``"X"``."""
        X = as_3d(train_set["X"] if isinstance(train_set, dict) else train_set)
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                self.feature_mean = np.nanmean(X.reshape(-1, X.shape[-1]), axis=0)
        return self

    def _means(self, X: np.ndarray) -> np.ndarray:
        import warnings

        if self.feature_mean is not None and len(self.feature_mean) == X.shape[-1]:
            m = self.feature_mean
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                m = np.nanmean(X.reshape(-1, X.shape[-1]), axis=0)
        return np.where(np.isfinite(m), m, 0.0)

    def _fill_series(self, S: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def impute(self, X) -> np.ndarray:
        """``X`` (n_samples, n_steps, n_features) or (n_steps, n_features) with NaN -> filled
        float64 array of the same shape; observed entries are returned unchanged."""
        X0 = np.asarray(X, float)
        X3 = as_3d(X0)
        out = _unseries(self._fill_series(_series(X3)), X3.shape)
        nan = np.isnan(out)
        if nan.any():
            out = np.where(nan, np.broadcast_to(self._means(X3), out.shape), out)
        out = np.where(np.isnan(X3), out, X3)
        return out.reshape(X0.shape)

    def predict(self, test_set) -> dict:
        """``{"imputation": impute(X)}``; ``test_set`` is an array or a dict with key ``"X"``."""
        X = test_set["X"] if isinstance(test_set, dict) else test_set
        return {"imputation": self.impute(X)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ZeroFill(_Baseline):
    """Missing -> 0 (the TFiLM paper's "Spline" row, which returned the zero-filled input)."""

    name = "ZeroFill"

    def _fill_series(self, S):
        return np.where(np.isnan(S), 0.0, S)


class Mean(_Baseline):
    """Missing -> the feature's mean over the ``fit`` data (over ``X`` when not fitted)."""

    name = "Mean"

    def _fill_series(self, S):
        return S  # every NaN takes the feature mean in impute()


class LOCF(_Baseline):
    """Last observation carried forward; leading gaps: next observation carried backward."""

    name = "LOCF"

    def _fill_series(self, S):
        return locf_fill(S)


class Linear(_Baseline):
    """Linear interpolation in time; constant before the first and after the last observation."""

    name = "Linear"

    def _fill_series(self, S):
        return linear_fill(S)


class CubicSpline(_Baseline):
    """Not-a-knot cubic spline through the observed points; constant outside them."""

    name = "CubicSpline"

    def _fill_series(self, S):
        return spline_fill(S)


BASELINES = {cls.name: cls for cls in (ZeroFill, Mean, LOCF, Linear, CubicSpline)}
