"""chipsr: super-resolution of low-depth histone ChIP-seq with TFiLM networks.

Subpackages (dependencies flow one way: ``cli -> api -> tasks -> {io, core}``):

- :mod:`chipsr.io` — the only code that touches file formats (BAM/BED reads, bigWig, chrom sizes).
- :mod:`chipsr.tasks` — one data module per task (``chipseq`` now; audio and imputation later).
- :mod:`chipsr.core` — task-agnostic networks and training (torch only; never opens files).
- :mod:`chipsr.api` — the public Python API (one module per task) the command-line interface wraps.
- :mod:`chipsr.cli` — the thin ``click`` layer behind the ``chipsr`` command.
"""

from chipsr._version import __version__

__all__ = ["__version__"]
