"""Tiled inference: run a window-sized model over a signal far longer than a window.

Windows overlap by ``overlap`` positions on each side; only each window's interior (its central
``window - 2*overlap`` positions) is kept, so every output position comes from a window interior,
never from a window edge where the network sees padding. Positions within ``overlap`` of the
signal's ends are interiors of windows that reach past the signal, padded with zeros there (for
coverage tracks: no reads beyond the chromosome end).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from chipsr.core.device import pick_device


def tile_starts(length: int, window: int, overlap: int) -> np.ndarray:
    """Start positions of the windows that tile ``[0, length)`` (may be negative at the left edge).

    Window k covers ``[s_k, s_k + window)`` and contributes its interior
    ``[s_k + overlap, s_k + window - overlap)``; the interiors tile ``[0, length)`` exactly
    (the last one is cropped at ``length``).

    Raises
    ------
    ValueError
        If ``window <= 2 * overlap`` or ``overlap < 0``.
    """
    if overlap < 0 or window <= 2 * overlap:
        raise ValueError(f"need 0 <= 2*overlap < window; got window={window}, overlap={overlap}")
    step = window - 2 * overlap
    n = max(1, -(-length // step))
    return np.arange(n, dtype=np.int64) * step - overlap


def _window(x, start: int, window: int) -> torch.Tensor:
    """x[:, start:start+window] with zeros outside the signal; x is (C, L) numpy or torch."""
    channels, length = x.shape
    lo, hi = max(start, 0), min(start + window, length)
    out = torch.zeros(channels, window, dtype=torch.float32)
    if hi > lo:
        piece = x[:, lo:hi]
        out[:, lo - start : hi - start] = torch.as_tensor(np.asarray(piece) if not torch.is_tensor(piece) else piece,
                                                          dtype=torch.float32)
    return out


def iter_windows(x, window: int, overlap: int, batch_size: int) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """Yield ``(starts, batch)`` with batch of shape (B, C, window), B <= batch_size.

    Only ``batch_size`` windows exist at a time: memory is O(batch_size * C * window).
    """
    starts = tile_starts(x.shape[1], window, overlap)
    for i in range(0, len(starts), batch_size):
        chunk = starts[i : i + batch_size]
        yield chunk, torch.stack([_window(x, int(s), window) for s in chunk])


@torch.no_grad()
def predict_tiled(
    model: nn.Module,
    x,
    window: int,
    overlap: int = 0,
    batch_size: int = 64,
    device: str | torch.device | None = None,
    amp: bool = True,
    skip_empty: bool = True,
) -> torch.Tensor:
    """Predict a long signal window by window and stitch the window interiors.

    Parameters
    ----------
    model : nn.Module
        Maps (N, C_in, window) to (N, C_out, window); run in eval mode.
    x : torch.Tensor or np.ndarray, shape (C_in, L_total)
        The signal (e.g. a chromosome's multi-mark coverage, or a song); it is sliced window by
        window, never copied whole (a numpy memmap works).
    window : int
        Model input length (positions: bins or samples).
    overlap : int
        Positions dropped at each side of every window (context only); the interiors
        ``window - 2*overlap`` long are kept. 0 = plain non-overlapping tiling.
    batch_size : int
        Windows per forward pass; the output does not depend on it.
    device : str, torch.device or None
        None = CUDA, then MPS, then CPU.
    amp : bool
        bf16 autocast on CUDA.
    skip_empty : bool
        Windows whose input is all zeros (assembly gaps, unplaced sequence, regions without reads)
        are not run through the model: they get the output of one all-zero window, computed once
        (the model is deterministic in eval mode, so this is the output they would get). About a
        third of chr22 at 25 bp is such windows. Off: every window runs.

    Returns
    -------
    torch.Tensor, shape (C_out, L_total), float32 on the CPU
        Exactly as long as the input.

    Raises
    ------
    ValueError
        If ``x`` is not 2-D, or window/overlap are inconsistent (see :func:`tile_starts`).
    """
    if len(x.shape) != 2:
        raise ValueError(f"x must have shape (C, L); got {tuple(x.shape)}")
    dev = pick_device(device)
    was_training = model.training
    model.eval()
    length = x.shape[1]
    out = empty = None
    try:
        for starts, batch in iter_windows(x, window, overlap, batch_size):
            pred, empty = _predict_batch(model, batch, dev, amp, skip_empty, empty)
            if out is None:
                out = torch.zeros(pred.shape[1], length, dtype=torch.float32)
            for k, s in enumerate(starts):
                lo, hi = int(s) + overlap, min(int(s) + window - overlap, length)
                out[:, lo:hi] = pred[k, :, overlap : overlap + hi - lo]
    finally:
        model.train(was_training)
    return out


def _forward(model: nn.Module, batch: torch.Tensor, dev: torch.device, amp: bool) -> torch.Tensor:
    """The model's output for a batch, float32 on the CPU (bf16 autocast on CUDA with ``amp``)."""
    batch = batch.to(dev)
    if amp and dev.type == "cuda":
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return model(batch).float().cpu()
    return model(batch).float().cpu()


def _predict_batch(model: nn.Module, batch: torch.Tensor, dev: torch.device, amp: bool, skip_empty: bool,
                   empty: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The model's output (B, C_out, window) for a batch of windows; with ``skip_empty``, all-zero
    windows get ``empty`` (the output of one all-zero window, computed on first need) instead of a
    forward pass. Returns the output and ``empty``."""
    if not skip_empty:
        return _forward(model, batch, dev, amp), empty
    signal = batch.reshape(len(batch), -1).ne(0).any(dim=1)
    if signal.all():
        return _forward(model, batch, dev, amp), empty
    if empty is None:
        empty = _forward(model, torch.zeros_like(batch[:1]), dev, amp)[0]
    pred = empty.expand(len(batch), *empty.shape).clone()
    if signal.any():
        pred[signal] = _forward(model, batch[signal], dev, amp)
    return pred, empty
