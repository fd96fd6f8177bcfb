"""Non-learned baselines with the models' call interface.

Each baseline is an ``nn.Module`` without parameters: call it on a ``(N, C, L)`` tensor like any
model. Like every model it is built from a config dataclass (:class:`SplineConfig`,
:class:`IdentityConfig`), kept as ``model.config``, that :func:`chipsr.core.models.build_model`
rebuilds (names ``"spline"`` and ``"identity"``). They have an empty ``state_dict`` and ignore ``train()`` /
``eval()``; gradients do not flow through :class:`SplineUpsampler` (it runs in numpy/scipy).

- :class:`SplineUpsampler` -- cubic B-spline interpolation of a low-rate signal onto the
  high-rate grid: the "Spline" baseline and the input pre-processing of the audio SR papers
  (Kuleshov, Enam & Ermon, "Audio Super-Resolution Using Neural Nets", 2017, arXiv:1708.00853,
  Section 4; the TFiLM paper, Birnbaum et al., NeurIPS 2019, arXiv:1909.06628, Section 4.1).
- :class:`Identity` -- the noisy / low-depth input itself (TFiLM paper Table 2, "input").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from chipsr.core.registry import ModelConfig

__all__ = ["SplineConfig", "SplineUpsampler", "IdentityConfig", "Identity"]


@dataclass(frozen=True)
class SplineConfig(ModelConfig):
    """The cubic B-spline baseline (:class:`SplineUpsampler`).

    Attributes
    ----------
    ratio : int
        Up-sampling factor r >= 1 (1 returns a copy of the input); no default.
    """

    name: ClassVar[str] = "spline"
    ratio: int


@dataclass(frozen=True)
class IdentityConfig(ModelConfig):
    """The noisy-input baseline (:class:`Identity`).

    Attributes
    ----------
    channel : int
        Index of the input channel to return (>= 0).
    """

    name: ClassVar[str] = "identity"
    channel: int = 0


class SplineUpsampler(nn.Module):
    """Cubic B-spline up-sampling by an integer ratio, per channel.

    Grid alignment: low-rate sample ``j`` sits at high-rate position ``j * ratio`` (the low-rate
    signal is ``x_high[..., ::ratio]``). An interpolating cubic spline through the points
    ``(j * ratio, x[j])``, ``j = 0..L_low-1`` (``scipy.interpolate.splrep(t, x, k=3, s=0)``, i.e.
    not-a-knot end conditions) is evaluated (``splev``) at ``0, 1, ..., L_low * ratio - 1``; the last
    ``ratio - 1`` positions lie beyond the last knot and are extrapolated by the end polynomial.
    Computed in float64 with scipy (imported lazily); the result is cast back to the input's dtype
    and device. No gradient flows through it.

    Parameters
    ----------
    config : SplineConfig
        The up-sampling ratio; ``SplineUpsampler(ratio)`` builds the config.

    Raises
    ------
    ValueError
        If ``ratio`` < 1, or (for ``ratio`` > 1) the input is not 3-D or has fewer than 4 samples
        (a cubic spline needs at least k + 1 = 4 points).
    ImportError
        If scipy is not installed.

    Shape
    -----
    ``(N, C, L_low) -> (N, C, L_low * ratio)``.
    """

    config_class = SplineConfig
    name = SplineConfig.name

    def __init__(self, *args: Any, **fields: Any) -> None:
        super().__init__()
        cfg = SplineConfig.from_args(args, fields)
        if cfg.ratio < 1:
            raise ValueError(f"ratio must be >= 1; got {cfg.ratio}")
        self.ratio = cfg.ratio
        self.config: SplineConfig = cfg

    def extra_repr(self) -> str:
        return f"ratio={self.ratio}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, L_low) -> (N, C, L_low * ratio)``."""
        if x.dim() != 3:
            raise ValueError(f"expected input of shape (N, C, L); got {tuple(x.shape)}")
        if self.ratio == 1:
            return x.detach().clone()
        n, c, length = x.shape
        if length < 4:
            raise ValueError(f"cubic spline needs at least 4 samples; got length {length}")
        import numpy as np
        from scipy.interpolate import splev, splrep

        r = self.ratio
        lo = x.detach().to("cpu", torch.float64).numpy().reshape(n * c, length)
        t_low = np.arange(length, dtype=np.float64) * r
        t_high = np.arange(length * r, dtype=np.float64)
        out = np.empty((n * c, length * r), dtype=np.float64)
        for i in range(n * c):
            out[i] = splev(t_high, splrep(t_low, lo[i], k=3, s=0))
        return torch.from_numpy(out.reshape(n, c, length * r)).to(device=x.device, dtype=x.dtype)


class Identity(nn.Module):
    """The "noisy input" baseline: returns one input channel unchanged.

    TFiLM paper Section 4.2, Table 2 ("input"): the low-depth track of the target mark scored
    against the high-depth one.

    Parameters
    ----------
    config : IdentityConfig
        The channel to return; ``Identity(channel)`` builds the config.

    Raises
    ------
    ValueError
        If ``channel`` < 0, or at call time ``channel`` >= the number of input channels.

    Shape
    -----
    ``(N, C, L) -> (N, 1, L)``.
    """

    config_class = IdentityConfig
    name = IdentityConfig.name

    def __init__(self, *args: Any, **fields: Any) -> None:
        super().__init__()
        cfg = IdentityConfig.from_args(args, fields)
        if cfg.channel < 0:
            raise ValueError(f"channel must be >= 0; got {cfg.channel}")
        self.channel = cfg.channel
        self.config: IdentityConfig = cfg

    def extra_repr(self) -> str:
        return f"channel={self.channel}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, L) -> (N, 1, L)``: ``x[:, channel:channel + 1]``."""
        if x.dim() != 3 or not self.channel < x.shape[1]:
            raise ValueError(f"channel {self.channel} is not in an input of shape {tuple(x.shape)}")
        return x[:, self.channel : self.channel + 1]
