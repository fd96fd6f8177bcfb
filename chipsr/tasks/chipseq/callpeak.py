"""``chipsr callpeak``: ``macs3 callpeak`` on reads, as a lab runs it on its own reads, with the
traps handled: replicates pooled, BED reads handed over tab-separated (MACS3's BED parsers split on
tabs only, and some published BEDs are space-separated), MACS3's format read from the file, its
genome size derived from the chromosomes the reads cover, duplicates kept (chipsr's coverage keeps
them too), and only the peak file kept, written atomically; MACS3's other outputs stay in a
temporary folder that is removed on every exit path.

Reference: Zhang et al. 2008, "Model-based Analysis of ChIP-Seq (MACS)", Genome Biology 9:R137;
MACS3 ``callpeak`` (https://macs3-project.github.io/MACS/docs/callpeak.html).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from chipsr.errors import ChipsrInputError

log = logging.getLogger(__name__)

#: a MACS3 cutoff: q-value (``q0.05``) or p-value (``p1e-3``)
CUTOFF = re.compile(r"^([qp])([0-9.eE+-]+)$")


def macs3_program() -> str:
    """The ``macs3`` program beside this Python (a virtual environment's ``bin/``), else on PATH.

    Raises
    ------
    ChipsrInputError
        MACS3 is not installed.
    """
    beside = Path(sys.executable).with_name("macs3")
    found = str(beside) if beside.is_file() else shutil.which("macs3")
    if not found:
        from chipsr.tasks.chipseq.peaks import MACS3_HINT

        raise ChipsrInputError(f"macs3 is not installed: {MACS3_HINT}")
    return found


def callpeak(reads: Sequence[str | os.PathLike], output: str | os.PathLike, *, peak_type: str = "narrow",
             cutoff: str = "q0.05", genome_size: int | None = None, chrom_sizes: str | os.PathLike | None = None,
             blacklist: str | os.PathLike | None = None, fmt: str = "AUTO", broad_cutoff: float = 0.1,
             name: str | None = None) -> dict:
    """Call peaks on reads with ``macs3 callpeak`` and write its narrowPeak or broadPeak file.

    Parameters
    ----------
    reads : sequence of path
        BAM or BED reads of one mark (replicates, all of one format), pooled.
    output : path
        The narrowPeak (``peak_type`` narrow) or broadPeak file; written atomically.
    peak_type : {"narrow", "broad"}
        ``broad`` adds MACS3's ``--broad --broad-cutoff broad_cutoff``.
    cutoff : str
        ``qX`` (``-q X``) or ``pX`` (``-p X``).
    genome_size : int or None
        MACS3's ``-g`` (bp). None: the chromosomes with reads outside the blacklist
        (:func:`chipsr.tasks.chipseq.genome.effective_genome_size`), which needs ``chrom_sizes``
        for BED reads (a BAM's header gives its own).
    chrom_sizes, blacklist : path or None
        For the derived genome size.
    fmt : str
        MACS3's ``-f``; ``AUTO``: :func:`chipsr.tasks.chipseq.genome.macs3_format` of the first file.
    name : str or None
        MACS3's ``-n`` (the peaks' name prefix); default the output's file name up to its first dot.

    Returns
    -------
    dict
        ``peaks`` (count), ``genome_size``, ``format``, ``command`` (MACS3's arguments).

    Raises
    ------
    ChipsrInputError
        No reads, BAM and BED mixed, a bad cutoff or peak type, no chromosome sizes for a derived
        genome size of BED reads, MACS3 missing, or MACS3 failing (its last message line).
    """
    from chipsr.io.atomic import atomic_output, check_output_path, require_distinct
    from chipsr.io.reads import sniff_reads_format, write_tab_separated_reads
    from chipsr.tasks.chipseq.genome import macs3_format

    reads = [Path(p) for p in reads]
    if not reads:
        raise ChipsrInputError("no reads file given")
    require_distinct(reads, "READS")
    match = CUTOFF.match(str(cutoff))
    if not match:
        raise ChipsrInputError(f"--cutoff {cutoff!r}: expected qVALUE or pVALUE (e.g. q0.05, p1e-3)")
    if peak_type not in ("narrow", "broad"):
        raise ChipsrInputError(f"--peak-type must be narrow or broad, got {peak_type!r}")
    out = check_output_path(output)
    formats = {sniff_reads_format(p) for p in reads}
    if len(formats) > 1:
        raise ChipsrInputError(f"the reads mix BAM and BED ({', '.join(map(str, reads))}); give one format")
    fmt = macs3_format(reads[0]) if fmt.upper() == "AUTO" else fmt
    if genome_size is None:
        genome_size = _derived_genome_size(reads, chrom_sizes, blacklist, formats.pop())
    program = macs3_program()
    name = name or out.name.split(".")[0]
    ext = "broadPeak" if peak_type == "broad" else "narrowPeak"
    with tempfile.TemporaryDirectory(prefix=".chipsr-macs3-", dir=out.parent) as work:
        inputs = [str(p) for p in reads]
        if not fmt.startswith("BAM"):  # one tab-separated copy (MACS3 splits BED on tabs only)
            inputs = [str(write_tab_separated_reads(reads, Path(work) / "reads.bed"))]
        args = ["callpeak", "-t", *inputs, "-f", fmt, "-g", str(int(genome_size)), "-n", name, "--outdir", work,
                "--keep-dup", "all", f"-{match[1]}", match[2]]
        if peak_type == "broad":
            args += ["--broad", "--broad-cutoff", str(broad_cutoff)]
        log.info("macs3 %s", " ".join(args))
        done = subprocess.run([program, *args], capture_output=True, text=True)
        for line in done.stderr.splitlines():
            log.debug("macs3: %s", line)
        if done.returncode != 0:
            last = next((ln for ln in reversed(done.stderr.splitlines()) if ln.strip()), "no message")
            raise ChipsrInputError(f"macs3 callpeak failed on {', '.join(map(str, reads))}: {last.strip()[:300]}")
        produced = Path(work) / f"{name}_peaks.{ext}"
        with atomic_output(out) as tmp:
            shutil.copyfile(produced, tmp)
        n = len(out.read_text().splitlines())
    log.info("%d %s peaks -> %s", n, peak_type, out)
    return {"peaks": n, "genome_size": int(genome_size), "format": fmt, "command": ["macs3", *args]}


def _derived_genome_size(reads, chrom_sizes, blacklist, fmt: str) -> int:
    """MACS3's ``-g`` from the chromosomes with reads outside the blacklist (sizes from ``chrom_sizes``,
    or a BAM's header)."""
    from chipsr.io.genome import read_bed_intervals, read_chrom_sizes
    from chipsr.tasks.chipseq.genome import effective_genome_size, reads_chromosomes

    if chrom_sizes is not None:
        sizes = read_chrom_sizes(chrom_sizes)
    elif fmt == "bam":
        from chipsr.io.reads import bam_header

        sizes = {sq["SN"]: int(sq["LN"]) for sq in bam_header(reads[0]).get("SQ", [])}
    else:
        raise ChipsrInputError("give --genome-size, or --chrom-sizes to derive it from the chromosomes with reads")
    chroms = reads_chromosomes(reads)
    return effective_genome_size(sizes, chroms, read_bed_intervals(blacklist) if blacklist is not None else None)
