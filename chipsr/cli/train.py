"""``chipsr train``."""

from __future__ import annotations

import click

from chipsr.cli.types import GuardedCommand

from chipsr.cli.options import bin_size_option, blacklist_option, output_option, seed_option, torch_threads_option

_ARCHS = ["tfilm", "conv", "coda", "linear"]


@click.command(cls=GuardedCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--marks", multiple=True, required=True,
              help="Low-depth coverage bigWigs (comma-separated or repeated; NAME=path to name one). Order matters.")
@click.option("--target", required=True, type=click.Path(dir_okay=False), help="Full-depth bigWig of the target mark.")
@output_option(suffixes=(".epochs.tsv",), siblings=("splits.json",))
@click.option("--arch", type=click.Choice(_ARCHS), default="tfilm", show_default=True,
              help="TFiLM U-Net, the same U-Net without TFiLM, the Coda CNN, or a multi-mark linear filter.")
@bin_size_option
@click.option("--window", type=click.IntRange(min=2), default=1000, show_default=True, help="Window length in bins.")
@click.option("--blocks", type=click.IntRange(min=1), default=2, show_default=True, help="TFiLM blocks per layer (B).")
@click.option("--width", type=click.FloatRange(min=0, min_open=True), default=0.125, show_default=True,
              help="U-Net width multiplier (1 = the paper's 128..512 filters).")
@click.option("--depth", type=click.IntRange(min=1), default=3, show_default=True, help="U-Net down blocks (K).")
@click.option("--dropout", type=click.FloatRange(0, 1), default=0.1, show_default=True)
@click.option("--transform", type=click.Choice(["none", "arcsinh", "log1p"]), default="none", show_default=True,
              help="Signal transform before per-mark scaling (inverted on output).")
@click.option("--gamma-offset", type=float, default=1.0, show_default=True,
              help="TFiLM: added to every gamma; 1 = (1 + gamma) * F + beta (starts as the identity), "
                   "0 = the paper's gamma * F + beta.")
@click.option("--residual-mark", default=None, metavar="NAME",
              help="U-Nets: add this input mark to the output, so the network learns y - x (the paper's residual).")
@click.option("--train-region", "train_regions", multiple=True, required=True, help="CHR or CHR:START-END; repeatable.")
@click.option("--valid-region", "valid_regions", multiple=True, required=True, help="CHR or CHR:START-END; repeatable.")
@click.option("--test-region", "test_regions", multiple=True, help="Held out (recorded for evaluate); repeatable.")
@blacklist_option
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=3e-4, show_default=True)
@click.option("--patience", type=click.IntRange(min=1), default=5, show_default=True,
              help="Early stopping: epochs without a better validation loss.")
@seed_option
@click.option("--device", default=None, help="cpu, cuda, cuda:1, mps [default: CUDA if present, else CPU].")
@torch_threads_option
def train(marks, target, output, train_regions, valid_regions, test_regions, blacklist, **options) -> None:
    """Train one model that maps low-depth MARKS to the full-depth TARGET mark.

    Writes the checkpoint (-o), OUTPUT.epochs.tsv and splits.json beside it.
    """
    from chipsr import api

    summary = api.train(list(marks), target, output, train_regions=train_regions, valid_regions=valid_regions,
                        test_regions=test_regions, blacklist=blacklist, **options)
    click.echo(f"best epoch {summary['best_epoch']}: valid Pearson r {summary['best_valid_pearson']:.4f} "
               f"-> {output}", err=True)
