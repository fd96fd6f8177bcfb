"""Super-resolving recordings of any length with a trained model (``chipsr audio upsample``).

Long files are super-resolved in overlapping windows (only window interiors are kept) and
streamed: memory does not grow with the file's length. Signals are float32 arrays of shape
(frames, channels); rates are in Hz.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io import audio as aio
from chipsr.tasks.audio.data import TASK, spline_upsample

log = logging.getLogger(__name__)


class SuperResolver:
    """A trained model with what it needs to super-resolve low-res audio of any length.

    ``run(lowres_blocks)`` streams: it takes low-res blocks (frames, channels) at the model's low
    rate and yields high-res blocks (frames * r, channels). Each channel is processed alone.
    Internally the signal is cut into segments of ``segment`` high-res samples, each with
    ``overlap`` samples of real context on both sides; inside a segment the model runs on
    ``patch``-long windows keeping their interiors (:func:`chipsr.core.inference.predict_tiled`),
    so the output never comes from a window edge and memory is bounded by the segment size.

    Parameters
    ----------
    checkpoint : dict
        From :func:`chipsr.io.checkpoint.load_checkpoint` (task ``audio_super_resolution``).
    overlap : int or None
        High-res samples of context dropped at each side of every window (default patch / 8:
        1024 of 8192).
    windows_per_segment : int
        Windows per segment (memory ~ windows_per_segment x patch x 4 bytes per channel).
    source : str or None
        The checkpoint's file name, for messages.

    Raises
    ------
    ChipsrInputError
        If the checkpoint is not an audio super-resolution model.
    """

    def __init__(self, checkpoint: dict, device: str | None = None, batch_size: int = 8,
                 overlap: int | None = None, windows_per_segment: int = 8, source: str | None = None) -> None:
        from chipsr.tasks.audio.model import model_from_checkpoint  # registers the audio networks

        norm = checkpoint.get("meta") or {}
        if norm.get("task") != TASK:
            where = f"{source}: " if source else "the checkpoint "
            raise ChipsrInputError(f"{where}not an audio super-resolution model (task {norm.get('task')!r}; train "
                                   f"one with `chipsr audio train`)")
        self.meta = norm
        self.ratio = int(norm["ratio"])
        self.high_rate = int(norm["high_rate"])
        self.low_rate = float(norm["low_rate"])
        self.patch = int(norm["patch"])
        overlap = self.patch // 8 if overlap is None else int(overlap)
        self.overlap = overlap
        try:
            self.model = model_from_checkpoint(checkpoint).eval()
        except ValueError as exc:
            raise ChipsrInputError(f"{source or 'the checkpoint'}: {exc}") from None
        self.device = device
        self.batch_size = batch_size
        interior = self.patch - 2 * overlap
        self.segment = interior * windows_per_segment  # high-res samples per segment
        self.seg_low = self.segment // self.ratio
        self.margin_low = -(-overlap // self.ratio)

    def _segment(self, lowres: np.ndarray, lo: int, a: int, b: int) -> np.ndarray:
        """High-res output for low-res [a, b) given ``lowres`` = low-res samples from index lo."""
        from chipsr.core.inference import predict_tiled

        r = self.ratio
        out = []
        for ch in range(lowres.shape[1]):
            piece = lowres[:, ch]
            x = spline_upsample(piece, r)
            y = predict_tiled(self.model, x[None], self.patch, self.overlap, self.batch_size, self.device)[0]
            out.append(y.numpy()[(a - lo) * r : (b - lo) * r])
        return np.stack(out, axis=1)

    def run(self, lowres_blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """Stream low-res blocks (frames, channels) -> high-res blocks (frames * r, channels)."""
        buf = None
        buf_start = 0  # low-res index of buf[0]
        done = 0  # low-res samples already emitted
        total = 0
        m = self.margin_low
        for block in lowres_blocks:
            if block.shape[0] == 0:
                continue
            buf = block if buf is None else np.concatenate([buf, block])
            total += block.shape[0]
            while total >= done + self.seg_low + m:
                a, b = done, done + self.seg_low
                lo, hi = max(a - m, 0), b + m
                yield self._segment(buf[lo - buf_start : hi - buf_start], lo, a, b)
                done = b
                drop = max(done - m, 0) - buf_start
                buf, buf_start = buf[drop:], buf_start + drop
        if buf is not None and done < total:
            lo = max(done - m, 0)
            yield self._segment(buf[lo - buf_start :], lo, done, total)

    def upsample_array(self, lowres: np.ndarray) -> np.ndarray:
        """Super-resolve an in-memory low-res signal (L_low,) -> (L_low * r,) (same path as files)."""
        blocks = self.run(iter([np.asarray(lowres, dtype=np.float32)[:, None]]))
        return np.concatenate(list(blocks))[:, 0]


def upsample(input_path: str | os.PathLike, output: str | os.PathLike, model: str | os.PathLike, *,
             device: str | None, batch_size: int, ratio: int | None, block_seconds: float = 10.0) -> dict:
    """Super-resolve an audio file with a trained model; write it at the model's high rate.

    The input (any rate below the model's high rate; mono or multichannel, channel by channel) is
    first resampled with soxr to the model's low rate (a warning when that discards bandwidth,
    i.e. the input rate is above the low rate), then streamed through :class:`SuperResolver`.
    The output (WAV/FLAC/OGG by extension, 16-bit PCM for WAV/FLAC, clipped to [-1, 1] with a
    warning) appears atomically only when complete.

    ``ratio``, when given, must be the model's upsampling ratio; ``batch_size`` = windows per
    forward pass; ``block_seconds`` = seconds of input read at a time. The command's defaults live
    in :class:`chipsr.api.audio.UpsampleSettings`.

    Returns
    -------
    dict
        input/output rates, channels, seconds of audio, compute seconds, real-time factor.

    Raises
    ------
    ChipsrInputError
        Unreadable or non-audio input, input at or above the model's high rate, a file shorter
        than one patch, NaN/inf samples, a checkpoint that is not an audio model, or a ``ratio``
        the model was not trained for.
    """
    from chipsr.io.atomic import check_output_path
    from chipsr.io.checkpoint import load_checkpoint

    t0 = time.perf_counter()
    output = check_output_path(output)
    sr = SuperResolver(load_checkpoint(model, task=TASK), device=device, batch_size=batch_size, source=str(model))
    if ratio is not None and ratio != sr.ratio:
        raise ChipsrInputError(f"{model}: the model was trained for ratio {sr.ratio}, not --ratio {ratio}")
    info = aio.audio_info(input_path)
    rate_in = int(info.samplerate)
    if rate_in >= sr.high_rate:
        raise ChipsrInputError(f"{input_path}: sample rate {rate_in} Hz is already at or above the model's "
                               f"target rate {sr.high_rate} Hz; nothing to super-resolve")
    if rate_in > sr.low_rate:
        log.warning("%s: %d Hz input is resampled down to the model's %g Hz input rate, which discards "
                    "the band %g-%g Hz before super-resolution", input_path, rate_in, sr.low_rate,
                    sr.low_rate / 2, rate_in / 2)
    if info.frames <= 0:
        raise ChipsrInputError(f"{input_path}: the file holds no samples")
    low_frames = info.frames * sr.low_rate / rate_in
    if low_frames * sr.ratio < sr.patch:
        raise ChipsrInputError(f"{input_path}: {info.frames} samples at {rate_in} Hz ({info.frames / rate_in:.3f} s) "
                               f"is shorter than one {sr.patch}-sample patch at {sr.high_rate} Hz")
    channels = int(info.channels)
    stream = aio.StreamResampler(rate_in, sr.low_rate, channels)

    def lowres_blocks():
        blocks = aio.iter_audio_blocks(input_path, max(1, int(block_seconds * rate_in)))
        prev = next(blocks, None)
        while prev is not None:
            nxt = next(blocks, None)
            yield stream.process(prev, last=nxt is None)
            prev = nxt

    with aio.AudioWriter(output, sr.high_rate, channels) as writer:
        for hr in sr.run(lowres_blocks()):
            writer.write(hr)
    seconds = writer.frames / sr.high_rate
    compute = time.perf_counter() - t0
    summary = {"input": str(input_path), "output": str(output), "input_rate": rate_in, "output_rate": sr.high_rate,
               "channels": channels, "audio_seconds": seconds, "compute_seconds": compute,
               "real_time_factor": compute / seconds if seconds else float("nan"), "clipped_samples": writer.clipped}
    log.info("%s -> %s: %.1f s of audio in %.1f s (real-time factor %.3f)", input_path, output, seconds, compute,
             summary["real_time_factor"])
    return summary
