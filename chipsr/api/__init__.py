"""The public Python API: one module per task, one function per ``chipsr`` subcommand.

The command-line interface (:mod:`chipsr.cli`) only parses options and calls one function here.

- :mod:`chipsr.api.chipseq` — subsample, coverage, train, denoise, gather, peaks, evaluate, report, info,
  export (the ChIP-seq commands; re-exported here, so ``api.train`` is ``api.chipseq.train``).
- :mod:`chipsr.api.audio` — ``chipsr audio`` train, upsample, evaluate, tfr, export (settings dataclasses).
- :mod:`chipsr.api.impute` — ``chipsr impute`` train, fill, evaluate (settings dataclasses).

Example
-------
>>> from chipsr import api
>>> api.subsample("H3K27ac.bed.gz", "H3K27ac.1M.bed.gz", number=1_000_000, seed=1)
>>> api.coverage(["H3K27ac.1M.bed.gz"], "H3K27ac.bw", chrom_sizes="hg19.chrom.sizes", bin_size=25)
"""

from chipsr.api.chipseq import (  # noqa: F401 (the package's public names)
    ARCHS,
    CallpeakSettings,
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
    callpeak,
    check_chromosome_names,
    check_splits,
    coverage,
    effective_genome_size,
    denoise,
    evaluate,
    export,
    gather,
    info,
    info_yaml,
    macs3_format,
    parse_marks,
    parse_tracks,
    peaks,
    reads_chromosomes,
    report,
    subsample,
    train,
    train_settings_from_map,
)
from chipsr.api.common import check_device, same_file  # noqa: F401
