"""Atomic output: write to a temporary file beside the target, rename only on success."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from chipsr.errors import ChipsrInputError


def check_output_path(path: str | os.PathLike) -> Path:
    """Check that an output path can be written before any work is done.

    Parameters
    ----------
    path : str or PathLike
        The output file path.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    ChipsrInputError
        If the parent directory does not exist, or ``path`` is an existing directory.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ChipsrInputError(f"{p}: output directory {parent} does not exist")
    if p.is_dir():
        raise ChipsrInputError(f"{p}: output path is a directory")
    return p


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, companions: tuple[str, ...] = ()) -> Iterator[Path]:
    """Yield a temporary path in the target's directory; rename it to ``path`` on success.

    On any exception the temporary file (and its companions) is removed, so a crash never
    leaves a half-written file that looks complete.

    Parameters
    ----------
    path : str or PathLike
        The final output path.
    companions : tuple of str
        Suffixes of side files written next to the temporary file (e.g. ``(".bai",)`` for a
        BAM index): ``tmp + suffix`` is renamed to ``path + suffix`` after the main file.

    Yields
    ------
    Path
        The temporary path to write to. It keeps the target's suffixes so that tools which
        look at extensions (gzip, htslib) behave the same.

    Raises
    ------
    ChipsrInputError
        If the output directory does not exist.
    """
    final = check_output_path(path)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.", suffix=".tmp" + "".join(final.suffixes), dir=final.parent or "."
    )
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, final)
        for suffix in companions:
            side = Path(str(tmp) + suffix)
            if side.exists():
                os.replace(side, Path(str(final) + suffix))
    finally:
        for leftover in [tmp, *(Path(str(tmp) + s) for s in companions)]:
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
