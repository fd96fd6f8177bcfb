"""Reads -> binned coverage tracks (``chipsr coverage``).

A bin's value is the **mean per-bp depth** over the bin: the number of fragments covering each
base, averaged over the bin's bases (Coda's averaging, Koh et al. 2017). With ``bin_size=1`` this
is the per-base pileup that ``macs3 pileup`` and ``bamCoverage --binSize 1`` write. With larger
bins it differs from deepTools, which counts the reads *overlapping* a bin: a 200-bp fragment
touching a 25-bp bin by 1 bp adds 1/25 here and 1 in deepTools. The last bin of a chromosome is
truncated at the chromosome end and averaged over its real length.

Memory is O(chromosome length / bin size) per chromosome being accumulated, never O(reads):
reads are streamed in chunks into two per-bin accumulators (see :class:`BinAccumulator`), and
finished chromosomes are kept as run-length-encoded partial tracks in a temporary directory until
the output is written in chromosome-size order.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.genome import Region, overlaps_intervals
from chipsr.io.reads import IndexedBam, ReadFilter, bam_fragments, iter_bed_reads
from chipsr.io.tracks import TrackWriter

log = logging.getLogger(__name__)

NORMALIZATIONS = ("none", "CPM", "RPKM", "BPM", "RPGC")

#: Accumulator memory (bytes) kept in RAM before finished-looking chromosomes are flushed to disk.
ACCUMULATOR_BUDGET = 1 << 30
#: With threads > 1, BAM chromosomes are processed in ranges of this many bp.
SPLIT_BP = 10_000_000


@dataclass(frozen=True)
class CoverageOptions:
    """Options of :func:`compute_coverage` (deepTools ``bamCoverage`` names in brackets); their
    defaults are :class:`chipsr.api.chipseq.CoverageSettings`'.

    Attributes
    ----------
    bin_size : int
        Bin size in bp [``--binSize``]; values are mean per-bp depth over the bin.
    reads : ReadFilter
        Read filters and the fragment rule [``--extendReads``, ``--minMappingQuality``,
        ``--samFlagExclude``, ``--ignoreDuplicates``].
    normalize_using : {"none", "CPM", "RPKM", "BPM", "RPGC"}
        Scaling [``--normalizeUsing``], with N = reads (or pairs used as fragments) that pass the
        filters in the whole input (not only ``region``), as deepTools counts mapped reads:
        CPM = 1e6 / N; RPKM = 1e9 / (N * bin_size); BPM = 1e6 / (sum of all output bin
        values); RPGC = effective_genome_size / (total fragment bp), i.e. 1x average depth.
    effective_genome_size : int or None
        Mappable genome size (bp) for RPGC [``--effectiveGenomeSize``].
    blacklist : dict or None
        Merged intervals per chromosome (:func:`chipsr.io.genome.read_bed_intervals`); reads
        whose fragment overlaps one are dropped (so blacklisted bases read 0) and not counted in N.
    region : Region or None
        Only write bins overlapping this region [``--region``]; bins stay on the genome-wide
        grid (multiples of ``bin_size``).
    skip_unknown_chroms : bool
        Drop reads on chromosomes absent from the chrom sizes (with a warning count) instead
        of failing.
    threads : int
        Worker processes; BAM chromosomes are processed in parallel [``-p``].
    """

    bin_size: int
    reads: ReadFilter
    normalize_using: str
    effective_genome_size: int | None
    blacklist: dict | None
    region: Region | None
    skip_unknown_chroms: bool
    threads: int

    def __post_init__(self) -> None:
        if self.bin_size < 1:
            raise ChipsrInputError(f"--bin-size must be a positive number of bp, got {self.bin_size}")
        if self.normalize_using not in NORMALIZATIONS:
            raise ChipsrInputError(
                f"--normalize-using {self.normalize_using!r}: expected one of {', '.join(NORMALIZATIONS)}"
            )
        if self.normalize_using == "RPGC" and not self.effective_genome_size:
            raise ChipsrInputError("--normalize-using RPGC needs --effective-genome-size (bp)")
        if self.threads < 1:
            raise ChipsrInputError(f"--threads must be >= 1, got {self.threads}")


@dataclass
class CoverageStats:
    """What :func:`compute_coverage` counted.

    Attributes
    ----------
    n_reads : int
        Reads (or read pairs used as fragments) that passed the filters, whole input.
    fragment_bp : int
        Total bp of those fragments after clipping to chromosome ends.
    sum_bins : float
        Sum of the unscaled bin values written (for BPM).
    scale : float
        The normalisation factor applied.
    skipped_unknown : int
        Reads dropped on chromosomes absent from the chrom sizes.
    """

    n_reads: int = 0
    fragment_bp: int = 0
    sum_bins: float = 0.0
    scale: float = 1.0
    skipped_unknown: int = 0

    def merge(self, other: CoverageStats) -> None:
        """Add another chunk's counts to these."""
        self.n_reads += other.n_reads
        self.fragment_bp += other.fragment_bp
        self.skipped_unknown += other.skipped_unknown


class BinAccumulator:
    """Mean per-bp depth in fixed bins, accumulated from fragments without a per-bp array.

    For a chromosome of length L and bin width w, with the per-bp depth difference
    d[y] (+1 at each fragment start, -1 at each end), the sum of depth over bin i
    (bases [i*w, hi_i), hi_i = min((i+1)*w, L), width W_i = hi_i - i*w) is

        S_i = W_i * P_i + sum_{y in bin i} d[y] * (hi_i - y),   P_i = sum_{y < i*w} d[y],

    so two per-bin arrays suffice: ``net[i] = sum of d`` in bin i and
    ``weighted[i] = sum of d[y] * (hi_i - y)``. The bin value is S_i / W_i. Exact integer
    arithmetic; memory 12 bytes per bin (4 with ``bin_size=1``, where S_i is the depth itself).

    Parameters
    ----------
    length : int
        Chromosome length (bp).
    bin_size : int
        Bin width w (bp).
    """

    def __init__(self, length: int, bin_size: int):
        self.length = int(length)
        self.bin_size = int(bin_size)
        self.n_bins = -(-self.length // self.bin_size)
        # np.zeros maps untouched pages lazily: a range job on a long chromosome stays cheap
        self.net = np.zeros(self.n_bins + 1, dtype=np.int32)
        self.weighted = np.zeros(self.n_bins + 1, dtype=np.int64) if self.bin_size > 1 else None
        self.lo, self.hi = self.n_bins, 0  # span of touched bins

    @property
    def nbytes(self) -> int:
        """Memory held by the accumulators (bytes)."""
        return self.net.nbytes + (0 if self.weighted is None else self.weighted.nbytes)

    def add(self, starts: np.ndarray, ends: np.ndarray) -> None:
        """Add fragments ``[starts, ends)`` (int64 arrays of shape (n,), already clipped to [0, L])."""
        if len(starts) == 0:
            return
        w = self.bin_size
        b_start = starts // w
        b_end = ends // w
        np.add.at(self.net, b_start, 1)
        np.add.at(self.net, b_end, -1)
        if self.weighted is not None:
            np.add.at(self.weighted, b_start, np.minimum((b_start + 1) * w, self.length) - starts)
            np.add.at(self.weighted, b_end, ends - np.minimum((b_end + 1) * w, self.length))
        self.lo = min(self.lo, int(b_start.min()))
        self.hi = max(self.hi, int(b_end.max()) + 1)

    def runs(self, slab: int = 1 << 22) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run-length-encoded bin sums S_i (bp x depth; exact integers).

        Returns
        -------
        (start_bins, end_bins, sums)
            int64 arrays of shape (r,): bins ``[start_bins[k], end_bins[k])`` all have the sum of
            per-bp depth ``sums[k]``; runs tile all ``n_bins`` bins. :func:`sums_to_means`
            turns them into mean per-bp depth.
        """
        w, n = self.bin_size, self.n_bins
        lo, hi = min(self.lo, n), min(max(self.hi, self.lo), n)
        parts_s, parts_e, parts_v = [np.array([0])], [np.array([lo])], [np.array([0])]
        carry = 0  # depth entering the slab (no fragment starts before lo)
        for a in range(lo, hi, slab):
            b = min(a + slab, hi)
            net = self.net[a:b].astype(np.int64)
            incl = np.cumsum(net) + carry
            if self.weighted is None:
                sums = incl
            else:
                widths = np.full(b - a, w, dtype=np.int64)
                if b == n:
                    widths[-1] = self.length - (n - 1) * w
                sums = self.weighted[a:b] + widths * (incl - net)
            carry = int(incl[-1])
            s, e, v = rle(sums)
            parts_s.append(s + a)
            parts_e.append(e + a)
            parts_v.append(v)
        parts_s.append(np.array([hi]))
        parts_e.append(np.array([n]))
        parts_v.append(np.array([0]))
        s, e, v = (np.concatenate(x).astype(np.int64) for x in (parts_s, parts_e, parts_v))
        keep = e > s
        return merge_runs(s[keep], e[keep], v[keep])


def sums_to_means(runs, length: int, bin_size: int):
    """Turn runs of bin sums into runs of mean per-bp depth (the last, truncated bin divides by
    its own width).

    Parameters
    ----------
    runs : (ndarray, ndarray, ndarray)
        ``(start_bins, end_bins, sums)`` as from :meth:`BinAccumulator.runs`, tiling all bins.
    length, bin_size : int
        Chromosome length and bin size (bp).

    Returns
    -------
    (start_bins, end_bins, means)
        The same tiling (the last bin split off when truncated), float64 means.
    """
    s, e, v = runs
    n = -(-length // bin_size)
    last_width = length - (n - 1) * bin_size
    means = v / bin_size
    if last_width == bin_size or len(s) == 0:
        return s, e, means
    k = len(s) - 1  # the run holding the last bin
    if e[k] - s[k] == 1:
        means[k] = v[k] / last_width
        return s, e, means
    return (np.concatenate((s, [n - 1])), np.concatenate((e[:-1], [n - 1, n])),
            np.concatenate((means, [v[k] / last_width])))


def rle(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run-length encode a 1-D array: ``(starts, ends, values)`` of maximal constant runs."""
    if len(values) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=values.dtype)
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate(([0], change)).astype(np.int64)
    ends = np.concatenate((change, [len(values)])).astype(np.int64)
    return starts, ends, values[starts]


def merge_runs(starts: np.ndarray, ends: np.ndarray, values: np.ndarray):
    """Merge adjacent contiguous runs with equal values (runs must tile an interval)."""
    if len(values) < 2:
        return starts, ends, values
    keep = np.concatenate(([True], values[1:] != values[:-1]))
    new_starts = starts[keep]
    new_ends = np.concatenate((new_starts[1:], ends[-1:]))
    return new_starts, new_ends, values[keep]


class PartialTracks:
    """Run-length partial tracks per chromosome, kept on disk in a temporary directory.

    A chromosome may receive several partials (an unsorted BED, or a flushed accumulator that
    got more reads later); :meth:`load` adds them up (coverage is additive).
    """

    def __init__(self, tmpdir: str):
        self.tmpdir = tmpdir
        self.files: dict[str, list[str]] = {}
        self._n = 0

    def save(self, chrom: str, runs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Store a run-length partial ``(start_bins, end_bins, sums)`` (int64) for ``chrom``."""
        path = os.path.join(self.tmpdir, f"part{self._n}.npz")
        self._n += 1
        np.savez(path, starts=runs[0], ends=runs[1], values=runs[2])
        self.files.setdefault(chrom, []).append(path)

    def add_file(self, chrom: str, path: str) -> None:
        """Register a partial written by a worker process."""
        self.files.setdefault(chrom, []).append(path)

    def load(self, chrom: str, n_bins: int):
        """Return the summed runs ``(start_bins, end_bins, sums)`` of ``chrom`` (int64; a single
        zero run if it has no partial). Partials add exactly: bin sums are integers."""
        paths = self.files.get(chrom, [])
        if not paths:
            return np.array([0]), np.array([n_bins]), np.array([0])
        if len(paths) == 1:
            with np.load(paths[0]) as z:
                return z["starts"], z["ends"], z["values"]
        diff = np.zeros(n_bins + 1, dtype=np.int64)
        for path in paths:
            with np.load(path) as z:
                nz = z["values"] != 0
                np.add.at(diff, z["starts"][nz], z["values"][nz])
                np.add.at(diff, z["ends"][nz], -z["values"][nz])
        return rle(np.cumsum(diff[:-1]))


def _clip_and_count(starts, ends, length, blacklist_ivs, read_ids=None):
    """Drop blacklisted reads, clip fragments to [0, length); return (starts, ends, dropped_reads)."""
    dropped = 0
    if blacklist_ivs is not None and len(starts):
        bad = overlaps_intervals(starts, ends, blacklist_ivs)
        if bad.any():
            if read_ids is None:
                dropped = int(bad.sum())
                keep = ~bad
            else:
                bad_ids = np.unique(read_ids[bad])
                dropped = len(bad_ids)
                keep = ~np.isin(read_ids, bad_ids)
            starts, ends = starts[keep], ends[keep]
    starts = np.clip(starts, 0, length)
    ends = np.clip(ends, 0, length)
    ok = ends > starts
    return starts[ok], ends[ok], dropped


# ------------------------------------------------------------------------------------ BAM path


def _bam_chrom_job(job: dict) -> tuple[str, str | None, CoverageStats]:
    """Process one chromosome of the BAM inputs (runs in a worker process when threads > 1)."""
    from chipsr.io.reads import open_bam

    chrom, length, opts = job["chrom"], job["length"], job["options"]
    fetch_start, fetch_end = job["fetch"]
    acc = BinAccumulator(length, opts.bin_size) if job["collect"] else None
    stats = CoverageStats()
    bl = opts.blacklist.get(chrom) if opts.blacklist else None
    for path, index in job["bams"]:
        with open_bam(path, index) as bam:
            if chrom not in bam.references:
                continue
            for starts, ends, n_reads in bam_fragments(
                bam, chrom, fetch_start, fetch_end, opts.reads, source=str(path), min_start=job["min_start"]
            ):
                # one interval per read except spliced/deleted reads; ids only matter for blacklist
                starts, ends, dropped = _clip_and_count(starts, ends, length, bl)
                stats.n_reads += n_reads - dropped
                stats.fragment_bp += int((ends - starts).sum())
                if acc is not None:
                    acc.add(starts, ends)
    part = None
    if acc is not None:
        part = os.path.join(job["tmpdir"], f"bam_{job['index']}.npz")
        s, e, v = acc.runs()
        np.savez(part, starts=s, ends=e, values=v)
    return chrom, part, stats


def _run_jobs(jobs: list[dict], threads: int):
    """Run chromosome jobs in order, in a process pool when threads > 1."""
    from tqdm import tqdm

    bar = dict(total=len(jobs), unit="chrom", desc="coverage", disable=None, leave=False)
    if threads == 1 or len(jobs) == 1:
        for job in tqdm(jobs, **bar):
            yield _bam_chrom_job(job)
        return
    with ProcessPoolExecutor(max_workers=threads) as pool:
        yield from tqdm(pool.map(_bam_chrom_job, jobs), **bar)


def _bam_coverage(bams: list[IndexedBam], sizes, opts, tmpdir, partials: PartialTracks, need_total: bool):
    specs = [(str(b.path), b.index_filename) for b in bams]
    present = set()  # chromosomes with mapped reads in any BAM (the others are written as 0)
    for b in bams:
        present.update(st.contig for st in b.bam.get_index_statistics() if st.mapped)
    region = opts.region
    jobs = []
    pad = max(opts.reads.extend_reads or 0, 2000 if opts.reads.extend_reads is not None else 0)
    # with several workers, chromosomes are split into ranges that count each read once (by
    # its start); their partial tracks add up (see PartialTracks.load)
    split = SPLIT_BP if opts.threads > 1 else None

    def whole(chrom, length, collect):
        ranges = [(0, length)] if split is None else [(a, min(a + split, length)) for a in range(0, length, split)]
        return [dict(chrom=chrom, length=length, fetch=(a, b), min_start=a, collect=collect, counted=True)
                for a, b in ranges]

    for chrom, length in sizes.items():
        if chrom not in present:
            continue
        if region is None:
            jobs += whole(chrom, length, collect=True)
            continue
        if need_total:
            jobs += whole(chrom, length, collect=False)
        if chrom == region.chrom:
            rs, re_ = region.bounds(length)
            jobs.append(dict(chrom=chrom, length=length, fetch=(max(0, rs - pad), min(length, re_ + pad)),
                             min_start=0, collect=True, counted=not need_total))
    for i, job in enumerate(jobs):
        job.update(index=i, options=opts, bams=specs, tmpdir=tmpdir)
    stats = CoverageStats()
    for job, (chrom, part, job_stats) in zip(jobs, _run_jobs(jobs, opts.threads)):
        if part is not None:
            partials.add_file(chrom, part)
        if job["counted"]:
            stats.merge(job_stats)
    return stats


# ------------------------------------------------------------------------------------ BED path


def _dedupe_sorted(starts, ends, strands, carry: dict, source: str, chrom: str):
    """deepTools-style duplicate removal on position-sorted reads of one chromosome."""
    out_of_order = len(starts) > 0 and (
        bool(np.any(np.diff(starts) < 0)) or carry.get("start", -1) > starts[0]
    )
    if out_of_order:
        raise ChipsrInputError(
            f"{source}: --ignore-duplicates needs reads sorted by chromosome and start "
            f"(unsorted on {chrom}); run `sort -k1,1 -k2,2n`"
        )
    # key: start + strand for single-end reads; start + end for fragments (strand 0)
    key2 = np.where(strands == 0, ends, 0)
    order = np.lexsort((strands, key2, starts))
    s, k, st = starts[order], key2[order], strands[order]
    first = np.ones(len(s), dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (k[1:] != k[:-1]) | (st[1:] != st[:-1])
    if carry.get("start") is not None:
        prev = carry["keys"]
        same = s == carry["start"]
        for i in np.flatnonzero(same & first):
            if (int(k[i]), int(st[i])) in prev:
                first[i] = False
    keep = np.zeros(len(s), dtype=bool)
    keep[order[first]] = True
    if len(s):
        last = s[-1]
        sel = s == last
        keys = {(int(a), int(b)) for a, b in zip(k[sel], st[sel])}
        if carry.get("start") == last:
            keys |= carry["keys"]
        carry["start"], carry["keys"] = int(last), keys
    return keep


def _bed_fragments(chunk_starts, chunk_ends, strands, extend, source, first_line):
    """Apply the fragment rule to BED rows (strand 0 = fragment as written)."""
    if extend is None:
        return chunk_starts, chunk_ends
    stranded = strands != 0
    if extend == 0:
        if stranded.any():
            line = first_line + int(np.flatnonzero(stranded)[0])
            raise ChipsrInputError(
                f"{source} line {line}: single-end read with strand needs a fragment length: "
                f"use --extend-reads LEN"
            )
        return chunk_starts, chunk_ends
    starts = chunk_starts.copy()
    ends = chunk_ends.copy()
    plus, minus = strands > 0, strands < 0
    ends[plus] = np.maximum(chunk_starts[plus] + extend, chunk_ends[plus])
    starts[minus] = np.minimum(chunk_ends[minus] - extend, chunk_starts[minus])
    return starts, ends


def _bed_coverage(paths: Sequence[Path], sizes, opts, partials: PartialTracks) -> CoverageStats:
    import pandas as pd
    from tqdm import tqdm

    stats = CoverageStats()
    live: OrderedDict[str, BinAccumulator] = OrderedDict()
    region = opts.region
    unsorted_warned = False
    flushed: set[str] = set()

    def flush(chrom: str) -> None:
        partials.save(chrom, live.pop(chrom).runs())
        flushed.add(chrom)

    for path in paths:
        dedupe_carry: dict[str, dict] = {}
        bar = tqdm(unit=" reads", unit_scale=True, desc=Path(path).name, disable=None, leave=False)
        for chunk in iter_bed_reads(path):
            bar.update(len(chunk.starts))
            codes, uniques = pd.factorize(chunk.chroms)
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
            for ci, chrom in enumerate(uniques):
                idx = order[bounds[ci] : bounds[ci + 1]]
                length = sizes.get(chrom)
                if length is None:
                    if opts.skip_unknown_chroms:
                        stats.skipped_unknown += len(idx)
                        continue
                    line = chunk.first_line + int(idx[0])
                    raise ChipsrInputError(
                        f"{path} line {line}: chromosome {chrom!r} is not in the chrom sizes; "
                        f"use --skip-unknown-chroms to drop such reads"
                    )
                starts, ends, strands = chunk.starts[idx], chunk.ends[idx], chunk.strands[idx]
                past = ends > length
                if past.any():  # as written in the file (an extension past the end is fine: it is clipped)
                    k = int(np.argmax(past))
                    raise ChipsrInputError(
                        f"{path} line {chunk.first_line + int(idx[k])}: end {int(ends[k])} is beyond the end of "
                        f"{chrom} ({length} bp in the chrom sizes): reads from another genome build?")
                if opts.reads.ignore_duplicates:
                    keep = _dedupe_sorted(starts, ends, strands, dedupe_carry.setdefault(chrom, {}),
                                          str(path), chrom)
                    starts, ends, strands = starts[keep], ends[keep], strands[keep]
                starts, ends = _bed_fragments(starts, ends, strands, opts.reads.extend_reads, path,
                                              chunk.first_line + int(idx[0]))
                bl = opts.blacklist.get(chrom) if opts.blacklist else None
                n_rows = len(starts)
                starts, ends, dropped = _clip_and_count(starts, ends, length, bl)
                stats.n_reads += n_rows - dropped
                stats.fragment_bp += int((ends - starts).sum())
                if region is not None:
                    if chrom != region.chrom:
                        continue
                    rs, re_ = region.bounds(length)
                    inside = (starts < re_) & (ends > rs)
                    starts, ends = starts[inside], ends[inside]
                if chrom not in live:
                    if chrom in flushed and not unsorted_warned:
                        log.warning("%s is not grouped by chromosome; sorting it (sort -k1,1 -k2,2n) "
                                    "makes chipsr coverage faster", path)
                        unsorted_warned = True
                    live[chrom] = BinAccumulator(length, opts.bin_size)
                live.move_to_end(chrom)
                live[chrom].add(starts, ends)
            # keep RAM bounded: flush least recently used chromosomes beyond the budget
            while len(live) > 1 and sum(a.nbytes for a in live.values()) > ACCUMULATOR_BUDGET:
                flush(next(iter(live)))
        bar.close()
    for chrom in list(live):
        flush(chrom)
    return stats


# ------------------------------------------------------------------------------------ entry


def _scale_factor(opts: CoverageOptions, stats: CoverageStats) -> float:
    mode = opts.normalize_using
    if mode == "none":
        return 1.0
    if stats.n_reads == 0:
        raise ChipsrInputError(f"--normalize-using {mode}: no reads passed the filters")
    if mode == "CPM":
        return 1e6 / stats.n_reads
    if mode == "RPKM":
        return 1e9 / (stats.n_reads * opts.bin_size)
    if mode == "RPGC":
        return opts.effective_genome_size / stats.fragment_bp
    if stats.sum_bins == 0:
        raise ChipsrInputError("--normalize-using BPM: the coverage is zero everywhere")
    return 1e6 / stats.sum_bins  # BPM


def _region_runs(runs, region: Region, length: int, bin_size: int):
    """Restrict bin runs to the bins overlapping ``region``."""
    rs, re_ = region.bounds(length)
    lo, hi = rs // bin_size, -(-re_ // bin_size)
    s, e, v = runs
    keep = (e > lo) & (s < hi)
    return np.maximum(s[keep], lo), np.minimum(e[keep], hi), v[keep]


def compute_coverage(
    reads: Sequence[tuple[Path, str]],
    output: str | os.PathLike,
    chrom_sizes: dict[str, int],
    options: CoverageOptions,
    out_format: str = "bigwig",
    bams: Iterable[IndexedBam] = (),
) -> CoverageStats:
    """Merge one mark's read files into a binned coverage track (bigWig or bedGraph).

    Parameters
    ----------
    reads : sequence of (Path, str)
        Read files with their format (``"bam"`` or ``"bed"``), merged into one track.
    output : str or PathLike
        Output path; written atomically.
    chrom_sizes : dict of str to int
        Output chromosomes and lengths (bp), in output order (the bigWig header).
    options : CoverageOptions
    out_format : {"bigwig", "bedgraph"}
    bams : iterable of IndexedBam
        The opened BAM inputs (same order as the BAM entries of ``reads``).

    Returns
    -------
    CoverageStats

    Raises
    ------
    ChipsrInputError
        Malformed reads, unknown chromosomes (without ``skip_unknown_chroms``), or no reads
        passing the filters when normalising.
    """
    opts = options
    if opts.region is not None and opts.region.chrom not in chrom_sizes:
        raise ChipsrInputError(f"--region {opts.region}: chromosome {opts.region.chrom} is not in the chrom sizes")
    bams = list(bams)
    bed_paths = [p for p, fmt in reads if fmt == "bed"]
    need_total = opts.normalize_using in ("CPM", "RPKM", "RPGC")
    from chipsr.io.atomic import temporary_folder

    with temporary_folder("chipsr-coverage-") as tmp_path:
        tmpdir = str(tmp_path)
        partials = PartialTracks(tmpdir)
        stats = CoverageStats()
        if bams:
            stats.merge(_bam_coverage(bams, chrom_sizes, opts, tmpdir, partials, need_total))
        if bed_paths:
            stats.merge(_bed_coverage(bed_paths, chrom_sizes, opts, partials))
        if stats.skipped_unknown:
            log.warning("skipped %d reads on chromosomes absent from the chrom sizes", stats.skipped_unknown)
        if stats.n_reads == 0:
            log.warning("no reads passed the filters; the track is zero everywhere")
        w = opts.bin_size
        chroms = [opts.region.chrom] if opts.region is not None else list(chrom_sizes)
        def mean_runs(chrom):
            length = chrom_sizes[chrom]
            runs = sums_to_means(partials.load(chrom, -(-length // w)), length, w)
            return runs if opts.region is None else _region_runs(runs, opts.region, length, w)

        if opts.normalize_using == "BPM":
            for chrom in chroms:
                s, e, v = mean_runs(chrom)
                stats.sum_bins += float(((e - s) * v).sum())
        stats.scale = _scale_factor(opts, stats)
        log.info("%d reads counted, %d fragment bp, scale factor %.6g", stats.n_reads, stats.fragment_bp, stats.scale)
        with TrackWriter(output, chrom_sizes, out_format) as writer:
            for chrom in chroms:
                length = chrom_sizes[chrom]
                s, e, v = mean_runs(chrom)
                s, e, values = merge_runs(s, e, (v * stats.scale).astype(np.float32))
                writer.add(chrom, s * w, np.minimum(e * w, length), values)
    return stats


def resolve_chrom_sizes(
    chrom_sizes: str | os.PathLike | None,
    genome_fasta: str | os.PathLike | None,
    bam_headers: Sequence[tuple[Path, dict[str, int]]],
    need_sizes_for: Sequence[Path] = (),
) -> tuple[dict[str, int], str]:
    """Chromosome sizes from a chrom sizes file, a FASTA, or the BAM headers, cross-checked.

    Parameters
    ----------
    chrom_sizes, genome_fasta : path or None
        At most one of them.
    bam_headers : sequence of (Path, dict)
        Each BAM input with its header's sizes (bp).
    need_sizes_for : sequence of Path
        BED inputs, which carry no sizes: without a sizes source this is an error.

    Returns
    -------
    (dict of str to int, str)
        Sizes in output order, and a description of their source for messages.

    Raises
    ------
    ChipsrInputError
        Both sources given; BED input without sizes; a BAM whose header gives a chromosome
        another size than the sizes source (or another BAM).
    """
    from chipsr.io.genome import chrom_sizes_from_fasta, read_chrom_sizes

    if chrom_sizes is not None and genome_fasta is not None:
        raise ChipsrInputError("give --chrom-sizes or --genome-fasta, not both")
    if chrom_sizes is not None:
        sizes, source = read_chrom_sizes(chrom_sizes), str(chrom_sizes)
    elif genome_fasta is not None:
        sizes, source = chrom_sizes_from_fasta(genome_fasta), str(genome_fasta)
    elif bam_headers:
        sizes, source = dict(bam_headers[0][1]), f"the header of {bam_headers[0][0]}"
    else:
        raise ChipsrInputError(
            f"{need_sizes_for[0]}: BED reads carry no chromosome sizes; give --chrom-sizes or --genome-fasta"
        )
    if need_sizes_for and chrom_sizes is None and genome_fasta is None:
        raise ChipsrInputError(
            f"{need_sizes_for[0]}: BED reads carry no chromosome sizes; give --chrom-sizes or --genome-fasta"
        )
    for path, header in bam_headers:
        for chrom, length in header.items():
            if chrom in sizes and sizes[chrom] != length:
                raise ChipsrInputError(
                    f"{path}: chromosome {chrom} is {length} bp in the BAM header but {sizes[chrom]} bp "
                    f"in {source} (a different genome build?)"
                )
    return sizes, source


def coverage_from_reads(reads: Sequence[str | os.PathLike], output: str | os.PathLike, options: CoverageOptions,
                        chrom_sizes: str | os.PathLike | None = None, genome_fasta: str | os.PathLike | None = None,
                        out_format: str | None = None) -> CoverageStats:
    """One mark's read files (BAM and/or BED, sniffed by content, merged) -> a binned coverage track:
    opens the BAMs, settles the chromosome sizes (:func:`resolve_chrom_sizes`), checks every BAM
    chromosome with reads is known, then :func:`compute_coverage`.

    Parameters
    ----------
    reads : sequence of path
    output : path
        bigWig or bedGraph (``out_format``, or from the suffix); atomic.
    options : CoverageOptions
    chrom_sizes, genome_fasta : path or None
        Where chromosome sizes come from (BAM headers otherwise; required for BED input).
    out_format : {"bigwig", "bedgraph"} or None

    Returns
    -------
    CoverageStats

    Raises
    ------
    ChipsrInputError
        Missing/corrupt/empty files, unknown chromosomes (unless ``options.skip_unknown_chroms``),
        sizes that disagree with a BAM header, an unsorted BAM, a missing output directory.
    """
    from chipsr.io.atomic import check_output_path, require_distinct
    from chipsr.io.reads import sniff_reads_format
    from chipsr.io.tracks import infer_track_format

    skip_unknown_chroms = options.skip_unknown_chroms
    check_output_path(output)
    fmt = infer_track_format(output, out_format)
    require_distinct(reads, "READS")
    typed = [(Path(p), sniff_reads_format(p)) for p in reads]
    bams: list[IndexedBam] = []
    try:
        for path, kind in typed:
            if kind == "bam":
                bams.append(IndexedBam(path))
        sizes, source = resolve_chrom_sizes(
            chrom_sizes, genome_fasta, [(b.path, b.chrom_sizes()) for b in bams],
            [p for p, kind in typed if kind == "bed"],
        )
        skipped = 0
        for b in bams:
            unknown = [s for s in b.bam.get_index_statistics() if s.contig not in sizes and s.mapped]
            if unknown and not skip_unknown_chroms:
                raise ChipsrInputError(
                    f"{b.path}: chromosome {unknown[0].contig} has reads but is not in {source}; "
                    f"use --skip-unknown-chroms to drop them"
                )
            skipped += sum(s.mapped for s in unknown)
        if skipped:
            log.warning("skipped %d BAM reads on chromosomes absent from %s", skipped, source)
        stats = compute_coverage(typed, output, sizes, options, out_format=fmt, bams=bams)
        stats.skipped_unknown += skipped
        return stats
    finally:
        for b in bams:
            b.close()
