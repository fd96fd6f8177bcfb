"""``chipsr report``."""

from __future__ import annotations

import click

from chipsr.cli.options import output_option
from chipsr.cli.types import GuardedCommand, OutputDir, OutputPath


@click.command(cls=GuardedCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--evaluation", "evaluations", multiple=True, required=True, metavar="MARK=EVAL.json",
              help="A target mark and its `chipsr evaluate` JSON; repeatable, in row order.")
@click.option("--depth-evaluation", "depth_evaluations", multiple=True, metavar="MARK:DEPTH=EVAL.json",
              help="`chipsr evaluate` JSON of MARK's model applied to inputs at DEPTH x the training input's reads "
                   "(e.g. H3K27ac:0.25=eval.json); repeatable: the input-depth table.")
@output_option(help="Markdown report.")
@click.option("--hub-dir", type=OutputDir(("hub.txt", "genomes.txt", "igv_session.xml", "{genome}/trackDb.txt")),
              default=None,
              help="Also write a UCSC track hub and an IGV session of all tracks here.")
@click.option("--genome", default="hg19", show_default=True, help="UCSC assembly name for the hub and IGV.")
@click.option("--peak-file", "peak_files", multiple=True, metavar="LABEL=PEAKS",
              help="A peak file (e.g. `chipsr peaks` of a denoised track) added to the IGV session; repeatable. "
                   "The evaluations' truth and MACS3 peak files are added anyway.")
@click.option("--html", type=OutputPath(), default=None, metavar="PAGE.html",
              help="Also write a self-contained report page (tables, figures and an igv.js genome browser with the "
                   "data embedded; opens from disk, no internet).")
@click.option("--training-log", "training_logs", multiple=True, metavar="MARK.ARCH[.seedN]=EPOCHS.tsv",
              help="A model's per-epoch log (`chipsr train` writes MODEL.epochs.tsv): training curves on the --html page.")
def report(evaluations, depth_evaluations, output, hub_dir, genome, peak_files, html, training_logs) -> None:
    """Aggregate per-mark evaluations into one Table-2-shaped report (+ genome-browser files)."""
    from chipsr import api

    pairs = {}
    for item in evaluations:
        if "=" not in item:
            raise click.BadParameter(f"expected MARK=EVAL.json, got {item!r}", param_hint="--evaluation")
        mark, path = item.split("=", 1)
        pairs[mark] = path
    depths: dict[str, dict[str, str]] = {}
    for item in depth_evaluations:
        key, sep, path = item.partition("=")
        mark, colon, label = key.rpartition(":")
        try:
            ok = bool(sep and colon and mark and path) and float(label) > 0
        except ValueError:
            ok = False
        if not ok:
            raise click.BadParameter(f"expected MARK:DEPTH=EVAL.json with DEPTH > 0, got {item!r}",
                                     param_hint="--depth-evaluation")
        depths.setdefault(mark, {})[label] = path
    peaks = _labelled(peak_files, "--peak-file", "LABEL=PEAKS")
    logs = _labelled(training_logs, "--training-log", "MARK.ARCH=EPOCHS.tsv")
    table = api.report(pairs, output, hub_dir=hub_dir, genome=genome, depth_evaluations=depths,
                       peak_files=peaks or None, html=html, training_logs=logs or None)
    click.echo(f"{len(table)} marks -> {output}", err=True)


def _labelled(items, option: str, form: str) -> dict[str, str]:
    """``LABEL=PATH`` items of a repeatable option -> {label: path}; a bad item is a usage error."""
    out = {}
    for item in items:
        label, sep, path = item.partition("=")
        if not (sep and label.strip() and path.strip()):
            raise click.BadParameter(f"expected {form}, got {item!r}", param_hint=option)
        out[label.strip()] = path.strip()
    return out
