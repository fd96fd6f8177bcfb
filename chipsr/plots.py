"""Every figure chipsr draws, for the three tasks.

Arrays (or parsed tables) in, PNG out: each function draws with matplotlib's object API
(``matplotlib.figure.Figure`` on the Agg canvas, never pyplot: no global state, no display needed)
and returns PNG bytes or writes a file atomically (:func:`chipsr.io.atomic.atomic_output`). Nothing
here reads the data it shows.

ChIP-seq
    :func:`training_curves` -- validation Pearson r per epoch of every model (``chipsr report``).
Audio
    :func:`spectrogram_figure` -- stacked STFT spectrograms (``chipsr audio evaluate``, PREFIX.png).
    :func:`tf_comparison_figure` -- one row per signal (e.g. low-res / super-resolved / high-res),
    columns STFT log-power and learnable Wigner-Ville (LWVD) map, shared colour scale per column
    (``chipsr audio evaluate``, PREFIX.tfr.png).
    :func:`plot_tfr` -- one signal's LWVD map beside the filters' 1-sigma ellipses in the
    time-frequency plane (``chipsr audio tfr``).
    :func:`tfr_db`, :func:`stft_db` -- the arrays these figures show.
Imputation
    :func:`imputation_example` -- one series: truth, hidden points and each method's imputation at
    them (``chipsr impute evaluate``, the .png beside the results).

Audio levels are in dB re the power of a full-scale complex sinusoid (``10 log10(|C| + floor)``,
see :func:`chipsr.core.wvd.log_magnitude`), shown over an ``80``-dB range below the figure's
maximum. The LWVD layer is that of Balestriero, Glotin & Baraniuk, "Interpretable and Learnable
Super-Resolution Time-Frequency Representation", MSML 2021 (PMLR 145:118-152).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from chipsr.core.wvd import DEFAULT_FLOOR, LearnableWVD, log_magnitude
from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import atomic_output

__all__ = ["DYNAMIC_RANGE_DB", "imputation_example", "plot_tfr", "spectrogram_figure", "stft_db",
           "tf_comparison_figure", "tfr_db", "training_curves"]


def training_curves(logs: Mapping[str, str | os.PathLike]) -> bytes:
    """Validation Pearson r per epoch of every model, one panel per target mark (PNG bytes).

    Parameters
    ----------
    logs : mapping of label to path
        ``MARK.ARCH[.seedN]`` -> the model's ``.epochs.tsv`` (``chipsr train``: columns epoch,
        train_loss, valid_loss, valid_metric, ...). One line per model; the seeds of one
        architecture share a colour.

    Raises
    ------
    ChipsrInputError
        A missing or malformed epochs TSV (named), or a label without a mark.
    """
    import pandas as pd
    from matplotlib.figure import Figure

    by_mark: dict[str, list[tuple[str, object]]] = {}
    for label, path in logs.items():
        mark, dot, rest = label.partition(".")
        if not (mark and dot and rest):
            raise ChipsrInputError(f"--training-log {label!r}: expected MARK.ARCH[.seedN]=EPOCHS.tsv")
        try:
            frame = pd.read_csv(path, sep="\t")
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise ChipsrInputError(f"{path}: cannot read the epochs TSV ({exc})") from None
        if not {"epoch", "valid_metric"} <= set(frame.columns):
            raise ChipsrInputError(f"{path}: an epochs TSV needs the columns epoch and valid_metric")
        by_mark.setdefault(mark, []).append((rest, frame))
    fig = Figure(figsize=(4.2 * len(by_mark), 3.2), layout="constrained")
    colors: dict[str, str] = {}
    for i, (mark, curves) in enumerate(by_mark.items()):
        ax = fig.add_subplot(1, len(by_mark), i + 1)
        labelled: set[str] = set()
        for rest, frame in curves:
            arch = re.sub(r"\.seed\d+$", "", rest)
            color = colors.setdefault(arch, f"C{len(colors)}")
            ax.plot(frame["epoch"], frame["valid_metric"], color=color, linewidth=1, alpha=0.8,
                    label=None if arch in labelled else arch)
            labelled.add(arch)
        ax.set_title(f"{mark}: validation Pearson r per epoch", fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel("valid r", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# audio

#: Colour range of the maps, in dB below the figure's (or column's) maximum.
DYNAMIC_RANGE_DB = 80.0
#: Maps with more frames than this are max-pooled over time for display (long files stay light).
MAX_DISPLAY_FRAMES = 4000


def _check_audio(audio, name: str = "audio") -> np.ndarray:
    a = np.asarray(audio)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array (L,) of mono samples; got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise ValueError(f"{name} must hold real numbers; got dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds NaN or infinite samples")
    return a.astype(np.float32, copy=False)


def _layer_for(layer: LearnableWVD | None, sample_rate: float, n_filters: int) -> LearnableWVD:
    if not sample_rate > 0:
        raise ValueError(f"sample_rate must be > 0 Hz; got {sample_rate}")
    if layer is None:
        return LearnableWVD(n_filters=n_filters, sample_rate=sample_rate)
    if not isinstance(layer, LearnableWVD):
        raise TypeError(f"layer must be a LearnableWVD; got {type(layer).__name__}")
    if abs(layer.sample_rate - float(sample_rate)) > 1e-9:
        raise ValueError(f"layer.sample_rate ({layer.sample_rate:g} Hz) differs from sample_rate ({sample_rate:g} Hz)")
    return layer


def _check_length(a: np.ndarray, layer: LearnableWVD, name: str) -> None:
    if len(a) <= layer.win_length // 2:
        raise ValueError(
            f"{name} is too short: {len(a)} samples; need more than win_length // 2 = {layer.win_length // 2}"
        )


def tfr_db(audio: np.ndarray, layer: LearnableWVD, floor: float = DEFAULT_FLOOR) -> np.ndarray:
    """LWVD map of one signal in dB: ``10 log10(|C| + floor)``.

    Parameters
    ----------
    audio : numpy.ndarray, shape (L,)
        Mono samples at ``layer.sample_rate`` (scale: [-1, 1]).
    layer : LearnableWVD
    floor : float
        Added to ``|C|`` before the log (map units).

    Returns
    -------
    numpy.ndarray, shape (K, T), float32
        Rows in the layer's filter order (not necessarily sorted by frequency).
    """
    a = _check_audio(audio)
    _check_length(a, layer, "audio")
    p = next(layer.parameters())
    with torch.no_grad():
        c = layer(torch.as_tensor(a, dtype=p.dtype, device=p.device))[0]
        return (10.0 * log_magnitude(c, floor)).float().cpu().numpy()


def stft_db(audio: np.ndarray, n_fft: int, hop_length: int, floor: float = DEFAULT_FLOOR) -> np.ndarray:
    """STFT log-power in dB: ``10 log10(|X|^2 / (sum w)^2 + floor)``, one-sided, periodic Hann.

    ``torch.stft`` with ``center=True`` and reflect padding; normalised by the window sum so that
    a real sinusoid of amplitude ``A`` reads ``A^2 / 4`` at its bin.

    Returns
    -------
    numpy.ndarray, shape (n_fft // 2 + 1, 1 + L // hop_length), float32
    """
    a = torch.as_tensor(_check_audio(audio), dtype=torch.float32)
    if len(a) <= n_fft // 2:
        raise ValueError(f"audio is too short: {len(a)} samples; need more than n_fft // 2 = {n_fft // 2}")
    w = torch.hann_window(n_fft, periodic=True)
    with torch.no_grad():
        x = torch.stft(a, n_fft, hop_length, window=w, center=True, pad_mode="reflect", return_complex=True)
        p = x.abs().square() / float(w.sum()) ** 2
        return (10.0 * torch.log10(p + floor)).numpy()


def _pool_time(db: np.ndarray, max_frames: int = MAX_DISPLAY_FRAMES) -> tuple[np.ndarray, int]:
    """Max-pool (.., T) over groups of frames so that T <= max_frames; returns (array, group)."""
    t = db.shape[-1]
    g = max(1, -(-t // max_frames))
    if g == 1:
        return db, 1
    pad = (-t) % g
    if pad:
        db = np.concatenate([db, np.repeat(db[..., -1:], pad, axis=-1)], axis=-1)
    return db.reshape(*db.shape[:-1], -1, g).max(axis=-1), g


def _edges(centres: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Cell edges around sorted centres: midpoints inside, clipped to [lo, hi] at the ends."""
    mid = (centres[1:] + centres[:-1]) / 2.0
    if len(centres) == 1:
        return np.array([lo, hi])
    first = max(lo, centres[0] - (mid[0] - centres[0]))
    last = min(hi, centres[-1] + (centres[-1] - mid[-1]))
    return np.concatenate([[first], mid, [last]])


def _draw_lwvd(ax, db: np.ndarray, layer: LearnableWVD, vmin: float, vmax: float):
    """pcolormesh of a (K, T) dB map on a linear Hz axis, rows placed at the filters' centres."""
    mu = layer.readout()["center_frequency_hz"].double().cpu().numpy()
    order = np.argsort(mu)
    db, g = _pool_time(db[order])
    hop_s = layer.hop_s * g
    t_edges = (np.arange(db.shape[1] + 1) - 0.5) * hop_s
    f_edges = _edges(mu[order], 0.0, layer.nyquist)
    return ax.pcolormesh(t_edges, f_edges, db, vmin=vmin, vmax=vmax, cmap="magma", shading="flat", rasterized=True)


def _draw_stft(ax, db: np.ndarray, sample_rate: float, n_fft: int, hop: int, vmin: float, vmax: float):
    db, g = _pool_time(db)
    t_edges = (np.arange(db.shape[1] + 1) - 0.5) * hop * g / sample_rate
    bin_hz = sample_rate / n_fft
    f_edges = np.clip((np.arange(db.shape[0] + 1) - 0.5) * bin_hz, 0.0, sample_rate / 2.0)
    return ax.pcolormesh(t_edges, f_edges, db, vmin=vmin, vmax=vmax, cmap="magma", shading="flat", rasterized=True)


def _ellipses(ax, layer: LearnableWVD) -> None:
    """Each filter's 1-sigma ellipse in (time offset ms, frequency Hz); red = super-resolution."""
    r = {k: v.double().cpu().numpy() for k, v in layer.readout().items()}
    theta = np.linspace(0.0, 2.0 * np.pi, 73)
    c, s = np.cos(theta), np.sin(theta)
    span = 0.0
    for mu, d, b, rho, sup in zip(r["center_frequency_hz"], r["duration_ms"], r["bandwidth_hz"],
                                  r["correlation"], r["super_resolution"]):
        # Cholesky factor of [[d^2, rho d b], [rho d b, b^2]] applied to the unit circle
        x = d * c
        y = mu + b * (rho * c + np.sqrt(1.0 - rho * rho) * s)
        ax.plot(x, y, color="C3" if sup else "C0", linewidth=0.7)
        span = max(span, d)
    half = 1000.0 * layer.hop_s * (layer.kernel_frames - 1) / 2.0
    lim = max(3.0 * span, half, 1000.0 * layer.hop_s / 2.0)
    ax.set_xlim(-lim, lim)
    if half > 0:
        ax.axvspan(-half, half, color="0.92", zorder=0, linewidth=0)
    ax.set_xlabel("time offset (ms)", fontsize=8)
    n_sup = int(r["super_resolution"].sum())
    ax.set_title(f"filters, 1σ ellipses\n{n_sup}/{len(r['super_resolution'])} super-res (red)", fontsize=8)


def plot_tfr(
    audio: np.ndarray,
    sample_rate: float,
    path: str | os.PathLike,
    layer: LearnableWVD | None = None,
    n_filters: int = 64,
    title: str | None = None,
    dpi: int = 110,
) -> Path:
    """Write a PNG of one signal's LWVD map and the filters' ellipses (``chipsr audio tfr``).

    Left: the map ``10 log10(|C| + floor)`` dB (rows at the filters' centre frequencies, frames at
    ``t * hop / sample_rate`` s; maps longer than 4000 frames are max-pooled over time for
    display). Right, on the same frequency axis: each filter's kernel as its 1-sigma ellipse in
    (time offset in ms, frequency in Hz) -- centre ``mu``, half-width ``duration_ms``, half-height
    ``bandwidth_hz``, tilt from the chirp correlation (slope ``chirp_rate_hz_per_s``); red where
    the kernel is below the Heisenberg bound (``readout()["super_resolution"]``); the grey band is
    the kernel's support (``kernel_frames`` hops).

    Parameters
    ----------
    audio : numpy.ndarray, shape (L,)
        Mono samples in [-1, 1] at ``sample_rate``; ``L > win_length // 2``.
    sample_rate : float
        Hz.
    path : str or PathLike
        Output PNG; written atomically (a temporary file renamed on success).
    layer : LearnableWVD, optional
        A trained or hand-set layer (its ``sample_rate`` must equal ``sample_rate``). Default: a
        Gabor-initialised ``LearnableWVD(n_filters, sample_rate=sample_rate)``.
    n_filters : int
        Filters of the default layer (ignored when ``layer`` is given).
    title : str, optional
        Figure title (default: a description of the layer).
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If ``audio`` is not a finite 1-D real array or is too short, or the layer's sample rate
        differs. :class:`chipsr.errors.ChipsrInputError` if the output directory does not exist.
    """
    from matplotlib.figure import Figure

    a = _check_audio(audio)
    layer = _layer_for(layer, sample_rate, n_filters)
    _check_length(a, layer, "audio")
    db = tfr_db(a, layer)
    vmax = float(db.max())
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    grid = fig.add_gridspec(1, 2, width_ratios=[4.0, 1.0])
    ax = fig.add_subplot(grid[0])
    mesh = _draw_lwvd(ax, db, layer, vmax - DYNAMIC_RANGE_DB, vmax)
    ax.set_xlabel("time (s)", fontsize=8)
    ax.set_ylabel("frequency (Hz)", fontsize=8)
    ax.set_ylim(0, layer.nyquist)
    bar = fig.colorbar(mesh, ax=ax, pad=0.01)
    bar.set_label("dB", fontsize=8)
    ax2 = fig.add_subplot(grid[1], sharey=ax)
    _ellipses(ax2, layer)
    ax2.tick_params(labelleft=False)
    for a_ in (ax, ax2, bar.ax):
        a_.tick_params(labelsize=7)
    ax.set_title(
        title
        or f"LWVD map: {layer.n_filters} filters, {layer.win_length}-sample frames, hop {layer.hop_length}, "
        f"S-method order {layer.smoothing_bins}, {layer.sample_rate:g} Hz",
        fontsize=9,
    )
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)


def tf_comparison_figure(
    signals: dict[str, np.ndarray],
    sample_rate: float,
    path: str | os.PathLike,
    layer: LearnableWVD | None = None,
    n_filters: int = 64,
    title: str | None = None,
    dpi: int = 110,
) -> Path:
    """Write a PNG comparing signals: one row each, columns STFT log-power and LWVD map.

    Both columns use the layer's frame (``win_length`` samples, periodic Hann for the STFT) and
    hop, on a linear frequency axis 0 .. Nyquist. Each column has one colour scale for all rows
    (its maximum over all signals, 80 dB range), so a missing high band in the low-res row reads
    as dark, not as rescaled noise.

    Parameters
    ----------
    signals : dict of str -> numpy.ndarray, shape (L_i,)
        Row label -> mono samples, all at ``sample_rate`` (put the low-res signal on the
        high-res grid first, e.g. the model's spline input). Lengths may differ. Rows are drawn
        in the dict's order, e.g. ``{"low-res": ..., "super-resolved": ..., "high-res": ...}``.
    sample_rate : float
        Hz.
    path : str or PathLike
        Output PNG, written atomically.
    layer : LearnableWVD, optional
        Default: a Gabor-initialised ``LearnableWVD(n_filters, sample_rate=sample_rate)``.
    n_filters : int
        Filters of the default layer.
    title : str, optional
    dpi : int

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If ``signals`` is empty, a signal is not a finite 1-D real array or is too short, or the
        layer's sample rate differs.
    """
    from matplotlib.figure import Figure

    arrays, layer = _checked_signals(signals, sample_rate, layer, n_filters)
    n_fft, hop = layer.win_length, layer.hop_length
    stfts = {k: stft_db(a, n_fft, hop) for k, a in arrays.items()}
    maps = {k: tfr_db(a, layer) for k, a in arrays.items()}
    t_max = max(len(a) for a in arrays.values()) / float(sample_rate)
    n = len(arrays)
    fig = Figure(figsize=(11, 2.3 * n + 0.6), layout="constrained")
    axes = fig.subplots(n, 2, sharex=True, sharey=True, squeeze=False)
    meshes = _draw_comparison_rows(axes, stfts, maps, layer, sample_rate)
    _frame_comparison(fig, axes, meshes, layer, t_max)
    if title:
        fig.suptitle(title, fontsize=10)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)


def _checked_signals(signals: dict, sample_rate: float, layer: LearnableWVD | None,
                     n_filters: int) -> tuple[dict[str, np.ndarray], LearnableWVD]:
    """The signals as checked float arrays by row label, and the LWVD layer (the default one when
    ``layer`` is None). Raises ValueError as :func:`tf_comparison_figure` documents."""
    if not signals:
        raise ValueError("signals must hold at least one named signal")
    arrays = {str(k): _check_audio(v, f"signals[{k!r}]") for k, v in signals.items()}
    layer = _layer_for(layer, sample_rate, n_filters)
    for k, a in arrays.items():
        _check_length(a, layer, f"signals[{k!r}]")
    return arrays, layer


def _draw_comparison_rows(axes, stfts: dict, maps: dict, layer: LearnableWVD, sample_rate: float) -> tuple:
    """Draw each signal's row: its STFT (left) and LWVD map (right), each column on one colour scale
    (its maximum over all rows, :data:`DYNAMIC_RANGE_DB` range). Returns the last row's two meshes
    (for the colour bars)."""
    n_fft, hop = layer.win_length, layer.hop_length
    s_max = max(float(v.max()) for v in stfts.values())
    m_max = max(float(v.max()) for v in maps.values())
    for i, name in enumerate(stfts):
        m1 = _draw_stft(axes[i, 0], stfts[name], sample_rate, n_fft, hop, s_max - DYNAMIC_RANGE_DB, s_max)
        m2 = _draw_lwvd(axes[i, 1], maps[name], layer, m_max - DYNAMIC_RANGE_DB, m_max)
        axes[i, 0].set_ylabel(f"{name}\nfrequency (Hz)", fontsize=8)
        for ax in axes[i]:
            ax.tick_params(labelsize=7)
    return m1, m2


def _frame_comparison(fig, axes, meshes: tuple, layer: LearnableWVD, t_max: float) -> None:
    """Column titles, axis limits (0 .. ``t_max`` s, 0 .. Nyquist), time labels and a dB colour bar per
    column."""
    axes[0, 0].set_title(f"STFT log-power (Hann {layer.win_length}, hop {layer.hop_length})", fontsize=9)
    axes[0, 1].set_title(
        f"LWVD ({layer.n_filters} filters, S-method order {layer.smoothing_bins})", fontsize=9
    )
    axes[0, 0].set_xlim(0, t_max)
    axes[0, 0].set_ylim(0, layer.nyquist)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)", fontsize=8)
    for col, mesh in enumerate(meshes):
        bar = fig.colorbar(mesh, ax=axes[:, col], pad=0.01, shrink=0.9)
        bar.set_label("dB", fontsize=8)
        bar.ax.tick_params(labelsize=7)


def spectrogram_figure(signals: dict, rate: int, path: Path, title: str = "") -> Path:
    """A PNG with one log-power spectrogram (n_fft 1024, hop 256, dB) per signal, stacked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 2.2 * len(signals)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(signals), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, sig) in zip(axes, signals.items()):
        db = stft_db(np.asarray(sig, dtype=np.float32), 1024, 256)
        ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=db.max() - 90, vmax=db.max(),
                  extent=(0, len(sig) / rate, 0, rate / 2000))
        ax.set_ylabel("kHz")
        ax.set_title(name, fontsize=9, loc="left")
    axes[-1].set_xlabel("time (s)")
    if title:
        fig.suptitle(title, fontsize=10)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    return path


# ----------------------------------------------------------------------------------------------
# imputation


def imputation_example(result: dict, path: str | os.PathLike, setting: str) -> None:
    """Write a PNG of one series: truth, hidden points and each method's imputation at them.

    Shows the ``series`` context when it was run (else ``window``); ZeroFill and Mean are left
    out (off the scale).

    Parameters
    ----------
    result : dict
        The benchmark's result (``chipsr.tasks.impute.evaluate.run``): ``result["example"]`` holds
        ``start``, ``stop`` (test steps), ``truth`` (original units, None = missing), ``hidden``
        (bools), ``imputations`` (``METHOD@CONTEXT`` -> values), ``feature``, ``seed``;
        ``result["protocol"]["dataset"]`` names the data. Nothing is written when
        ``result["example"]`` is None.
    path : str or PathLike
        Output PNG, written atomically.
    setting : str
        The missingness setting as shown in the title, e.g. ``"MCAR 10%"``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ex = result["example"]
    if ex is None:
        return
    fig = Figure(figsize=(11, 4.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    t = np.arange(ex["start"], ex["stop"])
    truth = np.array([np.nan if v is None else v for v in ex["truth"]])
    hidden = np.array(ex["hidden"], bool)
    ax.plot(t, truth, color="black", lw=1.2, label="truth (observed)", zorder=3)
    ax.scatter(t[hidden], truth[hidden], s=28, facecolors="none", edgecolors="red", zorder=4,
               label="hidden (truth)")
    names = list(ex["imputations"])
    ctx = "@series" if any(n.endswith("@series") for n in names) else "@window"
    shown = [n for n in names if n.endswith(ctx) and not n.startswith(("ZeroFill", "Mean"))]
    markers = "osD^vP*Xh<>p"
    for k, name in enumerate(shown):
        v = np.array(ex["imputations"][name])
        ax.plot(t[hidden], v[hidden], marker=markers[k % len(markers)], ls="none", ms=4.5, alpha=0.85,
                color=f"C{k % 10}", label=name)
    ax.set_xlabel("test step")
    ax.set_ylabel(f"{ex['feature']} (original units)")
    ax.set_title(f"{result['protocol']['dataset']}: {ex['feature']}, {setting}, "
                 f"seed {ex['seed']}: imputations at the hidden steps")
    ax.legend(fontsize=7, ncol=3, loc="best")
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png")


def evaluation_figure(path, locus, locus_tracks: Mapping[str, np.ndarray], truth_locus: np.ndarray,
                      bin_size: int, scatter_name: str, x: np.ndarray, y: np.ndarray, r_label: str,
                      hexbin_min: int = 5_000) -> None:
    """The ``chipsr evaluate`` PNG: locus panels (one per track, then the truth) above a scatter, or a
    hexbin beyond ``hexbin_min`` points, of one track against the truth.

    Parameters
    ----------
    path : path or file
        Where the PNG goes.
    locus : chipsr.io.genome.Region
        The locus shown (its bins stay on the genome grid of ``bin_size`` bp).
    locus_tracks : mapping of str to ndarray, each (n,)
        Each track's bin values over the locus.
    truth_locus : ndarray, shape (n,)
    bin_size : int
        bp per bin.
    scatter_name : str
        The track scattered against the truth.
    x, y : ndarray, shape (m,)
        That track's and the truth's values over every evaluated bin.
    r_label : str
        Their Pearson r, as printed in the title.
    hexbin_min : int
        Points above which a log-scaled hexbin replaces the scatter.
    """
    from matplotlib.figure import Figure

    names = [*locus_tracks, "truth"]
    series = [*locus_tracks.values(), truth_locus]
    n = len(names)
    fig = Figure(figsize=(10, 1.3 * n + 4.5), layout="constrained")
    grid = fig.add_gridspec(n + 1, 1, height_ratios=[1.0] * n + [3.5])
    first_bp = (locus.start // bin_size) * bin_size  # bins stay on the genome grid
    centres = (first_bp + (np.arange(len(truth_locus)) + 0.5) * bin_size) / 1e6
    top = None
    for i, (name, values) in enumerate(zip(names, series)):
        ax = fig.add_subplot(grid[i], sharex=top)
        top = top or ax
        color = "black" if name == "truth" else f"C{i}"
        ax.fill_between(centres, values, step="mid", color=color, alpha=0.35, linewidth=0)
        ax.plot(centres, values, drawstyle="steps-mid", color=color, linewidth=0.6)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
        if i < n - 1:
            ax.tick_params(labelbottom=False)
    top.set_title(f"{locus} ({bin_size}-bp bins)", fontsize=9)
    fig.axes[-1].set_xlabel(f"{locus.chrom} position (Mb)", fontsize=8)
    ax = fig.add_subplot(grid[n])
    if len(x) > hexbin_min:
        hb = ax.hexbin(y, x, gridsize=80, bins="log", mincnt=1, cmap="viridis")
        bar = fig.colorbar(hb, ax=ax)
        bar.set_label("bins (log scale)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    else:
        ax.scatter(y, x, s=4, alpha=0.5, linewidths=0)
    hi = float(max(x.max(initial=0.0), y.max(initial=0.0)))
    ax.plot([0, hi], [0, hi], color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlabel("truth (bin mean)", fontsize=8)
    ax.set_ylabel(f"{scatter_name} (bin mean)", fontsize=8)
    ax.set_title(f"{scatter_name} vs truth, all evaluated bins: Pearson r = {r_label}", fontsize=9)
    ax.tick_params(labelsize=7)
    fig.savefig(path, format="png", dpi=110)
