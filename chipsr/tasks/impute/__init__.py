"""Time-series imputation (TFiLM paper, appendix H): fill the missing values of multivariate series.

Arrays follow the field's convention (PyPOTS, SAITS, BRITS, TSI-Bench): ``(n_samples, n_steps,
n_features)`` float arrays with NaN for missing values; masks are 0/1 arrays of the same shape
(``missing_mask``: 1 = observed; ``indicating_mask``: 1 = artificially hidden, i.e. evaluated).

Modules
-------
data
    Loaders (Beijing Air-Quality, ETT, a user's Favorita ``train.csv``, wide CSV), the SAITS split,
    standardisation, windowing and seeded artificial missingness (MCAR points, contiguous blocks).
baselines
    Non-learned imputers: ZeroFill, Mean, LOCF, Linear, CubicSpline.
model
    :class:`~chipsr.tasks.impute.model.Imputer`: a ``chipsr.core`` network (TFiLM U-Net, Conv
    U-Net) or a dense DNN trained to restore hidden values; ``fit`` / ``predict`` / ``impute``.
evaluate
    The benchmark (masked MAE / RMSE / MRE and the paper's L2 distance, mean +- std over seeds)
    and its TSV / JSON / Markdown / PNG writers.
fill
    Fill the blank cells of a wide CSV with a trained model, keeping every observed value.
"""

from __future__ import annotations

__all__ = ["BASELINES", "Imputer"]


def __getattr__(name):  # lazy: importing the package must not import torch
    if name == "Imputer":
        from chipsr.tasks.impute.model import Imputer

        return Imputer
    if name == "BASELINES":
        from chipsr.tasks.impute.baselines import BASELINES

        return BASELINES
    raise AttributeError(name)
