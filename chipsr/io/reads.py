"""Aligned reads: BAM files (through pysam) and BED-like reads files (BED3 fragments, BED6 / ENCODE
tagAlign with strand; plain or gzipped; tab- or space-separated).

Everything here streams: BED files are read in chunks of lines (pandas' C parser), BAM files one
chromosome at a time through their index. Coordinates are 0-based half-open, in bp.
"""

from __future__ import annotations

import contextlib
import io
import gzip
import logging
import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.genome import require_file

log = logging.getLogger(__name__)

#: Exceptions raised by gzip/zlib (and pandas on top of them) for corrupt or truncated files.
GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)

_HEADER_PREFIXES = (b"#", b"track", b"browser")


def sniff_reads_format(path: str | os.PathLike) -> str:
    """Tell a BAM from a BED-like reads file by content (not by extension).

    Parameters
    ----------
    path : str or PathLike
        A reads file.

    Returns
    -------
    str
        ``"bam"`` or ``"bed"``.

    Raises
    ------
    ChipsrInputError
        Missing or empty file, a corrupt/truncated gzip, or a SAM/CRAM file (not supported).
    """
    p = require_file(path, "reads")
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"CRAM"):
        raise ChipsrInputError(f"{p}: CRAM is not supported; convert with `samtools view -b`")
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(p, "rb") as gz:
                inner = gz.read(4)
        except (*GZIP_ERRORS, OSError) as exc:
            raise ChipsrInputError(f"{p}: corrupt or truncated gzip ({exc})") from None
        if inner == b"BAM\x01":
            return "bam"
        if not inner:
            raise ChipsrInputError(f"{p}: reads file is empty (no reads)")
        if p.name.lower().endswith(".bam"):
            raise ChipsrInputError(f"{p}: named .bam but it is gzipped text, not a BAM file; BED reads should be "
                                   f"named .bed.gz")
        return "bed"
    if head.startswith(b"@HD") or head.startswith(b"@SQ"):
        raise ChipsrInputError(f"{p}: SAM text is not supported; convert with `samtools view -b`")
    if p.name.lower().endswith(".bam"):
        raise ChipsrInputError(f"{p}: named .bam but it is not a BAM file (no BGZF/BAM magic bytes): a truncated "
                               f"or mislabelled file; BED reads should be named .bed or .bed.gz")
    return "bed"


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_binary(path: str | os.PathLike):
    """Open a plain or gzipped file for binary reading (gzip detected by magic bytes)."""
    p = Path(path)
    return gzip.open(p, "rb") if _is_gzip(p) else open(p, "rb")


def is_header_line(line: bytes) -> bool:
    """True for BED header lines (``#...``, ``track ...``, ``browser ...``) and blank lines."""
    return not line.strip() or line.startswith(_HEADER_PREFIXES)


@dataclass
class BedChunk:
    """A chunk of BED reads.

    Attributes
    ----------
    chroms : ndarray of str, shape (n,)
        Chromosome of each read.
    starts, ends : ndarray of int64, shape (n,)
        0-based half-open coordinates (bp) as written in the file.
    strands : ndarray of int8, shape (n,)
        +1 (``+``), -1 (``-``) or 0 (no strand: the row is a fragment, BED3 or ``.``).
    first_line : int
        1-based line number of the chunk's first data row in the file (exact unless the file
        has blank lines between data rows).
    """

    chroms: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    strands: np.ndarray
    first_line: int


def _bed_layout(path: Path) -> tuple[int, int, str]:
    """Return (number of header lines, number of columns, separator) from the file's first lines."""
    n_header = 0
    with open_binary(path) as fh:
        for line in fh:
            if is_header_line(line):
                n_header += 1
                continue
            text = line.decode(errors="replace").rstrip("\r\n")
            sep = "\t" if "\t" in text else r"\s+"
            ncols = len(text.split("\t") if sep == "\t" else text.split())
            return n_header, ncols, sep
    raise ChipsrInputError(f"{path}: reads file is empty (no reads)")


def locate_bad_bed_line(path: str | os.PathLike) -> None:
    """Scan a BED reads file line by line and raise for the first malformed line.

    Used after the fast chunked parser failed, to name the exact line.

    Raises
    ------
    ChipsrInputError
        ``"<file> line N: <problem>"`` for fewer than 3 columns, a non-integer or negative
        coordinate, or end <= start; or a corrupt-gzip error.
    """
    p = Path(path)
    try:
        with open_binary(p) as fh:
            for lineno, raw in enumerate(fh, 1):
                if is_header_line(raw):
                    continue
                line = raw.decode(errors="backslashreplace").rstrip("\r\n")  # no binary garbage in messages
                fields = line.split("\t") if "\t" in line else line.split()
                if len(fields) < 3:
                    raise ChipsrInputError(f"{p} line {lineno}: expected at least 3 columns, got {line!r}")
                try:
                    start, end = int(fields[1].strip('"')), int(fields[2].strip('"'))
                except ValueError:
                    raise ChipsrInputError(
                        f"{p} line {lineno}: non-integer coordinate in {line!r}"
                    ) from None
                if start < 0:
                    raise ChipsrInputError(f"{p} line {lineno}: negative start ({start})")
                if end <= start:
                    raise ChipsrInputError(f"{p} line {lineno}: end ({end}) <= start ({start})")
    except GZIP_ERRORS as exc:
        raise ChipsrInputError(f"{p}: corrupt or truncated gzip ({exc})") from None


def iter_bed_reads(path: str | os.PathLike, chunk_lines: int = 1_000_000) -> Iterator[BedChunk]:
    """Stream a BED-like reads file in chunks.

    Accepts BED3 (fragments), BED6 / ENCODE tagAlign (reads with strand in column 6) and wider
    BED, tab- or whitespace-separated, quoted fields, plain or gzipped; leading ``track``,
    ``browser`` and ``#`` lines are skipped.

    Parameters
    ----------
    path : str or PathLike
        The reads file.
    chunk_lines : int
        Rows per chunk (memory is O(chunk_lines), not O(file)).

    Yields
    ------
    BedChunk
        Validated reads: every row has integer 0 <= start < end.

    Raises
    ------
    ChipsrInputError
        Missing/empty file, corrupt or truncated gzip, or a malformed line (named by number).
    """
    p = require_file(path, "reads")
    try:
        n_header, ncols, sep = _bed_layout(p)
    except GZIP_ERRORS as exc:
        raise ChipsrInputError(f"{p}: corrupt or truncated gzip ({exc})") from None
    if ncols < 3:
        locate_bad_bed_line(p)
    has_strand = ncols >= 6
    usecols = [0, 1, 2, 5] if has_strand else [0, 1, 2]
    dtypes = {0: str, 1: np.int64, 2: np.int64}
    if has_strand:
        dtypes[5] = str
    n_rows = 0
    source, skip, compression = p, n_header, "gzip" if _is_gzip(p) else None
    while True:
        try:
            n_rows = yield from _bed_frames(p, source, skip, compression, sep, usecols, dtypes, has_strand,
                                            chunk_lines, n_header, n_rows)
            break
        except _Restart as restart:  # header/comment lines after the first record: filter them out
            n_rows = restart.rows_done
            source, skip, compression = _DataLines(p, skip_rows=n_rows), 0, None
    if n_rows == 0:
        raise ChipsrInputError(f"{p}: reads file is empty (no reads)")


class _Restart(Exception):
    def __init__(self, rows_done: int):
        self.rows_done = rows_done


class _DataLines(io.RawIOBase):
    """A BED file's data rows as a binary stream: header, comment and blank lines removed wherever
    they are (for pandas), after skipping ``skip_rows`` data rows already read."""

    def __init__(self, path: Path, skip_rows: int = 0):
        self._fh = open_binary(path)
        self._lines = (ln for ln in self._fh if not is_header_line(ln))
        for _ in range(skip_rows):
            next(self._lines, None)
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        parts, size = [self._buf], len(self._buf)
        while size < len(b):
            line = next(self._lines, None)
            if line is None:
                break
            parts.append(line)
            size += len(line)
        data = b"".join(parts)
        n = min(len(b), len(data))
        b[:n] = data[:n]
        self._buf = data[n:]
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def _bed_frames(p, source, skip, compression, sep, usecols, dtypes, has_strand, chunk_lines, n_header, n_rows):
    import pandas as pd

    try:
        reader = pd.read_csv(
            source,
            sep=sep,
            header=None,
            usecols=usecols,
            dtype=dtypes,
            skiprows=skip,
            chunksize=chunk_lines,
            compression=compression,
            engine="c",
            na_filter=has_strand,
            keep_default_na=False,
            na_values={5: [""]} if has_strand else None,
        )
        for frame in reader:
            starts = frame[1].to_numpy(np.int64)
            ends = frame[2].to_numpy(np.int64)
            if (starts < 0).any() or (ends <= starts).any():
                locate_bad_bed_line(p)
            if has_strand:
                strand_col = frame[5].to_numpy(dtype=object)
                strands = np.zeros(len(frame), dtype=np.int8)
                strands[strand_col == "+"] = 1
                strands[strand_col == "-"] = -1
            else:
                strands = np.zeros(len(frame), dtype=np.int8)
            yield BedChunk(
                chroms=frame[0].to_numpy(dtype=object),
                starts=starts,
                ends=ends,
                strands=strands,
                first_line=n_header + n_rows + 1,
            )
            n_rows += len(frame)
    except ChipsrInputError:
        raise
    except GZIP_ERRORS as exc:
        raise ChipsrInputError(f"{p}: corrupt or truncated gzip ({exc})") from None
    except (ValueError, TypeError, pd.errors.ParserError):
        locate_bad_bed_line(p)  # raises with the line number of a malformed data line
        if isinstance(source, _DataLines):
            raise ChipsrInputError(f"{p}: cannot parse the reads (mixed column counts?)") from None
        raise _Restart(n_rows) from None  # no bad data line: comment/header lines between records
    return n_rows


# ---------------------------------------------------------------------------------------- BAM


class IndexedBam(contextlib.AbstractContextManager):
    """A coordinate-sorted BAM opened with an index for per-chromosome ``fetch``.

    If the BAM has no ``.bai``/``.csi``, an index is built in a temporary directory (the input
    directory is never written to) and removed on close.

    Parameters
    ----------
    path : str or PathLike
        The BAM file.

    Attributes
    ----------
    bam : pysam.AlignmentFile
    path : Path
    index_filename : str or None
        Path of the temporary index, or None when the BAM has its own.

    Raises
    ------
    ChipsrInputError
        Missing file, not a BAM, a header that says the BAM is not coordinate-sorted, or a
        BAM that htslib cannot index because it is unsorted (``samtools sort`` it first).
    """

    def __init__(self, path: str | os.PathLike):
        import pysam

        self.path = require_file(path, "BAM")
        self._tmpdir: tempfile.TemporaryDirectory | None = None
        self.index_filename: str | None = None  # a temporary index, or None for the BAM's own
        try:
            bam = pysam.AlignmentFile(str(self.path), "rb")
        except (ValueError, OSError) as exc:
            raise ChipsrInputError(f"{self.path}: cannot open as BAM ({exc})") from None
        order = bam.header.to_dict().get("HD", {}).get("SO")
        if order is not None and order not in ("coordinate", "unknown"):
            bam.close()
            raise ChipsrInputError(
                f"{self.path}: BAM is not coordinate-sorted (header SO:{order}); "
                f"run `samtools sort -o sorted.bam {self.path}` and `samtools index sorted.bam`"
            )
        if not bam.has_index():
            bam.close()
            from chipsr.io.atomic import remove_stale

            remove_stale(tempfile.gettempdir(), "chipsr-bai-")
            self._tmpdir = tempfile.TemporaryDirectory(prefix=f"chipsr-bai-pid{os.getpid()}-")
            index = os.path.join(self._tmpdir.name, self.path.name + ".bai")
            verbosity = pysam.set_verbosity(0)  # htslib's own stderr lines would come before our one line
            try:
                pysam.index(str(self.path), index)
            except pysam.utils.SamtoolsError:
                self.close()
                raise ChipsrInputError(f"{self.path}: cannot index the BAM: {_unsorted_reason(self.path)}; "
                                       f"run `samtools sort` first") from None
            finally:
                pysam.set_verbosity(verbosity)
            # said only once indexing worked: an unsorted BAM gets its one error line, nothing before it
            log.warning("%s has no index; indexed it in a temporary directory "
                        "(run `samtools index %s` to skip this step next time)", self.path, self.path)
            bam = pysam.AlignmentFile(str(self.path), "rb", index_filename=index)
            self.index_filename = index
        else:
            try:
                _check_index_matches(bam, self.path)
            except ChipsrInputError:
                bam.close()
                raise
        self.bam = bam

    def chrom_sizes(self) -> dict[str, int]:
        """Chromosome name -> length (bp) from the BAM header, in header order."""
        return dict(zip(self.bam.references, self.bam.lengths))

    def close(self) -> None:
        """Close the BAM and remove a temporary index."""
        if getattr(self, "bam", None) is not None:
            self.bam.close()
            self.bam = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __exit__(self, *exc) -> None:
        self.close()


def _unsorted_reason(path: Path) -> str:
    """Why htslib could not index a BAM: the first read out of coordinate order (a streaming scan that
    stops there), else a generic reason (samtools' own message names a misleading errno)."""
    import pysam

    last = (-1, -1)
    with pysam.AlignmentFile(str(path), "rb") as bam:
        for read in bam.fetch(until_eof=True):
            if read.is_unmapped and read.reference_id < 0:
                continue
            here = (read.reference_id, read.reference_start)
            if here < last:
                return (f"its reads are not in coordinate order (read {read.query_name} at "
                        f"{read.reference_name}:{read.reference_start + 1} follows position "
                        f"{bam.get_reference_name(last[0])}:{last[1] + 1})")
            last = here
    return "htslib refused it (is it truncated or not coordinate-sorted?)"


def _check_index_matches(bam, path: Path) -> None:
    """Refuse a BAM index that belongs to another BAM (it would silently give an empty track).

    The first mapped alignment of the file, read sequentially, must be found again through the
    index at its own position, and the index must count mapped reads on its chromosome.
    """
    first = None
    try:
        first = next((r for r in bam.fetch(until_eof=True) if not r.is_unmapped), None)
        if first is None:
            return
        stats = {s.contig: s.mapped for s in bam.get_index_statistics()}
        found = stats.get(first.reference_name, 0) > 0 and any(
            r.query_name == first.query_name and r.reference_start == first.reference_start
            for r in bam.fetch(first.reference_name, first.reference_start, first.reference_start + 1))
    except (ValueError, OSError, StopIteration):
        found = False
    if not found:
        index = next((f"{path}{ext}" for ext in (".bai", ".csi") if os.path.exists(f"{path}{ext}")),
                     f"{path.with_suffix('.bai')}" if path.with_suffix(".bai").exists() else "its index")
        raise ChipsrInputError(
            f"{path}: {index} does not match it (the first mapped read"
            f"{f', on {first.reference_name},' if first is not None else ''} is not found through the index): "
            f"the index belongs to another BAM or is out of date; rerun `samtools index {path}`")


@dataclass(frozen=True)
class ReadFilter:
    """Which alignments count, and how a read becomes a fragment (deepTools' vocabulary).

    Attributes
    ----------
    extend_reads : int or None
        ``None``: reads count as aligned (BAM: their aligned blocks, as ``pysam``'s
        ``get_blocks``; BED: the row as written). ``L > 0``: single-end reads are extended to
        ``L`` bp from their 5' end in their strand direction (``+``: ``[start, start+L)``,
        ``-``: ``[end-L, end)``; a read longer than ``L`` keeps its own extent); properly paired
        BAM reads become their fragment (leftmost mate start to ``start + TLEN``), counted once
        per pair. ``0``: like ``L`` for pairs, and an error for single-end reads (no length).
    min_mapq : int
        BAM only: skip alignments with MAPQ below this.
    sam_flag_exclude : int
        BAM only: skip alignments with any of these SAM flag bits (unmapped reads, 0x4, are
        always skipped).
    ignore_duplicates : bool
        Count reads with the same start, strand (and mate position / fragment end) once,
        as deepTools' ``--ignoreDuplicates`` does (position-based, not the 0x400 flag).
    """

    extend_reads: int | None = None
    min_mapq: int = 0
    sam_flag_exclude: int = 0
    ignore_duplicates: bool = False


def bam_fragments(
    bam,
    chrom: str,
    start: int | None = None,
    end: int | None = None,
    spec: ReadFilter = ReadFilter(),
    chunk: int = 1_000_000,
    source: str = "BAM",
    min_start: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """Yield the fragments of one chromosome (or region) of an indexed BAM, in chunks.

    It stays over 80 lines on purpose: its loop runs once per alignment (the hot path of BAM
    coverage), and a helper call per read for the filters, deduplication or fragment rule would slow it.

    Parameters
    ----------
    bam : pysam.AlignmentFile
        An indexed BAM.
    chrom : str
        Chromosome to fetch.
    start, end : int or None
        Optional fetch range (bp, 0-based half-open); ``None`` = whole chromosome.
    spec : ReadFilter
        Filters and fragment rule.
    chunk : int
        Number of intervals per yielded chunk (bounds memory).
    source : str
        File name used in error messages.
    min_start : int
        Skip alignments starting before this position (bp). With ``start=min_start`` this
        splits a chromosome into ranges that count every read exactly once (by its start).

    Yields
    ------
    (starts, ends, n_reads)
        int64 arrays of shape (m,) with 0-based half-open intervals (bp; a read with a
        deletion or splice contributes one interval per aligned block), and the number of
        reads (or read pairs used as fragments) that the intervals come from.

    Raises
    ------
    ChipsrInputError
        A single-end read with ``extend_reads == 0`` (no fragment length given), or
        alignments out of coordinate order (an unsorted BAM).
    """
    exclude = spec.sam_flag_exclude | 0x4
    min_mapq = spec.min_mapq
    extend = spec.extend_reads
    dedupe = spec.ignore_duplicates
    starts: list[int] = []
    ends: list[int] = []
    n_reads = 0
    last_pos = -1
    seen_at_pos: set = set()
    for read in bam.fetch(chrom, start, end):
        flag = read.flag
        if flag & exclude or read.mapping_quality < min_mapq:
            continue
        pos = read.reference_start
        if pos < min_start:
            continue
        if pos < last_pos:
            raise ChipsrInputError(
                f"{source}: alignments out of order on {chrom} ({read.query_name} at {pos + 1} after "
                f"{last_pos + 1}); the BAM is not coordinate-sorted, run `samtools sort`"
            )
        if dedupe:
            # deepTools' rule: same start, same fragment bounds / mate, same strand -> count once
            tlen = read.template_length
            if tlen >= 0:
                key_s, key_e = pos, pos + tlen
            else:
                key_s, key_e = read.next_reference_start, read.next_reference_start - tlen
            if read.reference_id != read.next_reference_id:
                key_e = read.next_reference_start
            key = (key_s, key_e, read.next_reference_id, flag & 0x10)
            if pos != last_pos:
                seen_at_pos.clear()
            elif key in seen_at_pos:
                continue
            seen_at_pos.add(key)
        last_pos = pos
        if extend is None:
            for s, e in read.get_blocks():
                starts.append(s)
                ends.append(e)
        elif flag & 0x1 and flag & 0x2 and read.reference_id == read.next_reference_id:
            tlen = read.template_length
            if tlen < 0 or (tlen == 0 and not flag & 0x40):
                continue  # the pair is counted once, at its leftmost (or first) mate
            starts.append(pos)
            ends.append(pos + max(tlen, read.reference_end - pos))
        else:
            if extend == 0:
                raise ChipsrInputError(
                    f"{source}: single-end read {read.query_name} on {chrom} needs a fragment "
                    f"length: use --extend-reads LEN"
                )
            read_end = read.reference_end
            if flag & 0x10:
                starts.append(min(read_end - extend, pos))
                ends.append(read_end)
            else:
                starts.append(pos)
                ends.append(max(pos + extend, read_end))
        n_reads += 1
        if len(starts) >= chunk:
            yield np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64), n_reads
            starts, ends, n_reads = [], [], 0
    if starts or n_reads:
        yield np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64), n_reads


# ----------------------------------------------------------------------- whole-file BAM/BED I/O
# (chipsr subsample reads every record of a file in order and writes a subset)


def open_bam(path: str | os.PathLike, index: str | os.PathLike | None = None):
    """``path`` opened for reading as BAM (``pysam.AlignmentFile``): with its ``index`` file (``.bai``
    or ``.csi``) for fetching by region, or without one (no reference sequences needed either).

    Raises
    ------
    ChipsrInputError
        The file cannot be opened as BAM (named).
    """
    import pysam

    try:
        if index is not None:
            return pysam.AlignmentFile(str(path), "rb", index_filename=str(index))
        return pysam.AlignmentFile(str(path), "rb", check_sq=False)
    except (ValueError, OSError) as exc:
        raise ChipsrInputError(f"{path}: cannot open as BAM ({exc})") from None


def bam_header(path: str | os.PathLike) -> dict:
    """The BAM header of ``path`` as a dict (``pysam.AlignmentHeader.to_dict``: ``HD``, ``SQ``, ``RG``,
    ``PG``...). Raises ChipsrInputError as :func:`open_bam`."""
    with open_bam(path) as bam:
        return bam.header.to_dict()


def iter_bam_records(path: str | os.PathLike) -> Iterator:
    """Every record of a BAM file in file order (``pysam.AlignedSegment``; unmapped ones too).

    Raises
    ------
    ChipsrInputError
        Not a BAM, or a truncated / corrupt one (named).
    """
    with open_bam(path) as bam:
        try:
            yield from bam.fetch(until_eof=True)
        except OSError as exc:
            raise ChipsrInputError(f"{path}: truncated or corrupt BAM ({exc})") from None


def open_bam_writer(path: str | os.PathLike, header: dict):
    """A ``pysam.AlignmentFile`` writing BAM to ``path`` with ``header`` (a header dict, as
    :func:`bam_header` returns). The caller writes to a temporary path (``chipsr subsample`` does,
    inside :func:`chipsr.io.atomic.atomic_output`), so a failed write leaves no output.

    Raises
    ------
    OSError
        The path cannot be created; ValueError from pysam for an invalid header.
    """
    import pysam

    return pysam.AlignmentFile(str(path), "wb", header=header)


def sort_and_index_bam(unsorted: str | os.PathLike, output: str | os.PathLike, in_order: bool) -> None:
    """Put the BAM ``unsorted`` at ``output``, as it is when ``in_order`` (its records are known to be
    in coordinate order), else coordinate-sorted by samtools (``pysam.sort``, without an ``@PG`` line:
    samtools would record temporary names); then index it (``output.bai``). Sorting uses temporary
    files ``output.sorttmp.*`` beside ``output`` (samtools removes them).

    Raises
    ------
    pysam.utils.SamtoolsError
        samtools could not sort or index (e.g. a full disk); the caller's atomic output removes
        ``output`` and its ``.bai``.
    """
    import pysam

    if in_order:
        os.replace(unsorted, output)
    else:
        pysam.sort("--no-PG", "-o", str(output), "-T", str(output) + ".sorttmp", str(unsorted))
    pysam.index(str(output), str(output) + ".bai")


@contextlib.contextmanager
def open_bed_output(path: str | os.PathLike, gzipped: bool):
    """A binary file for BED lines at ``path``: gzip (mtime 0, so the same lines give the same bytes)
    when ``gzipped``, plain otherwise; closed on exit (also on an error, so the caller's atomic output
    can remove it). Raises OSError when ``path`` cannot be created."""
    raw = open(path, "wb")  # noqa: SIM115 (closed below, after the gzip layer)
    out = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if gzipped else raw
    try:
        yield out
    finally:
        out.close()
        raw.close()


def reads_per_chromosome(path: str | os.PathLike) -> dict[str, int]:
    """Reads (BED rows, or mapped BAM records) per chromosome of a reads file, in the file's order.

    A BAM with an index is counted from the index (``idxstats``: instant); without one, and for BED,
    the file is read once (about a second per million reads).

    Raises
    ------
    ChipsrInputError
        A missing, empty or malformed reads file (as :func:`iter_bed_reads` / :func:`open_bam`).
    """
    counts: dict[str, int] = {}
    if sniff_reads_format(path) == "bam":
        with open_bam(path) as bam:
            if bam.has_index():
                return {s.contig: int(s.mapped) for s in bam.get_index_statistics() if s.mapped}
        for record in iter_bam_records(path):
            if not record.is_unmapped:
                counts[record.reference_name] = counts.get(record.reference_name, 0) + 1
        return counts
    for chunk in iter_bed_reads(path):
        names, n = np.unique(chunk.chroms, return_counts=True)
        for name, k in zip(names.tolist(), n.tolist()):
            counts[name] = counts.get(name, 0) + k
    return counts


def write_tab_separated_reads(paths, dest: str | os.PathLike) -> Path:
    """The data rows of BED reads files (plain or gzipped; header, ``track`` and ``#`` lines left out),
    concatenated into one plain BED at ``dest`` with tab-separated fields (the files may use spaces):
    what MACS3's BED parsers read. Returns ``dest``.

    Raises
    ------
    ChipsrInputError
        A missing or unreadable reads file (named).
    """
    dest = Path(dest)
    with open(dest, "wb") as out:
        for path in paths:
            with open_binary(require_file(path, "reads")) as fh:
                for line in fh:
                    if line.strip() and not is_header_line(line):
                        out.write(b"\t".join(line.split()) + b"\n")
    return dest
