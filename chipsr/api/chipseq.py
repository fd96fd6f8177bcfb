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
from dataclasses import dataclass, fields, replace
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


#: templates ``chipsr subsample`` keeps when neither ``n_reads`` nor ``fraction`` is given
DEFAULT_READS = 1_000_000


@dataclass
class SubsampleSettings:
    """The settings of ``chipsr subsample`` and their defaults (the one source the CLI reads)."""

    n_reads: int | None = setting(None, f"Keep exactly N templates (reads or read pairs) [default: {DEFAULT_READS} "
                                        "unless --fraction].")
    fraction: float | None = setting(None, "Keep each template with probability F in (0, 1].")
    seed: int = setting(0, "Random seed; the same inputs and seed give a byte-identical output.")


def subsample(
    reads: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    settings: SubsampleSettings | None = None,
    **overrides,
):
    """Subsample a BAM or BED reads file (or several of one format pooled: replicates) to
    ``n_reads`` templates (default :data:`DEFAULT_READS`) or a ``fraction`` (``chipsr subsample``);
    see :func:`chipsr.tasks.chipseq.subsample.subsample`.

    Returns
    -------
    chipsr.tasks.chipseq.subsample.SubsampleStats

    Raises
    ------
    ChipsrInputError
        Both ``n_reads`` and ``fraction``, ``n_reads`` < 1, or a bad reads file.
    TypeError
        An override that is not a field of :class:`SubsampleSettings`.
    """
    from chipsr.tasks.chipseq.subsample import subsample as _subsample

    s = command_settings(SubsampleSettings, settings, overrides)
    if s.n_reads is not None and s.fraction is not None:
        raise ChipsrInputError("give --reads or --fraction, not both")
    n_reads = DEFAULT_READS if s.n_reads is None and s.fraction is None else s.n_reads
    if n_reads is not None and n_reads < 1:
        raise ChipsrInputError(f"--reads must be >= 1, got {n_reads}")
    if not isinstance(reads, (str, os.PathLike)) and len(reads) == 1:
        reads = reads[0]
    return _subsample(reads, output, n_reads=n_reads, fraction=s.fraction, seed=s.seed)


@dataclass
class CoverageSettings:
    """The settings of ``chipsr coverage`` and their defaults (the one source the CLI reads); the
    names are deepTools ``bamCoverage``'s (:class:`chipsr.tasks.chipseq.coverage.CoverageOptions`)."""

    bin_size: int = setting(25, "Bin size in bp; a bin holds the mean per-bp depth over its bases.")
    extend_reads: int | None = setting(None, "Extend single-end reads to LEN bp in their strand direction; BAM pairs "
                                             "and BED3 rows are used as fragments. Without LEN: pairs/fragments only.")
    normalize_using: str = setting("none", "Scaling, as deepTools bamCoverage defines it.")
    effective_genome_size: int | None = setting(None, "Mappable genome size in bp (for RPGC).")
    min_mapq: int = setting(0, "Skip BAM alignments with lower MAPQ.")
    sam_flag_exclude: int = setting(0, "Skip BAM alignments with any of these flag bits (unmapped reads are always "
                                       "skipped).")
    ignore_duplicates: bool = setting(False, "Count reads with the same start, strand (and mate) once (deepTools' "
                                             "rule).")
    skip_unknown_chroms: bool = setting(False, "Drop reads on chromosomes absent from the sizes (with a warning) "
                                               "instead of failing.")
    out_format: str | None = setting(None, "Output format [default: from the suffix of -o; bigwig].")
    threads: int = setting(1, "CPU cores: BAM chromosomes are counted in this many processes.")


#: deepTools' spelling of each ``--normalize-using`` value, by its lower-case form
_NORMALIZATIONS = {n.lower(): n for n in ("none", "CPM", "RPKM", "BPM", "RPGC")}


def coverage(
    reads: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    blacklist: str | os.PathLike | None = None,
    region: str | None = None,
    chrom_sizes: str | os.PathLike | None = None,
    genome_fasta: str | os.PathLike | None = None,
    settings: CoverageSettings | None = None,
    **overrides,
):
    """One mark's read files (merged) -> a binned coverage bigWig or bedGraph (``chipsr coverage``).

    Each bin holds the mean per-bp fragment depth over the bin (Coda's averaging; equal to
    ``macs3 pileup`` / ``bamCoverage --binSize 1`` at 1 bp); see
    :mod:`chipsr.tasks.chipseq.coverage` for the method and
    :class:`~chipsr.tasks.chipseq.coverage.CoverageOptions` for the normalisations (deepTools'
    definitions).

    Parameters
    ----------
    reads : sequence of path
        BAM and/or BED-like read files of one mark; merged.
    output : path
        bigWig (default) or bedGraph (``.bdg``/``.bedgraph``[.gz], or ``out_format``); atomic.
    blacklist : path or None
        BED of regions whose reads are dropped (e.g. ENCODE blacklist v2).
    region : str or None
        ``CHR`` or ``CHR:START-END`` (1-based inclusive).
    chrom_sizes, genome_fasta : path or None
        Where chromosome sizes come from (BAM headers otherwise; required for BED input).
    settings : CoverageSettings or None
        Bin size (bp), fragment length (bp), normalisation, read filters, processes (default
        :class:`CoverageSettings`); keyword ``overrides`` replace its fields.

    Returns
    -------
    chipsr.tasks.chipseq.coverage.CoverageStats

    Raises
    ------
    ChipsrInputError
        Any bad input: missing/corrupt/empty files, malformed BED lines, unknown chromosomes,
        sizes that disagree with a BAM header, an unsorted BAM, a missing output directory,
        a non-positive bin size, a negative fragment length, an unknown normalisation.
    TypeError
        An override that is not a field of :class:`CoverageSettings`.
    """
    from chipsr.io.genome import parse_region, read_bed_intervals
    from chipsr.io.reads import ReadFilter
    from chipsr.tasks.chipseq.coverage import CoverageOptions, coverage_from_reads

    # not command_settings: these threads are processes, and torch is not needed here
    s = replace(settings if settings is not None else CoverageSettings(), **overrides)
    if not reads:
        raise ChipsrInputError("no reads files given")
    if s.extend_reads is not None and s.extend_reads < 0:
        raise ChipsrInputError(f"--extend-reads must be >= 0 bp, got {s.extend_reads}")
    if s.normalize_using.lower() not in _NORMALIZATIONS:
        raise ChipsrInputError(f"--normalize-using must be one of {', '.join(_NORMALIZATIONS.values())}, "
                               f"got {s.normalize_using!r}")
    options = CoverageOptions(
        bin_size=s.bin_size,
        reads=ReadFilter(extend_reads=s.extend_reads, min_mapq=s.min_mapq, sam_flag_exclude=s.sam_flag_exclude,
                         ignore_duplicates=s.ignore_duplicates),
        normalize_using=_NORMALIZATIONS[s.normalize_using.lower()],
        effective_genome_size=s.effective_genome_size,
        blacklist=read_bed_intervals(blacklist) if blacklist is not None else None,
        region=parse_region(region) if region is not None else None,
        skip_unknown_chroms=s.skip_unknown_chroms,
        threads=s.threads,
    )
    return coverage_from_reads(reads, output, options, chrom_sizes=chrom_sizes, genome_fasta=genome_fasta,
                               out_format=s.out_format)


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


@dataclass
class EvaluateSettings:
    """The settings of ``chipsr evaluate`` and their defaults (the one source the CLI reads); see
    :func:`chipsr.tasks.chipseq.evaluate.evaluate`."""

    bin_size: int = setting(25, "Bin size in bp at which the tracks are compared (a bin = the mean over its bases).")
    smooth_sigmas: tuple[float, ...] = setting((1, 2, 4, 8, 16, 32, 64), "Candidate Gaussian sigmas (bins) for "
                                               "--smooth-input and --smooth-reference.")
    smooth_select_region: str | None = setting(None, "Validation region where the sigma with the best Pearson r "
                                                     "is chosen, and --call-peaks' cutoffs are calibrated; must not "
                                                     "overlap --region (required with --smooth-input).")
    locus: str | None = setting(None, "Locus drawn in the figure. [default: the truth's highest-signal 100-kb "
                                      "window]")
    call_peaks_mode: str | None = setting(None, "With --peaks (truth peaks, e.g. `macs3 callpeak` on the "
                                                "full-depth reads): also call peaks on every track (MACS3's track "
                                                "caller, as `chipsr peaks`), each with the cutoff that matches the "
                                                "truth peaks best on --smooth-select-region, and score them (peak "
                                                "F1, precision, recall, bp Jaccard).")
    peak_overlap: float | None = setting(None, "A peak matches when the overlap is >= this fraction of both peaks "
                                               "(reciprocal). [default: 1 bp]")
    threads: int = setting(1, THREADS_HELP)


@_reads_nan_as_zero
def evaluate(
    truth: str | os.PathLike,
    tracks: dict[str, str | os.PathLike] | Sequence[str],
    prefix: str | os.PathLike,
    *,
    regions: Sequence[str] | None = None,
    blacklist: str | os.PathLike | None = None,
    peaks: str | os.PathLike | None = None,
    smooth_input: str | None = None,
    smooth_reference: str | None = None,
    differential_reference: str | None = None,
    depth_series: dict[float, str | os.PathLike] | None = None,
    called_peaks: dict[str, str | os.PathLike] | Sequence[str] | None = None,
    settings: EvaluateSettings | None = None,
    **overrides,
) -> dict:
    """Score tracks against a deep-sequencing truth (``chipsr evaluate``); writes PREFIX.tsv/.json/.md/.png.

    See :func:`chipsr.tasks.chipseq.evaluate.evaluate` for the inputs (``tracks`` ``{name: bigWig}``
    in table order, or ``NAME=PATH`` items as ``--tracks`` takes them, comma-separated allowed;
    ``depth_series`` ``{K: raw bigWig at K x the reads}``; ``called_peaks`` ``{name: peak file}``
    or ``NAME=PATH`` items). ``settings`` (default :class:`EvaluateSettings`) holds the rest, with
    keyword ``overrides`` replacing its fields; ``threads`` sets torch's CPU threads (the metrics run
    in torch).

    Returns
    -------
    dict
        The JSON content: metrics rows and metadata.

    Raises
    ------
    ChipsrInputError
        Missing bigWigs, tracks whose chromosome sizes differ from the truth, bad regions or names.
    TypeError
        An override that is not a field of :class:`EvaluateSettings`.
    """
    from chipsr.tasks.chipseq.evaluate import evaluate as _evaluate

    s = command_settings(EvaluateSettings, settings, overrides)
    if not isinstance(tracks, dict):
        tracks = parse_tracks(tracks)
    if called_peaks is not None and not isinstance(called_peaks, dict):
        called_peaks = parse_tracks(called_peaks) if called_peaks else None
    return _evaluate(truth, tracks, prefix, regions=regions, blacklist=blacklist, peaks=peaks, bin_size=s.bin_size,
                     smooth_input=smooth_input, smooth_sigmas=list(s.smooth_sigmas),
                     smooth_select_region=s.smooth_select_region, locus=s.locus, depth_series=depth_series,
                     smooth_reference=smooth_reference, differential_reference=differential_reference,
                     call_peaks_mode=s.call_peaks_mode, called_peaks=called_peaks, peak_overlap=s.peak_overlap)


@dataclass
class ReportSettings:
    """The settings of ``chipsr report`` and their defaults (the one source the CLI reads)."""

    genome: str = setting("hg19", "UCSC assembly name for the hub and IGV.")


def report(
    evaluations: dict[str, str | os.PathLike],
    output: str | os.PathLike,
    *,
    hub_dir: str | os.PathLike | None = None,
    depth_evaluations: dict[str, dict[str, str | os.PathLike]] | None = None,
    peak_files: dict[str, str | os.PathLike] | None = None,
    html: str | os.PathLike | None = None,
    training_logs: dict[str, str | os.PathLike] | None = None,
    settings: ReportSettings | None = None,
    **overrides,
) -> dict:
    """Aggregate ``chipsr evaluate`` JSONs into one report, a UCSC hub and an IGV session
    (``chipsr report``). See :func:`chipsr.tasks.chipseq.report.report`.

    Returns
    -------
    dict
        ``{mark: {track: Pearson r}}``.

    Raises
    ------
    ChipsrInputError
        A missing or malformed evaluation JSON, a missing peak file, or a missing output directory.
    TypeError
        An override that is not a field of :class:`ReportSettings`.
    """
    from chipsr.io.atomic import check_output_path
    from chipsr.tasks.chipseq.report import report as _report

    s = command_settings(ReportSettings, settings, overrides)
    check_output_path(output)
    if peak_files:
        from chipsr.io.genome import require_file

        for label, path in peak_files.items():
            require_file(path, f"peak file {label!r}")
    return _report(evaluations, output, hub_dir=hub_dir, genome=s.genome, depth_evaluations=depth_evaluations,
                   peak_files=peak_files, html=html, training_logs=training_logs)


@dataclass
class PeaksSettings:
    """The settings of ``chipsr peaks`` and their defaults (the one source the CLI reads); see
    :func:`chipsr.tasks.chipseq.peaks.run` for the cutoff rule."""

    broad: bool = setting(False, "Broad peaks (MACS3 bdgbroadcall: regions above the cutoff linked through regions "
                                 "above --low-cutoff), for broad marks such as H3K27me3, H3K36me3, H3K4me1.")
    fold: float | None = setting(None, "Cutoff = FOLD x the track's genome-wide mean over non-blacklisted bins (one "
                                       "fold serves tracks of any depth). [default: 4, or calibrated with "
                                       "--truth-peaks]")
    cutoff: float | None = setting(None, "Cutoff as a track value (instead of --fold).")
    low_cutoff: float | None = setting(None, "--broad: the linking cutoff, a track value below the cutoff. "
                                             "[default: half the cutoff]")
    min_length: int = setting(200, "Minimum peak length (bp).")
    max_gap: int = setting(50, "Gaps below the cutoff up to this length (bp) stay inside a peak.")
    max_link_gap: int = setting(800, "--broad: the longest linking stretch (bp) between strong regions.")
    name: str | None = setting(None, "Peak name prefix. [default: the output's file stem]")


@_reads_nan_as_zero
def peaks(
    track: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    regions: Sequence[str] | None = None,
    blacklist: str | os.PathLike | None = None,
    truth_peaks: str | os.PathLike | None = None,
    calibrate_region: str | None = None,
    gapped: str | os.PathLike | None = None,
    cutoff_analysis: int | None = None,
    model: str | os.PathLike | None = None,
    settings: PeaksSettings | None = None,
    **overrides,
) -> dict:
    """Call peaks on a bigWig track with MACS3's track callers (``chipsr peaks``).

    See :func:`chipsr.tasks.chipseq.peaks.run` for the parameters, the cutoff rule and the outputs
    (narrowPeak; broadPeak and gappedPeak with ``broad``). ``cutoff_analysis`` (a number of steps)
    returns MACS3's cutoff table instead of calling; ``model`` applies the peak rule stored in a model
    trained with ``target_peaks``. ``settings`` (default :class:`PeaksSettings`) holds the cutoff
    and shape settings; keyword ``overrides`` replace its fields.

    Returns
    -------
    dict
        ``n_peaks``, ``cutoff``, ``fold``, ``mean``, ``rule``, ``calibration``, ``analysis``.

    Raises
    ------
    ChipsrInputError
        Bad tracks, peak files, regions or values (named); no output without ``cutoff_analysis``;
        a gappedPeak file without an output; MACS3 missing.
    TypeError
        An override that is not a field of :class:`PeaksSettings`.
    """
    from chipsr.tasks.chipseq.peaks import run

    s = command_settings(PeaksSettings, settings, overrides)
    if output is None and cutoff_analysis is None:
        raise ChipsrInputError("-o/--output is required (unless --cutoff-analysis)")
    if gapped and not output:
        raise ChipsrInputError("--gapped-peak needs -o/--output")
    return run(track, output, cutoff=s.cutoff, fold=s.fold, broad=s.broad, low_cutoff=s.low_cutoff,
               min_length=s.min_length, max_gap=s.max_gap, max_link_gap=s.max_link_gap, regions=regions,
               blacklist=blacklist, truth=truth_peaks, calibrate_region=calibrate_region, gapped=gapped, name=s.name,
               analysis_steps=cutoff_analysis, model=model)


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
