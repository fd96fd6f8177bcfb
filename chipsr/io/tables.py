"""Table and report files: TSV (via pandas), JSON and Markdown tables.

Used by the audio, imputation and ChIP-seq tasks for their reports, logs and split files.

- :func:`write_tsv` -- rows (a ``pandas.DataFrame`` or a list of dicts) as a tab-separated file
  with a header row and no index column; :func:`tsv_text` is its text.
- :func:`write_json` -- a JSON document, indented by one space unless told otherwise;
  :func:`json_text` is its text.
- :func:`markdown_table` -- a pipe table (GitHub / markdown-it's ``table``) as Markdown text.
- :func:`write_text` -- any text file.
- :func:`read_json` -- a JSON file, with one-line errors (``chipsr report`` reads evaluations).

The ``write_*`` functions write atomically (:func:`chipsr.io.atomic.atomic_output`). A caller
that writes several files which must appear together opens one ``atomic_output`` per file itself
and writes the ``*_text`` of each into its temporary path (``chipsr evaluate`` does).

Why not ``DataFrame.to_markdown``: it pads every cell to its column's width (through
``tabulate``), which would change the bytes of every report written so far; the table here
writes each cell between single spaces, as the reports always have.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from chipsr.io.atomic import atomic_output

#: Markdown's delimiter cell for each alignment letter of :func:`markdown_table`
_ALIGN = {"l": "---", "r": "---:"}


def tsv_text(rows, float_format: str | None = None, columns=None, na_rep: str = "") -> str:
    """``rows`` as TSV text: a header row, no index, ``\\n`` line ends.

    Parameters
    ----------
    rows : pandas.DataFrame or list of dict
        Columns in the order of the frame (or of the first dict's keys).
    float_format : str or None
        ``%``-format for float cells (e.g. ``"%.5g"``); None = pandas' default (``repr``).
    columns : sequence of str, optional
        The columns of a list of dicts (so that no rows still give a header row).
    na_rep : str
        How a missing value (NaN, None) is written; pandas' default is an empty cell.
    """
    import pandas as pd

    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=columns)
    return frame.to_csv(sep="\t", index=False, float_format=float_format, na_rep=na_rep, lineterminator="\n")


def write_tsv(path: str | os.PathLike, rows, float_format: str | None = None, columns=None,
              na_rep: str = "") -> Path:
    """Write ``rows`` as TSV (:func:`tsv_text`, the same parameters) atomically, as UTF-8.

    Returns
    -------
    Path
    """
    return write_text(path, tsv_text(rows, float_format, columns, na_rep), encoding="utf-8")


def json_text(obj, trailing_newline: bool = True, indent: int = 1, allow_nan: bool = True) -> str:
    """``obj`` as JSON text (``json.dumps``).

    Parameters
    ----------
    obj
        Anything ``json.dumps`` takes.
    trailing_newline : bool
        End the text with a newline.
    indent : int
        Spaces per level.
    allow_nan : bool
        True: NaN and infinities are written as ``NaN`` / ``Infinity`` (Python's json default,
        not standard JSON); False: they raise ValueError.
    """
    return json.dumps(obj, indent=indent, allow_nan=allow_nan) + ("\n" if trailing_newline else "")


def write_json(path: str | os.PathLike, obj, trailing_newline: bool = True, indent: int = 1,
               allow_nan: bool = True) -> Path:
    """Write ``obj`` as JSON (:func:`json_text`, the same parameters) atomically.

    ``trailing_newline`` ends the file with a newline (the imputation report has none, kept so
    its bytes do not change).
    """
    return write_text(path, json_text(obj, trailing_newline, indent, allow_nan))


def markdown_table(header: Sequence[str], rows: Iterable[Sequence], align: str | None = None) -> str:
    """A Markdown pipe table: a header row, the delimiter row, one row per item of ``rows``.

    Every cell is written as ``str(cell)`` between single spaces (``| a | 0.5 |``), with no
    padding to a column width; a cell that is None is written as an empty cell of one space
    (``| |``), while ``""`` gives two (``|  |``). Cells are not escaped: a ``|`` inside one
    splits it.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : iterable of sequences
        One sequence of cells per row, as many as ``header`` has.
    align : str, optional
        One letter per column: ``l`` (left, ``---``) or ``r`` (right, ``---:``). Default: all left.

    Returns
    -------
    str
        The table's lines joined by ``\\n``, without a final newline.

    Raises
    ------
    ValueError
        ``align`` or a row of another length than ``header``, or an alignment letter other than
        ``l`` or ``r``.
    """
    align = "l" * len(header) if align is None else align
    if len(align) != len(header) or set(align) - set(_ALIGN):
        raise ValueError(f"markdown_table: align {align!r} must be one l or r per column ({len(header)})")
    lines = [_markdown_row(header), "|" + "".join(_ALIGN[a] + "|" for a in align)]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"markdown_table: a row of {len(row)} cells for {len(header)} columns: {row!r}")
        lines.append(_markdown_row(row))
    return "\n".join(lines)


def _markdown_row(cells: Sequence) -> str:
    return "|" + "".join(" |" if c is None else f" {c} |" for c in cells)


def write_text(path: str | os.PathLike, text: str, encoding: str | None = None) -> Path:
    """Write ``text`` to ``path`` atomically (``encoding`` None: the locale's, as
    :meth:`pathlib.Path.write_text`). Returns ``path`` as a Path."""
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return path


def read_json(path: str | os.PathLike, what: str = "JSON file"):
    """Read a UTF-8 JSON file (``what`` names it in errors, e.g. "evaluation JSON").

    Raises
    ------
    ChipsrInputError
        The file is missing, not UTF-8 (the byte and offset named) or not JSON (the parser's line
        and column named).
    """
    from chipsr.errors import ChipsrInputError

    path = Path(path)
    if not path.is_file():
        raise ChipsrInputError(f"{path}: {what} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ChipsrInputError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") \
            from None
    except json.JSONDecodeError as exc:
        raise ChipsrInputError(f"{path}: not a JSON file ({exc})") from None
