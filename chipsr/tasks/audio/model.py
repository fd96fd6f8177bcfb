"""Audio super-resolution networks: one builder for the three architectures of the papers.

- ``tfilm``: the TFiLM U-Net (Birnbaum et al. 2019, "Temporal FiLM: Capturing Long-Range Sequence
  Dependencies with Feature-Wise Modulations", doi:10.48550/arXiv.1909.06628);
- ``audiounet``: the AudioUNet (Kuleshov, Enam, Ermon 2017, "Audio Super Resolution using Neural
  Networks", doi:10.48550/arXiv.1708.00853);
- ``dnn``: the dense STFT baseline (Li, Huang, Xu, Lee 2015, "A deep neural network approach to
  speech bandwidth expansion", ICASSP 2015).

Every network maps the spline input ``(N, 1, L)`` to the high-res estimate ``(N, 1, L)``.
"""

from __future__ import annotations

from chipsr.errors import ChipsrInputError

#: the architectures :func:`build_audio_model` builds
ARCHS = ("tfilm", "audiounet", "dnn")


def build_audio_model(arch: str, width: float, depth: int, blocks: int, patch: int, backbone: str,
                      dropout: float, affine: bool = True, ratio: int = 4, lowres: str = "decimate"):
    """The network for ``arch`` (1 channel in = the spline input, 1 out; residual on the input).

    - ``tfilm``: :class:`chipsr.core.models.TFiLMUNet` with TFiLM blocks of ``patch / blocks``
      samples (32 blocks per 8192-sample patch, the paper's audio setting) so any file length
      works; ``backbone="pool"`` = the paper's dilated convs + max-pool, ``"stride"`` = the
      AudioUNet's strided convs (cheaper per step).
    - ``audiounet``: :class:`chipsr.core.models.AudioUNet` (Kuleshov et al. 2017).
    - ``dnn``: :class:`chipsr.core.models.DNNBaseline` (Li et al. 2015): log-magnitude STFT
      frames (n_fft 512) through a dense net (3 x 2048), the input's phase reused; as in Li et al.
      the bins below the low-res pass-band edge (0.8 x the low-res Nyquist for ``decimate``, the
      Nyquist for ``aliased``) pass through and a log-magnitude correction is learned above.
    """
    from chipsr.core.models import AudioUNet, DNNBaseline, TFiLMUNet

    if arch == "tfilm":
        if patch % blocks:
            raise ChipsrInputError(f"--blocks {blocks} must divide the patch length {patch}")
        return TFiLMUNet(1, 1, depth=depth, block_size=patch // blocks, width=width, residual_channel=0,
                         dropout=dropout, affine=affine, downsample=backbone)
    if arch == "audiounet":
        return AudioUNet(1, 1, depth=depth, width=width, dropout=dropout, residual_channel=0)
    if arch == "dnn":
        edge = 256 / ratio * (0.8 if lowres == "decimate" else 1.0)
        return DNNBaseline(1, n_fft=512, hop_length=128, residual=True, keep_bins=int(edge))
    raise ChipsrInputError(f"unknown --arch {arch!r}; expected one of {', '.join(ARCHS)}")
