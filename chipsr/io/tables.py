"""Table and report writers: TSV (via pandas) and JSON, each written atomically.

Used by the audio and imputation tasks for their reports, logs and split files.

- :func:`write_tsv` -- rows (a ``pandas.DataFrame`` or a list of dicts) as a tab-separated file
  with a header row and no index column.
- :func:`write_json` -- a JSON document, indented by one space.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from chipsr.io.atomic import atomic_output


def write_tsv(path: str | os.PathLike, rows, float_format: str | None = None, columns=None) -> Path:
    """Write ``rows`` as TSV (header row, no index, ``\\n`` line ends) atomically.

    Parameters
    ----------
    path : path
    rows : pandas.DataFrame or list of dict
        Columns in the order of the frame (or of the first dict's keys).
    float_format : str or None
        ``%``-format for float cells (e.g. ``"%.5g"``); None = pandas' default (``repr``).
    columns : sequence of str, optional
        The columns of a list of dicts (so that no rows still give a header row).

    Returns
    -------
    Path
    """
    import pandas as pd

    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=columns)
    path = Path(path)
    with atomic_output(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format=float_format, lineterminator="\n")
    return path


def write_json(path: str | os.PathLike, obj, trailing_newline: bool = True) -> Path:
    """Write ``obj`` as JSON (``indent=1``; NaN written as ``NaN``, as Python's json does) atomically.

    ``trailing_newline`` ends the file with a newline (the imputation report has none, kept so
    its bytes do not change).
    """
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1) + ("\n" if trailing_newline else ""))
    return path
