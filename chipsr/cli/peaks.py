"""``chipsr peaks``."""

from __future__ import annotations

import click

from chipsr.cli.options import nan_as_zero_option, output_option
from chipsr.cli.types import GuardedCommand, OutputPath


@click.command(cls=GuardedCommand)
@click.argument("track", type=click.Path(dir_okay=False))
@output_option(required=False, metavar="PEAKS",
               help="narrowPeak (broadPeak with --broad) file, sorted, written atomically.")
@click.option("--broad", is_flag=True,
              help="Broad peaks (MACS3 bdgbroadcall: regions above the cutoff linked through regions above "
                   "--low-cutoff), for broad marks such as H3K27me3, H3K36me3, H3K4me1.")
@click.option("--fold", type=float, default=None,
              help="Cutoff = FOLD x the track's genome-wide mean over non-blacklisted bins (one fold serves "
                   "tracks of any depth). [default: 4, or calibrated with --truth-peaks]")
@click.option("--cutoff", type=float, default=None, help="Cutoff as a track value (instead of --fold).")
@click.option("--low-cutoff", type=float, default=None,
              help="--broad: the linking cutoff, a track value below the cutoff. [default: half the cutoff]")
@click.option("--min-length", type=click.IntRange(min=1), default=200, show_default=True, help="Minimum peak length (bp).")
@click.option("--max-gap", type=click.IntRange(min=0), default=50, show_default=True,
              help="Gaps below the cutoff up to this length (bp) stay inside a peak.")
@click.option("--max-link-gap", type=click.IntRange(min=1), default=800, show_default=True,
              help="--broad: the longest linking stretch (bp) between strong regions.")
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
@click.option("--name", default=None, help="Peak name prefix. [default: the output's file stem]")
@nan_as_zero_option
def peaks(track, output, broad, fold, cutoff, low_cutoff, min_length, max_gap, max_link_gap, regions, blacklist,
          truth_peaks, calibrate_region, gapped, cutoff_analysis, name, model, nan_as_zero) -> None:
    """Call peaks on a bigWig TRACK (denoised, smoothed or raw) with MACS3's track callers.

    Narrow peaks by default (MACS3 bdgpeakcall), broad ones with --broad (bdgbroadcall); the track is
    handed to MACS3 with explicit zeros, so two peaks are never merged over a gap. Writes a sorted
    narrowPeak / broadPeak (score 0-1000, signalValue = the track value at the summit, p and q -1).
    """
    from chipsr import api

    if gapped and not output:
        raise click.UsageError("--gapped-peak needs -o/--output")
    result = api.peaks(track, output, cutoff=cutoff, fold=fold, broad=broad, low_cutoff=low_cutoff,
                       min_length=min_length, max_gap=max_gap, max_link_gap=max_link_gap,
                       regions=list(regions) or None, blacklist=blacklist, truth_peaks=truth_peaks,
                       calibrate_region=calibrate_region, gapped=gapped, name=name,
                       cutoff_analysis=cutoff_analysis, model=model, nan_as_zero=nan_as_zero)
    if result["analysis"] is not None:
        click.echo(result["analysis"].rstrip())
    else:
        click.echo(f"{result['n_peaks']} peaks: {result['rule']}", err=True)
