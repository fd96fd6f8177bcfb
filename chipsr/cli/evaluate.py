"""``chipsr evaluate``."""

from __future__ import annotations

import click

from chipsr.cli.options import (
    bin_size_option,
    nan_as_zero_option,
    output_option,
    torch_threads_option,
)
from chipsr.cli.types import GuardedCommand, NamedPath


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
@bin_size_option
@click.option("--smooth-input", metavar="NAME", default=None,
              help="Also score a Gaussian-smoothed copy of this track (the noisy input) as 'smoothed input'.")
@click.option("--smooth-reference", metavar="NAME", default=None,
              help="Also score a Gaussian-smoothed copy of this track (a related sample's deep track: the reference "
                   "baseline) as 'smoothed reference'.")
@click.option("--differential-reference", metavar="NAME", default=None,
              help="Also give every track's differential r against this track: r of (track - NAME) with "
                   "(truth - NAME), in fold enrichment (does a method recover what is specific to this sample?).")
@click.option("--smooth-sigmas", metavar="S1,S2,...", default="1,2,4,8,16,32,64", show_default=True,
              help="Candidate Gaussian sigmas (bins) for --smooth-input.")
@click.option("--smooth-select-region", metavar="CHR:START-END", default=None,
              help="Validation region where the sigma with the best Pearson r is chosen; must not overlap "
                   "--region (required with --smooth-input).")
@click.option("--locus", metavar="CHR:START-END", default=None,
              help="Locus drawn in the figure. [default: the truth's highest-signal 100-kb window]")
@click.option("--depth-series", "depth_series", multiple=True, type=NamedPath("K=PATH", key=float, commas=True),
              help="Raw coverage of the input sample at K x its reads (e.g. 1=low.bw,2=x2.bw,4=x4.bw,8=x8.bw): "
                   "scored as rows 'raw Kx', and every track gets its depth equivalence (the depth at which "
                   "the raw track would match its r).")
@click.option("--call-peaks", "call_peaks_mode", type=click.Choice(["narrow", "broad"]), default=None,
              help="With --peaks (truth peaks, e.g. `macs3 callpeak` on the full-depth reads): also call peaks on every "
                   "track (MACS3's track caller, as `chipsr peaks`), each with the cutoff that matches the truth "
                   "peaks best on --smooth-select-region, and score them (peak F1, precision, recall, bp Jaccard).")
@click.option("--called", "called_peaks", multiple=True, metavar="NAME=PEAKS[,NAME=PEAKS...]",
              help="Peak files scored against --peaks as they are (e.g. macs3 callpeak on the low-depth reads).")
@click.option("--peak-overlap", type=click.FloatRange(min=0, max=1, min_open=True), default=None,
              help="A peak matches when the overlap is >= this fraction of both peaks (reciprocal). [default: 1 bp]")
@nan_as_zero_option
@torch_threads_option
def evaluate(truth, tracks, prefix, regions, blacklist, peaks, bin_size, smooth_input, smooth_sigmas,
             smooth_select_region, locus, depth_series, threads, smooth_reference, differential_reference,
             call_peaks_mode, called_peaks, peak_overlap, nan_as_zero) -> None:
    """Score denoised --tracks bigWigs against a deep-sequencing --truth bigWig (the TFiLM paper's Table 2).

    Pearson r (the paper's metric), Spearman r and MSE of each track against the truth, at
    --bin-size resolution (bin = mean over its bases), per chromosome and overall, over all bins,
    bins inside peaks and outside peaks (AtacWorks' split); blacklisted bins excluded. Writes
    PREFIX.tsv (all rows), PREFIX.json (rows + metadata), PREFIX.md (the table) and PREFIX.png
    (a locus and a scatter of tfilm, or else the last track, against the truth).
    """
    from chipsr import api

    try:
        sigmas = [float(s) for s in smooth_sigmas.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {smooth_sigmas!r}",
                                 param_hint="--smooth-sigmas") from None
    series = {k: path for spec in depth_series for k, path in spec}
    result = api.evaluate(
        truth, api.parse_tracks(tracks), prefix, regions=list(regions) or None, blacklist=blacklist, peaks=peaks,
        bin_size=bin_size, smooth_input=smooth_input, smooth_sigmas=sigmas,
        smooth_select_region=smooth_select_region, locus=locus, depth_series=series or None, threads=threads,
        smooth_reference=smooth_reference, differential_reference=differential_reference,
        call_peaks_mode=call_peaks_mode, called_peaks=api.parse_tracks(called_peaks) if called_peaks else None,
        peak_overlap=peak_overlap, nan_as_zero=nan_as_zero,
    )
    overall = {r["track"]: r["pearson"] for r in result["metrics"] if r["chrom"] == "all" and r["subset"] == "all"}
    summary = ", ".join(f"{name} {r:.3f}" if r is not None else f"{name} n/a" for name, r in overall.items())
    click.echo(f"Pearson r over {result['n_bins']} bins: {summary} -> {prefix}.{{tsv,json,md,png}}", err=True)
