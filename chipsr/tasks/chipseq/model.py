"""ChIP-seq denoising models: the architectures of one target mark (TFiLM U-Net, a plain conv U-Net,
Coda's CNN, a multi-mark linear filter), the closed-form start of the linear filter, and model cards.

The setup is the TFiLM paper's (Birnbaum et al. 2019, Section 4.2): k low-depth marks in (a
(k, window) matrix of bins), one full-depth mark out, one model per target mark, windows of 1000
bins (25-bp bins: 25 kb, Coda's data), B = 2 TFiLM blocks. Training is
:mod:`chipsr.tasks.chipseq.train`, genome-wide inference :mod:`chipsr.tasks.chipseq.denoise`.

The U-Nets are the shared ones of :mod:`chipsr.core.models`; the two ChIP-seq baselines are
defined here and registered in the core model registry when this module is imported
(``"coda_cnn"``: :class:`CodaCNN`, ``"linear_filter"``: :class:`LinearFilter`), so a process that
rebuilds one from a checkpoint imports this module first (:func:`model_from_checkpoint`, re-exported
here, is the core one).

References
----------
Koh et al. 2017: P. W. Koh, E. Pierson, A. Kundaje, "Denoising genome-wide histone ChIP-seq with
convolutional neural networks", Bioinformatics 33(14):i225-i233, doi:10.1093/bioinformatics/btx243
(public code: GitHub ``kundajelab/coda``). The TFiLM paper: see :mod:`chipsr.core.layers`.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from chipsr.core.layers import same_padding
from chipsr.core.models import (
    ModelConfig,
    TFiLMUNetConfig,
    UNetConfig,
    build_model,
    model_from_checkpoint,
    register_model,
)
from chipsr.errors import ChipsrInputError
from chipsr.tasks.chipseq.config import ARCHS, ModelSettings

log = logging.getLogger(__name__)


__all__ = [
    "ARCHS",
    "CodaConfig",
    "CodaCNN",
    "LinearFilterConfig",
    "LinearFilter",
    "fft_conv1d_same",
    "least_squares_filter",
    "build_chipseq_model",
    "model_from_checkpoint",
    "model_card",
]


# ---------------------------------------------------------------------------------- models


@dataclass(frozen=True)
class CodaConfig(ModelConfig):
    """The Coda CNN (:class:`CodaCNN`); defaults are Coda's (Koh et al. 2017, Methods; its public code).

    Attributes
    ----------
    in_channels : int
        Number of input tracks (low-depth marks); no default.
    out_channels : int
        Number of predicted tracks.
    window : int
        Length in bins of the second convolution (odd; 1001 in Coda).
    filters : int
        Filters of the first convolution (6 in Coda).
    width : int
        Length in bins of the first convolution (odd; 51 in Coda).
    """

    name: ClassVar[str] = "coda_cnn"
    in_channels: int
    out_channels: int = 1
    window: int = 1001
    filters: int = 6
    width: int = 51


@dataclass(frozen=True)
class LinearFilterConfig(ModelConfig):
    """The multi-mark linear filter (:class:`LinearFilter`).

    Attributes
    ----------
    in_channels : int
        Number of input tracks; no default.
    out_channels : int
        Number of output tracks.
    width : int
        Filter length in bins (odd); 101 bins = 2.5 kb at 25 bp.
    """

    name: ClassVar[str] = "linear_filter"
    in_channels: int
    out_channels: int = 1
    width: int = 101


class CodaCNN(nn.Module):
    """The Coda ChIP-seq denoising CNN (Koh, Pierson, Kundaje, Bioinformatics 2017), per bin.

    The original network reads a window of bins and predicts its centre bin::

        Conv1d(in_channels, filters, width) -> ReLU -> Conv1d(filters, out_channels, window)

    (6 filters of width 51, then one filter spanning the 1001-bin window; receptive field
    ``window + width - 1`` = 1051 bins = 26 kb at 25 bp). Sliding that network over every bin of
    a track is exactly a stack of two 'same'-padded convolutions, which is what this module is:
    output bin ``l`` is the original network's centre prediction for the window centred on ``l``.
    Inside the track (at least ``(window - 1)/2 + (width - 1)/2`` bins from either end) the result
    equals the original's; nearer the ends the missing context is zero padding (inputs to the
    first convolution and hidden activations of the second). TFiLM paper Section 4.2, Table 2
    ("CNN"); Koh et al. 2017 and its public code.

    Parameters
    ----------
    config : CodaConfig
        The sizes; ``CodaCNN(in_channels, ...)`` builds the config from its fields.

    Raises
    ------
    ValueError
        If ``window`` or ``width`` is even or < 1, or a channel/filter count is < 1.
    TypeError
        A keyword that is not a field of :class:`CodaConfig`, or a config of another class.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)``.

    Parameters (count): ``in_channels * filters * width + filters + filters * out_channels *
    window + out_channels``; 6,931 for 3 marks in and 1 out at the defaults.
    """

    config_class = CodaConfig
    name = CodaConfig.name

    def __init__(self, *args: Any, **fields: Any) -> None:
        super().__init__()
        cfg = CodaConfig.from_args(args, fields)
        if min(cfg.in_channels, cfg.out_channels, cfg.filters) < 1:
            raise ValueError(
                f"in_channels, out_channels and filters must be >= 1; got {cfg.in_channels}, {cfg.out_channels}, "
                f"{cfg.filters}"
            )
        self.conv1 = nn.Conv1d(cfg.in_channels, cfg.filters, cfg.width, padding=same_padding(cfg.width))
        self.act = nn.ReLU()
        self.conv2 = nn.Conv1d(cfg.filters, cfg.out_channels, cfg.window, padding=same_padding(cfg.window))
        self.config: CodaConfig = cfg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, L) -> (N, out_channels, L)``.

        The wide second convolution runs through the FFT (:func:`fft_conv1d_same`): the same
        result as ``self.conv2`` (to float rounding), ~10x faster on a CPU for 1001-bin kernels.
        """
        h = self.act(self.conv1(x))
        return fft_conv1d_same(h, self.conv2.weight, self.conv2.bias)


def fft_conv1d_same(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``torch.nn.functional.conv1d(x, weight, bias, padding=(K - 1) // 2)`` computed by FFT.

    A cross-correlation with zero padding, as ``nn.Conv1d`` does, for an odd kernel length K:
    ``y[n, o, l] = b[o] + sum_{c, j} w[o, c, j] x[n, c, l + j - (K - 1)/2]``. Cost O(L log L)
    per channel pair instead of O(L K); differentiable.

    Parameters
    ----------
    x : torch.Tensor, shape (N, C, L)
    weight : torch.Tensor, shape (O, C, K), K odd
    bias : torch.Tensor, shape (O,), or None

    Returns
    -------
    torch.Tensor, shape (N, O, L), in ``x``'s dtype.

    Raises
    ------
    ValueError
        For an even kernel length or mismatched channels.
    """
    n, c, length = x.shape
    o, cw, k = weight.shape
    if k % 2 == 0 or c != cw:
        raise ValueError(f"need an odd kernel and matching channels; got x {tuple(x.shape)}, weight {tuple(weight.shape)}")
    pad = (k - 1) // 2
    nfft = 1 << (length + k - 1 - 1).bit_length()
    xf = torch.fft.rfft(x.float(), nfft)
    wf = torch.fft.rfft(weight.float().flip(-1), nfft)
    y = torch.fft.irfft(torch.einsum("ncf,ocf->nof", xf, wf), nfft)[..., pad : pad + length]
    if bias is not None:
        y = y + bias.float()[None, :, None]
    return y.to(x.dtype)


class LinearFilter(nn.Module):
    """A multi-channel linear filter: one 'same'-padded convolution over all input channels.

    ``y[n, o, l] = b[o] + sum_{c, j} w[o, c, j] * x[n, c, l + j - (width - 1)/2]`` (zero padding
    at the ends). The learned counterpart of smoothing and of per-bin multi-mark least squares
    (``width=1``); a baseline for ChIP-seq denoising (README, "Results on the example").

    Parameters
    ----------
    config : LinearFilterConfig
        The sizes; ``LinearFilter(in_channels, out_channels, width)`` builds the config.

    Raises
    ------
    ValueError
        If ``width`` is even or < 1.
    TypeError
        A keyword that is not a field of :class:`LinearFilterConfig`, or a config of another class.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)``; ``in_channels * out_channels * width +
    out_channels`` parameters.
    """

    config_class = LinearFilterConfig
    name = LinearFilterConfig.name

    def __init__(self, *args: Any, **fields: Any) -> None:
        super().__init__()
        cfg = LinearFilterConfig.from_args(args, fields)
        self.conv = nn.Conv1d(cfg.in_channels, cfg.out_channels, cfg.width, padding=same_padding(cfg.width))
        self.config: LinearFilterConfig = cfg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, L) -> (N, out_channels, L)``."""
        return self.conv(x)


for _cls in (CodaCNN, LinearFilter):
    register_model(_cls.name, _cls)  # checkpoints of them load through build_model
del _cls




def least_squares_filter(model, x, y: np.ndarray | None = None, ridge: float = 1e-3, chunk: int = 256) -> None:
    """Set a :class:`LinearFilter` to the (ridge) least-squares solution.

    The multi-mark linear filter is a linear model, so its MSE optimum has a closed form: with
    every window's 'same'-padded lagged inputs as features, solve (X'X + ridge*I) w = X'y,
    accumulated over chunks of windows (memory O(chunk * window * k * width)).

    Parameters
    ----------
    model : LinearFilter
        Its ``conv`` (k inputs, 1 output, odd width) receives the weights and bias.
    x : ndarray, shape (N, k, L), or a dataset of windows
        Model inputs (already transformed/scaled); or, with ``y`` None, an object with ``len`` and
        ``stack(indices) -> (x (n, k, L), y (n, 1, L))`` (:class:`chipsr.tasks.chipseq.data.TiledWindows`),
        read a chunk at a time.
    y : ndarray, shape (N, 1, L), or None
        Targets.
    ridge : float
        L2 penalty relative to the mean diagonal of X'X.
    """
    conv = model.conv
    k, width = conv.in_channels, conv.kernel_size[0]
    half = width // 2
    n_feat = k * width + 1
    xtx = np.zeros((n_feat, n_feat))
    xty = np.zeros(n_feat)
    for i in range(0, len(x), chunk):
        xi, yi = (x[i : i + chunk], y[i : i + chunk]) if y is not None else x.stack(range(i, min(i + chunk, len(x))))
        xb = np.pad(xi.astype(np.float64), ((0, 0), (0, 0), (half, half)))
        lagged = np.lib.stride_tricks.sliding_window_view(xb, width, axis=2)  # (n, k, L, width)
        feats = lagged.transpose(0, 2, 1, 3).reshape(-1, k * width)
        feats = np.concatenate([feats, np.ones((len(feats), 1))], axis=1)
        target = yi[:, 0].astype(np.float64).reshape(-1)
        xtx += feats.T @ feats
        xty += feats.T @ target
    xtx[np.diag_indices(n_feat - 1)] += ridge * np.trace(xtx) / n_feat
    w = np.linalg.solve(xtx, xty)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w[:-1].reshape(1, k, width)).to(conv.weight.dtype))
        conv.bias.copy_(torch.tensor([w[-1]], dtype=conv.bias.dtype))


def build_chipseq_model(settings: ModelSettings, n_channels: int, residual_channel: int | None = None):
    """The network of ``settings`` (:class:`~chipsr.tasks.chipseq.config.ModelSettings`) for
    ``n_channels`` input tracks (marks, then references): (N, n_channels, window) -> (N, 1, window).

    ``residual_channel`` (U-Nets only; the channel of ``settings.residual_mark``): the network learns
    y - x for that input (the paper's additive residual). TFiLM only: ``gamma_offset`` 1 =
    identity-centred modulation (1 + gamma) * F + beta; ``affine`` False = gamma only, no beta (the
    reference code; the paper writes gamma * F + beta); ``bidirectional`` LSTMs (TFiLM paper, appendix
    C). U-Nets: ``unet_depth`` levels K, ``blocks`` TFiLM blocks B per layer, ``width`` x the paper's
    filters, ``backbone`` "pool" (the paper's dilated convolutions + max-pool) or "stride" (stride-2
    convolutions, the AudioUNet's; about half the compute).

    The TFiLM U-Net is :class:`~chipsr.core.models.TFiLMUNet`, the plain one
    :class:`~chipsr.core.models.ConvUNet`; Coda's CNN spans ``window`` bins (``window + 1`` when
    ``window`` is even), the linear filter 101 bins.

    Raises
    ------
    ChipsrInputError
        An unknown ``arch``.
    ValueError
        Sizes the network rejects.
    """
    s = settings
    arch, n_marks, window, depth = s.arch, n_channels, s.window, s.unet_depth
    cfg: ModelConfig
    if arch == "tfilm":
        cfg = TFiLMUNetConfig(n_marks, 1, depth=depth, n_blocks=s.blocks, width=s.width, dropout=s.dropout,
                              residual_channel=residual_channel, gamma_offset=s.gamma_offset, affine=s.affine,
                              bidirectional=s.bidirectional, downsample=s.backbone)
    elif arch == "conv":
        cfg = UNetConfig(n_marks, 1, depth=depth, width=s.width, dropout=s.dropout, residual_channel=residual_channel,
                         downsample=s.backbone)
    elif arch == "coda":
        cfg = CodaConfig(n_marks, 1, window=window + 1 - window % 2)
    elif arch == "linear":
        cfg = LinearFilterConfig(n_marks, 1, width=101)
    else:
        raise ChipsrInputError(f"--arch {arch!r}: expected one of {', '.join(ARCHS)}")
    return build_model(cfg)


# ------------------------------------------------------------------------------- model card


def model_card(path: str | os.PathLike) -> dict:
    """The model card of a checkpoint (``chipsr info``): what a user needs to apply it correctly.

    For a ChIP-seq model: target, marks and references in input order, bin size (bp), window
    (bins and bp), units of its inputs and output, the depth range seen in training (mean per
    bin of each mark: for ``chipsr coverage`` tracks without normalization, the mean per-bp
    depth), training data and regions, architecture and parameter count, the recipe, the best
    epoch's validation loss and Pearson r, and the chipsr version that wrote it. Other tasks'
    checkpoints get their task tag, architecture and history summary.

    Raises
    ------
    ChipsrInputError
        Not a readable chipsr checkpoint.
    """
    from chipsr.io.checkpoint import load_checkpoint
    from chipsr.io.tracks import FE_UNITS

    ckpt = load_checkpoint(path)
    norm = ckpt.get("meta") or {}
    config = dict(ckpt.get("config") or {})
    n_params = int(sum(v.numel() for v in ckpt["state_dict"].values() if v.is_floating_point()))
    history = ckpt.get("history") or []
    card: dict = {"file": str(path), "chipsr_version": ckpt.get("chipsr_version"),
                  "task": norm.get("task", "unknown"), "architecture": config.get("name"),
                  "parameters": n_params}
    if norm.get("in_progress"):
        card["status"] = "unfinished training state (finish it with `chipsr train ... --resume`)"
    if norm.get("task") == "chipseq":
        settings = norm.get("settings") or {}
        bin_size, window = int(norm["bin_size"]), int(norm["window"])
        card.update({
            "target": norm.get("target"),
            "marks": list(norm.get("marks") or []),
            "references": list(norm.get("references") or []),
            "bin_size_bp": bin_size,
            "window": f"{window} bins ({window * bin_size} bp)",
            "units": FE_UNITS if norm.get("units") == "fold_enrichment" else
            "the training target's units (a model from before depth-invariant units: retrain it)",
            "depth_sets": int(norm.get("depth_sets", 1)),
            "depth_range_mean_per_bin": {k: [float(f"{v:.4g}") for v in r]
                                         for k, r in (norm.get("depth_range") or {}).items()},
            "training_data": norm.get("data"),
            "regions": norm.get("splits"),
            "blacklisted_chromosomes": sorted(norm.get("blacklist") or {}),
            "peaks": norm.get("peaks") or "no calibrated rule (train with --truth-peaks; `chipsr peaks --fold`)",
            "recipe": {k: settings[k] for k in ("arch", "epochs", "samples_per_epoch", "batch_size", "lr",
                                                "lr_schedule", "select", "reverse", "peak_fraction", "seed",
                                                "transform", "input_transform") if k in settings},
        })
    if history:
        card["validation"] = _validation(norm, history)
    return card


def _validation(norm: dict, history: list[dict]) -> dict:
    """The best epoch's validation figures, each under its own name: Pearson r for a ChIP-seq model,
    SNR (dB) and LSD for an audio model, the loss alone for the others."""
    task = norm.get("task")
    best = min(history, key=lambda h: h.get("valid_loss", math.inf))
    if task == "chipseq" and (norm.get("settings") or {}).get("select", "pearson") == "pearson":
        best = max(history, key=lambda h: h.get("valid_metric", -math.inf))
    out = {"epochs_run": len(history), "best_epoch": int(best["epoch"]), "valid_loss": float(best["valid_loss"])}
    if task == "chipseq":
        out["valid_pearson_r"] = float(best.get("valid_metric", math.nan))
    elif task == "audio_super_resolution":
        out.update({k: float(best[k]) for k in ("valid_snr_db", "valid_lsd") if best.get(k) is not None})
    return out
