"""Input handling shared by the metrics: tensors / arrays / lists -> float64 tensors, masks, rows.

Private to :mod:`chipsr.core.metrics`. Every metric converts its inputs here, so the rules are the
same everywhere: float64 on the device of the first ``torch.Tensor`` input (CPU otherwise), shapes
compared with both names in the message, masks of bool or 0/1 broadcast to the data shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

ArrayLike = Any  # torch.Tensor | np.ndarray | nested sequences of numbers


def _device_of(*arrays) -> torch.device:
    for a in arrays:
        if isinstance(a, torch.Tensor):
            return a.device
    return torch.device("cpu")


def _to_f64(a: ArrayLike, device: torch.device) -> torch.Tensor:
    """Detached float64 tensor on ``device`` (may share memory with ``a``: never modify it)."""
    if isinstance(a, torch.Tensor):
        return a.detach().to(device=device, dtype=torch.float64)
    return torch.as_tensor(np.asarray(a, dtype=np.float64), device=device)


def _to_mask(mask: ArrayLike, shape: torch.Size, device: torch.device, name: str = "mask") -> torch.Tensor:
    """Boolean mask broadcast to ``shape``; entries must be bool or 0/1."""
    if isinstance(mask, torch.Tensor):
        m = mask.detach().to(device)
    else:
        m = torch.as_tensor(np.asarray(mask), device=device)
    if m.dtype != torch.bool:
        if m.is_floating_point() and bool(torch.isnan(m).any()):
            raise ValueError(f"{name} must hold only 0/1 or True/False; got NaN")
        bad = (m != 0) & (m != 1)
        if bool(bad.any()):
            value = m[bad].flatten()[0].item()
            raise ValueError(f"{name} must hold only 0/1 or True/False; got value {value!r}")
        m = m != 0
    try:
        return torch.broadcast_to(m, shape)
    except RuntimeError:
        raise ValueError(
            f"{name} of shape {tuple(m.shape)} does not broadcast to the data shape {tuple(shape)}"
        ) from None


def _pair(
    x: ArrayLike, y: ArrayLike, names: tuple[str, str] = ("x", "y")
) -> tuple[torch.Tensor, torch.Tensor]:
    device = _device_of(x, y)
    xt, yt = _to_f64(x, device), _to_f64(y, device)
    if xt.shape != yt.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape; "
            f"got {names[0]}.shape={tuple(xt.shape)}, {names[1]}.shape={tuple(yt.shape)}"
        )
    return xt, yt


def _valid_pairs(x: torch.Tensor, y: torch.Tensor, mask: ArrayLike | None) -> torch.Tensor:
    valid = ~(torch.isnan(x) | torch.isnan(y))
    if mask is not None:
        valid = valid & _to_mask(mask, x.shape, x.device)
    return valid


def _check_dim(dim: int, ndim: int) -> int:
    if ndim == 0:
        raise ValueError("dim was given but the inputs are 0-dimensional (scalars)")
    if not -ndim <= dim < ndim:
        raise ValueError(f"dim={dim} is out of range for inputs with {ndim} dimensions")
    return dim % ndim


def _as_rows(x, y, valid, dim):
    """Return (x, y, valid) as 2-D (rows, L) views plus the output shape; dim=None -> 1 row."""
    if dim is None:
        return x.reshape(1, -1), y.reshape(1, -1), valid.reshape(1, -1), None
    d = _check_dim(dim, x.ndim)
    out_shape = x.shape[:d] + x.shape[d + 1 :]
    mv = lambda t: t.movedim(d, -1).reshape(-1, x.shape[d])  # noqa: E731
    return mv(x), mv(y), mv(valid), out_shape


def _finish(values: torch.Tensor, out_shape) -> float | torch.Tensor:
    if out_shape is None:
        return float(values[0])
    return values.reshape(out_shape)
