"""Audio super-resolution data: low-res signals, model inputs and training patches.

The task of the audio super-resolution papers (Kuleshov, Enam, Ermon 2017, "Audio Super Resolution
using Neural Networks", doi:10.48550/arXiv.1708.00853; Birnbaum et al. 2019, "Temporal FiLM:
Capturing Long-Range Sequence Dependencies with Feature-Wise Modulations",
doi:10.48550/arXiv.1909.06628, Section 4.1):

- high-res = the recording at the target rate (16 kHz by default);
- low-res = high-res low-passed by an order-8 Chebyshev type I IIR filter (zero-phase) and
  decimated by the upsampling ratio r (``scipy.signal.decimate``, mode ``"decimate"``), or plain
  subsampling ``x[::r]`` (mode ``"aliased"``, what the reference multi-speaker recipe did);
- model input = the cubic B-spline upsampling of low-res onto the high-res grid; the networks add
  a residual to it;
- patches of 8192 high-res samples, stride 4096; validation split by speaker, never by patch.

Signals are 1-D float32 arrays ``(L,)`` of samples in [-1, 1]; rates are in Hz.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from chipsr.errors import ChipsrInputError
from chipsr.io import audio as aio

log = logging.getLogger(__name__)

#: how the low-res signal is made from the high-res one (:func:`make_lowres`)
LOWRES_MODES = ("decimate", "aliased")
#: the ``task`` tag of an audio super-resolution checkpoint's metadata
TASK = "audio_super_resolution"


def check_lowres(mode: str) -> str:
    """``mode`` if it is one of :data:`LOWRES_MODES`.

    Raises
    ------
    ChipsrInputError
        Otherwise, naming ``--lowres``.
    """
    if mode not in LOWRES_MODES:
        raise ChipsrInputError(f"--lowres {mode!r}: expected one of {', '.join(LOWRES_MODES)}")
    return mode


def make_lowres(x: np.ndarray, ratio: int, mode: str = "decimate") -> np.ndarray:
    """The low-res version of a high-res signal.

    Parameters
    ----------
    x : np.ndarray, shape (L,)
        High-res samples; L should be a multiple of ``ratio`` (the low-res has ``ceil(L / r)``).
    ratio : int
        Upsampling ratio r >= 2.
    mode : {"decimate", "aliased"}
        ``"decimate"``: ``scipy.signal.decimate(x, r)`` = order-8 Chebyshev type I low-pass
        (cut-off 0.8 x the low-res Nyquist), zero-phase, then every r-th sample (audio SR paper
        Section 4). ``"aliased"``: ``x[::r]`` with no filter.

    Returns
    -------
    np.ndarray, float32, shape (ceil(L / r),); low-res sample j sits at high-res position j*r.

    Raises
    ------
    ValueError
        For an unknown mode or ratio < 2.
    """
    if ratio < 2:
        raise ValueError(f"ratio must be >= 2; got {ratio}")
    x = np.asarray(x, dtype=np.float64)
    if mode == "decimate":
        from scipy.signal import decimate

        return decimate(x, ratio, n=8, ftype="iir", zero_phase=True).astype(np.float32)
    if mode == "aliased":
        return x[::ratio].astype(np.float32)
    raise ValueError(f"low-res mode {mode!r}: expected one of {', '.join(LOWRES_MODES)}")


def spline_upsample(lowres: np.ndarray, ratio: int) -> np.ndarray:
    """Cubic B-spline interpolation of ``lowres`` (L_low,) onto the high-res grid (L_low * r,).

    ``scipy.interpolate.splrep`` (k = 3, s = 0) through ``(j * r, lowres[j])`` evaluated at every
    high-res position (the last r - 1 are extrapolated): the "Spline" baseline and the model
    input of the audio SR papers.

    Raises
    ------
    ValueError
        If fewer than 4 low-res samples are given.
    """
    from scipy.interpolate import splev, splrep

    lowres = np.asarray(lowres, dtype=np.float64)
    n = lowres.shape[0]
    if n < 4:
        raise ValueError(f"cubic spline needs at least 4 low-res samples; got {n}")
    t_low = np.arange(n, dtype=np.float64) * ratio
    return splev(np.arange(n * ratio, dtype=np.float64), splrep(t_low, lowres, k=3, s=0)).astype(np.float32)


def load_mono(path: Path, rate: int) -> np.ndarray:
    """A file as a mono float32 signal at ``rate`` Hz (channels averaged; soxr resampling).

    Raises
    ------
    ChipsrInputError
        Unreadable file, NaN samples, or a file whose rate is below ``rate`` (it cannot be a
        high-res reference).
    """
    data, sr = aio.read_audio(path)
    if sr < rate:
        raise ChipsrInputError(f"{path}: sample rate {sr} Hz is below the high-res rate {rate} Hz; "
                               "it cannot serve as a high-res target")
    x = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    return aio.resample(x, sr, rate).astype(np.float32)


def make_pair(hr: np.ndarray, ratio: int, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spline input, high-res target, low-res) for a high-res signal trimmed to a multiple of r."""
    hr = hr[: len(hr) // ratio * ratio]
    lr = make_lowres(hr, ratio, mode)
    return spline_upsample(lr, ratio), hr, lr


# --------------------------------------------------------------------------------------------
# training patches
# --------------------------------------------------------------------------------------------
class PatchDataset(torch.utils.data.Dataset):
    """Patches (input, target) of shape ((1, patch), (1, patch)) cut from whole recordings.

    The signals are stored once (concatenated float32 arrays); patches are views at
    ``stride``-spaced starts within each file (patches never cross files). Files shorter than one
    patch contribute nothing.
    """

    def __init__(self, inputs: Sequence[np.ndarray], targets: Sequence[np.ndarray], patch: int, stride: int):
        self.patch = patch
        starts, offset = [], 0
        for x in inputs:
            if len(x) >= patch:
                starts.extend(offset + s for s in range(0, len(x) - patch + 1, stride))
            offset += len(x)
        self.x = torch.from_numpy(np.concatenate(inputs)) if inputs else torch.zeros(0)
        self.y = torch.from_numpy(np.concatenate(targets)) if targets else torch.zeros(0)
        self.starts = np.asarray(starts, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int):
        s = int(self.starts[i])
        return self.x[None, s : s + self.patch], self.y[None, s : s + self.patch]


def build_patches(files: Sequence[Path], ratio: int, rate: int, mode: str, patch: int, stride: int) -> PatchDataset:
    """Read ``files``, make (spline input, target) pairs and cut patches. Short files are skipped
    with a warning; unreadable files raise :class:`ChipsrInputError`."""
    inputs, targets = [], []
    for f in files:
        hr = load_mono(f, rate)
        if len(hr) < patch:
            log.warning("%s: %d samples at %d Hz is shorter than one patch (%d); skipped", f, len(hr), rate, patch)
            continue
        x, y, _ = make_pair(hr, ratio, mode)
        inputs.append(x)
        targets.append(y)
    return PatchDataset(inputs, targets, patch, stride)
