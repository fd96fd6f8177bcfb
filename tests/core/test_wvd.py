"""Learnable Wigner-Ville representation (chipsr.core.wvd) and its figures (chipsr.tasks.audio.tfr):
an independent numpy spectrogram reference, chirp-rate selectivity, S-method concentration,
gradcheck, shapes, errors, readout units, the loss, and the PNG writers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import torch

from chipsr.core.wvd import (
    RHO_MAX,
    LearnableWVD,
    LWVDLoss,
    analytic_signal,
    gabor_filters,
    log_magnitude,
    s_method,
)


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def chirp(sr: float, n: int, f0: float, rate: float, dtype=torch.float64) -> torch.Tensor:
    """cos(2 pi (f0 t + rate t^2 / 2)): instantaneous frequency f0 + rate * t Hz."""
    t = torch.arange(n, dtype=torch.float64) / sr
    return torch.cos(2 * math.pi * (f0 * t + 0.5 * rate * t * t)).to(dtype)


def numpy_reference(x: np.ndarray, sr: float, win: int, hop: int, taps: int, readout: dict) -> np.ndarray:
    """Gaussian-window spectrogram of the analytic signal, smoothed by the readout's kernels.

    Written independently of the module: scipy's Hilbert transform, explicit frames, np.fft, the
    kernel from its physical parameters normalised to sum 1, explicit zero-padded smoothing.
    """
    z = scipy.signal.hilbert(x)
    zp = np.pad(z, win // 2, mode="reflect")
    n_frames = 1 + len(x) // hop
    m = np.arange(win) - win / 2
    w = np.exp(-0.5 * (m / (win / 6)) ** 2)
    w /= w.sum()
    frames = np.stack([zp[t * hop : t * hop + win] * w for t in range(n_frames)])
    power = np.abs(np.fft.fft(frames, axis=1)[:, : win // 2 + 1]).T ** 2  # (F, T)
    fb = np.arange(win // 2 + 1) * sr / win
    half = (taps - 1) // 2
    dt = np.arange(-half, half + 1) * hop / sr
    out = np.zeros((len(readout["center_frequency_hz"]), n_frames))
    padded = np.pad(power, ((0, 0), (half, half)))
    for k in range(out.shape[0]):
        mu = readout["center_frequency_hz"][k]
        st = readout["duration_ms"][k] / 1000
        sf = readout["bandwidth_hz"][k]
        rho = readout["correlation"][k]
        u = dt[None, :] / st
        v = (fb[:, None] - mu) / sf
        phi = np.exp(-(u * u - 2 * rho * u * v + v * v) / (2 * (1 - rho * rho)))
        phi /= phi.sum()
        for t in range(n_frames):
            out[k, t] = (phi * padded[:, t : t + taps]).sum()
    return out


# ---------------------------------------------------------------- the mathematics


def test_order0_with_window_kernels_is_smoothed_gaussian_spectrogram():
    """S-method order 0 + kernels equal to the Gaussian window's WV (init="stft") == the
    Gaussian-window spectrogram smoothed by the same kernels, computed independently in numpy.
    Tolerance: max |diff| <= 1e-12 * max |reference| in float64 (seen: 5e-16) and 1e-5 in float32
    (seen: 3e-7). The same identity is then checked with chirped, unequal kernels."""
    sr, win, hop, taps = 8000, 64, 16, 5
    rng = np.random.default_rng(0)
    x = rng.standard_normal(600) * 0.3 + np.cos(2 * np.pi * 1000 * np.arange(600) / sr)
    layer = LearnableWVD(6, win, hop, 0, taps, sr, init="stft", window="gaussian").double()
    r = {k: v.numpy() for k, v in layer.readout().items()}
    # the kernels are the WV of the window exp(-m^2 / 2 s^2): sigma_t = s / sqrt 2 (up to the
    # window's truncation at +-3 s), sigma_t sigma_w = 1/2, rho = 0, linear centres
    s = win / 6 / sr
    assert np.allclose(r["duration_ms"], 1000 * s / math.sqrt(2), rtol=1e-3)
    assert np.allclose(r["time_bandwidth_product"], 0.5, rtol=1e-5)
    assert not r["super_resolution"].any() and np.all(r["correlation"] == 0)
    assert np.allclose(np.diff(r["center_frequency_hz"]), 4000 / 6)
    for kernels in ("window WV", "chirped"):
        if kernels == "chirped":
            layer.set_filters([300, 900, 1500, 2100, 2900, 3700], [1.0, 2.0, 3.0, 1.5, 4.0, 2.5],
                              [150, 90, 300, 60, 200, 120], [0.0, 0.5, -0.6, 0.3, 0.85, -0.2])
            r = {k: v.numpy() for k, v in layer.readout().items()}
        ref = numpy_reference(x, sr, win, hop, taps, r)
        out = layer.double()(torch.from_numpy(x))[0].detach().numpy()
        assert out.shape == ref.shape == (6, 1 + 600 // hop)
        assert np.abs(out - ref).max() <= 1e-12 * np.abs(ref).max(), kernels
        out32 = layer.float()(torch.from_numpy(x).float())[0].detach().numpy()
        assert np.abs(out32 - ref).max() <= 1e-5 * np.abs(ref).max(), kernels


def test_delta_kernel_returns_the_spectrogram_bin():
    """A kernel of one tap and far less than a bin wide, centred on bin b, returns |S(t, b)|^2."""
    sr, win, hop = 8000, 64, 16
    x = torch.randn(400, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    layer = LearnableWVD(3, win, hop, 0, 1, sr).double()
    bins = [5, 12, 20]
    layer.set_filters([b * sr / win for b in bins], 1.0, 0.01, 0.0)
    spec = torch.stft(analytic_signal(x), win, hop, window=layer.analysis_window(), center=True,
                      pad_mode="reflect", onesided=False, return_complex=True).abs() ** 2
    assert torch.allclose(layer(x)[0], spec[bins], rtol=1e-9, atol=0)


def test_analytic_signal_matches_scipy():
    x = np.random.default_rng(2).standard_normal((2, 101))
    assert np.allclose(analytic_signal(torch.from_numpy(x)).numpy(), scipy.signal.hilbert(x), atol=1e-12)


def test_s_method_order0_is_power_and_sharpens_a_chirp():
    sr = 8000
    x = chirp(sr, 4000, 1000, 20000)
    s_prev = None
    for order in (0, 2, 8):
        sm = LearnableWVD(4, 256, 32, order, 1, sr).double().wv_estimate(x)[0][:, 40:80]
        p = sm.clamp_min(0)
        p = p / p.sum(0)
        concentration = float((p**2).sum(0).mean())  # 1 = all energy of a frame in one bin
        if s_prev is not None:
            assert concentration > 1.5 * s_prev
        s_prev = concentration
    s = torch.randn(3, 5, 7, dtype=torch.complex128)
    assert torch.allclose(s_method(s, 0), s.abs() ** 2)
    # order 1 by hand at an inner bin
    b = 2
    expect = s[:, b].abs() ** 2 + 2 * (s[:, b + 1] * s[:, b - 1].conj()).real
    assert torch.allclose(s_method(s, 1)[:, b], expect)


@pytest.mark.parametrize("rate", [-4000.0, 0.0, 2000.0, 6000.0])
def test_linear_chirp_peaks_in_the_filter_with_its_chirp_rate(rate):
    """Filters with the same centre, duration and conditional spread but chirp rates -6..6 kHz/s:
    a linear chirp through that centre responds most in the filter whose chirp_rate matches."""
    sr, n = 8000, 4000
    rates = torch.tensor([-6000.0, -4000.0, -2000.0, 0.0, 2000.0, 4000.0, 6000.0], dtype=torch.float64)
    sigma_t, kappa = 0.008, 30.0  # s, Hz
    sigma_f = torch.sqrt(kappa**2 + (rates * sigma_t) ** 2)
    layer = LearnableWVD(len(rates), 256, 32, 4, 15, sr).double()
    layer.set_filters(2250.0, 1000 * sigma_t, sigma_f, rates * sigma_t / sigma_f)
    r = layer.readout()
    assert torch.allclose(r["chirp_rate_hz_per_s"], rates, rtol=1e-4, atol=1e-2)
    x = chirp(sr, n, 2250.0 - rate * 0.25, rate)  # 2250 Hz at t = 0.25 s
    y = layer(x)[0, :, int(0.25 * sr) // 32].detach()
    assert float(r["chirp_rate_hz_per_s"][int(y.argmax())]) == pytest.approx(rate, abs=1.0)


def test_gradcheck_float64_tiny():
    torch.manual_seed(0)
    layer = LearnableWVD(3, 16, 4, 2, 3, 1000).double()
    layer.set_filters([120.0, 250.0, 400.0], [4.0, 6.0, 3.0], [40.0, 70.0, 100.0], [0.3, -0.5, 0.0])
    x = torch.randn(2, 40, dtype=torch.float64, requires_grad=True)
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for _, p in layer.named_parameters()]

    def f(x, *ps):
        return torch.func.functional_call(layer, dict(zip(names, ps)), (x,))

    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-6, rtol=1e-4)


# ---------------------------------------------------------------- shapes, units, errors


def test_shapes_and_parameter_count():
    layer = LearnableWVD(n_filters=10, win_length=64, hop_length=16, sample_rate=8000)
    assert sum(p.numel() for p in layer.parameters()) == 4 * 10
    assert layer(torch.randn(3, 1000)).shape == (3, 10, 1 + 1000 // 16)
    assert layer(torch.randn(3, 1, 1000)).shape == (3, 10, 63)
    assert layer(torch.randn(1000)).shape == (1, 10, 63)
    assert layer.n_frames(1000) == 63
    assert layer.kernel_weight().shape == (10, 33, 9)
    assert torch.allclose(layer.kernel_weight().sum(dim=(1, 2)), torch.ones(10))
    assert layer(torch.randn(2, 1000, dtype=torch.float64)).dtype == torch.float64
    default = LearnableWVD()
    assert (default.n_filters, default.win_length, default.hop_length, default.sample_rate) == (64, 512, 128, 16000)
    assert LearnableWVD(sample_rate=44100).win_length == 1412  # 32 ms, even
    rebuilt = LearnableWVD(**layer.config)
    rebuilt.load_state_dict(layer.state_dict())
    x = torch.randn(2, 1000)
    assert torch.equal(rebuilt(x), layer(x))


def test_layer_and_loss_on_device(device):
    layer = LearnableWVD(8, 64, 16, sample_rate=8000).to(device)
    x = torch.randn(2, 1, 700, device=device, requires_grad=True)
    y = layer(x)
    assert y.device.type == torch.device(device).type and y.shape == (2, 8, 1 + 700 // 16)
    loss = LWVDLoss(8000, n_filters=8, win_length=64).to(device)
    loss(x, torch.randn(2, 1, 700, device=device)).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_gabor_readout_units():
    layer = LearnableWVD(n_filters=32, sample_rate=16000)
    r = layer.readout()
    assert set(r) >= {"center_frequency_hz", "duration_ms", "bandwidth_hz", "chirp_rate_hz_per_s", "super_resolution"}
    mu = r["center_frequency_hz"]
    assert torch.all(mu[1:] > mu[:-1]) and 0 < mu[0] < 100 and 7000 < mu[-1] < 8000
    g = gabor_filters(32, 16000)
    assert torch.allclose(mu, g["center_frequency_hz"], rtol=1e-5)
    # Heisenberg bound: sigma_t [s] * 2 pi sigma_f [Hz] = 1/2, not super-resolution
    prod = r["duration_ms"] / 1000 * 2 * math.pi * r["bandwidth_hz"]
    assert torch.allclose(prod, torch.full_like(prod, 0.5), rtol=1e-5)
    assert not r["super_resolution"].any()
    assert torch.all(r["chirp_rate_hz_per_s"] == 0)
    # constant Q at high frequency: bandwidth grows with the centre
    assert r["bandwidth_hz"][-1] > 5 * r["bandwidth_hz"][0]
    # halve the duration -> below the bound; a chirplet's WV (area 1/2, rho != 0) is not below it
    layer.set_filters(mu, r["duration_ms"] / 2, r["bandwidth_hz"], 0.0)
    assert layer.readout()["super_resolution"].all()
    st, kappa, c = 0.004, 1 / (4 * math.pi * 0.004), 5000.0
    sf = math.sqrt(kappa**2 + (c * st) ** 2)
    layer.set_filters(1000.0, 1000 * st, sf, c * st / sf)
    r = layer.readout()
    assert torch.allclose(r["time_bandwidth_product"], torch.full((32,), 0.5, dtype=torch.float64), rtol=1e-5)
    assert not r["super_resolution"].any()
    assert torch.allclose(r["chirp_rate_hz_per_s"], torch.full((32,), c, dtype=torch.float64), rtol=1e-4)


def test_parameters_stay_valid_after_wild_updates():
    layer = LearnableWVD(5, 64, 16, 1, 3, 8000)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 50)
    r = layer.readout()
    assert torch.all((r["center_frequency_hz"] >= 0) & (r["center_frequency_hz"] <= 4000))
    assert torch.all(r["duration_ms"] > 0) and torch.all(r["bandwidth_hz"] > 0)
    assert torch.all(r["correlation"].abs() <= RHO_MAX)
    assert torch.isfinite(layer(torch.randn(2, 500))).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_filters": 0}, "n_filters"),
        ({"win_length": 63}, "win_length"),
        ({"win_length": 2}, "win_length"),
        ({"hop_length": 0}, "hop_length"),
        ({"smoothing_bins": -1}, "smoothing_bins"),
        ({"win_length": 16, "smoothing_bins": 9}, "smoothing_bins"),
        ({"kernel_frames": 4}, "kernel_frames"),
        ({"sample_rate": 0}, "sample_rate"),
        ({"init": "mel"}, "init"),
        ({"window": "hamming"}, "window"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LearnableWVD(**kwargs)


def test_bad_inputs_and_filters():
    layer = LearnableWVD(4, 64, 16, sample_rate=8000)
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        layer(torch.randn(2, 3, 500))
    with pytest.raises(ValueError, match="too short"):
        layer(torch.randn(2, 32))
    with pytest.raises(ValueError, match="floating"):
        layer(torch.ones(2, 500, dtype=torch.int64))
    with pytest.raises(ValueError, match="center_frequency_hz"):
        layer.set_filters(4000.0, 1.0, 10.0)
    with pytest.raises(ValueError, match="correlation"):
        layer.set_filters(1000.0, 1.0, 10.0, 0.95)
    with pytest.raises(ValueError, match="duration_ms"):
        layer.set_filters(1000.0, 0.0, 10.0)
    with pytest.raises(ValueError, match="4 values"):
        layer.set_filters([1000.0, 2000.0], 1.0, 10.0)
    with pytest.raises(ValueError, match="floor"):
        log_magnitude(torch.ones(3), floor=0)


# ---------------------------------------------------------------- the loss


def test_lwvd_loss():
    torch.manual_seed(0)
    loss = LWVDLoss(8000, n_filters=16)
    assert list(loss.parameters()) == []
    target = 0.1 * torch.randn(3, 1, 2048)
    assert float(loss(target, target.clone())) == 0.0
    pred = (target + 0.02 * torch.randn_like(target)).requires_grad_(True)
    value = loss(pred, target)
    assert value.dim() == 0 and float(value.detach()) > 0
    value.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    # (N, L) works the same; the value is the mean |log10 difference| of the maps
    assert torch.allclose(loss(pred[:, 0], target[:, 0]), value)
    lp = log_magnitude(loss.tfr(pred.detach()))
    lt = log_magnitude(loss.tfr(target))
    assert torch.allclose(value, (lp - lt).abs().mean())
    # a step against the gradient lowers it
    with torch.no_grad():
        stepped = pred - 1e-3 * pred.grad / pred.grad.abs().max()
    assert float(loss(stepped, target)) < float(value.detach())
    with pytest.raises(ValueError, match="same shape"):
        loss(pred, target[:, :, :1000])


# ---------------------------------------------------------------- figures


def test_figures_write_png(tmp_path):
    from chipsr.tasks.audio.tfr import plot_tfr, tf_comparison_figure

    sr = 8000
    x = (0.3 * chirp(sr, 4000, 500, 4000) + 0.01 * torch.randn(4000, dtype=torch.float64)).numpy()
    out = plot_tfr(x, sr, tmp_path / "tfr.png", n_filters=16, dpi=40)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    low = scipy.signal.resample_poly(scipy.signal.decimate(x, 4), 4, 1)[: len(x)]
    layer = LearnableWVD(16, 128, 32, sample_rate=sr)
    out = tf_comparison_figure({"low-res": low, "high-res": x[:3000]}, sr, tmp_path / "cmp.png", layer=layer, dpi=40)
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp.png", "tfr.png"]  # no temporary left
    with pytest.raises(ValueError, match="1-D"):
        plot_tfr(np.zeros((2, 100)), sr, tmp_path / "bad.png")
    with pytest.raises(ValueError, match="sample_rate"):
        plot_tfr(x, 16000, tmp_path / "bad.png", layer=layer)
    with pytest.raises(ValueError, match="at least one"):
        tf_comparison_figure({}, sr, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()
