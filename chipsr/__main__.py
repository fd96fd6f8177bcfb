"""``python -m chipsr`` runs the command line."""

from chipsr.cli.main import cli

cli()
