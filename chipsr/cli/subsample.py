"""``chipsr subsample``."""

from __future__ import annotations

import functools

import click

from chipsr.api.chipseq import SubsampleSettings
from chipsr.cli.options import output_option, seed_option, setting_option
from chipsr.cli.types import GuardedCommand

#: an option whose default and help are a field of :class:`chipsr.api.chipseq.SubsampleSettings`
_setting = functools.partial(setting_option, SubsampleSettings)


@click.command(cls=GuardedCommand)
@click.argument("reads", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option(suffixes=(".bai",))
@_setting("n_reads", "--reads", type=click.IntRange(min=1), show_default=False)
@_setting("fraction", type=click.FloatRange(0, 1, min_open=True))
@seed_option(SubsampleSettings)
def subsample(reads, output, **options) -> None:
    """Subsample READS (BAM, or BED3/BED6/tagAlign, plain or gzipped) to N templates or a fraction.

    Several files (replicates of one mark; all BAM or all BED) are pooled first, so N is drawn
    from all of them; BAMs must share their reference sequences. Mates stay together. The output
    has the input's format (BAM: one coordinate-sorted, indexed file). The same inputs and seed
    give a byte-identical output.
    """
    from chipsr import api

    stats = api.subsample(list(reads), output, **options)
    click.echo(f"kept {stats.kept} of {stats.total} templates -> {output}", err=True)
