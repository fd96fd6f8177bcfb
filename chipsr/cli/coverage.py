"""``chipsr coverage``."""

from __future__ import annotations

import functools

import click

from chipsr.api.chipseq import CoverageSettings
from chipsr.cli.options import (
    bin_size_option,
    blacklist_option,
    output_option,
    region_option,
    setting_option,
    threads_option,
)
from chipsr.cli.types import GuardedCommand

#: an option whose default and help are a field of :class:`chipsr.api.chipseq.CoverageSettings`
_setting = functools.partial(setting_option, CoverageSettings)


@click.command(cls=GuardedCommand)
@click.argument("reads", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option()
@bin_size_option(CoverageSettings)
@_setting("extend_reads", type=click.IntRange(min=0), is_flag=False, flag_value=0, metavar="[LEN]")
@_setting("normalize_using", type=click.Choice(["none", "CPM", "RPKM", "BPM", "RPGC"], case_sensitive=False))
@_setting("effective_genome_size", type=click.IntRange(min=1))
@_setting("min_mapq", type=click.IntRange(min=0))
@_setting("sam_flag_exclude", type=click.IntRange(min=0))
@_setting("ignore_duplicates", is_flag=True, show_default=False)
@blacklist_option
@region_option
@click.option("--chrom-sizes", type=click.Path(dir_okay=False), default=None,
              help="UCSC chrom sizes file (needed for BED reads; BAM headers are used otherwise).")
@click.option("--genome-fasta", type=click.Path(dir_okay=False), default=None,
              help="Genome FASTA to take chromosome sizes from (via pyfaidx).")
@_setting("skip_unknown_chroms", is_flag=True, show_default=False)
@threads_option(CoverageSettings)
@_setting("out_format", type=click.Choice(["bigwig", "bedgraph"]))
def coverage(reads, output, blacklist, region, chrom_sizes, genome_fasta, **options) -> None:
    """Merge one mark's READS (BAM and/or BED, plain or gzipped) into a coverage bigWig/bedGraph.

    Each bin holds the mean per-bp fragment depth over its bases (Coda's averaging); with
    --bin-size 1 this is the per-base pileup of `macs3 pileup` and `bamCoverage --binSize 1`.
    The last bin of a chromosome is truncated at the chromosome end.
    """
    from chipsr import api

    stats = api.coverage(list(reads), output, blacklist=blacklist, region=region, chrom_sizes=chrom_sizes,
                         genome_fasta=genome_fasta, **options)
    click.echo(f"{stats.n_reads} reads, scale factor {stats.scale:.6g} -> {output}", err=True)
