"""What a run needs to know about its reads and the genome they cover, read from the reads and the
chromosome sizes instead of being typed in: the chromosomes that hold reads, MACS3's effective genome
size and MACS3's name for the reads' format.

A chr22-only example and a whole genome then take the same configuration: the workflow refuses a
region on a chromosome without reads, reads whose chromosome names do not match the sizes (``22`` vs
``chr22``), and a MACS3 genome size far from the genome the reads cover.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from chipsr.errors import ChipsrInputError


def reads_chromosomes(paths: Iterable[str | os.PathLike], cache: str | os.PathLike | None = None) -> dict[str, int]:
    """Reads per chromosome, summed over reads files (BAM or BED; :func:`chipsr.io.reads.reads_per_chromosome`).

    Parameters
    ----------
    paths : iterable of path
        Reads files.
    cache : path or None
        A JSON file remembering each file's counts by its absolute path, size and modification time
        (so a workflow that checks its inputs every time it starts reads each file once).

    Returns
    -------
    dict of str to int
        Chromosome -> reads, for the chromosomes with at least one read.

    Raises
    ------
    ChipsrInputError
        A bad reads file (named).
    """
    from chipsr.io.reads import reads_per_chromosome

    known: dict = {}
    if cache is not None and Path(cache).is_file():
        try:
            known = json.loads(Path(cache).read_text())
        except (OSError, ValueError):
            known = {}
    total: dict[str, int] = {}
    changed = False
    for path in paths:
        st = os.stat(path)
        key = f"{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}"
        if key not in known:
            known[key], changed = reads_per_chromosome(path), True
        for chrom, n in known[key].items():
            total[chrom] = total.get(chrom, 0) + int(n)
    if cache is not None and changed:
        from chipsr.io.tables import write_text

        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        write_text(cache, json.dumps(known, indent=1))
    return total


def check_chromosome_names(path: str | os.PathLike, chroms: Mapping[str, int], sizes: Mapping[str, int],
                           sizes_file: str | os.PathLike) -> None:
    """Refuse reads whose chromosomes are not in the chromosome sizes (e.g. Ensembl's ``22`` against
    UCSC's ``chr22``), naming the reads file, the sizes file and an example of each naming style.

    Raises
    ------
    ChipsrInputError
        When none of the chromosomes with reads is in ``sizes``, or some are missing from it.
    """
    missing = [c for c in chroms if c not in sizes]
    if not missing:
        return
    example = next(iter(sizes), "?")
    style = ("" if missing[0].startswith("chr") == example.startswith("chr") else
             f" (the reads name chromosomes like {missing[0]!r}, the sizes like {example!r})")
    raise ChipsrInputError(f"{path}: reads on {len(missing)} chromosome(s) not in {sizes_file}, e.g. "
                           f"{missing[0]}{style}; use the sizes of the genome the reads are aligned to")


def effective_genome_size(sizes: Mapping[str, int], chroms: Iterable[str], blacklist: dict | None = None) -> int:
    """MACS3's ``-g`` for reads on ``chroms``: their total length outside the blacklist (bp).

    MACS3 (``macs3 callpeak -g``) wants the mappable genome size; the total length of the
    chromosomes that hold reads, less the blacklist, is the same order (hg19 chr1-22: 2.88 Gbp against
    MACS3's 2.7 Gbp for ``hs``) and follows whatever part of a genome the reads cover.

    Parameters
    ----------
    sizes : mapping of str to int
        Chromosome sizes (bp).
    chroms : iterable of str
        The chromosomes with reads (:func:`reads_chromosomes`).
    blacklist : dict or None
        Merged blacklist intervals (:func:`chipsr.io.genome.read_bed_intervals`).

    Returns
    -------
    int
        bp.
    """
    total = 0
    for chrom in chroms:
        if chrom not in sizes:
            continue
        blocked = 0
        if blacklist and chrom in blacklist:
            starts, ends = blacklist[chrom]
            blocked = int((ends.clip(max=sizes[chrom]) - starts.clip(max=sizes[chrom])).sum())
        total += sizes[chrom] - blocked
    return total


def macs3_format(path: str | os.PathLike) -> str:
    """MACS3's ``-f`` for a reads file: ``BAMPE`` for paired-end BAM, ``BAM``, ``BEDPE`` for a BED of
    fragments (3 columns, as ``chipsr coverage`` reads them: MACS3 then uses each row as a fragment),
    ``BED`` for reads with a strand (6 columns or more). From the first mapped record or data row.

    Raises
    ------
    ChipsrInputError
        A missing or unreadable reads file.
    """
    from chipsr.io.reads import is_header_line, iter_bam_records, open_binary, sniff_reads_format

    if sniff_reads_format(path) == "bam":
        first = next((r for r in iter_bam_records(path) if not r.is_unmapped), None)
        return "BAMPE" if first is not None and first.is_paired else "BAM"
    with open_binary(path) as fh:
        for line in fh:
            if line.strip() and not is_header_line(line):
                return "BED" if len(line.split()) >= 6 else "BEDPE"
    return "BEDPE"
