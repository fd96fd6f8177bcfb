"""``chipsr subsample``."""

from __future__ import annotations

import click

from chipsr.cli.options import output_option, seed_option
from chipsr.cli.types import GuardedCommand


@click.command(cls=GuardedCommand)
@click.argument("reads", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option(suffixes=(".bai",))
@click.option("--reads", "n_reads", type=int, default=None,
              help="Keep exactly N templates (reads or read pairs) [default: 1000000 unless --fraction].")
@click.option("--fraction", type=float, default=None, help="Keep each template with probability F in (0, 1].")
@seed_option
def subsample(reads: str, output: str, n_reads: int | None, fraction: float | None, seed: int) -> None:
    """Subsample READS (BAM, or BED3/BED6/tagAlign, plain or gzipped) to N templates or a fraction.

    Several files (replicates of one mark; all BAM or all BED) are pooled first, so N is drawn
    from all of them; BAMs must share their reference sequences. Mates stay together. The output
    has the input's format (BAM: one coordinate-sorted, indexed file). The same inputs and seed
    give a byte-identical output.
    """
    from chipsr import api

    if n_reads is not None and fraction is not None:
        raise click.UsageError("give --reads or --fraction, not both")
    if n_reads is None and fraction is None:
        n_reads = 1_000_000
    if n_reads is not None and n_reads < 1:
        raise click.BadParameter(f"must be >= 1, got {n_reads}", param_hint="--reads")
    stats = api.subsample(list(reads) if len(reads) > 1 else reads[0], output, n_reads=n_reads, fraction=fraction, seed=seed)
    click.echo(f"kept {stats.kept} of {stats.total} templates -> {output}", err=True)
