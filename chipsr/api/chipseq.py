"""The ChIP-seq commands of the public Python API: one function per ``chipsr`` subcommand.

Example
-------
>>> from chipsr import api
>>> api.subsample("H3K27ac.bed.gz", "H3K27ac.1M.bed.gz", n_reads=1_000_000, seed=1)
>>> api.coverage(["H3K27ac.1M.bed.gz"], "H3K27ac.bw", chrom_sizes="hg19.chrom.sizes", bin_size=25)
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from chipsr.api.common import DEVICE_HELP, THREADS_HELP, command_settings, setting
from chipsr.errors import ChipsrInputError

log = logging.getLogger(__name__)


def _reads_nan_as_zero(fn):
    """Give an API command the ``nan_as_zero`` keyword (``--nan-as-zero``): inside the call, non-finite
    bigWig values read as 0, with one warning per file naming the count of bins replaced
    (:func:`chipsr.io.tracks.nan_as_zero`); without it they are an error naming the position."""

    @functools.wraps(fn)
    def call(*args, nan_as_zero: bool = False, **kwargs):
        from chipsr.io.tracks import nan_as_zero as non_finite_as_zero

        with non_finite_as_zero(nan_as_zero):
            return fn(*args, **kwargs)

    return call


def parse_tracks(specs: Sequence[str]) -> dict[str, str]:
    """``NAME=PATH`` items (comma-separated or repeated) -> ordered ``{name: path}``
    (:func:`chipsr.tasks.chipseq.evaluate.parse_tracks`).

    Raises
    ------
    ChipsrInputError
        An item without ``NAME=``, an empty name or path, a name used twice, or no items.
    """
    from chipsr.tasks.chipseq.evaluate import parse_tracks as _parse_tracks

    return _parse_tracks(specs)


def subsample(
    reads: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    n_reads: int | None = None,
    fraction: float | None = None,
    seed: int = 0,
):
    """Subsample a BAM or BED reads file (or several of one format pooled: replicates); see
    :func:`chipsr.tasks.chipseq.subsample.subsample`.

    Returns
    -------
    chipsr.tasks.chipseq.subsample.SubsampleStats
    """
    from chipsr.tasks.chipseq.subsample import subsample as _subsample

    return _subsample(reads, output, n_reads=n_reads, fraction=fraction, seed=seed)


def coverage(
    reads: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    bin_size: int = 25,
    extend_reads: int | None = None,
    normalize_using: str = "none",
    effective_genome_size: int | None = None,
    min_mapq: int = 0,
    sam_flag_exclude: int = 0,
    ignore_duplicates: bool = False,
    blacklist: str | os.PathLike | None = None,
    region: str | None = None,
    chrom_sizes: str | os.PathLike | None = None,
    genome_fasta: str | os.PathLike | None = None,
    skip_unknown_chroms: bool = False,
    threads: int = 1,
    out_format: str | None = None,
):
    """One mark's read files (merged) -> a binned coverage bigWig or bedGraph.

    Each bin holds the mean per-bp fragment depth over the bin (Coda's averaging; equal to
    ``macs3 pileup`` / ``bamCoverage --binSize 1`` at 1 bp); see
    :mod:`chipsr.tasks.chipseq.coverage` for the method and :class:`CoverageOptions` for the
    normalisations (deepTools' definitions).

    Parameters
    ----------
    reads : sequence of path
        BAM and/or BED-like read files of one mark; merged.
    output : path
        bigWig (default) or bedGraph (``.bdg``/``.bedgraph``[.gz], or ``out_format``); atomic.
    bin_size : int
        Bin size (bp), > 0.
    extend_reads : int or None
        Fragment length (bp) for single-end reads; 0 = use pairs/fragments only; None = no extension.
    normalize_using : {"none", "CPM", "RPKM", "BPM", "RPGC"}
    effective_genome_size : int or None
        bp, for RPGC.
    min_mapq, sam_flag_exclude, ignore_duplicates :
        BAM read filters (deepTools semantics; duplicates by position).
    blacklist : path or None
        BED of regions whose reads are dropped (e.g. ENCODE blacklist v2).
    region : str or None
        ``CHR`` or ``CHR:START-END`` (1-based inclusive).
    chrom_sizes, genome_fasta : path or None
        Where chromosome sizes come from (BAM headers otherwise; required for BED input).
    skip_unknown_chroms : bool
        Drop reads on chromosomes absent from the sizes instead of failing.
    threads : int
        Processes (BAM chromosomes in parallel).
    out_format : {"bigwig", "bedgraph"} or None
        None: from the output suffix.

    Returns
    -------
    chipsr.tasks.chipseq.coverage.CoverageStats

    Raises
    ------
    ChipsrInputError
        Any bad input: missing/corrupt/empty files, malformed BED lines, unknown chromosomes,
        sizes that disagree with a BAM header, an unsorted BAM, a missing output directory,
        a non-positive bin size.
    """
    from chipsr.io.genome import parse_region, read_bed_intervals
    from chipsr.io.reads import ReadFilter
    from chipsr.tasks.chipseq.coverage import CoverageOptions, coverage_from_reads

    if not reads:
        raise ChipsrInputError("no reads files given")
    if extend_reads is not None and extend_reads < 0:
        raise ChipsrInputError(f"--extend-reads must be >= 0 bp, got {extend_reads}")
    options = CoverageOptions(
        bin_size=bin_size,
        reads=ReadFilter(extend_reads=extend_reads, min_mapq=min_mapq, sam_flag_exclude=sam_flag_exclude,
                         ignore_duplicates=ignore_duplicates),
        normalize_using=normalize_using,
        effective_genome_size=effective_genome_size,
        blacklist=read_bed_intervals(blacklist) if blacklist is not None else None,
        region=parse_region(region) if region is not None else None,
        skip_unknown_chroms=skip_unknown_chroms,
        threads=threads,
    )
    return coverage_from_reads(reads, output, options, chrom_sizes=chrom_sizes, genome_fasta=genome_fasta,
                               out_format=out_format)


def _regions(texts) -> list:
    from chipsr.io.genome import parse_region

    return [parse_region(t) for t in (texts or [])]


@dataclass
class TrainSettings:
    """The settings of ``chipsr train`` and their defaults: the one source the CLI reads for its
    option defaults and help (:func:`chipsr.cli.options.setting_option`). See
    :func:`chipsr.tasks.chipseq.train.train` for what each does."""

    arch: str = setting("tfilm", "TFiLM U-Net, the same U-Net without TFiLM, the Coda CNN, or a multi-mark linear "
                                 "filter.")
    bin_size: int = setting(25, "Bin size in bp; a bin holds the mean per-bp depth over its bases.")
    window: int = setting(1000, "Window length in bins.")
    blocks: int = setting(2, "TFiLM blocks per layer (B).")
    width: float = setting(0.125, "U-Net width multiplier (1 = the paper's 128..512 filters).")
    depth: int = setting(3, "U-Net down blocks (K).")
    dropout: float = setting(0.1, "Dropout rate.")
    transform: str = setting("none", "Target transform before dividing by its training mean (inverted on output).")
    input_transform: str = setting("scaled", "Inputs: the --transform of x divided by the mark's training mean "
                                             "(none: x / mean), or log1p(x / mean).")
    gamma_offset: float = setting(1.0, "TFiLM: added to every gamma; 1 = (1 + gamma) * F + beta (starts as the "
                                       "identity), 0 = the paper's gamma * F + beta.")
    affine: bool = setting(True, "TFiLM: gamma * F + beta (the paper); --gamma-only: gamma only (the reference "
                                 "code).")
    backbone: str = setting("pool", "U-Nets: dilated convolutions + max-pool (the paper), or stride-2 convolutions "
                                    "(half the compute).")
    bidirectional: bool = setting(False, "TFiLM: bidirectional LSTMs (TFiLM paper, appendix C).")
    residual_mark: str | None = setting(None, "U-Nets: add this input mark to the output, so the network learns "
                                              "y - x (the paper's residual).")
    epochs: int = setting(40, "Epochs of --samples-per-epoch random crops; the cosine schedule spans them all.")
    samples_per_epoch: int = setting(800, "Random windows drawn afresh (seeded) from the training regions every "
                                          "epoch.")
    reverse: bool = setting(True, "Reverse each crop with probability 0.5 (ChIP-seq coverage has no strand).")
    peak_fraction: float = setting(0.0, "Share of crops centred (+- window/4) on bins where the full-depth target "
                                        "is in its top 1 % of the training region (Coda: 0.5).")
    batch_size: int = setting(16, "Windows per step (in total over DDP processes).")
    lr: float = setting(2e-3, "Peak Adam learning rate.")
    lr_schedule: str = setting("cosine", "cosine: decay to 0 over --epochs.")
    select: str = setting("pearson", "Keep the epoch with the best validation Pearson r, or the lowest validation "
                                     "loss.")
    patience: int | None = setting(None, "Stop after this many epochs without a better --select score "
                                         "[default: never].")
    time_limit_s: float | None = setting(None, "Wall-clock budget: no epoch starts after it (the best epoch so far "
                                               "is kept).")
    target_peaks: str | None = setting(None, "Full-depth peaks of the target (e.g. macs3 callpeak on the deep "
                                             "reads): the model card stores the peak rule calibrated on the "
                                             "validation region, used by `chipsr peaks --model`.")
    peak_type: str = setting("narrow", "The target mark's peaks for --target-peaks (broad: H3K27me3, H3K36me3, "
                                       "H3K4me1, ...).")
    workers: int = setting(0, "Processes reading training crops from the memory-mapped bins (0: the training "
                              "process); worth it on a GPU. The crops do not depend on it.")
    resume: bool = setting(False, "Continue an interrupted run from OUTPUT.inprogress (the same options; changed "
                                  "ones are refused).")
    seed: int = setting(0, "Random seed.")
    device: str | None = setting(None, DEVICE_HELP)
    threads: int = setting(1, THREADS_HELP)
    chunk_bins: int = setting(4_000_000, "Bins read from the bigWigs at a time while streaming.")


@_reads_nan_as_zero
def train(
    marks: Sequence[str],
    target: str | os.PathLike,
    output: str | os.PathLike,
    *,
    train_regions: Sequence[str],
    valid_regions: Sequence[str],
    test_regions: Sequence[str] = (),
    blacklist: str | os.PathLike | None = None,
    references: Sequence[str] = (),
    settings: TrainSettings | None = None,
    **overrides,
) -> dict:
    """Train one denoising model for a target mark from low-depth marks (``chipsr train``).

    Parameters
    ----------
    marks : sequence of str
        Low-depth coverage bigWigs: paths or ``NAME=path``, comma-separated items allowed; the
        order is recorded and must be the same at ``denoise`` time. Several values naming the
        same marks are depth sets (:func:`parse_marks`).
    references : sequence of str
        ``NAME=deep.bw`` items: deep tracks of other samples, extra input channels.
    target : path
        Full-depth bigWig of the target mark; ``NAME=path`` names it (default: the file name).
    output : path
        Checkpoint; ``<output>.epochs.tsv`` and ``<output>.splits.json`` are written beside it.
    train_regions, valid_regions, test_regions : sequence of str
        ``CHR`` or ``CHR:START-END`` (1-based inclusive); must not overlap.
    blacklist : path or None
        BED of excluded regions (windows touching them are left out).
    settings : TrainSettings or None
        Everything else (default :class:`TrainSettings`); keyword ``overrides`` replace its fields
        (e.g. ``epochs=5``). ``threads`` sets torch's CPU threads.

    Returns
    -------
    dict
        Training summary.

    Raises
    ------
    ChipsrInputError
        See :func:`chipsr.tasks.chipseq.train.train`.
    TypeError
        An override that is not a field of :class:`TrainSettings`.
    """
    from chipsr.io.atomic import check_output_path
    from chipsr.io.genome import read_bed_intervals
    from chipsr.tasks.chipseq.data import parse_named_tracks
    from chipsr.tasks.chipseq.train import train as _train

    s = command_settings(TrainSettings, settings, overrides)
    check_output_path(output)
    named = parse_marks(marks)
    refs = parse_named_tracks(references, require_names=True, option="--reference") if references else None
    target_name, target = parse_named_tracks([str(target)], option="--target").popitem()
    options = {f.name: getattr(s, f.name) for f in fields(s) if f.name != "threads"}
    return _train(named, Path(target), output, _regions(train_regions), _regions(valid_regions),
                  _regions(test_regions), blacklist=read_bed_intervals(blacklist) if blacklist else None,
                  references=refs, target_name=target_name, **options)


def parse_marks(specs: Sequence[str]):
    """``--marks`` values -> one ``{name: path}`` set, or a list of depth sets.

    When ``--marks`` is given several times and every value names the same marks in the same
    order (``NAME=path``), each value is one depth set (the same marks subsampled to another
    depth). Otherwise the values are joined into one set (``--marks A.bw --marks B.bw`` = two marks).

    Raises
    ------
    ChipsrInputError
        See :func:`chipsr.tasks.chipseq.data.parse_named_tracks`.
    """
    from chipsr.tasks.chipseq.data import parse_named_tracks

    specs = list(specs)
    if len(specs) > 1:
        sets = [parse_named_tracks([spec]) for spec in specs]
        if all(list(st) == list(sets[0]) for st in sets[1:]):
            return sets
    return parse_named_tracks(specs)


@dataclass
class DenoiseSettings:
    """The settings of ``chipsr denoise`` and their defaults (the one source the CLI reads)."""

    overlap: int = setting(50, "Bins of context dropped at each side of every window (50: Pearson r as at 100, "
                               "10 % faster; README, denoising speed).")
    batch_size: int = setting(64, "Windows per forward pass (the output does not depend on it).")
    device: str | None = setting(None, DEVICE_HELP)
    threads: int = setting(1, THREADS_HELP)


@_reads_nan_as_zero
def denoise(
    marks: Sequence[str],
    model: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    regions: Sequence[str] = (),
    references: Sequence[str] = (),
    blacklist: str | os.PathLike | None = None,
    settings: DenoiseSettings | None = None,
    **overrides,
) -> dict:
    """Write a denoised bigWig from low-depth marks with a trained model (``chipsr denoise``).

    The output is in fold enrichment over the average bin (each input over its own genome-wide
    mean, outside ``blacklist``): comparable between samples of any depth.

    Parameters
    ----------
    marks : sequence of str
        The model's marks, same names and order as at training (``NAME=path`` to rename).
    model : path or sequence of paths
        Checkpoint from :func:`train`, or several of one target (a seed ensemble: their outputs
        are averaged).
    output : path
        Output bigWig (atomic).
    regions : sequence of str
        Limit to these regions (default: all chromosomes).
    references : sequence of str
        ``NAME=deep.bw``: the model's reference tracks.
    blacklist : path or None
        BED left out of each input's genome-wide mean (default: the training blacklist in the model).
    settings : DenoiseSettings or None
        Tiled inference settings (default :class:`DenoiseSettings`); keyword ``overrides`` replace
        its fields. ``threads`` sets torch's CPU threads.

    Returns
    -------
    dict
        bp processed, seconds, Mbp/s.

    Raises
    ------
    ChipsrInputError
        Marks that do not match the model, a missing bigWig, a region outside a chromosome.
    TypeError
        An override that is not a field of :class:`DenoiseSettings`.
    """
    from chipsr.io.atomic import check_output_path
    from chipsr.io.genome import read_bed_intervals
    from chipsr.tasks.chipseq.data import parse_named_tracks
    from chipsr.tasks.chipseq.denoise import denoise as _denoise

    s = command_settings(DenoiseSettings, settings, overrides)
    check_output_path(output)
    model = list(model) if isinstance(model, (list, tuple)) else model
    refs = parse_named_tracks(references, require_names=True, option="--reference") if references else None
    return _denoise(parse_named_tracks(marks), model, output, _regions(regions) or None, overlap=s.overlap,
                    batch_size=s.batch_size, device=s.device, references=refs,
                    blacklist=read_bed_intervals(blacklist) if blacklist else None)


def info(model: str | os.PathLike) -> dict:
    """The model card of a checkpoint (``chipsr info``): see :func:`chipsr.tasks.chipseq.model.model_card`.

    Raises
    ------
    ChipsrInputError
        Not a readable chipsr checkpoint.
    """
    from chipsr.tasks.chipseq.model import model_card

    return model_card(model)


def info_yaml(models: Sequence[str | os.PathLike], output: str | os.PathLike | None = None) -> str:
    """The model cards of several checkpoints as one YAML document stream (``chipsr info``), also
    written atomically to ``output`` when given.

    Raises
    ------
    ChipsrInputError
        A file that is not a chipsr ChIP-seq checkpoint (see :func:`info`).
    """
    import yaml

    text = yaml.safe_dump_all([info(path) for path in models], sort_keys=False, width=110)
    if output:
        from chipsr.io.atomic import atomic_output

        with atomic_output(output) as tmp:
            tmp.write_text(text)
    return text


def export(model: str | os.PathLike, output: str | os.PathLike, *, half: bool = False):
    """A small copy of a checkpoint for sharing (``chipsr export``): best weights and metadata, no
    resumable training state; ``half`` stores float16 weights. See
    :func:`chipsr.io.checkpoint.export_checkpoint`.

    Raises
    ------
    ChipsrInputError
        Not a chipsr checkpoint, an unfinished training state, or a missing output folder.
    """
    from chipsr.errors import ChipsrInputError
    from chipsr.io.checkpoint import export_checkpoint, load_checkpoint

    if (load_checkpoint(model).get("meta") or {}).get("in_progress"):
        raise ChipsrInputError(f"{model}: an unfinished training state; finish it with `chipsr train ... --resume`")
    return export_checkpoint(model, output, half=half)


@_reads_nan_as_zero
def evaluate(truth, tracks, prefix, *, regions=None, blacklist=None, peaks=None, bin_size=25,
             smooth_input=None, smooth_sigmas=(1, 2, 4, 8, 16, 32, 64), smooth_select_region=None, locus=None,
             depth_series=None, threads: int | None = None, smooth_reference=None,
             differential_reference=None, call_peaks_mode=None, called_peaks=None, peak_overlap=None) -> dict:
    """Score tracks against a deep-sequencing truth (``chipsr evaluate``); writes PREFIX.tsv/.json/.md/.png.

    See :func:`chipsr.tasks.chipseq.evaluate.evaluate` for the parameters; ``threads`` sets torch's
    CPU threads (the metrics run in torch).

    Returns
    -------
    dict
        The JSON content: metrics rows and metadata.

    Raises
    ------
    ChipsrInputError
        Missing bigWigs, tracks whose chromosome sizes differ from the truth, bad regions or names.
    """
    import torch

    from chipsr.tasks.chipseq.evaluate import evaluate as _evaluate

    if threads:
        torch.set_num_threads(threads)
    return _evaluate(truth, tracks, prefix, regions=regions, blacklist=blacklist, peaks=peaks, bin_size=bin_size,
                     smooth_input=smooth_input, smooth_sigmas=smooth_sigmas,
                     smooth_select_region=smooth_select_region, locus=locus, depth_series=depth_series,
                     smooth_reference=smooth_reference, differential_reference=differential_reference,
                     call_peaks_mode=call_peaks_mode, called_peaks=called_peaks, peak_overlap=peak_overlap)


def report(evaluations: dict, output, *, hub_dir=None, genome: str = "hg19", depth_evaluations=None,
           peak_files=None, html=None, training_logs=None) -> dict:
    """Aggregate ``chipsr evaluate`` JSONs into one report, a UCSC hub and an IGV session.

    See :func:`chipsr.tasks.chipseq.report.report`.

    Returns
    -------
    dict
        ``{mark: {track: Pearson r}}``.

    Raises
    ------
    ChipsrInputError
        A missing or malformed evaluation JSON, or a missing output directory.
    """
    from chipsr.io.atomic import check_output_path
    from chipsr.tasks.chipseq.report import report as _report

    check_output_path(output)
    if peak_files:
        from chipsr.io.genome import require_file

        for label, path in peak_files.items():
            require_file(path, f"peak file {label!r}")
    return _report(evaluations, output, hub_dir=hub_dir, genome=genome, depth_evaluations=depth_evaluations,
                   peak_files=peak_files, html=html, training_logs=training_logs)


@_reads_nan_as_zero
def peaks(track, output=None, *, cutoff=None, fold=None, broad=False, low_cutoff=None, min_length=200, max_gap=50,
          max_link_gap=800, regions=None, blacklist=None, truth_peaks=None, calibrate_region=None, gapped=None,
          name=None, cutoff_analysis=None, model=None) -> dict:
    """Call peaks on a bigWig track with MACS3's track callers (``chipsr peaks``).

    See :func:`chipsr.tasks.chipseq.peaks.run` for the parameters, the cutoff rule and the outputs
    (narrowPeak; broadPeak and gappedPeak with ``broad``). ``cutoff_analysis`` (a number of steps)
    returns MACS3's cutoff table instead of calling; ``model`` applies the peak rule stored in a model
    trained with ``target_peaks``.

    Returns
    -------
    dict
        ``n_peaks``, ``cutoff``, ``fold``, ``mean``, ``rule``, ``calibration``, ``analysis``.

    Raises
    ------
    ChipsrInputError
        Bad tracks, peak files, regions or values (named); MACS3 missing.
    """
    from chipsr.tasks.chipseq.peaks import run

    if output is None and cutoff_analysis is None:
        raise ChipsrInputError("-o/--output is required (unless --cutoff-analysis)")
    return run(track, output, cutoff=cutoff, fold=fold, broad=broad, low_cutoff=low_cutoff, min_length=min_length,
               max_gap=max_gap, max_link_gap=max_link_gap, regions=regions, blacklist=blacklist, truth=truth_peaks,
               calibrate_region=calibrate_region, gapped=gapped, name=name, analysis_steps=cutoff_analysis,
               model=model)


def gather(shards: Sequence[str | os.PathLike], output: str | os.PathLike) -> dict:
    """Merge per-chromosome shards of one denoised track into one bigWig (``chipsr gather``);
    byte-for-byte the unsharded ``chipsr denoise`` output when each shard holds whole chromosomes.
    See :func:`chipsr.io.tracks.gather_bigwigs`.

    Returns
    -------
    dict
        Chromosomes gathered, header chromosomes without data, bin size.

    Raises
    ------
    ChipsrInputError
        Shards with different headers or bin sizes, a chromosome in two shards, the output is a shard.
    """
    from chipsr.io.atomic import check_output_path
    from chipsr.io.tracks import gather_bigwigs

    check_output_path(output)
    return gather_bigwigs(shards, output)
