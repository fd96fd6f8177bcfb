"""The ChIP-seq commands of the public Python API: one function per ``chipsr`` subcommand.

Example
-------
>>> from chipsr import api
>>> api.subsample("H3K27ac.bed.gz", "H3K27ac.1M.bed.gz", number=1_000_000, seed=1)
>>> api.coverage(["H3K27ac.1M.bed.gz"], "H3K27ac.bw", chrom_sizes="hg19.chrom.sizes", bin_size=25)
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from chipsr.api.common import command_settings
from chipsr.errors import ChipsrInputError
from chipsr.tasks.chipseq.genome import (  # noqa: F401 (re-exported: what the workflow reads of the genome)
    check_chromosome_names,
    effective_genome_size,
    macs3_format,
    reads_chromosomes,
)
from chipsr.tasks.chipseq.config import (  # noqa: F401 (re-exported: the settings of every command)
    ARCHS,
    DEFAULT_READS,
    CallpeakSettings,
    PEAK_TYPES,
    CoverageSettings,
    DenoiseSettings,
    EvaluateSettings,
    ModelSettings,
    PeaksSettings,
    RecipeSettings,
    ReportSettings,
    SubsampleSettings,
    TrainSettings,
    WORKFLOW_TRAIN_KEYS,
    train_settings_from_map,
)

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


#: keywords renamed in this release -> their names now (a value: ``(name, value)`` for a former flag);
#: the former names still work, with a DeprecationWarning, until the next release
RENAMED = {
    "n_reads": "number",
    "depth": "unet_depth",
    "target_peaks": "truth_peaks",
    "peaks": "truth_peaks",
    "smooth_select_region": "valid_region",
    "calibrate_region": "valid_region",
    "call_peaks_mode": "peak_type",
    "time_limit_s": "time_limit",
}


def _renamed(overrides: dict) -> dict:
    """``overrides`` with former keyword names (:data:`RENAMED`, ``broad=True``, ``time_limit_s`` in
    seconds) turned into today's, one DeprecationWarning each."""
    import warnings

    out = {}
    for key, value in overrides.items():
        if key == "broad":
            new, value = "peak_type", "broad" if value else "narrow"
        elif key in RENAMED:
            new = RENAMED[key]
            if key == "time_limit_s" and value is not None:
                value = value / 60  # minutes now
        else:
            out[key] = value
            continue
        warnings.warn(f"chipsr.api: {key}= is now {new}=; {key}= goes in the next release", DeprecationWarning,
                      stacklevel=3)
        out[new] = value
    return out


def check_splits(splits: dict, sizes: dict) -> None:
    """Refuse overlapping regions between or within the splits (``{"train": [Region, ...], ...}``):
    :func:`chipsr.tasks.chipseq.data.check_splits`, the check ``chipsr train`` makes, for the workflow.

    Raises
    ------
    ChipsrInputError
        Naming both regions and their splits.
    """
    from chipsr.tasks.chipseq.data import check_splits as _check_splits

    _check_splits(splits, sizes)


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
    settings: SubsampleSettings | None = None,
    **overrides,
):
    """Subsample a BAM or BED reads file (or several of one format pooled: replicates) to
    ``number`` templates (default :data:`DEFAULT_READS`) or a ``fraction`` (``chipsr subsample``);
    see :func:`chipsr.tasks.chipseq.subsample.subsample`.

    Returns
    -------
    chipsr.tasks.chipseq.subsample.SubsampleStats

    Raises
    ------
    ChipsrInputError
        Both ``number`` and ``fraction``, ``number`` < 1, or a bad reads file.
    TypeError
        An override that is not a field of :class:`SubsampleSettings`.
    """
    from chipsr.tasks.chipseq.subsample import subsample as _subsample

    s = command_settings(SubsampleSettings, settings, _renamed(overrides))
    if s.number is not None and s.fraction is not None:
        raise ChipsrInputError("give -n/--number or --fraction, not both")
    n_reads = DEFAULT_READS if s.number is None and s.fraction is None else s.number
    if n_reads is not None and n_reads < 1:
        raise ChipsrInputError(f"-n/--number must be >= 1, got {n_reads}")
    if not isinstance(reads, (str, os.PathLike)) and len(reads) == 1:
        reads = reads[0]
    return _subsample(reads, output, n_reads=n_reads, fraction=s.fraction, seed=s.seed)




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
    depth_sets: Sequence[str] = (),
    settings: TrainSettings | None = None,
    **overrides,
) -> dict:
    """Train one denoising model for a target mark from low-depth marks (``chipsr train``).

    Parameters
    ----------
    marks : sequence of str
        Low-depth coverage bigWigs: paths or ``NAME=path``, comma-separated items allowed, joined
        into one set of marks; the order is recorded and must be the same at ``denoise`` time. A
        mark named twice is refused (several depths of the same marks are ``depth_sets``).
    depth_sets : sequence of str
        More sets of the same marks at other depths (``--depth-set``), each one value of
        ``NAME=path`` items naming every mark in ``marks``' order: ``marks`` and these are the
        depth sets, in this order; each training crop draws its inputs from one at random.
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

    s = command_settings(TrainSettings, settings, _renamed(overrides))
    check_output_path(output)
    named = parse_marks(marks, depth_sets)
    refs = parse_named_tracks(references, require_names=True, option="--reference") if references else None
    target_name, target = parse_named_tracks([str(target)], option="--target").popitem()
    return _train(named, Path(target), output, _regions(train_regions), _regions(valid_regions),
                  _regions(test_regions), s, blacklist=read_bed_intervals(blacklist) if blacklist else None,
                  references=refs, target_name=target_name)


def parse_marks(marks: Sequence[str], depth_sets: Sequence[str] = ()):
    """``--marks`` values (joined into one set) and ``--depth-set`` values (one set each) -> one
    ``{name: path}`` set, or the list of depth sets when ``depth_sets`` is given.

    Raises
    ------
    ChipsrInputError
        A mark named twice in ``--marks`` (pointing to ``--depth-set``), a depth set whose names or
        order differ from ``--marks``, or see :func:`chipsr.tasks.chipseq.data.parse_named_tracks`.
    """
    from chipsr.tasks.chipseq.data import mark_sets, parse_named_tracks

    try:
        marks = parse_named_tracks(list(marks))
    except ChipsrInputError as exc:
        if "used twice" not in str(exc):
            raise
        raise ChipsrInputError(f"{exc}; give the same marks at other depths with --depth-set") from None
    if not depth_sets:
        return marks
    return mark_sets([marks] + [parse_named_tracks([spec], option="--depth-set") for spec in depth_sets])




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
def evaluate(
    truth: str | os.PathLike,
    tracks: dict[str, str | os.PathLike] | Sequence[str],
    prefix: str | os.PathLike,
    *,
    regions: Sequence[str] | None = None,
    blacklist: str | os.PathLike | None = None,
    truth_peaks: str | os.PathLike | None = None,
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

    overrides = _renamed(overrides)
    truth_peaks = overrides.pop("truth_peaks", truth_peaks)
    s = command_settings(EvaluateSettings, settings, overrides)
    if not isinstance(tracks, dict):
        tracks = parse_tracks(tracks)
    if called_peaks is not None and not isinstance(called_peaks, dict):
        called_peaks = parse_tracks(called_peaks) if called_peaks else None
    if s.peak_type is not None and s.peak_type not in PEAK_TYPES:
        raise ChipsrInputError(f"--peak-type must be one of {', '.join(PEAK_TYPES)}, got {s.peak_type!r}")
    return _evaluate(truth, tracks, prefix, regions=regions, blacklist=blacklist, truth_peaks=truth_peaks, settings=s,
                     smooth_input=smooth_input, depth_series=depth_series, smooth_reference=smooth_reference,
                     differential_reference=differential_reference, called_peaks=called_peaks)




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
        from chipsr.io.peaks import read_peak_intervals

        for label, path in peak_files.items():
            require_file(path, f"peak file {label!r}")
            read_peak_intervals(path)  # a file that is not a peak file fails here, naming its line
    return _report(evaluations, output, hub_dir=hub_dir, genome=s.genome, depth_evaluations=depth_evaluations,
                   peak_files=peak_files, html=html, training_logs=training_logs)




@_reads_nan_as_zero
def peaks(
    track: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    regions: Sequence[str] | None = None,
    blacklist: str | os.PathLike | None = None,
    truth_peaks: str | os.PathLike | None = None,
    valid_region: str | None = None,
    gapped: str | os.PathLike | None = None,
    cutoff_analysis: int | None = None,
    model: str | os.PathLike | None = None,
    settings: PeaksSettings | None = None,
    **overrides,
) -> dict:
    """Call peaks on a bigWig track with MACS3's track callers (``chipsr peaks``).

    See :func:`chipsr.tasks.chipseq.peaks.run` for the parameters, the cutoff rule and the outputs
    (narrowPeak; broadPeak and gappedPeak with ``peak_type="broad"``). ``truth_peaks`` calibrates the
    fold on ``valid_region``; ``cutoff_analysis`` (a number of steps) returns MACS3's cutoff table
    instead of calling; ``model`` applies the peak rule stored in a model trained with ``truth_peaks``. ``settings`` (default :class:`PeaksSettings`) holds the cutoff
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

    overrides = _renamed(overrides)
    valid_region = overrides.pop("valid_region", valid_region)
    s = command_settings(PeaksSettings, settings, overrides)
    if output is None and cutoff_analysis is None:
        raise ChipsrInputError("-o/--output is required (unless --cutoff-analysis)")
    if gapped and not output:
        raise ChipsrInputError("--gapped-peak needs -o/--output")
    if s.peak_type not in PEAK_TYPES:
        raise ChipsrInputError(f"--peak-type must be one of {', '.join(PEAK_TYPES)}, got {s.peak_type!r}")
    return run(track, output, s, regions=regions, blacklist=blacklist, truth_peaks=truth_peaks,
               valid_region=valid_region, gapped=gapped, analysis_steps=cutoff_analysis, model=model)


def callpeak(
    reads: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    chrom_sizes: str | os.PathLike | None = None,
    blacklist: str | os.PathLike | None = None,
    settings: CallpeakSettings | None = None,
    **overrides,
) -> dict:
    """``macs3 callpeak`` on one mark's reads (replicates pooled), keeping only its peak file
    (``chipsr callpeak``); see :func:`chipsr.tasks.chipseq.callpeak.callpeak`. ``settings``
    (default :class:`CallpeakSettings`) holds MACS3's options; keyword ``overrides`` replace its fields.

    Returns
    -------
    dict
        ``peaks``, ``genome_size``, ``format``, ``command``.

    Raises
    ------
    ChipsrInputError
        Bad reads, cutoff or peak type; no way to derive the genome size; MACS3 missing or failing.
    TypeError
        An override that is not a field of :class:`CallpeakSettings`.
    """
    from chipsr.tasks.chipseq.callpeak import callpeak as _callpeak

    s = replace(settings if settings is not None else CallpeakSettings(), **overrides)
    return _callpeak(reads, output, peak_type=s.peak_type, cutoff=s.cutoff, genome_size=s.genome_size,
                     chrom_sizes=chrom_sizes, blacklist=blacklist, fmt=s.format, broad_cutoff=s.broad_cutoff,
                     name=s.name)


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
