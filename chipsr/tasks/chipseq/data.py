"""Training data for the ChIP-seq denoiser: signal scaling and seeded random crops of regions.

The training recipe (issue 11; measured in the README's ablation table):

- **Random crops re-drawn every epoch.** Each epoch draws ``n_per_epoch`` fresh windows of
  ``window`` bins at random positions of the training regions (seeded by (seed, epoch), so a run
  and its resumption see the same crops), instead of a fixed tiling: the model never sees the
  same window twice, which acts as strong augmentation on a small training region.
- **Reversal.** Each crop is reversed along the genome with probability 0.5: histone ChIP-seq
  coverage has no strand, so a mirrored locus is an equally valid example.
- **Peak-enriched sampling** (Coda, Koh et al. 2017, Methods: half its training windows centred
  on peaks). A fraction ``peak_fraction`` of the crops is centred (+- window/4, uniformly) on a
  bin drawn uniformly from the *peak bins*: usable bins whose full-depth target is at or above
  its ``peak_quantile`` quantile over the usable training bins. The rest are drawn uniformly
  over usable start positions.
- A window is **usable** when it touches no blacklisted bin and some track is non-zero in it
  (all-zero windows are assembly gaps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chipsr.errors import ChipsrInputError

TRANSFORMS = ("none", "arcsinh", "log1p")
INPUT_TRANSFORMS = ("scaled", "log1p")


@dataclass
class Scaling:
    """Signal transform and per-channel scaling, fitted on the training region.

    Since issue 12 the tracks reaching it are already in depth-invariant units (each divided by
    its own genome-wide mean: :func:`chipsr.tasks.chipseq.model.track_means`), so the constants
    below are properties of the model, not of the training sample's depth.

    Target: y' = f(y) / target_scale with f in {identity, arcsinh, log1p}; the output is
    inverted as y = f^-1(y' * target_scale) and clipped at 0.

    Inputs, ``input_transform="scaled"`` (the default): x' = f(x) / mean f(x), with the target's
    f and the mean of each mark over the training bins (``input_scale``); with f = identity, a
    fold enrichment over the mark's average depth. ``"log1p"``: x' = log1p(x / mean x), a
    compressed fold enrichment (it lost 0.04 r on H3K27ac: README, training recipe).

    Attributes
    ----------
    transform : {"none", "arcsinh", "log1p"}
    input_scale : list of float
        Per-mark mean over the training bins (of x for ``"log1p"``, of f(x) for ``"scaled"``).
    target_scale : float
        Mean of f(y) over the training bins.
    input_transform : {"scaled", "log1p"}
    """

    transform: str
    input_scale: list[float]
    target_scale: float
    input_transform: str = "scaled"

    @staticmethod
    def _f(kind: str, x: np.ndarray) -> np.ndarray:
        if kind == "arcsinh":
            return np.arcsinh(x)
        if kind == "log1p":
            return np.log1p(np.maximum(x, 0))
        return x

    @classmethod
    def fit(cls, transform: str, x: np.ndarray, y: np.ndarray, names: list[str], target_name: str,
            input_transform: str = "scaled") -> Scaling:
        """Fit on training bins: x (k, n), y (n,).

        Raises
        ------
        ChipsrInputError
            An unknown transform, or a mark or target that is all zeros in the training region.
        """
        if transform not in TRANSFORMS:
            raise ChipsrInputError(f"--transform {transform!r}: expected one of {', '.join(TRANSFORMS)}")
        if input_transform not in INPUT_TRANSFORMS:
            raise ChipsrInputError(
                f"--input-transform {input_transform!r}: expected one of {', '.join(INPUT_TRANSFORMS)}")
        fx = (np.maximum(x, 0) if input_transform == "log1p" else cls._f(transform, x)).mean(axis=1)
        fy = float(cls._f(transform, y).mean())
        for name, m in zip(names, fx):
            if not m > 0:
                raise ChipsrInputError(f"mark {name} is all zeros in the training region")
        if not fy > 0:
            raise ChipsrInputError(f"target {target_name} is all zeros in the training region")
        return cls(transform, [float(v) for v in fx], fy, input_transform)

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """(k, n) raw bins -> model inputs (k, n), float32."""
        scale = np.asarray(self.input_scale, dtype=np.float32)[:, None]
        if self.input_transform == "log1p":
            return np.log1p(np.maximum(x, 0) / scale).astype(np.float32)
        return (self._f(self.transform, x) / scale).astype(np.float32)

    def target(self, y: np.ndarray) -> np.ndarray:
        """raw target bins -> model target."""
        return (self._f(self.transform, y) / self.target_scale).astype(np.float32)

    def invert(self, y: np.ndarray) -> np.ndarray:
        """model output -> signal on the original scale (mean per-bp depth), >= 0."""
        v = y.astype(np.float64) * self.target_scale
        if self.transform == "arcsinh":
            v = np.sinh(v)
        elif self.transform == "log1p":
            v = np.expm1(v)
        return np.maximum(v, 0).astype(np.float32)


def usable_starts(x: np.ndarray, y: np.ndarray, blacklisted: np.ndarray, window: int) -> np.ndarray:
    """Start bins of the usable windows of one region.

    Parameters
    ----------
    x : ndarray, shape (k, n) or (D, k, n)
        Input marks (raw or scaled) over the region's n bins (D depth sets).
    y : ndarray, shape (1, n)
        Target over the same bins.
    blacklisted : ndarray of bool, shape (n,)
        Bins that touch a blacklisted region.
    window : int
        Window length in bins.

    Returns
    -------
    ndarray of int64
        Every s in [0, n - window] such that bins [s, s + window) hold no blacklisted bin and some
        non-zero value in some track.
    """
    n = x.shape[-1]
    if n < window:
        return np.zeros(0, dtype=np.int64)
    x = x.reshape(-1, n)  # depth sets (D, k, n): a bin counts when any set has signal
    nonzero = (np.any(x != 0, axis=0) | np.any(y != 0, axis=0)).astype(np.int64)
    black = blacklisted.astype(np.int64)
    cz = np.concatenate([[0], np.cumsum(nonzero)])
    cb = np.concatenate([[0], np.cumsum(black)])
    s = np.arange(n - window + 1)
    ok = (cb[s + window] - cb[s] == 0) & (cz[s + window] - cz[s] > 0)
    return s[ok]


class RandomCrops:
    """A map-style dataset of seeded random training crops, re-drawn by :meth:`set_epoch`.

    Parameters
    ----------
    xs : list of ndarray, each (k, n_i) or (D, k, n_i), float32
        Model inputs (already scaled) of each training region; with a leading axis of D depth
        sets (issue 12: the same marks subsampled to several depths), every crop draws its
        input set uniformly at random (seeded; a separate stream, so D = 1 draws the same crops).
    ys : list of ndarray, each (1, n_i), float32
        Model targets of each region.
    starts : list of ndarray of int
        Usable window starts of each region (:func:`usable_starts`).
    window : int
        Crop length L in bins.
    n_per_epoch : int
        Crops per epoch (the dataset's length).
    seed : int
        With the epoch, seeds every draw (resumable, reproducible).
    reverse : bool
        Reverse each crop with probability 0.5.
    peak_fraction : float in [0, 1]
        Share of crops centred on peak bins (see the module docstring).
    peak_quantile : float in (0, 1)
        Target quantile that defines peak bins.

    Items are ``(x, y)`` float32 tensors of shapes (k, L) and (1, L).

    Raises
    ------
    ChipsrInputError
        No usable window in any region.
    """

    def __init__(self, xs, ys, starts, window: int, n_per_epoch: int, seed: int = 0, reverse: bool = True,
                 peak_fraction: float = 0.0, peak_quantile: float = 0.99):
        if not 0 <= peak_fraction <= 1:
            raise ChipsrInputError(f"--peak-fraction must be in [0, 1]; got {peak_fraction}")
        self.xs, self.ys, self.window = xs, ys, window
        self.n, self.seed, self.reverse, self.peak_fraction = n_per_epoch, seed, reverse, peak_fraction
        # flat index of usable starts over all regions: (region, start)
        self.starts = [np.asarray(s, dtype=np.int64) for s in starts]
        counts = np.array([len(s) for s in self.starts])
        if counts.sum() == 0:
            raise ChipsrInputError("no usable training window (all blacklisted or empty)")
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.usable = []
        for y, st in zip(ys, self.starts):
            mask = np.zeros(y.shape[1] + 1, dtype=bool)
            mask[st] = True
            self.usable.append(mask)
        # peak bins: centres whose clamped window start is usable
        peak_region, peak_centres = [], []
        if peak_fraction > 0:
            usable_vals = np.concatenate([self._usable_bins_values(i) for i in range(len(ys))])
            cutoff = float(np.quantile(usable_vals, peak_quantile)) if len(usable_vals) else np.inf
            for i, (y, s) in enumerate(zip(ys, self.starts)):
                if not len(s):
                    continue
                centres = np.flatnonzero(y[0] >= cutoff)
                st = np.clip(centres - window // 2, 0, y.shape[1] - window)
                keep = self.usable[i][st]
                peak_region.append(np.full(keep.sum(), i))
                peak_centres.append(centres[keep])
            self.peak_cutoff = cutoff
        self.peak_region = np.concatenate(peak_region) if peak_region else np.zeros(0, dtype=np.int64)
        self.peak_centre = np.concatenate(peak_centres) if peak_centres else np.zeros(0, dtype=np.int64)
        self.set_epoch(0)

    def _usable_bins_values(self, i: int) -> np.ndarray:
        s = self.starts[i]
        if not len(s):
            return np.zeros(0, dtype=np.float32)
        covered = np.zeros(self.ys[i].shape[1] + 1, dtype=np.int64)
        np.add.at(covered, s, 1)
        np.add.at(covered, s + self.window, -1)
        return self.ys[i][0][np.cumsum(covered)[:-1] > 0]

    def set_epoch(self, epoch: int) -> None:
        """Draw this epoch's crops (seeded by (seed, epoch))."""
        rng = np.random.default_rng([self.seed, epoch, 0x11])
        n_peak = int(round(self.n * self.peak_fraction)) if len(self.peak_centre) else 0
        flat = rng.integers(0, self.offsets[-1], size=self.n - n_peak)
        region = np.searchsorted(self.offsets, flat, side="right") - 1
        start = np.array([self.starts[r][f - self.offsets[r]] for r, f in zip(region, flat)], dtype=np.int64)
        if n_peak:
            pick = rng.integers(0, len(self.peak_centre), size=n_peak)
            jitter = rng.integers(-(self.window // 4), self.window // 4 + 1, size=n_peak)
            p_region = self.peak_region[pick]
            lengths = np.array([self.ys[r].shape[1] for r in p_region])
            centred = np.clip(self.peak_centre[pick] - self.window // 2, 0, lengths - self.window)
            p_start = np.clip(centred + jitter, 0, lengths - self.window)
            ok = np.array([self.usable[r][st] for r, st in zip(p_region, p_start)], dtype=bool)
            p_start = np.where(ok, p_start, centred)  # a jitter onto the blacklist falls back to the centre
            region = np.concatenate([region, p_region])
            start = np.concatenate([start, p_start])
        flip = rng.random(self.n) < 0.5 if self.reverse else np.zeros(self.n, dtype=bool)
        order = rng.permutation(self.n)
        n_sets = self.xs[0].shape[0] if self.xs[0].ndim == 3 else 1
        depth_set = np.random.default_rng([self.seed, epoch, 0x12]).integers(0, n_sets, size=self.n)
        self.crops = list(zip(region[order], start[order], flip, depth_set))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        import torch

        r, s, flip, d = self.crops[i]
        xr = self.xs[r]
        x = (xr[d] if xr.ndim == 3 else xr)[:, s : s + self.window]
        y = self.ys[r][:, s : s + self.window]
        if flip:
            x, y = x[:, ::-1], y[:, ::-1]
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
