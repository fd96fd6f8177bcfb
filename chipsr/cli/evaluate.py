"""``chipsr evaluate``."""

from __future__ import annotations

import functools

import click

from chipsr.api.chipseq import EvaluateSettings
from chipsr.cli.options import (
    bin_size_option,
    nan_as_zero_option,
    output_option,
    setting_option,
    threads_option,
)
from chipsr.cli.types import CommaList, GuardedCommand, NamedPath

#: an option whose default and help are a field of :class:`chipsr.api.chipseq.EvaluateSettings`
_setting = functools.partial(setting_option, EvaluateSettings)


@click.command(cls=GuardedCommand)
@click.option("--truth", required=True, type=click.Path(dir_okay=False),
              help="bigWig of the deep-sequencing (high-depth) track that the others are scored against.")
@click.option("--tracks", "tracks", required=True, multiple=True, metavar="NAME=PATH[,NAME=PATH...]",
              help="bigWigs to score, comma-separated or repeated, in table order (e.g. "
                   "noisy=low.bw,tfilm=denoised.bw); the scatter shows tfilm, or else the last one.")
@output_option(suffixes=(".tsv", ".json", ".md", ".png"), prefix=True, dest="prefix", metavar="PREFIX",
               help="Output prefix: writes PREFIX.tsv, PREFIX.json, PREFIX.md and PREFIX.png (atomically).")
@click.option("--region", "regions", multiple=True, metavar="CHR[:START-END]",
              help="Evaluate only this region (1-based inclusive, as samtools/IGV); repeatable. "
                   "[default: every chromosome of the truth]")
@click.option("--blacklist", type=click.Path(dir_okay=False), default=None,
              help="BED of regions (e.g. ENCODE blacklist v2); bins overlapping them are excluded.")
@click.option("--peaks", type=click.Path(dir_okay=False), default=None,
              help="BED of peaks (e.g. MACS2 on the full-depth data); bins overlapping one are 'in peaks'. "
                   "[default: bins where the truth >= 5x its mean over the evaluated bins]")
@bin_size_option(EvaluateSettings)
@click.option("--smooth-input", metavar="NAME", default=None,
              help="Also score a Gaussian-smoothed copy of this track (the noisy input) as 'smoothed input'.")
@click.option("--smooth-reference", metavar="NAME", default=None,
              help="Also score a Gaussian-smoothed copy of this track (a related sample's deep track: the reference "
                   "baseline) as 'smoothed reference'.")
@click.option("--differential-reference", metavar="NAME", default=None,
              help="Also give every track's differential r against this track: r of (track - NAME) with "
                   "(truth - NAME), in fold enrichment (does a method recover what is specific to this sample?).")
@_setting("smooth_sigmas", metavar="S1,S2,...", type=CommaList(float, "comma-separated numbers"))
@_setting("smooth_select_region", metavar="CHR:START-END")
@_setting("locus", metavar="CHR:START-END")
@click.option("--depth-series", "depth_series", multiple=True, type=NamedPath("K=PATH", key=float, commas=True),
              help="Raw coverage of the input sample at K x its reads (e.g. 1=low.bw,2=x2.bw,4=x4.bw,8=x8.bw): "
                   "scored as rows 'raw Kx', and every track gets its depth equivalence (the depth at which "
                   "the raw track would match its r).")
@_setting("call_peaks_mode", "--call-peaks", type=click.Choice(["narrow", "broad"]))
@click.option("--called", "called_peaks", multiple=True, metavar="NAME=PEAKS[,NAME=PEAKS...]",
              help="Peak files scored against --peaks as they are (e.g. macs3 callpeak on the low-depth reads).")
@_setting("peak_overlap", type=click.FloatRange(min=0, max=1, min_open=True))
@nan_as_zero_option
@threads_option(EvaluateSettings)
def evaluate(truth, tracks, prefix, regions, blacklist, peaks, smooth_input, smooth_reference, differential_reference,
             depth_series, called_peaks, **options) -> None:
    """Score denoised --tracks bigWigs against a deep-sequencing --truth bigWig (the TFiLM paper's Table 2).

    Pearson r (the paper's metric), Spearman r and MSE of each track against the truth, at
    --bin-size resolution (bin = mean over its bases), per chromosome and overall, over all bins,
    bins inside peaks and outside peaks (AtacWorks' split); blacklisted bins excluded. Writes
    PREFIX.tsv (all rows), PREFIX.json (rows + metadata), PREFIX.md (the table) and PREFIX.png
    (a locus and a scatter of tfilm, or else the last track, against the truth).
    """
    from chipsr import api

    series = {k: path for spec in depth_series for k, path in spec}
    result = api.evaluate(
        truth, api.parse_tracks(tracks), prefix, regions=list(regions) or None, blacklist=blacklist, peaks=peaks,
        smooth_input=smooth_input, smooth_reference=smooth_reference, differential_reference=differential_reference,
        depth_series=series or None, called_peaks=api.parse_tracks(called_peaks) if called_peaks else None, **options,
    )
    overall = {r["track"]: r["pearson"] for r in result["metrics"] if r["chrom"] == "all" and r["subset"] == "all"}
    summary = ", ".join(f"{name} {r:.3f}" if r is not None else f"{name} n/a" for name, r in overall.items())
    click.echo(f"Pearson r over {result['n_bins']} bins: {summary} -> {prefix}.{{tsv,json,md,png}}", err=True)
