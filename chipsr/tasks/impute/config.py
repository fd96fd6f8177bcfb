"""Settings of the learned imputer, kept apart from the network code so that reading them (the CLI's
defaults and help, :mod:`chipsr.api.impute`) imports neither torch nor numpy.

:class:`ImputerConfig` is the single source of the imputer's defaults: ``Imputer(...)`` in Python
and ``chipsr impute train`` on the command line train the same model.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the networks of :class:`chipsr.tasks.impute.model.Imputer`
ARCHS = ("tfilm", "conv", "dnn")


@dataclass
class ImputerConfig:
    """Settings of :class:`chipsr.tasks.impute.model.Imputer` (stored in its checkpoint).

    Attributes
    ----------
    arch : {"tfilm", "conv", "dnn"}
    n_steps : int
        Window length L in steps.
    mask_channel, linear_channel : bool
        Input channels besides the zero-filled values (see :mod:`chipsr.tasks.impute.model`); the linear
        channel also makes the output a correction of linear interpolation.
    local_skip : bool
        Add a zero-initialised full-resolution ``Conv1d(k F, F, 3)`` path (:class:`chipsr.tasks.impute.model.ImputationNet`).
    depth, width, block_size, dropout, dilation, gamma_offset : U-Net settings (``block_size`` for TFiLM,
        a multiple of ``2**(depth+1)``; None = one TFiLM block per bottleneck position).
    hidden, n_layers : DNN settings.
    mask_rate : (float, float)
        Range of the MCAR rate (share of observed values hidden) drawn per training window.
    block_prob : float
        Probability that a training window hides contiguous blocks instead of points.
    block_len : (int, int)
        Range of block lengths in steps.
    context : int
        With probability 1/2 a training window's linear channel is computed over ``context``
        extra steps on each side (as at inference on long series), else inside the window only.
    loss : {"l1", "mse"}
    epochs, batch_size, lr, patience, seed, windows_per_epoch, grad_clip
        Training (Adam, early stopping on the validation loss; ``windows_per_epoch`` None = the
        training steps / L).
    finetune_epochs : int
        After the main run, continue from its best weights for this many epochs at ``lr / 10``
        (a single learning-rate drop; 0 = none).

    ``width`` 0.25 and ``batch_size`` 16 are the values ``chipsr impute train`` uses: Python and CLI
    users train the same model.
    """

    arch: str = "tfilm"
    n_steps: int = 24
    mask_channel: bool = True
    linear_channel: bool = True
    local_skip: bool = True
    depth: int = 2
    width: float = 0.25
    block_size: int | None = None
    dropout: float = 0.1
    dilation: int = 1
    gamma_offset: float = 1.0
    hidden: int = 2048
    n_layers: int = 3
    mask_rate: tuple = (0.05, 0.4)
    block_prob: float = 0.3
    block_len: tuple = (2, 16)
    context: int = 24
    loss: str = "l1"
    epochs: int = 30
    batch_size: int = 16
    lr: float = 3e-4
    patience: int | None = 6
    finetune_epochs: int = 0
    seed: int = 0
    windows_per_epoch: int | None = None
    grad_clip: float | None = 1.0

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {', '.join(ARCHS)}; got {self.arch!r}")
        if self.n_steps < 2:
            raise ValueError(f"n_steps must be >= 2; got {self.n_steps}")
        lo, hi = self.mask_rate
        if not 0 < lo <= hi < 1:
            raise ValueError(f"mask_rate must be a range inside (0, 1); got {self.mask_rate}")
        self.mask_rate = (float(lo), float(hi))
        self.block_len = (int(self.block_len[0]), int(self.block_len[1]))
        if self.loss not in ("l1", "mse"):
            raise ValueError(f"loss must be 'l1' or 'mse'; got {self.loss!r}")
