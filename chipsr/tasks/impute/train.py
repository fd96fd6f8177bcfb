"""Training an imputer on a named data set (``chipsr impute train``).

Loads the data set with its standard split (:func:`chipsr.tasks.impute.data.load_splits`), trains
an :class:`chipsr.tasks.impute.model.Imputer` and writes, atomically, the checkpoint ``OUTPUT``,
``OUTPUT.epochs.tsv`` (:class:`chipsr.io.checkpoint.EpochTsv`: one row per epoch, column ``stage``
2 for fine-tuning epochs) and ``OUTPUT.splits.json`` (the time steps of each part). The command's
defaults live in :class:`chipsr.api.impute.TrainSettings` (the model's in
:class:`chipsr.tasks.impute.config.ImputerConfig`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from chipsr.errors import ChipsrInputError
from chipsr.tasks.impute.config import ImputerConfig


def train_imputer(data_path: str | os.PathLike, dataset: str, output: str | os.PathLike, *, valid_fraction: float,
                  wind: str, device: str | None, progress: bool = True, **settings) -> dict:
    """Load a data set, train an :class:`~chipsr.tasks.impute.model.Imputer` and save it.

    Parameters
    ----------
    data_path, dataset, valid_fraction, wind
        As :func:`chipsr.tasks.impute.data.load_splits`.
    output : path
        The checkpoint.
    device : str or None
    progress : bool
        Progress bar on stderr.
    **settings
        Fields of :class:`~chipsr.tasks.impute.config.ImputerConfig`.

    Returns
    -------
    dict
        best_epoch, best_valid_loss, epochs, seconds, features, train_steps, valid_steps.

    Raises
    ------
    ChipsrInputError
        Bad data (named), or fewer training / validation steps than one window.
    """
    from chipsr.io.atomic import check_output_path
    from chipsr.io.checkpoint import EpochTsv
    from chipsr.tasks.impute.data import load_splits
    from chipsr.tasks.impute.model import Imputer

    out = check_output_path(output)
    tsv = check_output_path(Path(str(out) + ".epochs.tsv"))
    splits_json = check_output_path(Path(str(out) + ".splits.json"))
    splits = load_splits(dataset, data_path, wind=wind, valid_fraction=valid_fraction)
    train, valid = splits["train"], splits["valid"]
    _check_parts(data_path, train, valid, int(settings.get("n_steps", ImputerConfig.n_steps)))
    t0 = time.perf_counter()
    imp = Imputer(feature_names=list(train.columns), device=device, **settings)
    imp.fit(train.to_numpy(float)[None], valid.to_numpy(float)[None], progress=progress)
    imp.save(out)
    EpochTsv(tsv)(imp.history[-1], {"history": imp.history}, False)
    write_splits(splits_json, dataset, data_path, splits)
    best = min(imp.history, key=lambda h: h["valid_loss"])
    return {"best_epoch": int(best["epoch"]), "best_valid_loss": float(best["valid_loss"]), "epochs": len(imp.history),
            "seconds": time.perf_counter() - t0, "features": train.shape[1], "train_steps": len(train),
            "valid_steps": len(valid)}


def _check_parts(data_path, train, valid, window: int) -> None:
    """Refuse a training or validation table shorter than one ``window``, or a training column
    that is entirely missing (:class:`ChipsrInputError` naming ``data_path``)."""
    for part, df in (("training", train), ("validation", valid)):
        if len(df) < window:
            raise ChipsrInputError(f"{data_path}: the {part} part has {len(df)} time steps, fewer than one "
                                   f"window of {window} steps (use a smaller --window or more data)")
        empty = [c for c in df.columns if df[c].isna().all()]
        if empty and part == "training":
            raise ChipsrInputError(f"{data_path}: column {empty[0]!r} is entirely missing in the {part} part")


def write_splits(path: Path, dataset: str, data_path, splits: dict) -> Path:
    """Write ``OUTPUT.splits.json``: the data set, and for each part (train, valid, test) its first
    and last time stamps (as in the file) and its number of steps."""
    from chipsr.io.tables import write_json

    parts = {}
    for part in ("train", "valid", "test"):
        df = splits[part]
        parts[part] = {"first": str(df.index[0]) if len(df) else None, "last": str(df.index[-1]) if len(df) else None,
                       "steps": len(df)}
    return write_json(path, {"dataset": dataset, "name": splits["name"], "data": str(data_path),
                             "series": [str(c) for c in splits["train"].columns], **parts})
