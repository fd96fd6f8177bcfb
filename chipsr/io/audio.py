"""Audio files: reading, writing (atomic), listing and resampling, through maintained libraries.

- Files are read and written with `soundfile <https://python-soundfile.readthedocs.io>`_
  (libsndfile: WAV, FLAC, OGG/Vorbis, AIFF, ...), as float32 in [-1, 1], shape (frames, channels).
- Sample-rate conversion uses `soxr <https://github.com/dofuuz/python-soxr>`_ (libsoxr, "VHQ"
  quality: a linear-phase band-limited resampler), never hand-made interpolation.

Every error on bad input is a :class:`chipsr.errors.ChipsrInputError` that names the file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import atomic_output, check_output_path

log = logging.getLogger(__name__)

#: file extensions :func:`list_audio` picks up in a directory
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".mp3")
#: resampling quality passed to soxr
RESAMPLER = "soxr VHQ"


def audio_info(path: str | os.PathLike):
    """``soundfile.info`` of ``path``: samplerate (Hz), channels, frames, format.

    Raises
    ------
    ChipsrInputError
        If the file does not exist, libsndfile cannot read it as audio, or it is a truncated PCM
        WAV (its header declares more samples than it holds: libsndfile reads what is there
        without a word; :func:`_declared_wav_frames`).
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise ChipsrInputError(f"{path}: no such audio file")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise ChipsrInputError(f"{path}: not a readable audio file ({exc})") from None
    declared = _declared_wav_frames(path) if info.format == "WAV" else None
    if declared is not None and declared > info.frames:
        raise ChipsrInputError(f"{path}: its WAV header declares {declared} samples per channel but the file holds "
                               f"{info.frames}: the file is truncated (copy it again)")
    return info


def _declared_wav_frames(path: Path) -> int | None:
    """Frames per channel that a PCM WAV's header declares (Python's ``wave`` module reads the
    data chunk's size from the header); None for a WAV ``wave`` does not read (float, extensible)
    or one that declares no size (a streamed WAV)."""
    import wave

    try:
        with wave.open(str(path), "rb") as w:
            frames, frame_bytes = int(w.getnframes()), w.getsampwidth() * w.getnchannels()
    except (wave.Error, EOFError, OSError):
        return None
    # a streamed WAV (written to a pipe) declares 0 or the 0xFFFFFFFF placeholder: unknown, not truncated
    return None if frames * frame_bytes >= 0xFFFFFFFF - frame_bytes else frames


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read a whole audio file as float32 in [-1, 1].

    Returns
    -------
    (np.ndarray, int)
        Samples of shape (frames, channels) and the sample rate in Hz.

    Raises
    ------
    ChipsrInputError
        Missing or unreadable file, no samples, or non-finite (NaN/inf) samples.
    """
    import soundfile as sf

    info = audio_info(path)
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ChipsrInputError(f"{path}: cannot decode audio ({exc})") from None
    if data.shape[0] == 0:
        raise ChipsrInputError(f"{path}: the file holds no samples")
    check_finite(data, path)
    log.debug("%s: %d frames x %d channels at %d Hz (%s)", path, data.shape[0], data.shape[1], rate, info.format)
    return data, int(rate)


def check_finite(data: np.ndarray, path, offset: int = 0) -> None:
    """Raise :class:`ChipsrInputError` naming ``path`` and the first NaN/inf sample of ``data``
    (shape (frames, channels)); ``offset`` = the file frame of ``data[0]`` (for streamed blocks)."""
    bad = ~np.isfinite(data)
    if bad.any():
        frame, channel = np.argwhere(bad)[0]
        raise ChipsrInputError(
            f"{path}: frame {int(frame) + offset}, channel {int(channel)} is {data[frame, channel]} "
            f"({int(bad.sum())} non-finite samples in this block)"
        )


def iter_audio_blocks(path: str | os.PathLike, blocksize: int) -> Iterator[np.ndarray]:
    """Stream a file as float32 blocks of shape (frames <= blocksize, channels) (bounded memory).

    Raises
    ------
    ChipsrInputError
        As :func:`read_audio` (NaN/inf samples are reported with their frame number).
    """
    import soundfile as sf

    audio_info(path)
    offset = 0
    with sf.SoundFile(str(path)) as fh:
        while True:
            block = fh.read(blocksize, dtype="float32", always_2d=True)
            if block.shape[0] == 0:
                return
            check_finite(block, path, offset)
            offset += block.shape[0]
            yield block


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling with soxr (VHQ) along axis 0.

    Parameters
    ----------
    x : np.ndarray, shape (frames,) or (frames, channels)
    rate_in, rate_out : int
        Sample rates in Hz.

    Returns
    -------
    np.ndarray, float32
        About ``frames * rate_out / rate_in`` frames; ``x`` itself when the rates are equal.
    """
    if rate_in == rate_out:
        return x
    import soxr

    return soxr.resample(np.ascontiguousarray(x, dtype=np.float32), rate_in, rate_out, quality="VHQ")


class StreamResampler:
    """Chunked soxr resampling (``soxr.ResampleStream``): feed blocks, get blocks, bounded memory.

    A pass-through when the rates are equal. ``process(block, last)`` takes and returns float32
    arrays of shape (frames, channels).
    """

    def __init__(self, rate_in: int, rate_out: int, channels: int) -> None:
        self.passthrough = rate_in == rate_out
        if not self.passthrough:
            import soxr

            self._stream = soxr.ResampleStream(rate_in, rate_out, channels, dtype="float32", quality="VHQ")

    def process(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        if self.passthrough:
            return block
        return self._stream.resample_chunk(np.ascontiguousarray(block, dtype=np.float32), last=last)


class AudioWriter:
    """Append float32 blocks to an audio file that appears (atomically) only when closed cleanly.

    Use as a context manager; on an exception the partial file is deleted. Samples outside
    [-1, 1] are clipped (and counted in :attr:`clipped`).
    """

    def __init__(self, path: str | os.PathLike, rate: int, channels: int, subtype: str | None = None) -> None:
        self.path = check_output_path(path)
        self.rate, self.channels = int(rate), int(channels)
        self.format = _format_of(self.path)
        self.subtype = subtype or _default_subtype(self.format)
        self.clipped = 0
        self.frames = 0

    def __enter__(self) -> AudioWriter:
        import soundfile as sf

        self._ctx = atomic_output(self.path)
        tmp = self._ctx.__enter__()
        self._fh = sf.SoundFile(str(tmp), "w", self.rate, self.channels, self.subtype, format=self.format)
        return self

    def write(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.float32).reshape(-1, self.channels)
        over = np.abs(block) > 1.0
        if over.any():
            self.clipped += int(over.sum())
            block = np.clip(block, -1.0, 1.0)
        self._fh.write(block)
        self.frames += block.shape[0]

    def __exit__(self, exc_type, exc, tb):
        self._fh.close()
        if self.clipped:
            log.warning("%s: %d samples outside [-1, 1] were clipped", self.path, self.clipped)
        return self._ctx.__exit__(exc_type, exc, tb)


def _format_of(path: Path) -> str:
    ext = path.suffix.lower().lstrip(".")
    formats = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "oga": "OGG", "aif": "AIFF", "aiff": "AIFF"}
    if ext not in formats:
        raise ChipsrInputError(f"{path}: cannot write audio with extension .{ext}; use .wav, .flac or .ogg")
    return formats[ext]


def _default_subtype(fmt: str) -> str:
    return {"OGG": "VORBIS"}.get(fmt, "PCM_16")


def list_audio(sources: Iterable[str | os.PathLike] | str | os.PathLike) -> list[Path]:
    """Audio files named by ``sources``: directories (searched recursively), audio files, or
    text lists (one path per line, relative to the list's folder; ``#`` comments).

    Returns
    -------
    list of Path
        Sorted, without duplicates.

    Raises
    ------
    ChipsrInputError
        If a source does not exist, a list names a missing file, or nothing is found.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    found: set[Path] = set()
    for src in sources:
        src = Path(src)
        if src.is_dir():
            found.update(p for p in src.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
        elif src.is_file() and src.suffix.lower() in AUDIO_EXTENSIONS:
            found.add(src)
        elif src.is_file():
            for lineno, line in enumerate(src.read_text().splitlines(), start=1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                p = Path(line) if Path(line).is_absolute() else src.parent / line
                if not p.is_file():
                    raise ChipsrInputError(f"{src}: line {lineno}: no such audio file {p}")
                found.add(p)
        else:
            raise ChipsrInputError(f"{src}: no such file or directory")
    if not found:
        raise ChipsrInputError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {', '.join(map(str, sources))}")
    return sorted(found)


def speaker_of(path: Path) -> str:
    """Speaker (or recording) ID used to split data: LibriSpeech ``SPK-CHAPTER-UTT`` and VCTK
    ``pSPK_UTT`` names give ``SPK``; any other file is its own group (its stem)."""
    stem = path.stem
    if "-" in stem and stem.split("-", 1)[0].isdigit():
        return stem.split("-", 1)[0]
    if "_" in stem and stem[0] == "p" and stem.split("_", 1)[0][1:].isdigit():
        return stem.split("_", 1)[0]
    return stem


def split_by_speaker(files: Sequence[Path], valid_fraction: float, seed: int = 0) -> tuple[list[Path], list[Path]]:
    """Split files into (train, valid) so that no speaker is in both (never by patch).

    Speakers are ordered by a seeded hash of their ID and the last ``valid_fraction`` of them
    (at least one) go to validation.

    Raises
    ------
    ChipsrInputError
        If there are fewer than two speakers.
    """
    import hashlib

    groups: dict[str, list[Path]] = {}
    for f in files:
        groups.setdefault(speaker_of(Path(f)), []).append(Path(f))
    if len(groups) < 2:
        raise ChipsrInputError(
            f"need files from at least 2 speakers/recordings for a speaker-disjoint validation split; got {len(groups)}"
        )
    order = sorted(groups, key=lambda s: hashlib.blake2b(f"{seed}:{s}".encode(), digest_size=8).hexdigest())
    n_valid = min(len(order) - 1, max(1, round(len(order) * valid_fraction)))
    valid_speakers = set(order[-n_valid:])
    train = [f for s in order if s not in valid_speakers for f in groups[s]]
    valid = [f for s in order if s in valid_speakers for f in groups[s]]
    return sorted(train), sorted(valid)
