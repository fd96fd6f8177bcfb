"""``chipsr info``."""

from __future__ import annotations

import click

from chipsr.cli.options import output_option
from chipsr.cli.types import GuardedCommand


@click.command(cls=GuardedCommand)
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_option(required=False, help="Also write the card(s) to this YAML file (atomically) [default: stdout only].")
def info(models, output) -> None:
    """Print the model card of each checkpoint MODEL as YAML.

    The card: marks and references in input order, bin size, window, units, training depth range, data and
    regions, validation metrics, chipsr version."""
    from chipsr import api

    click.echo(api.info_yaml(models, output).rstrip())
