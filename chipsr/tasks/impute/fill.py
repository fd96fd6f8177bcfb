"""``chipsr impute fill``: fill the blank / NaN cells of a wide CSV with a trained imputer.

Input and output layout: first column the time index, one row per time step, one column per
series (the layout :func:`chipsr.tasks.impute.data.read_wide_csv` reads). The output has the same
header, index and column order; every observed cell is written back **verbatim** (the text of
the input cell, so its value is exactly preserved), and only the missing cells receive the
model's imputations (7 significant digits). Nothing is written unless the whole file succeeds.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import check_output_path
from chipsr.io.series import write_csv_cells
from chipsr.tasks.impute.data import read_wide_csv

log = logging.getLogger(__name__)


@dataclass
class FillStats:
    """What :func:`fill_csv` did: steps, series, cells filled, seconds."""

    steps: int
    series: int
    filled: int
    seconds: float


def check_columns(path: Path, columns: list[str], expected: list[str] | None, n_features: int,
                  model_path: str | os.PathLike) -> list[int]:
    """Map the CSV's columns onto the model's features; the order may differ, the set may not.

    Returns
    -------
    list of int
        For each model feature, its column index in the CSV.

    Raises
    ------
    ChipsrInputError
        A column the model does not know, a model feature missing from the file, or (for a model
        without feature names) a different number of columns.
    """
    if expected is None:
        if len(columns) != n_features:
            raise ChipsrInputError(
                f"{path}: {len(columns)} series columns, but model {model_path} was trained on {n_features}")
        return list(range(len(columns)))
    known = set(expected)
    extra = [c for c in columns if c not in known]
    if extra:
        raise ChipsrInputError(f"{path}: column {extra[0]!r} is not one of the features of model {model_path}")
    have = set(columns)
    lacking = [c for c in expected if c not in have]
    if lacking:
        raise ChipsrInputError(f"{path}: column {lacking[0]!r} of model {model_path} is missing from the file")
    pos = {c: i for i, c in enumerate(columns)}
    return [pos[c] for c in expected]


def fill_csv(input: str | os.PathLike, output: str | os.PathLike, model: str | os.PathLike, *,
             batch_size: int, device: str | None) -> FillStats:
    """Fill the missing cells of ``input`` with the imputer saved in ``model``; write ``output``.

    Parameters
    ----------
    input : path
        Wide CSV (see the module docstring).
    output : path
        Written atomically: on any error no file (or partial file) is left.
    model : path
        A checkpoint of :meth:`chipsr.tasks.impute.model.Imputer.save` (``chipsr impute train``).
    batch_size : int
        Windows per forward pass.
    device : str or None
        Torch device of the network (None = the CPU).

    The command's defaults live in :class:`chipsr.api.impute.FillSettings`.

    Returns
    -------
    FillStats

    Raises
    ------
    ChipsrInputError
        One-line messages naming the file and column: unreadable model, non-numeric cells, a
        column that is entirely missing, columns that differ from the model's, fewer rows than
        one model window.
    """
    from chipsr.tasks.impute.model import Imputer

    t0 = time.perf_counter()
    inp = Path(input)
    check_output_path(output)
    imp = Imputer.load(model, device=device)
    df, raw, header = read_wide_csv(inp, return_raw=True)
    columns = [str(c) for c in df.columns]
    order = check_columns(inp, columns, imp.feature_names, imp.n_features, model)
    n_steps = imp.config.n_steps
    if len(df) < n_steps:
        raise ChipsrInputError(
            f"{inp}: {len(df)} time steps (rows), fewer than one window of the model ({n_steps} steps)")
    X = df.to_numpy(float)[:, order]
    missing = np.isnan(X)
    filled = imp.impute(X[None], batch_size=batch_size)[0] if missing.any() else X
    out = np.empty_like(X)
    out[:, order] = filled
    miss_file = np.isnan(df.to_numpy(float))
    cells = raw.to_numpy(dtype=object).copy()
    rr, cc = np.nonzero(miss_file)
    for r, c in zip(rr, cc):
        cells[r, c] = f"{out[r, c]:.7g}"
    index = raw.index.to_numpy(dtype=object)
    write_csv_cells(output, header, np.column_stack([index, cells]).tolist())
    stats = FillStats(steps=len(df), series=len(columns), filled=int(miss_file.sum()),
                      seconds=time.perf_counter() - t0)
    log.info("filled %d of %d cells of %s in %.1f s", stats.filled, X.size, inp, stats.seconds)
    return stats
