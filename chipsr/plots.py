"""Figures (ARCHITECTURE.md: every figure lives here; older ones still sit in the task modules).

Each function draws with matplotlib's object API (no global state, no display needed) and returns
PNG bytes or writes a file.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping

from chipsr.errors import ChipsrInputError


def training_curves(logs: Mapping[str, str | os.PathLike]) -> bytes:
    """Validation Pearson r per epoch of every model, one panel per target mark (PNG bytes).

    Parameters
    ----------
    logs : mapping of label to path
        ``MARK.ARCH[.seedN]`` -> the model's ``.epochs.tsv`` (``chipsr train``: columns epoch,
        train_loss, valid_loss, valid_metric, ...). One line per model; the seeds of one
        architecture share a colour.

    Raises
    ------
    ChipsrInputError
        A missing or malformed epochs TSV (named), or a label without a mark.
    """
    import pandas as pd
    from matplotlib.figure import Figure

    by_mark: dict[str, list[tuple[str, object]]] = {}
    for label, path in logs.items():
        mark, dot, rest = label.partition(".")
        if not (mark and dot and rest):
            raise ChipsrInputError(f"--training-log {label!r}: expected MARK.ARCH[.seedN]=EPOCHS.tsv")
        try:
            frame = pd.read_csv(path, sep="\t")
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise ChipsrInputError(f"{path}: cannot read the epochs TSV ({exc})") from None
        if not {"epoch", "valid_metric"} <= set(frame.columns):
            raise ChipsrInputError(f"{path}: an epochs TSV needs the columns epoch and valid_metric")
        by_mark.setdefault(mark, []).append((rest, frame))
    fig = Figure(figsize=(4.2 * len(by_mark), 3.2), layout="constrained")
    colors: dict[str, str] = {}
    for i, (mark, curves) in enumerate(by_mark.items()):
        ax = fig.add_subplot(1, len(by_mark), i + 1)
        labelled: set[str] = set()
        for rest, frame in curves:
            arch = re.sub(r"\.seed\d+$", "", rest)
            color = colors.setdefault(arch, f"C{len(colors)}")
            ax.plot(frame["epoch"], frame["valid_metric"], color=color, linewidth=1, alpha=0.8,
                    label=None if arch in labelled else arch)
            labelled.add(arch)
        ax.set_title(f"{mark}: validation Pearson r per epoch", fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.set_ylabel("valid r", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
