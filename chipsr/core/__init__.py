"""Task-agnostic networks, training and inference (torch only; never opens files).

Planned contents (issue 3): the TFiLM layer, SubPixel1d, the TFiLM U-Net, AudioUNet, the
Coda CNN and DNN baselines, losses, metrics, the training loop and tiled inference. Nothing is
exported yet; the ChIP-seq coverage steps in :mod:`chipsr.tasks.chipseq` do not need torch.
"""
