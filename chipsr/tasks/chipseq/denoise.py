"""Genome-wide inference (``chipsr denoise``): chromosome by chromosome through tiled prediction
into a bigWig, in fold enrichment over the track's genome-wide mean."""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.genome import Region
from chipsr.tasks.chipseq.data import (
    Scaling,
    check_tracks,
    load_bins,
    region_bins,
    regions_overlap,
    track_means,
)

log = logging.getLogger(__name__)


def denoise(
    marks: dict[str, Path],
    checkpoint_path: str | os.PathLike | list,
    output: str | os.PathLike,
    regions: list[Region] | None = None,
    *,
    overlap: int,
    batch_size: int,
    device: str | None,
    references: dict | None = None,
    blacklist: dict | None = None,
) -> dict:
    """Denoise genome-wide: stream chromosome by chromosome through tiled inference into a bigWig.

    Models read and write depth-invariant units: each input track is
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
    ckpt_paths = list(checkpoint_path) if isinstance(checkpoint_path, (list, tuple)) else [checkpoint_path]
    members, norm = _load_ensemble(ckpt_paths, marks, references)
    bin_size, window = int(norm["bin_size"]), int(norm["window"])
    references = dict(references or {})
    every = {**marks, **{f"reference {n}": p for n, p in references.items()}}
    sizes = check_tracks(every, None, bin_size, chrom=regions[0].chrom if regions else None,
                         needs=f"the model ({ckpt_paths[0]})")
    paths = list(marks.values()) + list(references.values())
    fold = norm.get("units") == "fold_enrichment"
    means = np.ones(len(paths), dtype=np.float32)
    if fold:
        means = _input_means(marks, every, paths, norm, bin_size, blacklist)
    if len(members) > 1:
        log.info("ensemble of %d models of %s (mean of their outputs): %s", len(members), norm.get("target"),
                 ", ".join(map(str, ckpt_paths)))
    overlap = min(overlap, (window - 1) // 2)
    todo = _parts(regions, sizes, bin_size)
    t0 = time.perf_counter()
    total_bp = _write_denoised(output, sizes, todo, paths, means, members, bin_size, window, overlap, batch_size, device)
    seconds = time.perf_counter() - t0
    rate = total_bp / 1e6 / seconds if seconds > 0 else math.inf
    log.info("denoised %.1f Mbp in %.1f s (%.1f Mbp/s)", total_bp / 1e6, seconds, rate)
    return {"bp": total_bp, "seconds": seconds, "mbp_per_s": rate, "models": len(members),
            "units": "fold_enrichment" if fold else "the training target's units",
            "input_means": dict(zip(every, map(float, means)))}


def _load_ensemble(ckpt_paths: list, marks: dict, references: dict | None) -> tuple[list, dict]:
    """Load the checkpoints: a list of (model, :class:`Scaling`) per checkpoint, and the first one's
    metadata.

    Raises
    ------
    ChipsrInputError
        No checkpoint; a file that is not a finished ChIP-seq model; marks or references that do
        not match a model; models of different targets, bin sizes, windows or units.
    """
    from chipsr.tasks.chipseq.model import model_from_checkpoint  # registers the ChIP-seq networks
    from chipsr.io.checkpoint import load_checkpoint

    if not ckpt_paths:
        raise ChipsrInputError("--model: no checkpoint given")
    members = []  # (model, scaling) per checkpoint
    first = None
    for path in ckpt_paths:
        ckpt = load_checkpoint(path, task="chipseq")
        norm = ckpt.get("meta") or {}
        _check_model(path, norm, marks, references)
        if first is None:
            first = (path, norm)
        for key in ("target", "bin_size", "window", "units"):
            if norm.get(key) != first[1].get(key):
                raise ChipsrInputError(f"{path}: {key} {norm.get(key)!r} differs from {first[0]}'s "
                                       f"{first[1].get(key)!r}; an ensemble needs models of one target and grid")
        scaling = Scaling(norm["transform"], list(norm["input_scale"]), float(norm["target_scale"]),
                          norm.get("input_transform", "scaled"))
        try:
            members.append((model_from_checkpoint(ckpt), scaling))
        except ValueError as exc:
            raise ChipsrInputError(f"{path}: {exc}") from None
    return members, first[1]


def _check_model(path, norm: dict, marks: dict, references: dict | None) -> None:
    """Refuse a checkpoint (metadata ``norm``) that is not a finished ChIP-seq model, or whose marks or
    references differ from the ones given (names and order). Raises ChipsrInputError."""
    if norm.get("in_progress"):
        raise ChipsrInputError(f"{path}: an unfinished training state, not a model; finish it with "
                               f"`chipsr train ... --resume` (same options)")
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


def _input_means(marks: dict, every: dict, paths: list, norm: dict, bin_size: int, blacklist) -> np.ndarray:
    """Each input track's genome-wide mean per bin (float32, one per path), over the non-blacklisted
    bins (default blacklist: the training one, stored in the model); a warning names a mark whose
    depth lies outside [0.8 lo, 1.25 hi] of the training range."""
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
    return means


def _parts(regions: list[Region] | None, sizes: dict, bin_size: int) -> list[tuple[str, int, int]]:
    """(chrom, start, end) of every part to denoise (bp, snapped to the bin grid): the regions, or every
    chromosome. Raises ChipsrInputError for overlapping regions."""
    if regions:
        for i, r in enumerate(regions):
            hit = regions_overlap([r], list(regions[i + 1:]), sizes) if r.chrom in sizes else None
            if hit:
                raise ChipsrInputError(f"--region {hit[0]} and {hit[1]} overlap; give each part of the genome once")
    return [(r.chrom, *region_bins(r, sizes, bin_size)) for r in regions] if regions else \
        [(c, 0, n) for c, n in sizes.items()]


def _write_denoised(output, sizes: dict, todo: list, paths: list, means: np.ndarray, members: list, bin_size: int,
                    window: int, overlap: int, batch_size: int, device) -> int:
    """Denoise the parts in genome order, one at a time (the mean of the members' outputs, each on the
    original scale), into the bigWig ``output``; returns the bp processed."""
    from chipsr.core.inference import predict_tiled
    from chipsr.io.tracks import TrackWriter

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
    return total_bp
