"""Learnable smoothed Wigner-Ville time-frequency representation (torch only; tensors in, tensors out).

Balestriero, Glotin & Baraniuk, "Interpretable and Learnable Super-Resolution Time-Frequency
Representation" (Proceedings of the 2nd Mathematical and Scientific Machine Learning Conference,
MSML 2021, PMLR 145:118-152; the authors' slide "Universal Learnable Time-Frequency
Representation"): the Wigner-Ville distribution ``WV_x(t, w)`` is smoothed by one
learnable 2-D Gaussian kernel ``Phi_k`` per output filter ``k``::

    C_x(t, k) = sum over (tau, nu) of WV_x(tau, nu) Phi_k(t - tau, mu_k - nu)

with 4 parameters per filter: centre frequency ``mu_k``, time spread ``sigma_t``, frequency spread
``sigma_f`` and a chirp correlation ``rho``. A Gaussian-window spectrogram (``sigma_t * sigma_w =
1/2``), Morlet / Gabor wavelet filter banks (constant Q) and chirplets (``rho != 0``) are special
cases; kernels smaller than the Heisenberg cell are the "super-resolution" regime. Written from
the mathematics (the authors' code has no licence); the paper gives the idea, the discretisation
below is chipsr's.

Discretisation (all steps differentiable)
-----------------------------------------
1. Analytic signal ``z = x + i H(x)`` by FFT over the whole input (negative frequencies zeroed,
   positive ones doubled, DC and Nyquist kept), so that the WV estimate has no cross-terms
   between positive and negative frequencies.
2. STFT of ``z``: window of ``win_length`` samples (= the FFT size, even), normalised to unit sum,
   hop ``hop_length``, ``center=True`` with reflect padding; the ``F = win_length // 2 + 1``
   non-negative frequency bins ``f_b = b * sample_rate / win_length`` are kept. A complex
   sinusoid of amplitude ``A`` at a bin centre (a real one of amplitude ``A``) gives ``|S| = A``.
3. Pseudo-WVD by the S-method (Stankovic 1994) of order ``L = smoothing_bins``::

       SM(t, b) = |S(t, b)|^2 + 2 sum_{i=1..L} Re[ S(t, b + i) conj(S(t, b - i)) ]

   with ``S = 0`` outside ``0..F-1``. ``L = 0`` is the spectrogram; as ``L`` grows it tends to the
   pseudo-WVD (the WVD smoothed in frequency by the window's spectrum only): auto-terms (tones,
   chirps) sharpen in frequency, cross-terms between components more than ``2 L`` bins apart stay
   out. The window is centred at ``win_length / 2``, which makes the frame-phase factor of the
   products ``S(b + i) S*(b - i)`` equal to 1. The estimate can be negative (so can the WVD).
4. The ``K`` kernels as one ``conv1d`` over frames (``kernel_frames`` taps, zero padding, "same"
   length) with the ``F`` frequency bins as input channels and the ``K`` filters as output
   channels::

       weight[k, b, j] ∝ exp( -(u^2 - 2 rho_k u v + v^2) / (2 (1 - rho_k^2)) ),
       u = dt_j / sigma_t_k,  v = (f_b - mu_k) / sigma_f_k,  dt_j = (j - (kernel_frames-1)/2) * hop / sr

   normalised to **sum 1 over its discrete support** (a softmax of the log-kernel, so that a
   kernel narrower than one bin or one hop degenerates to a single tap instead of 0 / NaN). A
   map that is constant over time and frequency therefore passes unchanged. Time spreads well
   below one hop act as a single tap (and get ~no gradient); frequency spreads well below one
   bin likewise.

Units and conventions
---------------------
``sigma_t`` (seconds) and ``sigma_f`` (Hz) are the marginal standard deviations of the Gaussian
kernel (1 sigma, not FWHM); ``rho`` its correlation coefficient. ``sigma_w = 2 pi sigma_f`` is
the spread in rad/s. The WV of a Gaussian window ``exp(-t^2 / (2 s^2))`` is such a Gaussian with
``sigma_t = s / sqrt 2`` and ``sigma_w = 1 / (s sqrt 2)``: ``sigma_t sigma_w = 1/2``, the
Heisenberg bound. The WV of a Gaussian chirplet of rate ``c`` Hz/s has the same area,
``sigma_t sigma_w sqrt(1 - rho^2) = 1/2``, and conditional mean ``f = (rho sigma_f / sigma_t) t``.
Hence the readout: chirp rate ``rho sigma_f / sigma_t`` (Hz/s), and super-resolution where the
kernel's area is below the bound, ``sigma_t sigma_w sqrt(1 - rho^2) < 1/2`` (for ``rho = 0``
exactly ``sigma_t sigma_w < 1/2``). The readout describes the kernel alone: the S-method estimate
it smooths has its own resolution (frames of ``win_length`` samples every ``hop_length``, bins
of ``sample_rate / win_length`` Hz), so the map's effective resolution is never finer than that.

Contents
--------
- :class:`LearnableWVD` -- the layer, ``(N, L)`` audio -> ``(N, K, T)`` map, with :meth:`~LearnableWVD.readout`.
- :class:`LWVDLoss` -- L1 distance of log-magnitude maps with fixed Gabor kernels (a training loss).
- :func:`log_magnitude`, :func:`analytic_signal`, :func:`s_method`, :func:`gabor_filters`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "DEFAULT_FLOOR",
    "RHO_MAX",
    "SUPER_RESOLUTION_MARGIN",
    "LWVDLoss",
    "LearnableWVD",
    "analytic_signal",
    "gabor_filters",
    "log_magnitude",
    "s_method",
]

#: ``rho = RHO_MAX * tanh(raw)``: the chirp correlation stays in (-0.9, 0.9).
RHO_MAX = 0.9
#: The log-spreads (in hops / bins) are clamped to +-this before exp, so no update can overflow.
LOG_SPREAD_LIMIT = 20.0
#: A kernel counts as super-resolution when its time-bandwidth product is below 1/2 by more than
#: this relative margin (so Heisenberg-bound kernels rounded in float32 do not flip).
SUPER_RESOLUTION_MARGIN = 1e-5
#: Default floor of :func:`log_magnitude`, in map units (a unit-amplitude sinusoid has power ~1):
#: 1e-9 = -90 dB. LibriSpeech speech at 4-8 kHz sits at ~1e-9 to 1e-6 in its louder frames, so a
#: higher floor would hide the band a super-resolution model must restore.
DEFAULT_FLOOR = 1e-9
_INITS = ("gabor", "stft")
_WINDOWS = ("hann", "gaussian")
#: Gaussian analysis window: standard deviation = win_length / GAUSS_WINDOW_DIVISOR samples.
GAUSS_WINDOW_DIVISOR = 6.0


# ----------------------------------------------------------------------------------------------
# functional pieces


def analytic_signal(x: torch.Tensor) -> torch.Tensor:
    """Analytic signal ``x + i H(x)`` by FFT along the last axis.

    ``Z = FFT(x) * h`` with ``h[0] = 1``, ``h[n] = 2`` for ``0 < n < L/2``, ``h[L/2] = 1`` (even L),
    ``h = 0`` for negative frequencies; ``z = IFFT(Z)``. Same result as ``scipy.signal.hilbert``.

    Parameters
    ----------
    x : torch.Tensor, shape (..., L)
        Real signal(s).

    Returns
    -------
    torch.Tensor, shape (..., L), complex
        ``z`` with ``z.real == x`` (to rounding).
    """
    n = x.shape[-1]
    h = torch.zeros(n, dtype=x.dtype, device=x.device)
    h[0] = 1.0
    if n % 2 == 0:
        h[1 : n // 2] = 2.0
        h[n // 2] = 1.0
    else:
        h[1 : (n + 1) // 2] = 2.0
    return torch.fft.ifft(torch.fft.fft(x, dim=-1) * h, dim=-1)


def s_method(stft: torch.Tensor, order: int) -> torch.Tensor:
    """Pseudo Wigner-Ville estimate from an STFT by the S-method.

    ``SM(t, b) = |S(t, b)|^2 + 2 sum_{i=1..order} Re[S(t, b+i) conj(S(t, b-i))]``, with ``S = 0``
    outside the given bins (Stankovic, IEEE Trans. Signal Process. 1994).

    Parameters
    ----------
    stft : torch.Tensor, shape (..., F, T), complex
        STFT with frequency bins on the second-to-last axis (window centred in the frame).
    order : int
        ``L >= 0``; 0 gives the spectrogram ``|S|^2``.

    Returns
    -------
    torch.Tensor, shape (..., F, T), real
        The estimate (may be negative where ``order > 0``).

    Raises
    ------
    ValueError
        If ``order`` < 0.
    """
    if order < 0:
        raise ValueError(f"S-method order (smoothing_bins) must be >= 0; got {order}")
    re, im = stft.real, stft.imag
    out = re * re + im * im
    n_bins = stft.shape[-2]
    if order == 0:
        return out
    pad = (0, 0, order, order)  # zero bins beyond both ends of the frequency axis
    rp, ip = F.pad(re, pad), F.pad(im, pad)
    for i in range(1, min(order, n_bins - 1) + 1):
        hi = slice(order + i, order + i + n_bins)
        lo = slice(order - i, order - i + n_bins)
        out = out + 2.0 * (rp[..., hi, :] * rp[..., lo, :] + ip[..., hi, :] * ip[..., lo, :])
    return out


def log_magnitude(tfr: torch.Tensor, floor: float = DEFAULT_FLOOR) -> torch.Tensor:
    """``log10(|C| + floor)``: the log-magnitude of a time-frequency map, with an additive floor.

    The absolute value because an S-method estimate can dip below 0; the floor (added, not
    clamped, so the gradient is never cut) sets how far down in level differences still count:
    with the maps of :class:`LearnableWVD` a full-scale sinusoid has power ~1, so the default
    ``1e-9`` is -90 dB re full scale (below most speech content at 4-8 kHz, see ``DEFAULT_FLOOR``).

    Parameters
    ----------
    tfr : torch.Tensor, any shape, real
    floor : float
        > 0, in the units of ``tfr``.

    Returns
    -------
    torch.Tensor, same shape, in log10 units (1 = 10 dB of power).

    Raises
    ------
    ValueError
        If ``floor`` <= 0.
    """
    if not floor > 0:
        raise ValueError(f"floor must be > 0; got {floor}")
    return torch.log10(tfr.abs() + floor)


def _hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def _mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def gabor_filters(n_filters: int, sample_rate: float) -> dict[str, torch.Tensor]:
    """Centre frequencies and spreads of the ``init="gabor"`` filter bank (float64, shape (K,)).

    Centres: ``K`` points equally spaced on the mel scale strictly inside (0, Nyquist) (the
    end points of a ``K + 2``-point grid dropped). Frequency spread: half the local spacing
    ``sigma_f_k = (mu_{k+1} - mu_{k-1}) / 4`` (neighbours cross at 1 sigma), so the bank is
    constant-Q above ~700 Hz and linear below, like a mel filter bank. Time spread at the
    Heisenberg bound: ``sigma_t = 1 / (4 pi sigma_f)``, i.e. ``sigma_t sigma_w = 1/2``;
    ``rho = 0``: each kernel is the WV of a Gaussian (Gabor) atom.

    Returns
    -------
    dict
        ``center_frequency_hz``, ``duration_ms`` (``1000 sigma_t``), ``bandwidth_hz``
        (``sigma_f``), ``correlation`` (zeros).
    """
    nyq = sample_rate / 2.0
    grid = _mel_to_hz(torch.linspace(0.0, float(_hz_to_mel(torch.tensor(nyq, dtype=torch.float64))), n_filters + 2,
                                     dtype=torch.float64))
    mu = grid[1:-1]
    sigma_f = (grid[2:] - grid[:-2]) / 4.0
    sigma_t = 1.0 / (4.0 * math.pi * sigma_f)
    return {
        "center_frequency_hz": mu,
        "duration_ms": 1000.0 * sigma_t,
        "bandwidth_hz": sigma_f,
        "correlation": torch.zeros(n_filters, dtype=torch.float64),
    }


def _window(kind: str, length: int) -> torch.Tensor:
    """Analysis window centred at ``length / 2`` (periodic convention), float64, unit sum."""
    if kind == "hann":
        w = torch.hann_window(length, periodic=True, dtype=torch.float64)
    else:
        m = torch.arange(length, dtype=torch.float64) - length / 2.0
        w = torch.exp(-0.5 * (m / (length / GAUSS_WINDOW_DIVISOR)) ** 2)
    return w / w.sum()


def _window_spreads(window: torch.Tensor, sample_rate: float) -> tuple[float, float]:
    """(sigma_t in s, sigma_f in Hz) of a Gaussian whose WV matches the window's energy spread.

    ``sigma_t^2 = sum (m - c)^2 w^2 / sum w^2`` (time spread of |w|^2, c = len / 2) and
    ``sigma_f = 1 / (4 pi sigma_t)``; exact for a Gaussian window (up to its truncation).
    """
    n = window.shape[0]
    m = torch.arange(n, dtype=torch.float64) - n / 2.0
    e = window.to(torch.float64) ** 2
    sigma_t = math.sqrt(float((m**2 * e).sum() / e.sum())) / sample_rate
    return sigma_t, 1.0 / (4.0 * math.pi * sigma_t)


def _as_batch(x: torch.Tensor, name: str = "input") -> torch.Tensor:
    """(L,) -> (1, L); (N, L) -> (N, L); (N, 1, L) -> (N, L)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a real floating-point tensor; got dtype {x.dtype}")
    if x.dim() == 1:
        return x.unsqueeze(0)
    if x.dim() == 2:
        return x
    if x.dim() == 3 and x.shape[1] == 1:
        return x[:, 0]
    raise ValueError(f"{name} must have shape (L,), (N, L) or (N, 1, L); got {tuple(x.shape)}")


# ----------------------------------------------------------------------------------------------
# the layer


class LearnableWVD(nn.Module):
    """Learnable smoothed Wigner-Ville distribution: audio -> ``K`` filter responses per frame.

    The S-method pseudo-WVD of the analytic signal, smoothed by ``n_filters`` learnable 2-D
    Gaussian kernels (see the module docstring for every step and unit). Source: Balestriero,
    Glotin & Baraniuk 2021 (MSML 2021, PMLR 145:118-152), ``K_x(t, f) = int WV_x(tau, w) Phi_f(t - tau, w)``.

    Exactly 4 learnable parameters per filter, each unconstrained and mapped to a valid value:

    - ``center_logit`` -> ``mu = (sample_rate / 2) * sigmoid(center_logit)`` in (0, Nyquist) Hz;
    - ``log_duration`` -> ``sigma_t = exp(log_duration) * hop_length / sample_rate`` s (> 0);
    - ``log_bandwidth`` -> ``sigma_f = exp(log_bandwidth) * sample_rate / win_length`` Hz (> 0);
    - ``chirp_raw`` -> ``rho = 0.9 * tanh(chirp_raw)`` in (-0.9, 0.9).

    (Spreads are stored as logs in units of one hop / one bin, so Adam steps are relative; the logs
    are clamped to +-20 before ``exp``, far outside any useful kernel, so no update overflows.)

    Parameters
    ----------
    n_filters : int
        ``K`` >= 1, the number of kernels (output channels).
    win_length : int, optional
        STFT window and FFT length in samples, even, >= 4. Default: 32 ms (512 at 16 kHz).
    hop_length : int, optional
        Frame hop in samples, >= 1. Default: ``win_length // 4``.
    smoothing_bins : int
        S-method order ``L``, 0 <= L < F (0 = spectrogram). Default 2.
    kernel_frames : int
        Taps of each kernel along time (odd, >= 1): the kernel spans
        ``±(kernel_frames - 1) / 2`` hops. Default 9.
    sample_rate : float
        Hz (> 0); sets the physical units of the parameters and the readout.
    init : {"gabor", "stft"}
        ``"gabor"``: mel-spaced centres, constant-Q-ish spreads at the Heisenberg bound, rho = 0
        (:func:`gabor_filters`). ``"stft"``: linearly spaced centres ``(k + 1/2) * Nyquist / K``,
        every kernel the WV of the analysis window (the spreads of a Gaussian with the window's
        energy time spread; exact for ``window="gaussian"``), rho = 0.
    window : {"hann", "gaussian"}
        Analysis window: periodic Hann, or a Gaussian of standard deviation ``win_length / 6``
        samples, both centred at ``win_length / 2`` and normalised to unit sum.

    Raises
    ------
    ValueError
        For any argument out of range (the message names it and its value).

    Shape
    -----
    ``(N, L) -> (N, K, T)`` with ``T = 1 + L // hop_length`` (frame ``t`` centred at sample
    ``t * hop_length``); ``(N, 1, L)`` (a mono audio batch) -> ``(N, K, T)``; ``(L,) -> (1, K, T)``.
    ``L`` must exceed ``win_length // 2`` (reflect padding). The output follows the input's dtype
    and device (parameters are cast; float64 works for gradcheck).
    """

    def __init__(
        self,
        n_filters: int = 64,
        win_length: int | None = None,
        hop_length: int | None = None,
        smoothing_bins: int = 2,
        kernel_frames: int = 9,
        sample_rate: float = 16000,
        init: str = "gabor",
        window: str = "hann",
    ) -> None:
        super().__init__()
        if not sample_rate > 0:
            raise ValueError(f"sample_rate must be > 0 Hz; got {sample_rate}")
        if win_length is None:
            win_length = max(4, 2 * round(0.016 * sample_rate))
        if hop_length is None:
            hop_length = max(1, win_length // 4)
        if int(n_filters) != n_filters or n_filters < 1:
            raise ValueError(f"n_filters must be an integer >= 1; got {n_filters}")
        if int(win_length) != win_length or win_length < 4 or win_length % 2:
            raise ValueError(f"win_length must be an even integer >= 4 (samples); got {win_length}")
        if int(hop_length) != hop_length or hop_length < 1:
            raise ValueError(f"hop_length must be an integer >= 1 (samples); got {hop_length}")
        n_bins = win_length // 2 + 1
        if int(smoothing_bins) != smoothing_bins or not 0 <= smoothing_bins < n_bins:
            raise ValueError(
                f"smoothing_bins (S-method order) must be an integer in [0, {n_bins - 1}] for "
                f"win_length={win_length}; got {smoothing_bins}"
            )
        if int(kernel_frames) != kernel_frames or kernel_frames < 1 or kernel_frames % 2 == 0:
            raise ValueError(f"kernel_frames must be an odd integer >= 1; got {kernel_frames}")
        if init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}; got {init!r}")
        if window not in _WINDOWS:
            raise ValueError(f"window must be one of {_WINDOWS}; got {window!r}")
        self.n_filters = int(n_filters)
        self.win_length = int(win_length)
        self.hop_length = int(hop_length)
        self.smoothing_bins = int(smoothing_bins)
        self.kernel_frames = int(kernel_frames)
        self.sample_rate = float(sample_rate)
        self.init = init
        self.window_kind = window
        self.n_bins = n_bins
        self._window_cache: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}
        #: Everything needed to rebuild the layer: ``LearnableWVD(**layer.config)`` then
        #: ``load_state_dict`` (the 4 K learned parameters).
        self.config = {
            "n_filters": self.n_filters,
            "win_length": self.win_length,
            "hop_length": self.hop_length,
            "smoothing_bins": self.smoothing_bins,
            "kernel_frames": self.kernel_frames,
            "sample_rate": self.sample_rate,
            "init": self.init,
            "window": self.window_kind,
        }
        k = self.n_filters
        self.center_logit = nn.Parameter(torch.zeros(k))
        self.log_duration = nn.Parameter(torch.zeros(k))
        self.log_bandwidth = nn.Parameter(torch.zeros(k))
        self.chirp_raw = nn.Parameter(torch.zeros(k))
        if init == "gabor":
            g = gabor_filters(k, self.sample_rate)
            self.set_filters(g["center_frequency_hz"], g["duration_ms"], g["bandwidth_hz"], 0.0)
        else:
            sigma_t, sigma_f = _window_spreads(_window(window, self.win_length), self.sample_rate)
            mu = (torch.arange(k, dtype=torch.float64) + 0.5) * self.nyquist / k
            self.set_filters(mu, 1000.0 * sigma_t, sigma_f, 0.0)

    # -- units ---------------------------------------------------------------------------------

    @property
    def nyquist(self) -> float:
        """``sample_rate / 2`` in Hz."""
        return self.sample_rate / 2.0

    @property
    def bin_hz(self) -> float:
        """Spacing of the STFT bins, ``sample_rate / win_length`` Hz."""
        return self.sample_rate / self.win_length

    @property
    def hop_s(self) -> float:
        """Frame hop in seconds."""
        return self.hop_length / self.sample_rate

    def analysis_window(self, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> torch.Tensor:
        """The analysis window, shape (win_length,), unit sum, computed in ``dtype`` (cached; not a buffer,
        so a float32 module still uses an exact float64 window on float64 input)."""
        key = (dtype, torch.device(device))
        if key not in self._window_cache:
            self._window_cache[key] = _window(self.window_kind, self.win_length).to(dtype=dtype, device=device)
        return self._window_cache[key]

    def n_frames(self, length: int) -> int:
        """Frames ``T = 1 + length // hop_length`` of the map of a ``length``-sample input."""
        return 1 + int(length) // self.hop_length

    def frame_times(self, length: int) -> torch.Tensor:
        """Centre time (s, float64) of each of the ``T`` frames: ``t * hop_length / sample_rate``."""
        return torch.arange(self.n_frames(length), dtype=torch.float64) * self.hop_s

    def bin_frequencies(self) -> torch.Tensor:
        """Frequency (Hz, float64) of the ``F = win_length // 2 + 1`` STFT bins the kernels act on."""
        return torch.arange(self.n_bins, dtype=torch.float64) * self.bin_hz

    def extra_repr(self) -> str:
        return (
            f"n_filters={self.n_filters}, win_length={self.win_length}, hop_length={self.hop_length}, "
            f"smoothing_bins={self.smoothing_bins}, kernel_frames={self.kernel_frames}, "
            f"sample_rate={self.sample_rate:g}, init={self.init!r}, window={self.window_kind!r}"
        )

    # -- parameters ----------------------------------------------------------------------------

    def _physical(self, dtype: torch.dtype | None = None) -> tuple[torch.Tensor, ...]:
        """(mu Hz, sigma_t s, sigma_f Hz, rho), each shape (K,), differentiable."""
        cast = (lambda p: p) if dtype is None else (lambda p: p.to(dtype))
        mu = self.nyquist * torch.sigmoid(cast(self.center_logit))
        sigma_t = torch.exp(cast(self.log_duration).clamp(-LOG_SPREAD_LIMIT, LOG_SPREAD_LIMIT)) * self.hop_s
        sigma_f = torch.exp(cast(self.log_bandwidth).clamp(-LOG_SPREAD_LIMIT, LOG_SPREAD_LIMIT)) * self.bin_hz
        rho = RHO_MAX * torch.tanh(cast(self.chirp_raw))
        return mu, sigma_t, sigma_f, rho

    @torch.no_grad()
    def set_filters(
        self,
        center_frequency_hz: float | Sequence[float] | torch.Tensor,
        duration_ms: float | Sequence[float] | torch.Tensor,
        bandwidth_hz: float | Sequence[float] | torch.Tensor,
        correlation: float | Sequence[float] | torch.Tensor = 0.0,
    ) -> None:
        """Set the filters from physical values (the inverse of the constraints in the class doc).

        Parameters
        ----------
        center_frequency_hz : float or sequence, shape (K,)
            ``mu`` in (0, sample_rate / 2) Hz.
        duration_ms : float or sequence
            ``1000 sigma_t`` > 0 (standard deviation in time, ms).
        bandwidth_hz : float or sequence
            ``sigma_f`` > 0 (standard deviation in frequency, Hz).
        correlation : float or sequence
            ``rho`` in (-0.9, 0.9). For a chirp rate ``c`` Hz/s at given ``sigma_t`` and
            conditional spread ``kappa`` (Hz): ``sigma_f = sqrt(kappa^2 + c^2 sigma_t^2)``,
            ``rho = c sigma_t / sigma_f``.

        Scalars broadcast to all ``K`` filters.

        Raises
        ------
        ValueError
            If a value is out of range or a sequence is not of length ``K``.
        """
        k = self.n_filters

        def vec(v, name):
            t = torch.as_tensor(v, dtype=torch.float64).detach().cpu().reshape(-1)
            if t.numel() == 1:
                t = t.expand(k)
            if t.numel() != k:
                raise ValueError(f"{name} must be a scalar or have {k} values (n_filters); got {t.numel()}")
            if not bool(torch.isfinite(t).all()):
                raise ValueError(f"{name} must be finite; got {t.tolist()}")
            return t

        mu = vec(center_frequency_hz, "center_frequency_hz")
        dur = vec(duration_ms, "duration_ms")
        bw = vec(bandwidth_hz, "bandwidth_hz")
        rho = vec(correlation, "correlation")
        if bool(((mu <= 0) | (mu >= self.nyquist)).any()):
            raise ValueError(f"center_frequency_hz must lie in (0, {self.nyquist:g}) Hz; got {mu.tolist()}")
        if bool((dur <= 0).any()):
            raise ValueError(f"duration_ms must be > 0; got {dur.tolist()}")
        if bool((bw <= 0).any()):
            raise ValueError(f"bandwidth_hz must be > 0; got {bw.tolist()}")
        if bool((rho.abs() >= RHO_MAX).any()):
            raise ValueError(f"correlation must lie in (-{RHO_MAX}, {RHO_MAX}); got {rho.tolist()}")
        p = mu / self.nyquist
        for param, value in (
            (self.center_logit, torch.log(p) - torch.log1p(-p)),
            (self.log_duration, torch.log(dur / 1000.0 / self.hop_s)),
            (self.log_bandwidth, torch.log(bw / self.bin_hz)),
            (self.chirp_raw, torch.atanh(rho / RHO_MAX)),
        ):
            param.copy_(value.to(param.dtype))

    def readout(self) -> dict[str, torch.Tensor]:
        """The filters in physical units (detached float64 tensors of shape (K,), on the parameters' device).

        Returns
        -------
        dict
            - ``center_frequency_hz``: ``mu`` (Hz).
            - ``duration_ms``: ``1000 sigma_t``, the kernel's standard deviation in time (ms).
            - ``bandwidth_hz``: ``sigma_f``, its standard deviation in frequency (Hz).
            - ``correlation``: ``rho`` (dimensionless, |rho| < 0.9).
            - ``chirp_rate_hz_per_s``: ``rho sigma_f / sigma_t``, the slope df/dt (Hz/s) of the
              kernel's ridge (conditional mean of f given t); a linear chirp of this rate is the
              one the kernel matches best.
            - ``time_bandwidth_product``: ``sigma_t sigma_w sqrt(1 - rho^2)`` with ``sigma_w =
              2 pi sigma_f`` rad/s (the square root of the covariance determinant in (s, rad/s));
              1/2 at the Heisenberg bound (any Gaussian window or chirplet's WV).
            - ``super_resolution``: bool, ``time_bandwidth_product < 1/2`` by more than the
              relative margin ``SUPER_RESOLUTION_MARGIN`` = 1e-5 (float32 rounding; for rho = 0:
              ``sigma_t sigma_w < 1/2``, i.e. ``sigma_t[s] * sigma_f[Hz] < 1 / (4 pi)``). Such a
              kernel is tighter than the WV of any window: no spectrogram gives it.
        """
        with torch.no_grad():
            mu, sigma_t, sigma_f, rho = (v.detach() for v in self._physical(torch.float64))
            tbp = sigma_t * (2.0 * math.pi * sigma_f) * torch.sqrt(1.0 - rho**2)
            return {
                "center_frequency_hz": mu,
                "duration_ms": 1000.0 * sigma_t,
                "bandwidth_hz": sigma_f,
                "correlation": rho,
                "chirp_rate_hz_per_s": rho * sigma_f / sigma_t,
                "time_bandwidth_product": tbp,
                "super_resolution": tbp < 0.5 * (1.0 - SUPER_RESOLUTION_MARGIN),
            }

    def kernel_weight(self, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The discrete kernels as a ``conv1d`` weight (differentiable in the 4 K parameters).

        ``weight[k, b, j] = Phi_k(dt_j, f_b - mu_k)`` normalised to sum 1 over ``(b, j)``; see the
        module docstring for ``dt_j`` and ``f_b``.

        Returns
        -------
        torch.Tensor, shape (K, F, kernel_frames)
            ``F = win_length // 2 + 1`` frequency bins; dtype ``dtype`` (default: the parameters').
        """
        mu, sigma_t, sigma_f, rho = self._physical(dtype)
        taps = torch.arange(self.kernel_frames, dtype=mu.dtype, device=mu.device)
        dt = (taps - (self.kernel_frames - 1) / 2) * self.hop_s
        fb = torch.arange(self.n_bins, dtype=mu.dtype, device=mu.device) * self.bin_hz
        u = dt[None, None, :] / sigma_t[:, None, None]
        v = (fb[None, :, None] - mu[:, None, None]) / sigma_f[:, None, None]
        r = rho[:, None, None]
        log_phi = -(u * u - 2.0 * r * u * v + v * v) / (2.0 * (1.0 - r * r))
        k = self.n_filters
        return torch.softmax(log_phi.reshape(k, -1), dim=1).reshape(k, self.n_bins, self.kernel_frames)

    # -- the map -------------------------------------------------------------------------------

    def wv_estimate(self, x: torch.Tensor) -> torch.Tensor:
        """The S-method pseudo-WVD before the kernels (steps 1-3 of the module docstring).

        Parameters
        ----------
        x : torch.Tensor, shape (L,), (N, L) or (N, 1, L), real

        Returns
        -------
        torch.Tensor, shape (N, F, T)
            ``F = win_length // 2 + 1`` bins at ``b * sample_rate / win_length`` Hz.

        Raises
        ------
        ValueError
            If the shape or dtype is wrong, or ``L <= win_length // 2``.
        """
        xb = _as_batch(x)
        return _wv_estimate(xb, self.analysis_window(xb.dtype, xb.device), self.hop_length, self.smoothing_bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map of ``x``: ``(N, L)`` -> ``(N, K, T)`` (see the class docstring for the shapes).

        Raises
        ------
        ValueError
            If ``x`` is not ``(L,)``, ``(N, L)`` or ``(N, 1, L)``, not real floating point, or
            ``L <= win_length // 2``.
        """
        xb = _as_batch(x)
        sm = _wv_estimate(xb, self.analysis_window(xb.dtype, xb.device), self.hop_length, self.smoothing_bins)
        return F.conv1d(sm, self.kernel_weight(xb.dtype).to(xb.device), padding=(self.kernel_frames - 1) // 2)


def _wv_estimate(x: torch.Tensor, window: torch.Tensor, hop: int, order: int) -> torch.Tensor:
    """(N, L) real -> (N, F, T) S-method estimate (``window``: x's dtype and device)."""
    n_fft = window.shape[0]
    if x.shape[-1] <= n_fft // 2:
        raise ValueError(
            f"signal too short: length {x.shape[-1]} samples must exceed win_length // 2 = {n_fft // 2}"
        )
    z = analytic_signal(x)
    spec = torch.stft(
        z,
        n_fft,
        hop_length=hop,
        window=window,
        center=True,
        pad_mode="reflect",
        onesided=False,
        return_complex=True,
    )[:, : n_fft // 2 + 1]
    return s_method(spec, order)


# ----------------------------------------------------------------------------------------------
# the loss


class LWVDLoss(nn.Module):
    """L1 distance between log-magnitude LWVD maps of two waveforms, with fixed Gabor kernels.

    ``loss = mean over (n, k, t) of | log10(|C_pred| + floor) - log10(|C_target| + floor) |``
    where ``C`` is the map of a :class:`LearnableWVD` built with the same arguments; its kernels
    are computed once and stored as a buffer (nothing here is learnable: ``parameters()`` is
    empty). An optional term for audio super-resolution training, added to the waveform loss as
    ``loss = rmse + weight * lwvd`` (``chipsr audio train --tf-loss lwvd --tf-loss-weight W``).
    Values are in log10 units (0.1 = 1 dB of level error on average); they depend on the absolute
    scale of the audio through the floor (inputs in [-1, 1] assumed).

    Parameters
    ----------
    sample_rate : float
        Hz of both waveforms.
    n_filters, win_length, hop_length, smoothing_bins, kernel_frames, init, window
        As :class:`LearnableWVD` (defaults: 64 Gabor filters, 32-ms Hann frames, hop 8 ms,
        S-method order 2, 9 taps).
    floor : float
        Added to ``|C|`` before the log10 (:func:`log_magnitude`); default 1e-9 = -90 dB re a
        full-scale sinusoid.

    Shape
    -----
    ``pred``, ``target``: ``(N, 1, L)``, ``(N, L)`` or ``(L,)``, the same shape -> scalar.

    Raises
    ------
    ValueError
        For bad arguments; at call time if the shapes differ or are not one of the above.
    """

    def __init__(
        self,
        sample_rate: float = 16000,
        n_filters: int = 64,
        win_length: int | None = None,
        hop_length: int | None = None,
        smoothing_bins: int = 2,
        kernel_frames: int = 9,
        floor: float = DEFAULT_FLOOR,
        init: str = "gabor",
        window: str = "hann",
    ) -> None:
        super().__init__()
        if not floor > 0:
            raise ValueError(f"floor must be > 0; got {floor}")
        layer = LearnableWVD(n_filters, win_length, hop_length, smoothing_bins, kernel_frames, sample_rate,
                             init=init, window=window)
        self.floor = float(floor)
        self.hop_length = layer.hop_length
        self.smoothing_bins = layer.smoothing_bins
        self.kernel_frames = layer.kernel_frames
        self.sample_rate = layer.sample_rate
        self._config = layer.extra_repr()
        self._layer_window = layer.analysis_window
        self.register_buffer("weight", layer.kernel_weight().detach().clone(), persistent=False)

    def extra_repr(self) -> str:
        return f"{self._config}, floor={self.floor:g}"

    def tfr(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed-kernel map ``(N, K, T)`` of ``x`` (``(L,)``, ``(N, L)`` or ``(N, 1, L)``)."""
        xb = _as_batch(x)
        sm = _wv_estimate(xb, self._layer_window(xb.dtype, xb.device), self.hop_length, self.smoothing_bins)
        return F.conv1d(sm, self.weight.to(device=xb.device, dtype=xb.dtype), padding=(self.kernel_frames - 1) // 2)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean L1 distance of the log-magnitude maps (a 0-d tensor, differentiable in both).

        Raises
        ------
        ValueError
            If ``pred`` and ``target`` differ in shape or are not ``(L,)``, ``(N, L)``, ``(N, 1, L)``.
        """
        if pred.shape != target.shape:
            raise ValueError(
                f"pred and target must have the same shape; got {tuple(pred.shape)} and {tuple(target.shape)}"
            )
        lp = log_magnitude(self.tfr(pred), self.floor)
        if target.requires_grad:
            lt = log_magnitude(self.tfr(target.to(pred.dtype)), self.floor)
        else:
            with torch.no_grad():
                lt = log_magnitude(self.tfr(target.to(pred.dtype)), self.floor)
        return (lp - lt).abs().mean()
