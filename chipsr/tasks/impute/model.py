"""The learned imputer: a ``chipsr.core`` network trained to restore hidden values (PyPOTS API).

Input representation (channels-first, ``F`` features, window of ``L`` steps, standardised with
the training statistics)::

    values  (F, L)  observed values, missing entries zero-filled (0 = the training mean)
    mask    (F, L)  1 = observed, 0 = missing              (dropped with mask_channel=False)
    linear  (F, L)  linear interpolation of the observed values in time   (linear_channel=True)

stacked to ``(k F, L)``; the network maps it to ``(F, L)``. With the linear channel the output
is ``linear + network(x)`` (the network learns the correction to linear interpolation). The
paper's setting (TFiLM paper appendix H: zeroed entries, no mask) is ``mask_channel=False,
linear_channel=False``.

Training (self-supervised, as SAITS's "masked imputation task"): every window drawn for a
mini-batch hides an extra random share of its **observed** values (MCAR points at a rate drawn
from ``mask_rate``, or with probability ``block_prob`` contiguous blocks), the network sees the
window without them and is scored (masked L1 or MSE) only on them, so values that are really
missing never serve as targets. Hiding is re-drawn every time a window is drawn (seeded
generator), the validation windows use one fixed seeded hiding.

Inference: each sample is standardised, its linear channel computed over the whole sample, and
it is cut into overlapping windows (stride ``L / 2``) whose predictions are blended with
triangular weights; observed values are returned exactly.

Networks (``arch``): ``"tfilm"`` :class:`chipsr.core.models.TFiLMUNet`, ``"conv"``
:class:`chipsr.core.models.ConvUNet`, ``"dnn"`` :class:`ImputationDNN` (the paper's DNN row: the
audio task's ``DNNBaseline`` is an STFT network that needs windows longer than its FFT and
predicts one channel, so it does not fit multivariate imputation windows; this is a plain dense
network with the same 3 x 2048 hidden layers). ``ImputationDNN`` (config
:class:`ImputationDNNConfig`) is registered in the core model registry
(:func:`chipsr.core.models.register_model`, name ``"impute_dnn"``) when this module is imported, so
every network here, saved or fresh, is rebuilt by :func:`chipsr.core.models.build_model`.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from chipsr.core.models import ModelConfig, TFiLMUNetConfig, UNetConfig, build_model, register_model
from chipsr.tasks.impute.baselines import linear_fill
from chipsr.tasks.impute.config import ARCHS, ImputerConfig
from chipsr.tasks.impute.data import Standardizer, as_3d

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImputationDNNConfig(ModelConfig):
    """The dense imputation network (:class:`ImputationDNN`).

    Attributes
    ----------
    in_channels, out_channels : int
        Channels in (``k F``) and out (``F``); no defaults.
    n_steps : int
        Window length L in time steps; no default.
    hidden : int
        Units per hidden layer (2048, as the TFiLM paper's DNN).
    n_layers : int
        Number of hidden layers (3, as the TFiLM paper's DNN).
    dropout : float
        Dropout probability after every hidden layer.
    """

    name: ClassVar[str] = "impute_dnn"
    in_channels: int
    out_channels: int
    n_steps: int
    hidden: int = 2048
    n_layers: int = 3
    dropout: float = 0.1


class ImputationDNN(nn.Module):
    """Dense network over a whole window: flatten ``(C_in, L)`` -> ``n_layers`` x ``hidden``
    ReLU units (dropout) -> ``(C_out, L)``.

    The TFiLM paper's "DNN" baseline (3 dense layers of 2048 units, as in its audio experiments)
    for imputation windows. Only windows of exactly ``n_steps`` positions are accepted. The last
    layer starts at N(0, 1e-3) weights and zero bias.

    Parameters
    ----------
    config : ImputationDNNConfig
        The sizes; ``ImputationDNN(in_channels, out_channels, n_steps, ...)`` builds the config.

    Raises
    ------
    ValueError
        A size < 1, or at call time an input that is not ``(N, in_channels, n_steps)``.
    TypeError
        A keyword that is not a field of :class:`ImputationDNNConfig`, or a config of another class.

    Shape
    -----
    ``(N, in_channels, n_steps) -> (N, out_channels, n_steps)``.
    """

    config_class = ImputationDNNConfig
    name = ImputationDNNConfig.name

    def __init__(self, *args: Any, **fields: Any) -> None:
        super().__init__()
        cfg = ImputationDNNConfig.from_args(args, fields)
        if min(cfg.in_channels, cfg.out_channels, cfg.n_steps, cfg.hidden, cfg.n_layers) < 1:
            raise ValueError("in_channels, out_channels, n_steps, hidden and n_layers must be >= 1")
        layers: list[nn.Module] = []
        d = cfg.in_channels * cfg.n_steps
        for _ in range(cfg.n_layers):
            layers += [nn.Linear(d, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout)]
            d = cfg.hidden
        last = nn.Linear(d, cfg.out_channels * cfg.n_steps)
        nn.init.normal_(last.weight, std=1e-3)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)
        self.in_channels, self.out_channels, self.n_steps = cfg.in_channels, cfg.out_channels, cfg.n_steps
        self.config: ImputationDNNConfig = cfg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, n_steps) -> (N, out_channels, n_steps)``."""
        if x.dim() != 3 or x.shape[1] != self.in_channels or x.shape[2] != self.n_steps:
            raise ValueError(f"expected input (N, {self.in_channels}, {self.n_steps}); got {tuple(x.shape)}")
        return self.net(x.flatten(1)).view(x.shape[0], self.out_channels, self.n_steps)


register_model(ImputationDNN.name, ImputationDNN)  # checkpoints of it load through build_model


class ImputationNet(nn.Module):
    """``net`` plus the linear-interpolation residual and an optional local linear skip.

    ``(N, k F, L) -> (N, F, L)``: ``net(x)`` [+ the last ``F`` input channels (the linear channel)
    when ``residual``] [+ ``Conv1d(k F, F, 3)(x)`` when ``local_skip``: a full-resolution linear
    path, zero-initialised, that the U-Nets lack (their output is sub-pixel shuffled from stride-2
    features, after max pooling)].
    """

    def __init__(self, net: nn.Module, n_features: int, residual: bool, local_skip: bool = False,
                 in_channels: int | None = None) -> None:
        super().__init__()
        self.net, self.n_features, self.residual = net, n_features, residual
        self.skip = None
        if local_skip:
            self.skip = nn.Conv1d(in_channels, n_features, 3, padding=1)
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        if self.residual:
            out = out + x[:, -self.n_features:]
        if self.skip is not None:
            out = out + self.skip(x)
        return out


def masked_loss(kind: str = "l1"):
    """A ``loss(pred, target)`` for :func:`chipsr.core.train.fit` that scores only the entries where
    ``target`` is not NaN (the hidden ones): mean absolute (``"l1"``) or squared (``"mse"``) error."""
    if kind not in ("l1", "mse"):
        raise ValueError(f"loss must be 'l1' or 'mse'; got {kind!r}")

    def loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        m = ~torch.isnan(target)
        d = pred - torch.nan_to_num(target)
        e = d.abs() if kind == "l1" else d * d
        return torch.where(m, e, torch.zeros_like(e)).sum() / m.sum().clamp_min(1)

    return loss


def make_inputs(Z: np.ndarray, linear: np.ndarray | None, mask_channel: bool) -> np.ndarray:
    """Stack the input channels for windows ``Z`` (n, L, F) standardised with NaN.

    Parameters
    ----------
    Z : numpy.ndarray, shape (n, L, F)
    linear : numpy.ndarray, shape (n, L, F), or None
        The linear-interpolation channel (NaN where a series has no observation -> 0).
    mask_channel : bool

    Returns
    -------
    numpy.ndarray, float32, shape (n, k F, L)
        values, [mask], [linear].
    """
    obs = ~np.isnan(Z)
    parts = [np.where(obs, Z, 0.0)]
    if mask_channel:
        parts.append(obs.astype(float))
    if linear is not None:
        parts.append(np.nan_to_num(linear, nan=0.0))
    return np.concatenate([p.transpose(0, 2, 1) for p in parts], axis=1).astype(np.float32)


def _linear(Z: np.ndarray) -> np.ndarray:
    """Linear interpolation along axis 1 of (n, T, F)."""
    n, t, f = Z.shape
    S = Z.transpose(0, 2, 1).reshape(n * f, t)
    return linear_fill(S).reshape(n, f, t).transpose(0, 2, 1)


def _hide_window(rng: np.random.Generator, obs: np.ndarray, rate_range, block_prob: float, block_range) -> np.ndarray:
    """Boolean (T, F) mask of observed entries to hide in one crop."""
    t, f = obs.shape
    rate = rng.uniform(*rate_range)
    if rng.random() < block_prob:
        lo, hi = block_range
        blen = int(rng.integers(lo, min(hi, t) + 1))
        n_blocks = max(1, round(rate * t * f / blen))
        hidden = np.zeros((t, f), bool)
        starts = rng.integers(0, t - blen + 1, n_blocks)
        feats = rng.integers(0, f, n_blocks)
        hidden[starts[:, None] + np.arange(blen), feats[:, None]] = True
        return hidden & obs
    return (rng.random((t, f)) < rate) & obs


class _TrainWindows(Dataset):
    """Random windows of the training series with freshly drawn hiding at every draw.

    Item ``i`` ignores ``i``: each call draws a sample, an offset, a context margin and a hiding
    from one seeded generator, so a seeded run (no workers) sees the same sequence of windows.
    Returns ``x`` (k F, L) float32 and ``y`` (F, L) float32 with NaN except at the hidden entries.
    """

    def __init__(self, series: list[np.ndarray], opts: ImputerConfig, n_items: int, seed: int):
        self.series = series
        self.o = opts
        self.n_items = n_items
        self.rng = np.random.default_rng([seed, 7])
        lengths = np.array([len(s) for s in series], float)
        self.p = lengths / lengths.sum()

    def __len__(self) -> int:
        return self.n_items

    def __getitem__(self, i):
        o, rng = self.o, self.rng
        s = self.series[int(rng.choice(len(self.series), p=self.p))]
        L = o.n_steps
        ctx = 0 if (o.context == 0 or rng.random() < 0.5) else o.context
        span = L + 2 * ctx
        if len(s) < span:
            ctx, span = 0, L
        start = int(rng.integers(0, len(s) - span + 1))
        crop = s[start:start + span]
        obs = ~np.isnan(crop)
        hidden = _hide_window(rng, obs, o.mask_rate, o.block_prob, o.block_len)
        seen = np.where(hidden, np.nan, crop)
        lin = _linear(seen[None])[0] if o.linear_channel else None
        sl = slice(ctx, ctx + L)
        x = make_inputs(seen[None, sl], None if lin is None else lin[None, sl], o.mask_channel)[0]
        y = np.where(hidden[sl], crop[sl], np.nan).T.astype(np.float32)
        return torch.from_numpy(x), torch.from_numpy(y)


class Imputer:
    """A learned imputer with the PyPOTS interface.

    >>> imp = Imputer(n_steps=24, arch="tfilm", epochs=20)
    >>> imp.fit(train_X, valid_X)                # (n, T, F) arrays, NaN = missing, original units
    >>> filled = imp.impute(test_X)              # same shape; observed values unchanged
    >>> imp.save("model.pt"); imp = Imputer.load("model.pt")

    Parameters
    ----------
    feature_names : list of str, optional
        Names of the F features (checked by ``chipsr impute fill``).
    device : str, optional
        None = CUDA, then MPS, then CPU.
    **settings
        Any field of :class:`ImputerConfig`.
    """

    def __init__(self, feature_names=None, device: str | None = None, **settings) -> None:
        self.config = ImputerConfig(**settings)
        self.feature_names = None if feature_names is None else [str(c) for c in feature_names]
        self.device = device
        self.scaler: Standardizer | None = None
        self.model: ImputationNet | None = None
        self.history: list[dict] = []
        self.fit_result = None

    # ------------------------------------------------------------------ network
    @property
    def n_features(self) -> int | None:
        return None if self.scaler is None else len(self.scaler.mean)

    def _in_channels(self, f: int) -> int:
        c = self.config
        return f * (1 + int(c.mask_channel) + int(c.linear_channel))

    def _build(self, f: int) -> ImputationNet:
        c = self.config
        cin = self._in_channels(f)
        cfg: ModelConfig
        if c.arch == "dnn":
            cfg = ImputationDNNConfig(cin, f, c.n_steps, hidden=c.hidden, n_layers=c.n_layers, dropout=c.dropout)
        elif c.arch == "conv":
            cfg = UNetConfig(cin, f, depth=c.depth, width=c.width, dropout=c.dropout, dilation=c.dilation)
        else:
            bs = c.block_size if c.block_size is not None else 2 ** (c.depth + 1)
            cfg = TFiLMUNetConfig(cin, f, depth=c.depth, block_size=bs, width=c.width, dropout=c.dropout,
                                  dilation=c.dilation, gamma_offset=c.gamma_offset)
        net = build_model(cfg)
        return ImputationNet(net, f, residual=c.linear_channel, local_skip=c.local_skip, in_channels=cin)

    # ------------------------------------------------------------------ data
    @staticmethod
    def _X(data) -> np.ndarray:
        return as_3d(data["X"] if isinstance(data, dict) else data)

    def _valid_tensors(self, Z: np.ndarray, seed: int):
        """Fixed validation windows: consecutive windows of every sample, hidden once (seeded)."""
        c = self.config
        L = c.n_steps
        rng = np.random.default_rng([seed, 11])
        xs, ys = [], []
        for s in Z:
            for start in range(0, len(s) - L + 1, L):
                crop = s[start:start + L]
                obs = ~np.isnan(crop)
                hidden = _hide_window(rng, obs, c.mask_rate, c.block_prob, c.block_len)
                seen = np.where(hidden, np.nan, crop)
                lin = _linear(seen[None]) if c.linear_channel else None
                xs.append(make_inputs(seen[None], lin, c.mask_channel)[0])
                ys.append(np.where(hidden, crop, np.nan).T.astype(np.float32))
        if not xs:
            raise ValueError(f"validation data has fewer steps than one window ({L})")
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))

    def fit(self, train_set, valid_set=None, callbacks=(), progress: bool = False) -> Imputer:
        """Standardise with ``train_set``'s statistics and train the network.

        Parameters
        ----------
        train_set : numpy.ndarray (n, T, F) or (T, F), or dict with key "X"
            Original units, NaN = missing; ``T >= n_steps`` (windows are drawn at random offsets).
        valid_set : same, optional
            Early-stopping data (fixed hiding). None = the training data (no held-out check).
        callbacks : sequence
            Passed to :func:`chipsr.core.train.fit` (e.g. :class:`chipsr.io.checkpoint.EpochTsv`).
        progress : bool
            Progress bar on stderr.

        Returns
        -------
        Imputer
            ``self``.

        Raises
        ------
        ValueError
            If a sample is shorter than a window, a feature is never observed, or the validation
            data's feature count differs.
        """
        from chipsr.core.train import TrainConfig
        from chipsr.core.train import fit as core_fit

        c = self.config
        X = self._X(train_set)
        if X.shape[1] < c.n_steps:
            raise ValueError(f"training series have {X.shape[1]} steps, fewer than one window of {c.n_steps}")
        if self.feature_names is not None and len(self.feature_names) != X.shape[2]:
            raise ValueError(f"{len(self.feature_names)} feature names for {X.shape[2]} features")
        self.scaler = Standardizer.fit(X)
        Z = self.scaler.transform(X)
        V = Z if valid_set is None else self.scaler.transform(self._X(valid_set))
        if V.shape[2] != Z.shape[2]:
            raise ValueError(f"validation data has {V.shape[2]} features, training data {Z.shape[2]}")
        n_items = c.windows_per_epoch or max(c.batch_size, int(sum(len(s) for s in Z) // c.n_steps))
        train_ds = _TrainWindows(list(Z), c, n_items, c.seed)
        valid = self._valid_tensors(V, c.seed)
        torch.manual_seed(c.seed)
        self.model = self._build(Z.shape[2])
        tc = TrainConfig(epochs=c.epochs, batch_size=c.batch_size, lr=c.lr, patience=c.patience, seed=c.seed,
                         device=self.device, grad_clip=c.grad_clip, amp=False)
        log.info("training %s imputer: %d features, windows of %d, %d windows/epoch", c.arch, Z.shape[2],
                 c.n_steps, n_items)
        self.fit_result = core_fit(self.model, train_ds, valid, config=tc, loss_fn=masked_loss(c.loss),
                                   callbacks=callbacks, progress=progress)
        self.history = [dict(h, stage=1) for h in self.fit_result.history]
        if c.finetune_epochs > 0:
            tc2 = replace(tc, epochs=c.finetune_epochs, lr=c.lr / 10, seed=c.seed + 1)
            best = self.fit_result.best_valid_loss
            second = core_fit(self.model, train_ds, valid, config=tc2, loss_fn=masked_loss(c.loss),
                              callbacks=callbacks, progress=progress)
            if second.best_valid_loss > best:  # keep the main run's weights
                log.info("fine-tuning did not lower the validation loss (%.5g >= %.5g)", second.best_valid_loss, best)
                self.model.load_state_dict(self.fit_result.state["best_model"])
            else:
                self.fit_result = second
            n1 = len(self.history)
            self.history += [dict(h, stage=2, epoch=h["epoch"] + n1) for h in second.history]
        self.model.cpu().eval()
        return self

    # ------------------------------------------------------------------ inference
    def _check_ready(self) -> None:
        if self.model is None or self.scaler is None:
            raise RuntimeError("the imputer is not trained: call fit() or Imputer.load() first")

    @torch.no_grad()
    def _predict_z(self, Z: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Network predictions (standardised) for every entry of Z (n, T, F)."""
        c = self.config
        L = c.n_steps
        n, t, f = Z.shape
        if t < L:
            raise ValueError(f"{t} steps is fewer than one window of {L} steps")
        lin = _linear(Z) if c.linear_channel else None
        stride = max(1, L // 2)
        starts = list(range(0, t - L + 1, stride))
        if starts[-1] != t - L:
            starts.append(t - L)
        w = np.minimum(np.arange(1, L + 1), np.arange(L, 0, -1)).astype(float)  # triangular
        w = w / w.max()
        out = np.zeros((n, t, f))
        wsum = np.zeros((t,))
        for s0 in starts:
            wsum[s0:s0 + L] += w
        dev = next(self.model.parameters()).device if any(True for _ in self.model.parameters()) else "cpu"
        self.model.eval()
        jobs = [(i, s0) for i in range(n) for s0 in starts]
        for b in range(0, len(jobs), batch_size):
            chunk = jobs[b:b + batch_size]
            zs = np.stack([Z[i, s0:s0 + L] for i, s0 in chunk])
            ls = None if lin is None else np.stack([lin[i, s0:s0 + L] for i, s0 in chunk])
            x = torch.from_numpy(make_inputs(zs, ls, c.mask_channel)).to(dev)
            pred = self.model(x).float().cpu().numpy().transpose(0, 2, 1)  # (b, L, F)
            for (i, s0), p in zip(chunk, pred):
                out[i, s0:s0 + L] += p * w[:, None]
        return out / wsum[None, :, None]

    def impute(self, X, batch_size: int = 64) -> np.ndarray:
        """Fill the NaN entries of ``X`` (n, T, F) or (T, F), original units; ``T >= n_steps``.

        Returns
        -------
        numpy.ndarray
            float64, the shape of ``X``; observed entries are returned exactly.

        Raises
        ------
        ValueError
            Wrong feature count, or fewer steps than one window.
        RuntimeError
            Not trained.
        """
        self._check_ready()
        X0 = np.asarray(X["X"] if isinstance(X, dict) else X, float)
        X3 = as_3d(X0)
        if X3.shape[2] != self.n_features:
            raise ValueError(f"the model was trained on {self.n_features} features; got {X3.shape[2]}")
        Z = self.scaler.transform(X3)
        pred = self.scaler.inverse(self._predict_z(Z, batch_size))
        out = np.where(np.isnan(X3), pred, X3)
        return out.reshape(X0.shape)

    def predict(self, test_set, batch_size: int = 64) -> dict:
        """``{"imputation": impute(X)}`` (PyPOTS); ``test_set`` an array or dict with key "X"."""
        return {"imputation": self.impute(test_set, batch_size)}

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write a checkpoint (atomic; ``torch.load(weights_only=True)``-safe): the network's config
        and weights, plus the imputer settings, standardisation and feature names."""
        from chipsr.io.checkpoint import make_checkpoint, save_checkpoint

        self._check_ready()
        meta = {"task": "impute", "imputer": _plain(asdict(self.config)), "scaler": self.scaler.to_dict(),
                "feature_names": self.feature_names}
        ckpt = make_checkpoint(self.model.net, meta=meta, state_dict=self.model.state_dict())
        ckpt["history"] = _plain(self.history)
        save_checkpoint(path, ckpt)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> Imputer:
        """Rebuild an :class:`Imputer` saved with :meth:`save`.

        Raises
        ------
        ChipsrInputError
            If the file is not an imputation checkpoint.
        """
        from chipsr.io.checkpoint import load_checkpoint

        ckpt = load_checkpoint(path, task="impute")
        meta = ckpt.get("meta") or {}
        settings = dict(meta["imputer"])
        settings["mask_rate"] = tuple(settings["mask_rate"])
        settings["block_len"] = tuple(settings["block_len"])
        self = cls(feature_names=meta.get("feature_names"), device=device, **settings)
        self.scaler = Standardizer.from_dict(meta["scaler"])
        net = build_model(ckpt["config"])
        f = len(self.scaler.mean)
        self.model = ImputationNet(net, f, residual=self.config.linear_channel, local_skip=self.config.local_skip,
                                   in_channels=self._in_channels(f))
        self.model.load_state_dict(ckpt["state_dict"])
        self.model.eval()
        if device is not None:
            self.model.to(device)
        self.history = list(ckpt.get("history") or [])
        return self

    def __repr__(self) -> str:
        c = self.config
        return f"Imputer(arch={c.arch!r}, n_steps={c.n_steps}, features={self.n_features})"


def _plain(obj):
    """Tuples -> lists, numpy scalars -> Python numbers (for weights_only checkpoints)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and math.isnan(obj):
        return float("nan")
    return obj


__all__ = [
    "ARCHS",
    "ImputationDNN",
    "ImputationDNNConfig",
    "ImputationNet",
    "Imputer",
    "ImputerConfig",
    "make_inputs",
    "masked_loss",
]
