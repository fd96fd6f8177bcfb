"""``chipsr report``."""

from __future__ import annotations

import click

from chipsr.api.chipseq import ReportSettings
from chipsr.cli.options import output_option, setting_option
from chipsr.cli.types import GuardedCommand, NamedPath, OutputDir, OutputPath


def _mark_depth(key: str) -> tuple[str, str]:
    """``MARK:DEPTH`` -> (mark, depth label); ValueError unless DEPTH is a number > 0."""
    mark, colon, label = key.rpartition(":")
    if not (colon and mark and float(label) > 0):
        raise ValueError(key)
    return mark, label


@click.command(cls=GuardedCommand)
@click.option("--evaluation", "evaluations", multiple=True, required=True, type=NamedPath("MARK=EVAL.json"),
              help="A target mark and its `chipsr evaluate` JSON; repeatable, in row order.")
@click.option("--depth-evaluation", "depth_evaluations", multiple=True,
              type=NamedPath("MARK:DEPTH=EVAL.json", key=_mark_depth),
              help="`chipsr evaluate` JSON of MARK's model applied to inputs at DEPTH x the training input's reads "
                   "(e.g. H3K27ac:0.25=eval.json); repeatable: the input-depth table.")
@output_option(help="Markdown report.")
@click.option("--hub-dir", type=OutputDir(("hub.txt", "genomes.txt", "igv_session.xml", "{genome}/trackDb.txt")),
              default=None,
              help="Also write a UCSC track hub and an IGV session of all tracks here.")
@setting_option(ReportSettings, "genome")
@click.option("--peak-file", "peak_files", multiple=True, type=NamedPath("LABEL=PEAKS"),
              help="A peak file (e.g. `chipsr peaks` of a denoised track) added to the IGV session; repeatable. "
                   "The evaluations' truth and MACS3 peak files are added anyway.")
@click.option("--html", type=OutputPath(), default=None, metavar="PAGE.html",
              help="Also write a self-contained report page (tables, figures and an igv.js genome browser with the "
                   "data embedded; opens from disk, no internet).")
@click.option("--training-log", "training_logs", multiple=True, type=NamedPath("MARK.ARCH[.seedN]=EPOCHS.tsv"),
              help="A model's per-epoch log (`chipsr train` writes MODEL.epochs.tsv): training curves on the --html page.")
def report(evaluations, depth_evaluations, output, hub_dir, peak_files, html, training_logs, **options) -> None:
    """Aggregate per-mark evaluations into one Table-2-shaped report (+ genome-browser files)."""
    from chipsr import api

    depths: dict[str, dict[str, str]] = {}
    for (mark, label), path in depth_evaluations:
        depths.setdefault(mark, {})[label] = path
    peaks, logs = dict(peak_files), dict(training_logs)
    table = api.report(dict(evaluations), output, hub_dir=hub_dir, depth_evaluations=depths, peak_files=peaks or None,
                       html=html, training_logs=logs or None, **options)
    click.echo(f"{len(table)} marks -> {output}", err=True)

