"""Training an audio super-resolution model (``chipsr audio train``).

Pairs are made on the fly from high-res recordings (:mod:`chipsr.tasks.audio.data`), the network
is built by :func:`chipsr.tasks.audio.model.build_audio_model` and trained by
:func:`chipsr.core.train.fit`; the checkpoint, the per-epoch log and the speaker split are written
beside each other. The command's defaults live in :class:`chipsr.api.audio.TrainSettings`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from chipsr.errors import ChipsrInputError
from chipsr.io import audio as aio
from chipsr.tasks.audio.data import TASK, build_patches, check_lowres
from chipsr.tasks.audio.model import build_audio_model

log = logging.getLogger(__name__)

#: training settings compared on ``--resume`` (another value would train another model)
_RESUMED_TRAIN_KEYS = ("batch_size", "lr", "loss", "seed", "samples_per_epoch")


def audio_metrics(pred: torch.Tensor, target: torch.Tensor) -> dict:
    """Validation metrics over patches (N, 1, L): mean SNR (dB) and mean LSD (log10)."""
    from chipsr.core.metrics import lsd, snr_db

    p, t = pred[:, 0].double(), target[:, 0].double()
    snr = snr_db(p, t)
    return {"snr_db": float(snr[torch.isfinite(snr)].mean()), "lsd": float(lsd(p, t))}


def train(data: Sequence[str], output: str | os.PathLike, *, ratio: int, arch: str, rate: int, lowres: str,
          patch: int, stride: int, valid_fraction: float, width: float, depth: int, blocks: int, backbone: str,
          dropout: float, epochs: int, batch_size: int, lr: float, loss: str, patience: int,
          samples_per_epoch: int | None, time_limit_min: float | None, tf_loss: str | None, tf_loss_weight: float,
          seed: int, device: str | None, resume: bool) -> dict:
    """Train an audio super-resolution model; write the checkpoint, ``OUTPUT.epochs.tsv`` and
    ``OUTPUT.splits.json`` (train / validation speakers and files).

    The checkpoint's metadata (key ``meta``) records everything needed to use and report
    the model: task, ratio, high and low rates (Hz), low-res mode, resampler, patch and stride.
    Every setting is required here; the defaults are :class:`chipsr.api.audio.TrainSettings`.

    Parameters
    ----------
    data : sequence of str
        Directories, audio files or file lists (see :func:`chipsr.io.audio.list_audio`).
    ratio : int
        Upsampling ratio r (2, 4, 6, 8 in the papers).
    rate : int
        High-res sample rate in Hz; files at other rates are resampled (soxr) to it.
    lowres : {"decimate", "aliased"}
    patch, stride : int
        Patch length and stride in high-res samples.
    tf_loss : {None, "lwvd"}
        Add ``tf_loss_weight`` x the learnable-WVD log-magnitude L1 distance (fixed Gabor
        kernels; :class:`chipsr.core.wvd.LWVDLoss`) to the waveform loss.
    time_limit_min : float or None
        Stop after the first epoch that ends past this many minutes.
    resume : bool
        Continue from the training state stored in ``output`` (the settings must be those of the
        run being resumed, except ``epochs``).

    Returns
    -------
    dict
        best_epoch, best valid SNR / LSD, patches, seconds, parameters, checkpoint path.

    Raises
    ------
    ChipsrInputError
        Bad files, a bad ratio or mode, too few speakers, no patches, or ``resume`` with other
        settings.
    """
    from chipsr.core.train import TrainConfig, fit
    from chipsr.io.checkpoint import CheckpointWriter, EpochTsv

    output, train_files, valid_files = _check_and_split(data, output, ratio, lowres, valid_fraction, seed)
    t0 = time.perf_counter()
    train_set, valid_set = _patch_sets(train_files, valid_files, ratio, rate, lowres, patch, stride)
    torch.manual_seed(seed)  # before the model is built: a seed makes the whole run reproducible
    model = build_audio_model(arch, width, depth, blocks, patch, backbone, dropout, ratio=ratio, lowres=lowres)
    meta = {
        "task": TASK, "ratio": int(ratio), "high_rate": int(rate), "low_rate": rate / ratio,
        "lowres": lowres, "resampler": aio.RESAMPLER, "input": "cubic B-spline (scipy splrep/splev, k=3)",
        "patch": int(patch), "stride": int(stride), "arch": arch,
        "tf_loss": tf_loss or "none", "tf_loss_weight": float(tf_loss_weight if tf_loss else 0.0),
    }
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, loss=loss, seed=seed,
                      device=device, samples_per_epoch=samples_per_epoch,
                      time_limit_s=None if time_limit_min is None else time_limit_min * 60)
    state = resumed_state(output, model, meta, cfg) if resume else None
    loss_fn = _loss_function(loss, tf_loss, tf_loss_weight, rate)
    write_splits(output, train_files, valid_files)
    result = fit(model, train_set, valid_set, cfg, metric=audio_metrics, resume=state, loss_fn=loss_fn,
                 callbacks=[EpochTsv(output.with_name(output.name + ".epochs.tsv")),
                            CheckpointWriter(output, model, meta)])
    return _summary(result, output, len(train_set), len(valid_set), model, t0)


def _check_and_split(data: Sequence[str], output, ratio: int, lowres: str, valid_fraction: float, seed: int):
    """Check the ratio, the low-res mode and the output path, list the audio files and split them by
    speaker; returns (output Path, training files, validation files). Raises ChipsrInputError."""
    from chipsr.io.atomic import check_output_path

    if ratio < 2:
        raise ChipsrInputError(f"--ratio must be >= 2; got {ratio}")
    check_lowres(lowres)
    output = check_output_path(output)
    files = aio.list_audio(data)
    train_files, valid_files = aio.split_by_speaker(files, valid_fraction, seed)
    return output, train_files, valid_files


def _patch_sets(train_files, valid_files, ratio: int, rate: int, lowres: str, patch: int, stride: int):
    """The (low-res, high-res) patch pairs of the training files (at ``stride``) and of the validation
    files (not overlapping); ChipsrInputError when either has none."""
    t0 = time.perf_counter()
    train_set = build_patches(train_files, ratio, rate, lowres, patch, stride)
    valid_set = build_patches(valid_files, ratio, rate, lowres, patch, patch)
    if len(train_set) == 0 or len(valid_set) == 0:
        raise ChipsrInputError(f"no {patch}-sample patches in the training or validation files "
                               f"({len(train_files)} / {len(valid_files)} files)")
    log.info("%d train patches (%d files), %d validation patches (%d files) in %.1f s", len(train_set),
             len(train_files), len(valid_set), len(valid_files), time.perf_counter() - t0)
    return train_set, valid_set


def _summary(result, output: Path, train_patches: int, valid_patches: int, model, t0: float) -> dict:
    """What :func:`train` returns, from :func:`chipsr.core.train.fit`'s result (the best epoch's
    validation SNR and LSD)."""
    from chipsr.core.models import count_parameters

    best = result.history[result.best_epoch - 1] if result.best_epoch else {}
    return {
        "checkpoint": str(output), "best_epoch": result.best_epoch, "stop_reason": result.stop_reason,
        "valid_snr_db": best.get("valid_snr_db", float("nan")), "valid_lsd": best.get("valid_lsd", float("nan")),
        "train_patches": train_patches, "valid_patches": valid_patches, "parameters": count_parameters(model),
        "seconds": time.perf_counter() - t0,
    }


def resumed_state(output: Path, model, meta: dict, cfg) -> dict:
    """The training state stored in ``output``, checked against the settings of this run.

    More ``epochs`` may be given (the learning rate is constant, so extending a run is allowed);
    any other difference in the network's config, the metadata or the training settings
    (:data:`_RESUMED_TRAIN_KEYS`) would train another model.

    Raises
    ------
    ChipsrInputError
        ``output`` holds no audio training state, or the settings differ (the first four named).
    """
    from chipsr.io.checkpoint import load_checkpoint

    ckpt = load_checkpoint(output)
    state = ckpt.get("train_state")
    if not state or (ckpt.get("meta") or {}).get("task") != TASK:
        raise ChipsrInputError(f"{output}: holds no audio training state to resume")
    before = {**{f"model.{k}": v for k, v in ckpt["config"].items()},
              **{k: v for k, v in ckpt["meta"].items()},
              **{f"train.{k}": state["config"].get(k) for k in _RESUMED_TRAIN_KEYS}}
    now = {**{f"model.{k}": v for k, v in model.config.items()}, **meta,
           **{f"train.{k}": getattr(cfg, k) for k in _RESUMED_TRAIN_KEYS}}
    changed = [k for k in sorted(set(before) | set(now)) if before.get(k) != now.get(k)]
    if changed:
        detail = "; ".join(f"{k}: {before.get(k)!r} -> {now.get(k)!r}" for k in changed[:4])
        raise ChipsrInputError(f"--resume {output}: settings differ from the run being resumed ({detail}); "
                               f"they would train another model")
    return state


def _loss_function(loss: str, tf_loss: str | None, tf_loss_weight: float, rate: int):
    """None (the waveform ``loss`` alone, chosen by :func:`chipsr.core.train.fit`) or, for
    ``tf_loss="lwvd"``, the waveform loss plus ``tf_loss_weight`` x the LWVD distance at ``rate`` Hz.

    Raises
    ------
    ChipsrInputError
        An unknown ``tf_loss``.
    """
    if tf_loss in (None, "none"):
        return None
    if tf_loss != "lwvd":
        raise ChipsrInputError(f"--tf-loss {tf_loss!r}: expected lwvd or none")
    from chipsr.core.train import loss_function
    from chipsr.core.wvd import LWVDLoss

    base, tf = loss_function(loss), LWVDLoss(sample_rate=rate)

    def loss_fn(pred, target):
        return base(pred, target) + tf_loss_weight * tf.to(pred.device)(pred, target)

    return loss_fn


def write_splits(output: Path, train_files: Sequence[Path], valid_files: Sequence[Path]) -> Path:
    """Write ``OUTPUT.splits.json``: the train / validation files and their speakers."""
    from chipsr.io.tables import write_json

    splits = {"train": [str(f) for f in train_files], "valid": [str(f) for f in valid_files],
              "train_speakers": sorted({aio.speaker_of(f) for f in train_files}),
              "valid_speakers": sorted({aio.speaker_of(f) for f in valid_files})}
    return write_json(output.with_name(output.name + ".splits.json"), splits)
