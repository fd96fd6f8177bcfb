"""``chipsr export``."""

from __future__ import annotations

import click

from chipsr.cli.options import output_option
from chipsr.cli.types import GuardedCommand


@click.command(cls=GuardedCommand)
@click.argument("model", type=click.Path(dir_okay=False))
@output_option(help="The small checkpoint (written atomically).")
@click.option("--half", is_flag=True, help="Store the weights as float16 (half the size; loaded back as float32).")
def export(model, output, half) -> None:
    """Write a small copy of MODEL for sharing (best weights and card, no training state).

    About a third of the size; with --half a sixth. `chipsr info` reads it, `chipsr denoise` uses it."""
    from chipsr import api

    api.export(model, output, half=half)
    click.echo(f"-> {output}", err=True)
