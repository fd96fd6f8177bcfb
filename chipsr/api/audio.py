"""The audio super-resolution commands of the public Python API (``chipsr audio ...``).

One function per command; each command's defaults are the fields of one settings dataclass here
(:class:`TrainSettings`, :class:`UpsampleSettings`, :class:`EvaluateSettings`,
:class:`TfrSettings`), which the CLI reads for its option defaults and help, so a default is
written once. Each function takes its required arguments, then either a settings object or
keyword overrides of its fields, sets torch's CPU threads and calls the task in
:mod:`chipsr.tasks.audio`.

Importing this module imports nothing heavy (``chipsr audio --help`` stays fast).

Example
-------
>>> from chipsr.api import audio
>>> audio.train(["speech/"], "model.pt", ratio=4, epochs=5)
>>> audio.upsample("low.wav", "high.wav", "model.pt")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chipsr.api.common import (
    DEVICE_HELP,
    THREADS_HELP,
    command_settings,
    named_paths,
    setting,
)


@dataclass(frozen=True)
class TrainSettings:
    """Settings of :func:`train` (``chipsr audio train``); the model's recipe."""

    ratio: int = setting(4, "Upsampling ratio r.")
    arch: str = setting("tfilm", "TFiLM U-Net, AudioUNet (Kuleshov 2017) or the DNN baseline (Li 2015).")
    rate: int = setting(16000, "High-res rate (Hz).")
    lowres: str = setting("decimate", "decimate: order-8 Chebyshev low-pass + subsample (paper); aliased: x[::r] "
                                      "(reference recipe).")
    patch: int = setting(8192, "Patch length (samples).")
    stride: int = setting(4096, "Patch stride (samples).")
    valid_fraction: float = setting(0.1, "Share of speakers held out for validation (split by speaker).")
    width: float = setting(0.125, "Filter-count multiplier (1 = the paper's 128..512 filters, ~56-92M parameters).")
    depth: int = setting(4, "U-Net levels: down blocks (K) before the bottleneck.")
    blocks: int = setting(32, "TFiLM blocks per patch (32 in the paper).")
    backbone: str = setting("stride", "TFiLM: strided convs (cheap) or the paper's dilated convs + max-pool.")
    dropout: float = setting(0.0, "Dropout rate.")
    epochs: int = setting(50, "Training epochs (at most).")
    samples_per_epoch: int | None = setting(None, "Patches drawn per epoch (default: all).")
    time_limit_min: float | None = setting(None, "Stop after the epoch that ends past this many minutes.")
    batch_size: int = setting(16, "Patches per optimiser step.")
    lr: float = setting(3e-4, "Learning rate (Adam).")
    loss: str = setting("rmse", "Waveform loss (rmse = per-patch RMSE, the reference code's).")
    tf_loss: str | None = setting("none", "Add a learnable-WVD (fixed Gabor kernels) log-magnitude L1 loss.")
    tf_loss_weight: float = setting(0.02, "Weight of the LWVD term (~0.02 makes it comparable to the RMSE on "
                                          "spline inputs).")
    patience: int = setting(5, "Early stopping: epochs without a better validation loss.")
    resume: bool = setting(False, "Continue the training state stored in -o.")
    seed: int = setting(0, "Random seed.")
    device: str | None = setting(None, DEVICE_HELP)
    threads: int = setting(1, THREADS_HELP)


@dataclass(frozen=True)
class UpsampleSettings:
    """Settings of :func:`upsample` (``chipsr audio upsample``)."""

    ratio: int | None = setting(None, "Check that the model upsamples by this ratio (error otherwise).")
    batch_size: int = setting(8, "Windows per forward pass.")
    device: str | None = setting(None, DEVICE_HELP)
    threads: int = setting(1, THREADS_HELP)


@dataclass(frozen=True)
class EvaluateSettings:
    """Settings of :func:`evaluate` (``chipsr audio evaluate``)."""

    max_files: int | None = setting(None, "Only the first N files.")
    figure_file: str | None = setting(None, "File drawn in the figures (default: the first).")
    lowres: str | None = setting(None, "Make the low-res input this way instead of as the models were trained "
                                       "(mismatch test).")
    seed: int = setting(0, "Random seed (the noise fill's phases).")
    device: str | None = setting(None, DEVICE_HELP)
    threads: int = setting(1, THREADS_HELP)


@dataclass(frozen=True)
class TfrSettings:
    """Settings of :func:`tfr` (``chipsr audio tfr``)."""

    filters: int = setting(64, "Number of filters K.")
    channel: int | None = setting(None, "Channel to draw (default: the mono mix).")


def train(data: str | os.PathLike | Sequence[str | os.PathLike], output: str | os.PathLike,
          settings: TrainSettings | None = None, **overrides) -> dict:
    """Train an audio super-resolution model on high-res recordings (pairs made on the fly).

    Writes the checkpoint ``output``, ``OUTPUT.epochs.tsv`` (validation SNR and LSD per epoch) and
    ``OUTPUT.splits.json`` (the speaker-disjoint train / validation split). See
    :func:`chipsr.tasks.audio.train.train`.

    Parameters
    ----------
    data : path or sequence of paths
        Directories (searched recursively), audio files or list files (one path per line).
    output : path
    settings : TrainSettings, optional
    **overrides
        Fields of :class:`TrainSettings`.

    Returns
    -------
    dict
        best_epoch, valid_snr_db, valid_lsd, patches, parameters, seconds, checkpoint.
    """
    from chipsr.tasks.audio.train import train as _train

    s = command_settings(TrainSettings, settings, overrides)
    options = {k: v for k, v in vars(s).items() if k != "threads"}
    options["tf_loss"] = None if s.tf_loss in (None, "none") else s.tf_loss
    sources = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    return _train(sources, output, **options)


def upsample(input_path: str | os.PathLike, output: str | os.PathLike, model: str | os.PathLike,
             settings: UpsampleSettings | None = None, **overrides) -> dict:
    """Super-resolve an audio file (any rate below the model's, any length, mono or
    multichannel) with a trained model; the output is at the model's high rate. See
    :func:`chipsr.tasks.audio.upsample.upsample`.

    Returns
    -------
    dict
        input/output rates, channels, seconds of audio, compute seconds, real-time factor.
    """
    from chipsr.tasks.audio.upsample import upsample as _upsample

    s = command_settings(UpsampleSettings, settings, overrides)
    return _upsample(input_path, output, model, device=s.device, batch_size=s.batch_size, ratio=s.ratio)


def evaluate(models: Sequence[str | tuple[str, str]], data: str | os.PathLike | Sequence[str | os.PathLike],
             prefix: str | os.PathLike, settings: EvaluateSettings | None = None, **overrides) -> dict:
    """SNR and LSD of models against spline, sinc and noise fill on held-out recordings; writes
    PREFIX.tsv, .json, .md, .png and .tfr.png. See :func:`chipsr.tasks.audio.evaluate.evaluate`.

    Parameters
    ----------
    models : sequence of str or (name, path)
        Checkpoints as ``PATH`` (named by the file stem) or ``NAME=PATH``; of one ratio and rate.

    Raises
    ------
    ChipsrInputError
        A model name given twice, or the task's errors.
    """
    from chipsr.tasks.audio.evaluate import evaluate as _evaluate

    s = command_settings(EvaluateSettings, settings, overrides)
    named = named_paths(models)
    sources = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    return _evaluate(named, sources, prefix, device=s.device, max_files=s.max_files, figure_file=s.figure_file,
                     seed=s.seed, lowres=s.lowres)


def tfr(input_path: str | os.PathLike, output: str | os.PathLike, settings: TfrSettings | None = None,
        **overrides) -> Path:
    """Draw a file's learnable Wigner-Ville map and its filters' ellipses as a PNG. See
    :func:`chipsr.tasks.audio.tfr.draw_tfr`."""
    from chipsr.tasks.audio.tfr import draw_tfr

    s = command_settings(TfrSettings, settings, overrides)
    return draw_tfr(input_path, output, n_filters=s.filters, channel=s.channel)


def export(model: str | os.PathLike, output: str | os.PathLike, *, half: bool = False) -> Path:
    """Write a small copy of an audio model for shipping: best weights and metadata, no training
    state; ``half`` stores float16 weights. See :func:`chipsr.io.checkpoint.export_checkpoint`."""
    from chipsr.io.checkpoint import export_checkpoint

    return export_checkpoint(model, output, half=half)
