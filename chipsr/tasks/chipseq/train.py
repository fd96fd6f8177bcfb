"""Training one ChIP-seq denoising model (``chipsr train``).

Every track is first put in depth-invariant units, a fold enrichment over its own genome-wide mean
(:func:`chipsr.tasks.chipseq.data.track_means`), then transformed (``none``, ``arcsinh``
or ``log1p``) and divided by a per-channel constant fitted on the training region (stored in the
checkpoint, inverted on output), so the denoised track is a fold enrichment whatever the input's
depth. Splits are by region, never overlapping; windows touching the blacklist, or with no coverage
in any track (assembly gaps), are left out of training. The bins stream through memory-mapped
arrays, so a genome trains in bounded memory.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import same_file
from chipsr.io.genome import Region, overlaps_intervals
from chipsr.tasks.chipseq.data import (
    RandomCrops,
    ScalingSums,
    TiledWindows,
    cache_regions,
    check_splits,
    check_tracks,
    load_bins,
    mark_sets,
    parse_named_tracks,
    region_bins,
    runs_to_starts,
    track_means,
)
from chipsr.tasks.chipseq.config import ARCHS, PEAK_TYPES, TrainSettings
from chipsr.tasks.chipseq.model import build_chipseq_model, least_squares_filter

log = logging.getLogger(__name__)


def train(
    marks: dict[str, Path] | list[dict[str, Path]],
    target: Path,
    output: str | os.PathLike,
    train_regions: list[Region],
    valid_regions: list[Region],
    test_regions: list[Region] = (),
    settings: TrainSettings | None = None,
    *,
    blacklist: dict | None = None,
    target_name: str | None = None,
    references: dict | None = None,
) -> dict:
    """Train one denoising model for one target mark; write the checkpoint, ``<output>.epochs.tsv``
    and ``<output>.splits.json`` beside it.

    Every track is read in depth-invariant units: divided by its own genome-wide mean
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
    settings : TrainSettings or None
        The network (:class:`~chipsr.tasks.chipseq.config.ModelSettings`: architecture, window in
        bins, TFiLM blocks B, U-Net levels K and width, dropout, transforms), the recipe
        (:class:`~chipsr.tasks.chipseq.config.RecipeSettings`: epochs of ``samples_per_epoch`` random
        crops, reversal, peak-centred share, batch, learning rate and schedule, epoch selection,
        patience, time limit in minutes, seed) and the run (bin size in bp: the bigWigs must be on
        this grid; ``truth_peaks``: full-depth peaks of the target, whose rule calibrated on the first
        validation region (:func:`chipsr.tasks.chipseq.peaks.calibrate_prediction`) the model card
        stores for ``chipsr peaks --model``; ``peak_type``; DataLoader ``workers``; ``resume`` the
        interrupted run in ``OUTPUT.inprogress``, refusing changed settings; ``device``;
        ``chunk_bins`` read from the bigWigs at a time: the regions' bins stream into memory-mapped
        arrays in ``OUTPUT.cache/``, so a genome at 25-bp bins trains within 3 GiB). Default:
        :class:`~chipsr.tasks.chipseq.config.TrainSettings` (``epochs`` and ``lr`` None: the
        architecture's values).
    blacklist : dict or None
        Merged blacklist intervals (:func:`chipsr.io.genome.read_bed_intervals`).
    target_name : str or None
        Name of the target mark (default: the target's file name).

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
    t0 = time.perf_counter()
    s = (settings if settings is not None else TrainSettings()).resolved()
    target_name = _check_options(s, target, target_name)
    from chipsr.core import distributed
    from chipsr.io.arrays import ArrayStore

    ArrayStore.check(cache_path(output))  # before the genome-wide reads below
    inp = TrainingInputs.check(marks, target, references, train_regions, valid_regions, test_regions, s.bin_size,
                               blacklist)
    if s.residual_mark is not None and s.residual_mark not in inp.marks:
        raise ChipsrInputError(f"--residual-mark {s.residual_mark!r} is not one of the marks: {', '.join(inp.marks)}")
    if s.truth_peaks is not None:  # the peak rule is calibrated there after training: refuse now, not then
        from chipsr.io.peaks import read_peak_intervals
        from chipsr.tasks.chipseq.peaks import restrict

        if not sum(len(a) for a, _ in restrict(read_peak_intervals(s.truth_peaks), valid_regions[:1],
                                               inp.sizes).values()):
            raise ChipsrInputError(f"{s.truth_peaks}: no truth peak in the validation region {valid_regions[0]}, "
                                   f"where the model's peak rule is calibrated")
    train_lengths, valid_lengths = inp.lengths(train_regions, s.window), inp.lengths(valid_regions, s.window)
    # streaming training data: the regions' bins go to memory-mapped arrays beside the output, chunk
    # by chunk; crops and validation windows read only their own bins
    store = ArrayStore(cache_path(output))
    try:
        cached, scaling, n_usable = _cache_training(store, inp, train_regions, train_lengths, s.window, s.transform,
                                                    s.input_transform, target_name, s.chunk_bins)
        crops = RandomCrops([c.x for c in cached], [c.y for c in cached], [c.runs for c in cached], s.window,
                            s.samples_per_epoch, seed=s.seed, reverse=s.reverse, peak_fraction=s.peak_fraction,
                            inputs=scaling.inputs, target=scaling.target)
        va, drop_va = _validation_windows(store, inp, valid_regions, valid_lengths, s.window, scaling, s.chunk_bins)
        log.info("%d usable training window starts, %d random crops per epoch%s%s%s; %d validation windows "
                 "(%d left out)", n_usable, s.samples_per_epoch, ", reversed at p=0.5" if s.reverse else "",
                 f", {s.peak_fraction:.0%} centred on peak bins" if s.peak_fraction else "",
                 f", each from one of {len(inp.sets)} depth sets" if len(inp.sets) > 1 else "", len(va), drop_va)
        import torch

        torch.manual_seed(s.seed)
        model = build_chipseq_model(s.model(), len(inp.channels),
                                    None if s.residual_mark is None else list(inp.marks).index(s.residual_mark))
        if s.arch == "linear":
            _least_squares_start(model, cached, crops, s.window, len(inp.sets), scaling)
        recipe = {"epochs": s.epochs, "batch_size": s.batch_size, "lr": s.lr, "lr_schedule": s.lr_schedule,
                  "select": s.select, "seed": s.seed, "samples_per_epoch": s.samples_per_epoch, "reverse": s.reverse,
                  "peak_fraction": s.peak_fraction}
        meta = _meta(inp, target_name, model, scaling, (train_regions, valid_regions, test_regions), n_usable,
                     s.window, s.arch, s.transform, s.input_transform, recipe)
        from chipsr.core.train import TrainConfig

        cfg = TrainConfig(epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, patience=s.patience, seed=s.seed,
                          device=s.device, lr_schedule=s.lr_schedule, select="metric" if s.select == "pearson" else "loss",
                          time_limit_s=None if s.time_limit is None else s.time_limit * 60, workers=s.workers)
        summary = _fit(model, crops, va, cfg, output, meta, s.resume)
        summary.update(train_windows=n_usable, valid_windows=len(va), seconds=time.perf_counter() - t0)
        state, best_state = summary.pop("state"), summary.pop("best_state")
        if not distributed.is_main():  # under torchrun only rank 0 writes the model
            return summary
        if s.truth_peaks is not None:  # the peak rule of the model card, on the best weights
            meta["peaks"] = _peak_rule(model, best_state, inp.load_chunk, valid_regions[0],
                                       len(inp.sets) // 2, scaling, s.truth_peaks, s.peak_type, inp.sizes, s.bin_size,
                                       s.window, blacklist, s.device)
            log.info("peak rule: %s", meta["peaks"]["rule"])
        _save(model, meta, state, output)
        summary["seconds"] = time.perf_counter() - t0
        log.info("trained %s for %s: best epoch %d, valid r %.4f, %.0f s", s.arch, target_name, summary["best_epoch"],
                 summary["best_valid_pearson"], summary["seconds"])
        return summary
    finally:
        store.remove()


def _check_options(s: TrainSettings, target, target_name: str | None) -> str:
    """Check the settings that need no track (a bad peak file is read here, before training); returns
    the target's name (default: its file name).

    Raises
    ------
    ChipsrInputError
        Naming the option at fault.
    """
    if s.arch not in ARCHS:
        raise ChipsrInputError(f"--arch {s.arch!r}: expected one of {', '.join(ARCHS)}")
    if s.window < 2 or s.bin_size < 1:
        raise ChipsrInputError(f"--window must be >= 2 bins and --bin-size >= 1 bp; got {s.window}, {s.bin_size}")
    target_name = target_name or parse_named_tracks([str(target)]).popitem()[0]
    from chipsr.core import distributed

    if s.batch_size % distributed.world_size():
        raise ChipsrInputError(f"--batch-size {s.batch_size} must be a multiple of the {distributed.world_size()} "
                               f"DDP processes (each takes --batch-size / processes: the total batch stays "
                               f"--batch-size)")
    if s.peak_type not in PEAK_TYPES:
        raise ChipsrInputError(f"--peak-type must be narrow or broad, got {s.peak_type!r}")
    if s.truth_peaks is not None:
        from chipsr.io.peaks import read_peak_intervals

        read_peak_intervals(s.truth_peaks)  # a bad peak file fails before training
    if s.select not in ("pearson", "loss"):
        raise ChipsrInputError(f"--select {s.select!r}: expected pearson or loss")
    return target_name


@dataclass
class TrainingInputs:
    """The checked tracks of one training run, in depth-invariant units.

    Attributes
    ----------
    sets : list of dict
        Depth sets: the same marks at several depths (name -> low-depth bigWig).
    references : dict
        Deep tracks of related samples (name -> bigWig), channels after the marks.
    target : Path
        Full-depth bigWig of the target mark.
    sizes : dict
        Chromosome sizes (bp).
    bin_size : int
    blacklist : dict or None
    set_means, target_mean : list of list of float, float
        Each track's genome-wide mean per bin (:func:`chipsr.tasks.chipseq.data.track_means`).
    """

    sets: list
    references: dict
    target: Path
    sizes: dict
    bin_size: int
    blacklist: dict | None
    set_means: list
    target_mean: float

    @property
    def marks(self) -> dict:
        return self.sets[0]

    @property
    def channels(self) -> list[str]:
        return list(self.marks) + list(self.references)

    @classmethod
    def check(cls, marks, target, references, train_regions, valid_regions, test_regions, bin_size: int,
              blacklist) -> TrainingInputs:
        """Check the tracks (one grid, the references apart from the marks and the target) and the
        splits (present, inside chromosomes, not overlapping); compute every track's genome-wide mean.

        Raises
        ------
        ChipsrInputError
            Naming the track, region or option at fault.
        """
        if not train_regions or not valid_regions:
            raise ChipsrInputError("give at least one --train-region and one --valid-region")
        sets = mark_sets(marks)
        references = dict(references or {})
        for name, ref in references.items():
            if name in sets[0]:
                raise ChipsrInputError(f"--reference {name}={ref}: the name {name!r} is also a mark; name it apart")
            if same_file(ref, target):
                raise ChipsrInputError(
                    f"--reference {name}={ref} is the target file itself; a reference must be a deep track of "
                    f"another sample (another individual, tissue or cell line)")
        every = {f"{n}@{i}": p for i, st in enumerate(sets, 1) for n, p in st.items()}
        every.update({f"reference {n}": p for n, p in references.items()})
        sizes = check_tracks(every, target, bin_size, chrom=train_regions[0].chrom)
        check_splits({"train": train_regions, "valid": valid_regions, "test": test_regions}, sizes)
        for r in [*train_regions, *valid_regions, *test_regions]:
            region_bins(r, sizes, bin_size)
        # depth-invariant units: every track over its own genome-wide mean
        set_means = [track_means(list(st.values()) + list(references.values()), bin_size, blacklist) for st in sets]
        target_mean = track_means([target], bin_size, blacklist)[0]
        log.info("units: fold enrichment over each track's genome-wide mean; %d depth set(s), mean per bin of %s: %s",
                 len(sets), ", ".join(sets[0]),
                 "; ".join(", ".join(f"{v:.4g}" for v in m[:len(sets[0])]) for m in set_means))
        return cls(sets, references, Path(target), sizes, bin_size, blacklist, set_means, target_mean)

    def lengths(self, regions, window: int) -> list[int]:
        """Bins of each region. Raises ChipsrInputError for a region shorter than one window."""
        out = []
        for region in regions:
            start, end = region_bins(region, self.sizes, self.bin_size)
            out.append(-(-(end - start) // self.bin_size))
            if out[-1] < window:
                raise ChipsrInputError(f"region {region} is shorter than one window ({window} bins of "
                                       f"{self.bin_size} bp)")
        return out

    def load_chunk(self, region: Region, a: int = 0, b: int | None = None):
        """Fold-enrichment bins [a, b) of one region: x (D, channels, m), y (1, m), blacklisted (m,) bool."""
        start, end = region_bins(region, self.sizes, self.bin_size)
        lo, hi = start + a * self.bin_size, end if b is None else min(end, start + b * self.bin_size)
        x = np.stack([load_bins(list(st.values()) + list(self.references.values()), region.chrom, self.bin_size,
                                lo, hi) / np.asarray(m, np.float32)[:, None] for st, m in zip(self.sets, self.set_means)])
        y = load_bins([self.target], region.chrom, self.bin_size, lo, hi) / np.float32(self.target_mean)
        edges = lo + np.arange(x.shape[-1] + 1, dtype=np.int64) * self.bin_size
        bl = self.blacklist.get(region.chrom) if self.blacklist else None
        black = overlaps_intervals(edges[:-1], edges[1:], bl) if bl is not None else np.zeros(x.shape[-1], bool)
        return x, y, black

    def meta(self) -> dict:
        """The checkpoint metadata these inputs fix: marks, references, units, depth range, means, data."""
        n = len(self.marks)
        return {
            "marks": list(self.marks), "bin_size": self.bin_size, "units": "fold_enrichment",
            "references": list(self.references),
            "depth_range": {name: [min(m[i] for m in self.set_means), max(m[i] for m in self.set_means)]
                            for i, name in enumerate(self.marks)},
            "depth_sets": len(self.sets),
            "track_means": {"marks": [m[:n] for m in self.set_means], "references": self.set_means[0][n:],
                            "target": self.target_mean},
            # the genome annotation the units were computed without (denoise reuses it by default)
            "blacklist": {c: [iv[0].tolist(), iv[1].tolist()] for c, iv in (self.blacklist or {}).items()},
            "data": {"marks": [{k: str(p) for k, p in st.items()} for st in self.sets],
                     "references": {k: str(p) for k, p in self.references.items()}, "target": str(self.target),
                     "bin_size": self.bin_size},
        }


def _cache_training(store, inp: TrainingInputs, regions, lengths: list[int], window: int, transform: str,
                    input_transform: str, target_name: str, chunk_bins: int):
    """Stream the training regions' bins into ``store``, fitting the scaling on them as they pass;
    returns (the cached regions, their :class:`Scaling`, the usable window starts).

    Raises
    ------
    ChipsrInputError
        No usable window in the training regions.
    """
    sums = ScalingSums(transform, input_transform, len(inp.channels))
    cached = cache_regions(store, "train", lengths, lambda i, a, b: inp.load_chunk(regions[i], a, b),
                           window, sums=sums, chunk_bins=chunk_bins)
    n_usable = sum(int((c.runs[:, 1] - c.runs[:, 0]).sum()) for c in cached)
    if n_usable == 0:
        raise ChipsrInputError(f"no usable windows in {', '.join(map(str, regions))}")
    return cached, sums.scaling(inp.channels, target_name), n_usable


def _validation_windows(store, inp: TrainingInputs, regions, lengths: list[int], window: int, scaling,
                        chunk_bins: int):
    """Stream the validation regions' bins into ``store`` and tile them into validation windows (usable
    ones only), rotating over the depth sets (window i from set i mod D: every depth is scored, at the
    cost of one set). Returns the :class:`TiledWindows` and the number of windows left out;
    ChipsrInputError when none is usable."""
    valid = cache_regions(store, "valid", lengths, lambda i, a, b: inp.load_chunk(regions[i], a, b),
                          window, chunk_bins=chunk_bins)
    n_sets = len(inp.sets)
    items, dropped = [], 0
    for r, (c, n) in enumerate(zip(valid, lengths)):
        tiles = np.arange(0, n - window + 1, window)
        ok = RandomCrops.usable_in(c.runs, tiles)
        dropped += int((~ok).sum())
        items += [(r, (len(items) + j) % n_sets, int(o)) for j, o in enumerate(tiles[ok])]
    if not items:
        raise ChipsrInputError(f"no usable windows in {', '.join(map(str, regions))}")
    return TiledWindows([c.x for c in valid], [c.y for c in valid], items, window, inputs=scaling.inputs,
                        target=scaling.target), dropped


def _least_squares_start(model, cached, crops: RandomCrops, window: int, n_sets: int, scaling) -> None:
    """Start the linear model from the closed-form optimum over the training regions' windows, tiled
    at stride window/2 (with depth sets, window i from set i mod D: every depth, at the cost of one
    set)."""
    step = window // 2 or 1
    tiled = [(r, int(s)) for r, c in enumerate(cached) for s in runs_to_starts(c.runs) if s % step == 0]
    least_squares_filter(model, TiledWindows(crops.xs, crops.ys, [(r, i % n_sets, s) for i, (r, s) in enumerate(tiled)],
                                             window, inputs=scaling.inputs, target=scaling.target))


def _meta(inp: TrainingInputs, target_name: str, model, scaling, regions, n_usable: int, window: int, arch: str,
          transform: str, input_transform: str, recipe: dict) -> dict:
    """The checkpoint's metadata: the model card, with ``settings``, what a resumed run must share
    with the interrupted one (anything else would train another model). ``regions`` are the
    (train, valid, test) splits; ``recipe`` the training settings (epochs ... peak_fraction)."""
    splits = {"train": [str(r) for r in regions[0]], "valid": [str(r) for r in regions[1]],
              "test": [str(r) for r in regions[2]]}
    settings = {"marks": list(inp.marks), "references": list(inp.references), "target": target_name,
                "track_means": inp.set_means, "target_mean": inp.target_mean, "bin_size": inp.bin_size,
                "window": window, "arch": arch, "model": dict(model.config), "transform": transform,
                "input_transform": input_transform, "input_scale": scaling.input_scale,
                "target_scale": scaling.target_scale, "splits": splits, "usable_windows": n_usable, **recipe}
    return {"task": "chipseq", "target": target_name, "window": window, "arch": arch,
            "transform": scaling.transform, "input_scale": scaling.input_scale,
            "target_scale": scaling.target_scale, "input_transform": scaling.input_transform, "splits": splits,
            "seed": recipe["seed"], "settings": settings, **inp.meta()}


def _fit(model, crops, va, cfg, output, meta: dict, resume: bool) -> dict:
    """Run :func:`chipsr.core.train.fit` with the per-epoch TSV and the resumable ``OUTPUT.inprogress``
    state; returns the summary (with the final ``state`` and ``best_state`` for the caller)."""
    from chipsr.core import distributed
    from chipsr.core.metrics import pearson_r
    from chipsr.core.train import fit
    from chipsr.io.checkpoint import CheckpointWriter, EpochTsv

    partial = in_progress_path(output)
    resume_state = None
    if resume:
        resume_state = _resume_state(partial, meta["settings"])
        log.info("resuming %s from epoch %d", partial, int(resume_state["epoch"]))
    elif partial.exists():
        log.warning("%s: discarding the in-progress state of an earlier, interrupted run (pass --resume to "
                    "continue it instead)", partial)
    callbacks = [EpochTsv(str(output) + ".epochs.tsv"), CheckpointWriter(partial, model, {**meta, "in_progress": True})]
    # Pearson r is scale-free: the same r as on the original scale for transform 'none'
    result = fit(model, crops, va, cfg, metric=pearson_r, callbacks=callbacks, resume=resume_state)
    best = next(h for h in result.history if h["epoch"] == result.best_epoch)
    return {"best_epoch": result.best_epoch, "best_valid_loss": result.best_valid_loss,
            "best_valid_pearson": best["valid_metric"], "epochs_run": len(result.history),
            "stop_reason": result.stop_reason, "processes": distributed.world_size(), "state": result.state,
            "best_state": result.state.get("best_model")}


def _save(model, meta: dict, state: dict, output) -> None:
    """Write the model (best weights, the final name appears only now), drop ``OUTPUT.inprogress``,
    and write ``OUTPUT.splits.json``."""
    from chipsr.io.checkpoint import make_checkpoint, save_checkpoint
    from chipsr.io.tables import write_json

    save_checkpoint(Path(output), make_checkpoint(model, meta, train_state=state, state_dict=state.get("best_model")))
    in_progress_path(output).unlink(missing_ok=True)
    write_json(Path(f"{output}.splits.json"), {**meta["splits"], "target": meta["target"], "marks": meta["marks"]})


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
