"""``chipsr denoise``."""

from __future__ import annotations

import functools

import click

from chipsr.api.chipseq import DenoiseSettings
from chipsr.cli.options import (
    device_option,
    nan_as_zero_option,
    output_option,
    setting_option,
    threads_option,
)
from chipsr.cli.types import GuardedCommand

#: an option whose default and help are a field of :class:`chipsr.api.chipseq.DenoiseSettings`
_setting = functools.partial(setting_option, DenoiseSettings)


@click.command(cls=GuardedCommand)
@click.option("--marks", multiple=True, required=True,
              help="Low-depth bigWigs, the model's marks in its order (comma-separated or repeated; NAME=path).")
@click.option("--model", "models", required=True, multiple=True, type=click.Path(dir_okay=False),
              help="Checkpoint from `chipsr train`; repeat it (or comma-separate) for a seed ensemble of one "
                   "target: the models' outputs are averaged.")
@click.option("--reference", "references", multiple=True, metavar="NAME=DEEP.bw",
              help="The model's reference tracks (deep tracks of a related sample), same names and order.")
@output_option()
@click.option("--region", "regions", multiple=True, metavar="CHR[:START-END]", help="Only these regions; repeatable.")
@_setting("overlap", type=click.IntRange(min=0))
@_setting("batch_size", type=click.IntRange(min=1))
@click.option("--blacklist", type=click.Path(dir_okay=False), default=None,
              help="BED of regions left out of each input's genome-wide mean [default: the training blacklist, "
                   "stored in the model].")
@nan_as_zero_option
@device_option(DenoiseSettings)
@threads_option(DenoiseSettings)
def denoise(marks, models, output, regions, overlap, batch_size, device, threads, references, blacklist,
            nan_as_zero) -> None:
    """Denoise low-depth MARKS into a full-depth-like bigWig of the model's target mark.

    The output is in fold enrichment over the track's average bin (each input is divided by its own
    genome-wide mean first), so tracks of samples sequenced to different depths are comparable.
    """
    from chipsr import api

    paths = [p.strip() for m in models for p in m.split(",") if p.strip()]
    stats = api.denoise(list(marks), paths if len(paths) > 1 else paths[0], output, regions=regions,
                        overlap=overlap, batch_size=batch_size, device=device, threads=threads,
                        references=references, blacklist=blacklist, nan_as_zero=nan_as_zero)
    click.echo(f"{stats['bp'] / 1e6:.1f} Mbp at {stats['mbp_per_s']:.1f} Mbp/s -> {output}", err=True)
