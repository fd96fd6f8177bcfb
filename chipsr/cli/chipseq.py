"""The ChIP-seq commands: ``chipsr subsample | coverage | train | denoise | gather | evaluate | peaks |
report | info | export``, also grouped as ``chipsr chipseq COMMAND`` (the group is in :mod:`.main`).

Each command parses its options and calls one function of :mod:`chipsr.api.chipseq`; option
defaults and help come from that module's settings dataclasses
(:func:`chipsr.cli.options.setting_option`; ``_<command>_option`` below reads the command's).
"""

from __future__ import annotations

import functools

import click

from chipsr.api.chipseq import (
    ARCHS,
    PEAK_TYPES,
    CallpeakSettings,
    CoverageSettings,
    DenoiseSettings,
    EvaluateSettings,
    PeaksSettings,
    ReportSettings,
    SubsampleSettings,
    TrainSettings,
)
from chipsr.cli.options import (
    bin_size_option,
    group,
    grouped,
    blacklist_option,
    device_option,
    nan_as_zero_option,
    output_option,
    region_option,
    seed_option,
    setting_option,
    threads_option,
)
from chipsr.cli.types import (
    CommaList,
    GuardedCommand,
    NamedPath,
    OutputDir,
    OutputPath,
    RegionText,
    renamed_options,
)

_subsample_option = functools.partial(setting_option, SubsampleSettings)


@renamed_options({"--reads": "--number"})
@click.command(cls=GuardedCommand)
@click.argument("reads", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option(suffixes=(".bai",))
@_subsample_option("number", "-n", "--number", type=click.IntRange(min=1), show_default=False, metavar="N")
@_subsample_option("fraction", type=click.FloatRange(0, 1, min_open=True))
@seed_option(SubsampleSettings)
def subsample(reads, output, **options) -> None:
    """Subsample READS (BAM, or BED3/BED6/tagAlign, plain or gzipped) to N templates or a fraction.

    Several files (replicates of one mark; all BAM or all BED) are pooled first, so N is drawn
    from all of them; BAMs must share their reference sequences. Mates stay together. The output
    has the input's format (BAM: one coordinate-sorted, indexed file). The same inputs and seed
    give a byte-identical output.
    """
    from chipsr import api

    stats = api.subsample(list(reads), output, **options)
    click.echo(f"kept {stats.kept} of {stats.total} templates -> {output}", err=True)


_coverage_option = functools.partial(setting_option, CoverageSettings)


@click.command(cls=GuardedCommand)
@click.argument("reads", nargs=-1, required=True, type=click.Path(dir_okay=False))
@group("Inputs and output")
@output_option(option=grouped)
@grouped("--chrom-sizes", type=click.Path(dir_okay=False), default=None,
         help="UCSC chrom sizes file (needed for BED reads; BAM headers are used otherwise).")
@grouped("--genome-fasta", type=click.Path(dir_okay=False), default=None,
         help="Genome FASTA to take chromosome sizes from (via pyfaidx).")
@region_option(option=grouped)
@blacklist_option("--blackListFileName", option=grouped)
@_coverage_option("skip_unknown_chroms", is_flag=True, show_default=False, option=grouped)
@_coverage_option("out_format", "--out-format", "--outFileFormat", type=click.Choice(["bigwig", "bedgraph"]), option=grouped)
@group("Reads")
@_coverage_option("extend_reads", "--extend-reads", "--extendReads", type=click.IntRange(min=0), is_flag=False,
                  flag_value=0, metavar="[LEN]", option=grouped)
@_coverage_option("min_mapq", "--min-mapq", "--minMappingQuality", type=click.IntRange(min=0), option=grouped)
@_coverage_option("sam_flag_exclude", "--sam-flag-exclude", "--samFlagExclude", type=click.IntRange(min=0), option=grouped)
@_coverage_option("ignore_duplicates", "--ignore-duplicates", "--ignoreDuplicates", is_flag=True, show_default=False, option=grouped)
@group("Bins and scaling")
@_coverage_option("bin_size", "--bin-size", "--binSize", type=click.IntRange(min=1, max=1_000_000_000), option=grouped)
@_coverage_option("normalize_using", "--normalize-using", "--normalizeUsing",
                  type=click.Choice(["none", "CPM", "RPKM", "BPM", "RPGC"], case_sensitive=False), option=grouped)
@_coverage_option("effective_genome_size", "--effective-genome-size", "--effectiveGenomeSize",
                  type=click.IntRange(min=1), option=grouped)
@group("Compute")
@_coverage_option("threads", "-p", "--threads", "--numberOfProcessors", type=click.IntRange(min=1), option=grouped)
def coverage(reads, output, blacklist, region, chrom_sizes, genome_fasta, **options) -> None:
    """Merge one mark's READS (BAM and/or BED, plain or gzipped) into a coverage bigWig/bedGraph.

    Each bin holds the mean per-bp fragment depth over its bases (Coda's averaging); with
    --bin-size 1 this is the per-base pileup of `macs3 pileup` and `bamCoverage --binSize 1`.
    The last bin of a chromosome is truncated at the chromosome end. Every option also takes
    deepTools bamCoverage's spelling (--binSize, --extendReads, --normalizeUsing, --minMappingQuality, ...).
    """
    from chipsr import api

    stats = api.coverage(list(reads), output, blacklist=blacklist, region=region, chrom_sizes=chrom_sizes,
                         genome_fasta=genome_fasta, **options)
    click.echo(f"{stats.n_reads} reads, scale factor {stats.scale:.6g} -> {output}", err=True)


_train_option = functools.partial(setting_option, TrainSettings)


@renamed_options({"--depth": "--unet-depth", "--target-peaks": "--truth-peaks"})
@click.command(cls=GuardedCommand)
@group("Inputs and output")
@grouped("--marks", multiple=True, required=True, metavar="NAME=PATH[,NAME=PATH...]",
         help="Low-depth coverage bigWigs of the marks (comma-separated or repeated; NAME=path to name one), the "
              "model's inputs in this order.")
@grouped("--depth-set", "depth_sets", multiple=True, metavar="NAME=PATH[,NAME=PATH...]",
         help="The same marks at another depth (e.g. subsampled to 0.25x or 4x), every mark of --marks in its order; "
              "repeatable. --marks and the depth sets are drawn from at random, one per training crop, so the model "
              "holds up on samples of other depths.")
@grouped("--reference", "references", multiple=True, metavar="NAME=DEEP.bw",
         help="Deep track of ANOTHER sample (individual, tissue, cell line), an extra input channel; repeatable, "
              "order kept. Never the target itself: that is what the model must predict.")
@grouped("--target", required=True, metavar="[NAME=]PATH",
         help="Full-depth bigWig of the target mark (NAME=path to name it).")
@output_option(suffixes=(".epochs.tsv", ".splits.json", ".inprogress"), option=grouped)
@bin_size_option(TrainSettings, option=grouped)
@grouped("--train-region", "train_regions", multiple=True, required=True, type=RegionText(),
         help="Training region, CHR or CHR:START-END; repeatable.")
@grouped("--valid-region", "valid_regions", multiple=True, required=True, type=RegionText(),
         help="Validation region, where choices are made (the epoch kept, the peak rule); repeatable.")
@grouped("--test-region", "test_regions", multiple=True, type=RegionText(),
         help="Held out (recorded for evaluate); repeatable.")
@blacklist_option(option=grouped, help="BED of regions (e.g. ENCODE blacklist v2): windows touching them are left out.")
@nan_as_zero_option(option=grouped)
@group("Model")
@_train_option("arch", type=click.Choice(ARCHS), option=grouped)
@_train_option("window", type=click.IntRange(min=2), option=grouped)
@_train_option("blocks", type=click.IntRange(min=1), option=grouped)
@_train_option("width", type=click.FloatRange(min=0, min_open=True), option=grouped)
@_train_option("unet_depth", type=click.IntRange(min=1), option=grouped)
@_train_option("dropout", type=click.FloatRange(0, 1), option=grouped)
@_train_option("transform", type=click.Choice(["none", "arcsinh", "log1p"]), option=grouped)
@_train_option("input_transform", type=click.Choice(["scaled", "log1p"]), option=grouped)
@_train_option("gamma_offset", type=float, option=grouped)
@_train_option("affine", "--gamma-only", flag_value=False, show_default=False, option=grouped)
@_train_option("backbone", type=click.Choice(["pool", "stride"]), option=grouped)
@_train_option("bidirectional", is_flag=True, show_default=False, option=grouped)
@_train_option("residual_mark", metavar="NAME", option=grouped)
@group("Recipe")
@_train_option("epochs", type=click.IntRange(min=1), option=grouped)
@_train_option("samples_per_epoch", type=click.IntRange(min=1), option=grouped)
@_train_option("reverse", "--reverse/--no-reverse", option=grouped)
@_train_option("peak_fraction", type=click.FloatRange(0, 1), option=grouped)
@_train_option("batch_size", type=click.IntRange(min=1), option=grouped)
@_train_option("lr", type=click.FloatRange(min=0, min_open=True), option=grouped)
@_train_option("lr_schedule", type=click.Choice(["cosine", "constant"]), option=grouped)
@_train_option("select", type=click.Choice(["pearson", "loss"]), option=grouped)
@_train_option("patience", type=click.IntRange(min=1), option=grouped)
@_train_option("time_limit", type=click.FloatRange(min=0, min_open=True), metavar="MINUTES", option=grouped)
@seed_option(TrainSettings, option=grouped)
@group("Peaks")
@_train_option("truth_peaks", type=click.Path(dir_okay=False), option=grouped)
@_train_option("peak_type", type=click.Choice(PEAK_TYPES), option=grouped)
@group("Compute")
@_train_option("workers", type=click.IntRange(min=0), option=grouped)
@_train_option("resume", is_flag=True, show_default=False, option=grouped)
@device_option(TrainSettings, option=grouped)
@threads_option(TrainSettings, option=grouped)
def train(marks, depth_sets, target, output, train_regions, valid_regions, test_regions, blacklist, **options) -> None:
    """Train one model that maps low-depth MARKS to the full-depth TARGET mark.

    Writes the checkpoint (-o) when training ends, OUTPUT.epochs.tsv and OUTPUT.splits.json beside it; while it
    runs, OUTPUT.inprogress holds the resumable state (after every epoch), for --resume after a crash.
    """
    from chipsr import api

    summary = api.train(list(marks), target, output, train_regions=train_regions, valid_regions=valid_regions,
                        test_regions=test_regions, blacklist=blacklist, depth_sets=list(depth_sets), **options)
    click.echo(f"best epoch {summary['best_epoch']}: valid Pearson r {summary['best_valid_pearson']:.4f} "
               f"-> {output}", err=True)


_denoise_option = functools.partial(setting_option, DenoiseSettings)


@click.command(cls=GuardedCommand)
@group("Inputs and output")
@grouped("--marks", multiple=True, required=True, metavar="NAME=PATH[,NAME=PATH...]",
         help="Low-depth bigWigs, the model's marks in its order (comma-separated or repeated; NAME=path).")
@grouped("--model", "models", required=True, multiple=True, type=CommaList(), metavar="MODEL[,MODEL...]",
         help="Checkpoint from `chipsr train`; repeat it (or comma-separate) for a seed ensemble of one "
              "target: the models' outputs are averaged.")
@grouped("--reference", "references", multiple=True, metavar="NAME=DEEP.bw",
         help="The model's reference tracks (deep tracks of a related sample), same names and order.")
@output_option(option=grouped)
@grouped("--region", "regions", multiple=True, type=RegionText(), help="Only these regions; repeatable.")
@grouped("--blacklist", type=click.Path(dir_okay=False), default=None,
         help="BED of regions left out of each input's genome-wide mean [default: the training blacklist, "
              "stored in the model].")
@nan_as_zero_option(option=grouped)
@group("Compute")
@_denoise_option("overlap", type=click.IntRange(min=0), option=grouped)
@_denoise_option("batch_size", type=click.IntRange(min=1), option=grouped)
@device_option(DenoiseSettings, option=grouped)
@threads_option(DenoiseSettings, option=grouped)
def denoise(marks, models, output, regions, overlap, batch_size, device, threads, references, blacklist,
            nan_as_zero) -> None:
    """Denoise low-depth MARKS into a full-depth-like bigWig of the model's target mark.

    The output is in fold enrichment over the track's average bin (each input is divided by its own
    genome-wide mean first), so tracks of samples sequenced to different depths are comparable.
    """
    from chipsr import api

    paths = [path for items in models for path in items]  # --model repeated and comma-separated
    stats = api.denoise(list(marks), paths if len(paths) > 1 else paths[0], output, regions=regions,
                        overlap=overlap, batch_size=batch_size, device=device, threads=threads,
                        references=references, blacklist=blacklist, nan_as_zero=nan_as_zero)
    click.echo(f"{stats['bp'] / 1e6:.1f} Mbp at {stats['mbp_per_s']:.1f} Mbp/s -> {output}", err=True)


@click.command(cls=GuardedCommand)
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option()
def gather(shards, output) -> None:
    """Merge SHARDS of one denoised track (`chipsr denoise --region CHR`, one per chromosome) into one bigWig.

    Each chromosome must come from one shard, and all shards share the header. With whole chromosomes per
    shard the result is byte-for-byte what one unsharded `chipsr denoise` writes, so a cluster can denoise
    chromosomes in parallel.
    """
    from chipsr import api

    stats = api.gather(list(shards), output)
    click.echo(f"{len(stats['chroms'])} chromosome(s) from {len(shards)} shard(s) -> {output}", err=True)


_evaluate_option = functools.partial(setting_option, EvaluateSettings)


@renamed_options({"--peaks": "--truth-peaks", "--smooth-select-region": "--valid-region",
                  "--call-peaks": "--peak-type"})
@click.command(cls=GuardedCommand)
@group("Inputs and output")
@grouped("--truth", required=True, type=click.Path(dir_okay=False),
         help="bigWig of the deep-sequencing (high-depth) track that the others are scored against.")
@grouped("--tracks", "tracks", required=True, multiple=True, metavar="NAME=PATH[,NAME=PATH...]",
         help="bigWigs to score, comma-separated or repeated, in table order (e.g. "
              "noisy=low.bw,tfilm=denoised.bw); the scatter shows tfilm, or else the last one.")
@output_option(suffixes=(".tsv", ".json", ".md", ".png"), prefix=True, dest="prefix", metavar="PREFIX",
               help="Output prefix: writes PREFIX.tsv, PREFIX.json, PREFIX.md and PREFIX.png (atomically).", option=grouped)
@grouped("--region", "regions", multiple=True, type=RegionText(),
         help="Evaluate only this region (1-based inclusive, as samtools/IGV); repeatable. "
              "[default: every chromosome of the truth]")
@grouped("--blacklist", type=click.Path(dir_okay=False), default=None,
         help="BED of regions (e.g. ENCODE blacklist v2); bins overlapping them are excluded.")
@bin_size_option(EvaluateSettings, option=grouped)
@grouped("--depth-series", "depth_series", multiple=True, type=NamedPath("K=PATH", key=float, commas=True),
         help="Raw coverage of the input sample at K x its reads (e.g. 1=low.bw,2=x2.bw,4=x4.bw,8=x8.bw): "
              "scored as rows 'raw Kx', and every track gets its depth equivalence (the depth at which "
              "the raw track would match its r).")
@nan_as_zero_option(option=grouped)
@group("Baselines")
@grouped("--smooth-input", metavar="NAME", default=None,
         help="Also score a Gaussian-smoothed copy of this track (the noisy input) as 'smoothed input'.")
@grouped("--smooth-reference", metavar="NAME", default=None,
         help="Also score a Gaussian-smoothed copy of this track (a related sample's deep track: the reference "
              "baseline) as 'smoothed reference'.")
@grouped("--differential-reference", metavar="NAME", default=None,
         help="Also give every track's differential r against this track: r of (track - NAME) with "
              "(truth - NAME), in fold enrichment (does a method recover what is specific to this sample?).")
@_evaluate_option("smooth_sigmas", metavar="S1,S2,...", type=CommaList(float, "comma-separated numbers"), option=grouped)
@_evaluate_option("valid_region", type=RegionText(), option=grouped)
@_evaluate_option("locus", type=RegionText(), option=grouped)
@group("Peaks")
@grouped("--truth-peaks", type=click.Path(dir_okay=False), default=None,
         help="BED of peaks (e.g. `macs3 callpeak` on the full-depth reads); bins overlapping one are 'in peaks'. "
              "[default: bins in the narrow peaks `chipsr peaks` calls on the truth by its default rule, "
              "taken over the evaluated bins]")
@_evaluate_option("peak_type", type=click.Choice(PEAK_TYPES), option=grouped)
@grouped("--called", "called_peaks", multiple=True, metavar="NAME=PEAKS[,NAME=PEAKS...]",
         help="Peak files scored against --truth-peaks as they are (e.g. macs3 callpeak on the low-depth reads).")
@_evaluate_option("peak_overlap", type=click.FloatRange(min=0, max=1, min_open=True), option=grouped)
@group("Compute")
@threads_option(EvaluateSettings, option=grouped)
def evaluate(truth, tracks, prefix, regions, blacklist, truth_peaks, smooth_input, smooth_reference,
             differential_reference, depth_series, called_peaks, **options) -> None:
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
        truth, list(tracks), prefix, regions=list(regions) or None, blacklist=blacklist, truth_peaks=truth_peaks,
        smooth_input=smooth_input, smooth_reference=smooth_reference, differential_reference=differential_reference,
        depth_series=series or None, called_peaks=list(called_peaks), **options,
    )
    overall = {r["track"]: r["pearson"] for r in result["metrics"] if r["chrom"] == "all" and r["subset"] == "all"}
    summary = ", ".join(f"{name} {r:.3f}" if r is not None else f"{name} n/a" for name, r in overall.items())
    click.echo(f"Pearson r over {result['n_bins']} bins: {summary} -> {prefix}.{{tsv,json,md,png}}", err=True)


_peaks_option = functools.partial(setting_option, PeaksSettings)


@renamed_options({"--broad": ("--peak-type", "broad"), "--calibrate-region": "--valid-region"})
@click.command(cls=GuardedCommand)
@click.argument("track", type=click.Path(dir_okay=False))
@group("Inputs and output")
@output_option(required=False, metavar="PEAKS",
               help="narrowPeak (broadPeak with --peak-type broad) file, sorted, written atomically.", option=grouped)
@grouped("--region", "regions", multiple=True, type=RegionText(),
         help="Call only in these regions (1-based inclusive); repeatable. [default: every chromosome]")
@grouped("--blacklist", type=click.Path(dir_okay=False), default=None,
         help="BED of regions left out of the mean; peaks overlapping them are dropped.")
@grouped("--gapped-peak", "gapped", type=OutputPath(), default=None, metavar="GAPPED",
         help="--peak-type broad: also write the gappedPeak file (strong sub-regions as blocks).")
@_peaks_option("name", option=grouped, metavar="NAME")
@nan_as_zero_option(option=grouped)
@group("Peak rule")
@_peaks_option("peak_type", type=click.Choice(PEAK_TYPES), option=grouped)
@_peaks_option("fold", type=float, option=grouped)
@_peaks_option("cutoff", type=float, option=grouped)
@_peaks_option("low_cutoff", type=float, option=grouped)
@_peaks_option("min_length", type=click.IntRange(min=1), option=grouped)
@_peaks_option("max_gap", type=click.IntRange(min=0), option=grouped)
@_peaks_option("max_link_gap", type=click.IntRange(min=1), option=grouped)
@grouped("--model", type=click.Path(dir_okay=False), default=None,
         help="The chipsr model that denoised TRACK, trained with --truth-peaks: use its calibrated fold and "
              "peak type (narrow / broad).")
@grouped("--truth-peaks", type=click.Path(dir_okay=False), default=None,
         help="Peaks to calibrate the fold against (e.g. `macs3 callpeak` on full-depth reads): the fold with "
              "the best peak F1 on --valid-region is used.")
@grouped("--valid-region", type=RegionText(), default=None,
         help="Validation region, where the fold is calibrated (a region you do not score afterwards).")
@grouped("--cutoff-analysis", "cutoff_analysis", type=click.IntRange(min=2), default=None, metavar="STEPS",
         help="Print MACS3's cutoff analysis (peaks, total and mean length per cutoff, STEPS cutoffs from 0 to "
              "the track's maximum) instead of calling.")
def peaks(track, output, regions, blacklist, truth_peaks, valid_region, gapped, cutoff_analysis, model,
          **options) -> None:
    """Call peaks on a bigWig TRACK (denoised, smoothed or raw) with MACS3's track callers.

    Narrow peaks by default (MACS3 bdgpeakcall), broad ones with --peak-type broad (bdgbroadcall); the track is
    handed to MACS3 with explicit zeros, so two peaks are never merged over a gap. Writes a sorted
    narrowPeak / broadPeak (score 0-1000, signalValue = the track value at the summit, p and q -1).
    """
    from chipsr import api

    result = api.peaks(track, output, regions=list(regions) or None, blacklist=blacklist, truth_peaks=truth_peaks,
                       valid_region=valid_region, gapped=gapped, cutoff_analysis=cutoff_analysis, model=model,
                       **options)
    if result["analysis"] is not None:
        click.echo(result["analysis"].rstrip())
    else:
        click.echo(f"{result['n_peaks']} peaks: {result['rule']}", err=True)


_callpeak_option = functools.partial(setting_option, CallpeakSettings)


@click.command(cls=GuardedCommand)
@click.argument("reads", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option(metavar="PEAKS", help="narrowPeak (broadPeak with --peak-type broad), written atomically.")
@_callpeak_option("peak_type", type=click.Choice(PEAK_TYPES))
@_callpeak_option("cutoff", metavar="qVALUE|pVALUE")
@_callpeak_option("genome_size", "-g", "--genome-size", type=click.IntRange(min=1))
@click.option("--chrom-sizes", type=click.Path(dir_okay=False), default=None,
              help="UCSC chrom sizes, for the derived --genome-size of BED reads.")
@blacklist_option(help="BED of regions left out of the derived --genome-size.")
@_callpeak_option("format", "-f", "--format", metavar="FORMAT")
@_callpeak_option("broad_cutoff", type=click.FloatRange(min=0, min_open=True))
@_callpeak_option("name", "-n", "--name", metavar="NAME")
def callpeak(reads, output, chrom_sizes, blacklist, **options) -> None:
    """Call peaks on READS (one mark: BAM or BED, replicates pooled) with `macs3 callpeak`.

    MACS3 runs as a lab would run it on its reads, with the traps handled: BED reads are handed over
    tab-separated, the format and the genome size come from the reads, duplicates are kept, and only
    the peak file is kept (MACS3's other outputs go with its temporary folder).
    """
    from chipsr import api

    result = api.callpeak(list(reads), output, chrom_sizes=chrom_sizes, blacklist=blacklist, **options)
    click.echo(f"{result['peaks']} peaks (macs3 -f {result['format']} -g {result['genome_size']}) -> {output}",
               err=True)


def _mark_depth(key: str) -> tuple[str, str]:
    """``MARK:DEPTH`` -> (mark, depth label); ValueError unless DEPTH is a number > 0."""
    mark, colon, label = key.rpartition(":")
    if not (colon and mark and float(label) > 0):
        raise ValueError(key)
    return mark, label


@click.command(cls=GuardedCommand)
@click.option("--evaluation", "evaluations", multiple=True, required=True, type=NamedPath("MARK=EVAL.json"),
              help="A target mark and its `chipsr evaluate` JSON; repeatable, in row order.")
@click.option("--depth-evaluation", "depth_evaluations", multiple=True,
              type=NamedPath("MARK:DEPTH=EVAL.json", key=_mark_depth),
              help="`chipsr evaluate` JSON of MARK's model applied to inputs at DEPTH x the training input's reads "
                   "(e.g. H3K27ac:0.25=eval.json); repeatable: the input-depth table.")
@output_option(help="Markdown report.")
@click.option("--hub-dir", type=OutputDir(("hub.txt", "genomes.txt", "igv_session.xml", "{genome}/trackDb.txt")),
              default=None,
              help="Also write a UCSC track hub and an IGV session of all tracks here.")
@setting_option(ReportSettings, "genome", metavar="ASSEMBLY")
@click.option("--peak-file", "peak_files", multiple=True, type=NamedPath("LABEL=PEAKS"),
              help="A peak file (e.g. `chipsr peaks` of a denoised track) added to the IGV session; repeatable. "
                   "The evaluations' truth and MACS3 peak files are added anyway.")
@click.option("--html", type=OutputPath(), default=None, metavar="PAGE.html",
              help="Also write a self-contained report page (tables, figures and an igv.js genome browser with the "
                   "data embedded; opens from disk, no internet).")
@click.option("--training-log", "training_logs", multiple=True, type=NamedPath("MARK.ARCH[.seedN]=EPOCHS.tsv"),
              help="A model's per-epoch log (`chipsr train` writes MODEL.epochs.tsv): training curves on the --html page.")
def report(evaluations, depth_evaluations, output, hub_dir, peak_files, html, training_logs, **options) -> None:
    """Aggregate per-mark evaluations into one Table-2-shaped report (+ genome-browser files)."""
    from chipsr import api

    depths: dict[str, dict[str, str]] = {}
    for (mark, label), path in depth_evaluations:
        depths.setdefault(mark, {})[label] = path
    peaks, logs = dict(peak_files), dict(training_logs)
    table = api.report(dict(evaluations), output, hub_dir=hub_dir, depth_evaluations=depths, peak_files=peaks or None,
                       html=html, training_logs=logs or None, **options)
    click.echo(f"{len(table)} marks -> {output}", err=True)


@click.command(cls=GuardedCommand)
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option(required=False, help="Also write the card(s) to this YAML file (atomically) [default: stdout only].")
def info(models, output) -> None:
    """Print the model card of each checkpoint MODEL as YAML.

    The card: marks and references in input order, bin size, window, units, training depth range, data and
    regions, validation metrics, chipsr version."""
    from chipsr import api

    click.echo(api.info_yaml(models, output).rstrip())


@click.command(cls=GuardedCommand)
@click.argument("model", type=click.Path(dir_okay=False))
@output_option(help="The small checkpoint (written atomically).")
@click.option("--half", is_flag=True, help="Store the weights as float16 (half the size; loaded back as float32).")
def export(model, output, half) -> None:
    """Write a small copy of MODEL for sharing (best weights and card, no training state).

    About a third of the size; with --half a sixth. `chipsr info` reads it, `chipsr denoise` uses it."""
    from chipsr import api

    api.export(model, output, half=half)
    click.echo(f"-> {output}", err=True)
