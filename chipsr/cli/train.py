"""``chipsr train``."""

from __future__ import annotations

import click

from chipsr.cli.options import (
    bin_size_option,
    blacklist_option,
    device_option,
    nan_as_zero_option,
    output_option,
    seed_option,
    torch_threads_option,
)
from chipsr.cli.types import GuardedCommand

_ARCHS = ["tfilm", "conv", "coda", "linear"]


@click.command(cls=GuardedCommand)
@click.option("--marks", multiple=True, required=True,
              help="Low-depth coverage bigWigs (comma-separated or repeated; NAME=path to name one). Order matters. "
                   "Repeat it with the same NAMEs for depth sets (the marks subsampled to other depths): each crop "
                   "draws one set at random.")
@click.option("--reference", "references", multiple=True, metavar="NAME=DEEP.bw",
              help="Deep track of ANOTHER sample (individual, tissue, cell line), an extra input channel; "
                   "repeatable, order kept. Never the target itself: that is what the model must predict.")
@click.option("--target", required=True, help="Full-depth bigWig of the target mark (NAME=path to name it).")
@output_option(suffixes=(".epochs.tsv", ".splits.json", ".inprogress"))
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
              help="Target transform before dividing by its training mean (inverted on output).")
@click.option("--input-transform", type=click.Choice(["scaled", "log1p"]), default="scaled", show_default=True,
              help="Inputs: the --transform of x divided by the mark's training mean (none: x / mean), or "
                   "log1p(x / mean).")
@click.option("--gamma-offset", type=float, default=1.0, show_default=True,
              help="TFiLM: added to every gamma; 1 = (1 + gamma) * F + beta (starts as the identity), "
                   "0 = the paper's gamma * F + beta.")
@click.option("--gamma-only", "affine", flag_value=False, default=True,
              help="TFiLM: modulate by gamma only (the reference code), not gamma * F + beta (the paper).")
@click.option("--backbone", type=click.Choice(["pool", "stride"]), default="pool", show_default=True,
              help="U-Nets: dilated convolutions + max-pool (the paper), or stride-2 convolutions (half the compute).")
@click.option("--bidirectional", is_flag=True, help="TFiLM: bidirectional LSTMs (TFiLM paper, appendix C).")
@click.option("--residual-mark", default=None, metavar="NAME",
              help="U-Nets: add this input mark to the output, so the network learns y - x (the paper's residual).")
@click.option("--train-region", "train_regions", multiple=True, required=True, help="CHR or CHR:START-END; repeatable.")
@click.option("--valid-region", "valid_regions", multiple=True, required=True, help="CHR or CHR:START-END; repeatable.")
@click.option("--test-region", "test_regions", multiple=True, help="Held out (recorded for evaluate); repeatable.")
@blacklist_option
@click.option("--epochs", type=click.IntRange(min=1), default=40, show_default=True,
              help="Epochs of --samples-per-epoch random crops; the cosine schedule spans them all.")
@click.option("--samples-per-epoch", type=click.IntRange(min=1), default=800, show_default=True,
              help="Random windows drawn afresh (seeded) from the training regions every epoch.")
@click.option("--reverse/--no-reverse", default=True, show_default=True,
              help="Reverse each crop with probability 0.5 (ChIP-seq coverage has no strand).")
@click.option("--peak-fraction", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of crops centred (+- window/4) on bins where the full-depth target is in its top 1 % "
                   "of the training region (Coda: 0.5).")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=2e-3, show_default=True,
              help="Peak Adam learning rate.")
@click.option("--lr-schedule", type=click.Choice(["cosine", "constant"]), default="cosine", show_default=True,
              help="cosine: decay to 0 over --epochs.")
@click.option("--select", type=click.Choice(["pearson", "loss"]), default="pearson", show_default=True,
              help="Keep the epoch with the best validation Pearson r, or the lowest validation loss.")
@click.option("--patience", type=click.IntRange(min=1), default=None,
              help="Stop after this many epochs without a better --select score [default: never].")
@click.option("--time-limit", "time_limit_min", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Wall-clock budget in minutes: no epoch starts after it (the best epoch so far is kept).")
@click.option("--target-peaks", type=click.Path(dir_okay=False), default=None,
              help="Full-depth peaks of the target (e.g. macs3 callpeak on the deep reads): the model card stores the "
                   "peak rule calibrated on the validation region, used by `chipsr peaks --model`.")
@click.option("--peak-type", type=click.Choice(["narrow", "broad"]), default="narrow", show_default=True,
              help="The target mark's peaks for --target-peaks (broad: H3K27me3, H3K36me3, H3K4me1, ...).")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Processes reading training crops from the memory-mapped bins (0: the training process); "
                   "worth it on a GPU. The crops do not depend on it.")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted run from OUTPUT.inprogress (the same options; changed ones are refused).")
@nan_as_zero_option
@seed_option
@device_option
@torch_threads_option
def train(marks, target, output, train_regions, valid_regions, test_regions, blacklist, **options) -> None:
    """Train one model that maps low-depth MARKS to the full-depth TARGET mark.

    Writes the checkpoint (-o) when training ends, OUTPUT.epochs.tsv and OUTPUT.splits.json beside it; while it
    runs, OUTPUT.inprogress holds the resumable state (after every epoch), for --resume after a crash.
    """
    from chipsr import api

    minutes = options.pop("time_limit_min")
    summary = api.train(list(marks), target, output, train_regions=train_regions, valid_regions=valid_regions,
                        test_regions=test_regions, blacklist=blacklist,
                        time_limit_s=None if minutes is None else minutes * 60, **options)
    click.echo(f"best epoch {summary['best_epoch']}: valid Pearson r {summary['best_valid_pearson']:.4f} "
               f"-> {output}", err=True)
