#!/usr/bin/env python
"""Benchmark `chipsr coverage` against deepTools `bamCoverage`, and the BED path in reads/s.

Not a test: it prints timings. Usage (from the repo root, with chipsr installed):

    python benchmarks/bench_coverage.py [--bamcoverage PATH] [--repeat 3] [--scale 20]

bamCoverage is looked up on PATH, then in /tmp/refvenv/bin (where `pip install deeptools` into a
separate virtual environment puts it); without it only chipsr is timed. The BAM is a real input
(control) BAM, ENCODE Broad Histone ``wgEncodeBroadHistoneGm12878ControlStdAlnRep1`` (GM12878, hg19),
chr22 only: 85,165 single-end 36-bp reads, sorted and indexed, as shipped by the Bioconductor
package mosaicsExample 1.45.0 (GitHub ``bioc/mosaicsExample``, ``inst/extdata/``); for throughput,
a BAM of the same reads repeated --scale times (read names made unique, re-sorted). The BED input
is the MOLM-13 H3K27ac fragments on chr22 of GEO GSE80779 (GSM2136938; 200-bp fragments), and the
sizes are UCSC hg19's. The script looks for them in a folder ``shared/data/chipseq`` beside the
repository (``BAM``, ``BED``, ``SIZES`` below). Both tools run with the same options: 25-bp bins,
reads extended to 200 bp, no normalisation, 1 then 2 threads.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "chipseq"
BAM = SHARED / "gm12878_hg19_chr22_control" / "wgEncodeBroadHistoneGm12878ControlStdAlnRep1_chr22_sorted.bam"
BED = SHARED / "molm13_hg19_chr22" / "fragments" / "GSM2136938_MOLM13.H3K27ac.chr22.frag200.bed.gz"
SIZES = SHARED / "annotations" / "hg19.chrom.sizes"


def timed(cmd: list[str], repeat: int) -> float:
    """Median wall-clock seconds of a command over `repeat` runs."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def scaled_bam(src: Path, scale: int, workdir: Path) -> Path:
    """The reads of `src` repeated `scale` times with unique names, sorted and indexed."""
    import pysam

    unsorted = workdir / "scaled.unsorted.bam"
    with pysam.AlignmentFile(str(src)) as bam, pysam.AlignmentFile(str(unsorted), "wb", template=bam) as out:
        reads = list(bam.fetch(until_eof=True))
        for k in range(scale):
            for r in reads:
                r2 = pysam.AlignedSegment.from_dict(r.to_dict(), bam.header)
                r2.query_name = f"{r.query_name}_{k}"
                out.write(r2)
    path = workdir / f"scaled_x{scale}.bam"
    pysam.sort("-o", str(path), str(unsorted))
    pysam.index(str(path))
    return path


def scaled_bed(src: Path, scale: int, workdir: Path) -> Path:
    """The lines of `src` repeated `scale` times (kept sorted: each line repeated in place)."""
    path = workdir / f"scaled_x{scale}.bed.gz"
    with gzip.open(src, "rb") as fh, gzip.open(path, "wb", compresslevel=1) as out:
        for line in fh:
            out.write(line * scale)
    return path


def count_reads(path: Path) -> int:
    import pysam

    with pysam.AlignmentFile(str(path)) as bam:
        return bam.mapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bamcoverage", default=shutil.which("bamCoverage") or "/tmp/refvenv/bin/bamCoverage")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=20)
    args = parser.parse_args()
    if not BAM.exists():
        sys.exit(f"benchmark data not found: {BAM}")
    chipsr = [sys.executable, "-m", "chipsr"]
    have_bc = Path(args.bamcoverage).exists()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bams = [BAM, scaled_bam(BAM, args.scale, work)]
        print("\n== BAM -> bigWig, 25-bp bins, extend reads to 200 bp (median of %d runs, wall s) ==" % args.repeat)
        print(f"{'BAM':<34}{'reads':>10}{'threads':>8}{'chipsr':>9}{'bamCoverage':>13}{'ratio':>8}{'chipsr reads/s':>16}")
        for bam in bams:
            n = count_reads(bam)
            for threads in (1, 2):
                ours = timed([*chipsr, "coverage", str(bam), "-o", str(work / "c.bw"), "--bin-size", "25",
                              "--extend-reads", "200", "-p", str(threads)], args.repeat)
                theirs = float("nan")
                if have_bc:
                    theirs = timed([args.bamcoverage, "-b", str(bam), "-o", str(work / "d.bw"), "--binSize", "25",
                                    "--extendReads", "200", "-p", str(threads)], args.repeat)
                print(f"{bam.name[:33]:<34}{n:>10}{threads:>8}{ours:>9.2f}{theirs:>13.2f}{theirs / ours:>8.2f}x"
                      f"{n / ours:>16,.0f}")
        print("\n== BED fragments -> bigWig, 25-bp bins and 1 bp (in-process, excludes interpreter start-up) ==")
        from chipsr import api

        for bed in (BED, scaled_bed(BED, 10, work)):
            for bin_size in (25, 1):
                times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    stats = api.coverage([bed], work / "b.bw", bin_size=bin_size, chrom_sizes=SIZES)
                    times.append(time.perf_counter() - t0)
                t = statistics.median(times)
                print(f"{bed.name[:45]:<46} bin {bin_size:>3} bp: {stats.n_reads:>10,} reads in {t:6.2f} s "
                      f"= {stats.n_reads / t:>12,.0f} reads/s")
    if not have_bc:
        print("\n(bamCoverage not found: `python -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install deeptools`)")


if __name__ == "__main__":
    main()
