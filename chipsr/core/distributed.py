"""Data-parallel training across processes (PyTorch DistributedDataParallel, started by torchrun).

``torchrun --standalone --nproc-per-node=N -m chipsr train ...`` (or ``--nnodes`` for several
machines) starts N copies of the command and sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``.
:func:`chipsr.core.train.fit` then joins one process group (NCCL on CUDA, gloo on CPU), gives each
process its share of every epoch's samples through a seeded ``DistributedSampler`` (``set_epoch``
every epoch, ``drop_last`` so no sample is duplicated), splits the batch so that the total batch
stays ``batch_size``, and averages gradients (DDP). Every process scores the whole validation set
with the same, synchronised weights, so every process takes the same best-epoch and stopping
decisions without extra messages; only rank 0 runs the callbacks (checkpoint, epoch TSV) and logs.

Without ``WORLD_SIZE`` (or with 1) nothing here does anything: the single-process path is unchanged.
"""

from __future__ import annotations

import logging
import os

import torch

log = logging.getLogger(__name__)


def world_size() -> int:
    """Number of processes (torchrun's ``WORLD_SIZE``; 1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def rank() -> int:
    """This process's global rank (torchrun's ``RANK``; 0 without torchrun)."""
    return int(os.environ.get("RANK", "0") or 0)


def local_rank() -> int:
    """This process's rank on its machine (torchrun's ``LOCAL_RANK``): its GPU index."""
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def is_main() -> bool:
    """True on the process that writes outputs and logs (rank 0), and without torchrun."""
    return rank() == 0


def active() -> bool:
    """True when this process is one of several (torchrun with more than one process)."""
    return world_size() > 1


def setup(device: torch.device) -> tuple[torch.device, bool]:
    """Join torchrun's process group if there is one.

    Parameters
    ----------
    device : torch.device
        The device :func:`chipsr.core.device.pick_device` chose; CUDA becomes ``cuda:LOCAL_RANK``.

    Returns
    -------
    (torch.device, bool)
        This process's device, and whether this call created the process group (the caller then
        destroys it with :func:`teardown`).

    Raises
    ------
    RuntimeError
        CUDA chosen but this machine has fewer GPUs than processes on it.
    """
    if not active():
        return device, False
    import torch.distributed as dist

    if device.type == "cuda":
        if local_rank() >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK {local_rank()} but only {torch.cuda.device_count()} GPU(s) here")
        device = torch.device("cuda", local_rank())
        torch.cuda.set_device(device)
    created = False
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        created = True
    if is_main():
        log.info("DDP world size %d (backend %s, %s)", world_size(), dist.get_backend(), device.type)
    return device, created


def teardown(created: bool) -> None:
    """Wait for every process, then leave the process group if :func:`setup` created it."""
    if not created:
        return
    import torch.distributed as dist

    dist.barrier()
    dist.destroy_process_group()


def all_sum(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sum of ``values`` over all processes (the values themselves without torchrun)."""
    if not active():
        return values
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def agree(flag: bool, device: torch.device) -> bool:
    """Rank 0's ``flag`` on every process (e.g. a wall-clock stop that must be taken together)."""
    if not active():
        return flag
    import torch.distributed as dist

    t = torch.tensor([1 if flag else 0], device=device)
    dist.broadcast(t, 0)
    return bool(t.item())
