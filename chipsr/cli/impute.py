"""``chipsr impute train | fill | evaluate``: time-series imputation (TFiLM paper, appendix H)."""

from __future__ import annotations

import click

from chipsr.cli.types import GuardedGroup

from chipsr.cli.options import device_option, output_option, seed_option, torch_threads_option

_CTX = {"help_option_names": ["-h", "--help"]}


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


def _setup_torch(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


@click.group(cls=GuardedGroup, context_settings=_CTX)
def impute() -> None:
    """Fill missing values of multivariate time series (TFiLM U-Net, Conv U-Net, DNN, baselines).

    Data: Beijing Air-Quality (132 series), ETT, or a wide CSV (first column the time index,
    one row per step, one column per series; blank or NaN = missing).
    """


@impute.command(context_settings=_CTX)
@click.option("--data", "data_path", required=True, type=click.Path(exists=True),
              help="Beijing station directory, ETT directory or file, or a wide CSV.")
@click.option("--dataset", type=click.Choice(["beijing", "ett", "csv"]), required=True,
              help="beijing: SAITS split (train = last 28 months); ett: Informer 12/4/4-month split; "
                   "csv: the last --valid-fraction of the rows validate.")
@output_option(suffixes=(".epochs.tsv",))
@click.option("--arch", type=click.Choice(["tfilm", "conv", "dnn"]), default="tfilm", show_default=True,
              help="TFiLM U-Net, the same U-Net without TFiLM, or a dense network (the paper's DNN row).")
@click.option("--window", type=click.IntRange(min=2), default=24, show_default=True, help="Window length in steps.")
@click.option("--mask-rate", callback=_rate_range, default="0.05,0.4", show_default=True,
              help="Share of the observed values hidden per training window (RATE or LOW,HIGH drawn uniformly).")
@click.option("--block-prob", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="Probability that a training window hides contiguous blocks instead of points.")
@click.option("--block-len", callback=_int_range, default="2,16", show_default=True,
              help="Block length range in steps (N or LOW,HIGH).")
@click.option("--no-mask-channel", is_flag=True,
              help="Do not give the mask as an input channel (with --no-linear-channel: the paper's setting).")
@click.option("--no-linear-channel", is_flag=True,
              help="Do not give linear interpolation as an input channel nor predict a correction of it.")
@click.option("--no-local-skip", is_flag=True,
              help="No full-resolution linear Conv1d(3) path added to the network output.")
@click.option("--depth", type=click.IntRange(min=1), default=2, show_default=True, help="U-Net down blocks (K).")
@click.option("--width", type=click.FloatRange(min=0, min_open=True), default=0.25, show_default=True,
              help="U-Net width multiplier (1 = the paper's 128..512 filters).")
@click.option("--block-size", type=click.IntRange(min=1), default=None,
              help="TFiLM block length in steps (a multiple of 2**(depth+1)) [default: 2**(depth+1)].")
@click.option("--hidden", type=click.IntRange(min=1), default=2048, show_default=True, help="DNN units per layer.")
@click.option("--dropout", type=click.FloatRange(0, 1), default=0.1, show_default=True)
@click.option("--loss", type=click.Choice(["l1", "mse"]), default="l1", show_default=True,
              help="Masked loss on the hidden entries.")
@click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--finetune-epochs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Extra epochs at lr/10 from the best weights.")
@click.option("--windows-per-epoch", type=click.IntRange(min=1), default=None,
              help="Training windows drawn per epoch [default: training steps / window].")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=3e-4, show_default=True)
@click.option("--patience", type=click.IntRange(min=1), default=6, show_default=True,
              help="Early stopping: epochs without a lower validation loss.")
@click.option("--valid-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.1,
              show_default=True, help="--dataset csv: share of the last rows used for validation.")
@click.option("--wind", type=click.Choice(["drop", "sincos"]), default="drop", show_default=True,
              help="Beijing wind direction: dropped (132 series) or sine/cosine columns (156).")
@seed_option
@device_option
@torch_threads_option
def train(data_path, dataset, output, threads, valid_fraction, wind, no_mask_channel, no_linear_channel,
          no_local_skip, window, **options) -> None:
    """Train an imputer; writes the checkpoint (-o) and OUTPUT.epochs.tsv beside it."""
    from chipsr.tasks.impute.model import train_imputer

    _setup_torch(threads)
    summary = train_imputer(data_path, dataset, output, n_steps=window, valid_fraction=valid_fraction, wind=wind,
                            mask_channel=not no_mask_channel, linear_channel=not no_linear_channel,
                            local_skip=not no_local_skip, **options)
    click.echo(f"best epoch {summary['best_epoch']}: valid masked loss {summary['best_valid_loss']:.4f} "
               f"({summary['seconds']:.0f} s) -> {output}", err=True)


@impute.command(context_settings=_CTX)
@click.argument("input_csv", metavar="IN.csv", type=click.Path(dir_okay=False))
@output_option()
@click.option("--model", required=True, type=click.Path(dir_okay=False), help="Checkpoint of `chipsr impute train`.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@device_option
@torch_threads_option
def fill(input_csv, output, model, batch_size, device, threads) -> None:
    """Fill the blank / NaN cells of IN.csv (time index first, one column per series).

    Observed cells are copied verbatim; the output has the same columns and index.
    """
    from chipsr.tasks.impute.fill import fill_csv

    _setup_torch(threads)
    stats = fill_csv(input_csv, output, model, batch_size=batch_size, device=device)
    click.echo(f"filled {stats.filled} cells ({stats.steps} steps x {stats.series} series) in "
               f"{stats.seconds:.1f} s -> {output}", err=True)


@impute.command(context_settings=_CTX)
@click.option("--data", "data_path", required=True, type=click.Path(exists=True),
              help="Beijing station directory, ETT directory or file, or a wide CSV.")
@click.option("--dataset", type=click.Choice(["beijing", "ett", "csv"]), required=True,
              help="Which loader and split (test = Beijing's first 10 months, ETT's last 4, a CSV whole).")
@output_option(suffixes=(".tsv", ".json", ".md", ".png"), prefix=True, strip_suffix=True,
               help="Results: X.tsv (or X) also writes X.json, X.md and X.png.")
@click.option("--model", "models", multiple=True, metavar="[NAME=]PATH",
              help="A trained imputer to score (repeatable); NAME defaults to the file stem.")
@click.option("--baselines", default="ZeroFill,Mean,LOCF,Linear,CubicSpline", show_default=True,
              help="Comma-separated non-learned methods ('' for none).")
@click.option("--rates", default="0.1,0.2,0.3", show_default=True, help="MCAR rates (share of observed values).")
@click.option("--blocks/--no-blocks", default=True, show_default=True, help="Also the contiguous-block setting.")
@click.option("--block-len", type=click.IntRange(min=1), default=8, show_default=True, help="Block length in steps.")
@click.option("--block-rate", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.1,
              show_default=True, help="Share of observed values hidden in blocks.")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True,
              help="Number of hiding seeds (0..N-1).")
@click.option("--window", type=click.IntRange(min=1), default=24, show_default=True,
              help="Test windows of the 'window' context (24 = SAITS).")
@click.option("--contexts", default="window,series", show_default=True,
              help="window: each test window on its own; series: each series whole.")
@click.option("--plot-feature", default=None, help="Series drawn in the PNG [default: the first].")
@click.option("--wind", type=click.Choice(["drop", "sincos"]), default="drop", show_default=True)
@torch_threads_option
def evaluate(data_path, dataset, output, models, baselines, rates, blocks, block_len, block_rate, seeds, window,
             contexts, plot_feature, wind, threads) -> None:
    """Score imputers on artificially hidden test values: masked MAE / RMSE / MRE and the
    paper's L2 distance, mean ± std over seeds.

    -o results.tsv also writes results.json, results.md (tables shaped like the paper's Table 10)
    and results.png (one series: hidden points, truth, imputations).
    """
    from pathlib import Path

    from chipsr.tasks.impute.evaluate import output_paths, run, write_results

    _setup_torch(threads)
    named = {}
    for spec in models:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = Path(spec).stem, spec
        if name in named:
            raise click.BadParameter(f"model name {name!r} is used twice", param_hint="--model")
        named[name] = path
    try:
        values = [float(r) for r in rates.split(",") if r.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated rates; got {rates!r}", param_hint="--rates") from None
    bad = [v for v in values if not 0 < v < 1]
    if bad:
        raise click.BadParameter(f"each rate must be in (0, 1) (a share of the observed values); got {bad[0]:g}",
                                 param_hint="--rates")
    settings = [str(v) for v in values]
    if blocks:
        settings.append("block")
    for p in output_paths(output).values():
        from chipsr.io.atomic import check_output_path

        check_output_path(p)
    result = run(dataset, data_path, models=named, settings=settings, seeds=tuple(range(seeds)), window=window,
                 contexts=tuple(c.strip() for c in contexts.split(",") if c.strip()),
                 baselines=tuple(b.strip() for b in baselines.split(",") if b.strip()), block_len=block_len,
                 block_rate=block_rate, wind=wind, plot_feature=plot_feature)
    paths = write_results(result, output)
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()), err=True)
