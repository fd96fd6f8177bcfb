"""The settings of the ChIP-seq task: one dataclass per command, the one source of every default.

The model classes, the task functions, the Python API (:mod:`chipsr.api`, which re-exports these
classes), the command line (every option's default and help come from a field here) and the
workflow (its ``train:`` map holds :class:`TrainSettings` fields, checked by
:func:`train_settings_from_map`) all read them, so ``chipsr train`` with only its required options
trains the network of the workflow's default and of the shipped models in ``examples/models/``.

Reading this module imports neither torch nor numpy (``chipsr --help`` stays fast).

==========================  =========================================================================
class                        what it holds
==========================  =========================================================================
:class:`ModelSettings`       the network: architecture, window, U-Net size, input/target transforms
:class:`RecipeSettings`      how it is trained: epochs, crops, batch, learning rate, selection, seed
:class:`TrainSettings`       both, and the run's data and compute settings (``chipsr train``)
:class:`DenoiseSettings`     tiled inference (``chipsr denoise``)
:class:`PeaksSettings`       the peak rule (``chipsr peaks``)
:class:`EvaluateSettings`    scoring against a deep track (``chipsr evaluate``)
:class:`SubsampleSettings`   ``chipsr subsample``
:class:`CoverageSettings`    ``chipsr coverage`` (deepTools ``bamCoverage``'s names)
:class:`ReportSettings`      ``chipsr report``
==========================  =========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from chipsr.errors import ChipsrInputError
from chipsr.specs import DEVICE_HELP, THREADS_HELP, setting

#: the denoising networks, in the order the reports list them: the TFiLM U-Net (TFiLM paper, Section
#: 3.2), the same U-Net without TFiLM, the Coda CNN (Koh et al. 2017) and a multi-mark linear filter
ARCHS = ("tfilm", "conv", "coda", "linear")

#: the recipe values that depend on the architecture (used where a :class:`RecipeSettings` field is
#: None). 16 epochs of 800 crops give the same validation r as 20 within the seed spread on the
#: example; Coda's CNN needs 40; the linear filter starts from its least-squares fit, so it is
#: fine-tuned briefly at a lower rate
ARCH_RECIPE = {
    "tfilm": {"epochs": 16, "lr": 2e-3},
    "conv": {"epochs": 16, "lr": 2e-3},
    "coda": {"epochs": 40, "lr": 2e-3},
    "linear": {"epochs": 10, "lr": 3e-4},
}

#: MACS3's peak shapes: narrowPeak (bdgpeakcall) or broadPeak (bdgbroadcall)
PEAK_TYPES = ("narrow", "broad")


def _by_arch(key: str) -> str:
    return ", ".join(f"{v[key]:g} for {arch}" for arch, v in ARCH_RECIPE.items())


@dataclass
class ModelSettings:
    """The network of one ChIP-seq model (stored in its checkpoint): what
    :func:`chipsr.tasks.chipseq.model.build_chipseq_model` builds, (N, marks, window) -> (N, 1, window).

    The defaults are the example's recipe (the README's ablation): a TFiLM U-Net of depth K = 4 with
    B = 2 TFiLM blocks per layer at 1/16 of the paper's filters (8..64 filters, 364k parameters for 3
    marks) on windows of 1000 bins.
    """

    arch: str = setting("tfilm", "TFiLM U-Net, the same U-Net without TFiLM, the Coda CNN, or a multi-mark linear "
                                 "filter.")
    window: int = setting(1000, "Window length in bins.")
    blocks: int = setting(2, "TFiLM blocks per layer (B).")
    width: float = setting(0.0625, "U-Net width multiplier (1 = the paper's 128..512 filters).")
    unet_depth: int = setting(4, "U-Net levels: down blocks (K) before the bottleneck.")
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


@dataclass
class RecipeSettings:
    """How one model is trained (:class:`chipsr.core.train.TrainConfig` and the crops of
    :class:`chipsr.tasks.chipseq.data.RandomCrops`). ``epochs`` and ``lr`` None take the
    architecture's value in :data:`ARCH_RECIPE` (:meth:`TrainSettings.resolved`)."""

    epochs: int | None = setting(None, "Epochs of --samples-per-epoch random crops; the cosine schedule spans them "
                                       f"all. [default: {_by_arch('epochs')}]")
    samples_per_epoch: int = setting(800, "Random windows drawn afresh (seeded) from the training regions every "
                                          "epoch.")
    reverse: bool = setting(True, "Reverse each crop with probability 0.5 (ChIP-seq coverage has no strand).")
    peak_fraction: float = setting(0.0, "Share of crops centred (+- window/4) on bins where the full-depth target "
                                        "is in its top 1 % of the training region (Coda: 0.5).")
    batch_size: int = setting(16, "Windows per step (in total over DDP processes).")
    lr: float | None = setting(None, f"Peak Adam learning rate. [default: {_by_arch('lr')}]")
    lr_schedule: str = setting("cosine", "cosine: decay to 0 over --epochs.")
    select: str = setting("pearson", "Keep the epoch with the best validation Pearson r, or the lowest validation "
                                     "loss.")
    patience: int | None = setting(None, "Stop after this many epochs without a better --select score "
                                         "[default: never].")
    time_limit: float | None = setting(None, "Wall-clock budget in minutes: no epoch starts after it (the best "
                                             "epoch so far is kept).")
    seed: int = setting(0, "Random seed.")


@dataclass
class TrainSettings(ModelSettings, RecipeSettings):
    """The settings of ``chipsr train``: the network (:class:`ModelSettings`), the recipe
    (:class:`RecipeSettings`) and the run's data and compute settings. See
    :func:`chipsr.tasks.chipseq.train.train` for what each does. The workflow's ``train:`` map holds
    these fields (:func:`train_settings_from_map`)."""

    bin_size: int = setting(25, "Bin size in bp; a bin holds the mean per-bp depth over its bases.")
    truth_peaks: str | None = setting(None, "Full-depth peaks of the target (e.g. macs3 callpeak on the deep "
                                            "reads): the model card stores the peak rule calibrated on the "
                                            "validation region, used by `chipsr peaks --model`.")
    peak_type: str = setting("narrow", "The target mark's peaks for --truth-peaks (broad: H3K27me3, H3K36me3, "
                                       "H3K4me1, ...).")
    workers: int = setting(0, "Processes reading training crops from the memory-mapped bins (0: the training "
                              "process); worth it on a GPU. The crops do not depend on it.")
    resume: bool = setting(False, "Continue an interrupted run from OUTPUT.inprogress (the same options; changed "
                                  "ones are refused).")
    device: str | None = setting(None, DEVICE_HELP)
    threads: int = setting(1, THREADS_HELP)
    chunk_bins: int = setting(4_000_000, "Bins read from the bigWigs at a time while streaming.")

    def resolved(self) -> TrainSettings:
        """A copy with ``epochs`` and ``lr`` set: the given value, else the architecture's
        (:data:`ARCH_RECIPE`).

        Raises
        ------
        ChipsrInputError
            An unknown ``arch``.
        """
        if self.arch not in ARCH_RECIPE:
            raise ChipsrInputError(f"--arch {self.arch!r}: expected one of {', '.join(ARCHS)}")
        arch = ARCH_RECIPE[self.arch]
        return replace(self, epochs=arch["epochs"] if self.epochs is None else self.epochs,
                       lr=arch["lr"] if self.lr is None else self.lr)

    def model(self) -> ModelSettings:
        """The network part (:class:`ModelSettings`)."""
        return ModelSettings(**{f.name: getattr(self, f.name) for f in fields(ModelSettings)})


#: TrainSettings fields the workflow sets itself (from other config keys or per job), so they may not
#: appear in its ``train:`` map: field -> where the workflow takes it from
WORKFLOW_TRAIN_KEYS = {
    "arch": "archs",
    "bin_size": "coverage.bin_size",
    "seed": "model.seeds",
    "truth_peaks": "peaks (the truth peaks of each mark)",
    "peak_type": "the peak_type column of the sample sheet",
    "resume": "(the workflow starts every model afresh)",
    "threads": "model.threads",
    "device": "model.device",
}


def train_settings_from_map(mapping: dict[str, Any] | None, arch: str, where: str = "train") -> TrainSettings:
    """The :class:`TrainSettings` of one architecture from the workflow's ``train:`` map.

    Each key is a :class:`TrainSettings` field (as ``chipsr train --help`` lists it, with ``_`` for
    ``-``); a value is one value for every architecture or a map ``{arch: value}`` (the others take the
    default). Keys the workflow sets itself (:data:`WORKFLOW_TRAIN_KEYS`) are refused.

    Parameters
    ----------
    mapping : dict or None
        The ``train:`` map of the config (None: all defaults).
    arch : str
        One of :data:`ARCHS`.
    where : str
        The config key named in errors.

    Returns
    -------
    TrainSettings
        With ``arch`` set and ``epochs``/``lr`` resolved for it.

    Raises
    ------
    ChipsrInputError
        One line naming the unknown key, the key set elsewhere, or the unknown architecture.
    """
    known = {f.name: f for f in fields(TrainSettings)}
    values = {}
    for key, value in (mapping or {}).items():
        if key not in known:
            raise ChipsrInputError(f"config {where}.{key}: not a setting of chipsr train (known: "
                                   f"{', '.join(k for k in known if k not in WORKFLOW_TRAIN_KEYS)})")
        if key in WORKFLOW_TRAIN_KEYS:
            raise ChipsrInputError(f"config {where}.{key}: set by the workflow from {WORKFLOW_TRAIN_KEYS[key]}")
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(ARCHS))
            if unknown:
                raise ChipsrInputError(f"config {where}.{key}: {unknown[0]!r} is not an architecture "
                                       f"({', '.join(ARCHS)})")
            if arch not in value:
                continue
            value = value[arch]
        values[key] = value
    return TrainSettings(arch=arch, **values).resolved()


@dataclass
class DenoiseSettings:
    """The settings of ``chipsr denoise`` (:func:`chipsr.tasks.chipseq.denoise.denoise`)."""

    overlap: int = setting(50, "Bins of context dropped at each side of every window (50 gives the Pearson r of "
                               "100, 10 % faster).")
    batch_size: int = setting(64, "Windows per forward pass (the output does not depend on it).")
    device: str | None = setting(None, DEVICE_HELP)
    threads: int = setting(1, THREADS_HELP)


@dataclass
class PeaksSettings:
    """The settings of ``chipsr peaks`` (:func:`chipsr.tasks.chipseq.peaks.run` holds the cutoff rule)."""

    peak_type: str = setting("narrow", "narrow: MACS3 bdgpeakcall (narrowPeak); broad: bdgbroadcall, regions above "
                                       "the cutoff linked through regions above --low-cutoff (broadPeak), for broad "
                                       "marks such as H3K27me3, H3K36me3, H3K4me1.")
    fold: float | None = setting(None, "Cutoff = FOLD x the track's genome-wide mean over non-blacklisted bins. "
                                       "[default: calibrated with --truth-peaks, or the fold stored in --model; "
                                       "else the larger of 5.5 x the mean and k reads (one read = the median of the "
                                       "track's positive values; k >= 2, the fewest with Poisson P(X >= k) <= 0.01 "
                                       "at the track's mean)]")
    cutoff: float | None = setting(None, "Cutoff as a track value (instead of --fold).")
    low_cutoff: float | None = setting(None, "--peak-type broad: the linking cutoff, a track value below the "
                                             "cutoff. [default: half the cutoff]")
    min_length: int = setting(200, "Minimum peak length (bp).")
    max_gap: int = setting(50, "Gaps below the cutoff up to this length (bp) stay inside a peak.")
    max_link_gap: int = setting(800, "--peak-type broad: the longest linking stretch (bp) between strong regions.")
    name: str | None = setting(None, "Peak name prefix. [default: the output's file stem]")


@dataclass
class CallpeakSettings:
    """The settings of ``chipsr callpeak`` (:func:`chipsr.tasks.chipseq.callpeak.callpeak`): MACS3
    ``callpeak``'s own, under its names."""

    peak_type: str = setting("narrow", "narrow: narrowPeak; broad: MACS3's --broad, a broadPeak.")
    cutoff: str = setting("q0.05", "MACS3's cutoff: qVALUE (-q) or pVALUE (-p), e.g. q0.05, p1e-3.")
    genome_size: int | None = setting(None, "MACS3's -g in bp. [default: the chromosomes with reads outside the "
                                            "blacklist, from --chrom-sizes or the BAM header]")
    format: str = setting("AUTO", "MACS3's -f. AUTO: BAMPE or BAM from the BAM, BEDPE for 3-column fragment BED, "
                                  "BED for reads with a strand.")
    broad_cutoff: float = setting(0.1, "MACS3's --broad-cutoff (--peak-type broad).")
    name: str | None = setting(None, "MACS3's -n, the peaks' name prefix. [default: the output's file name]")


@dataclass
class EvaluateSettings:
    """The settings of ``chipsr evaluate`` (:func:`chipsr.tasks.chipseq.evaluate.evaluate`)."""

    bin_size: int = setting(25, "Bin size in bp at which the tracks are compared (a bin = the mean over its bases).")
    smooth_sigmas: tuple[float, ...] = setting((1, 2, 4, 8, 16, 32, 64), "Candidate Gaussian sigmas (bins) for "
                                               "--smooth-input and --smooth-reference.")
    valid_region: str | None = setting(None, "Validation region, where choices are made: the smoothing sigma with "
                                             "the best Pearson r, and the peak cutoffs of --peak-type; must not "
                                             "overlap --region (required with --smooth-input).")
    locus: str | None = setting(None, "Locus drawn in the figure. [default: the truth's highest-signal 100-kb "
                                      "window]")
    peak_type: str | None = setting(None, "With --truth-peaks (e.g. `macs3 callpeak` on the full-depth reads): also "
                                          "call peaks of this type on every track (MACS3's track caller, as `chipsr "
                                          "peaks`), each with the cutoff that matches the truth peaks best on "
                                          "--valid-region, and score them (peak F1, precision, recall, bp "
                                          "Jaccard).")
    peak_overlap: float | None = setting(None, "A peak matches when the overlap is >= this fraction of both peaks "
                                               "(reciprocal). [default: 1 bp]")
    threads: int = setting(1, THREADS_HELP)


#: templates ``chipsr subsample`` keeps when neither ``number`` nor ``fraction`` is given
DEFAULT_READS = 1_000_000


@dataclass
class SubsampleSettings:
    """The settings of ``chipsr subsample`` (MACS3 ``randsample``'s names: ``-n/--number``, ``--seed``)."""

    number: int | None = setting(None, f"Keep exactly N templates (reads or read pairs) [default: {DEFAULT_READS} "
                                       "unless --fraction].")
    fraction: float | None = setting(None, "Keep each template with probability F in (0, 1].")
    seed: int = setting(0, "Random seed; the same inputs and seed give a byte-identical output.")


@dataclass
class CoverageSettings:
    """The settings of ``chipsr coverage``; the names are deepTools ``bamCoverage``'s
    (:class:`chipsr.tasks.chipseq.coverage.CoverageOptions`)."""

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


@dataclass
class ReportSettings:
    """The settings of ``chipsr report``."""

    genome: str = setting("hg19", "UCSC assembly name for the hub and IGV.")
