"""``chipsr peaks``."""

from __future__ import annotations

import functools

import click

from chipsr.api.chipseq import PeaksSettings
from chipsr.cli.options import nan_as_zero_option, output_option, setting_option
from chipsr.cli.types import GuardedCommand, OutputPath

#: an option whose default and help are a field of :class:`chipsr.api.chipseq.PeaksSettings`
_setting = functools.partial(setting_option, PeaksSettings)


@click.command(cls=GuardedCommand)
@click.argument("track", type=click.Path(dir_okay=False))
@output_option(required=False, metavar="PEAKS",
               help="narrowPeak (broadPeak with --broad) file, sorted, written atomically.")
@_setting("broad", is_flag=True, show_default=False)
@_setting("fold", type=float)
@_setting("cutoff", type=float)
@_setting("low_cutoff", type=float)
@_setting("min_length", type=click.IntRange(min=1))
@_setting("max_gap", type=click.IntRange(min=0))
@_setting("max_link_gap", type=click.IntRange(min=1))
@click.option("--region", "regions", multiple=True, metavar="CHR[:START-END]",
              help="Call only in these regions (1-based inclusive); repeatable. [default: every chromosome]")
@click.option("--blacklist", type=click.Path(dir_okay=False), default=None,
              help="BED of regions left out of the mean; peaks overlapping them are dropped.")
@click.option("--truth-peaks", type=click.Path(dir_okay=False), default=None,
              help="Peaks to calibrate the fold against (e.g. `macs3 callpeak` on full-depth reads): the fold with "
                   "the best peak F1 on --calibrate-region is used.")
@click.option("--calibrate-region", metavar="CHR:START-END", default=None,
              help="Where the fold is calibrated (a region you do not score afterwards, e.g. the validation region).")
@click.option("--gapped-peak", "gapped", type=OutputPath(), default=None, metavar="GAPPED",
              help="--broad: also write the gappedPeak file (strong sub-regions as blocks).")
@click.option("--cutoff-analysis", "cutoff_analysis", type=click.IntRange(min=2), default=None, metavar="STEPS",
              help="Print MACS3's cutoff analysis (peaks, total and mean length per cutoff, STEPS cutoffs from 0 to "
                   "the track's maximum) instead of calling.")
@click.option("--model", type=click.Path(dir_okay=False), default=None,
              help="The chipsr model that denoised TRACK, trained with --target-peaks: use its calibrated fold and "
                   "peak type (narrow / broad).")
@_setting("name")
@nan_as_zero_option
def peaks(track, output, regions, blacklist, truth_peaks, calibrate_region, gapped, cutoff_analysis, model,
          **options) -> None:
    """Call peaks on a bigWig TRACK (denoised, smoothed or raw) with MACS3's track callers.

    Narrow peaks by default (MACS3 bdgpeakcall), broad ones with --broad (bdgbroadcall); the track is
    handed to MACS3 with explicit zeros, so two peaks are never merged over a gap. Writes a sorted
    narrowPeak / broadPeak (score 0-1000, signalValue = the track value at the summit, p and q -1).
    """
    from chipsr import api

    result = api.peaks(track, output, regions=list(regions) or None, blacklist=blacklist, truth_peaks=truth_peaks,
                       calibrate_region=calibrate_region, gapped=gapped, cutoff_analysis=cutoff_analysis, model=model,
                       **options)
    if result["analysis"] is not None:
        click.echo(result["analysis"].rstrip())
    else:
        click.echo(f"{result['n_peaks']} peaks: {result['rule']}", err=True)
