"""Evaluation metrics for the three tasks: track correlation, audio SNR / LSD, imputation error.

Pure functions: they accept ``torch.Tensor`` or ``numpy.ndarray`` (or nested lists), compute in
float64 on the inputs' device, and return a Python ``float`` for a full reduction or a float64
``torch.Tensor`` when a per-row / per-example result is asked for (``dim=...``,
``reduction="none"``, :func:`snr_db`). Nothing here reads files, logs or prints.

Modules (every name is re-exported here, so ``from chipsr.core.metrics import pearson_r`` works):
:mod:`~chipsr.core.metrics.correlation` (tracks), :mod:`~chipsr.core.metrics.audio` (SNR, LSD),
:mod:`~chipsr.core.metrics.masked` (imputation). (Peak-call scores live with the ChIP-seq
task's evaluation, ``chipsr.tasks.chipseq.evaluate``.)

Conventions, with their sources (full citations below and in the README's References):

* ChIP-seq tracks (TFiLM paper, Birnbaum et al. 2019, Section 4.2; Coda, Koh et al. 2017;
  AtacWorks, Lal et al. 2021): :func:`pearson_r`, :func:`spearman_r`, :func:`mse`, all
  NaN-aware (a pair is dropped when either side is NaN) and mask-aware (e.g. inside / outside
  peaks, blacklist excluded).
* Audio super-resolution (Kuleshov et al. 2017): :func:`snr_db`, :func:`mean_snr_db`,
  :func:`lsd` (the modern log10 convention used by NVSR / AP-BWE, or the same recipe in natural
  log), and :func:`lsd_audio_super_res`, an exact port of the reference code
  ``kuleshov/audio-super-res`` ``compute_log_distortion`` (which differs from the paper's
  formula in more than the log base).
* Imputation (PyPOTS / SAITS / BRITS conventions): :func:`masked_mae`, :func:`masked_mse`,
  :func:`masked_rmse`, :func:`masked_mre` on the artificially hidden entries; and
  :func:`l2_distance`, the TFiLM paper's "L2 distance" (Appendix H, Table 10).

References: the TFiLM paper (Birnbaum et al., NeurIPS 2019, arXiv:1909.06628); Koh, Pierson &
Kundaje 2017 (Bioinformatics, doi:10.1093/bioinformatics/btx243); Lal et al., "Deep learning-based
enhancement of epigenomics data with AtacWorks", Nature Communications 12:1507, 2021
(doi:10.1038/s41467-021-21765-5); Kuleshov, Enam & Ermon, "Audio Super-Resolution Using Neural Nets",
2017 (arXiv:1708.00853; reference code GitHub ``kuleshov/audio-super-res``); Du, Côté & Liu, "SAITS:
Self-Attention-based Imputation for Time Series", 2023 (doi:10.1016/j.eswa.2023.119619); Cao et al.,
"BRITS: Bidirectional Recurrent Imputation for Time Series", NeurIPS 2018 (arXiv:1805.10572).
"""

from __future__ import annotations

from chipsr.core.metrics._inputs import ArrayLike as ArrayLike
from chipsr.core.metrics.audio import LSD_FLOOR as LSD_FLOOR
from chipsr.core.metrics.audio import lsd, lsd_audio_super_res, mean_snr_db, snr_db
from chipsr.core.metrics.correlation import mse, pearson_r, spearman_r
from chipsr.core.metrics.masked import (
    l2_distance,
    masked_mae,
    masked_mre,
    masked_mse,
    masked_rmse,
)

__all__ = [
    "pearson_r",
    "spearman_r",
    "mse",
    "snr_db",
    "mean_snr_db",
    "lsd",
    "lsd_audio_super_res",
    "masked_mae",
    "masked_mse",
    "masked_rmse",
    "masked_mre",
    "l2_distance",
]
