"""Training data for the ChIP-seq denoiser: signal scaling and seeded random crops of regions.

The training recipe (measured in the README's ablation table):

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

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.genome import Region
from chipsr.io.tracks import BigWigFile, read_binned

TRANSFORMS = ("none", "arcsinh", "log1p")
INPUT_TRANSFORMS = ("scaled", "log1p")


@dataclass
class Scaling:
    """Signal transform and per-channel scaling, fitted on the training region.

    The tracks reaching it are already in depth-invariant units (each divided by
    its own genome-wide mean: :func:`track_means`), so the constants
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
        """Fit on training bins: x (k, n), y (n,) (:class:`ScalingSums` over one chunk).

        Raises
        ------
        ChipsrInputError
            An unknown transform, or a mark or target that is all zeros in the training region.
        """
        sums = ScalingSums(transform, input_transform, len(names))
        sums.add(x, np.reshape(y, (1, -1)))
        return sums.scaling(names, target_name)

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


class ScalingSums:
    """Running sums that fit a :class:`Scaling` chunk by chunk, so the training bins of a whole
    genome never have to sit in memory at once. Sums are kept in float64.

    Parameters
    ----------
    transform : {"none", "arcsinh", "log1p"}
    input_transform : {"scaled", "log1p"}
    n_channels : int
        Input channels k.

    Raises
    ------
    ChipsrInputError
        An unknown transform.
    """

    def __init__(self, transform: str, input_transform: str, n_channels: int):
        if transform not in TRANSFORMS:
            raise ChipsrInputError(f"--transform {transform!r}: expected one of {', '.join(TRANSFORMS)}")
        if input_transform not in INPUT_TRANSFORMS:
            raise ChipsrInputError(
                f"--input-transform {input_transform!r}: expected one of {', '.join(INPUT_TRANSFORMS)}")
        self.transform, self.input_transform = transform, input_transform
        self.x_sum, self.x_count = np.zeros(n_channels), 0
        self.y_sum, self.y_count = 0.0, 0

    def add(self, x: np.ndarray, y: np.ndarray, clean: np.ndarray | None = None) -> None:
        """Add one chunk: x (k, n) or (D, k, n) depth sets (each set's bins count), y (1, n);
        ``clean`` (n,) bool selects the bins that count (not blacklisted), all when None."""
        x = x.reshape(-1, x.shape[-2], x.shape[-1])
        if clean is not None:
            x, y = x[..., clean], y[..., clean]
        fx = np.maximum(x, 0) if self.input_transform == "log1p" else Scaling._f(self.transform, x)
        self.x_sum += fx.sum(axis=(0, 2), dtype=np.float64)
        self.x_count += fx.shape[0] * fx.shape[2]
        self.y_sum += float(Scaling._f(self.transform, y).sum(dtype=np.float64))
        self.y_count += y.shape[-1]

    def scaling(self, names: list[str], target_name: str) -> Scaling:
        """The fitted :class:`Scaling`.

        Raises
        ------
        ChipsrInputError
            A mark (named in ``names``) or the target is all zeros over the bins added.
        """
        fx = self.x_sum / max(self.x_count, 1)
        fy = self.y_sum / max(self.y_count, 1)
        for name, m in zip(names, fx):
            if not m > 0:
                raise ChipsrInputError(f"mark {name} is all zeros in the training region")
        if not fy > 0:
            raise ChipsrInputError(f"target {target_name} is all zeros in the training region")
        return Scaling(self.transform, [float(v) for v in fx], float(fy), self.input_transform)


def true_runs(mask: np.ndarray) -> np.ndarray:
    """Maximal runs of True in a 1-D bool array, as an (m, 2) int64 array of [start, end) indices."""
    edges = np.diff(np.concatenate(([False], np.asarray(mask, dtype=bool), [False])).view(np.int8))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1).astype(np.int64)


def usable_runs(nonzero: np.ndarray, blacklisted: np.ndarray, window: int) -> np.ndarray:
    """The usable window starts of one region, as runs: a window [s, s + window) is usable when it
    touches no blacklisted bin and holds some non-zero bin.

    Parameters
    ----------
    nonzero, blacklisted : ndarray of bool, shape (n,)
        Bins where some track is non-zero; bins that touch a blacklisted region.
    window : int
        Window length in bins.

    Returns
    -------
    ndarray of int64, shape (m, 2)
        Sorted, disjoint [start, end) runs of usable start bins. Memory is O(n) bytes for the masks
        and O(runs) otherwise, so a chromosome at 1-bp bins (249M bins) fits.
    """
    n = len(nonzero)
    if n < window:
        return np.zeros((0, 2), dtype=np.int64)
    zero = true_runs(~np.asarray(nonzero, dtype=bool))
    zero = zero[zero[:, 1] - zero[:, 0] >= window]
    bad = [np.stack([zero[:, 0], zero[:, 1] - window + 1], axis=1)]  # windows inside a zero run
    black = true_runs(blacklisted)
    bad.append(np.stack([np.maximum(black[:, 0] - window + 1, 0), black[:, 1]], axis=1))
    bad = np.concatenate(bad)
    bad = bad[np.argsort(bad[:, 0], kind="stable")]
    runs, cursor, last = [], 0, n - window + 1  # complement of the union of bad runs in [0, last)
    for a, b in bad:
        if a > cursor:
            runs.append((cursor, min(a, last)))
        cursor = max(cursor, b)
        if cursor >= last:
            break
    if cursor < last:
        runs.append((cursor, last))
    out = np.array([r for r in runs if r[1] > r[0]], dtype=np.int64)
    return out.reshape(-1, 2)


def runs_to_starts(runs: np.ndarray) -> np.ndarray:
    """Expand (m, 2) [start, end) runs into every start they hold (int64)."""
    runs = np.asarray(runs, dtype=np.int64).reshape(-1, 2)
    lengths = runs[:, 1] - runs[:, 0]
    if not lengths.sum():
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(runs[:, 0] - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(lengths.sum(), dtype=np.int64) + offsets


def starts_to_runs(starts: np.ndarray) -> np.ndarray:
    """Sorted unique start bins -> (m, 2) [start, end) runs (the inverse of :func:`runs_to_starts`)."""
    starts = np.asarray(starts, dtype=np.int64)
    if not len(starts):
        return np.zeros((0, 2), dtype=np.int64)
    breaks = np.flatnonzero(np.diff(starts) != 1) + 1
    first = np.concatenate([[0], breaks])
    last = np.concatenate([breaks, [len(starts)]]) - 1
    return np.stack([starts[first], starts[last] + 1], axis=1)


def usable_starts(x: np.ndarray, y: np.ndarray, blacklisted: np.ndarray, window: int) -> np.ndarray:
    """Start bins of the usable windows of one region (:func:`usable_runs`, expanded).

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
    return runs_to_starts(usable_runs(nonzero_bins(x, y), blacklisted, window))


def nonzero_bins(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n,) bool: bins where some input (of any depth set, (k, n) or (D, k, n)) or the target (1, n)
    is non-zero."""
    n = x.shape[-1]
    return np.any(np.asarray(x).reshape(-1, n) != 0, axis=0) | np.any(np.asarray(y) != 0, axis=0)


def _identity(a: np.ndarray) -> np.ndarray:
    return a


class RandomCrops:
    """A map-style dataset of seeded random training crops, re-drawn by :meth:`set_epoch`.

    Parameters
    ----------
    xs : list of array-likes, each (k, n_i) or (D, k, n_i)
        Inputs of each training region: numpy arrays or memory-mapped
        :class:`chipsr.io.arrays.LazyArray` (a genome's bins stay on disk and each crop
        reads only its window). With a leading axis of D depth sets (the same marks
        subsampled to several depths), every crop draws its input set uniformly at random (seeded;
        a separate stream, so D = 1 draws the same crops).
    ys : list of array-likes, each (1, n_i)
        Targets of each region.
    starts : list of ndarray of int
        Usable window starts of each region: every start (:func:`usable_starts`) or, compactly,
        (m, 2) [start, end) runs of them (:func:`usable_runs`); both draw the same crops.
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
    inputs, target : callable or None
        Applied to each crop's x (k, L) and y (1, L) when it is read (e.g. :meth:`Scaling.inputs`,
        :meth:`Scaling.target`), so the stored bins can stay in their raw units; identity if None.

    Items are ``(x, y)`` float32 tensors of shapes (k, L) and (1, L).

    Raises
    ------
    ChipsrInputError
        No usable window in any region.
    """

    def __init__(self, xs, ys, starts, window: int, n_per_epoch: int, seed: int = 0, reverse: bool = True,
                 peak_fraction: float = 0.0, peak_quantile: float = 0.99, inputs=None, target=None):
        if not 0 <= peak_fraction <= 1:
            raise ChipsrInputError(f"--peak-fraction must be in [0, 1]; got {peak_fraction}")
        self.xs, self.ys, self.window = xs, ys, window
        self.inputs, self.target = inputs or _identity, target or _identity
        self.n, self.seed, self.reverse, self.peak_fraction = n_per_epoch, seed, reverse, peak_fraction
        self.runs = [np.asarray(st, dtype=np.int64).reshape(-1, 2) if np.ndim(st) == 2 else starts_to_runs(st)
                     for st in starts]
        # flat index of usable starts over all regions, then over each region's runs
        self.run_offsets = [np.concatenate([[0], np.cumsum(r[:, 1] - r[:, 0])]) for r in self.runs]
        counts = np.array([o[-1] for o in self.run_offsets])
        if counts.sum() == 0:
            raise ChipsrInputError("no usable training window (all blacklisted or empty)")
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        peak_region, peak_centres = [], []
        if peak_fraction > 0:
            usable_vals = np.concatenate([self._usable_bins_values(i) for i in range(len(ys))])
            cutoff = float(np.quantile(usable_vals, peak_quantile)) if len(usable_vals) else np.inf
            del usable_vals
            for i, y in enumerate(ys):
                if not len(self.runs[i]):
                    continue
                centres = np.flatnonzero(np.asarray(y[0]) >= cutoff)
                st = np.clip(centres - window // 2, 0, y.shape[1] - window)
                keep = self.is_usable(i, st)
                peak_region.append(np.full(keep.sum(), i))
                peak_centres.append(centres[keep])
            self.peak_cutoff = cutoff
        self.peak_region = np.concatenate(peak_region) if peak_region else np.zeros(0, dtype=np.int64)
        self.peak_centre = np.concatenate(peak_centres) if peak_centres else np.zeros(0, dtype=np.int64)
        self.set_epoch(0)

    def is_usable(self, region: int, starts: np.ndarray) -> np.ndarray:
        """Whether each start bin of ``region`` begins a usable window (bool, like ``starts``)."""
        return self.usable_in(self.runs[region], starts)

    @staticmethod
    def usable_in(runs: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Whether each of ``starts`` lies in one of the (m, 2) [start, end) ``runs``."""
        j = np.searchsorted(runs[:, 0], starts, side="right") - 1
        return (j >= 0) & (starts < runs[np.maximum(j, 0), 1])

    def _usable_bins_values(self, i: int) -> np.ndarray:
        """Target values of the bins covered by some usable window of region i."""
        covered = self.runs[i].copy()
        if not len(covered):
            return np.zeros(0, dtype=np.float32)
        covered[:, 1] += self.window - 1  # starts [a, b) cover bins [a, b - 1 + window)
        edges = np.zeros(self.ys[i].shape[1] + 1, dtype=np.int32)
        np.add.at(edges, covered[:, 0], 1)
        np.add.at(edges, covered[:, 1], -1)
        return np.asarray(self.ys[i][0])[np.cumsum(edges[:-1], dtype=np.int32) > 0]

    def _start_of(self, region: np.ndarray, flat: np.ndarray) -> np.ndarray:
        """The ``flat - offsets[region]``-th usable start of each region."""
        start = np.zeros(len(flat), dtype=np.int64)
        for r in np.unique(region):
            pick = region == r
            f = flat[pick] - self.offsets[r]
            j = np.searchsorted(self.run_offsets[r], f, side="right") - 1
            start[pick] = self.runs[r][j, 0] + f - self.run_offsets[r][j]
        return start

    def set_epoch(self, epoch: int) -> None:
        """Draw this epoch's crops (seeded by (seed, epoch))."""
        rng = np.random.default_rng([self.seed, epoch, 0x11])
        n_peak = int(round(self.n * self.peak_fraction)) if len(self.peak_centre) else 0
        flat = rng.integers(0, self.offsets[-1], size=self.n - n_peak)
        region = np.searchsorted(self.offsets, flat, side="right") - 1
        start = self._start_of(region, flat)
        if n_peak:
            pick = rng.integers(0, len(self.peak_centre), size=n_peak)
            jitter = rng.integers(-(self.window // 4), self.window // 4 + 1, size=n_peak)
            p_region = self.peak_region[pick]
            lengths = np.array([self.ys[r].shape[1] for r in p_region])
            centred = np.clip(self.peak_centre[pick] - self.window // 2, 0, lengths - self.window)
            p_start = np.clip(centred + jitter, 0, lengths - self.window)
            ok = np.array([self.is_usable(r, np.array([st]))[0] for r, st in zip(p_region, p_start)], dtype=bool)
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
        x = self.inputs(np.asarray((xr[d] if xr.ndim == 3 else xr)[:, s : s + self.window]))
        y = self.target(np.asarray(self.ys[r][:, s : s + self.window]))
        if flip:
            x, y = x[:, ::-1], y[:, ::-1]
        return (torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
                torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)))


class TiledWindows:
    """A map-style dataset of fixed windows (validation): item i is window ``items[i]``.

    Parameters
    ----------
    xs, ys : lists of array-likes
        As in :class:`RandomCrops`: (k, n_i) or (D, k, n_i) inputs and (1, n_i) targets per region.
    items : sequence of (region, depth set, start bin)
        The windows, in order.
    window : int
        Window length L in bins.
    inputs, target : callable or None
        Applied to each window when read (identity if None).

    Items are ``(x, y)`` float32 tensors of shapes (k, L) and (1, L).
    """

    def __init__(self, xs, ys, items, window: int, inputs=None, target=None):
        self.xs, self.ys, self.items, self.window = xs, ys, list(items), window
        self.inputs, self.target = inputs or _identity, target or _identity

    def __len__(self) -> int:
        return len(self.items)

    def arrays(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Window i as float32 numpy arrays x (k, L), y (1, L), transformed."""
        r, d, s = self.items[i]
        xr = self.xs[r]
        x = (xr[d] if xr.ndim == 3 else xr)[:, s : s + self.window]
        return (np.asarray(self.inputs(np.asarray(x)), dtype=np.float32),
                np.asarray(self.target(np.asarray(self.ys[r][:, s : s + self.window])), dtype=np.float32))

    def stack(self, index) -> tuple[np.ndarray, np.ndarray]:
        """Windows ``index`` (a range or sequence) stacked: x (N, k, L), y (N, 1, L)."""
        pairs = [self.arrays(i) for i in index]
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

    def __getitem__(self, i: int):
        import torch

        x, y = self.arrays(i)
        return torch.from_numpy(x), torch.from_numpy(y)


@dataclass
class CachedRegion:
    """One region's bins in an :class:`chipsr.io.arrays.ArrayStore`.

    Attributes
    ----------
    x : LazyArray, shape (D, k, n)
        Inputs (D depth sets of k channels) over the region's n bins, in the units the loader gave
        (fold enrichment over each track's genome-wide mean).
    y : LazyArray, shape (1, n)
        Target.
    runs : ndarray of int64, shape (m, 2)
        Usable window starts (:func:`usable_runs`).
    """

    x: object
    y: object
    runs: np.ndarray


def cache_regions(store, tag: str, lengths: list[int], load_chunk, window: int, sums: ScalingSums | None = None,
                  chunk_bins: int = 4_000_000) -> list[CachedRegion]:
    """Write regions' bins to memory-mapped arrays chunk by chunk (streaming training
    data), find their usable windows, and optionally add their non-blacklisted bins to ``sums``.

    Peak memory is one chunk of every track plus two bool masks per region (n bytes each), not
    the regions' bins: a genome at 25-bp bins (124M bins per track) trains within a few GiB.

    Parameters
    ----------
    store : chipsr.io.arrays.ArrayStore
        Where the arrays go (``<tag><i>.x.npy``, ``<tag><i>.y.npy``).
    tag : str
        Array name prefix (e.g. "train", "valid").
    lengths : list of int
        Bins of each region.
    load_chunk : callable
        ``load_chunk(i, a, b) -> (x, y, blacklisted)`` for bins [a, b) of region i: x (D, k, m)
        float32, y (1, m) float32, blacklisted (m,) bool.
    window : int
        Window length in bins (for the usable starts).
    sums : ScalingSums or None
        Accumulates the scaling fit over the non-blacklisted bins.
    chunk_bins : int
        Bins read per chunk.

    Returns
    -------
    list of CachedRegion
    """
    out = []
    for i, n in enumerate(lengths):
        nonzero, black = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        x_map = y_map = None
        for a in range(0, n, chunk_bins):
            b = min(n, a + chunk_bins)
            x, y, bl = load_chunk(i, a, b)
            if x_map is None:
                x_map = store.create(f"{tag}{i}.x", (x.shape[0], x.shape[1], n))
                y_map = store.create(f"{tag}{i}.y", (1, n))
            x_map[..., a:b], y_map[:, a:b] = x, y
            nonzero[a:b], black[a:b] = nonzero_bins(x, y), bl
            if sums is not None:
                sums.add(x, y, ~bl)
        x_map.flush()
        y_map.flush()
        del x_map, y_map
        out.append(CachedRegion(store.open(f"{tag}{i}.x"), store.open(f"{tag}{i}.y"),
                                usable_runs(nonzero, black, window)))
    return out


# ----------------------------------------------------------------------------------- tracks


def parse_named_tracks(specs, require_names: bool = False, option: str = "--marks") -> dict[str, Path]:
    """``["A.bw,B.bw", "name=C.bw"]`` -> ``{"A": A.bw, "B": B.bw, "name": C.bw}`` (order kept):
    :func:`chipsr.specs.named_paths` with paths as :class:`~pathlib.Path`.

    A track's default name is its file name without the bigWig suffix (an error when
    ``require_names``). ``option`` names the command-line option in messages.

    Raises
    ------
    ChipsrInputError
        No tracks, an item without ``NAME=`` when names are required, an empty name or path, or
        two tracks with the same name.
    """
    from chipsr.specs import named_paths

    return {name: Path(path) for name, path in named_paths(specs, option, require_names).items()}


def bigwig_sizes(path: Path) -> dict[str, int]:
    """Chromosome sizes (bp) of a bigWig, in file order.

    Raises
    ------
    ChipsrInputError
        Missing file or not a bigWig.
    """
    with BigWigFile(path) as bw:
        return dict(bw.chroms)


def bigwig_bin_size(path: Path, chrom: str, span: int = 10_000_000) -> int:
    """The resolution (bp) of a bigWig on ``chrom``: :meth:`chipsr.io.tracks.BigWigFile.resolution`."""
    with BigWigFile(path) as bw:
        return bw.resolution(chrom, span)


def check_tracks(named: dict[str, Path], target: Path | None = None, bin_size: int | None = None,
                 chrom: str | None = None, needs: str = "--bin-size") -> dict[str, int]:
    """Check that all tracks share chromosomes and sizes, and that each is a track of ``bin_size``-bp
    bins: its intervals lie on that grid (checked on ``chrom``: a chromosome with signal, e.g. the
    training region's; default the largest) and not on a coarser one (a 100-bp track read at 25-bp
    bins would be a step function that looks like a track: when ``chrom``'s boundaries all fall on a
    coarser grid, every chromosome is looked at before the track is refused). ``needs`` names what
    asks for the bin size in messages (``--bin-size``, or the model).

    Returns
    -------
    dict of str to int
        The common chromosome sizes (bp), in the first track's order.

    Raises
    ------
    ChipsrInputError
        A missing file, different chromosome sets or sizes (naming both files and the
        chromosome), or a track whose bin size is not ``bin_size`` (naming the file, its bin size
        and the expected one).
    """
    paths = list(named.values()) + ([target] if target is not None else [])
    reference = bigwig_sizes(paths[0])
    for path in paths[1:]:
        sizes = bigwig_sizes(path)
        if set(sizes) != set(reference):
            only = sorted(set(sizes) ^ set(reference))[:3]
            raise ChipsrInputError(f"{path} and {paths[0]} have different chromosomes (e.g. {', '.join(only)})")
        for name, size in sizes.items():  # not ``chrom``: that names the chromosome checked below
            if reference[name] != size:
                raise ChipsrInputError(
                    f"{path}: {name} is {size} bp but {reference[name]} bp in {paths[0]}")
    if bin_size is not None:
        chrom = chrom if chrom in reference else max(reference, key=reference.get)
        for path in paths:
            resolution = bigwig_bin_size(path, chrom)
            if resolution % bin_size != 0 and resolution < reference[chrom]:
                raise ChipsrInputError(
                    f"{path}: its intervals are on a {resolution}-bp grid, not a multiple of the bin size "
                    f"{bin_size} bp ({needs}); rebuild it with `chipsr coverage --bin-size {bin_size}`")
            if bin_size < resolution < reference[chrom]:
                with BigWigFile(path) as bw:  # chromosomes without signal give their length: left out
                    grids = [r for c, size in bw.chroms.items() if (r := bw.resolution(c)) < size]
                resolution = math.gcd(*grids)
                if bin_size < resolution < max(reference.values()):
                    raise ChipsrInputError(
                        f"{path}: a track of {resolution}-bp bins, but {needs} needs {bin_size}-bp bins; rebuild "
                        f"it with `chipsr coverage --bin-size {bin_size}`")
    return reference


def load_bins(paths, chrom: str, bin_size: int, start: int = 0, end: int | None = None) -> np.ndarray:
    """Bin means of several bigWigs over ``[start, end)`` of one chromosome.

    Returns
    -------
    ndarray of float32, shape (len(paths), n_bins)
        n_bins = ceil((end - start) / bin_size); ``start`` must be a multiple of ``bin_size``.
    """
    return np.stack([read_binned(p, chrom, bin_size, start, end) for p in paths]).astype(np.float32)


def mark_sets(marks) -> list[dict[str, Path]]:
    """One or several sets of the same marks (depth sets): ``{name: path}`` or a list of them.

    Raises
    ------
    ChipsrInputError
        No set, or a set whose mark names or order differ from the first set's.
    """
    sets = [marks] if isinstance(marks, dict) else list(marks)
    if not sets:
        raise ChipsrInputError("--marks: no tracks given")
    names = list(sets[0])
    for i, other in enumerate(sets[1:], 2):
        if list(other) != names:
            raise ChipsrInputError(
                f"--depth-set {i - 1} names {', '.join(other)}; every depth set must name the marks of --marks "
                f"in the same order ({', '.join(names)})")
    return sets


def track_means(paths, bin_size: int, blacklist: dict | None = None) -> list[float]:
    """Each track's genome-wide mean bin value (:func:`chipsr.io.tracks.genome_mean`): the
    denominators of chipsr's depth-invariant units (:data:`chipsr.io.tracks.FE_UNITS`), taken from
    every track itself at train and at denoise time, never from another sample's statistics.

    Raises
    ------
    ChipsrInputError
        A track that is zero everywhere outside the blacklist (or not a bigWig).
    """
    from chipsr.io.tracks import genome_mean

    cache: dict[str, float] = {}
    out = []
    for p in paths:
        key = str(Path(p).resolve())
        if key not in cache:
            cache[key] = genome_mean(p, bin_size, blacklist)["mean"]
        out.append(cache[key])
    return out


# ---------------------------------------------------------------------------------- windows


def region_bins(region: Region, sizes: dict[str, int], bin_size: int) -> tuple[int, int]:
    """``(start_bp, end_bp)`` of a region snapped outwards to the bin grid, clipped to the chromosome.

    Raises
    ------
    ChipsrInputError
        Unknown chromosome, or a region starting beyond the chromosome end.
    """
    if region.chrom not in sizes:
        raise ChipsrInputError(f"region {region}: chromosome {region.chrom} is not in the tracks")
    size = sizes[region.chrom]
    if region.start is not None and (region.start >= size or region.end > size):
        raise ChipsrInputError(f"region {region}: outside {region.chrom} (length {size} bp)")
    start, end = region.bounds(size)
    return (start // bin_size) * bin_size, min(size, -(-end // bin_size) * bin_size)


def check_splits(splits: dict[str, list[Region]], sizes: dict[str, int]) -> None:
    """Refuse overlapping regions: between two splits (a window would be trained on and scored), or
    within one (its bins would count twice).

    Parameters
    ----------
    splits : dict of str to list of Region
        Split name (``train``, ``valid``, ``test``) -> its regions.
    sizes : dict of str to int
        Chromosome sizes (bp) of the regions' chromosomes.

    Raises
    ------
    ChipsrInputError
        Naming both regions and their splits.
    """
    names = list(splits)
    for i, a in enumerate(names):
        own = list(splits[a])
        for k, region in enumerate(own):
            hit = regions_overlap([region], own[k + 1:], sizes)
            if hit:
                raise ChipsrInputError(f"{a} regions overlap: {hit[0]} and {hit[1]}; give each stretch once")
        for b in names[i + 1:]:
            hit = regions_overlap(own, list(splits[b]), sizes)
            if hit:
                raise ChipsrInputError(f"{a}/{b} regions overlap: {hit[0]} and {hit[1]}; splits must be disjoint")


def regions_overlap(a: list[Region], b: list[Region], sizes) -> tuple[Region, Region] | None:
    """The first pair of overlapping regions between two lists, or None."""
    for ra in a:
        for rb in b:
            if ra.chrom != rb.chrom:
                continue
            sa, ea = ra.bounds(sizes[ra.chrom])
            sb, eb = rb.bounds(sizes[rb.chrom])
            if sa < eb and sb < ea:
                return ra, rb
    return None
