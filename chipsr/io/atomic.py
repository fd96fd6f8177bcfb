"""Atomic output: write to a temporary file beside the target, rename only on success.

Temporary files and folders carry the writing process's id (``.NAME.pid<PID>.XXXX.tmp...``,
``chipsr-coverage-pid<PID>-XXXX``); a ``try/finally`` removes them on every exit path that
Python sees, and :func:`remove_stale` removes those of killed runs (SIGKILL, power loss): any
whose process no longer exists is deleted the next time chipsr writes the same output (or
uses the same temporary-folder prefix).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from chipsr.errors import ChipsrInputError

_PID = re.compile(r"pid(\d+)")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale(folder: str | os.PathLike, prefix: str) -> list[Path]:
    """Delete temporary files/folders named ``prefix`` + ``pid<N>...`` in ``folder`` whose process
    N is gone (left by a killed run). Returns what was removed; errors are ignored."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        m = _PID.match(entry.name[len(prefix):])
        if not m or _alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder ``<tmp>/<prefix>pid<PID>-XXXX`` removed on exit; stale ones of killed
    runs with the same prefix are removed first."""
    remove_stale(tempfile.gettempdir(), prefix)
    with tempfile.TemporaryDirectory(prefix=f"{prefix}pid{os.getpid()}-") as tmp:
        yield Path(tmp)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when ``a`` and ``b`` are one file (same path, a symlink or a hard link:
    :func:`os.path.samefile`); when either does not exist, whether their absolute paths are equal."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def require_distinct(paths, what: str = "READS") -> None:
    """Refuse a file given twice among inputs that are pooled (the same path, or one file through a
    symbolic or hard link: :func:`same_file`): pooling it with itself would count its data twice.

    Raises
    ------
    ChipsrInputError
        Naming both spellings of the file and ``what`` they were given as.
    """
    paths = [os.fspath(p) for p in paths]
    for i, a in enumerate(paths):
        for b in paths[i + 1:]:
            if same_file(a, b):
                same = f"{a} is given twice" if os.path.abspath(a) == os.path.abspath(b) else f"{a} and {b} are one file"
                raise ChipsrInputError(f"{same} among the {what}; pooling a file with itself would count its reads "
                                       f"twice: give each file once")


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
def all_or_none(*paths: str | os.PathLike | None) -> Iterator[None]:
    """A command's several outputs, all or none: when the block raises, every one of ``paths``
    (None entries are skipped) that the block wrote (a file that is new, or replaced since the block
    began) is removed before the error goes on. Each output is still written atomically on its own
    (:func:`atomic_output`); this keeps a failed step from leaving the outputs of the earlier ones.
    """
    def state(path: Path):
        try:
            st = path.stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    files = [Path(p) for p in paths if p is not None]
    before = {p: state(p) for p in files}
    try:
        yield
    except BaseException:
        for p in files:
            now = state(p)
            if now is not None and now != before[p]:
                with contextlib.suppress(OSError):
                    p.unlink()
        raise


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
    remove_stale(final.parent or ".", f".{final.name}.")
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.pid{os.getpid()}.", suffix=".tmp" + "".join(final.suffixes), dir=final.parent or "."
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
