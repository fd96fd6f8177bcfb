"""Coverage tracks: bigWig (through pyBigWig) and bedGraph (plain or gzipped), written atomically."""

from __future__ import annotations

import contextlib
import contextvars
import gzip
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import atomic_output
from chipsr.io.genome import require_file

FORMATS = ("bigwig", "bedgraph")
_BEDGRAPH_SUFFIXES = (".bg", ".bdg", ".bedgraph", ".bg.gz", ".bdg.gz", ".bedgraph.gz")
_BIGWIG_MAGIC = (b"\x26\xfc\x8f\x88", b"\x88\x8f\xfc\x26")
#: bigWig intervals are fetched in chunks of about this many bp (bounds the Python tuples held).
_CHUNK_BP = 2_000_000
#: more than one interval per this many bp: per-base numpy values read faster than interval tuples
_DENSE_BP = 100

log = logging.getLogger(__name__)

#: inside :func:`nan_as_zero`: {path: {(chrom, bin_size): [(first bins, last bins), ...]}}; else None
_NON_FINITE_REPLACED: contextvars.ContextVar[dict | None] = contextvars.ContextVar("chipsr_nan_as_zero", default=None)
_NAN_HINT = "or pass --nan-as-zero to read them as 0"


@contextlib.contextmanager
def nan_as_zero(enabled: bool = True) -> Iterator[dict | None]:
    """Read non-finite bigWig values (NaN, +-inf) as 0 inside the block (``--nan-as-zero``).

    Outside it (the default) a non-finite value is a :class:`ChipsrInputError` naming the file and
    the first position. Inside it, every bigWig read through :class:`BigWigFile`,
    :func:`read_binned`, :func:`read_track` or :func:`genome_mean` reads those bases as 0, and on
    leaving the block one warning per file is logged naming the file and how many distinct bins
    (of the bin size they were read at; bp for :func:`read_track`) held non-finite values.

    Parameters
    ----------
    enabled : bool
        False makes the block a no-op (the strict default), so a CLI flag can be passed through.

    Yields
    ------
    dict or None
        The replacement record, by file (None when not enabled).
    """
    if not enabled:
        yield None
        return
    replaced: dict = {}
    token = _NON_FINITE_REPLACED.set(replaced)
    try:
        yield replaced
    finally:
        _NON_FINITE_REPLACED.reset(token)
        for path, by_grid in replaced.items():
            counts: dict[int, int] = {}
            for (_chrom, bin_size), ranges in by_grid.items():
                counts[bin_size] = counts.get(bin_size, 0) + _union_length(ranges)
            what = ", ".join(f"{n} bins of {b} bp" if b > 1 else f"{n} bp" for b, n in sorted(counts.items()))
            log.warning("%s: %s held non-finite values (NaN/inf): read as 0 (--nan-as-zero)", path, what)


def _union_length(ranges: list[tuple[np.ndarray, np.ndarray]]) -> int:
    """How many integers the half-open ranges ``[first, last)`` cover together."""
    first = np.concatenate([f for f, _ in ranges])
    last = np.concatenate([e for _, e in ranges])
    order = np.argsort(first, kind="stable")
    first, last = first[order], last[order]
    reach = np.maximum.accumulate(last)
    starts = np.maximum(first, np.concatenate(([first[0]], reach[:-1])))
    return int(np.clip(last - starts, 0, None).sum())


def _replace_non_finite(path: Path, chrom: str, bin_size: int, starts: np.ndarray, ends: np.ndarray) -> bool:
    """Record bp ranges ``[starts, ends)`` of ``chrom`` whose values are non-finite, as bins of
    ``bin_size``; True when :func:`nan_as_zero` is active (the caller then reads them as 0)."""
    replaced = _NON_FINITE_REPLACED.get()
    if replaced is None:
        return False
    first = np.asarray(starts, dtype=np.int64) // bin_size
    last = -(-np.asarray(ends, dtype=np.int64) // bin_size)
    replaced.setdefault(str(path), {}).setdefault((chrom, int(bin_size)), []).append((first, last))
    return True


def infer_track_format(path: str | os.PathLike, out_format: str | None = None) -> str:
    """Pick ``"bigwig"`` or ``"bedgraph"``: the explicit ``out_format``, else from the file suffix.

    ``.bg``, ``.bdg``, ``.bedgraph`` (optionally ``.gz``) mean bedGraph; anything else bigWig.

    Raises
    ------
    ChipsrInputError
        If ``out_format`` is not one of :data:`FORMATS`.
    """
    if out_format is not None:
        fmt = out_format.lower()
        if fmt not in FORMATS:
            raise ChipsrInputError(f"--out-format {out_format!r}: expected one of {', '.join(FORMATS)}")
        return fmt
    name = str(path).lower()
    return "bedgraph" if name.endswith(_BEDGRAPH_SUFFIXES) else "bigwig"


class TrackWriter(contextlib.AbstractContextManager):
    """Write a genome-wide track as bigWig or bedGraph, atomically.

    Entries must be added chromosome by chromosome in the order of ``chrom_sizes`` and by
    increasing position (bigWig's rule). The output appears at ``path`` only when the ``with``
    block ends without an exception; a crash leaves no file behind.

    Parameters
    ----------
    path : str or PathLike
        Output file.
    chrom_sizes : dict of str to int
        Chromosome names and lengths (bp), in output order; these become the bigWig header.
    out_format : {"bigwig", "bedgraph"}
        Output format. bigWig files get 10 zoom levels (pyBigWig's default); a ``.gz``
        bedGraph is gzipped with a zero timestamp (reproducible bytes).

    Raises
    ------
    ChipsrInputError
        If the output directory does not exist.
    """

    def __init__(self, path: str | os.PathLike, chrom_sizes: dict[str, int], out_format: str = "bigwig"):
        self.path = Path(path)
        self.chrom_sizes = dict(chrom_sizes)
        self.out_format = out_format
        self._atomic = atomic_output(self.path)
        self._tmp: Path | None = None
        self._bw = None
        self._fh = None

    def __enter__(self) -> TrackWriter:
        self._tmp = self._atomic.__enter__()
        if self.out_format == "bigwig":
            import pyBigWig

            self._bw = pyBigWig.open(str(self._tmp), "w")
            self._bw.addHeader(list(self.chrom_sizes.items()), maxZooms=10)
        else:
            raw = open(self._tmp, "wb")
            if self.path.name.endswith(".gz"):
                self._fh = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
                self._raw = raw
            else:
                self._fh, self._raw = raw, None
        return self

    def add(self, chrom: str, starts: np.ndarray, ends: np.ndarray, values: np.ndarray) -> None:
        """Add intervals of one chromosome.

        Parameters
        ----------
        chrom : str
            A chromosome of ``chrom_sizes``.
        starts, ends : ndarray of int, shape (n,)
            0-based half-open intervals (bp), increasing, within the chromosome.
        values : ndarray of float, shape (n,)
            Values (stored as float32 in bigWig; written with 8 significant digits in bedGraph).
        """
        if len(starts) == 0:
            return
        if self._bw is not None:
            step = 1_000_000
            for i in range(0, len(starts), step):
                s = np.ascontiguousarray(starts[i : i + step], dtype=np.int64)
                self._bw.addEntries(
                    [chrom] * len(s),
                    s,
                    ends=np.ascontiguousarray(ends[i : i + step], dtype=np.int64),
                    values=np.ascontiguousarray(values[i : i + step], dtype=np.float64),
                )
        else:
            import pandas as pd

            frame = pd.DataFrame(
                {"chrom": chrom, "start": starts, "end": ends, "value": np.asarray(values, np.float64)}
            )
            text = frame.to_csv(sep="\t", header=False, index=False, float_format="%.8g", lineterminator="\n")
            self._fh.write(text.encode())

    def add_bins(self, chrom: str, start: int, bin_size: int, values: np.ndarray) -> None:
        """Add consecutive bins of one chromosome: bin ``i`` covers ``[start + i * bin_size, ...)``, the
        last one clipped at the chromosome end.

        bigWig: one fixed-step section (``span = step = bin_size``: 4 bytes a bin, about 5x faster to
        write than one interval per bin and a smaller file; the values read back are the same); a
        last bin cut short by the chromosome end goes in as one interval. bedGraph: runs of equal
        values, one line each.

        Parameters
        ----------
        chrom : str
        start : int
            Start (bp) of the first bin.
        bin_size : int
            Bin width (bp).
        values : ndarray of float, shape (n,)
        """
        n = len(values)
        if n == 0:
            return
        size = self.chrom_sizes[chrom]
        if self._bw is None:
            v = np.asarray(values)
            cut = np.flatnonzero(v[1:] != v[:-1]) + 1  # runs of equal values
            first, last = np.concatenate(([0], cut)), np.concatenate((cut, [n]))
            self.add(chrom, start + first * bin_size, np.minimum(start + last * bin_size, size), v[first])
            return
        full = min(n, max(0, (size - start) // bin_size))
        if full:
            self._bw.addEntries(chrom, int(start), values=np.ascontiguousarray(values[:full], dtype=np.float64),
                                span=int(bin_size), step=int(bin_size))
        if full < n:  # the chromosome's last, shorter bin
            first = start + full * bin_size
            self.add(chrom, np.array([first]), np.array([size]), np.asarray(values[full:full + 1]))

    def __exit__(self, exc_type, exc, tb) -> bool | None:
        try:
            if self._bw is not None:
                self._bw.close()
            if self._fh is not None:
                self._fh.close()
                if self._raw is not None:
                    self._raw.close()
        except BaseException as close_error:
            # closing failed (e.g. disk full): discard the temporary file, report the error
            self._atomic.__exit__(type(close_error), close_error, close_error.__traceback__)
            raise
        return self._atomic.__exit__(exc_type, exc, tb)


def read_track(path: str | os.PathLike, chrom: str, start: int = 0, end: int | None = None) -> np.ndarray:
    """Per-bp values of a bigWig or bedGraph over ``[start, end)`` of one chromosome.

    Parameters
    ----------
    path : str or PathLike
        bigWig (read with pyBigWig) or bedGraph (plain/gzipped).
    chrom : str
    start, end : int
        0-based half-open (bp); ``end=None`` = chromosome end (bigWig) or last interval (bedGraph).

    Returns
    -------
    ndarray of float64, shape (end - start,)
        Values; positions with no interval are 0.

    Raises
    ------
    ChipsrInputError
        If the file is missing or not a bigWig/bedGraph, the chromosome is absent, or a bigWig
        holds an infinite value (outside :func:`nan_as_zero`).
    """
    p = Path(path)
    if not p.exists():
        raise ChipsrInputError(f"{p}: track file does not exist")
    with open(p, "rb") as fh:
        magic = fh.read(4)
    if magic in _BIGWIG_MAGIC:
        return _bigwig_bases(p, chrom, start, end)
    return _bedgraph_bases(p, chrom, start, end)


def _bigwig_bases(p: Path, chrom: str, start: int, end: int | None) -> np.ndarray:
    """:func:`read_track` of a bigWig: per-bp float64 values, 0 where it has no interval."""
    import pyBigWig

    bw = pyBigWig.open(str(p))
    try:
        size = bw.chroms().get(chrom)
        if size is None:
            raise ChipsrInputError(f"{p}: chromosome {chrom} not in the bigWig")
        end = size if end is None else end
        vals = np.asarray(bw.values(chrom, start, end, numpy=True), dtype=np.float64)
    finally:
        bw.close()
    inf = np.isinf(vals)  # NaN is how pyBigWig reports bases without an interval: 0 here
    if inf.any():
        where = np.flatnonzero(inf)
        if not _replace_non_finite(p, chrom, 1, where + start, where + start + 1):
            i = int(where[0])
            raise ChipsrInputError(f"{p}: non-finite value {vals[i]} at {chrom}:{start + i + 1}; a coverage "
                                   f"track must hold finite numbers: rebuild it, {_NAN_HINT}")
        vals[inf] = 0.0
    return np.nan_to_num(vals, nan=0.0)


def _bedgraph_bases(p: Path, chrom: str, start: int, end: int | None) -> np.ndarray:
    """:func:`read_track` of a bedGraph (plain or gzipped): per-bp float64 values, 0 between its
    intervals. Raises ChipsrInputError for overlapping intervals."""
    import pandas as pd

    from chipsr.io.reads import is_header_line, open_binary

    with open_binary(p) as fh:
        n_header = 0
        for line in fh:
            if not is_header_line(line):
                break
            n_header += 1
    frame = pd.read_csv(p, sep=r"\s+", header=None, usecols=[0, 1, 2, 3], skiprows=n_header,
                        names=["chrom", "start", "end", "value"], dtype={"chrom": str})
    frame = frame[frame["chrom"] == chrom]
    starts = frame["start"].to_numpy(np.int64)
    ends = frame["end"].to_numpy(np.int64)
    if end is None:
        end = int(ends.max()) if len(ends) else start
    order = np.argsort(starts, kind="stable")
    starts, ends = np.clip(starts[order], start, end), np.clip(ends[order], start, end)
    values = frame["value"].to_numpy(np.float64)[order]
    keep = ends > starts
    starts, ends, values = starts[keep], ends[keep], values[keep]
    if np.any(starts[1:] < ends[:-1]):
        raise ChipsrInputError(f"{p}: overlapping bedGraph intervals on {chrom}")
    # interleave gaps (value 0) and intervals, then expand run lengths
    gap_starts = np.concatenate(([start], ends))
    gap_ends = np.concatenate((starts, [end]))
    lengths = np.empty(2 * len(starts) + 1, dtype=np.int64)
    lengths[0::2] = gap_ends - gap_starts
    lengths[1::2] = ends - starts
    runs = np.zeros(len(lengths))
    runs[1::2] = values
    return np.repeat(runs, lengths)


class BigWigFile:
    """An open bigWig with its path (for messages) and chromosome sizes (bp).

    Parameters
    ----------
    path : str or PathLike
    what : str
        How the file is named in error messages (e.g. ``"truth bigWig"``).

    Raises
    ------
    ChipsrInputError
        Missing or empty file, or not a bigWig (checked by magic number, then by pyBigWig).
    """

    def __init__(self, path: str | os.PathLike, what: str = "bigWig"):
        import pyBigWig

        self.path = require_file(path, what)
        with open(self.path, "rb") as fh:
            magic = fh.read(4)
        if magic not in _BIGWIG_MAGIC:
            raise ChipsrInputError(f"{self.path}: {what} file is not a bigWig")
        try:
            self.bw = pyBigWig.open(str(self.path))
        except RuntimeError:
            self.bw = None
        if self.bw is None:
            raise ChipsrInputError(f"{self.path}: cannot open the {what} file as a bigWig")
        self.chroms: dict[str, int] = dict(self.bw.chroms())
        self._finite: dict[str, bool] = {}

    def finite(self, chrom: str) -> bool:
        """Whether ``chrom`` holds data and only finite values, from the file's zoom-level summary of
        the whole chromosome (a NaN or infinite value makes its sum non-finite, which pyBigWig gives
        as None; so does a chromosome without data). Cached per chromosome. (pyBigWig's ``header()``
        is not used: it crashes on a file holding NaN.)"""
        if chrom not in self._finite:
            total = self.bw.stats(chrom, 0, self.chroms[chrom], type="sum", exact=False)[0]
            self._finite[chrom] = total is not None and bool(np.isfinite(total))
        return self._finite[chrom]

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self.bw is not None:
            self.bw.close()
            self.bw = None

    def __enter__(self) -> BigWigFile:
        """``with BigWigFile(path) as bw:`` closes the file on every exit path."""
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def size(self, chrom: str) -> int:
        """Length (bp) of ``chrom``; ChipsrInputError if the bigWig lacks it."""
        if chrom not in self.chroms:
            raise ChipsrInputError(f"{self.path}: chromosome {chrom} not in the bigWig")
        return self.chroms[chrom]

    def resolution(self, chrom: str, span: int = 10_000_000, start: int = 0, min_edges: int = 1000) -> int:
        """The track's resolution: the gcd (bp) of its interval boundaries on ``chrom`` from ``start``,
        read ``span`` bp at a time until ``min_edges`` boundaries are seen (the chromosome end excluded). A chipsr coverage track at 25-bp bins gives 25 (or a
        multiple of it when all runs happen to be longer); a chromosome without signal gives its length.

        Raises
        ------
        ChipsrInputError
            ``chrom`` not in the bigWig.
        """
        size = self.size(chrom)
        grid, n_edges = 0, 0
        while start < size and n_edges < min_edges:  # a chromosome arm may be one empty run: read on
            ivs = self.bw.intervals(chrom, start, min(size, start + span)) or ()
            edges = np.array([p for s, e, _ in ivs for p in (s, e) if 0 < p < size], dtype=np.int64)
            if len(edges):
                grid = math.gcd(grid, int(np.gcd.reduce(edges)))
                n_edges += len(edges)
            start += span
        return grid or size

    def stat(self, chrom: str, start: int, end: int, kind: str = "mean", bins: int = 1,
             exact: bool = False) -> np.ndarray:
        """pyBigWig's summary ``kind`` (mean, max, min, coverage, std) of ``[start, end)`` of ``chrom``
        cut into ``bins`` equal parts: float64, shape (bins,), 0 where the file has no data
        (``exact=False`` reads the zoom levels: fast, approximate).

        Raises
        ------
        ChipsrInputError
            ``chrom`` not in the bigWig.
        """
        self.size(chrom)
        values = self.bw.stats(chrom, int(start), int(end), type=kind, nBins=int(bins), exact=exact)
        return np.nan_to_num(np.array(values, dtype=np.float64))

    def runs(self, chrom: str, start: int = 0, end: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The track over ``[start, end)`` of ``chrom`` as runs covering every base from 0 to ``end``.

        Returns ``(ends, values)``: int64 run ends (bp, strictly increasing, the first run starting
        at 0) and float64 values, with **explicit zero runs** for bases without an interval and for
        ``[0, start)``: the layout MACS3's bedGraph track needs (a gap would take the next run's
        value there). Non-finite values: an error naming the position, or 0 inside
        :func:`nan_as_zero`.

        Raises
        ------
        ChipsrInputError
            Chromosome absent, ``[start, end)`` outside it, or a non-finite value.
        """
        size = self.size(chrom)
        end = size if end is None else end
        if not 0 <= start <= end <= size:
            raise ChipsrInputError(f"{self.path}: range {chrom}:{start + 1}-{end} is outside {chrom} (length {size})")
        parts = [np.zeros((0, 3))]
        for lo in range(start, end, _CHUNK_BP):  # chunks: never one Python tuple per interval of a chromosome
            hi = min(lo + _CHUNK_BP, end)
            ivs = self.bw.intervals(chrom, lo, hi)
            if ivs:
                a = np.asarray(ivs, dtype=np.float64)
                a[:, 0], a[:, 1] = np.clip(a[:, 0], lo, hi), np.clip(a[:, 1], lo, hi)
                parts.append(a)
        a = np.concatenate(parts)
        s, e, v = a[:, 0], a[:, 1], a[:, 2].copy()
        bad = ~np.isfinite(v)
        if bad.any():
            if not _replace_non_finite(self.path, chrom, 1, s[bad], e[bad]):
                i = int(np.argmax(bad))
                raise ChipsrInputError(f"{self.path}: non-finite value {v[i]} at {chrom}:{int(s[i]) + 1}-{int(e[i])}; "
                                       f"a track must hold finite numbers, {_NAN_HINT}")
            v[bad] = 0.0
        # interleave the gaps before each interval (zero, possibly empty) with the intervals
        gap_ends = np.concatenate((s, [end])).astype(np.int64)
        ends = np.empty(2 * len(s) + 1, np.int64)
        values = np.zeros(2 * len(s) + 1)
        ends[0::2], ends[1::2], values[1::2] = gap_ends, e.astype(np.int64), v
        starts = np.concatenate(([0], ends[:-1]))
        keep = ends > starts
        return ends[keep], values[keep]

    def intervals(self, chrom: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every interval of ``chrom`` as it is stored: int64 starts and ends (bp) and float64 values,
        read in chunks of about 2 Mb (no Python tuple per interval of a whole chromosome).

        Raises
        ------
        ChipsrInputError
            ``chrom`` not in the bigWig.
        """
        size = self.size(chrom)
        parts = [np.zeros((0, 3))]
        for lo in range(0, size, _CHUNK_BP):
            ivs = self.bw.intervals(chrom, lo, min(size, lo + _CHUNK_BP))
            if ivs:
                a = np.asarray(ivs, dtype=np.float64)
                parts.append(a[a[:, 0] >= lo] if lo else a)  # one starting before lo came with the last chunk
        a = np.concatenate(parts)
        return a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2]

    def binned(self, chrom: str, bin_size: int, first_bin: int, last_bin: int) -> np.ndarray:
        """Bin means of bins ``[first_bin, last_bin)`` (already validated) of ``chrom``.

        Bases without data count as 0. Read in chunks of about 2 Mb as intervals (fast for sparse
        tracks); once a chunk holds more than one interval per 100 bp and the chromosome's summary is
        finite (:meth:`finite`), the rest of the chromosome is read as per-base numpy values
        (pyBigWig ``values``) and summed per bin, which is faster for dense tracks (chr1 of a 25-bp
        track: 1.5 s instead of 4.9 s). A non-finite value is always met on the interval path, which
        names or replaces it.

        Raises ChipsrInputError naming the first position of a non-finite value, unless inside
        :func:`nan_as_zero` (then those bases read as 0 and the bins are recorded for its warning).
        """
        size = self.size(chrom)
        n = last_bin - first_bin
        if n <= 0:
            return np.zeros(0)
        edges = np.minimum(np.arange(first_bin, last_bin + 1, dtype=np.int64) * bin_size, size)
        sums = np.zeros(n)
        step = max(1, _CHUNK_BP // bin_size)
        dense = False  # switch to per-base values once the intervals are dense (and the chromosome finite)
        for c0 in range(0, n, step):
            c1 = min(c0 + step, n)
            lo, hi = int(edges[c0]), int(edges[c1])
            if dense:
                values = self.bw.values(chrom, lo, hi, numpy=True)
                np.copyto(values, 0.0, where=np.isnan(values))  # NaN here means: no data
                sums[c0:c1] = np.add.reduceat(values, edges[c0:c1] - lo, dtype=np.float64)
                continue
            ivs = self.bw.intervals(chrom, lo, hi)
            if not ivs:
                continue
            a = np.asarray(ivs, dtype=np.float64)  # (m, 3): start, end, value; sorted, disjoint
            bad = ~np.isfinite(a[:, 2])
            s, e = np.clip(a[:, 0], lo, hi), np.clip(a[:, 1], lo, hi)
            if bad.any():
                if not _replace_non_finite(self.path, chrom, bin_size, s[bad], e[bad]):
                    i = int(np.argmax(bad))
                    raise ChipsrInputError(
                        f"{self.path}: non-finite value {a[i, 2]} at {chrom}:{int(a[i, 0]) + 1}-{int(a[i, 1])} "
                        f"(the first of {int(bad.sum())} such intervals in {chrom}:{lo + 1}-{hi}); a coverage "
                        f"track must hold finite numbers: rebuild it (e.g. `chipsr coverage`), {_NAN_HINT}")
                a[bad, 2] = 0.0
            v = a[:, 2]
            # F(x) = integral of the signal over [lo, x); bin sums are differences of F at the edges.
            cum = np.concatenate(([0.0], np.cumsum(v * (e - s))))
            x = edges[c0 : c1 + 1].astype(np.float64)
            k = np.searchsorted(e, x, side="right")  # intervals ending at or before x
            integral = cum[k]
            inside = k < len(s)  # interval k may start before x: add its part left of x
            kk = k[inside]
            integral[inside] += v[kk] * np.clip(x[inside] - s[kk], 0.0, None)
            sums[c0:c1] = np.diff(integral)
            dense = len(a) * _DENSE_BP > hi - lo and self.finite(chrom)
        return sums / np.diff(edges)


def bin_range(start: int, end: int, bin_size: int) -> tuple[int, int]:
    """Genome-grid bins ``[first, last)`` (bin indices) overlapping ``[start, end)`` bp."""
    return start // bin_size, -(-end // bin_size)


def read_binned(
    path: str | os.PathLike, chrom: str, bin_size: int, start: int = 0, end: int | None = None
) -> np.ndarray:
    """Mean bigWig value in each genome-grid bin overlapping ``[start, end)`` of one chromosome.

    Bin ``i`` covers bases ``[i * bin_size, min((i + 1) * bin_size, L))`` of a chromosome of
    length L (the last bin is truncated at the chromosome end and averaged over its real width);
    its value is the mean of the per-bp values over those bases, bases without a bigWig interval
    counting as 0 (as :func:`chipsr.io.tracks.read_track` reads them). Bins always stay on the
    genome-wide grid: when ``start`` / ``end`` are not multiples of ``bin_size`` the first / last
    bin still covers its whole width. No per-bp array is built: the bigWig's intervals are fetched
    in chunks of about 2 Mb and turned into bin sums through their cumulative integral at the bin
    edges, so memory is O(bins + intervals per chunk).

    Parameters
    ----------
    path : str or PathLike
        A bigWig file.
    chrom : str
        Chromosome name, as in the bigWig header.
    bin_size : int
        Bin width in bp, >= 1.
    start, end : int
        0-based half-open range in bp; ``end=None`` = the chromosome end.

    Returns
    -------
    ndarray of float64, shape (ceil(end / bin_size) - start // bin_size,)
        Mean per-bp value of each bin (the bigWig's units), in genome order; empty when
        ``start == end``.

    Raises
    ------
    ChipsrInputError
        If the file is missing or not a bigWig, the chromosome is absent, ``bin_size < 1``,
        ``[start, end)`` does not lie inside the chromosome (``0 <= start <= end <= L``), or a value
        in it is not finite (outside :func:`nan_as_zero`).
    """
    if int(bin_size) != bin_size or bin_size < 1:
        raise ChipsrInputError(f"bin size must be a positive number of bp, got {bin_size}")
    with BigWigFile(path) as bw:
        size = bw.size(chrom)
        end = size if end is None else int(end)
        start = int(start)
        if not 0 <= start <= end <= size:
            raise ChipsrInputError(
                f"{bw.path}: range {chrom}:[{start}, {end}) is outside {chrom} (0-{size} bp)"
            )
        return bw.binned(chrom, int(bin_size), *bin_range(start, end, int(bin_size)))


#: the units of every track a chipsr model reads or writes: see :func:`genome_mean`
FE_UNITS = ("fold enrichment over the track's own genome-wide mean (1 = the average bin; the mean is taken "
            "over the non-blacklisted bins of the chromosomes with signal)")


def genome_mean(path: str | os.PathLike, bin_size: int, blacklist: dict | None = None) -> dict:
    """The mean bin value of a track over the non-blacklisted bins of the chromosomes it covers.

    This is the denominator of chipsr's depth-invariant units (:data:`FE_UNITS`): dividing a
    coverage track by it gives a fold enrichment over the track's own average (1 = average
    depth; deepTools' RPGC up to the mappable-genome factor), whatever the sequencing depth. A
    chromosome counts as covered when its signal is non-zero, so a chr22-only sample and a
    whole-genome sample of the same cells get the same units. Sums come from the bigWig's exact
    per-base statistics (pyBigWig ``stats(type="sum", exact=True)``: milliseconds per
    chromosome); bins overlapping a blacklisted interval are left out of the sum and the count.

    Parameters
    ----------
    path : str or PathLike
        A bigWig.
    bin_size : int
        Bin width (bp) of the grid the mean is taken over.
    blacklist : dict or None
        Merged intervals (:func:`chipsr.io.genome.read_bed_intervals`).

    Returns
    -------
    dict
        ``mean`` (per bin, in the track's units), ``bins`` (bins averaged), ``chroms`` (covered
        chromosomes, in file order), ``sum`` (sum over those bins of the per-bp values, / bin size).

    Raises
    ------
    ChipsrInputError
        Missing file, not a bigWig, a non-finite value (outside :func:`nan_as_zero`), or no signal
        outside the blacklist.
    """
    bw = BigWigFile(path)

    def bp_sum(chrom, start, end):
        v = bw.bw.stats(chrom, int(start), int(end), type="sum", exact=True)[0]
        if v is None or not np.isfinite(v):  # None: pyBigWig's answer when a value is NaN. Read the bins,
            # which name the position (or read the values as 0 under --nan-as-zero)
            first, last = bin_range(int(start), int(end), bin_size)
            widths = np.diff(np.minimum(np.arange(first, last + 1, dtype=np.int64) * bin_size, bw.size(chrom)))
            v = float((bw.binned(chrom, bin_size, first, last) * widths).sum())
        return float(v)

    try:
        total, bins, chroms = 0.0, 0, []
        for chrom, size in bw.chroms.items():
            c_sum = bp_sum(chrom, 0, size)
            if not np.isfinite(c_sum):
                raise ChipsrInputError(f"{bw.path}: non-finite values in {chrom}; a coverage track must hold "
                                       f"finite numbers: rebuild it (e.g. `chipsr coverage`), {_NAN_HINT}")
            n = -(-size // bin_size)
            ivs = (blacklist or {}).get(chrom)
            if ivs is not None and len(ivs[0]):
                first = ivs[0] // bin_size  # blacklisted bins, merged on the bin grid
                last = np.minimum(-(-ivs[1] // bin_size), n)
                merged = []
                for f, lst in zip(first.tolist(), last.tolist()):
                    if merged and f <= merged[-1][1]:
                        merged[-1][1] = max(merged[-1][1], lst)
                    else:
                        merged.append([f, lst])
                n_black = 0
                for f, lst in merged:
                    if f < n:
                        c_sum -= bp_sum(chrom, f * bin_size, min(lst * bin_size, size))
                        n_black += lst - f
                n -= n_black
            if c_sum > 0 and n > 0:
                total += c_sum / bin_size
                bins += n
                chroms.append(chrom)
    finally:
        bw.close()
    if not chroms:
        raise ChipsrInputError(f"{bw.path}: the track is zero everywhere (outside the blacklist); no signal to scale")
    return {"mean": total / bins, "bins": bins, "chroms": chroms, "sum": total}


def bin_sections(bw: BigWigFile, chrom: str) -> tuple[int | None, list[tuple[int, np.ndarray]]]:
    """A chromosome of a binned bigWig (as :meth:`TrackWriter.add_bins` writes it) as its sections.

    Returns
    -------
    (int or None, list of (int, ndarray))
        The bin size (bp; None when the chromosome holds at most one interval, which fixes none)
        and the sections: (start bp, float64 values of consecutive bins), split where the bins stop
        being contiguous.

    Raises
    ------
    ChipsrInputError
        Intervals of several widths (other than a last bin cut short by the chromosome end): not a
        binned track.
    """
    starts, ends, values = bw.intervals(chrom)
    if not len(starts):
        return None, []
    widths = ends - starts
    full = widths[ends < bw.chroms[chrom]] if len(widths) > 1 else widths[:0]
    bin_size = int(full[0]) if len(full) else None
    if len(full) and (full != bin_size).any():
        i = int(np.flatnonzero(full != bin_size)[0])
        raise ChipsrInputError(f"{bw.path}: {chrom}:{starts[i] + 1}-{ends[i]} is {widths[i]} bp wide, not one "
                               f"{bin_size}-bp bin: not a binned track (`chipsr denoise` writes one)")
    cut = np.flatnonzero(starts[1:] != ends[:-1]) + 1
    bounds = np.concatenate(([0], cut, [len(starts)]))
    return bin_size, [(int(starts[a]), values[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def gather_bigwigs(shards, output: str | os.PathLike) -> dict:
    """Gather per-chromosome shards of one binned track into one bigWig (a genome
    denoised chromosome by chromosome, e.g. on a cluster, then merged).

    Every shard must carry the same header (chromosome names, sizes and order: ``chipsr denoise
    --region CHR`` writes the marks' full header) and each chromosome's bins must come from one
    shard. The output is written with the same :meth:`TrackWriter.add_bins` calls an unsharded
    ``chipsr denoise`` makes, so when each shard holds whole chromosomes the bigWig is byte-for-byte
    the unsharded one. Chromosomes are read and written one at a time (memory: one chromosome's
    bins); which shard holds one comes from the shards' zoom summaries.

    Parameters
    ----------
    shards : sequence of path
        Binned bigWigs (e.g. ``chipsr denoise --region chr1 -o chr1.bw``).
    output : path
        The gathered bigWig (atomic).

    Returns
    -------
    dict
        ``chroms``: chromosomes with data, ``empty``: header chromosomes no shard covers,
        ``bin_size``.

    Raises
    ------
    ChipsrInputError
        No shard; a shard that is not a bigWig, has another header or bin size, or is not binned;
        a chromosome in two shards.
    """
    shards = [Path(s) for s in shards]
    if not shards:
        raise ChipsrInputError("gather: no shard given")
    files = [BigWigFile(s, "shard") for s in shards]
    try:
        header = files[0].chroms
        for f in files[1:]:
            if list(f.chroms.items()) != list(header.items()):
                diff = next((c for c in list(header) + list(f.chroms) if header.get(c) != f.chroms.get(c)),
                            "(their order)")
                raise ChipsrInputError(f"{f.path}: its chromosomes differ from {files[0].path}'s at {diff}; "
                                       f"shards of one track share the header")
        # which shard holds each chromosome (zoom summary: cheap), and the bin size (a first interval)
        owner: dict[str, BigWigFile] = {}
        bin_size = None
        for f in files:
            for chrom, size in header.items():
                if not f.bw.stats(chrom, 0, size, type="coverage", exact=False)[0]:
                    continue
                if chrom in owner:
                    raise ChipsrInputError(f"{f.path}: {chrom} is also in {owner[chrom].path}; give each chromosome "
                                           f"in one shard")
                owner[chrom] = f
                width = f.resolution(chrom)  # the grid of its boundaries, not its first interval (a long run)
                width = None if width >= size else width
                if width is not None and bin_size is not None and width != bin_size:
                    raise ChipsrInputError(f"{f.path}: {width}-bp bins, the other shards {bin_size}-bp bins")
                bin_size = bin_size or width
        # then one chromosome at a time, in header order: memory is one chromosome's bins
        with TrackWriter(output, header, "bigwig") as writer:
            for chrom in header:
                if chrom not in owner:
                    continue
                size, sections = bin_sections(owner[chrom], chrom)
                if size is not None and bin_size is not None and size != bin_size:
                    raise ChipsrInputError(f"{owner[chrom].path}: {size}-bp bins in {chrom}, {bin_size}-bp bins "
                                           f"elsewhere")
                for start, values in sections:
                    writer.add_bins(chrom, start, bin_size or header[chrom], values)
    finally:
        for f in files:
            f.close()
    return {"chroms": [c for c in header if c in owner], "empty": [c for c in header if c not in owner],
            "bin_size": bin_size}
