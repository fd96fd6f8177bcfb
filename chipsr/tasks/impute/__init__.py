"""Time-series imputation (``chipsr impute``): fill the missing values of multivariate series.

The task of Birnbaum et al. 2019, "Temporal FiLM: Capturing Long-Range Sequence Dependencies with
Feature-Wise Modulations" (doi:10.48550/arXiv.1909.06628, appendix H), benchmarked with the
protocol of SAITS (Du, Côté, Liu 2023, "SAITS: Self-Attention-based Imputation for Time Series",
doi:10.1016/j.eswa.2023.119619).

Arrays follow the field's convention (PyPOTS, SAITS, BRITS, TSI-Bench): ``(n_samples, n_steps,
n_features)`` float arrays with NaN for missing values; masks are 0/1 arrays of the same shape
(``missing_mask``: 1 = observed; ``indicating_mask``: 1 = artificially hidden, i.e. evaluated).

Modules
-------
data
    Loaders (Beijing Air-Quality, ETT, wide CSV; and, as arrays, a user's Favorita ``train.csv``),
    the SAITS split, standardisation, windowing and seeded artificial missingness (MCAR points,
    contiguous blocks). Files are read through :mod:`chipsr.io.series`.
baselines
    Non-learned imputers: ZeroFill, Mean, LOCF, Linear, CubicSpline.
config
    :class:`~chipsr.tasks.impute.config.ImputerConfig`: the imputer's settings and their defaults
    (torch-free, so the CLI reads them cheaply).
model
    :class:`~chipsr.tasks.impute.model.Imputer`: a ``chipsr.core`` network (TFiLM U-Net, Conv
    U-Net) or a dense DNN trained to restore hidden values; ``fit`` / ``predict`` / ``impute``.
train
    ``chipsr impute train``: load a data set's split, fit, save the checkpoint, its epochs TSV and
    its splits JSON.
evaluate
    The benchmark (masked MAE / RMSE / MRE and the paper's L2 distance, mean +- std over seeds)
    and its TSV / JSON / Markdown / PNG writers (the PNG is drawn by
    :func:`chipsr.plots.imputation_example`).
fill
    ``chipsr impute fill``: fill the blank cells of a wide CSV with a trained model, keeping every
    observed value.
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
