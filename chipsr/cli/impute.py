"""``chipsr impute train | fill | evaluate``: time-series imputation (TFiLM paper, appendix H).

Each command parses its options and calls one function of :mod:`chipsr.api.impute`; option
defaults and help come from that module's settings dataclasses.
"""

from __future__ import annotations

import click

from chipsr.api import impute as api
from chipsr.cli.options import (
    device_option,
    output_option,
    seed_option,
    setting_option,
    threads_option,
)
from chipsr.cli.types import CommaList, GuardedGroup, renamed_options


def _pair_option(cast, valid, expected: str, rule: str):
    """A click callback parsing ``X`` or ``LOW,HIGH`` into a (low, high) tuple."""

    def callback(ctx, param, value):
        try:
            parts = [cast(v) for v in str(value).split(",")]
        except ValueError:
            raise click.BadParameter(f"expected {expected}; got {value!r}") from None
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2 or not valid(*parts):
            raise click.BadParameter(f"{rule}; got {value!r}")
        return tuple(parts)

    return callback


_rate_range = _pair_option(float, lambda lo, hi: 0 < lo <= hi < 1, "RATE or LOW,HIGH",
                           "rates must satisfy 0 < LOW <= HIGH < 1")
_int_range = _pair_option(int, lambda lo, hi: 1 <= lo <= hi, "N or LOW,HIGH",
                          "lengths must satisfy 1 <= LOW <= HIGH")


def _train_option(name: str, *decls: str, **kwargs):
    return setting_option(api.TrainSettings, name, *decls, **kwargs)


def _evaluate_option(name: str, *decls: str, **kwargs):
    return setting_option(api.EvaluateSettings, name, *decls, **kwargs)


_data_option = click.option("--data", "data_path", required=True, type=click.Path(exists=True),
                            help="Beijing station directory, ETT directory or file, or a wide CSV.")


@click.group(cls=GuardedGroup)
def impute() -> None:
    """Fill missing values of multivariate time series (TFiLM U-Net, Conv U-Net, DNN, baselines).

    Data: Beijing Air-Quality (132 series), ETT, or a wide CSV (first column the time index,
    one row per step, one column per series; blank or NaN = missing).
    """


@renamed_options({"--depth": "--unet-depth"})
@impute.command()
@_data_option
@click.option("--dataset", type=click.Choice(["beijing", "ett", "csv"]), required=True,
              help="beijing: SAITS split (train = last 28 months); ett: Informer 12/4/4-month split; "
                   "csv: the last --valid-fraction of the rows validate.")
@output_option(suffixes=(".epochs.tsv", ".splits.json"))
@_train_option("arch", type=click.Choice(["tfilm", "conv", "dnn"]))
@_train_option("window", type=click.IntRange(min=2))
@_train_option("mask_rate", callback=_rate_range)
@_train_option("block_prob", type=click.FloatRange(0, 1))
@_train_option("block_len", callback=_int_range)
@_train_option("mask_channel", "--mask-channel/--no-mask-channel")
@_train_option("linear_channel", "--linear-channel/--no-linear-channel")
@_train_option("local_skip", "--local-skip/--no-local-skip")
@_train_option("depth", "--unet-depth", type=click.IntRange(min=1))
@_train_option("width", type=click.FloatRange(min=0, min_open=True))
@_train_option("block_size", type=click.IntRange(min=1))
@_train_option("hidden", type=click.IntRange(min=1))
@_train_option("dropout", type=click.FloatRange(0, 1))
@_train_option("loss", type=click.Choice(["l1", "mse"]))
@_train_option("epochs", type=click.IntRange(min=1))
@_train_option("finetune_epochs", type=click.IntRange(min=0))
@_train_option("windows_per_epoch", type=click.IntRange(min=1))
@_train_option("batch_size", type=click.IntRange(min=1))
@_train_option("lr", type=click.FloatRange(min=0, min_open=True))
@_train_option("patience", type=click.IntRange(min=1))
@_train_option("valid_fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True))
@_train_option("wind", type=click.Choice(["drop", "sincos"]))
@seed_option(api.TrainSettings)
@device_option(api.TrainSettings)
@threads_option(api.TrainSettings)
def train(data_path, dataset, output, **options) -> None:
    """Train an imputer; writes the checkpoint (-o), OUTPUT.epochs.tsv and OUTPUT.splits.json beside it."""
    summary = api.train(data_path, dataset, output, **options)
    click.echo(f"best epoch {summary['best_epoch']}: valid masked loss {summary['best_valid_loss']:.4f} "
               f"({summary['seconds']:.0f} s) -> {output}", err=True)


@impute.command()
@click.argument("input_csv", metavar="IN.csv", type=click.Path(dir_okay=False))
@output_option()
@click.option("--model", required=True, type=click.Path(dir_okay=False), help="Checkpoint of `chipsr impute train`.")
@setting_option(api.FillSettings, "batch_size", type=click.IntRange(min=1))
@device_option(api.FillSettings)
@threads_option(api.FillSettings)
def fill(input_csv, output, model, **options) -> None:
    """Fill the blank / NaN cells of IN.csv (time index first, one column per series).

    Observed cells are copied verbatim; the output has the same columns and index.
    """
    stats = api.fill(input_csv, output, model, **options)
    click.echo(f"filled {stats.filled} cells ({stats.steps} steps x {stats.series} series) in "
               f"{stats.seconds:.1f} s -> {output}", err=True)


@impute.command()
@_data_option
@click.option("--dataset", type=click.Choice(["beijing", "ett", "csv"]), required=True,
              help="Which loader and split (test = Beijing's first 10 months, ETT's last 4, a CSV whole).")
@output_option(suffixes=(".tsv", ".json", ".md", ".png"), prefix=True, strip_suffix=True,
               help="Results: X.tsv (or X) also writes X.json, X.md and X.png.")
@_evaluate_option("models", "--model", multiple=True, metavar="[NAME=]PATH", default=(), show_default=False)
@_evaluate_option("baselines", type=CommaList())
@_evaluate_option("rates", type=CommaList(float, "comma-separated rates"))
@_evaluate_option("blocks", "--blocks/--no-blocks")
@_evaluate_option("block_len", type=click.IntRange(min=1))
@_evaluate_option("block_rate", type=click.FloatRange(0, 1, min_open=True, max_open=True))
@_evaluate_option("seeds", type=click.IntRange(min=1))
@_evaluate_option("window", type=click.IntRange(min=1))
@_evaluate_option("contexts", type=CommaList())
@_evaluate_option("plot_feature")
@_evaluate_option("wind", type=click.Choice(["drop", "sincos"]))
@threads_option(api.EvaluateSettings)
def evaluate(data_path, dataset, output, **options) -> None:
    """Score imputers on artificially hidden test values: masked MAE / RMSE / MRE and the
    paper's L2 distance, mean ± std over seeds.

    -o results.tsv also writes results.json, results.md (tables shaped like the paper's Table 10)
    and results.png (one series: hidden points, truth, imputations).
    """
    paths = api.evaluate(data_path, dataset, output, **options)
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()), err=True)
