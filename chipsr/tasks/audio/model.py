"""Audio super-resolution networks: one builder for the three architectures of the papers.

- ``tfilm``: the TFiLM U-Net (Birnbaum et al. 2019, "Temporal FiLM: Capturing Long-Range Sequence
  Dependencies with Feature-Wise Modulations", doi:10.48550/arXiv.1909.06628);
- ``audiounet``: the AudioUNet (Kuleshov, Enam, Ermon 2017, "Audio Super Resolution using Neural
  Networks", doi:10.48550/arXiv.1708.00853);
- ``dnn``: the dense STFT baseline of the audio SR papers' comparisons (K. Li, Z. Huang, Y. Xu,
  C.-H. Lee 2015, "DNN-based speech bandwidth expansion and its application to adding
  high-frequency missing features for automatic speech recognition of narrowband speech",
  Interspeech 2015).

Every network maps the spline input ``(N, 1, L)`` to the high-res estimate ``(N, 1, L)``. The two
U-Nets are the shared ones of :mod:`chipsr.core.models`; the DNN baseline (:class:`DNNBaseline`,
config :class:`DNNConfig`) is defined here and registered in the core model registry as
``"dnn_baseline"`` when this module is imported, so a process that rebuilds one from a checkpoint
imports this module first (:func:`model_from_checkpoint`, re-exported here, is the core one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from chipsr.core.models import (
    AudioUNetConfig,
    ModelConfig,
    TFiLMUNetConfig,
    build_model,
    model_from_checkpoint,
    register_model,
)
from chipsr.errors import ChipsrInputError

__all__ = ["ARCHS", "DNNConfig", "DNNBaseline", "build_audio_model", "model_from_checkpoint"]

#: the architectures :func:`build_audio_model` builds
ARCHS = ("tfilm", "audiounet", "dnn")


@dataclass(frozen=True)
class DNNConfig(ModelConfig):
    """The dense spectral baseline (:class:`DNNBaseline`); defaults are the papers' (3 x 2048 units).

    Attributes
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
    """

    name: ClassVar[str] = "dnn_baseline"
    in_channels: int = 1
    n_fft: int = 512
    hop_length: int = 128
    hidden: int = 2048
    n_layers: int = 3
    phase_channel: int = 0
    residual: bool = False
    keep_bins: int = 0


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
    config : DNNConfig
        The sizes (see there); ``DNNBaseline(in_channels, n_fft=..., ...)`` builds the config from
        its fields.

    Raises
    ------
    ValueError
        For sizes out of range, or at call time an input of length ``<= n_fft // 2`` or with the
        wrong number of channels.
    TypeError
        A keyword that is not a field of :class:`DNNConfig`, or a config of another class.

    Shape
    -----
    ``(N, in_channels, L) -> (N, 1, L)``.
    """

    config_class = DNNConfig
    name = DNNConfig.name

    def __init__(self, *args: Any, **fields: Any) -> None:
        super().__init__()
        cfg = DNNConfig.from_args(args, fields)
        in_channels, n_fft, hop_length, hidden = cfg.in_channels, cfg.n_fft, cfg.hop_length, cfg.hidden
        n_layers, phase_channel, residual, keep_bins = cfg.n_layers, cfg.phase_channel, cfg.residual, cfg.keep_bins
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
        self.residual, self.keep_bins = residual, keep_bins
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
        self.config: DNNConfig = cfg

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


register_model(DNNBaseline.name, DNNBaseline)  # checkpoints of it load through build_model



def build_audio_model(arch: str, width: float, depth: int, blocks: int, patch: int, backbone: str,
                      dropout: float, affine: bool = True, ratio: int = 4, lowres: str = "decimate"):
    """The network for ``arch`` (1 channel in = the spline input, 1 out; residual on the input).

    - ``tfilm``: :class:`chipsr.core.models.TFiLMUNet` with TFiLM blocks of ``patch / blocks``
      samples (32 blocks per 8192-sample patch, the paper's audio setting) so any file length
      works; ``backbone="pool"`` = the paper's dilated convs + max-pool, ``"stride"`` = the
      AudioUNet's strided convs (cheaper per step).
    - ``audiounet``: :class:`chipsr.core.models.AudioUNet` (Kuleshov et al. 2017).
    - ``dnn``: :class:`DNNBaseline` (Li et al. 2015): log-magnitude STFT
      frames (n_fft 512) through a dense net (3 x 2048), the input's phase reused; as in Li et al.
      the bins below the low-res pass-band edge (0.8 x the low-res Nyquist for ``decimate``, the
      Nyquist for ``aliased``) pass through and a log-magnitude correction is learned above.

    Raises
    ------
    ChipsrInputError
        An unknown ``arch``, or ``blocks`` that does not divide ``patch`` (``tfilm``).
    ValueError
        Sizes the network rejects.
    """
    cfg: ModelConfig
    if arch == "tfilm":
        if patch % blocks:
            raise ChipsrInputError(f"--blocks {blocks} must divide the patch length {patch}")
        cfg = TFiLMUNetConfig(1, 1, depth=depth, block_size=patch // blocks, width=width, residual_channel=0,
                              dropout=dropout, affine=affine, downsample=backbone)
    elif arch == "audiounet":
        cfg = AudioUNetConfig(1, 1, depth=depth, width=width, dropout=dropout, residual_channel=0)
    elif arch == "dnn":
        edge = 256 / ratio * (0.8 if lowres == "decimate" else 1.0)
        cfg = DNNConfig(1, n_fft=512, hop_length=128, residual=True, keep_bins=int(edge))
    else:
        raise ChipsrInputError(f"unknown --arch {arch!r}; expected one of {', '.join(ARCHS)}")
    return build_model(cfg)
