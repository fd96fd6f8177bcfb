"""Task-agnostic networks, training and inference (torch only; never opens files).

- :mod:`.layers` — TFiLM (temporal feature-wise linear modulation), SubPixel1d, U-Net blocks.
- :mod:`.models` — the U-Nets (TFiLMUNet, ConvUNet, AudioUNet), each built from its config dataclass.
- :mod:`.registry` — the open model registry: :func:`~chipsr.core.registry.build_model` rebuilds any
  registered model (the core ones and the tasks' own) from its checkpoint ``config`` dict.
- :mod:`.baselines` — non-learned baselines with the model interface (cubic B-spline, identity).
- :mod:`.train` — :func:`~chipsr.core.train.fit`: Adam, early stopping, exact resume.
- :mod:`.inference` — :func:`~chipsr.core.inference.predict_tiled` over signals longer than a window.
- :mod:`.metrics` — Pearson/Spearman r, MSE, SNR, LSD, masked imputation metrics, L2 distance.
- :mod:`.device` — :func:`~chipsr.core.device.pick_device` (CUDA, then MPS, then CPU).

Checkpoints (files) are written by :mod:`chipsr.io.checkpoint`.
"""
