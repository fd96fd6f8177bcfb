"""The training engine shared by every task: ``fit(model, train_data, valid_data, config)``.

Adam (default lr 3e-4, the TFiLM paper's), mini-batches, early stopping on the validation loss
with patience, the best weights kept, gradient clipping, bf16 autocast on CUDA, deterministic CPU
runs for a seed, and **exact resume**: the state after every epoch (weights, optimizer, RNG,
early-stopping counters, history) is a plain dict of tensors and numbers that the caller can save,
and ``fit(..., resume=state)`` continues so that a resumed seeded CPU run ends with the same
weights as an uninterrupted one. The engine never opens files: per-epoch records and states go to
``callbacks`` (see :mod:`chipsr.io.checkpoint` for the ones that write a TSV and checkpoints).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler, TensorDataset

from chipsr.core.device import pick_device

log = logging.getLogger(__name__)

LOSSES = ("mse", "l1", "rmse")


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`fit`.

    Attributes
    ----------
    epochs : int
        Maximum number of epochs.
    batch_size : int
        Windows per mini-batch.
    lr : float
        Adam learning rate (3e-4 in the TFiLM paper, Section 4).
    weight_decay : float
        Adam weight decay.
    patience : int or None
        Stop after this many epochs without a lower validation loss; None = never stop early.
    loss : {"mse", "l1", "rmse"}
        Training loss; ``"rmse"`` is the mean over examples of the per-example RMSE (the audio
        reference code's loss).
    grad_clip : float or None
        Clip the global gradient norm to this value.
    seed : int
        Seed of weight-independent randomness in training (shuffling, dropout).
    device : str or None
        None = CUDA, then MPS, then CPU.
    amp : bool
        bf16 autocast on CUDA (ignored on CPU/MPS).
    deterministic : bool
        ``torch.use_deterministic_algorithms(True)`` during training (CPU runs are then
        reproducible for a seed).
    samples_per_epoch : int or None
        Draw this many training examples per epoch (a fresh seeded random subset each epoch,
        without replacement within the epoch) instead of all of them; for large data sets.
    time_limit_s : float or None
        Stop after the first epoch that ends more than this many seconds after training
        started (wall clock of this call; a resumed run gets a fresh budget).
    lr_schedule : {"constant", "cosine"}
        ``"cosine"``: the learning rate decays from ``lr`` to 0 along a half cosine over all
        ``epochs`` (per optimizer step; Loshchilov & Hutter, SGDR, 2017).
    select : {"loss", "metric"}
        What picks the best epoch (the weights kept) and drives early stopping: the lowest
        validation loss, or the highest validation metric (e.g. Pearson r).
    workers : int
        ``DataLoader`` worker processes that read training examples (0 = in the training process).
        Worth it when reading an example costs as much as a step (memory-mapped genomes on a GPU);
        the examples and their order do not depend on it.
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 0.0
    patience: int | None = 5
    loss: str = "mse"
    grad_clip: float | None = 1.0
    seed: int = 0
    device: str | None = None
    amp: bool = True
    deterministic: bool = True
    samples_per_epoch: int | None = None
    time_limit_s: float | None = None
    lr_schedule: str = "constant"
    select: str = "loss"
    workers: int = 0

    def __post_init__(self) -> None:
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule {self.lr_schedule!r}: expected constant or cosine")
        if self.select not in ("loss", "metric"):
            raise ValueError(f"select {self.select!r}: expected loss or metric")
        if self.loss not in LOSSES:
            raise ValueError(f"loss {self.loss!r}: expected one of {', '.join(LOSSES)}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1; got {self.epochs}, {self.batch_size}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0; got {self.lr}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0; got {self.workers}")
        if self.samples_per_epoch is not None and self.samples_per_epoch < 1:
            raise ValueError(f"samples_per_epoch must be >= 1; got {self.samples_per_epoch}")


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    history : list of dict
        One record per epoch: epoch, train_loss, valid_loss, valid_metric, seconds, samples_per_s.
    best_epoch : int
        Epoch (1-based) with the best validation loss (or metric, with ``select="metric"``); its
        weights are loaded into the model.
    best_valid_loss : float
        Validation loss of that epoch.
    best_score : float
        The selection score of that epoch (minus the loss, or the metric).
    stopped_early : bool
        Stopped by early stopping (patience) or by ``time_limit_s``.
    stop_reason : str
        ``"epochs"``, ``"patience"`` or ``"time_limit"``.
    state : dict
        The last training state (see :func:`fit`'s ``resume``).
    """

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_valid_loss: float = math.inf
    best_score: float = -math.inf
    stopped_early: bool = False
    stop_reason: str = "epochs"
    state: dict = field(default_factory=dict)


def loss_function(name) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The training loss ``fn(pred, target) -> scalar`` for a name in :data:`LOSSES` (a callable
    is returned as is). ``"rmse"`` is the mean over examples of the per-example RMSE.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    if callable(name):
        return name
    if name == "mse":
        return nn.functional.mse_loss
    if name == "l1":
        return nn.functional.l1_loss

    def rmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        per_example = ((pred - target) ** 2).flatten(1).mean(dim=1)
        return torch.sqrt(per_example + 1e-12).mean()

    return rmse


def _as_dataset(data) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if isinstance(data, Sequence) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        x, y = data
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"inputs and targets differ in length: {x.shape[0]} vs {y.shape[0]}")
        return TensorDataset(x, y)
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        return data  # a map-style dataset by duck typing (e.g. chipsr.tasks.chipseq.data.RandomCrops)
    raise TypeError("data must be a torch Dataset of (x, y) pairs or a tuple (X, Y) of tensors")


def _autocast(device: torch.device, enabled: bool):
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data,
    loss: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = "mse",
    batch_size: int = 64,
    device: str | torch.device | None = None,
    metric: Callable[[torch.Tensor, torch.Tensor], float | dict] | None = None,
    amp: bool = True,
) -> tuple[float, float | dict]:
    """Mean loss (and a metric over all predictions) of ``model`` on ``data``.

    Parameters
    ----------
    model : nn.Module
        Maps (N, C_in, L) to (N, C_out, L).
    data : Dataset or (X, Y)
        Pairs of tensors ``x`` (C_in, L) and ``y`` (C_out, L).
    loss : {"mse", "l1", "rmse"} or callable
        A loss name, or ``loss(pred, target) -> scalar tensor`` (mean over the batch).
    batch_size : int
    device : str, torch.device or None
    metric : callable or None
        ``metric(pred, target) -> float`` (or a dict of named floats) on the concatenated
        predictions (N, C_out, L), e.g. :func:`chipsr.core.metrics.pearson_r`; NaN when None.
    amp : bool
        bf16 autocast on CUDA.

    Returns
    -------
    (float, float or dict)
        The loss averaged over examples, and the metric (a dict when ``metric`` returns one).
    """
    dev = pick_device(device)
    fn = loss_function(loss)
    model.eval()
    total, count = 0.0, 0
    preds, targets = [], []
    for x, y in DataLoader(_as_dataset(data), batch_size=batch_size, shuffle=False):
        x, y = x.to(dev), y.to(dev)
        with _autocast(dev, amp):
            pred = model(x)
        pred = pred.float()
        total += float(fn(pred, y)) * len(x)
        count += len(x)
        if metric is not None:
            preds.append(pred.cpu())
            targets.append(y.cpu())
    value = float("nan")
    if metric is not None and preds:
        value = metric(torch.cat(preds), torch.cat(targets))
        value = {k: float(v) for k, v in value.items()} if isinstance(value, dict) else float(value)
    return total / max(count, 1), value


def _restore(resume: dict, model: nn.Module, optimizer, schedule, result: FitResult):
    """Load a saved training state into the model, optimizer, schedule, RNG and ``result``; returns
    (first epoch to run, epochs without improvement, best weights so far)."""
    model.load_state_dict(resume["model"])
    optimizer.load_state_dict(resume["optimizer"])
    if "schedule" in resume:
        schedule.load_state_dict(resume["schedule"])
    torch.set_rng_state(resume["rng"])
    result.best_epoch = int(resume["best_epoch"])
    result.best_valid_loss = float(resume["best_valid_loss"])
    result.best_score = float(resume.get("best_score", -result.best_valid_loss))
    result.history = [dict(r) for r in resume["history"]]
    return int(resume["epoch"]) + 1, int(resume["bad_epochs"]), resume.get("best_model")


def _train_epoch(net: nn.Module, model: nn.Module, loader: DataLoader, optimizer, schedule, loss_fn, cfg: TrainConfig,
                 dev: torch.device, epoch: int, show: bool) -> tuple[float, int]:
    """One pass over ``loader`` (a DataLoader of (x, y); a progress bar when ``show``): forward (bf16
    autocast on CUDA), loss, backward, gradient clipping, Adam and schedule steps. Returns (sum of the
    loss over examples, examples) of this process.

    Raises
    ------
    FloatingPointError
        The loss became NaN or infinite.
    """
    from tqdm import tqdm

    batches = tqdm(loader, desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", leave=False,
                   disable=None if show else True)
    total, count = 0.0, 0
    for x, y in batches:
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with _autocast(dev, cfg.amp):
            pred = net(x)
        loss = loss_fn(pred.float(), y)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"training loss became {float(loss)} at epoch {epoch}")
        loss.backward()
        if cfg.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        schedule.step()
        total += float(loss.detach()) * len(x)
        count += len(x)
        batches.set_postfix(loss=f"{total / count:.4g}")
    batches.close()
    return total, count


def _cpu_weights(model: nn.Module) -> dict:
    """A CPU copy of the model's weights (its ``state_dict``)."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _snapshot(model: nn.Module, best_state, optimizer, schedule, epoch: int, bad_epochs: int, result: FitResult,
              cfg: TrainConfig) -> dict:
    """The resumable training state after ``epoch`` (see :func:`fit`'s ``resume``)."""
    return {
        "model": _cpu_weights(model),
        "best_model": best_state,
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "schedule": schedule.state_dict(),
        "rng": torch.get_rng_state(),
        "epoch": epoch,
        "bad_epochs": bad_epochs,
        "best_epoch": result.best_epoch,
        "best_valid_loss": result.best_valid_loss,
        "best_score": result.best_score,
        "history": [dict(r) for r in result.history],
        "config": asdict(cfg),
    }


def _rank_batch(cfg: TrainConfig, train_set, world: int) -> int:
    """This process's share of ``cfg.batch_size`` (all of it without torchrun).

    Raises
    ------
    ValueError
        Empty training data, or a batch size that is not a multiple of the ``world`` processes.
    """
    if len(train_set) == 0:
        raise ValueError("no training examples")
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} must be a multiple of the {world} DDP processes "
                         f"(each takes batch_size / processes: the total batch stays batch_size)")
    return cfg.batch_size // world


def _optimizer(model: nn.Module, cfg: TrainConfig, n_train: int, n_draw: int | None, world: int, rank_batch: int):
    """Adam over the model's parameters and its learning-rate schedule (constant, or a half cosine to
    0 over all ``cfg.epochs`` counted in optimizer steps); returns (optimizer, schedule)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if world > 1:  # every process takes len / world samples (DistributedSampler, drop_last) per epoch
        steps_per_epoch = math.ceil((n_train // world) / rank_batch)
    else:
        steps_per_epoch = math.ceil((n_draw or n_train) / cfg.batch_size)
    total_steps = max(1, cfg.epochs * steps_per_epoch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, (lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))
        if cfg.lr_schedule == "cosine" else (lambda step: 1.0))
    return optimizer, schedule


def _parallel(model: nn.Module, dev: torch.device, world: int) -> nn.Module:
    """The module that trains: ``model`` itself, or under torchrun ``model`` wrapped in
    DistributedDataParallel (gradients averaged over the processes; the weights start equal: same
    seed, rank 0's)."""
    if world == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)


def _should_stop(result: FitResult, cfg: TrainConfig, epoch: int, start_epoch: int, bad_epochs: int, started: float,
                 dev: torch.device) -> bool:
    """Whether training stops before ``epoch``: patience used up, or the time limit passed (rank 0's
    clock decides for every process); sets ``result.stopped_early`` and ``result.stop_reason``."""
    from chipsr.core import distributed

    if cfg.patience is not None and bad_epochs >= cfg.patience:
        result.stopped_early, result.stop_reason = True, "patience"
        return True
    if distributed.agree(cfg.time_limit_s is not None and epoch > start_epoch
                         and time.perf_counter() - started > cfg.time_limit_s, dev):
        result.stopped_early, result.stop_reason = True, "time_limit"
        log.info("time limit of %.0f s reached after epoch %d", cfg.time_limit_s, epoch - 1)
        return True
    return False


def _epoch_loader(train_set, cfg: TrainConfig, epoch: int, world: int, rank_batch: int, n_draw: int | None,
                  dev: torch.device) -> DataLoader:
    """The training DataLoader of ``epoch``: the dataset's own draw for the epoch (``set_epoch``, when
    it has one), shuffled by a generator seeded by (seed, epoch), or by a seeded DistributedSampler
    under torchrun."""
    from chipsr.core import distributed

    if hasattr(train_set, "set_epoch"):
        train_set.set_epoch(epoch)
    if world > 1:
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(train_set, num_replicas=world, rank=distributed.rank(), shuffle=True,
                                     seed=cfg.seed, drop_last=True)
        sampler.set_epoch(epoch)
    else:
        sampler = RandomSampler(train_set, num_samples=n_draw,
                                generator=torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch))
    return DataLoader(train_set, batch_size=rank_batch, sampler=sampler, drop_last=False,
                      num_workers=cfg.workers, pin_memory=dev.type == "cuda")


def _validate(model: nn.Module, valid_set, loss_fn, metric, cfg: TrainConfig, dev: torch.device):
    """Validation loss and metric (the first value of a dict metric), and the metric's named values as
    columns ``valid_<name>`` (empty for a scalar metric)."""
    valid_loss, valid_metric = evaluate(model, valid_set, loss_fn, cfg.batch_size, dev, metric, cfg.amp)
    extra = {}
    if isinstance(valid_metric, dict):
        extra = {f"valid_{k}": v for k, v in valid_metric.items()}
        valid_metric = next(iter(valid_metric.values()), float("nan"))
    return valid_loss, valid_metric, extra


def _is_best(result: FitResult, cfg: TrainConfig, epoch: int, valid_loss: float, valid_metric: float) -> bool:
    """Whether ``epoch`` beats the best so far (lower loss, or higher metric); if so it becomes
    ``result``'s best epoch."""
    score = -valid_loss if cfg.select == "loss" else valid_metric
    is_best = score > result.best_score  # a NaN metric is never best
    if is_best:
        result.best_score, result.best_valid_loss, result.best_epoch = score, valid_loss, epoch
    return is_best


def fit(
    model: nn.Module,
    train_data,
    valid_data,
    config: TrainConfig | None = None,
    metric: Callable[[torch.Tensor, torch.Tensor], float | dict] | None = None,
    callbacks: Sequence[Callable[[dict, dict, bool], None]] = (),
    resume: dict | None = None,
    progress: bool = True,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> FitResult:
    """Train ``model`` with Adam and early stopping; the best weights end up in ``model``.

    It stays over 80 lines for this docstring, the engine's whole contract; the body is the epoch
    loop, its steps in private helpers.

    Parameters
    ----------
    model : nn.Module
        Maps (N, C_in, L) to (N, C_out, L); moved to the chosen device.
    train_data, valid_data : Dataset or (X, Y)
        Pairs ``x`` of shape (C_in, L) and ``y`` of shape (C_out, L); or tensors X (N, C_in, L),
        Y (N, C_out, L).
    config : TrainConfig or None
    metric : callable or None
        Validation metric ``metric(pred, target) -> float`` (e.g. Pearson r), logged per epoch;
        with ``config.select == "metric"`` it also picks the best epoch and drives early
        stopping (higher is better). It may return a dict of named values
        (e.g. ``{"snr_db": ..., "lsd": ...}``): each becomes a column ``valid_<name>`` of the
        epoch record and ``valid_metric`` holds the first.
    callbacks : sequence of callables
        Each is called after every epoch as ``callback(record, state, is_best)``: ``record`` the
        epoch's TSV row (epoch, train_loss, valid_loss, valid_metric, seconds, samples_per_s),
        ``state`` the resumable training state, ``is_best`` whether this epoch is the best so far.
    train_data may have a ``set_epoch(epoch)`` method (as random-crop datasets do): it is called
    before every epoch, so a dataset can draw a fresh, seeded set of examples per epoch.
    resume : dict or None
        A ``state`` from a previous run (e.g. ``checkpoint["train_state"]``): weights, optimizer,
        RNG state, epoch, early-stopping counters and history are restored, and training goes on
        from the next epoch. With the same config and seed on CPU the final weights equal those
        of an uninterrupted run.
    progress : bool
        Show a progress bar on stderr (only when stderr is a terminal).
    loss_fn : callable or None
        ``loss_fn(pred, target) -> scalar tensor`` used for training and validation instead of
        ``config.loss`` (e.g. a waveform loss plus a time-frequency loss).

    Returns
    -------
    FitResult

    Raises
    ------
    ValueError
        Bad config values, or empty training data.

    Notes
    -----
    Shuffling uses a generator seeded by (seed, epoch), and the global torch RNG state (dropout)
    is part of ``state``; that is what makes resume exact.

    Under torchrun (``WORLD_SIZE`` > 1) the model is wrapped in DistributedDataParallel
    (:mod:`chipsr.core.distributed`): each process draws its share of the epoch from a seeded
    ``DistributedSampler`` and takes ``batch_size / WORLD_SIZE`` per step (the total batch stays
    ``batch_size``; ``config.samples_per_epoch`` is not used there), every process scores the whole
    validation set with the same weights (no padded duplicates), and only rank 0 logs and runs the
    callbacks.
    """
    from chipsr.core import distributed

    cfg = config or TrainConfig()
    train_set, valid_set = _as_dataset(train_data), _as_dataset(valid_data)
    world, main = distributed.world_size(), distributed.is_main()
    rank_batch = _rank_batch(cfg, train_set, world)
    previous_det = torch.are_deterministic_algorithms_enabled()
    dev, own_group = distributed.setup(pick_device(cfg.device))
    try:  # from here on, an error leaves the process group and restores the deterministic flag
        loss_fn = loss_function(loss_fn if loss_fn is not None else cfg.loss)
        model.to(dev)
        n_draw = None if cfg.samples_per_epoch is None else min(cfg.samples_per_epoch, len(train_set))
        optimizer, schedule = _optimizer(model, cfg, len(train_set), n_draw, world, rank_batch)
        result = FitResult()
        start_epoch, bad_epochs, best_state = 1, 0, None
        if resume is not None:
            start_epoch, bad_epochs, best_state = _restore(resume, model, optimizer, schedule, result)
        else:
            torch.manual_seed(cfg.seed)
        torch.use_deterministic_algorithms(cfg.deterministic and dev.type == "cpu", warn_only=True)
        net = _parallel(model, dev, world)
        started = time.perf_counter()
        for epoch in range(start_epoch, cfg.epochs + 1):
            if _should_stop(result, cfg, epoch, start_epoch, bad_epochs, started, dev):
                break
            model.train()
            loader = _epoch_loader(train_set, cfg, epoch, world, rank_batch, n_draw, dev)
            t0 = time.perf_counter()
            local = _train_epoch(net, model, loader, optimizer, schedule, loss_fn, cfg, dev, epoch, progress and main)
            total, count = distributed.all_sum(list(local), dev)
            train_seconds = time.perf_counter() - t0
            valid_loss, valid_metric, extra = _validate(model, valid_set, loss_fn, metric, cfg, dev)
            record = {"epoch": epoch, "train_loss": total / count, "valid_loss": valid_loss,
                      "valid_metric": valid_metric, "lr": optimizer.param_groups[0]["lr"],
                      "seconds": time.perf_counter() - t0,
                      "samples_per_s": count / train_seconds if train_seconds > 0 else float("nan"), **extra}
            result.history.append(record)
            is_best = _is_best(result, cfg, epoch, valid_loss, valid_metric)
            if is_best:
                bad_epochs, best_state = 0, _cpu_weights(model)
            else:
                bad_epochs += 1
            if main:
                log.info("epoch %d: train %.5g valid %.5g metric %.4g%s (%.1f s)", epoch, record["train_loss"],
                         valid_loss, valid_metric, "".join(f" {k} {v:.4g}" for k, v in extra.items()),
                         record["seconds"])
            result.state = _snapshot(model, best_state, optimizer, schedule, epoch, bad_epochs, result, cfg)
            for callback in callbacks if main else ():  # only rank 0 writes checkpoints and logs
                callback(record, result.state, is_best)
        distributed.teardown(own_group)
        own_group = False
    finally:
        torch.use_deterministic_algorithms(previous_det)
        if own_group:  # an error: leave the group without waiting for the others
            import torch.distributed as dist

            dist.destroy_process_group()
    if best_state is not None:
        model.load_state_dict(best_state)
    return result
