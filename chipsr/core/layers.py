"""Layers and blocks of the TFiLM networks (torch only; tensors in, tensors out).

Everything here is channels-first: a batch of series is a tensor of shape ``(N, C, L)`` (batch,
channels, length in samples or bins). The reference TensorFlow code of the papers is channels-last
``(N, L, C)``; the formulas below are the same ones with the two axes swapped.

Contents
--------
- :class:`TFiLM` -- temporal feature-wise linear modulation, a.k.a. temporal adaptive
  normalization (TFiLM paper, Algorithm 1 and Section 3.1; max pooling from Appendix B;
  bidirectional variant from Appendix C).
- :class:`SubPixel1d` -- one-dimensional sub-pixel shuffling (audio SR paper, Section 3.2;
  TFiLM appendix B).
- :class:`DownBlock`, :class:`UpBlock` -- the down-sampling and up-sampling blocks of the U-Nets
  (TFiLM paper Section 3.2 / Appendix B; audio SR paper Section 3.2).

References
----------
- TFiLM paper: S. Birnbaum, V. Kuleshov, Z. Enam, P. W. Koh, S. Ermon, "Temporal FiLM: Capturing
  Long-Range Sequence Dependencies with Feature-Wise Modulations", NeurIPS 2019, arXiv:1909.06628
  (doi:10.48550/arXiv.1909.06628). Section and algorithm numbers are those of its earlier version,
  "Time Series Super Resolution with Temporal Adaptive Batch Normalization"; appendix letters are those
  of the NeurIPS supplement (B: model details, C: bidirectional RNN).
- Audio SR paper: V. Kuleshov, S. Z. Enam, S. Ermon, "Audio Super-Resolution Using Neural Nets", ICLR
  2017 workshop track, arXiv:1708.00853 (doi:10.48550/arXiv.1708.00853).
- Reference code: the authors' TensorFlow implementation, GitHub ``kuleshov/audio-super-res``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TFiLM", "SubPixel1d", "DownBlock", "UpBlock", "same_padding"]


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Zero padding on each side that keeps the length of a stride-1 convolution.

    Parameters
    ----------
    kernel_size : int
        Kernel length in positions; must be odd and >= 1.
    dilation : int
        Dilation of the kernel; must be >= 1.

    Returns
    -------
    int
        ``dilation * (kernel_size - 1) // 2``.

    Raises
    ------
    ValueError
        If ``kernel_size`` is even or < 1, or ``dilation`` < 1.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and >= 1 for 'same' padding; got {kernel_size}")
    if dilation < 1:
        raise ValueError(f"dilation must be >= 1; got {dilation}")
    return dilation * (kernel_size - 1) // 2


class TFiLM(nn.Module):
    """Temporal feature-wise linear modulation (TFiLM / temporal adaptive normalization).

    Splits the length axis into blocks, summarises each block by pooling over its positions,
    runs an LSTM over the sequence of block summaries (initial state ``h_0 = c_0 = 0``) and
    uses the LSTM output of block ``b`` to modulate every position of block ``b``:

    - ``affine=True`` (the paper, Algorithm 1 step 3): ``F'[n, c, l] = gamma[n, c, b] * F[n, c, l]
      + beta[n, c, b]``; the LSTM has ``2 * channels`` hidden units and its output is split into
      ``gamma`` (first ``channels`` units) and ``beta`` (last ``channels`` units).
    - ``affine=False`` (the reference code): ``F'[n, c, l] = h[n, c, b] * F[n, c, l]`` with an LSTM
      of ``channels`` hidden units, i.e. ``gamma`` is the LSTM output and there is no ``beta``.

    where ``b = l // block_length``. Since the LSTM output is ``o * tanh(c)``, ``gamma`` and
    ``beta`` lie in (-1, 1) unless ``bidirectional=True``. A unidirectional LSTM makes ``gamma_b``,
    ``beta_b`` depend on blocks ``0..b`` only (causal over blocks).

    Sources: TFiLM paper Algorithm 1 and Section 3.1; max pooling of each block before the
    LSTM from its appendix B, "Max Pooling"; the bidirectional LSTM ablation from appendix C.

    Parameters
    ----------
    channels : int
        Number of channels ``C`` of the activations (also the LSTM input size).
    n_blocks : int, optional
        Number of blocks the length is split into (the same for every input length). Exactly one
        of ``n_blocks`` and ``block_size`` must be given.
    block_size : int, optional
        Block length in positions; the number of blocks is then ``L // block_size``.
    affine : bool
        ``True``: ``gamma * F + beta`` (the paper). ``False``: ``gamma * F`` (the reference code).
    bidirectional : bool
        Use a bidirectional LSTM (same hidden size per direction); its concatenated forward and
        backward outputs are projected back to the unidirectional size by a linear layer.
    pool : {"max", "mean"}
        How a block is summarised before the LSTM (the appendix uses max pooling).
    gamma_offset : float
        Added to ``gamma`` (default 0: the paper's form). With 1.0 the layer applies
        ``(1 + gamma) * F + beta``: it starts near the identity instead of scaling every activation
        by an LSTM output near 0, a common FiLM parametrisation (a chipsr option, not the paper's).

    Raises
    ------
    ValueError
        If ``channels`` < 1, if not exactly one of ``n_blocks`` / ``block_size`` is given or it is
        < 1, or if ``pool`` is unknown. At call time, if the length does not divide into blocks.

    Shape
    -----
    ``(N, C, L) -> (N, C, L)``; ``L`` must be a multiple of ``n_blocks`` (or of ``block_size``).

    Parameter count (``H = C`` if not affine else ``2 C``; torch's LSTM has two bias vectors):
    ``4 (H C + H^2 + 2 H)`` per direction, plus ``2 H * H + H`` for the bidirectional projection.
    """

    def __init__(
        self,
        channels: int,
        n_blocks: int | None = None,
        block_size: int | None = None,
        affine: bool = True,
        bidirectional: bool = False,
        pool: str = "max",
        gamma_offset: float = 0.0,
    ) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1; got {channels}")
        if (n_blocks is None) == (block_size is None):
            raise ValueError(
                f"give exactly one of n_blocks and block_size; got n_blocks={n_blocks}, block_size={block_size}"
            )
        if n_blocks is not None and n_blocks < 1:
            raise ValueError(f"n_blocks must be >= 1; got {n_blocks}")
        if block_size is not None and block_size < 1:
            raise ValueError(f"block_size must be >= 1; got {block_size}")
        if pool not in ("max", "mean"):
            raise ValueError(f"pool must be 'max' or 'mean'; got {pool!r}")
        self.channels = int(channels)
        self.n_blocks = None if n_blocks is None else int(n_blocks)
        self.block_size = None if block_size is None else int(block_size)
        self.affine = bool(affine)
        self.bidirectional = bool(bidirectional)
        self.pool = pool
        self.gamma_offset = float(gamma_offset)
        hidden = 2 * self.channels if self.affine else self.channels
        self.lstm = nn.LSTM(
            input_size=self.channels, hidden_size=hidden, batch_first=True, bidirectional=self.bidirectional
        )
        self.proj = nn.Linear(2 * hidden, hidden) if self.bidirectional else None

    def extra_repr(self) -> str:
        blocks = f"n_blocks={self.n_blocks}" if self.n_blocks is not None else f"block_size={self.block_size}"
        return (
            f"{self.channels}, {blocks}, affine={self.affine}, bidirectional={self.bidirectional}, pool={self.pool!r}"
        )

    def blocks_for(self, length: int) -> int:
        """Number of blocks an input of ``length`` positions is split into.

        Raises
        ------
        ValueError
            If ``length`` does not divide into whole blocks (the message names both numbers).
        """
        if self.n_blocks is not None:
            if length % self.n_blocks != 0 or length == 0:
                raise ValueError(f"length {length} is not divisible into {self.n_blocks} blocks")
            return self.n_blocks
        if length % self.block_size != 0 or length == 0:
            raise ValueError(f"length {length} is not divisible by block_size {self.block_size}")
        return length // self.block_size

    def _modulation(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        if x.dim() != 3 or x.shape[1] != self.channels:
            raise ValueError(f"expected input of shape (N, {self.channels}, L); got {tuple(x.shape)}")
        n, c, length = x.shape
        nb = self.blocks_for(length)
        blocks = x.reshape(n, c, nb, length // nb)
        summary = blocks.amax(dim=-1) if self.pool == "max" else blocks.mean(dim=-1)  # (N, C, nb)
        out = self.lstm(summary.transpose(1, 2).contiguous())[0]  # (N, nb, H * dirs)
        if self.proj is not None:
            out = self.proj(out)
        out = out.transpose(1, 2)  # (N, H, nb)
        if self.affine:
            return out[:, :c] + self.gamma_offset, out[:, c:], nb
        return out + self.gamma_offset, None, nb

    def modulation(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-block scale and shift that :meth:`forward` applies.

        Parameters
        ----------
        x : torch.Tensor, shape (N, C, L)

        Returns
        -------
        gamma, beta : torch.Tensor, each of shape (N, C, n_blocks)
            ``beta`` is all zeros when ``affine=False``.

        Raises
        ------
        ValueError
            If ``x`` is not ``(N, channels, L)`` or ``L`` does not divide into blocks.
        """
        gamma, beta, _ = self._modulation(x)
        return gamma, torch.zeros_like(gamma) if beta is None else beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Modulate ``x`` block by block.

        Parameters
        ----------
        x : torch.Tensor, shape (N, C, L)

        Returns
        -------
        torch.Tensor, shape (N, C, L)
        """
        gamma, beta, nb = self._modulation(x)
        n, c, length = x.shape
        blocks = x.reshape(n, c, nb, length // nb)
        out = blocks * gamma.unsqueeze(-1)
        if beta is not None:
            out = out + beta.unsqueeze(-1)
        return out.reshape(n, c, length)


class SubPixel1d(nn.Module):
    """One-dimensional sub-pixel shuffle: trade channels for length.

    Element order (the 1-D analogue of ``torch.nn.PixelShuffle``)::

        out[n, c, l * r + i] = x[n, c * r + i, l]     for 0 <= i < r

    i.e. the ``r`` consecutive input channels ``c*r .. c*r + r - 1`` become the ``r`` consecutive
    output samples ``l*r .. l*r + r - 1`` of output channel ``c``. (The reference TensorFlow code
    uses channel ``i * C + c`` instead; since this layer always follows a convolution the two
    orders differ only by a fixed permutation of that convolution's filters.)

    Source: audio SR paper Section 3.2 "Subpixel shuffling layer"; TFiLM paper appendix B.

    Parameters
    ----------
    r : int
        Up-sampling factor, >= 1.

    Raises
    ------
    ValueError
        If ``r`` < 1, or at call time if the channel count is not a multiple of ``r``.

    Shape
    -----
    ``(N, C * r, L) -> (N, C, L * r)``.
    """

    def __init__(self, r: int) -> None:
        super().__init__()
        if r < 1:
            raise ValueError(f"r must be >= 1; got {r}")
        self.r = int(r)

    def extra_repr(self) -> str:
        return f"r={self.r}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Shuffle ``(N, C * r, L)`` into ``(N, C, L * r)``."""
        if x.dim() != 3:
            raise ValueError(f"expected input of shape (N, C, L); got {tuple(x.shape)}")
        n, cr, length = x.shape
        if cr % self.r != 0:
            raise ValueError(f"channels {cr} are not divisible by r {self.r}")
        c = cr // self.r
        return x.reshape(n, c, self.r, length).transpose(2, 3).reshape(n, c, length * self.r)


def _activation(name: str, negative_slope: float) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    raise ValueError(f"activation must be 'relu' or 'leaky_relu'; got {name!r}")


class DownBlock(nn.Module):
    """Down-sampling block: convolution, halving of the length, dropout, activation, modulation.

    ``downsample="stride"`` (AudioUNet, audio SR paper Section 3.2)::

        Conv1d(stride 2, 'same' padding) -> Dropout -> activation -> modulation

    ``downsample="pool"`` (TFiLM network of the reference code: dilation-2 convolutions, max-pool
    down-sampling)::

        Conv1d(stride 1, dilation, 'same' padding) -> MaxPool1d(2, 2) -> Dropout -> activation
        -> modulation

    Used for the K down blocks and the bottleneck of the U-Nets (TFiLM paper Section 3.2 and
    appendix B; audio SR paper Section 3.2).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out (``out_channels`` = the number of filters).
    kernel_size : int
        Filter length in positions (odd).
    downsample : {"pool", "stride"}
        How the length is halved.
    dilation : int
        Dilation of the convolution (1 = none; the TFiLM network uses 2).
    dropout : float
        Dropout probability in [0, 1) (0 = no dropout layer).
    activation : {"leaky_relu", "relu"}
        Non-linearity; the papers' down blocks use LeakyReLU(0.2).
    negative_slope : float
        Slope of the LeakyReLU for negative inputs.
    modulation : nn.Module, optional
        A length-preserving module applied last, e.g. a :class:`TFiLM`; ``None`` = nothing.

    Raises
    ------
    ValueError
        For an even ``kernel_size``, unknown ``downsample`` / ``activation``, dropout outside [0, 1),
        or at call time an odd input length.

    Shape
    -----
    ``(N, in_channels, L) -> (N, out_channels, L / 2)``; ``L`` must be even.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        downsample: str = "pool",
        dilation: int = 1,
        dropout: float = 0.0,
        activation: str = "leaky_relu",
        negative_slope: float = 0.2,
        modulation: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if downsample not in ("pool", "stride"):
            raise ValueError(f"downsample must be 'pool' or 'stride'; got {downsample!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {dropout}")
        pad = same_padding(kernel_size, dilation)
        stride = 2 if downsample == "stride" else 1
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=pad, dilation=dilation)
        self.pool = nn.MaxPool1d(2, 2) if downsample == "pool" else None
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.act = _activation(activation, negative_slope)
        self.modulation = modulation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, L) -> (N, out_channels, L / 2)``."""
        if x.shape[-1] % 2 != 0:
            raise ValueError(f"DownBlock needs an even length; got {x.shape[-1]}")
        x = self.conv(x)
        if self.pool is not None:
            x = self.pool(x)
        if self.dropout is not None:
            x = self.dropout(x)
        x = self.act(x)
        if self.modulation is not None:
            x = self.modulation(x)
        return x


class UpBlock(nn.Module):
    """Up-sampling block with a skip connection::

        Conv1d(in -> 2 * out, dilation, 'same') -> Dropout -> activation -> SubPixel1d(2)
        -> modulation -> concatenate [this, skip] along channels

    The convolution maps ``(N, C_in, L)`` to ``(N, 2 * out_channels, L)``, the sub-pixel shuffle
    to ``(N, out_channels, 2 L)``, and the skip tensor (the matching down block's output) is
    stacked after it. Sources: audio SR paper Section 3.2; TFiLM paper Section 3.2 and
    appendix B ("Skip Connections", "Subpixel Shuffling"). The modulation (TFiLM) sits
    after the shuffle and before the concatenation, as in the reference code.

    Parameters
    ----------
    in_channels : int
        Channels of the input from the layer below.
    out_channels : int
        Channels after the sub-pixel shuffle (``nf``; the convolution has ``2 * nf`` filters).
    kernel_size : int
        Filter length (odd).
    dilation : int
        Dilation of the convolution.
    dropout : float
        Dropout probability in [0, 1).
    activation : {"relu", "leaky_relu"}
        Non-linearity (ReLU in the papers).
    negative_slope : float
        LeakyReLU slope, if used.
    modulation : nn.Module, optional
        Length-preserving module on ``(N, out_channels, 2 L)`` before the concatenation.

    Raises
    ------
    ValueError
        For bad constructor values as in :class:`DownBlock`; at call time if the skip tensor's
        batch size or length does not match ``(N, ., 2 L)``.

    Shape
    -----
    ``x (N, in_channels, L)``, ``skip (N, C_skip, 2 L)`` -> ``(N, out_channels + C_skip, 2 L)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int = 1,
        dropout: float = 0.0,
        activation: str = "relu",
        negative_slope: float = 0.2,
        modulation: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {dropout}")
        pad = same_padding(kernel_size, dilation)
        self.conv = nn.Conv1d(in_channels, 2 * out_channels, kernel_size, padding=pad, dilation=dilation)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.act = _activation(activation, negative_slope)
        self.shuffle = SubPixel1d(2)
        self.modulation = modulation

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, L)`` and ``(N, C_skip, 2 L)`` -> ``(N, out_channels + C_skip, 2 L)``."""
        if skip.shape[0] != x.shape[0] or skip.shape[-1] != 2 * x.shape[-1]:
            raise ValueError(
                f"skip of shape {tuple(skip.shape)} does not match input {tuple(x.shape)}: "
                f"need (N={x.shape[0]}, C, 2L={2 * x.shape[-1]})"
            )
        x = self.conv(x)
        if self.dropout is not None:
            x = self.dropout(x)
        x = self.shuffle(self.act(x))
        if self.modulation is not None:
            x = self.modulation(x)
        return torch.cat([x, skip], dim=1)
