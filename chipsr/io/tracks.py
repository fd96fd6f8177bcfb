"""Coverage tracks: bigWig (through pyBigWig) and bedGraph (plain or gzipped), written atomically."""

from __future__ import annotations

import contextlib
import gzip
import os
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import atomic_output

FORMATS = ("bigwig", "bedgraph")
_BEDGRAPH_SUFFIXES = (".bg", ".bdg", ".bedgraph", ".bg.gz", ".bdg.gz", ".bedgraph.gz")


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
        If the file is missing or not a bigWig/bedGraph, or the chromosome is absent.
    """
    p = Path(path)
    if not p.exists():
        raise ChipsrInputError(f"{p}: track file does not exist")
    with open(p, "rb") as fh:
        magic = fh.read(4)
    if magic in (b"\x26\xfc\x8f\x88", b"\x88\x8f\xfc\x26"):
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
        return np.nan_to_num(vals, nan=0.0)
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

