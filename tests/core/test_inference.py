"""Tiled inference: exact length, interiors only, independent of batch size, numpy input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from chipsr.core.inference import predict_tiled, tile_starts


def local_model(channels=2, kernel=5):
    torch.manual_seed(0)
    return nn.Conv1d(channels, 1, kernel, padding=kernel // 2, bias=True)


class GlobalModel(nn.Module):
    """Output depends on the whole window (like a TFiLM network): x + mean over the window."""

    def forward(self, x):
        return x[:, :1] + x.mean(dim=(1, 2), keepdim=True)


def test_tile_starts_cover_exactly():
    starts = tile_starts(1000, window=100, overlap=10)
    covered = np.zeros(1000, dtype=int)
    for s in starts:
        lo, hi = s + 10, min(s + 90, 1000)
        covered[lo:hi] += 1
    assert (covered == 1).all()
    with pytest.raises(ValueError, match="window=20, overlap=10"):
        tile_starts(100, 20, 10)


@pytest.mark.parametrize("length", [1, 99, 1000, 1037])
def test_local_model_tiled_equals_one_pass(length, device):
    """With a receptive field smaller than the overlap, tiling equals one pass over the signal."""
    model = local_model().to(device)
    x = torch.randn(2, length)
    tiled = predict_tiled(model, x, window=64, overlap=4, batch_size=3, device=device, amp=False)
    with torch.no_grad():
        full = model(x[None].to(device))[0].cpu()
    assert tiled.shape == (1, length)
    torch.testing.assert_close(tiled, full, rtol=1e-5, atol=1e-5)


def test_global_model_outputs_come_from_window_interiors():
    model = GlobalModel()
    x = torch.randn(1, 500)
    window, overlap = 100, 20
    tiled = predict_tiled(model, x, window=window, overlap=overlap, batch_size=4, device="cpu")
    for s in tile_starts(500, window, overlap):
        win = torch.zeros(1, window)
        lo, hi = max(s, 0), min(s + window, 500)
        win[:, lo - s : hi - s] = x[:, lo:hi]
        direct = model(win[None])[0]
        a, b = s + overlap, min(s + window - overlap, 500)
        torch.testing.assert_close(tiled[:, a:b], direct[:, overlap : overlap + b - a])


def test_batch_size_does_not_change_output_and_numpy_input():
    model = nn.Sequential(nn.Conv1d(3, 4, 7, padding=3), nn.ReLU(), nn.Conv1d(4, 2, 7, padding=3))
    x = np.random.default_rng(0).normal(size=(3, 2345)).astype(np.float32)
    outs = [predict_tiled(model, x, window=128, overlap=16, batch_size=b, device="cpu") for b in (1, 5, 64)]
    assert outs[0].shape == (2, 2345)
    for other in outs[1:]:
        torch.testing.assert_close(other, outs[0], rtol=0, atol=1e-6)
