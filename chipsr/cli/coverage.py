"""``chipsr coverage``."""

from __future__ import annotations

import click

from chipsr.cli.options import (
    bin_size_option,
    blacklist_option,
    output_option,
    region_option,
    threads_option,
)
from chipsr.cli.types import GuardedCommand


@click.command(cls=GuardedCommand)
@click.argument("reads", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option()
@bin_size_option
@click.option("--extend-reads", type=int, default=None, is_flag=False, flag_value=0, metavar="[LEN]",
              help="Extend single-end reads to LEN bp in their strand direction; BAM pairs and BED3 rows "
                   "are used as fragments. Without LEN: pairs/fragments only.")
@click.option("--normalize-using", type=click.Choice(["none", "CPM", "RPKM", "BPM", "RPGC"], case_sensitive=False),
              default="none", show_default=True, help="Scaling, as deepTools bamCoverage defines it.")
@click.option("--effective-genome-size", type=click.IntRange(min=1), default=None,
              help="Mappable genome size in bp (for RPGC).")
@click.option("--min-mapq", type=click.IntRange(min=0), default=0, show_default=True,
              help="Skip BAM alignments with lower MAPQ.")
@click.option("--sam-flag-exclude", type=click.IntRange(min=0), default=0, show_default=True,
              help="Skip BAM alignments with any of these flag bits (unmapped reads are always skipped).")
@click.option("--ignore-duplicates", is_flag=True,
              help="Count reads with the same start, strand (and mate) once (deepTools' rule).")
@blacklist_option
@region_option
@click.option("--chrom-sizes", type=click.Path(dir_okay=False), default=None,
              help="UCSC chrom sizes file (needed for BED reads; BAM headers are used otherwise).")
@click.option("--genome-fasta", type=click.Path(dir_okay=False), default=None,
              help="Genome FASTA to take chromosome sizes from (via pyfaidx).")
@click.option("--skip-unknown-chroms", is_flag=True,
              help="Drop reads on chromosomes absent from the sizes (with a warning) instead of failing.")
@threads_option
@click.option("--out-format", type=click.Choice(["bigwig", "bedgraph"]), default=None,
              help="Output format [default: from the suffix of -o; bigwig].")
def coverage(reads, output, bin_size, extend_reads, normalize_using, effective_genome_size, min_mapq,
             sam_flag_exclude, ignore_duplicates, blacklist, region, chrom_sizes, genome_fasta,
             skip_unknown_chroms, threads, out_format) -> None:
    """Merge one mark's READS (BAM and/or BED, plain or gzipped) into a coverage bigWig/bedGraph.

    Each bin holds the mean per-bp fragment depth over its bases (Coda's averaging); with
    --bin-size 1 this is the per-base pileup of `macs3 pileup` and `bamCoverage --binSize 1`.
    The last bin of a chromosome is truncated at the chromosome end.
    """
    from chipsr import api

    if extend_reads is not None and extend_reads < 0:
        raise click.BadParameter(f"must be >= 0 bp, got {extend_reads}", param_hint="--extend-reads")
    norm = {"none": "none", "cpm": "CPM", "rpkm": "RPKM", "bpm": "BPM", "rpgc": "RPGC"}[normalize_using.lower()]
    stats = api.coverage(
        list(reads), output, bin_size=bin_size, extend_reads=extend_reads, normalize_using=norm,
        effective_genome_size=effective_genome_size, min_mapq=min_mapq, sam_flag_exclude=sam_flag_exclude,
        ignore_duplicates=ignore_duplicates, blacklist=blacklist, region=region, chrom_sizes=chrom_sizes,
        genome_fasta=genome_fasta, skip_unknown_chroms=skip_unknown_chroms, threads=threads,
        out_format=out_format,
    )
    click.echo(f"{stats.n_reads} reads, scale factor {stats.scale:.6g} -> {output}", err=True)
