"""chipsr: super-resolution of low-depth histone ChIP-seq with TFiLM networks.

The same networks also serve the TFiLM paper's two other tasks: audio super-resolution
(``chipsr audio``) and time-series imputation (``chipsr impute``).

Subpackages, top to bottom; dependencies flow one way, ``cli -> api -> tasks -> {io, core}``:

- :mod:`chipsr.cli` -- the thin ``click`` layer behind the ``chipsr`` command.
- :mod:`chipsr.api` -- the public Python API, one module per task, one function per command.
- :mod:`chipsr.tasks` -- what chipsr is for, one package per task: :mod:`~chipsr.tasks.chipseq`
  (subsample, coverage, train, denoise, peaks, evaluate, report), :mod:`~chipsr.tasks.audio`
  (super-resolution and time-frequency figures) and :mod:`~chipsr.tasks.impute` (imputation).
  Task packages never import each other.
- :mod:`chipsr.io` -- file formats (reads, tracks, genome, peaks, audio, series, tables,
  checkpoints, atomic output).
- :mod:`chipsr.core` -- task-agnostic layers, models, training, tiled inference and metrics
  (tensors in, tensors out; never opens files).

Bad input raises :class:`chipsr.errors.ChipsrInputError`. The README's "Layout" section maps each
command to its modules.
"""

from chipsr._version import __version__

__all__ = ["__version__"]
