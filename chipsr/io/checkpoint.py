"""Model checkpoints (``torch.save``, loaded with ``weights_only=True``) and per-epoch TSV logs.

A checkpoint is a plain dict (never a pickled module)::

    {"config": model.config,            # rebuilds the architecture: chipsr.core.models.build_model
     "state_dict": best weights,
     "chipsr_version": "0.1.0",
     "meta": {...} or None,             # what applying the model needs: task, marks, units, scaling,
                                        # splits, metrics (older checkpoints call it
                                        # "normalization"; load_checkpoint renames it)
     "train_config": {...},             # the TrainConfig used
     "train_state": {...} or None,      # what chipsr.core.train.fit(resume=...) needs
     "history": [per-epoch records]}
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from pathlib import Path

from chipsr._version import __version__
from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import atomic_output, check_output_path

TSV_COLUMNS = ("epoch", "train_loss", "valid_loss", "valid_metric", "seconds", "samples_per_s")


def make_checkpoint(model, meta: dict | None = None, train_state: dict | None = None,
                    state_dict: dict | None = None) -> dict:
    """Assemble a checkpoint dict for ``model`` (see the module docstring).

    Parameters
    ----------
    model : nn.Module
        A chipsr model with a ``config`` attribute: its config dataclass (a mapping) or a dict.
    meta : dict or None
        What applying the model needs (task, marks, units, scaling, splits, metrics): numbers,
        strings, lists, tensors.
    train_state : dict or None
        :attr:`chipsr.core.train.FitResult.state`, for resuming.
    state_dict : dict or None
        Weights to store (default: the model's current weights).

    Raises
    ------
    ValueError
        If the model has no ``config``.
    """
    config = getattr(model, "config", None)
    if not isinstance(config, Mapping):
        raise ValueError(f"{type(model).__name__} has no config dict; build it with chipsr.core.models")
    weights = state_dict if state_dict is not None else model.state_dict()
    return {
        "config": dict(config),
        "state_dict": {k: v.detach().cpu() for k, v in weights.items()},
        "chipsr_version": __version__,
        "meta": meta,
        "train_config": (train_state or {}).get("config"),
        "train_state": train_state,
        "history": (train_state or {}).get("history", []),
    }


def save_checkpoint(path: str | os.PathLike, checkpoint: dict) -> Path:
    """Write a checkpoint atomically (temp file + rename); returns the path.

    Raises
    ------
    ChipsrInputError
        If the output directory does not exist.
    """
    import torch

    with atomic_output(path) as tmp:
        torch.save(checkpoint, tmp)
    return Path(path)


#: each task's checkpoint tag (``meta["task"]``) -> what its models are called, and the command that trains one
TASKS = {
    "chipseq": ("ChIP-seq model", "chipsr train"),
    "audio_super_resolution": ("audio super-resolution model", "chipsr audio train"),
    "impute": ("imputation model", "chipsr impute train"),
}


def task_name(task: str | None) -> str:
    """How messages name a model of checkpoint tag ``task``: "a ChIP-seq model", "an imputation model", ..."""
    name = TASKS[task][0] if task in TASKS else f"model of an unknown task ({task!r})"
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def load_checkpoint(path: str | os.PathLike, task: str | None = None) -> dict:
    """Load a checkpoint with ``torch.load(..., weights_only=True)`` (no code is unpickled) and check
    it: a dict with a config and weights, every floating-point weight finite, and (with ``task``) a
    model of that task (``"chipseq"``, ``"audio_super_resolution"``, ``"impute"``: :data:`TASKS`).

    Raises
    ------
    ChipsrInputError
        The file is missing or is not a chipsr checkpoint; a weight holds NaN or infinite values
        (naming the tensor); or it is another task's model ("FILE is an audio super-resolution
        model, not a ChIP-seq model").
    """
    import torch

    p = Path(path)
    if not p.is_file():
        raise ChipsrInputError(f"{p}: checkpoint file does not exist")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a bad file; its messages run to many lines
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise ChipsrInputError(f"{p}: not a readable chipsr checkpoint ({first[:120]})") from None
    if not isinstance(ckpt, dict) or "config" not in ckpt or not isinstance(ckpt.get("state_dict"), Mapping):
        raise ChipsrInputError(f"{p}: not a chipsr checkpoint (no config/state_dict)")
    if "meta" not in ckpt and "normalization" in ckpt:  # older checkpoints
        ckpt["meta"] = ckpt.pop("normalization")
    for name, tensor in ckpt["state_dict"].items():
        if not isinstance(tensor, torch.Tensor):
            raise ChipsrInputError(f"{p}: weight {name} is not a tensor; the checkpoint is damaged")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ChipsrInputError(f"{p}: weight {name} holds NaN or infinite values; the checkpoint is damaged "
                                   f"(train or copy it again)")
    if task is not None:
        found = (ckpt.get("meta") or {}).get("task")
        if found != task:
            raise ChipsrInputError(f"{p} is {task_name(found)}, not {task_name(task)} (train one with "
                                   f"`{TASKS[task][1]}`)")
    return ckpt


def export_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, half: bool = False) -> Path:
    """Write a small copy of a checkpoint for shipping: the best weights and metadata only.

    The resumable training state (optimizer moments, last and best weights: ~3x the model) is
    dropped; ``train_config`` and the per-epoch history are kept. ``half=True`` stores floating
    weights as float16 (half the size; :func:`chipsr.core.models.model_from_checkpoint` loads them back
    as float32).

    Raises
    ------
    ChipsrInputError
        If ``src`` is not a chipsr checkpoint or ``dst``'s directory does not exist.
    """
    ckpt = load_checkpoint(src)
    state = ckpt.get("train_state") or {}
    out = {k: v for k, v in ckpt.items() if k != "train_state"}
    out["history"] = state.get("history", [])
    if half:
        out["state_dict"] = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    return save_checkpoint(check_output_path(dst), out)


class EpochTsv:
    """A :func:`chipsr.core.train.fit` callback that appends each epoch's record to a TSV.

    Columns: epoch, train_loss, valid_loss, valid_metric, seconds, samples_per_s, then any extra
    keys of the records (e.g. valid_snr_db, valid_lsd). A resumed run keeps the earlier rows
    (the file is rewritten from the history each epoch, atomically).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __call__(self, record: dict, state: dict, is_best: bool) -> None:
        with atomic_output(self.path) as tmp, open(tmp, "w", newline="") as fh:
            writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
            history = state["history"]
            extra = [k for k in (history[0] if history else {}) if k not in TSV_COLUMNS]
            columns = [*TSV_COLUMNS, *extra]
            writer.writerow(columns)
            for row in history:
                writer.writerow([_fmt(row.get(c, float("nan"))) for c in columns])


def _fmt(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    return str(value)


class CheckpointWriter:
    """A :func:`chipsr.core.train.fit` callback that rewrites the checkpoint after every epoch.

    The file always holds the best weights so far (``state_dict``) and the latest training state
    (``train_state``), so training can resume after a crash and prediction uses the best epoch.
    """

    def __init__(self, path: str | os.PathLike, model, meta: dict | None = None):
        self.path = Path(path)
        self.model = model
        self.meta = meta

    def __call__(self, record: dict, state: dict, is_best: bool) -> None:
        ckpt = make_checkpoint(self.model, self.meta, train_state=state, state_dict=state["best_model"])
        save_checkpoint(self.path, ckpt)
