"""The time-series imputation commands of the public Python API (``chipsr impute ...``).

One function per command; each command's defaults are the fields of one settings dataclass here
(:class:`TrainSettings`, :class:`FillSettings`, :class:`EvaluateSettings`), which the CLI reads for
its option defaults and help. The imputer's own settings take their defaults from
:class:`chipsr.tasks.impute.config.ImputerConfig`, so ``Imputer(...)`` in Python and
``chipsr impute train`` train the same model. Each function sets torch's CPU threads and calls the
task in :mod:`chipsr.tasks.impute`.

Importing this module imports nothing heavy (``chipsr impute --help`` stays fast).

Example
-------
>>> from chipsr.api import impute
>>> impute.train("beijing_air_quality/", "beijing", "tfilm.pt", epochs=10)
>>> impute.fill("gappy.csv", "filled.csv", "tfilm.pt")
>>> impute.evaluate("beijing_air_quality/", "beijing", "results.tsv", models=["TFiLM=tfilm.pt"])
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from chipsr.api.common import (
    DEVICE_HELP,
    THREADS_HELP,
    command_settings,
    named_paths,
    setting,
)
from chipsr.errors import ChipsrInputError
from chipsr.tasks.impute.config import ImputerConfig as _C

_WIND_HELP = "Beijing wind direction: dropped (132 series) or sine/cosine columns (156)."


@dataclass(frozen=True)
class TrainSettings:
    """Settings of :func:`train` (``chipsr impute train``); the model fields default to
    :class:`~chipsr.tasks.impute.config.ImputerConfig`'s."""

    arch: str = setting(_C.arch, "TFiLM U-Net, the same U-Net without TFiLM, or a dense network (the paper's DNN "
                                 "row).")
    window: int = setting(_C.n_steps, "Window length in steps.")
    mask_rate: tuple = setting(_C.mask_rate, "Share of the observed values hidden per training window (RATE or "
                                             "LOW,HIGH drawn uniformly).")
    block_prob: float = setting(_C.block_prob, "Probability that a training window hides contiguous blocks instead "
                                               "of points.")
    block_len: tuple = setting(_C.block_len, "Block length range in steps (N or LOW,HIGH).")
    mask_channel: bool = setting(_C.mask_channel, "Give the mask as an input channel (--no-mask-channel "
                                                  "--no-linear-channel: the paper's setting).")
    linear_channel: bool = setting(_C.linear_channel, "Give linear interpolation as an input channel and predict a "
                                                      "correction of it.")
    local_skip: bool = setting(_C.local_skip, "Add a full-resolution linear Conv1d(3) path to the network output.")
    depth: int = setting(_C.depth, "U-Net levels: down blocks (K) before the bottleneck.")
    width: float = setting(_C.width, "U-Net width multiplier (1 = the paper's 128..512 filters).")
    block_size: int | None = setting(_C.block_size, "TFiLM block length in steps (a multiple of 2**(depth+1)) "
                                                    "[default: 2**(depth+1)].")
    hidden: int = setting(_C.hidden, "DNN units per layer.")
    dropout: float = setting(_C.dropout, "Dropout rate.")
    loss: str = setting(_C.loss, "Masked loss on the hidden entries.")
    epochs: int = setting(_C.epochs, "Training epochs (at most).")
    finetune_epochs: int = setting(_C.finetune_epochs, "Extra epochs at lr/10 from the best weights.")
    windows_per_epoch: int | None = setting(_C.windows_per_epoch, "Training windows drawn per epoch [default: "
                                                                  "training steps / window].")
    batch_size: int = setting(_C.batch_size, "Windows per optimiser step.")
    lr: float = setting(_C.lr, "Learning rate (Adam).")
    patience: int | None = setting(_C.patience, "Early stopping: epochs without a lower validation loss.")
    valid_fraction: float = setting(0.1, "--dataset csv: share of the last rows used for validation.")
    wind: str = setting("drop", _WIND_HELP)
    seed: int = setting(_C.seed, "Random seed.")
    device: str | None = setting(None, DEVICE_HELP)
    threads: int = setting(1, THREADS_HELP)


@dataclass(frozen=True)
class FillSettings:
    """Settings of :func:`fill` (``chipsr impute fill``)."""

    batch_size: int = setting(64, "Windows per forward pass.")
    device: str | None = setting(None, DEVICE_HELP)
    threads: int = setting(1, THREADS_HELP)


@dataclass(frozen=True)
class EvaluateSettings:
    """Settings of :func:`evaluate` (``chipsr impute evaluate``)."""

    models: tuple = setting((), "A trained imputer to score (repeatable); NAME defaults to the file stem.")
    baselines: tuple = setting(("ZeroFill", "Mean", "LOCF", "Linear", "CubicSpline"),
                               "Comma-separated non-learned methods ('' for none).")
    rates: tuple = setting((0.1, 0.2, 0.3), "MCAR rates (share of observed values).")
    blocks: bool = setting(True, "Also the contiguous-block setting.")
    block_len: int = setting(8, "Block length in steps.")
    block_rate: float = setting(0.1, "Share of observed values hidden in blocks.")
    seeds: int = setting(3, "Number of hiding seeds (0..N-1).")
    window: int = setting(24, "Test windows of the 'window' context (24 = SAITS).")
    contexts: tuple = setting(("window", "series"), "window: each test window on its own; series: each series whole.")
    plot_feature: str | None = setting(None, "Series drawn in the PNG [default: the first].")
    wind: str = setting("drop", _WIND_HELP)
    threads: int = setting(1, THREADS_HELP)


def train(data_path: str | os.PathLike, dataset: str, output: str | os.PathLike,
          settings: TrainSettings | None = None, progress: bool = True, **overrides) -> dict:
    """Train an imputer; writes the checkpoint ``output``, ``OUTPUT.epochs.tsv`` and
    ``OUTPUT.splits.json``. See :func:`chipsr.tasks.impute.train.train_imputer`.

    Parameters
    ----------
    data_path : path
        Beijing station directory, ETT directory or file, or a wide CSV.
    dataset : {"beijing", "ett", "csv"}
        beijing: SAITS split (train = last 28 months); ett: Informer 12/4/4-month split; csv: the
        last ``valid_fraction`` of the rows validate.
    settings : TrainSettings, optional
    **overrides
        Fields of :class:`TrainSettings`.

    Returns
    -------
    dict
        best_epoch, best_valid_loss, epochs, seconds, features, train_steps, valid_steps.
    """
    from chipsr.tasks.impute.train import train_imputer

    s = command_settings(TrainSettings, settings, overrides)
    model = {k: v for k, v in vars(s).items() if k not in ("window", "valid_fraction", "wind", "device", "threads")}
    return train_imputer(data_path, dataset, output, valid_fraction=s.valid_fraction, wind=s.wind, device=s.device,
                         progress=progress, n_steps=s.window, **model)


def fill(input_csv: str | os.PathLike, output: str | os.PathLike, model: str | os.PathLike,
         settings: FillSettings | None = None, **overrides):
    """Fill the blank / NaN cells of a wide CSV (time index first, one column per series) with a
    trained imputer; observed cells are copied verbatim. See
    :func:`chipsr.tasks.impute.fill.fill_csv`.

    Returns
    -------
    chipsr.tasks.impute.fill.FillStats
    """
    from chipsr.tasks.impute.fill import fill_csv

    s = command_settings(FillSettings, settings, overrides)
    return fill_csv(input_csv, output, model, batch_size=s.batch_size, device=s.device)


def evaluate(data_path: str | os.PathLike, dataset: str, output: str | os.PathLike,
             settings: EvaluateSettings | None = None, **overrides) -> dict[str, Any]:
    """Score imputers and baselines on artificially hidden test values (masked MAE / RMSE / MRE
    and the paper's L2 distance, mean ± std over seeds); ``output`` = ``X.tsv`` (or ``X``) also
    writes X.json, X.md and X.png. See :func:`chipsr.tasks.impute.evaluate.run`.

    Returns
    -------
    dict
        The four paths written, by extension.

    Raises
    ------
    ChipsrInputError
        A rate outside (0, 1) or a model name given twice (before any work), or the task's errors.
    """
    from chipsr.io.atomic import check_output_path
    from chipsr.tasks.impute.evaluate import output_paths, run, write_results

    s = command_settings(EvaluateSettings, settings, overrides)
    bad = [v for v in s.rates if not 0 < float(v) < 1]
    if bad:
        raise ChipsrInputError(f"--rates: each rate must be in (0, 1) (a share of the observed values); "
                               f"got {float(bad[0]):g}")
    models = dict(named_paths(s.models))
    for p in output_paths(output).values():
        check_output_path(p)
    result = run(dataset, data_path, models=models, settings=[str(float(v)) for v in s.rates] + ["block"] * s.blocks,
                 seeds=tuple(range(s.seeds)), window=s.window, contexts=tuple(s.contexts),
                 baselines=tuple(s.baselines), block_len=s.block_len, block_rate=s.block_rate, wind=s.wind,
                 plot_feature=s.plot_feature)
    return write_results(result, output)
