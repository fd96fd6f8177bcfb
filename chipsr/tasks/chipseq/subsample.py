"""Subsample reads (``chipsr subsample``): exactly N templates, or a fraction, reproducibly.

A *template* is a read, or a read pair (mates always stay together). Every template gets a
64-bit pseudo-random key from the seed: for BAM a keyed BLAKE2b hash of the read name (so mates
share it; salted with the file's index when replicate BAMs are pooled), for BED the SplitMix64 hash of the data-line index (duplicate lines are distinct
reads). ``-n/--number N`` keeps the N templates with the smallest keys (bottom-k sampling: a
uniformly random N-subset, without replacement); ``--fraction F`` keeps the templates whose
key is below ``F * 2**64``. Two streaming passes for ``--number`` (one to find the N-th smallest
key, one to write), one for ``--fraction``; memory O(N) keys, never O(file); the output keeps
the input's order, so a coordinate-sorted input gives a coordinate-sorted output (pooled BAMs
are sorted after the draw).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chipsr._version import __version__
from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import atomic_output, check_output_path, require_distinct
from chipsr.io.reads import (
    bam_header,
    is_header_line,
    iter_bam_records,
    iter_bed_reads,
    open_bam_writer,
    open_bed_output,
    open_binary,
    sniff_reads_format,
    sort_and_index_bam,
)

log = logging.getLogger(__name__)

_U64 = np.uint64
_MASK64 = (1 << 64) - 1


@dataclass
class SubsampleStats:
    """Counts of a subsampling run: ``total`` templates in the input, ``kept`` in the output."""

    total: int
    kept: int
    format: str


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele et al. 2014), vectorised; uint64 in, uint64 out, shape kept."""
    with np.errstate(over="ignore"):
        z = x.astype(_U64) + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
        return z ^ (z >> _U64(31))


def line_keys(first: int, count: int, seed: int) -> np.ndarray:
    """Keys of BED data lines ``first .. first+count-1`` (0-based) for ``seed``: uint64, shape (count,)."""
    salt = splitmix64(np.array([seed & _MASK64], dtype=_U64))[0]
    return splitmix64(np.arange(first, first + count, dtype=_U64) ^ salt)


def name_key(name: str, seed: int, source: int = 0) -> int:
    """Key of a read name for ``seed`` (keyed BLAKE2b, 64 bits), as an int in [0, 2**64).

    ``source`` (the index of the read's file among pooled inputs, >= 0) goes into the hash's salt,
    so equal names in two files get independent keys; source 0 gives the unsalted key (a single
    file's keys are what they were before pooling existed).
    """
    digest = hashlib.blake2b(name.encode(), digest_size=8, key=(seed & _MASK64).to_bytes(8, "little"),
                             salt=source.to_bytes(8, "little"))
    return int.from_bytes(digest.digest(), "little")


class BottomK:
    """Keep the ``k`` smallest uint64 keys of a stream in O(k) memory.

    Parameters
    ----------
    k : int
        How many keys to keep (>= 1).
    """

    def __init__(self, k: int):
        self.k = k
        self.kept = np.zeros(0, dtype=_U64)
        self.pending: list[np.ndarray] = []
        self.n_pending = 0
        self.total = 0

    def add(self, keys: np.ndarray) -> None:
        """Offer a batch of keys (uint64 array)."""
        self.total += len(keys)
        self.pending.append(np.asarray(keys, dtype=_U64))
        self.n_pending += len(keys)
        if self.n_pending > max(self.k, 1 << 20):
            self._compact()

    def _compact(self) -> None:
        allk = np.concatenate([self.kept, *self.pending])
        if len(allk) > self.k:
            allk = np.partition(allk, self.k - 1)[: self.k]
        self.kept, self.pending, self.n_pending = allk, [], 0

    def threshold(self) -> tuple[int, int]:
        """``(T, n_equal)``: the k-th smallest key and how many of the k smallest equal it."""
        self._compact()
        t = self.kept.max()
        return int(t), int((self.kept == t).sum())


def _validate_request(n_reads: int | None, fraction: float | None) -> None:
    if (n_reads is None) == (fraction is None):
        raise ChipsrInputError("give exactly one of -n/--number N or --fraction F")
    if n_reads is not None and n_reads < 1:
        raise ChipsrInputError(f"-n/--number must be >= 1, got {n_reads}")
    if fraction is not None and not 0.0 < fraction <= 1.0:
        raise ChipsrInputError(f"--fraction must be in (0, 1], got {fraction}")


def _fraction_threshold(fraction: float) -> int:
    """Keys strictly below this are kept (2**64 keeps everything)."""
    return min(int(fraction * 2.0**64), 1 << 64) if fraction < 1.0 else 1 << 64


def subsample(
    path: str | os.PathLike,
    output: str | os.PathLike,
    *,
    n_reads: int | None,
    fraction: float | None,
    seed: int,
) -> SubsampleStats:
    """Subsample a BAM or BED reads file to exactly ``n_reads`` templates or a ``fraction``.

    Parameters
    ----------
    path : str or PathLike, or a list of them
        BAM (single- or paired-end; any sort order) or BED-like reads (BED3 fragments, BED6 /
        tagAlign), plain or gzipped. Several files (replicates) are pooled, all BAM or all BED:
        BED lines in the given order (the first file's header is kept); BAM templates keyed by
        (file index, read name), so equal names in two files are distinct templates, and written
        as one coordinate-sorted BAM (the first file's header, plus the others' read groups).
    output : str or PathLike
        Output in the input's format: BAM -> coordinate-sorted BAM with a ``.bai`` index
        (and an ``@PG`` header line); BED -> BED, gzipped when the name ends in ``.gz``.
    n_reads : int, optional
        Keep exactly this many templates, uniformly at random without replacement. If it is
        >= the number of templates, everything is kept and a warning is logged.
    fraction : float, optional
        Keep each template with probability ``fraction`` (in (0, 1]).
    seed : int
        Random seed; the same input and seed give a byte-identical output.

    Returns
    -------
    SubsampleStats

    Raises
    ------
    ChipsrInputError
        Both or neither of ``n_reads``/``fraction``, ``n_reads < 1``, a fraction outside
        (0, 1], a missing/empty/corrupt input, a malformed BED line, a missing output directory,
        BAM and BED inputs mixed, or pooled BAMs whose headers list different reference sequences.
    """
    _validate_request(n_reads, fraction)
    check_output_path(output)
    paths = [Path(p) for p in path] if isinstance(path, (list, tuple)) else [Path(path)]
    if not paths:
        raise ChipsrInputError("no reads file given")
    require_distinct(paths, "READS")
    formats = [sniff_reads_format(p) for p in paths]
    if "bam" in formats:
        other = next((p for p, f in zip(paths, formats) if f != "bam"), None)
        if other is not None:
            bam = paths[formats.index("bam")]
            raise ChipsrInputError(
                f"{bam} is BAM but {other} is {formats[paths.index(other)].upper()}: pooled reads files must all "
                f"be BAM or all be BED")
        return _subsample_bam(paths, Path(output), n_reads, fraction, seed)
    return _subsample_bed(paths, Path(output), n_reads, fraction, seed)


def _warn_all(path: Path, n_reads: int, total: int) -> None:
    log.warning("%s has %d templates <= -n/--number %d: keeping all of them", path, total, n_reads)


# ------------------------------------------------------------------------------------ BED


def _subsample_bed(paths: list[Path], output: Path, n_reads, fraction, seed) -> SubsampleStats:
    """BED reads of one or more files (replicates: their reads pooled, in file order; each read's
    key comes from its index in the pooled stream, so one file gives what it always gave)."""
    path = paths[0] if len(paths) == 1 else Path(", ".join(map(str, paths)))  # for messages
    # pass 1 (validation, and the threshold key for -n/--number)
    total = 0
    bottom = BottomK(n_reads) if n_reads is not None else None
    for chunk in (c for p in paths for c in iter_bed_reads(p)):
        n = len(chunk.starts)
        if bottom is not None:
            bottom.add(line_keys(total, n, seed))
        total += n
    # keep keys < limit, plus the first n_equal keys == limit (ties at the N-th smallest key)
    if bottom is not None:
        keep_all = n_reads >= total
        if keep_all:
            _warn_all(path, n_reads, total)
        limit, n_equal = (0, 0) if keep_all else bottom.threshold()
    else:
        limit, n_equal = _fraction_threshold(fraction), 0
        keep_all = limit >= 1 << 64
    # pass 2: write the kept lines unchanged
    kept = 0
    index = 0
    with atomic_output(output) as tmp, open_bed_output(tmp, output.name.endswith(".gz")) as out:
        for n_source, source in enumerate(paths):
            with open_binary(source) as fh:
                in_header = True
                while True:
                    lines = fh.readlines(1 << 24)
                    if not lines:
                        break
                    if in_header:
                        j = 0
                        while j < len(lines) and is_header_line(lines[j]):
                            j += 1
                        if n_source == 0:  # the first file's header only
                            out.writelines(lines[:j])
                        lines = lines[j:]
                        in_header = not lines
                    data = [ln for ln in lines if not is_header_line(ln)]  # comment lines anywhere: dropped
                    if not data:
                        continue
                    if not data[-1].endswith(b"\n"):
                        data[-1] += b"\n"
                    if keep_all:
                        mask = np.ones(len(data), dtype=bool)
                    else:
                        keys = line_keys(index, len(data), seed)
                        mask = keys < _U64(limit)
                        ties = np.flatnonzero(keys == _U64(limit))[:n_equal]
                        mask[ties] = True
                        n_equal -= len(ties)
                    index += len(data)
                    sel = np.flatnonzero(mask)
                    kept += len(sel)
                    out.writelines([data[j] for j in sel])
    log.info("%s: kept %d of %d reads", path, kept, total)
    return SubsampleStats(total=total, kept=kept, format="bed")


# ------------------------------------------------------------------------------------ BAM


def _is_representative(flag: int) -> bool:
    """The record that stands for its template: primary, and unpaired or first in pair."""
    return not flag & 0x900 and (not flag & 0x1 or flag & 0x40)


def _subsample_bam(paths: list[Path], output: Path, n_reads, fraction, seed) -> SubsampleStats:
    """BAM reads of one or more files (replicates: their templates pooled; a template is keyed by
    (file index, read name), so equal names in two files are two templates, and one file gives
    what it always gave)."""
    label = paths[0] if len(paths) == 1 else Path(", ".join(map(str, paths)))  # for messages
    headers = [bam_header(path) for path in paths]
    _check_same_references(paths, headers)
    total = 0
    if n_reads is not None:
        total, limit, n_equal = _bam_threshold(paths, n_reads, seed, label)
    else:
        limit, n_equal = _fraction_threshold(fraction), 0
    with atomic_output(output, companions=(".bai",)) as tmp:
        header = _subsample_header(headers, paths, n_reads, fraction, seed)
        unsorted_tmp = Path(str(tmp) + ".unsorted.bam")
        try:
            kept, counted, sorted_output = _write_kept(unsorted_tmp, header, paths, seed, limit, n_equal)
            total = total or counted
            if total == 0:
                raise ChipsrInputError(f"{label}: BAM has no reads")
            _sort_and_index(unsorted_tmp, tmp, sorted_output and len(paths) == 1
                            and header.get("HD", {}).get("SO") == "coordinate", len(paths) == 1, label)
        finally:
            if unsorted_tmp.exists():
                unsorted_tmp.unlink()
    log.info("%s: kept %d of %d templates", label, kept, total)
    return SubsampleStats(total=total, kept=kept, format="bam")


def _bam_records(index: int, path: Path, seed: int):
    """(read, key) of every record of one file, the ``index``-th of the pooled files; a corrupt file
    is named."""
    for read in iter_bam_records(path):
        yield read, name_key(read.query_name, seed, source=index)


def _bam_threshold(paths: list[Path], n_reads: int, seed: int, label) -> tuple[int, int, int]:
    """Pass 1 for ``-n/--number``: (templates in the files, the threshold key, how many templates whose key
    equals it are kept). Everything is kept, with a warning, when ``n_reads`` >= the templates.
    Raises ChipsrInputError for BAMs without reads."""
    bottom = BottomK(n_reads)
    buf: list[int] = []
    for index, path in enumerate(paths):
        for read, key in _bam_records(index, path, seed):
            if _is_representative(read.flag):
                buf.append(key)
                if len(buf) >= 1 << 20:
                    bottom.add(np.array(buf, dtype=_U64))
                    buf = []
    bottom.add(np.array(buf, dtype=_U64))
    total = bottom.total
    if total == 0:
        raise ChipsrInputError(f"{label}: BAM has no reads")
    if n_reads >= total:
        _warn_all(label, n_reads, total)
        return total, 1 << 64, 0
    return total, *bottom.threshold()


def _subsample_header(headers: list[dict], paths: list[Path], n_reads, fraction, seed: int) -> dict:
    """The output's header: the pooled header (:func:`_pooled_header`) plus an ``@PG`` line with this
    command (its ID made unique)."""
    header = _pooled_header(headers)
    pg_ids = {pg.get("ID") for pg in header.get("PG", [])}
    pg_id = "chipsr-subsample"
    while pg_id in pg_ids:
        pg_id += "+"
    request = f"-n {n_reads}" if n_reads is not None else f"--fraction {fraction}"
    command = f"chipsr subsample {' '.join(p.name for p in paths)} {request} --seed {seed}" if len(paths) > 1 \
        else f"chipsr subsample {request} --seed {seed}"
    header.setdefault("PG", []).append({"ID": pg_id, "PN": "chipsr", "VN": __version__, "CL": command})
    return header


def _write_kept(path: Path, header: dict, paths: list[Path], seed: int, limit: int, n_equal: int):
    """Pass 2: write every record of a kept template (key below ``limit``, or the first ``n_equal``
    templates whose key equals it) to the BAM ``path``, in input order. Returns (templates kept,
    templates seen, whether the records written are in coordinate order)."""
    equal_decisions: dict[tuple[int, str], bool] = {}
    kept = 0
    counted = 0
    sorted_output = True
    last = (-1, -1)
    with open_bam_writer(path, header) as out:
        for index, source in enumerate(paths):
            for read, key in _bam_records(index, source, seed):
                if key < limit:
                    keep = True
                elif key == limit and n_equal:
                    name = (index, read.query_name)
                    if name not in equal_decisions:
                        equal_decisions[name] = sum(equal_decisions.values()) < n_equal
                    keep = equal_decisions[name]
                else:
                    keep = False
                rep = _is_representative(read.flag)
                counted += rep
                if not keep:
                    continue
                kept += rep
                out.write(read)
                pos = (read.reference_id if read.reference_id >= 0 else 1 << 40, read.reference_start)
                if pos < last:
                    sorted_output = False
                last = pos
    return kept, counted, sorted_output


def _sort_and_index(unsorted: Path, tmp: Path, in_order: bool, single: bool, label) -> None:
    """Put the written BAM at ``tmp``, as it is when ``in_order`` (one coordinate-sorted input whose
    records stayed in order), else coordinate-sorted by samtools; then index it (``tmp.bai``)."""
    if not in_order and single:
        log.info("%s is not marked coordinate-sorted; sorting the subsample", label)
    sort_and_index_bam(unsorted, tmp, in_order)


def _references(header: dict) -> list[tuple[str, int]]:
    return [(sq.get("SN"), sq.get("LN")) for sq in header.get("SQ", [])]


def _check_same_references(paths: list[Path], headers: list[dict]) -> None:
    """Pooled BAMs must share their reference sequences (names, lengths and order: the records'
    reference ids are written unchanged)."""
    first = _references(headers[0])
    for path, header in zip(paths[1:], headers[1:]):
        refs = _references(header)
        if refs != first:
            diff = next(((a, b) for a, b in zip(first, refs) if a != b), None)
            what = (f"{diff[0][0]} ({diff[0][1]} bp) vs {diff[1][0]} ({diff[1][1]} bp)" if diff
                    else f"{len(first)} vs {len(refs)} sequences")
            raise ChipsrInputError(
                f"{paths[0]} and {path} have different reference sequences in their headers ({what}): "
                f"pool only BAMs aligned to the same reference")


def _pooled_header(headers: list[dict]) -> dict:
    """The first file's header, plus the read groups of the others (by ID, first one wins), so
    that every record's RG tag stays defined."""
    header = {k: [dict(x) for x in v] if isinstance(v, list) else dict(v) if isinstance(v, dict) else v
              for k, v in headers[0].items()}
    if len(headers) > 1:
        seen = {rg.get("ID") for rg in header.get("RG", [])}
        for other in headers[1:]:
            for rg in other.get("RG", []):
                if rg.get("ID") not in seen:
                    header.setdefault("RG", []).append(dict(rg))
                    seen.add(rg.get("ID"))
    return header
