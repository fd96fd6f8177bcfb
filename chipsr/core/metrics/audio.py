"""Audio super-resolution metrics: SNR in dB and log-spectral distance (LSD).

:func:`snr_db` / :func:`mean_snr_db` (Kuleshov, Enam & Ermon 2017), :func:`lsd` (the modern log10
convention of NVSR / AP-BWE, or the same recipe in natural log) and :func:`lsd_audio_super_res`
(an exact port of the reference code ``kuleshov/audio-super-res`` ``compute_log_distortion``).
Full citations in :mod:`chipsr.core.metrics`.
"""

from __future__ import annotations

import torch

from chipsr.core.metrics._inputs import ArrayLike, _pair

__all__ = ["LSD_FLOOR", "snr_db", "mean_snr_db", "lsd", "lsd_audio_super_res"]

#: Power floor of the modern LSD convention (``clamp(min=1e-8)`` on ``|STFT|**2``).
LSD_FLOOR = 1e-8
_LOGS = {"log10": torch.log10, "ln": torch.log}


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
    numbers it reproduces for NVSR and AP-BWE outputs (see ``tests/core/test_metrics.py``).

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
