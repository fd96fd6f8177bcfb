"""``chipsr audio tfr``: read an audio file and draw its learnable Wigner-Ville map.

The figures themselves (:func:`~chipsr.plots.plot_tfr`, :func:`~chipsr.plots.tf_comparison_figure`,
:func:`~chipsr.plots.spectrogram_figure`) and the arrays they show (:func:`~chipsr.plots.tfr_db`,
:func:`~chipsr.plots.stft_db`) live in :mod:`chipsr.plots` with every other figure; they are
re-exported here so that ``from chipsr.tasks.audio.tfr import plot_tfr`` keeps working. The layer is
:class:`chipsr.core.wvd.LearnableWVD`.

- :func:`draw_tfr` -- read a file (through :mod:`chipsr.io.audio`), draw
  :func:`~chipsr.plots.plot_tfr` of one channel or the mono mix.
"""

from __future__ import annotations

import os
from pathlib import Path

from chipsr.plots import (
    DYNAMIC_RANGE_DB,
    plot_tfr,
    spectrogram_figure,
    stft_db,
    tf_comparison_figure,
    tfr_db,
)

__all__ = ["DYNAMIC_RANGE_DB", "draw_tfr", "plot_tfr", "spectrogram_figure", "stft_db", "tf_comparison_figure",
           "tfr_db"]


def draw_tfr(input_path: str | os.PathLike, output: str | os.PathLike, *, n_filters: int,
             channel: int | None) -> Path:
    """Read an audio file and write :func:`plot_tfr` of channel ``channel`` (0-based; None = the mono
    mix, channels averaged) at the file's own rate with ``n_filters`` filters.

    Raises
    ------
    ChipsrInputError
        Unreadable file (see :func:`chipsr.io.audio.read_audio`), or a channel the file lacks.
    """
    from chipsr.errors import ChipsrInputError
    from chipsr.io.audio import read_audio

    data, rate = read_audio(input_path)
    if channel is not None and channel >= data.shape[1]:
        raise ChipsrInputError(f"{input_path}: --channel {channel} but the file has {data.shape[1]} channel(s)")
    x = data[:, channel] if channel is not None else data.mean(axis=1)
    return plot_tfr(x, rate, output, n_filters=n_filters)
