"""The U-Nets of chipsr and the model registry's public names.

Every model maps ``(N, C_in, L) -> (N, C_out, L)`` (same length in and out, channels-first) and is
built from one frozen config dataclass, kept as ``model.config``: ``TFiLMUNet(TFiLMUNetConfig(...))``
(or, equivalently, ``TFiLMUNet(in_channels=3, depth=3, ...)``, which builds the config from the
fields). ``model.config.to_dict()`` is the plain dict ``{"name": ..., **fields}`` a checkpoint
stores, and :func:`build_model` rebuilds the same architecture from it. Models never read or write
files.

========================  ==============================  ==========================================
``build_model`` name       class (config)                  what it is
========================  ==============================  ==========================================
``"tfilm_unet"``           :class:`TFiLMUNet`              TFiLM U-Net (TFiLM paper, Section 3.2)
                           (:class:`TFiLMUNetConfig`)
``"conv_unet"``            :class:`ConvUNet`               the same U-Net without TFiLM ("Conv")
                           (:class:`UNetConfig`)
``"audio_unet"``           :class:`AudioUNet`              Kuleshov et al. 2017 (audio SR, Sec. 3.2)
                           (:class:`AudioUNetConfig`)
``"spline"``               :class:`~chipsr.core.baselines.SplineUpsampler`  cubic B-spline
``"identity"``             :class:`~chipsr.core.baselines.Identity`         the noisy input
========================  ==============================  ==========================================

The registry (:mod:`chipsr.core.registry`, re-exported here) is open: each task registers its own
networks when its model module is imported -- ``"coda_cnn"`` and ``"linear_filter"``
(:mod:`chipsr.tasks.chipseq.model`), ``"dnn_baseline"`` (:mod:`chipsr.tasks.audio.model`),
``"impute_dnn"`` (:mod:`chipsr.tasks.impute.model`).

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
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from chipsr.core.baselines import Identity, SplineUpsampler
from chipsr.core.layers import DownBlock, SubPixel1d, TFiLM, UpBlock, same_padding
from chipsr.core.registry import MODELS, ModelConfig, build_model, model_from_checkpoint, register_model

__all__ = [
    "UNetConfig",
    "TFiLMUNetConfig",
    "AudioUNetConfig",
    "TFiLMUNet",
    "ConvUNet",
    "AudioUNet",
    "unet_schedule",
    "ModelConfig",
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


@dataclass(frozen=True)
class _UNetFields(ModelConfig):
    """The fields every U-Net config has (see :class:`UNetConfig`)."""

    in_channels: int = 1
    out_channels: int = 1
    _: KW_ONLY
    depth: int = 4
    width: float = 1.0
    residual_channel: int | None = None
    dropout: float = 0.5


@dataclass(frozen=True, kw_only=True)
class UNetConfig(_UNetFields):
    """The plain U-Net (:class:`ConvUNet`); the base of :class:`TFiLMUNetConfig`.

    The fields after ``out_channels`` are keyword-only. Defaults are the TFiLM paper's network
    (Section 3.2, appendix B, the reference code) without its TFiLM layers.

    Attributes
    ----------
    in_channels, out_channels : int
        Channels in (e.g. low-depth marks) and out (e.g. the one target mark); >= 1.
    depth : int
        K, the number of down (and up) blocks, >= 1.
    width : float
        Multiplier on all filter counts of :func:`unet_schedule` (> 0).
    residual_channel : int or None
        Add input channel ``residual_channel`` to every output channel (the paper's "learn
        y - x", appendix B "Skip Connections"); ``None`` = no residual.
    dropout : float
        Dropout probability in the bottleneck and up blocks.
    dilation : int
        Dilation of the block convolutions (the reference code uses 2).
    downsample : {"pool", "stride"}
        ``"pool"`` (the paper): dilated convolutions at full resolution, then MaxPool1d(2).
        ``"stride"``: the AudioUNet backbone (undilated stride-2 convolutions, no pooling), about
        half the compute per step; ``dilation`` is then ignored.
    """

    name: ClassVar[str] = "conv_unet"
    dilation: int = 2
    downsample: str = "pool"


@dataclass(frozen=True, kw_only=True)
class TFiLMUNetConfig(UNetConfig):
    """The TFiLM U-Net (:class:`TFiLMUNet`): the fields of :class:`UNetConfig` and the TFiLM layers'.

    Defaults are the TFiLM paper's audio network (Section 3.2, appendix B: 32 blocks per layer).
    As in :class:`UNetConfig`, the fields after ``out_channels`` are keyword-only.

    Attributes
    ----------
    in_channels, out_channels, depth, width, residual_channel, dropout, dilation, downsample
        As in :class:`UNetConfig`.
    n_blocks : int or None
        Blocks per TFiLM layer (the paper: 32 for audio, B = 2 for ChIP-seq). Set to 32 when
        neither ``n_blocks`` nor ``block_size`` is given.
    block_size : int or None
        Instead of ``n_blocks``: block length in input positions, a multiple of ``2**(depth+1)``.
    affine : bool
        TFiLM ``gamma * F + beta`` (paper) or ``gamma * F`` (reference code); see
        :class:`~chipsr.core.layers.TFiLM`.
    bidirectional : bool
        Bidirectional LSTMs in the TFiLM layers (TFiLM appendix C).
    pool : {"max", "mean"}
        Block summary before each TFiLM LSTM.
    gamma_offset : float
        Added to every TFiLM gamma (0: the paper; 1: identity-centred modulation, see
        :class:`~chipsr.core.layers.TFiLM`).

    Raises
    ------
    ValueError
        If both ``n_blocks`` and ``block_size`` are given.
    """

    name: ClassVar[str] = "tfilm_unet"
    n_blocks: int | None = None
    block_size: int | None = None
    affine: bool = True
    bidirectional: bool = False
    pool: str = "max"
    gamma_offset: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.n_blocks is not None and self.block_size is not None:
            raise ValueError(
                f"give at most one of n_blocks and block_size; got n_blocks={self.n_blocks}, "
                f"block_size={self.block_size}"
            )
        if self.n_blocks is None and self.block_size is None:
            object.__setattr__(self, "n_blocks", 32)


@dataclass(frozen=True, kw_only=True)
class AudioUNetConfig(_UNetFields):
    """The AudioUNet (:class:`AudioUNet`): the audio SR paper's network (Section 3.2) at its defaults.

    The fields after ``out_channels`` are keyword-only.

    Attributes
    ----------
    in_channels, out_channels, depth, width, dropout
        As in :class:`UNetConfig`.
    residual_channel : int or None
        Input channel added to the output; default 0 (the paper's input residual).
    """

    name: ClassVar[str] = "audio_unet"
    residual_channel: int | None = 0


class _UNet1d(nn.Module):
    """Shared U-Net body: K down blocks, bottleneck, K up blocks, final conv + SubPixel1d(2).

    Not registered in :func:`build_model`; use :class:`TFiLMUNet`, :class:`ConvUNet` or
    :class:`AudioUNet`. ``tfilm`` (the TFiLM U-Net's config, or None) adds a TFiLM layer after
    every down block, the bottleneck and every up block.
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
        tfilm: TFiLMUNetConfig | None,
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
            n_blocks, block_size = tfilm.n_blocks, tfilm.block_size
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
                affine=tfilm.affine,
                bidirectional=tfilm.bidirectional,
                pool=tfilm.pool,
                gamma_offset=tfilm.gamma_offset,
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
    config : TFiLMUNetConfig
        The architecture (see there for every field). ``TFiLMUNet(**fields)`` (or the channel
        counts positionally, then keywords) builds the config from its fields.

    Raises
    ------
    ValueError
        For non-positive sizes, both or an invalid ``n_blocks`` / ``block_size``, a ``block_size``
        that is not a multiple of ``2**(depth+1)``, or ``residual_channel`` outside
        ``[0, in_channels)``.
    TypeError
        A keyword that is not a field of the config, more than two positional fields, or a config
        of another class.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)`` for any ``L >= 1``.
    """

    config_class = TFiLMUNetConfig
    name = TFiLMUNetConfig.name

    def __init__(self, *args: Any, **fields: Any) -> None:
        cfg = TFiLMUNetConfig.from_args(args, fields)
        if cfg.downsample not in ("pool", "stride"):
            raise ValueError(f"downsample must be 'pool' or 'stride'; got {cfg.downsample!r}")
        super().__init__(
            cfg.in_channels,
            cfg.out_channels,
            cfg.depth,
            cfg.width,
            cfg.residual_channel,
            cfg.dropout,
            cfg.dilation,
            downsample=cfg.downsample,
            tfilm=cfg,
        )
        self.config: TFiLMUNetConfig = cfg


class ConvUNet(_UNet1d):
    """The TFiLM U-Net without its TFiLM layers (the TFiLM paper's "Conv" ablation, Table 1).

    Identical to :class:`TFiLMUNet` (dilated convolutions, max-pool down-sampling, dropout in the
    bottleneck and up blocks, symmetric skips, final Conv1d + SubPixel1d, optional residual) with
    every TFiLM layer removed. Inputs are padded on the right to a multiple of
    ``length_multiple = 2**(depth+1)`` and the output cropped back. At depth 4, width 1, one
    channel it has the 56,411,394 parameters of :class:`AudioUNet`.

    Parameters
    ----------
    config : UNetConfig
        The architecture (``downsample="stride"`` is :class:`AudioUNet`'s backbone).
        ``ConvUNet(**fields)`` builds the config from its fields.

    Raises
    ------
    ValueError
        As in :class:`TFiLMUNet`.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)``.
    """

    config_class = UNetConfig
    name = UNetConfig.name

    def __init__(self, *args: Any, **fields: Any) -> None:
        cfg = UNetConfig.from_args(args, fields)
        super().__init__(
            cfg.in_channels, cfg.out_channels, cfg.depth, cfg.width, cfg.residual_channel, cfg.dropout, cfg.dilation,
            downsample=cfg.downsample, tfilm=None,
        )
        self.config: UNetConfig = cfg


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
    config : AudioUNetConfig
        The architecture; ``residual_channel`` defaults to 0 (the paper's input residual).
        ``AudioUNet(**fields)`` builds the config from its fields.

    Raises
    ------
    ValueError
        As in :class:`TFiLMUNet`.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L)``.
    """

    config_class = AudioUNetConfig
    name = AudioUNetConfig.name

    def __init__(self, *args: Any, **fields: Any) -> None:
        cfg = AudioUNetConfig.from_args(args, fields)
        super().__init__(
            cfg.in_channels, cfg.out_channels, cfg.depth, cfg.width, cfg.residual_channel, cfg.dropout, 1,
            downsample="stride", tfilm=None,
        )
        self.config: AudioUNetConfig = cfg


for _cls in (TFiLMUNet, ConvUNet, AudioUNet, SplineUpsampler, Identity):
    register_model(_cls.name, _cls)
del _cls


