"""Networks of chipsr, each a pure ``nn.Module`` built from a JSON-serialisable config.

Every model maps ``(N, C_in, L) -> (N, C_out, L)`` (same length in and out, channels-first) and
stores ``self.config``: a dict with a ``"name"`` key and all constructor arguments, such that
``build_model(model.config)`` rebuilds the same architecture (a checkpoint saves the config beside
the ``state_dict``). Models never read or write files.

========================  ==============================  ==========================================
``build_model`` name       class                           what it is
========================  ==============================  ==========================================
``"tfilm_unet"``           :class:`TFiLMUNet`              TFiLM U-Net (TFiLM paper, Section 3.2)
``"conv_unet"``            :class:`ConvUNet`               the same U-Net without TFiLM ("Conv")
``"audio_unet"``           :class:`AudioUNet`              Kuleshov et al. 2017 (audio SR, Sec. 3.2)
``"coda_cnn"``             :class:`CodaCNN`                Koh et al. 2017 ChIP-seq CNN, per bin
``"linear_filter"``        :class:`LinearFilter`           one multi-channel 'same' convolution
``"dnn_baseline"``         :class:`DNNBaseline`            Li et al. 2015 spectral dense network
``"spline"``               :class:`~chipsr.core.baselines.SplineUpsampler`  cubic B-spline
``"identity"``             :class:`~chipsr.core.baselines.Identity`         the noisy input
========================  ==============================  ==========================================

The registry is open: :func:`register_model` adds a name (a task's own network, e.g. the
imputation task's ``"impute_dnn"``) that :func:`build_model` and checkpoint loading then rebuild.

U-Net lengths
-------------
The U-Nets halve the length ``depth + 1`` times (K down blocks and the bottleneck) and every TFiLM
layer needs a whole number of blocks, so they work on lengths that are multiples of
``model.length_multiple``. Any other length ``L`` is zero-padded on the right to
``model.padded_length(L)`` (the next multiple) inside ``forward`` and the output is cropped back to
``L``; the residual, if any, is added after the crop. For windows of 1000 bins with ``n_blocks=2``:
depth 2 pads to 1008, depth 3 and 4 pad to 1024.

References
----------
The TFiLM paper, the audio SR paper and the reference code are those of :mod:`chipsr.core.layers`.
Koh et al. 2017: P. W. Koh, E. Pierson, A. Kundaje, "Denoising genome-wide histone ChIP-seq with
convolutional neural networks", Bioinformatics 33(14):i225-i233, doi:10.1093/bioinformatics/btx243
(public code: GitHub ``kundajelab/coda``). Li et al. 2015: K. Li, Z. Huang, Y. Xu, C.-H. Lee,
"DNN-based speech bandwidth expansion and its application to adding high-frequency missing features
for automatic speech recognition of narrowband speech", Interspeech 2015.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from chipsr.core.baselines import Identity, SplineUpsampler
from chipsr.core.layers import DownBlock, SubPixel1d, TFiLM, UpBlock, same_padding

__all__ = [
    "TFiLMUNet",
    "ConvUNet",
    "AudioUNet",
    "CodaCNN",
    "LinearFilter",
    "DNNBaseline",
    "unet_schedule",
    "build_model",
    "model_from_checkpoint",
    "register_model",
    "count_parameters",
    "MODELS",
]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters of ``model``.

    Parameters
    ----------
    model : nn.Module
        Any module (models built on the ``meta`` device too).
    trainable_only : bool
        Count only parameters with ``requires_grad``.

    Returns
    -------
    int
        The sum of ``p.numel()`` over the parameters.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def unet_schedule(depth: int, width: float = 1.0) -> list[tuple[int, int]]:
    """Filter counts and kernel lengths of the U-Net blocks k = 1..depth+1 (the last is the bottleneck).

    Block k has ``max(1, round(min(2**(6+k), 512) * width))`` filters of length
    ``max(2**(7-k) + 1, 9)`` (audio SR paper Section 3.2, TFiLM appendix B; the papers print the
    min/max swapped; the reference code uses these). For depth 4 and width 1:
    filters 128, 256, 512, 512 and bottleneck 512; lengths 65, 33, 17, 9 and bottleneck 9.

    Parameters
    ----------
    depth : int
        K, the number of down blocks (>= 1).
    width : float
        Multiplier on the filter counts (> 0).

    Returns
    -------
    list of (int, int)
        ``depth + 1`` pairs ``(filters, kernel_length)``.

    Raises
    ------
    ValueError
        If ``depth`` < 1 or ``width`` <= 0.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1; got {depth}")
    if not width > 0:
        raise ValueError(f"width must be > 0; got {width}")
    out = []
    for k in range(1, depth + 2):
        nf = max(1, int(round(min(2 ** (6 + k), 512) * width)))
        fs = max(2 ** max(7 - k, 0) + 1, 9)
        out.append((nf, fs))
    return out


class _UNet1d(nn.Module):
    """Shared U-Net body: K down blocks, bottleneck, K up blocks, final conv + SubPixel1d(2).

    Not registered in :func:`build_model`; use :class:`TFiLMUNet`, :class:`ConvUNet` or
    :class:`AudioUNet`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        depth: int,
        width: float,
        residual_channel: int | None,
        dropout: float,
        dilation: int,
        downsample: str,
        tfilm: dict[str, Any] | None,
    ) -> None:
        super().__init__()
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"in_channels and out_channels must be >= 1; got {in_channels}, {out_channels}")
        if residual_channel is not None and not 0 <= residual_channel < in_channels:
            raise ValueError(f"residual_channel {residual_channel} is not in [0, in_channels={in_channels})")
        schedule = unet_schedule(depth, width)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.depth = depth
        self.residual_channel = residual_channel
        self.filters = [nf for nf, _ in schedule]
        self.kernel_sizes = [fs for _, fs in schedule]

        n_blocks = block_size = None
        if tfilm is not None:
            n_blocks, block_size = tfilm["n_blocks"], tfilm["block_size"]
            if block_size is not None and block_size % 2 ** (depth + 1) != 0:
                raise ValueError(
                    f"block_size {block_size} must be a multiple of 2**(depth+1) = {2 ** (depth + 1)} "
                    f"(depth {depth}) so that every layer has whole blocks"
                )
        self._n_blocks, self._block_size = n_blocks, block_size

        def modulation(channels: int, stride: int) -> nn.Module | None:
            if tfilm is None:
                return None
            return TFiLM(
                channels,
                n_blocks=n_blocks,
                block_size=None if block_size is None else block_size // stride,
                affine=tfilm["affine"],
                bidirectional=tfilm["bidirectional"],
                pool=tfilm["pool"],
                gamma_offset=tfilm.get("gamma_offset", 0.0),
            )

        down_dilation = dilation if downsample == "pool" else 1
        self.downs = nn.ModuleList()
        c = in_channels
        for k, (nf, fs) in enumerate(schedule[:-1], start=1):
            self.downs.append(
                DownBlock(c, nf, fs, downsample=downsample, dilation=down_dilation, modulation=modulation(nf, 2**k))
            )
            c = nf
        nf_b, fs_b = schedule[-1]
        self.bottleneck = DownBlock(
            c,
            nf_b,
            fs_b,
            downsample=downsample,
            dilation=down_dilation,
            dropout=dropout,
            modulation=modulation(nf_b, 2 ** (depth + 1)),
        )
        c = nf_b
        ups = []
        for k in range(depth, 0, -1):  # level k output is at stride 2**k, matching down block k
            nf, fs = schedule[k - 1]
            ups.append(UpBlock(c, nf, fs, dilation=down_dilation, dropout=dropout, modulation=modulation(nf, 2**k)))
            c = 2 * nf
        self.ups = nn.ModuleList(ups)
        self.final = nn.Conv1d(c, 2 * out_channels, 9, padding=same_padding(9))
        self.shuffle = SubPixel1d(2)
        nn.init.normal_(self.final.weight, std=1e-3)
        nn.init.zeros_(self.final.bias)

    @property
    def length_multiple(self) -> int:
        """Inputs are padded on the right to a multiple of this many positions.

        ``2**(depth+1) * n_blocks`` with ``n_blocks``; ``block_size`` (a multiple of
        ``2**(depth+1)``, i.e. ``lcm(2**(depth+1), block_size)``) with ``block_size``;
        ``2**(depth+1)`` without TFiLM.
        """
        base = 2 ** (self.depth + 1)
        if self._n_blocks is not None:
            return base * self._n_blocks
        if self._block_size is not None:
            return math.lcm(base, self._block_size)
        return base

    def padded_length(self, length: int) -> int:
        """The length ``forward`` pads an input of ``length`` positions to (next multiple)."""
        m = self.length_multiple
        return max(1, -(-length // m)) * m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, L) -> (N, out_channels, L)``; see the class docstring for padding.

        Raises
        ------
        ValueError
            If ``x`` is not 3-D with ``in_channels`` channels, or ``L`` < 1.
        """
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input of shape (N, {self.in_channels}, L); got {tuple(x.shape)}")
        length = x.shape[-1]
        if length < 1:
            raise ValueError(f"input length must be >= 1; got {length}")
        padded = self.padded_length(length)
        h = F.pad(x, (0, padded - length)) if padded != length else x
        skips = []
        for down in self.downs:
            h = down(h)
            skips.append(h)
        h = self.bottleneck(h)
        for up, skip in zip(self.ups, reversed(skips)):
            h = up(h, skip)
        h = self.shuffle(self.final(h))[..., :length]
        if self.residual_channel is not None:
            r = self.residual_channel
            h = h + x[:, r : r + 1]
        return h


class TFiLMUNet(_UNet1d):
    """TFiLM U-Net: the time-series super-resolution network of the TFiLM paper.

    Architecture (TFiLM paper Section 3.2 and Figure 1; appendix B; the reference code: dilation-2
    convolutions, max-pool down-sampling, a TFiLM layer after every down block, the bottleneck and
    every up block), with ``k = 1..K`` (``K = depth``) and the schedule of
    :func:`unet_schedule` (``nf_k = min(2**(6+k), 512) * width`` filters of length
    ``max(2**(7-k)+1, 9)``; the bottleneck is entry ``K+1``):

    - down block k: Conv1d(nf_k, dilation) -> MaxPool1d(2) -> LeakyReLU(0.2) -> TFiLM(nf_k)
    - bottleneck: Conv1d(nf_{K+1}, dilation) -> MaxPool1d(2) -> Dropout -> LeakyReLU(0.2) -> TFiLM
    - up block k = K..1: Conv1d(2 nf_k, dilation) -> Dropout -> ReLU -> SubPixel1d(2) -> TFiLM(nf_k)
      -> concatenate the output of down block k (symmetric skip)
    - final: Conv1d(2 * out_channels, 9) -> SubPixel1d(2) [-> + input channel ``residual_channel``]

    Down blocks have no dropout (as in the reference code); the final convolution starts at
    N(0, 1e-3) weights and zero bias, so an untrained model with a residual is close to the
    identity. Every TFiLM layer uses the same number of blocks ``n_blocks`` (with ``block_size``:
    blocks spanning ``block_size`` input positions at every layer, i.e. ``block_size / 2**j``
    positions at a layer of stride ``2**j``). The reference code's up blocks reuse the
    bottleneck's block length, giving them 2, 4, 8, 16x more blocks; we do not copy that quirk.

    Lengths: the input is zero-padded on the right to a multiple of :attr:`length_multiple`
    (``2**(depth+1) * n_blocks``, or ``block_size`` with ``block_size``) and the output cropped
    back to ``L``. ChIP-seq windows of 1000 bins with ``n_blocks=2`` are padded to 1008 (depth 2)
    or 1024 (depth 3, 4).

    Parameter counts (1 channel in and out, depth 4, width 1, n_blocks 32): **91,854,082** with
    ``affine=True`` (default; each LSTM has 2C hidden units: 35,442,688 LSTM parameters) and
    **68,234,498** with ``affine=False`` (LSTMs of C units, 11,823,104 parameters: the reference's
    design, ~68M; Keras LSTMs have one bias vector where torch has two, so the
    reference has 13,312 fewer). The convolutions alone are the 56,411,394 of :class:`AudioUNet`.
    ChIP-seq sizes (3 marks in, 1 out, n_blocks 2, affine): depth 3 width 1/8: 996,354;
    depth 3 width 1/16: 251,266; depth 3 width 1/4: 3,968,002.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in (e.g. low-depth marks) and out (e.g. the one target mark).
    depth : int
        K, the number of down (and up) blocks, >= 1.
    n_blocks : int, optional
        Blocks per TFiLM layer (the paper: 32 for audio, B = 2 for ChIP-seq). Default 32 when
        neither ``n_blocks`` nor ``block_size`` is given.
    block_size : int, optional
        Instead of ``n_blocks``: block length in input positions, a multiple of ``2**(depth+1)``.
    width : float
        Multiplier on all filter counts (> 0).
    residual_channel : int, optional
        Add input channel ``residual_channel`` to every output channel (the paper's "learn
        y - x", appendix B "Skip Connections"); ``None`` = no residual.
    dropout : float
        Dropout probability in the bottleneck and up blocks.
    affine : bool
        TFiLM ``gamma * F + beta`` (paper) or ``gamma * F`` (reference code); see :class:`TFiLM`.
    bidirectional : bool
        Bidirectional LSTMs in the TFiLM layers (TFiLM appendix C).
    dilation : int
        Dilation of the block convolutions (the reference code uses 2).
    pool : {"max", "mean"}
        Block summary before each TFiLM LSTM.
    gamma_offset : float
        Added to every TFiLM gamma (0: the paper; 1: identity-centred modulation, see
        :class:`chipsr.core.layers.TFiLM`).
    downsample : {"pool", "stride"}
        ``"pool"`` (the paper): dilated convolutions at full resolution, then MaxPool1d(2).
        ``"stride"``: the AudioUNet backbone (undilated stride-2 convolutions, no pooling), about
        half the compute per step, with the same TFiLM layers; ``dilation`` is then ignored.

    Raises
    ------
    ValueError
        For non-positive sizes, both or an invalid ``n_blocks`` / ``block_size``, a ``block_size``
        that is not a multiple of ``2**(depth+1)``, or ``residual_channel`` outside
        ``[0, in_channels)``.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)`` for any ``L >= 1``.
    """

    name = "tfilm_unet"

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        depth: int = 4,
        n_blocks: int | None = None,
        block_size: int | None = None,
        width: float = 1.0,
        residual_channel: int | None = None,
        dropout: float = 0.5,
        affine: bool = True,
        bidirectional: bool = False,
        dilation: int = 2,
        pool: str = "max",
        gamma_offset: float = 0.0,
        downsample: str = "pool",
    ) -> None:
        if downsample not in ("pool", "stride"):
            raise ValueError(f"downsample must be 'pool' or 'stride'; got {downsample!r}")
        if n_blocks is None and block_size is None:
            n_blocks = 32
        if n_blocks is not None and block_size is not None:
            raise ValueError(
                f"give at most one of n_blocks and block_size; got n_blocks={n_blocks}, block_size={block_size}"
            )
        super().__init__(
            in_channels,
            out_channels,
            depth,
            width,
            residual_channel,
            dropout,
            dilation,
            downsample=downsample,
            tfilm={
                "n_blocks": n_blocks,
                "block_size": block_size,
                "affine": affine,
                "bidirectional": bidirectional,
                "pool": pool,
                "gamma_offset": gamma_offset,
            },
        )
        self.config = {
            "name": self.name,
            "in_channels": int(in_channels),
            "out_channels": int(out_channels),
            "depth": int(depth),
            "n_blocks": None if n_blocks is None else int(n_blocks),
            "block_size": None if block_size is None else int(block_size),
            "width": float(width),
            "residual_channel": None if residual_channel is None else int(residual_channel),
            "dropout": float(dropout),
            "affine": bool(affine),
            "bidirectional": bool(bidirectional),
            "dilation": int(dilation),
            "pool": str(pool),
            "gamma_offset": float(gamma_offset),
            "downsample": str(downsample),
        }


class ConvUNet(_UNet1d):
    """The TFiLM U-Net without its TFiLM layers (the TFiLM paper's "Conv" ablation, Table 1).

    Identical to :class:`TFiLMUNet` (dilated convolutions, max-pool down-sampling, dropout in the
    bottleneck and up blocks, symmetric skips, final Conv1d + SubPixel1d, optional residual) with
    every TFiLM layer removed. Inputs are padded on the right to a multiple of
    ``length_multiple = 2**(depth+1)`` and the output cropped back. At depth 4, width 1, one
    channel it has the 56,411,394 parameters of :class:`AudioUNet`.

    Parameters
    ----------
    in_channels, out_channels, depth, width, residual_channel, dropout, dilation, downsample
        As in :class:`TFiLMUNet` (``downsample="stride"`` is then :class:`AudioUNet`'s backbone).

    Raises
    ------
    ValueError
        As in :class:`TFiLMUNet`.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)``.
    """

    name = "conv_unet"

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        depth: int = 4,
        width: float = 1.0,
        residual_channel: int | None = None,
        dropout: float = 0.5,
        dilation: int = 2,
        downsample: str = "pool",
    ) -> None:
        super().__init__(
            in_channels, out_channels, depth, width, residual_channel, dropout, dilation, downsample=downsample,
            tfilm=None,
        )
        self.config = {
            "name": self.name,
            "in_channels": int(in_channels),
            "out_channels": int(out_channels),
            "depth": int(depth),
            "width": float(width),
            "residual_channel": None if residual_channel is None else int(residual_channel),
            "dropout": float(dropout),
            "dilation": int(dilation),
            "downsample": downsample,
        }


class AudioUNet(_UNet1d):
    """AudioUNet: the audio super-resolution network of Kuleshov, Enam and Ermon (2017).

    Audio SR paper Section 3.2 and Figure 1, as in the reference code:

    - down block k = 1..K: Conv1d(nf_k, stride 2, 'same') -> LeakyReLU(0.2)
    - bottleneck: Conv1d(nf_{K+1}, stride 2) -> Dropout(0.5) -> LeakyReLU(0.2)
    - up block k = K..1: Conv1d(2 nf_k) -> Dropout(0.5) -> ReLU -> SubPixel1d(2) -> concat skip k
    - final: Conv1d(2 * out_channels, 9) -> SubPixel1d(2) -> + input (``residual_channel``)

    with the :func:`unet_schedule` filters (128, 256, 512, 512, bottleneck 512) and lengths
    (65, 33, 17, 9, bottleneck 9) at depth 4. No dilation, no TFiLM. Inputs are padded on the
    right to a multiple of ``length_multiple = 2**(depth+1)`` and cropped back.

    Parameter count at paper size (1 channel, depth 4, width 1): **56,411,394**
    (down 8,448 + 1,081,600 + 2,228,736 + 2,359,808; bottleneck 2,359,808; up 4,719,616 +
    17,826,816 + 17,302,016 + 8,519,936; final 4,610); the reference design has ~56M.

    Parameters
    ----------
    in_channels, out_channels, depth, width, dropout
        As in :class:`TFiLMUNet`.
    residual_channel : int, optional
        Input channel added to the output; default 0 (the paper's input residual).

    Raises
    ------
    ValueError
        As in :class:`TFiLMUNet`.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)``.
    """

    name = "audio_unet"

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        depth: int = 4,
        width: float = 1.0,
        dropout: float = 0.5,
        residual_channel: int | None = 0,
    ) -> None:
        super().__init__(
            in_channels, out_channels, depth, width, residual_channel, dropout, 1, downsample="stride", tfilm=None
        )
        self.config = {
            "name": self.name,
            "in_channels": int(in_channels),
            "out_channels": int(out_channels),
            "depth": int(depth),
            "width": float(width),
            "dropout": float(dropout),
            "residual_channel": None if residual_channel is None else int(residual_channel),
        }


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
    in_channels : int
        Number of input tracks (low-depth marks).
    out_channels : int
        Number of predicted tracks.
    window : int
        Length in bins of the second convolution (odd; 1001 in Coda).
    filters : int
        Filters of the first convolution (6 in Coda).
    width : int
        Length in bins of the first convolution (odd; 51 in Coda).

    Raises
    ------
    ValueError
        If ``window`` or ``width`` is even or < 1, or a channel/filter count is < 1.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)``.

    Parameters (count): ``in_channels * filters * width + filters + filters * out_channels *
    window + out_channels``; 6,931 for 3 marks in and 1 out at the defaults.
    """

    name = "coda_cnn"

    def __init__(
        self, in_channels: int, out_channels: int = 1, window: int = 1001, filters: int = 6, width: int = 51
    ) -> None:
        super().__init__()
        if min(in_channels, out_channels, filters) < 1:
            raise ValueError(
                f"in_channels, out_channels and filters must be >= 1; got {in_channels}, {out_channels}, {filters}"
            )
        self.conv1 = nn.Conv1d(in_channels, filters, width, padding=same_padding(width))
        self.act = nn.ReLU()
        self.conv2 = nn.Conv1d(filters, out_channels, window, padding=same_padding(window))
        self.config = {
            "name": self.name,
            "in_channels": int(in_channels),
            "out_channels": int(out_channels),
            "window": int(window),
            "filters": int(filters),
            "width": int(width),
        }

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
    in_channels : int
        Number of input tracks.
    out_channels : int
        Number of output tracks.
    width : int
        Filter length in bins (odd); 101 bins = 2.5 kb at 25 bp.

    Raises
    ------
    ValueError
        If ``width`` is even or < 1.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)``; ``in_channels * out_channels * width +
    out_channels`` parameters.
    """

    name = "linear_filter"

    def __init__(self, in_channels: int, out_channels: int = 1, width: int = 101) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, width, padding=same_padding(width))
        self.config = {
            "name": self.name,
            "in_channels": int(in_channels),
            "out_channels": int(out_channels),
            "width": int(width),
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, L) -> (N, out_channels, L)``."""
        return self.conv(x)


class DNNBaseline(nn.Module):
    """Dense spectral network for bandwidth extension, after Li et al. (2015).

    The audio SR papers' "DNN" baseline (audio SR paper Section 4; TFiLM paper Section 4.1):
    spectral features through 3 dense hidden layers of 2048 ReLU units. Here, on an input that is
    already on the high-rate grid (e.g. the output of
    :class:`~chipsr.core.baselines.SplineUpsampler`), for each channel:

    1. STFT: ``n_fft``-point periodic Hann window, hop ``hop_length``, centred frames with reflect
       padding, giving ``F = n_fft // 2 + 1`` frequency bins and ``T = 1 + L // hop_length`` frames.
    2. Features per frame: ``log(max(|S|, 1e-5))`` of every input channel (``in_channels * F``
       values).
    3. ``n_layers`` dense layers of ``hidden`` units with ReLU, then a linear layer to ``F`` values:
       the predicted log-magnitude of every frequency bin of the output (clamped above at 20).
    4. Output spectrum = ``exp(prediction) * exp(i * phase)``, the phase taken (without gradient)
       from input channel ``phase_channel``; inverse STFT back to exactly ``L`` samples.

    Li et al. predict only the missing high band (and its phase) from context frames; this version
    predicts every bin from one frame and reuses the input phase. Closer to Li et al.:
    ``keep_bins`` copies the input's lowest bins (magnitude and phase) unchanged, so only the band
    above is predicted, and ``residual=True`` predicts a log-magnitude *correction* to the input
    (last layer initialised to zero, so the untrained model returns its input); ``chipsr audio
    train --arch dnn`` uses both, with ``keep_bins`` at the low-res pass-band edge.

    Parameter count: ``(in_channels * F + 1) * hidden + (n_layers - 1) * (hidden + 1) * hidden +
    (hidden + 1) * F``; 9,447,681 at the defaults (1 channel, n_fft 512, hidden 2048, 3 layers).

    Parameters
    ----------
    in_channels : int
        Input channels (their features are concatenated).
    n_fft : int
        FFT length in samples (>= 2).
    hop_length : int
        Hop between frames in samples, in ``[1, n_fft // 2]`` (so the inverse STFT is defined).
    hidden : int
        Units per hidden layer (2048 in the papers).
    n_layers : int
        Number of hidden layers (3 in the papers).
    phase_channel : int
        Input channel whose phase the output reuses.
    residual : bool
        Predict ``log|S_out| - log|S_in|`` (of ``phase_channel``) instead of ``log|S_out|``.
    keep_bins : int
        The lowest ``keep_bins`` frequency bins of ``phase_channel`` pass through unchanged.

    Raises
    ------
    ValueError
        For sizes out of range, or at call time an input of length ``<= n_fft // 2`` or with the
        wrong number of channels.

    Shape
    -----
    ``(N, in_channels, L) -> (N, 1, L)``.
    """

    name = "dnn_baseline"

    def __init__(
        self,
        in_channels: int = 1,
        n_fft: int = 512,
        hop_length: int = 128,
        hidden: int = 2048,
        n_layers: int = 3,
        phase_channel: int = 0,
        residual: bool = False,
        keep_bins: int = 0,
    ) -> None:
        super().__init__()
        if n_fft < 2:
            raise ValueError(f"n_fft must be >= 2; got {n_fft}")
        if not 1 <= hop_length <= n_fft // 2:
            raise ValueError(f"hop_length {hop_length} is not in [1, n_fft // 2 = {n_fft // 2}]")
        if hidden < 1 or n_layers < 1 or in_channels < 1:
            raise ValueError(
                f"in_channels, hidden and n_layers must be >= 1; got {in_channels}, {hidden}, {n_layers}"
            )
        if not 0 <= phase_channel < in_channels:
            raise ValueError(f"phase_channel {phase_channel} is not in [0, in_channels={in_channels})")
        if not 0 <= keep_bins <= n_fft // 2 + 1:
            raise ValueError(f"keep_bins {keep_bins} is not in [0, n_fft // 2 + 1 = {n_fft // 2 + 1}]")
        self.residual, self.keep_bins = bool(residual), int(keep_bins)
        self.in_channels, self.n_fft, self.hop_length, self.phase_channel = in_channels, n_fft, hop_length, phase_channel
        n_freq = n_fft // 2 + 1
        layers: list[nn.Module] = []
        d = in_channels * n_freq
        for _ in range(n_layers):
            layers += [nn.Linear(d, hidden), nn.ReLU()]
            d = hidden
        layers.append(nn.Linear(d, n_freq))
        self.net = nn.Sequential(*layers)
        if residual:  # start as the identity: predicted log-magnitude = the input's
            nn.init.zeros_(layers[-1].weight)
            nn.init.zeros_(layers[-1].bias)
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True), persistent=False)
        self.config = {
            "name": self.name,
            "in_channels": int(in_channels),
            "n_fft": int(n_fft),
            "hop_length": int(hop_length),
            "hidden": int(hidden),
            "n_layers": int(n_layers),
            "phase_channel": int(phase_channel),
            "residual": self.residual,
            "keep_bins": self.keep_bins,
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, L) -> (N, 1, L)``."""
        if x.dim() != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected input of shape (N, {self.in_channels}, L); got {tuple(x.shape)}")
        n, c, length = x.shape
        if length <= self.n_fft // 2:
            raise ValueError(f"length {length} is too short for n_fft {self.n_fft}: need more than {self.n_fft // 2}")
        window = self.window.to(dtype=x.dtype)
        spec = torch.stft(
            x.reshape(n * c, length),
            self.n_fft,
            self.hop_length,
            window=window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )  # (N*C, F, T)
        n_freq, frames = spec.shape[-2:]
        spec = spec.reshape(n, c, n_freq, frames)
        feats = torch.log(spec.abs().clamp_min(1e-5)).reshape(n, c * n_freq, frames).transpose(1, 2)
        logmag = self.net(feats).transpose(1, 2)  # (N, F, T)
        ref = spec[:, self.phase_channel]
        if self.residual:
            logmag = logmag + torch.log(ref.abs().clamp_min(1e-5))
        phase = torch.angle(ref).detach()
        out = torch.polar(torch.exp(logmag.clamp(max=20.0)), phase)
        if self.keep_bins:
            out = torch.cat([ref[:, : self.keep_bins], out[:, self.keep_bins :]], dim=1)
        y = torch.istft(out, self.n_fft, self.hop_length, window=window, center=True, length=length)
        return y.unsqueeze(1)


#: The registry: ``build_model`` name -> builder (a model class or any callable taking the config's
#: keyword arguments and returning an ``nn.Module``). Open: tasks add their own networks with
#: :func:`register_model` (e.g. ``chipsr.tasks.impute.model`` registers ``"impute_dnn"`` when imported).
MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str, builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Make ``build_model({"name": name, **kwargs})`` call ``builder(**kwargs)``.

    The model it builds must store a JSON-serialisable ``config`` dict with ``"name": name`` and its
    constructor arguments (as every model here does), so that a checkpoint of it can be rebuilt by
    :func:`build_model` -- in any process that has registered ``name`` first (importing the module
    that registers it is enough).

    Parameters
    ----------
    name : str
        The config's ``"name"``; a non-empty string.
    builder : callable
        A model class or a function; its signature lists the keys a config may hold (unknown keys
        are rejected by :func:`build_model`).

    Returns
    -------
    callable
        ``builder``, unchanged.

    Raises
    ------
    TypeError
        If ``name`` is not a non-empty string or ``builder`` is not callable.
    ValueError
        If ``name`` is already registered to a different builder (registering the same builder
        again is a no-op).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"model name must be a non-empty string; got {name!r}")
    if not callable(builder):
        raise TypeError(f"builder for model {name!r} must be callable; got {builder!r}")
    known = MODELS.get(name)
    if known is not None and known is not builder:
        raise ValueError(f"model name {name!r} is already registered to {known!r}")
    MODELS[name] = builder
    return builder


for _cls in (TFiLMUNet, ConvUNet, AudioUNet, CodaCNN, LinearFilter, DNNBaseline, SplineUpsampler, Identity):
    register_model(_cls.name, _cls)
del _cls


def build_model(config: dict) -> nn.Module:
    """Build a model from its config (``model.config`` of any model here).

    Parameters
    ----------
    config : dict
        ``{"name": <one of MODELS>, **constructor arguments}``; missing arguments take their
        defaults. The dict is not modified. ``MODELS`` holds the built-in models and whatever was
        added with :func:`register_model`.

    Returns
    -------
    nn.Module
        A freshly initialised model; load a ``state_dict`` into it for trained weights.

    Raises
    ------
    ValueError
        If ``name`` is missing or unknown (the message lists the known names), or a key is not an
        argument of that model (the message names it), or the constructor rejects a value.
    """
    if not isinstance(config, dict) or "name" not in config:
        raise ValueError(f"model config must be a dict with a 'name' key; got {config!r}")
    kwargs = dict(config)
    name = kwargs.pop("name")
    if name not in MODELS:
        raise ValueError(f"unknown model name {name!r}; known: {', '.join(sorted(MODELS))}")
    builder = MODELS[name]
    allowed = set(inspect.signature(builder).parameters) - {"self"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} for model {name!r}; allowed: {sorted(allowed)}")
    return builder(**kwargs)


def model_from_checkpoint(checkpoint: dict) -> nn.Module:
    """Rebuild the model of a loaded checkpoint (``{"config", "state_dict", ...}``, e.g. from
    :func:`chipsr.io.checkpoint.load_checkpoint`) with its best weights, in eval mode, with float32
    parameters whatever floating dtype the stored weights have.

    Raises
    ------
    ValueError
        An unknown model name in ``config`` (:func:`build_model`).
    """
    model = build_model(checkpoint["config"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.float().eval()
