"""Device selection: CUDA, then Apple MPS, then CPU (never a hard-coded ``"cuda"`` default)."""

from __future__ import annotations

import torch


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """Return the device to run on.

    Parameters
    ----------
    device : str, torch.device or None
        ``None`` picks CUDA if available, then MPS, then CPU; a string such as ``"cpu"``,
        ``"cuda"`` or ``"cuda:1"`` is used as given.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If a CUDA/MPS device is requested but not available.
    """
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} requested but MPS is not available")
    return dev
