"""Time-series files of the imputation task: CSV tables read with pandas, the wide CSV written back.

Only the file formats live here (reading, parse errors named by file); which columns make a data
set, splits and checks of values are in :mod:`chipsr.tasks.impute.data`.

- :func:`read_csv_table` -- a CSV as a ``pandas.DataFrame`` (pandas' parser options pass through).
- :func:`read_csv_chunks` -- a large CSV in chunks of rows (Kaggle Favorita ``train.csv``).
- :func:`read_csv_cells` -- a wide CSV's cells as strings, first column the index, and its header.
- :func:`write_csv_cells` -- the reverse: header, index and string cells, atomically.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import atomic_output


def read_csv_table(path: str | os.PathLike, **options):
    """``pandas.read_csv(path, **options)``; the caller checks that the file exists."""
    import pandas as pd

    return pd.read_csv(path, **options)


def read_csv_chunks(path: str | os.PathLike, chunksize: int, **options) -> Iterator:
    """``pandas.DataFrame`` chunks of ``chunksize`` rows (bounded memory for multi-GB files)."""
    import pandas as pd

    yield from pd.read_csv(path, chunksize=chunksize, **options)


def read_csv_cells(path: str | os.PathLike):
    """Read a wide CSV's cells verbatim: every cell a string (no NA parsing), the first column the index.

    Returns
    -------
    (pandas.DataFrame, list of str)
        The string cells (index = the first column as read) and the header row's series names
        (the time column left out), as written in the file (duplicates kept, for the caller to
        refuse).

    Raises
    ------
    ChipsrInputError
        Missing, empty or unparsable file (one line naming it).
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise ChipsrInputError(f"{p}: file does not exist")
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, na_filter=False, index_col=0)
    except pd.errors.EmptyDataError:
        raise ChipsrInputError(f"{p}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ChipsrInputError(f"{p}: not a readable CSV ({msg})") from None
    with open(p, newline="") as fh:
        header = next(csv.reader(fh), [])[1:]
    return raw, header


def write_csv_cells(path: str | os.PathLike, header: list[str], rows) -> Path:
    """Write a CSV (``\\n`` line ends, minimal quoting) from the ``header`` row and ``rows`` (lists of
    cells, the index first), atomically: on any error no file is left."""
    path = Path(path)
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path
