"""Genome descriptions: chromosome sizes (UCSC ``chrom.sizes`` or a FASTA), regions, BED intervals."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.specs import region_bounds


def require_file(path: str | os.PathLike, what: str = "input") -> Path:
    """Return ``path`` as a Path, or raise a clear error if it is not a readable file.

    Raises
    ------
    ChipsrInputError
        ``"<path>: <what> file does not exist"`` (or is a directory / empty).
    """
    p = Path(path)
    if not p.exists():
        raise ChipsrInputError(f"{p}: {what} file does not exist")
    if p.is_dir():
        raise ChipsrInputError(f"{p}: {what} path is a directory, not a file")
    if p.stat().st_size == 0:
        raise ChipsrInputError(f"{p}: {what} file is empty")
    return p


class TextLines:
    """Lines of a plain or gzipped text file (gzip detected by its magic bytes), validated.

    Iterating yields ``str`` lines (with their newline). Bytes that are not UTF-8 and a corrupt or
    truncated gzip raise :class:`ChipsrInputError` naming the file and line, instead of a
    ``UnicodeDecodeError`` or ``EOFError`` (which click would print as ``Aborted!``).
    Use as a context manager.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        with open(self.path, "rb") as fh:
            magic = fh.read(2)
        self._fh = gzip.open(self.path, "rb") if magic == b"\x1f\x8b" else open(self.path, "rb")

    def __enter__(self) -> TextLines:
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()

    def __iter__(self):
        import zlib

        lineno = 0
        try:
            for raw in self._fh:
                lineno += 1
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ChipsrInputError(
                        f"{self.path} line {lineno}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                        f"{exc.start + 1}); is this the right file?") from None
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ChipsrInputError(f"{self.path}: corrupt or truncated gzip after line {lineno} ({exc})") from None


def open_text(path: str | os.PathLike) -> TextLines:
    """Open a plain or gzipped text file for reading line by line (see :class:`TextLines`)."""
    return TextLines(path)


def read_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """Read a UCSC-style chrom sizes file (``name<TAB>length`` per line, bp).

    Parameters
    ----------
    path : str or PathLike
        Two whitespace-separated columns; extra columns are ignored; ``#`` lines skipped.

    Returns
    -------
    dict of str to int
        Chromosome name -> length in bp, in file order.

    Raises
    ------
    ChipsrInputError
        Missing/empty file, a line with fewer than 2 fields, a non-integer or non-positive
        length, or a chromosome listed twice (message names the file and line).
    """
    p = require_file(path, "chrom sizes")
    sizes: dict[str, int] = {}
    with open_text(p) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split()
            if len(fields) < 2:
                raise ChipsrInputError(f"{p} line {lineno}: expected 'chrom<TAB>size', got {line.strip()!r}")
            name, size_text = fields[0], fields[1]
            try:
                size = int(size_text)
            except ValueError:
                raise ChipsrInputError(f"{p} line {lineno}: size {size_text!r} is not an integer") from None
            if size <= 0:
                raise ChipsrInputError(f"{p} line {lineno}: size of {name} must be > 0, got {size}")
            if name in sizes:
                raise ChipsrInputError(f"{p} line {lineno}: chromosome {name} listed twice")
            sizes[name] = size
    if not sizes:
        raise ChipsrInputError(f"{p}: no chromosome sizes found")
    return sizes


def chrom_sizes_from_fasta(path: str | os.PathLike) -> dict[str, int]:
    """Chromosome sizes (bp) of a FASTA file, through pyfaidx (which writes a ``.fai`` if missing).

    Raises
    ------
    ChipsrInputError
        If the file is missing or pyfaidx cannot index it.
    """
    import pyfaidx

    p = require_file(path, "genome FASTA")
    try:
        fa = pyfaidx.Fasta(str(p), rebuild=False)
    except Exception as exc:  # pyfaidx raises several types for malformed files
        raise ChipsrInputError(f"{p}: cannot read FASTA ({exc})") from None
    try:
        return {name: len(fa[name]) for name in fa.keys()}
    finally:
        fa.close()


@dataclass(frozen=True)
class Region:
    """A genomic interval ``chrom:start-end`` (0-based half-open internally, bp).

    ``start``/``end`` are ``None`` for a whole chromosome.
    """

    chrom: str
    start: int | None = None
    end: int | None = None

    def bounds(self, chrom_size: int) -> tuple[int, int]:
        """Return ``(start, end)`` in bp, clipped to ``[0, chrom_size]``."""
        start = 0 if self.start is None else max(0, self.start)
        end = chrom_size if self.end is None else min(chrom_size, self.end)
        return start, end

    def __str__(self) -> str:
        if self.start is None:
            return self.chrom
        return f"{self.chrom}:{self.start + 1}-{self.end}"


def parse_region(text: str) -> Region:
    """Parse ``CHR`` or ``CHR:START-END`` (1-based inclusive, as samtools and IGV write it; commas allowed).

    ``chr22:1-100`` is the first 100 bp, i.e. 0-based half-open ``[0, 100)``. deepTools'
    ``CHR:START:END`` form is accepted too.

    Raises
    ------
    ChipsrInputError
        If the text does not parse or START > END.
    """
    return Region(*region_bounds(text))


def read_bed_intervals(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read a BED file of regions (e.g. the ENCODE blacklist) into merged, sorted intervals.

    Parameters
    ----------
    path : str or PathLike
        BED (plain or gzipped); only the first three columns are used; ``track``, ``browser``
        and ``#`` lines are skipped.

    Returns
    -------
    dict of str to (ndarray, ndarray)
        Per chromosome, int64 arrays ``(starts, ends)`` (0-based half-open, bp) of sorted,
        non-overlapping intervals (overlapping or touching intervals merged).

    Raises
    ------
    ChipsrInputError
        Missing file, a line with fewer than 3 fields, non-integer coordinates or end <= start.
    """
    p = require_file(path, "BED")
    raw: dict[str, list[tuple[int, int]]] = {}
    with open_text(p) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            fields = line.split()
            if len(fields) < 3:
                raise ChipsrInputError(f"{p} line {lineno}: expected at least 3 columns")
            try:
                start, end = int(fields[1]), int(fields[2])
            except ValueError:
                raise ChipsrInputError(
                    f"{p} line {lineno}: non-integer coordinate in {line.strip()!r}"
                ) from None
            if end <= start or start < 0:
                raise ChipsrInputError(f"{p} line {lineno}: end ({end}) <= start ({start})")
            raw.setdefault(fields[0], []).append((start, end))
    return {chrom: merge_intervals(*np.asarray(ivs, dtype=np.int64).T) for chrom, ivs in raw.items()}


def merge_intervals(starts, ends) -> tuple[np.ndarray, np.ndarray]:
    """Sort half-open intervals ``[start, end)`` (bp, or bins) and merge overlapping or touching ones:
    the one interval merger of chipsr (blacklists, peak sets, evaluated ranges).

    Parameters
    ----------
    starts, ends : array-like of int, shape (n,)

    Returns
    -------
    (ndarray, ndarray)
        int64 ``(starts, ends)`` of the merged intervals, sorted, shape (m,) with m <= n.
    """
    s, e = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
    if len(s) == 0:
        return s, e
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    run_end = np.maximum.accumulate(e)
    new = np.ones(len(s), bool)
    new[1:] = s[1:] > run_end[:-1]
    return s[new], np.maximum.reduceat(e, np.flatnonzero(new))


def overlaps_intervals(starts: np.ndarray, ends: np.ndarray, ivs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Boolean mask of the half-open intervals ``[starts, ends)`` that overlap any of ``ivs``.

    Parameters
    ----------
    starts, ends : ndarray of int, shape (n,)
        Query intervals (bp).
    ivs : (ndarray, ndarray)
        Sorted, merged ``(starts, ends)`` as returned by :func:`read_bed_intervals`.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    iv_starts, iv_ends = ivs
    j = np.searchsorted(iv_starts, ends, side="left") - 1  # last interval starting before `ends`
    ok = j >= 0
    out = np.zeros(len(starts), dtype=bool)
    out[ok] = iv_ends[j[ok]] > starts[ok]
    return out
