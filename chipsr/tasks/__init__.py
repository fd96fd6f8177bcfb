"""What chipsr exists for: three tasks, one package each, with the same shape.

- :mod:`chipsr.tasks.chipseq` -- denoise low-depth histone ChIP-seq: reads -> coverage tracks,
  training, denoising, peaks, evaluation and the report (``chipsr train``, ``denoise``, ...).
- :mod:`chipsr.tasks.audio` -- audio super-resolution: recover the high band of low-rate speech or
  music (``chipsr audio ...``).
- :mod:`chipsr.tasks.impute` -- time-series imputation: fill the missing values of multivariate
  series (``chipsr impute ...``).

Each is called by :mod:`chipsr.api` and uses :mod:`chipsr.io` (files) and :mod:`chipsr.core`
(networks, training, metrics); the task packages never import each other.
"""
