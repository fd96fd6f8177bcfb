"""``chipsr train``."""

from __future__ import annotations

import functools

import click

from chipsr.api.chipseq import TrainSettings
from chipsr.cli.options import (
    bin_size_option,
    blacklist_option,
    device_option,
    nan_as_zero_option,
    output_option,
    seed_option,
    setting_option,
    threads_option,
)
from chipsr.cli.types import GuardedCommand

_ARCHS = ["tfilm", "conv", "coda", "linear"]


#: an option whose default and help are a field of :class:`chipsr.api.chipseq.TrainSettings`
_setting = functools.partial(setting_option, TrainSettings)


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
@_setting("arch", type=click.Choice(_ARCHS))
@bin_size_option(TrainSettings)
@_setting("window", type=click.IntRange(min=2))
@_setting("blocks", type=click.IntRange(min=1))
@_setting("width", type=click.FloatRange(min=0, min_open=True))
@_setting("depth", type=click.IntRange(min=1))
@_setting("dropout", type=click.FloatRange(0, 1))
@_setting("transform", type=click.Choice(["none", "arcsinh", "log1p"]))
@_setting("input_transform", type=click.Choice(["scaled", "log1p"]))
@_setting("gamma_offset", type=float)
@_setting("affine", "--gamma-only", flag_value=False, show_default=False)
@_setting("backbone", type=click.Choice(["pool", "stride"]))
@_setting("bidirectional", is_flag=True, show_default=False)
@_setting("residual_mark", metavar="NAME")
@click.option("--train-region", "train_regions", multiple=True, required=True, help="CHR or CHR:START-END; repeatable.")
@click.option("--valid-region", "valid_regions", multiple=True, required=True, help="CHR or CHR:START-END; repeatable.")
@click.option("--test-region", "test_regions", multiple=True, help="Held out (recorded for evaluate); repeatable.")
@blacklist_option
@_setting("epochs", type=click.IntRange(min=1))
@_setting("samples_per_epoch", type=click.IntRange(min=1))
@_setting("reverse", "--reverse/--no-reverse")
@_setting("peak_fraction", type=click.FloatRange(0, 1))
@_setting("batch_size", type=click.IntRange(min=1))
@_setting("lr", type=click.FloatRange(min=0, min_open=True))
@_setting("lr_schedule", type=click.Choice(["cosine", "constant"]))
@_setting("select", type=click.Choice(["pearson", "loss"]))
@_setting("patience", type=click.IntRange(min=1))
@click.option("--time-limit", "time_limit_min", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Wall-clock budget in minutes: no epoch starts after it (the best epoch so far is kept).")
@_setting("target_peaks", type=click.Path(dir_okay=False))
@_setting("peak_type", type=click.Choice(["narrow", "broad"]))
@_setting("workers", type=click.IntRange(min=0))
@_setting("resume", is_flag=True, show_default=False)
@nan_as_zero_option
@seed_option(TrainSettings)
@device_option(TrainSettings)
@threads_option(TrainSettings)
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
