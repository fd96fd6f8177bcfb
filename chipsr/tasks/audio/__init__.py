"""Audio super-resolution (``chipsr audio``): recover the high band of low-rate speech or music.

The task of Kuleshov, Enam, Ermon 2017, "Audio Super Resolution using Neural Networks"
(doi:10.48550/arXiv.1708.00853) and Birnbaum et al. 2019, "Temporal FiLM: Capturing Long-Range
Sequence Dependencies with Feature-Wise Modulations" (doi:10.48550/arXiv.1909.06628, Section 4.1).
Importing this package imports nothing heavy; each module is imported where it is used.

Modules
-------
data
    Low-res signals (decimate / aliased), the cubic-spline model input, training pairs and patches.
model
    The networks: TFiLM U-Net, AudioUNet, the DNN baseline (:func:`~.model.build_audio_model`).
train
    ``chipsr audio train``: patches, :func:`chipsr.core.train.fit`, OUTPUT.epochs.tsv and
    OUTPUT.splits.json.
upsample
    ``chipsr audio upsample``: :class:`~.upsample.SuperResolver`, streaming files of any length.
evaluate
    ``chipsr audio evaluate``: models vs spline, sinc and noise fill (SNR, LSD); the reports.
tfr
    ``chipsr audio tfr``: read a file, draw its learnable Wigner-Ville map. The audio figures
    (spectrograms, WVD maps) are drawn by :mod:`chipsr.plots`, like every figure.
"""
