"""``chipsr gather``."""

from __future__ import annotations

import click

from chipsr.cli.options import output_option
from chipsr.cli.types import GuardedCommand


@click.command(cls=GuardedCommand)
@click.argument("shards", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option()
def gather(shards, output) -> None:
    """Merge SHARDS of one denoised track (`chipsr denoise --region CHR`, one per chromosome) into one bigWig.

    Each chromosome must come from one shard, and all shards share the header. With whole chromosomes per
    shard the result is byte-for-byte what one unsharded `chipsr denoise` writes, so a cluster can denoise
    chromosomes in parallel.
    """
    from chipsr import api

    stats = api.gather(list(shards), output)
    click.echo(f"{len(stats['chroms'])} chromosome(s) from {len(shards)} shard(s) -> {output}", err=True)
