"""Evaluation metrics for the three tasks: track correlation, audio SNR / LSD, imputation error.

Pure functions: they accept ``torch.Tensor`` or ``numpy.ndarray`` (or nested lists), compute in
float64 on the inputs' device, and return a Python ``float`` for a full reduction or a float64
``torch.Tensor`` when a per-row / per-example result is asked for (``dim=...``,
``reduction="none"``, :func:`snr_db`). Nothing here reads files, logs or prints.

Conventions, with their sources (full citations below and in the README's References):

* ChIP-seq tracks (TFiLM paper, Birnbaum et al. 2019, Section 4.2; Coda, Koh et al. 2017;
  AtacWorks, Lal et al. 2021): :func:`pearson_r`, :func:`spearman_r`, :func:`mse`, all
  NaN-aware (a pair is dropped when either side is NaN) and mask-aware (e.g. inside / outside
  peaks, blacklist excluded).
* Audio super-resolution (Kuleshov et al. 2017): :func:`snr_db`, :func:`mean_snr_db`,
  :func:`lsd` (the modern log10 convention used by NVSR / AP-BWE, or the same recipe in natural
  log), and :func:`lsd_audio_super_res`, an exact port of the reference code
  ``kuleshov/audio-super-res`` ``compute_log_distortion`` (which differs from the paper's
  formula in more than the log base).
* Imputation (PyPOTS / SAITS / BRITS conventions): :func:`masked_mae`, :func:`masked_mse`,
  :func:`masked_rmse`, :func:`masked_mre` on the artificially hidden entries; and
  :func:`l2_distance`, the TFiLM paper's "L2 distance" (Appendix H, Table 10).

References: the TFiLM paper (Birnbaum et al., NeurIPS 2019, arXiv:1909.06628); Koh, Pierson &
Kundaje 2017 (Bioinformatics, doi:10.1093/bioinformatics/btx243); Lal et al., "Deep learning-based
enhancement of epigenomics data with AtacWorks", Nature Communications 12:1507, 2021
(doi:10.1038/s41467-021-21765-5); Kuleshov, Enam & Ermon, "Audio Super-Resolution Using Neural Nets",
2017 (arXiv:1708.00853; reference code GitHub ``kuleshov/audio-super-res``); Du, Côté & Liu, "SAITS:
Self-Attention-based Imputation for Time Series", 2023 (doi:10.1016/j.eswa.2023.119619); Cao et al.,
"BRITS: Bidirectional Recurrent Imputation for Time Series", NeurIPS 2018 (arXiv:1805.10572).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

__all__ = [
    "pearson_r",
    "spearman_r",
    "mse",
    "snr_db",
    "mean_snr_db",
    "lsd",
    "lsd_audio_super_res",
    "masked_mae",
    "masked_mse",
    "masked_rmse",
    "masked_mre",
    "l2_distance",
]

#: Power floor of the modern LSD convention (``clamp(min=1e-8)`` on ``|STFT|**2``).
LSD_FLOOR = 1e-8
_LOGS = {"log10": torch.log10, "ln": torch.log}

ArrayLike = Any  # torch.Tensor | np.ndarray | nested sequences of numbers


# ----------------------------------------------------------------------------------------------
# input helpers


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


# ----------------------------------------------------------------------------------------------
# correlation and squared error (ChIP-seq tracks)


def _pearson_rows(x: torch.Tensor, y: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Pearson r of each row of (R, L) float64 arrays over the ``valid`` entries; NaN when a row
    has < 2 valid pairs or a side is constant on them."""
    n = valid.sum(dim=-1)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    xv, yv = torch.where(valid, x, zero), torch.where(valid, y, zero)
    nf = n.clamp(min=1).to(x.dtype)
    mx = xv.sum(-1, keepdim=True) / nf[:, None]
    my = yv.sum(-1, keepdim=True) / nf[:, None]
    dx = torch.where(valid, x - mx, zero)
    dy = torch.where(valid, y - my, zero)
    sxy, sxx, syy = (dx * dy).sum(-1), (dx * dx).sum(-1), (dy * dy).sum(-1)
    r = (sxy / (torch.sqrt(sxx) * torch.sqrt(syy))).clamp(-1.0, 1.0)
    # constant detection on the raw values: centring a constant in floating point can leave
    # rounding noise whose "correlation" is meaningless.
    inf = torch.tensor(math.inf, dtype=x.dtype, device=x.device)
    x_const = torch.where(valid, x, -inf).amax(-1) == torch.where(valid, x, inf).amin(-1)
    y_const = torch.where(valid, y, -inf).amax(-1) == torch.where(valid, y, inf).amin(-1)
    undefined = (n < 2) | x_const | y_const
    return torch.where(undefined, torch.full_like(r, math.nan), r)


def _average_ranks_rows(v: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Average ranks (1-based; ties get the mean of their positions) of each row's valid entries.

    Invalid entries become NaN, which ``torch.sort`` places after every number (+inf included) and
    which never equals anything, so they neither share nor shift the ranks of valid entries.
    """
    v = torch.where(valid, v, torch.full_like(v, math.nan))
    n_rows, length = v.shape
    sorted_v, order = torch.sort(v, dim=-1, stable=True)
    new_group = torch.ones_like(sorted_v, dtype=torch.bool)
    new_group[:, 1:] = sorted_v[:, 1:] != sorted_v[:, :-1]
    group = torch.cumsum(new_group.to(torch.int64), dim=-1) - 1
    pos = torch.arange(1, length + 1, dtype=v.dtype, device=v.device).expand(n_rows, length)
    pos_sum = torch.zeros_like(v).scatter_add_(-1, group, pos)
    count = torch.zeros_like(v).scatter_add_(-1, group, torch.ones_like(v))
    rank_sorted = (pos_sum / count.clamp(min=1)).gather(-1, group)
    return torch.empty_like(v).scatter_(-1, order, rank_sorted)


def pearson_r(
    x: ArrayLike, y: ArrayLike, mask: ArrayLike | None = None, dim: int | None = None
) -> float | torch.Tensor:
    """Pearson correlation coefficient, NaN- and mask-aware.

    r = sum((x - mean x)(y - mean y)) / sqrt(sum((x - mean x)^2) sum((y - mean y)^2)), over the
    pairs where neither ``x`` nor ``y`` is NaN and ``mask`` is True. This is the metric of the TFiLM
    paper's ChIP-seq experiment (Birnbaum et al. 2019, Section 4.2, Table 2) and of Coda
    (Koh et al. 2017) and AtacWorks (Lal et al. 2021), which also report it inside / outside peaks
    (pass the peak mask or its complement).

    Parameters
    ----------
    x, y : torch.Tensor or numpy.ndarray, shape (...) (the same shape, e.g. (L,) or (N, L))
        Two tracks, e.g. predicted and high-depth signal per bin (any units: r is scale-free).
    mask : array of bool or 0/1, broadcastable to ``x.shape``, optional
        True / 1 = use this position (e.g. non-blacklisted bins, bins inside peaks).
    dim : int, optional
        ``None`` (default): one r over all valid pairs of the flattened arrays. An int (e.g. -1):
        one r per slice along ``dim`` (e.g. per row of an (N, L) array).

    Returns
    -------
    float or torch.Tensor
        ``float`` in [-1, 1] when ``dim`` is None; otherwise a float64 tensor of ``x.shape``
        without ``dim`` (e.g. (N,)). NaN (not an exception) where fewer than 2 valid pairs remain
        or either side is constant on them (r is undefined there).

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape (both shapes are named), ``mask`` does not broadcast or
        holds values other than 0/1, or ``dim`` is out of range.
    """
    xt, yt = _pair(x, y)
    valid = _valid_pairs(xt, yt, mask)
    xr, yr, vr, out_shape = _as_rows(xt, yt, valid, dim)
    return _finish(_pearson_rows(xr, yr, vr), out_shape)


def spearman_r(
    x: ArrayLike, y: ArrayLike, mask: ArrayLike | None = None, dim: int | None = None
) -> float | torch.Tensor:
    """Spearman rank correlation: Pearson r of the average ranks, NaN- and mask-aware.

    Pairs where either side is NaN or ``mask`` is False are dropped first; the remaining values
    of each side are ranked 1..n, tied values getting the mean of the ranks they span (the
    "average" method of ``scipy.stats.rankdata`` and ``pandas.Series.rank``); r is the Pearson
    correlation of the two rank vectors (Spearman 1904; the definition AtacWorks, Lal et al. 2021,
    reports beside Pearson r for denoised tracks).

    Parameters
    ----------
    x, y : torch.Tensor or numpy.ndarray, shape (...) (the same shape, e.g. (L,) or (N, L))
        Two tracks (any units).
    mask : array of bool or 0/1, broadcastable to ``x.shape``, optional
        True / 1 = use this position.
    dim : int, optional
        ``None`` (default): one coefficient over the flattened arrays; an int: one per slice
        along ``dim`` (ranks are taken within each slice).

    Returns
    -------
    float or torch.Tensor
        ``float`` in [-1, 1] when ``dim`` is None, else a float64 tensor of ``x.shape`` without
        ``dim``. NaN where fewer than 2 valid pairs remain or a side is constant on them.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape (both named), ``mask`` is malformed, or ``dim`` is out
        of range.
    """
    xt, yt = _pair(x, y)
    valid = _valid_pairs(xt, yt, mask)
    xr, yr, vr, out_shape = _as_rows(xt, yt, valid, dim)
    rx, ry = _average_ranks_rows(xr, vr), _average_ranks_rows(yr, vr)
    return _finish(_pearson_rows(rx, ry, vr), out_shape)


def mse(
    x: ArrayLike, y: ArrayLike, mask: ArrayLike | None = None, dim: int | None = None
) -> float | torch.Tensor:
    """Mean squared error over the valid pairs (same pair rule as :func:`pearson_r`).

    MSE = mean((x - y)^2) over the pairs where neither side is NaN and ``mask`` is True, so that
    MSE and r of a track are computed on the same bins (Coda, Koh et al. 2017, reports both over
    all bins and inside peaks). For imputation, where a NaN inside the evaluated set must *not* be
    skipped, use :func:`masked_mse`.

    Parameters
    ----------
    x, y : torch.Tensor or numpy.ndarray, shape (...) (the same shape)
        Prediction and target, in the same units.
    mask : array of bool or 0/1, broadcastable to ``x.shape``, optional
        True / 1 = use this position.
    dim : int, optional
        ``None``: one value over everything; an int: one value per slice along ``dim``.

    Returns
    -------
    float or torch.Tensor
        In squared units of the inputs; NaN where no valid pair remains.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape (both named), ``mask`` is malformed, or ``dim`` is out
        of range.
    """
    xt, yt = _pair(x, y)
    valid = _valid_pairs(xt, yt, mask)
    xr, yr, vr, out_shape = _as_rows(xt, yt, valid, dim)
    sq = torch.where(vr, (xr - yr) ** 2, torch.zeros((), dtype=xr.dtype, device=xr.device))
    return _finish(sq.sum(-1) / vr.sum(-1).to(xr.dtype), out_shape)


# ----------------------------------------------------------------------------------------------
# audio


def snr_db(pred: ArrayLike, target: ArrayLike) -> torch.Tensor:
    """Signal-to-noise ratio in dB of each example, over the last dimension.

    SNR = 10 log10(||target||^2 / ||pred - target||^2) (Kuleshov, Enam, Ermon 2017, "Audio
    super-resolution using neural networks", Section 4; also Birnbaum et al. 2019). The reference
    code (``kuleshov/audio-super-res``) evaluates the same ratio with ``+1e-6`` inside the error
    and ``+1e-8`` in the log and averages it over 8192-sample patches; this function adds no
    epsilon, and the unit of an "example" is whatever the last dimension holds.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (L,) or (..., L)
        Estimated and reference waveforms (same scale; SNR is scale-free only if both scale).

    Returns
    -------
    torch.Tensor
        float64, shape ``pred.shape[:-1]`` (0-d for 1-D inputs), in dB. ``+inf`` where
        ``pred == target`` exactly, ``-inf`` where the target is silent but the prediction is not,
        NaN where both are all zeros.

    Raises
    ------
    ValueError
        If the shapes differ (both named) or the inputs are 0-dimensional.
    """
    p, t = _pair(pred, target, ("pred", "target"))
    if p.ndim == 0:
        raise ValueError("snr_db needs signals of shape (L,) or (..., L); got 0-dimensional inputs")
    signal = (t**2).sum(-1)
    noise = ((p - t) ** 2).sum(-1)
    return 10.0 * torch.log10(signal / noise)


def mean_snr_db(pred: ArrayLike, target: ArrayLike) -> float:
    """Mean over examples of :func:`snr_db` (the per-utterance average that papers report).

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (L,) or (N, L)
        Estimated and reference waveforms.

    Returns
    -------
    float
        Mean SNR in dB (``inf`` if any example is reproduced exactly).

    Raises
    ------
    ValueError
        As :func:`snr_db`.
    """
    return float(snr_db(pred, target).mean())


def _int_param(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {name}={value}")
    return int(value)


def _signals(
    pred: ArrayLike, target: ArrayLike, n_fft: int, hop_length: int
) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Validate and return (pred, target) as (N, L) float64, and whether the input was (L,)."""
    p, t = _pair(pred, target, ("pred", "target"))
    if p.ndim not in (1, 2):
        raise ValueError(f"LSD needs signals of shape (L,) or (N, L); got shape {tuple(p.shape)}")
    if p.shape[-1] <= n_fft // 2:
        raise ValueError(
            f"signals of {p.shape[-1]} samples are too short for centred reflect padding with "
            f"n_fft={n_fft}: need more than n_fft // 2 = {n_fft // 2} samples"
        )
    return p.reshape(-1, p.shape[-1]), t.reshape(-1, t.shape[-1]), p.ndim == 1


def _power_spectrogram(x: torch.Tensor, n_fft: int, hop_length: int) -> torch.Tensor:
    """|STFT|^2, unnormalised, periodic Hann, centred with reflect padding: (N, L) -> (N, F, T)."""
    window = torch.hann_window(n_fft, periodic=True, dtype=x.dtype, device=x.device)
    spec = torch.stft(
        x,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=n_fft,
        window=window,
        center=True,
        pad_mode="reflect",
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return spec.real**2 + spec.imag**2


def _reduce(per_example: torch.Tensor, squeeze: bool, reduction: str) -> float | torch.Tensor:
    if reduction == "mean":
        return float(per_example.mean())
    return per_example[0] if squeeze else per_example


def _check_reduction(reduction: str) -> None:
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none'; got reduction={reduction!r}")


def lsd(
    pred: ArrayLike,
    target: ArrayLike,
    log: str = "log10",
    n_fft: int = 2048,
    hop_length: int = 512,
    floor: float = LSD_FLOOR,
    reduction: str = "mean",
) -> float | torch.Tensor:
    """Log-spectral distance, the modern convention (NVSR, AP-BWE), in log10 or natural log.

    For each example, with P = |STFT|^2 and frames l = 1..T, frequency bins k = 1..K
    (K = n_fft / 2 + 1)::

        LSD = 1/T sum_l sqrt( 1/K sum_k ( log P_target(l, k) - log P_pred(l, k) )^2 )

    (Gray & Markel 1976; Kuleshov et al. 2017, Section 4). The STFT is that of ``torch.stft``
    with a periodic Hann window of length ``n_fft``, ``center=True`` with reflect padding of
    ``n_fft // 2`` on each side, no normalisation, one-sided; P is floored at ``floor`` before the
    log (``P.clamp(min=1e-8)``). With the defaults (n_fft 2048, hop 512, log10) this is the
    ``cal_lsd`` of AP-BWE (Lu et al., TASLP 2024, ``yxlu-0102/AP-BWE``), whose published VCTK
    numbers it reproduces for NVSR and AP-BWE outputs (see ``tests/test_metrics.py``).

    ``log="ln"`` runs the same recipe with the natural log, so its value is exactly
    ln(10) ~= 2.3026 times the log10 value (ln P = ln(10) log10 P, floor included). The
    reference audio-super-res code's LSD is natural-log but also differs in more than the base
    (it averages over time inside the square root, adds rather than clamps its epsilon and caps
    the result at 10): :func:`lsd_audio_super_res` reproduces it exactly; on the metric-anchor
    utterance it gives 2.19-2.34x the log10 LSD, not exactly ln(10).

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (L,) or (N, L)
        Estimated and reference waveforms, same sample rate and scale (e.g. PCM / 32768 in
        [-1, 1]; the floor makes LSD depend on the absolute scale). Trim both to a common
        length first.
    log : {"log10", "ln"}
        Base of the log (``"log10"``: the modern, comparable convention; name it in reports).
    n_fft : int
        FFT size and Hann window length in samples (2048 at 16 kHz = 128 ms).
    hop_length : int
        Frame hop in samples (512).
    floor : float
        Floor on the power |STFT|^2 before the log (1e-8).
    reduction : {"mean", "none"}
        ``"mean"``: mean over the N examples (a float); ``"none"``: the per-example values.

    Returns
    -------
    float or torch.Tensor
        LSD in log10 units (or natural-log units for ``log="ln"``); 0 for identical inputs.
        With ``reduction="none"``: a float64 tensor of shape (N,) (0-d for an (L,) input).
        NaN if an input holds NaN.

    Raises
    ------
    ValueError
        If the shapes differ (both named) or are not (L,) / (N, L); if L <= n_fft // 2 (reflect
        padding impossible); if ``log``, ``n_fft``, ``hop_length``, ``floor`` or ``reduction`` is
        invalid.
    """
    if log not in _LOGS:
        raise ValueError(f"log must be 'log10' or 'ln'; got log={log!r}")
    if not floor > 0:
        raise ValueError(f"floor must be > 0 (it is the argument of a log); got floor={floor}")
    _check_reduction(reduction)
    n_fft = _int_param("n_fft", n_fft, 2)
    hop_length = _int_param("hop_length", hop_length, 1)
    p, t, squeeze = _signals(pred, target, n_fft, hop_length)
    logf = _LOGS[log]
    lp = logf(_power_spectrogram(p, n_fft, hop_length).clamp(min=floor))
    lt = logf(_power_spectrogram(t, n_fft, hop_length).clamp(min=floor))
    per_frame = torch.sqrt(((lt - lp) ** 2).mean(dim=-2))  # (N, T): mean over frequency bins
    return _reduce(per_frame.mean(dim=-1), squeeze, reduction)


def lsd_audio_super_res(
    pred: ArrayLike, target: ArrayLike, n_fft: int = 2048, reduction: str = "mean"
) -> float | torch.Tensor:
    """LSD exactly as the reference code ``kuleshov/audio-super-res`` computes it (natural log).

    A port of ``Model.compute_log_distortion`` / ``get_power`` (``src/models/model.py``), which
    uses ``librosa.stft(x, 2048)`` (librosa 0.8.1: periodic Hann, hop n_fft // 4, centred with
    reflect padding, output laid out (frequency, frame)) and then::

        S = np.log(np.abs(librosa.stft(x, 2048)) ** 2 + 1e-8)            # (F, T)
        lsd = np.mean(np.sqrt(np.mean((S1 - S2) ** 2 + 1e-8, axis=1)), axis=0)
        return min(lsd, 10.)

    Because librosa's array is (frequency, frame), its ``axis=1`` is *time*: this is the mean
    over frequency bins of the RMS over frames, the transpose of the paper's formula (and of
    :func:`lsd`). It also adds (not clamps) the 1e-8, adds 1e-8 under the root and caps at 10.
    During training the reference code applies it to the concatenation of all validation patches
    (``x.reshape(-1)`` here); use it only to compare with numbers produced by that code, and say
    so. Its ratio to ``lsd(..., log="log10")`` is not a constant (2.19-2.34 on the anchor).

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (L,) or (N, L)
        Estimated and reference waveforms (same scale; trim to a common length first).
    n_fft : int
        FFT size and window length (2048; at least 4); the hop is ``n_fft // 4`` as in librosa.
    reduction : {"mean", "none"}
        Mean over the N examples (a float), or the per-example values.

    Returns
    -------
    float or torch.Tensor
        LSD in natural-log units, at most 10.

    Raises
    ------
    ValueError
        As :func:`lsd`.
    """
    _check_reduction(reduction)
    n_fft = _int_param("n_fft", n_fft, 4)
    hop = n_fft // 4
    p, t, squeeze = _signals(pred, target, n_fft, hop)
    sp = torch.log(_power_spectrogram(p, n_fft, hop) + 1e-8)
    st = torch.log(_power_spectrogram(t, n_fft, hop) + 1e-8)
    per_freq = torch.sqrt(((st - sp) ** 2 + 1e-8).mean(dim=-1))  # (N, F): mean over frames
    return _reduce(per_freq.mean(dim=-1).clamp(max=10.0), squeeze, reduction)


# ----------------------------------------------------------------------------------------------
# imputation


def _masked_terms(pred: ArrayLike, target: ArrayLike, mask: ArrayLike):
    p, t = _pair(pred, target, ("pred", "target"))
    m = _to_mask(mask, p.shape, p.device)
    zero = torch.zeros((), dtype=p.dtype, device=p.device)
    # torch.where, not multiplication: NaN * 0 is NaN, and targets are NaN where truly missing.
    abs_err = torch.where(m, (p - t).abs(), zero)
    return p, t, m, abs_err, zero


def masked_mae(pred: ArrayLike, target: ArrayLike, mask: ArrayLike) -> float:
    """Mean absolute error on the evaluated (artificially hidden) entries.

    MAE = sum(|pred - target| * mask) / sum(mask), the PyPOTS ``calc_mae`` convention
    (also SAITS, BRITS, CSDI, TSI-Bench), without PyPOTS's +1e-12 in the denominator.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_samples, n_steps, n_features) or any
        matching shape
        Imputed values and ground truth (NaN allowed in ``target`` outside the mask, where the
        value is truly missing; it is ignored).
    mask : array of bool or 0/1, broadcastable to ``pred.shape``
        1 / True = evaluate this entry (the entries hidden before imputation).

    Returns
    -------
    float
        In the units of the data; NaN if the mask selects nothing, or if ``pred`` or ``target``
        is NaN on a selected entry.

    Raises
    ------
    ValueError
        If the shapes differ (both named) or ``mask`` does not broadcast or holds values other
        than 0/1.
    """
    _, _, m, abs_err, _ = _masked_terms(pred, target, mask)
    return float(abs_err.sum() / m.sum())


def masked_mse(pred: ArrayLike, target: ArrayLike, mask: ArrayLike) -> float:
    """Mean squared error on the evaluated entries: sum((pred - target)^2 * mask) / sum(mask).

    PyPOTS ``calc_mse`` convention (without its +1e-12). Shapes, mask, NaN rules and errors as
    :func:`masked_mae`.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_samples, n_steps, n_features) or any
        matching shape
        Imputed values and ground truth.
    mask : array of bool or 0/1, broadcastable to ``pred.shape``
        1 / True = evaluate this entry.

    Returns
    -------
    float
        In squared units of the data; NaN if the mask selects nothing.

    Raises
    ------
    ValueError
        As :func:`masked_mae`.
    """
    _, _, m, abs_err, _ = _masked_terms(pred, target, mask)
    return float((abs_err**2).sum() / m.sum())


def masked_rmse(pred: ArrayLike, target: ArrayLike, mask: ArrayLike) -> float:
    """Root mean squared error on the evaluated entries: sqrt(:func:`masked_mse`).

    PyPOTS ``calc_rmse`` convention (one square root of the pooled MSE, not a mean of per-sample
    RMSEs; compare :func:`l2_distance`). Shapes, mask, NaN rules and errors as :func:`masked_mae`.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_samples, n_steps, n_features) or any
        matching shape
        Imputed values and ground truth.
    mask : array of bool or 0/1, broadcastable to ``pred.shape``
        1 / True = evaluate this entry.

    Returns
    -------
    float
        In the units of the data; NaN if the mask selects nothing.

    Raises
    ------
    ValueError
        As :func:`masked_mae`.
    """
    return math.sqrt(masked_mse(pred, target, mask))


def masked_mre(pred: ArrayLike, target: ArrayLike, mask: ArrayLike) -> float:
    """Mean relative error on the evaluated entries.

    MRE = sum(|pred - target| * mask) / sum(|target| * mask), the PyPOTS ``calc_mre`` convention
    (a ratio of sums, reported as a percentage in SAITS / TSI-Bench tables), without PyPOTS's
    +1e-12. Shapes, mask, NaN rules and errors as :func:`masked_mae`.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_samples, n_steps, n_features) or any
        matching shape
        Imputed values and ground truth.
    mask : array of bool or 0/1, broadcastable to ``pred.shape``
        1 / True = evaluate this entry.

    Returns
    -------
    float
        Dimensionless fraction (multiply by 100 for %); ``inf`` if the target is 0 on every
        selected entry but the error is not, NaN if the mask selects nothing.

    Raises
    ------
    ValueError
        As :func:`masked_mae`.
    """
    _, t, m, abs_err, zero = _masked_terms(pred, target, mask)
    return float(abs_err.sum() / torch.where(m, t.abs(), zero).sum())


def l2_distance(pred: ArrayLike, target: ArrayLike) -> float:
    """The TFiLM paper's "L2 distance" for imputation: mean over series of per-series RMSE.

    L2 = 1/S sum_s sqrt( 1/T sum_t (pred[s, t] - target[s, t])^2 ), over **all** T steps (hidden
    or not), in raw units (Birnbaum et al. 2019, Appendix H, Table 10: Favorita grocery sales,
    one series per item, T = 1024 days). The reference code's training objective is the same
    quantity per example with +1e-6 under the root; none is added here.

    Parameters
    ----------
    pred, target : torch.Tensor or numpy.ndarray, shape (n_series, n_steps)
        Axis 0 indexes the series (items); axis 1 is time (days). Transposing the inputs changes
        the value.

    Returns
    -------
    float
        In the units of the data; NaN if any entry is NaN.

    Raises
    ------
    ValueError
        If the shapes differ (both named) or are not 2-dimensional.
    """
    p, t = _pair(pred, target, ("pred", "target"))
    if p.ndim != 2:
        raise ValueError(
            f"l2_distance needs arrays of shape (n_series, n_steps); got shape {tuple(p.shape)}"
        )
    return float(torch.sqrt(((p - t) ** 2).mean(dim=1)).mean())
