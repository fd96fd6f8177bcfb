"""Layers: TFiLM (known-output LSTM, reference formula, causality, gradients), SubPixel1d element
order, down/up blocks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from chipsr.core.layers import DownBlock, SubPixel1d, TFiLM, UpBlock, same_padding


class FixedLSTM(nn.Module):
    """Stands in for ``nn.LSTM``: records its input and returns a given output sequence."""

    def __init__(self, out: torch.Tensor) -> None:
        super().__init__()
        self.out = out
        self.seen: torch.Tensor | None = None

    def forward(self, seq):
        self.seen = seq
        return self.out, (None, None)


def block_max(x: torch.Tensor, nb: int) -> torch.Tensor:
    """(N, C, L) -> (N, C, nb) by explicit loops: the max of each block."""
    n, c, length = x.shape
    bl = length // nb
    out = torch.empty(n, c, nb)
    for i in range(n):
        for j in range(c):
            for b in range(nb):
                out[i, j, b] = max(x[i, j, b * bl + t].item() for t in range(bl))
    return out


# ---------------------------------------------------------------- TFiLM


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_tfilm_shapes(device, affine, bidirectional):
    layer = TFiLM(5, n_blocks=4, affine=affine, bidirectional=bidirectional).to(device)
    x = torch.randn(3, 5, 24, device=device)
    assert layer(x).shape == (3, 5, 24)
    gamma, beta = layer.modulation(x)
    assert gamma.shape == beta.shape == (3, 5, 4)
    if not affine:
        assert torch.all(beta == 0)


def test_tfilm_block_size_gives_length_dependent_block_count():
    layer = TFiLM(2, block_size=3)
    for length in (3, 12, 30):
        gamma, _ = layer.modulation(torch.randn(1, 2, length))
        assert gamma.shape == (1, 2, length // 3)


def test_tfilm_lstm_sizes():
    assert TFiLM(6, n_blocks=2, affine=True).lstm.hidden_size == 12
    assert TFiLM(6, n_blocks=2, affine=False).lstm.hidden_size == 6
    bi = TFiLM(6, n_blocks=2, affine=True, bidirectional=True)
    assert bi.lstm.bidirectional and bi.proj.in_features == 24 and bi.proj.out_features == 12


def test_tfilm_applies_given_gamma_and_beta_per_block():
    torch.manual_seed(0)
    n, c, nb, bl = 2, 3, 4, 5
    layer = TFiLM(c, n_blocks=nb, affine=True)
    x = torch.randn(n, c, nb * bl)
    lstm_out = torch.randn(n, nb, 2 * c)  # channels-last LSTM output: gamma = [:c], beta = [c:]
    layer.lstm = FixedLSTM(lstm_out)
    y = layer(x)
    # the LSTM saw the block maxima as a (N, n_blocks, C) sequence
    assert torch.equal(layer.lstm.seen, block_max(x, nb).transpose(1, 2))
    for i in range(n):
        for j in range(c):
            for pos in range(nb * bl):
                b = pos // bl
                expected = lstm_out[i, b, j] * x[i, j, pos] + lstm_out[i, b, c + j]
                assert y[i, j, pos].item() == pytest.approx(expected.item(), abs=1e-6)
    gamma, beta = layer.modulation(x)
    assert torch.equal(gamma, lstm_out[..., :c].transpose(1, 2))
    assert torch.equal(beta, lstm_out[..., c:].transpose(1, 2))


def test_tfilm_not_affine_matches_reference_formula():
    """Reference code: out = LSTM(maxpool(F)) broadcast over each block * F (channels-last there)."""
    torch.manual_seed(1)
    n, c, nb, bl = 2, 4, 3, 6
    layer = TFiLM(c, n_blocks=nb, affine=False)
    x = torch.randn(n, c, nb * bl)
    with torch.no_grad():
        h = layer.lstm(block_max(x, nb).transpose(1, 2))[0]  # (N, nb, C), h_0 = c_0 = 0
        y = layer(x)
    for i in range(n):
        for j in range(c):
            for pos in range(nb * bl):
                expected = h[i, pos // bl, j] * x[i, j, pos]
                assert y[i, j, pos].item() == pytest.approx(expected.item(), abs=1e-6)


def test_tfilm_mean_pool_feeds_block_means():
    layer = TFiLM(2, n_blocks=2, affine=False, pool="mean")
    x = torch.arange(8.0).reshape(1, 2, 4)
    layer.lstm = FixedLSTM(torch.ones(1, 2, 2))
    layer(x)
    assert torch.equal(layer.lstm.seen, torch.tensor([[[0.5, 4.5], [2.5, 6.5]]]))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_tfilm_gradients_reach_lstm(bidirectional):
    torch.manual_seed(0)
    layer = TFiLM(3, n_blocks=2, bidirectional=bidirectional)
    x = torch.randn(2, 3, 8, requires_grad=True)
    layer(x).pow(2).sum().backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize("bidirectional", [False, True])
def test_tfilm_causal_over_blocks_only_when_unidirectional(bidirectional):
    torch.manual_seed(0)
    nb, bl = 4, 5
    layer = TFiLM(3, n_blocks=nb, bidirectional=bidirectional)
    x = torch.randn(2, 3, nb * bl)
    x2 = x.clone()
    x2[..., 2 * bl :] += 5 * torch.randn(2, 3, 2 * bl)  # change blocks 2 and 3 only
    with torch.no_grad():
        g1, b1 = layer.modulation(x)
        g2, b2 = layer.modulation(x2)
    early = slice(0, 2)
    if bidirectional:
        assert not torch.allclose(g1[..., early], g2[..., early])
    else:
        assert torch.equal(g1[..., early], g2[..., early]) and torch.equal(b1[..., early], b2[..., early])
    assert not torch.allclose(g1[..., 2:], g2[..., 2:])


def test_tfilm_indivisible_length_names_both_numbers():
    with pytest.raises(ValueError, match=r"length 10 .* 4 blocks"):
        TFiLM(2, n_blocks=4)(torch.randn(1, 2, 10))
    with pytest.raises(ValueError, match=r"length 10 .*block_size 3"):
        TFiLM(2, block_size=3)(torch.randn(1, 2, 10))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"n_blocks": 2, "block_size": 2}, {"n_blocks": 0}, {"block_size": -1}, {"n_blocks": 2, "pool": "min"}],
)
def test_tfilm_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        TFiLM(2, **kwargs)


def test_tfilm_wrong_channels():
    with pytest.raises(ValueError, match=r"\(N, 3, L\)"):
        TFiLM(3, n_blocks=2)(torch.randn(1, 2, 4))


# ---------------------------------------------------------------- SubPixel1d


def test_subpixel_element_order(device):
    n, c, r, length = 2, 3, 4, 5
    x = torch.randn(n, c * r, length, device=device)
    y = SubPixel1d(r)(x)
    assert y.shape == (n, c, length * r)
    for i in range(n):
        for ch in range(c):
            for pos in range(length):
                for k in range(r):
                    assert y[i, ch, pos * r + k] == x[i, ch * r + k, pos]


def test_subpixel_errors():
    with pytest.raises(ValueError, match="channels 5 .* r 2"):
        SubPixel1d(2)(torch.randn(1, 5, 3))
    with pytest.raises(ValueError):
        SubPixel1d(0)


# ---------------------------------------------------------------- blocks


def test_same_padding():
    assert same_padding(9) == 4 and same_padding(65, 2) == 64
    with pytest.raises(ValueError, match="got 8"):
        same_padding(8)


@pytest.mark.parametrize("downsample", ["pool", "stride"])
def test_down_block_shapes(device, downsample):
    block = DownBlock(3, 8, 9, downsample=downsample, dilation=2 if downsample == "pool" else 1, dropout=0.5)
    block = block.to(device)
    assert block(torch.randn(2, 3, 32, device=device)).shape == (2, 8, 16)
    with pytest.raises(ValueError, match="even length; got 31"):
        block(torch.randn(2, 3, 31, device=device))


def test_down_block_with_tfilm_and_pool_order():
    torch.manual_seed(0)
    block = DownBlock(2, 4, 5, downsample="pool", modulation=TFiLM(4, n_blocks=2)).eval()
    x = torch.randn(1, 2, 16)
    with torch.no_grad():
        expected = block.modulation(nn.functional.leaky_relu(nn.functional.max_pool1d(block.conv(x), 2), 0.2))
        assert torch.allclose(block(x), expected)


def test_up_block_shapes_and_skip(device):
    torch.manual_seed(0)
    block = UpBlock(6, 4, 9, dilation=2, dropout=0.5, modulation=TFiLM(4, n_blocks=2)).to(device).eval()
    x = torch.randn(2, 6, 8, device=device)
    skip = torch.randn(2, 3, 16, device=device)
    y = block(x, skip)
    assert y.shape == (2, 7, 16)
    assert torch.equal(y[:, 4:], skip)  # the skip tensor is stacked after the up-sampled features
    with pytest.raises(ValueError, match="skip"):
        block(x, torch.randn(2, 3, 15, device=device))


def test_tfilm_gamma_offset_is_added_to_gamma():
    import torch

    from chipsr.core.layers import TFiLM

    torch.manual_seed(0)
    plain = TFiLM(4, n_blocks=2)
    shifted = TFiLM(4, n_blocks=2, gamma_offset=1.0)
    shifted.load_state_dict(plain.state_dict())
    x = torch.randn(3, 4, 10)
    g0, b0 = plain.modulation(x)
    g1, b1 = shifted.modulation(x)
    torch.testing.assert_close(g1, g0 + 1)
    torch.testing.assert_close(b1, b0)
    torch.testing.assert_close(shifted(x), plain(x) + x)  # (1 + g) x + b = (g x + b) + x
