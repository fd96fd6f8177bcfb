"""ChIP-seq denoising models: the architectures of one target mark (TFiLM U-Net, a plain conv U-Net,
Coda's CNN, a multi-mark linear filter), the closed-form start of the linear filter, and model cards.

The setup is the TFiLM paper's (Birnbaum et al. 2019, Section 4.2): k low-depth marks in (a
(k, window) matrix of bins), one full-depth mark out, one model per target mark, windows of 1000
bins (25-bp bins: 25 kb, Coda's data), B = 2 TFiLM blocks. Training is
:mod:`chipsr.tasks.chipseq.train`, genome-wide inference :mod:`chipsr.tasks.chipseq.denoise`.
"""

from __future__ import annotations

import logging
import math
import os

import numpy as np

from chipsr.errors import ChipsrInputError

log = logging.getLogger(__name__)

ARCHS = ("tfilm", "conv", "coda", "linear")


# ---------------------------------------------------------------------------------- models


def least_squares_filter(model, x, y: np.ndarray | None = None, ridge: float = 1e-3, chunk: int = 256) -> None:
    """Set a :class:`~chipsr.core.models.LinearFilter` to the (ridge) least-squares solution.

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
    import torch

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


def build_chipseq_model(arch: str, n_marks: int, window: int, blocks: int, width: float, depth: int,
                        dropout: float, residual_channel: int | None = None, gamma_offset: float = 1.0,
                        affine: bool = True, bidirectional: bool = False, backbone: str = "pool"):
    """The network for ``--arch`` (see :mod:`chipsr.core.models`): (N, k, window) -> (N, 1, window).

    ``residual_channel`` (U-Nets only): the network learns y - x for that input mark (the paper's
    additive residual). TFiLM only: ``gamma_offset`` 1 = identity-centred modulation
    (1 + gamma) * F + beta; ``affine`` False = gamma only, no beta (the reference code; the paper
    writes gamma * F + beta); ``bidirectional`` LSTMs (TFiLM paper, appendix C). U-Nets:
    ``backbone`` "pool" (the paper's dilated convolutions + max-pool) or "stride" (stride-2
    convolutions, the AudioUNet's; about half the compute).
    """
    from chipsr.core.models import build_model

    if arch == "tfilm":
        cfg = dict(name="tfilm_unet", in_channels=n_marks, out_channels=1, depth=depth, n_blocks=blocks,
                   width=width, dropout=dropout, residual_channel=residual_channel, gamma_offset=gamma_offset,
                   affine=affine, bidirectional=bidirectional, downsample=backbone)
    elif arch == "conv":
        cfg = dict(name="conv_unet", in_channels=n_marks, out_channels=1, depth=depth, width=width, dropout=dropout,
                   residual_channel=residual_channel, downsample=backbone)
    elif arch == "coda":
        cfg = dict(name="coda_cnn", in_channels=n_marks, out_channels=1, window=window + 1 - window % 2)
    elif arch == "linear":
        cfg = dict(name="linear_filter", in_channels=n_marks, out_channels=1, width=101)
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
            "peaks": norm.get("peaks") or "no calibrated rule (train with --target-peaks; `chipsr peaks --fold`)",
            "recipe": {k: settings[k] for k in ("arch", "epochs", "samples_per_epoch", "batch_size", "lr",
                                                "lr_schedule", "select", "reverse", "peak_fraction", "seed",
                                                "transform", "input_transform") if k in settings},
        })
    if history:
        best = min(history, key=lambda h: h.get("valid_loss", math.inf))
        if norm.get("task") == "chipseq" and (norm.get("settings") or {}).get("select", "pearson") == "pearson":
            best = max(history, key=lambda h: h.get("valid_metric", -math.inf))
        card["validation"] = {"epochs_run": len(history), "best_epoch": int(best["epoch"]),
                              "valid_loss": float(best["valid_loss"]),
                              "valid_pearson_r": float(best.get("valid_metric", math.nan))}
    return card
