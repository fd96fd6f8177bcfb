"""Multi-mark denoising models for ChIP-seq: training (``chipsr train``) and genome-wide
inference (``chipsr denoise``) on coverage bigWigs.

The setup is the TFiLM paper's (Birnbaum et al. 2019, Section 4.2): k low-depth marks in (a
(k, window) matrix of bins), one full-depth mark out, one model per target mark, windows of 1000
bins (25-bp bins: 25 kb, Coda's data), B = 2 TFiLM blocks, Adam, MSE. Every track is first put in
depth-invariant units, a fold enrichment over its own genome-wide mean (issue 12,
:func:`track_means`), then transformed (``none``, ``arcsinh`` or ``log1p``) and divided by a
per-channel constant fitted on the training region (stored in the checkpoint, inverted on output),
so the denoised track is a fold enrichment whatever the input's depth.
Splits are by region, never overlapping; windows touching the blacklist, or with no coverage in
any track (assembly gaps), are left out of training.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import same_file
from chipsr.io.genome import Region, overlaps_intervals
from chipsr.io.tracks import BigWigFile, read_binned
from chipsr.tasks.chipseq.data import (  # noqa: F401 (some re-exported)
    TRANSFORMS,
    RandomCrops,
    Scaling,
    ScalingSums,
    TiledWindows,
    cache_regions,
    runs_to_starts,
    usable_starts,
)

log = logging.getLogger(__name__)

ARCHS = ("tfilm", "conv", "coda", "linear")


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
    bw = BigWigFile(path)
    try:
        return dict(bw.chroms)
    finally:
        bw.close()


def bigwig_bin_size(path: Path, chrom: str, span: int = 10_000_000) -> int:
    """The resolution (bp) of a bigWig on ``chrom``: :meth:`chipsr.io.tracks.BigWigFile.resolution`."""
    bw = BigWigFile(path)
    try:
        return bw.resolution(chrom, span)
    finally:
        bw.close()


def check_tracks(named: dict[str, Path], target: Path | None = None, bin_size: int | None = None,
                 chrom: str | None = None) -> dict[str, int]:
    """Check that all tracks share chromosomes and sizes (and a resolution compatible with ``bin_size``,
    checked on ``chrom``: a chromosome with signal, e.g. the training region's; default the largest).

    Returns
    -------
    dict of str to int
        The common chromosome sizes (bp), in the first track's order.

    Raises
    ------
    ChipsrInputError
        A missing file, different chromosome sets or sizes (naming both files and the
        chromosome), or a track coarser than ``bin_size``.
    """
    paths = list(named.values()) + ([target] if target is not None else [])
    reference = bigwig_sizes(paths[0])
    for path in paths[1:]:
        sizes = bigwig_sizes(path)
        if set(sizes) != set(reference):
            only = sorted(set(sizes) ^ set(reference))[:3]
            raise ChipsrInputError(f"{path} and {paths[0]} have different chromosomes (e.g. {', '.join(only)})")
        for chrom, size in sizes.items():
            if reference[chrom] != size:
                raise ChipsrInputError(
                    f"{path}: {chrom} is {size} bp but {reference[chrom]} bp in {paths[0]}")
    if bin_size is not None:
        chrom = chrom if chrom in reference else max(reference, key=reference.get)
        for path in paths:
            resolution = bigwig_bin_size(path, chrom)
            if resolution % bin_size != 0 and resolution < reference[chrom]:
                raise ChipsrInputError(
                    f"{path}: its intervals are on a {resolution}-bp grid, not a multiple of the bin size "
                    f"{bin_size} bp; rebuild it with `chipsr coverage --bin-size {bin_size}`")
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
                f"--marks set {i} names {', '.join(other)}; every depth set must name the first set's marks "
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


# ---------------------------------------------------------------------------------- models


def least_squares_filter(model, x, y: np.ndarray | None = None, ridge: float = 1e-3, chunk: int = 256) -> None:
    """Set a :class:`~chipsr.core.models.LinearFilter` to the (ridge) least-squares solution.

    The multi-mark linear filter is a linear model, so its MSE optimum has a closed form: with
    every window's 'same'-padded lagged inputs as features, solve (X'X + ridge*I) w = X'y,
    accumulated over chunks of windows (memory O(chunk * window * k * width)).

    Parameters
    ----------
    model : LinearFilter
        Its ``conv`` (k inputs, 1 output, odd width) receives the weights and bias.
    x : ndarray, shape (N, k, L), or a dataset of windows
        Model inputs (already transformed/scaled); or, with ``y`` None, an object with ``len`` and
        ``stack(indices) -> (x (n, k, L), y (n, 1, L))`` (:class:`chipsr.tasks.chipseq.data.TiledWindows`),
        read a chunk at a time.
    y : ndarray, shape (N, 1, L), or None
        Targets.
    ridge : float
        L2 penalty relative to the mean diagonal of X'X.
    """
    import torch

    conv = model.conv
    k, width = conv.in_channels, conv.kernel_size[0]
    half = width // 2
    n_feat = k * width + 1
    xtx = np.zeros((n_feat, n_feat))
    xty = np.zeros(n_feat)
    for i in range(0, len(x), chunk):
        xi, yi = (x[i : i + chunk], y[i : i + chunk]) if y is not None else x.stack(range(i, min(i + chunk, len(x))))
        xb = np.pad(xi.astype(np.float64), ((0, 0), (0, 0), (half, half)))
        lagged = np.lib.stride_tricks.sliding_window_view(xb, width, axis=2)  # (n, k, L, width)
        feats = lagged.transpose(0, 2, 1, 3).reshape(-1, k * width)
        feats = np.concatenate([feats, np.ones((len(feats), 1))], axis=1)
        target = yi[:, 0].astype(np.float64).reshape(-1)
        xtx += feats.T @ feats
        xty += feats.T @ target
    xtx[np.diag_indices(n_feat - 1)] += ridge * np.trace(xtx) / n_feat
    w = np.linalg.solve(xtx, xty)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w[:-1].reshape(1, k, width)).to(conv.weight.dtype))
        conv.bias.copy_(torch.tensor([w[-1]], dtype=conv.bias.dtype))


def build_chipseq_model(arch: str, n_marks: int, window: int, blocks: int, width: float, depth: int,
                        dropout: float, residual_channel: int | None = None, gamma_offset: float = 1.0,
                        affine: bool = True, bidirectional: bool = False, backbone: str = "pool"):
    """The network for ``--arch`` (see :mod:`chipsr.core.models`): (N, k, window) -> (N, 1, window).

    ``residual_channel`` (U-Nets only): the network learns y - x for that input mark (the paper's
    additive residual). TFiLM only: ``gamma_offset`` 1 = identity-centred modulation
    (1 + gamma) * F + beta; ``affine`` False = gamma only, no beta (the reference code; the paper
    writes gamma * F + beta); ``bidirectional`` LSTMs (TFiLM paper, appendix C). U-Nets:
    ``backbone`` "pool" (the paper's dilated convolutions + max-pool) or "stride" (stride-2
    convolutions, the AudioUNet's; about half the compute).
    """
    from chipsr.core.models import build_model

    if arch == "tfilm":
        cfg = dict(name="tfilm_unet", in_channels=n_marks, out_channels=1, depth=depth, n_blocks=blocks,
                   width=width, dropout=dropout, residual_channel=residual_channel, gamma_offset=gamma_offset,
                   affine=affine, bidirectional=bidirectional, downsample=backbone)
    elif arch == "conv":
        cfg = dict(name="conv_unet", in_channels=n_marks, out_channels=1, depth=depth, width=width, dropout=dropout,
                   residual_channel=residual_channel, downsample=backbone)
    elif arch == "coda":
        cfg = dict(name="coda_cnn", in_channels=n_marks, out_channels=1, window=window + 1 - window % 2)
    elif arch == "linear":
        cfg = dict(name="linear_filter", in_channels=n_marks, out_channels=1, width=101)
    else:
        raise ChipsrInputError(f"--arch {arch!r}: expected one of {', '.join(ARCHS)}")
    return build_model(cfg)


def train(
    marks: dict[str, Path],
    target: Path,
    output: str | os.PathLike,
    train_regions: list[Region],
    valid_regions: list[Region],
    test_regions: list[Region] = (),
    arch: str = "tfilm",
    bin_size: int = 25,
    window: int = 1000,
    blocks: int = 2,
    width: float = 0.125,
    depth: int = 3,
    dropout: float = 0.1,
    transform: str = "none",
    epochs: int = 40,
    batch_size: int = 16,
    lr: float = 2e-3,
    patience: int | None = None,
    seed: int = 0,
    device: str | None = None,
    blacklist: dict | None = None,
    target_name: str | None = None,
    residual_mark: str | None = None,
    gamma_offset: float = 1.0,
    samples_per_epoch: int = 800,
    reverse: bool = True,
    peak_fraction: float = 0.0,
    lr_schedule: str = "cosine",
    select: str = "pearson",
    time_limit_s: float | None = None,
    input_transform: str = "scaled",
    target_peaks: str | os.PathLike | None = None,
    peak_type: str = "narrow",
    affine: bool = True,
    bidirectional: bool = False,
    backbone: str = "pool",
    resume: bool = False,
    references: dict | None = None,
    chunk_bins: int = 4_000_000,
    workers: int = 0,
) -> dict:
    """Train one denoising model for one target mark; write the checkpoint, ``<output>.epochs.tsv``
    and ``<output>.splits.json`` beside it.

    Every track is read in depth-invariant units (issue 12): divided by its own genome-wide mean
    (:func:`track_means`, over the non-blacklisted bins of the chromosomes it covers), so the
    model maps fold enrichments to a fold enrichment and applies to samples of any depth.

    Parameters
    ----------
    marks : dict of str to Path, or list of them
        Low-depth coverage bigWigs, by mark name; their order is the model's input channel order.
        A list gives depth sets (the same marks subsampled to several depths, e.g. 0.25x-4x):
        every training crop draws its input set at random and the validation windows rotate over the sets; the
        checkpoint records each mark's depth range (its mean per bin over the sets).
    references : dict of str to Path or None
        Deep tracks of related samples (another individual, tissue or cell line), appended as
        input channels after the marks, in this order; never the target's own file.
    target : Path
        Full-depth coverage bigWig of the target mark.
    output : path
        Checkpoint path (written atomically after every epoch: best weights + resumable state).
    train_regions, valid_regions, test_regions : list of Region
        Non-overlapping splits (the test regions are only recorded, for ``chipsr evaluate``).
    arch : {"tfilm", "conv", "coda", "linear"}
    bin_size : int
        bp per bin; the bigWigs must be on this grid.
    window : int
        Bins per training window (1000 in the paper).
    blocks : int
        TFiLM blocks per layer (B = 2 in the paper's ChIP-seq experiment).
    width, depth, dropout : float, int, float
        U-Net width multiplier, number of down blocks and dropout.
    transform : {"none", "arcsinh", "log1p"}
        Target transform (inverted on output).
    epochs, batch_size, lr, patience, seed, device :
        Training settings (:class:`chipsr.core.train.TrainConfig`); ``patience`` None = no early
        stopping.
    samples_per_epoch : int
        Random crops drawn afresh every epoch (:class:`chipsr.tasks.chipseq.data.RandomCrops`).
    reverse : bool
        Reverse each crop with probability 0.5 (coverage has no strand).
    peak_fraction : float
        Share of crops centred on the target's top-1 % bins (Coda's peak-enriched sampling).
    lr_schedule : {"cosine", "constant"}
        Cosine decay of the learning rate over all epochs, or constant.
    select : {"pearson", "loss"}
        The checkpoint kept: the epoch with the best validation Pearson r, or the lowest loss.
    time_limit_s : float or None
        Wall-clock budget (s): no new epoch starts after it (the cosine schedule still spans
        ``epochs``, so set both).
    affine, bidirectional : bool
        TFiLM variants: gamma and beta (True) or gamma only; uni- or bidirectional LSTMs.
    backbone : {"pool", "stride"}
        U-Nets: dilated convolutions + max-pool (the paper) or stride-2 convolutions.
    resume : bool
        Continue the interrupted run whose state is in ``OUTPUT.inprogress`` (written after every
        epoch; ``output`` itself appears only when training ends). Settings that change the model
        or its training (marks, splits, architecture, recipe, seed, the tracks' scale) are refused.
    input_transform : {"scaled", "log1p"}
        Per mark: the target's transform of x over its training mean (``none``: x / mean), or
        log1p(x / mean).
    blacklist : dict or None
        Merged blacklist intervals (:func:`chipsr.io.genome.read_bed_intervals`).
    target_name : str or None
        Name of the target mark (default: the target's file name).
    gamma_offset : float
        TFiLM: added to every gamma (1 = identity-centred modulation; 0 = the paper's form).
    residual_mark : str or None
        U-Nets: a mark name whose (scaled) input is added to the output, so the network learns the
        difference (typically the target mark's own low-depth track).
    target_peaks : path or None
        Full-depth peaks of the target (e.g. ``macs3 callpeak`` on the deep reads): the model card
        then stores the peak rule calibrated on the first validation region
        (:func:`chipsr.tasks.chipseq.peaks.calibrate_prediction`), which ``chipsr peaks --model``
        applies to the model's denoised tracks of new samples.
    peak_type : {"narrow", "broad"}
        The target mark's peaks (MACS3 ``bdgpeakcall`` or ``bdgbroadcall``).
    chunk_bins : int
        Bins read from the bigWigs at a time. The training and validation regions' bins are
        streamed (issue 15) into memory-mapped arrays in ``OUTPUT.cache/`` (removed when training
        ends; a killed run's is replaced by the next run), so memory does not grow with the
        regions: a genome at 25-bp bins trains within 3 GiB.
    workers : int
        ``DataLoader`` worker processes reading the crops (:class:`chipsr.core.train.TrainConfig`).

    Returns
    -------
    dict
        Summary: best epoch, best validation loss and Pearson r, windows used, seconds.

    Raises
    ------
    ChipsrInputError
        Inconsistent tracks, overlapping splits, regions outside chromosomes, a target or mark
        that is all zeros in the training region.
    """
    import torch

    from chipsr.core.metrics import pearson_r
    from chipsr.core.train import TrainConfig, fit
    from chipsr.io.checkpoint import CheckpointWriter, EpochTsv

    t0 = time.perf_counter()
    if arch not in ARCHS:
        raise ChipsrInputError(f"--arch {arch!r}: expected one of {', '.join(ARCHS)}")
    if window < 2 or bin_size < 1:
        raise ChipsrInputError(f"--window must be >= 2 bins and --bin-size >= 1 bp; got {window}, {bin_size}")
    target_name = target_name or parse_named_tracks([str(target)]).popitem()[0]
    from chipsr.core import distributed

    if batch_size % distributed.world_size():
        raise ChipsrInputError(f"--batch-size {batch_size} must be a multiple of the {distributed.world_size()} DDP "
                               f"processes (each takes --batch-size / processes: the total batch stays --batch-size)")
    if peak_type not in ("narrow", "broad"):
        raise ChipsrInputError(f"--peak-type must be narrow or broad, got {peak_type!r}")
    if target_peaks is not None:
        from chipsr.io.peaks import read_peak_intervals

        read_peak_intervals(target_peaks)  # a bad peak file fails before training
    if not train_regions or not valid_regions:
        raise ChipsrInputError("give at least one --train-region and one --valid-region")
    sets = mark_sets(marks)
    marks = sets[0]
    references = dict(references or {})
    for name, ref in references.items():
        if name in marks:
            raise ChipsrInputError(f"--reference {name}={ref}: the name {name!r} is also a mark; name it apart")
        if same_file(ref, target):
            raise ChipsrInputError(
                f"--reference {name}={ref} is the target file itself; a reference must be a deep track of "
                f"another sample (another individual, tissue or cell line)")
    channels = list(marks) + list(references)
    every = {f"{n}@{i}": p for i, st in enumerate(sets, 1) for n, p in st.items()}
    every.update({f"reference {n}": p for n, p in references.items()})
    sizes = check_tracks(every, target, bin_size, chrom=train_regions[0].chrom)
    for a, b, what in ((train_regions, valid_regions, "train/valid"), (train_regions, test_regions, "train/test"),
                       (valid_regions, test_regions, "valid/test")):
        hit = regions_overlap(list(a), list(b), sizes) if b else None
        if hit:
            raise ChipsrInputError(f"{what} regions overlap: {hit[0]} and {hit[1]}")
    for r in [*train_regions, *valid_regions, *test_regions]:
        region_bins(r, sizes, bin_size)
    if select not in ("pearson", "loss"):
        raise ChipsrInputError(f"--select {select!r}: expected pearson or loss")
    # depth-invariant units: every track over its own genome-wide mean (issue 12)
    set_paths = [list(st.values()) + list(references.values()) for st in sets]
    set_means = [track_means(ps, bin_size, blacklist) for ps in set_paths]
    target_mean = track_means([target], bin_size, blacklist)[0]
    depth_range = {n: [min(m[i] for m in set_means), max(m[i] for m in set_means)] for i, n in enumerate(marks)}
    log.info("units: fold enrichment over each track's genome-wide mean; %d depth set(s), mean per bin of %s: %s",
             len(sets), ", ".join(marks), "; ".join(", ".join(f"{v:.4g}" for v in m[:len(marks)]) for m in set_means))

    def load_chunk(region, a=0, b=None):
        """Fold-enrichment bins [a, b) of one region: x (D, channels, m), y (1, m), blacklisted (m,)."""
        start, end = region_bins(region, sizes, bin_size)
        lo, hi = start + a * bin_size, end if b is None else min(end, start + b * bin_size)
        x = np.stack([load_bins(ps, region.chrom, bin_size, lo, hi) / np.asarray(m, np.float32)[:, None]
                      for ps, m in zip(set_paths, set_means)])
        y = load_bins([target], region.chrom, bin_size, lo, hi) / np.float32(target_mean)
        edges = lo + np.arange(x.shape[-1] + 1, dtype=np.int64) * bin_size
        bl = blacklist.get(region.chrom) if blacklist else None
        black = overlaps_intervals(edges[:-1], edges[1:], bl) if bl is not None else np.zeros(x.shape[-1], bool)
        return x, y, black

    def lengths(regions):
        out = []
        for region in regions:
            start, end = region_bins(region, sizes, bin_size)
            out.append(-(-(end - start) // bin_size))
            if out[-1] < window:
                raise ChipsrInputError(f"region {region} is shorter than one window ({window} bins of {bin_size} bp)")
        return out

    train_lengths, valid_lengths = lengths(train_regions), lengths(valid_regions)
    # streaming training data (issue 15): the regions' bins go to memory-mapped arrays beside the
    # output, chunk by chunk; crops and validation windows read only their own bins
    from chipsr.io.arrays import ArrayStore

    store = ArrayStore(cache_path(output))
    try:
        sums = ScalingSums(transform, input_transform, len(channels))
        cached = cache_regions(store, "train", train_lengths, lambda i, a, b: load_chunk(train_regions[i], a, b),
                               window, sums=sums, chunk_bins=chunk_bins)
        n_usable = sum(int((c.runs[:, 1] - c.runs[:, 0]).sum()) for c in cached)
        if n_usable == 0:
            raise ChipsrInputError(f"no usable windows in {', '.join(map(str, train_regions))}")
        scaling = sums.scaling(channels, target_name)
        xs, ys = [c.x for c in cached], [c.y for c in cached]
        crops = RandomCrops(xs, ys, [c.runs for c in cached], window, samples_per_epoch, seed=seed, reverse=reverse,
                            peak_fraction=peak_fraction, inputs=scaling.inputs, target=scaling.target)
        # validation windows (tiled) rotate over the depth sets, window i from set i mod D: every depth is
        # scored, and validation costs what it costs with one set
        valid = cache_regions(store, "valid", valid_lengths, lambda i, a, b: load_chunk(valid_regions[i], a, b),
                              window, chunk_bins=chunk_bins)
        items, drop_va = [], 0
        for r, (c, n) in enumerate(zip(valid, valid_lengths)):
            tiles = np.arange(0, n - window + 1, window)
            ok = RandomCrops.usable_in(c.runs, tiles)
            drop_va += int((~ok).sum())
            items += [(r, (len(items) + j) % len(sets), int(o)) for j, o in enumerate(tiles[ok])]
        if not items:
            raise ChipsrInputError(f"no usable windows in {', '.join(map(str, valid_regions))}")
        va = TiledWindows([c.x for c in valid], [c.y for c in valid], items, window, inputs=scaling.inputs,
                          target=scaling.target)
        log.info("%d usable training window starts, %d random crops per epoch%s%s%s; %d validation windows "
                 "(%d left out)", n_usable, samples_per_epoch, ", reversed at p=0.5" if reverse else "",
                 f", {peak_fraction:.0%} centred on peak bins" if peak_fraction else "",
                 f", each from one of {len(sets)} depth sets" if len(sets) > 1 else "", len(items), drop_va)
        residual_channel = None
        if residual_mark is not None:
            if residual_mark not in marks:
                raise ChipsrInputError(f"--residual-mark {residual_mark!r} is not one of the marks: {', '.join(marks)}")
            residual_channel = list(marks).index(residual_mark)
        torch.manual_seed(seed)
        model = build_chipseq_model(arch, len(channels), window, blocks, width, depth, dropout, residual_channel,
                                    gamma_offset, affine=affine, bidirectional=bidirectional, backbone=backbone)
        if arch == "linear":  # start from the closed-form optimum (windows tiled at stride window/2;
            # with depth sets, window i from set i mod D: every depth, at the cost of one set)
            step = window // 2 or 1
            tiled = [(r, int(s)) for r, c in enumerate(cached) for s in runs_to_starts(c.runs) if s % step == 0]
            least_squares_filter(model, TiledWindows(xs, ys, [(r, i % len(sets), s) for i, (r, s) in enumerate(tiled)],
                                                     window, inputs=scaling.inputs, target=scaling.target))
        splits = {"train": [str(r) for r in train_regions], "valid": [str(r) for r in valid_regions],
                  "test": [str(r) for r in test_regions]}
        # what a resumed run must share with the interrupted one (anything else would train another model)
        settings = {"marks": list(marks), "references": list(references), "target": target_name,
                    "track_means": set_means, "target_mean": target_mean, "bin_size": bin_size, "window": window, "arch": arch,
                    "model": dict(model.config), "transform": transform, "input_transform": input_transform,
                    "input_scale": scaling.input_scale, "target_scale": scaling.target_scale, "splits": splits,
                    "usable_windows": n_usable, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                    "lr_schedule": lr_schedule, "select": select, "seed": seed, "samples_per_epoch": samples_per_epoch,
                    "reverse": reverse, "peak_fraction": peak_fraction}
        meta = {
            "task": "chipseq", "marks": list(marks), "target": target_name, "bin_size": bin_size, "window": window,
            "arch": arch, "transform": scaling.transform, "input_scale": scaling.input_scale,
            "target_scale": scaling.target_scale, "input_transform": scaling.input_transform, "splits": splits,
            "seed": seed, "settings": settings,
            "units": "fold_enrichment", "references": list(references), "depth_range": depth_range,
            "depth_sets": len(sets), "track_means": {"marks": [m[:len(marks)] for m in set_means],
                                                      "references": set_means[0][len(marks):], "target": target_mean},
            # the genome annotation the units were computed without (denoise reuses it by default)
            "blacklist": {c: [iv[0].tolist(), iv[1].tolist()] for c, iv in (blacklist or {}).items()},
            "data": {"marks": [{n: str(p) for n, p in st.items()} for st in sets],
                     "references": {n: str(p) for n, p in references.items()}, "target": str(target),
                     "bin_size": bin_size},
        }
        out = Path(output)
        partial = in_progress_path(out)
        resume_state = None
        if resume:
            resume_state = _resume_state(partial, settings)
            log.info("resuming %s from epoch %d", partial, int(resume_state["epoch"]))
        elif partial.exists():
            log.warning("%s: discarding the in-progress state of an earlier, interrupted run (pass --resume to "
                        "continue it instead)", partial)
        callbacks = [EpochTsv(str(out) + ".epochs.tsv"),
                     CheckpointWriter(partial, model, {**meta, "in_progress": True})]
        metric = lambda p, t: pearson_r(p, t)  # noqa: E731 (scale-free: same r as on the original scale for 'none')
        cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, seed=seed, device=device,
                          lr_schedule=lr_schedule, select="metric" if select == "pearson" else "loss",
                          time_limit_s=time_limit_s, workers=workers)
        result = fit(model, crops, va, cfg, metric=metric, callbacks=callbacks, resume=resume_state)
        from chipsr.core import distributed

        best = next(h for h in result.history if h["epoch"] == result.best_epoch)
        summary = {"best_epoch": result.best_epoch, "best_valid_loss": result.best_valid_loss,
                   "best_valid_pearson": best["valid_metric"], "train_windows": n_usable,
                   "valid_windows": len(items), "epochs_run": len(result.history), "stop_reason": result.stop_reason,
                   "seconds": time.perf_counter() - t0, "processes": distributed.world_size()}
        if not distributed.is_main():  # under torchrun only rank 0 writes the model
            return summary
        if target_peaks is not None:  # the peak rule of the model card (issue 14), on the best weights
            meta["peaks"] = _peak_rule(model, result.state.get("best_model"), load_chunk, valid_regions[0],
                                                len(sets) // 2, scaling, target_peaks, peak_type, sizes, bin_size,
                                                window, blacklist, device)
            log.info("peak rule: %s", meta["peaks"]["rule"])
        from chipsr.io.checkpoint import make_checkpoint, save_checkpoint

        # the final name appears only now, holding the best weights; the in-progress file goes
        save_checkpoint(out, make_checkpoint(model, meta, train_state=result.state,
                                             state_dict=result.state.get("best_model")))
        partial.unlink(missing_ok=True)
        from chipsr.io.tables import write_json

        write_json(Path(f"{out}.splits.json"), {**splits, "target": target_name, "marks": list(marks)})
        summary["seconds"] = time.perf_counter() - t0
        log.info("trained %s for %s: best epoch %d, valid r %.4f, %.0f s", arch, target_name, result.best_epoch,
                 best["valid_metric"], summary["seconds"])
        return summary
    finally:
        store.remove()


def _peak_rule(model, best_state, load_region, region: Region, depth_set: int, scaling, target_peaks, peak_type: str,
               sizes: dict, bin_size: int, window: int, blacklist, device) -> dict:
    """Calibrate the model's peak rule: predict the validation region from one depth set (the middle
    one: the workflow's 1x) with the best weights, then :func:`chipsr.tasks.chipseq.peaks.calibrate_prediction`
    against the full-depth peaks there."""
    import torch

    from chipsr.core.inference import predict_tiled
    from chipsr.io.peaks import read_peak_intervals
    from chipsr.tasks.chipseq import peaks as pk

    if best_state is not None:
        model.load_state_dict(best_state)
    x, _, _ = load_region(region)
    with torch.no_grad():
        pred = predict_tiled(model, scaling.inputs(x[depth_set]), window=window, overlap=min(50, window // 4),
                             device=device)
    prediction = scaling.invert(pred[0].float().cpu().numpy())
    first_bin = region_bins(region, sizes, bin_size)[0] // bin_size  # region_bins gives bp on the bin grid
    truth = pk.restrict(read_peak_intervals(target_peaks), [region], sizes, blacklist)
    rule = pk.calibrate_prediction(prediction, first_bin, bin_size, region.chrom, sizes[region.chrom], truth,
                                   broad=peak_type == "broad")
    return {**rule, "truth": str(target_peaks), "region": str(region)}


def cache_path(output: str | os.PathLike) -> Path:
    """``OUTPUT.cache``: the folder of a training run's memory-mapped bins (per process under torchrun)."""
    from chipsr.core import distributed

    rank = f".rank{distributed.rank()}" if distributed.world_size() > 1 else ""
    return Path(f"{output}.cache{rank}")


def in_progress_path(output: str | os.PathLike) -> Path:
    """Where ``chipsr train -o OUTPUT`` keeps its resumable state while it runs: ``OUTPUT.inprogress``
    (renamed to nothing: OUTPUT itself is written only when training ends)."""
    return Path(str(output) + ".inprogress")


def _resume_state(partial: Path, settings: dict) -> dict:
    """The training state to resume from ``partial``; refuses changed settings, naming them."""
    from chipsr.io.checkpoint import load_checkpoint

    if not partial.exists():
        raise ChipsrInputError(f"--resume: no interrupted run to continue ({partial} does not exist)")
    ckpt = load_checkpoint(partial)
    norm = ckpt.get("meta") or {}
    before = norm.get("settings")
    if not norm.get("in_progress") or before is None or ckpt.get("train_state") is None:
        raise ChipsrInputError(f"--resume: {partial} is not an in-progress `chipsr train` state")
    changed = [k for k in sorted(set(before) | set(settings)) if before.get(k) != settings.get(k)]
    if changed:
        detail = "; ".join(f"{k}: {before.get(k)!r} -> {settings.get(k)!r}" for k in changed[:4])
        raise ChipsrInputError(
            f"--resume: settings differ from the interrupted run's ({detail}); they would train another model. "
            f"Rerun with the same options, or without --resume to start over")
    return ckpt["train_state"]


# ---------------------------------------------------------------------------------- denoise


def denoise(
    marks: dict[str, Path],
    checkpoint_path: str | os.PathLike | list,
    output: str | os.PathLike,
    regions: list[Region] | None = None,
    overlap: int = 50,
    batch_size: int = 64,
    device: str | None = None,
    references: dict | None = None,
    blacklist: dict | None = None,
) -> dict:
    """Denoise genome-wide: stream chromosome by chromosome through tiled inference into a bigWig.

    Models trained since issue 12 read and write depth-invariant units: each input track is
    divided by its own genome-wide mean (over the non-blacklisted bins of the chromosomes it
    covers, whatever ``regions`` are denoised), and the output is a fold enrichment over the
    average bin (:data:`chipsr.io.tracks.FE_UNITS`), so two samples' tracks are comparable. The
    input's depth (its mean per bin) is compared with the range [lo, hi] seen in training: a
    warning names the file when it lies outside [0.8 lo, 1.25 hi].

    Parameters
    ----------
    marks : dict of str to Path
        Low-depth bigWigs, named and ordered as at training time.
    references : dict of str to Path or None
        Deep tracks of related samples, named and ordered as the model's references.
    blacklist : dict or None
        Merged intervals left out of each track's genome-wide mean (default: the training
        blacklist, stored in the model).
    checkpoint_path : path or list of paths
        A ``chipsr train`` checkpoint, or several of one target mark (e.g. one per seed): their
        outputs, each on the original scale, are averaged (a seed ensemble).
    output : path
        Output bigWig (atomic), in the model's bin size, with the marks' chromosome sizes.
    regions : list of Region or None
        Only these regions (default: every chromosome).
    overlap : int
        Bins of context dropped at each side of every window (see
        :func:`chipsr.core.inference.predict_tiled`).
    batch_size : int
    device : str or None

    Returns
    -------
    dict
        bp processed, seconds and Mbp/s.

    Raises
    ------
    ChipsrInputError
        Marks that do not match the model (count, names, bin size), inconsistent tracks,
        regions outside chromosomes, or a file that is not a chipsr ChIP-seq checkpoint.
    """
    from chipsr.core.inference import predict_tiled
    from chipsr.io.checkpoint import load_checkpoint, model_from_checkpoint
    from chipsr.io.tracks import TrackWriter

    ckpt_paths = list(checkpoint_path) if isinstance(checkpoint_path, (list, tuple)) else [checkpoint_path]
    if not ckpt_paths:
        raise ChipsrInputError("--model: no checkpoint given")
    members = []  # (model, scaling) per checkpoint
    first = None
    for path in ckpt_paths:
        ckpt = load_checkpoint(path)
        norm = ckpt.get("meta") or {}
        if norm.get("in_progress"):
            raise ChipsrInputError(f"{path}: an unfinished training state, not a model; finish it with "
                                   f"`chipsr train ... --resume` (same options)")
        if norm.get("task") != "chipseq":
            raise ChipsrInputError(f"{path}: not a ChIP-seq model (trained by `chipsr train`)")
        expected = list(norm["marks"])
        if list(marks) != expected:
            raise ChipsrInputError(
                f"{path}: marks {', '.join(marks)} do not match the model's {', '.join(expected)} "
                f"(same count, names and order; name a file with NAME=path)")
        want_refs, refs = list(norm.get("references") or []), list(references or {})
        if refs != want_refs:
            if not want_refs:
                raise ChipsrInputError(f"{path}: the model takes no --reference (it was trained without); "
                                       f"drop --reference {', '.join(refs)}")
            raise ChipsrInputError(
                f"{path}: references {', '.join(refs) or '(none)'} do not match the model's "
                f"{', '.join(want_refs)}; give --reference NAME=deep.bw for each, in that order")
        if first is None:
            first = (path, norm)
        for key in ("target", "bin_size", "window", "units"):
            if norm.get(key) != first[1].get(key):
                raise ChipsrInputError(f"{path}: {key} {norm.get(key)!r} differs from {first[0]}'s "
                                       f"{first[1].get(key)!r}; an ensemble needs models of one target and grid")
        scaling = Scaling(norm["transform"], list(norm["input_scale"]), float(norm["target_scale"]),
                          norm.get("input_transform", "scaled"))
        members.append((model_from_checkpoint(ckpt), scaling))
    norm = first[1]
    bin_size, window = int(norm["bin_size"]), int(norm["window"])
    references = dict(references or {})
    every = {**marks, **{f"reference {n}": p for n, p in references.items()}}
    sizes = check_tracks(every, None, bin_size, chrom=regions[0].chrom if regions else None)
    paths = list(marks.values()) + list(references.values())
    fold = norm.get("units") == "fold_enrichment"
    means = np.ones(len(paths), dtype=np.float32)
    if fold:
        if blacklist is None:  # the training blacklist, stored in the model
            blacklist = {c: (np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
                         for c, (a, b) in (norm.get("blacklist") or {}).items()}
        means = np.asarray(track_means(paths, bin_size, blacklist), dtype=np.float32)
        for (name, p), m in zip(marks.items(), means):
            lo, hi = (norm.get("depth_range") or {}).get(name, (None, None))
            if lo is not None and not 0.8 * lo <= m <= 1.25 * hi:
                log.warning("%s: depth (mean per bin %.4g) is %s the training range of %s (%.4g-%.4g): the model "
                            "has not seen inputs this %s; train with depth sets (--marks repeated) that cover it",
                            p, m, "below" if m < lo else "above", name, lo, hi,
                            "sparse" if m < lo else "deep")
        log.info("units: fold enrichment over each track's genome-wide mean (mean per bin: %s)",
                 ", ".join(f"{n} {m:.4g}" for n, m in zip(every, means)))
    if len(members) > 1:
        log.info("ensemble of %d models of %s (mean of their outputs): %s", len(members), norm.get("target"),
                 ", ".join(map(str, ckpt_paths)))
    overlap = min(overlap, (window - 1) // 2)
    if regions:
        for i, r in enumerate(regions):
            hit = regions_overlap([r], list(regions[i + 1:]), sizes) if r.chrom in sizes else None
            if hit:
                raise ChipsrInputError(f"--region {hit[0]} and {hit[1]} overlap; give each part of the genome once")
    todo = [(r.chrom, *region_bins(r, sizes, bin_size)) for r in regions] if regions else \
        [(c, 0, n) for c, n in sizes.items()]
    t0 = time.perf_counter()
    total_bp = 0
    with TrackWriter(output, sizes, "bigwig") as writer:
        for chrom, start, end in sorted(todo, key=lambda t: (list(sizes).index(t[0]), t[1])):
            raw = load_bins(paths, chrom, bin_size, start, end) / means[:, None]
            values = None
            for model, scaling in members:
                pred = predict_tiled(model, scaling.inputs(raw), window=window, overlap=overlap,
                                     batch_size=batch_size, device=device)
                out = scaling.invert(pred[0].numpy())
                values = out if values is None else values + out
            # region_bins snaps to the bin grid: the bins end on it or at the chromosome end
            writer.add_bins(chrom, start, bin_size, values / len(members))
            total_bp += end - start
    seconds = time.perf_counter() - t0
    rate = total_bp / 1e6 / seconds if seconds > 0 else math.inf
    log.info("denoised %.1f Mbp in %.1f s (%.1f Mbp/s)", total_bp / 1e6, seconds, rate)
    return {"bp": total_bp, "seconds": seconds, "mbp_per_s": rate, "models": len(members),
            "units": "fold_enrichment" if fold else "the training target's units",
            "input_means": dict(zip(every, map(float, means)))}


# ------------------------------------------------------------------------------- model card


def model_card(path: str | os.PathLike) -> dict:
    """The model card of a checkpoint (``chipsr info``): what a user needs to apply it correctly.

    For a ChIP-seq model: target, marks and references in input order, bin size (bp), window
    (bins and bp), units of its inputs and output, the depth range seen in training (mean per
    bin of each mark: for ``chipsr coverage`` tracks without normalization, the mean per-bp
    depth), training data and regions, architecture and parameter count, the recipe, the best
    epoch's validation loss and Pearson r, and the chipsr version that wrote it. Other tasks'
    checkpoints get their task tag, architecture and history summary.

    Raises
    ------
    ChipsrInputError
        Not a readable chipsr checkpoint.
    """
    from chipsr.io.checkpoint import load_checkpoint
    from chipsr.io.tracks import FE_UNITS

    ckpt = load_checkpoint(path)
    norm = ckpt.get("meta") or {}
    config = dict(ckpt.get("config") or {})
    n_params = int(sum(v.numel() for v in ckpt["state_dict"].values() if v.is_floating_point()))
    history = ckpt.get("history") or []
    card: dict = {"file": str(path), "chipsr_version": ckpt.get("chipsr_version"),
                  "task": norm.get("task", "unknown"), "architecture": config.get("name"),
                  "parameters": n_params}
    if norm.get("in_progress"):
        card["status"] = "unfinished training state (finish it with `chipsr train ... --resume`)"
    if norm.get("task") == "chipseq":
        settings = norm.get("settings") or {}
        bin_size, window = int(norm["bin_size"]), int(norm["window"])
        card.update({
            "target": norm.get("target"),
            "marks": list(norm.get("marks") or []),
            "references": list(norm.get("references") or []),
            "bin_size_bp": bin_size,
            "window": f"{window} bins ({window * bin_size} bp)",
            "units": FE_UNITS if norm.get("units") == "fold_enrichment" else
            "the training target's units (a model from before depth-invariant units: retrain it)",
            "depth_sets": int(norm.get("depth_sets", 1)),
            "depth_range_mean_per_bin": {k: [float(f"{v:.4g}") for v in r]
                                         for k, r in (norm.get("depth_range") or {}).items()},
            "training_data": norm.get("data"),
            "regions": norm.get("splits"),
            "blacklisted_chromosomes": sorted(norm.get("blacklist") or {}),
            "peaks": norm.get("peaks") or "no calibrated rule (train with --target-peaks; `chipsr peaks --fold`)",
            "recipe": {k: settings[k] for k in ("arch", "epochs", "samples_per_epoch", "batch_size", "lr",
                                                "lr_schedule", "select", "reverse", "peak_fraction", "seed",
                                                "transform", "input_transform") if k in settings},
        })
    if history:
        best = min(history, key=lambda h: h.get("valid_loss", math.inf))
        if norm.get("task") == "chipseq" and (norm.get("settings") or {}).get("select", "pearson") == "pearson":
            best = max(history, key=lambda h: h.get("valid_metric", -math.inf))
        card["validation"] = {"epochs_run": len(history), "best_epoch": int(best["epoch"]),
                              "valid_loss": float(best["valid_loss"]),
                              "valid_pearson_r": float(best.get("valid_metric", math.nan))}
    return card
