"""``chipsr audio``: audio super-resolution (train / upsample / evaluate / tfr / export).

Each command parses its options and calls one function of :mod:`chipsr.api.audio`; option defaults
and help come from that module's settings dataclasses (:func:`chipsr.cli.options.setting_option`).
"""

from __future__ import annotations

import click

from chipsr.api import audio as api
from chipsr.cli.options import (
    device_option,
    output_option,
    seed_option,
    setting_option,
    threads_option,
)
from chipsr.cli.types import GuardedGroup, renamed_options


def _train_option(name: str, *decls: str, **kwargs):
    return setting_option(api.TrainSettings, name, *decls, **kwargs)


@click.group(cls=GuardedGroup)
def audio() -> None:
    """Audio super-resolution: train a model, upsample recordings, evaluate against baselines.

    \b
    chipsr audio train --data DIR --ratio 4 -o model.pt
    chipsr audio upsample low.wav -o high.wav --model model.pt
    chipsr audio evaluate --model model.pt --data DIR -o report
    chipsr audio tfr speech.wav -o tfr.png
    """


@renamed_options({"--depth": "--unet-depth"})
@audio.command()
@click.option("--data", multiple=True, required=True,
              help="Directory (searched recursively), audio file or list file (one path per line); repeatable.")
@output_option(suffixes=(".epochs.tsv", ".splits.json"))
@_train_option("ratio", type=click.IntRange(min=2))
@_train_option("arch", type=click.Choice(["tfilm", "audiounet", "dnn"]))
@_train_option("rate", type=click.IntRange(min=1000))
@_train_option("lowres", type=click.Choice(["decimate", "aliased"]))
@_train_option("patch", type=click.IntRange(min=256))
@_train_option("stride", type=click.IntRange(min=1))
@_train_option("valid_fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True))
@_train_option("width", type=click.FloatRange(min=0, min_open=True))
@_train_option("depth", "--unet-depth", type=click.IntRange(min=1))
@_train_option("blocks", type=click.IntRange(min=1))
@_train_option("backbone", type=click.Choice(["stride", "pool"]))
@_train_option("dropout", type=click.FloatRange(0, 1))
@_train_option("epochs", type=click.IntRange(min=1))
@_train_option("samples_per_epoch", type=click.IntRange(min=1))
@_train_option("time_limit_min", "--time-limit", type=click.FloatRange(min=0, min_open=True))
@_train_option("batch_size", type=click.IntRange(min=1))
@_train_option("lr", type=click.FloatRange(min=0, min_open=True))
@_train_option("loss", type=click.Choice(["rmse", "mse", "l1"]))
@_train_option("tf_loss", type=click.Choice(["none", "lwvd"]))
@_train_option("tf_loss_weight", type=click.FloatRange(min=0))
@_train_option("patience", type=click.IntRange(min=1))
@_train_option("resume", is_flag=True, show_default=False)
@seed_option(api.TrainSettings)
@device_option(api.TrainSettings)
@threads_option(api.TrainSettings)
def train(data, output, **options) -> None:
    """Train a super-resolution model on high-res recordings (pairs made on the fly).

    Writes the checkpoint (-o), OUTPUT.epochs.tsv (validation SNR and LSD per epoch) and
    OUTPUT.splits.json (the speaker-disjoint train/validation split).
    """
    s = api.train(list(data), output, **options)
    click.echo(f"best epoch {s['best_epoch']}: valid SNR {s['valid_snr_db']:.2f} dB, LSD {s['valid_lsd']:.3f} "
               f"({s['train_patches']} patches, {s['parameters']:,} parameters) -> {output}", err=True)


@audio.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@output_option()
@click.option("--model", required=True, type=click.Path(dir_okay=False), help="Checkpoint from `chipsr audio train`.")
@setting_option(api.UpsampleSettings, "ratio", type=click.IntRange(min=2))
@setting_option(api.UpsampleSettings, "batch_size", type=click.IntRange(min=1))
@device_option(api.UpsampleSettings)
@threads_option(api.UpsampleSettings)
def upsample(input_path, output, model, **options) -> None:
    """Super-resolve INPUT (any rate below the model's, any length, mono or multichannel).

    The output is written at the model's high rate (.wav/.flac 16-bit PCM, .ogg Vorbis).
    """
    s = api.upsample(input_path, output, model, **options)
    click.echo(f"{s['audio_seconds']:.1f} s at {s['output_rate']} Hz in {s['compute_seconds']:.1f} s "
               f"(real-time factor {s['real_time_factor']:.3f}) -> {output}", err=True)


@audio.command()
@click.option("--model", "models", multiple=True, required=True,
              help="Checkpoint, or NAME=checkpoint; repeatable (models of one ratio and rate).")
@click.option("--data", multiple=True, required=True, help="Held-out high-res recordings (dir / file / list).")
@output_option(suffixes=(".tsv", ".json", ".md", ".png", ".tfr.png"), prefix=True, dest="prefix", metavar="PREFIX",
               help="Output prefix: PREFIX.tsv, .json, .md, .png (spectrograms), .tfr.png (learnable WVD).")
@setting_option(api.EvaluateSettings, "max_files", type=click.IntRange(min=1))
@setting_option(api.EvaluateSettings, "figure_file")
@setting_option(api.EvaluateSettings, "lowres", type=click.Choice(["decimate", "aliased"]))
@seed_option(api.EvaluateSettings)
@device_option(api.EvaluateSettings)
@threads_option(api.EvaluateSettings)
def evaluate(models, data, prefix, **options) -> None:
    """SNR and LSD (log10 and the reference's ln) of models vs spline, sinc and noise fill."""
    report = api.evaluate(models, list(data), prefix, **options)
    for name, mean in report["mean"].items():
        click.echo(f"{name:>12}: SNR {mean['snr_db']:6.2f} dB  LSD {mean['lsd_log10']:.3f} (log10) "
                   f"{mean['lsd_ln_ref']:.3f} (ln, ref)", err=True)


@audio.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@output_option()
@setting_option(api.TfrSettings, "filters", type=click.IntRange(min=1))
@setting_option(api.TfrSettings, "channel", type=click.IntRange(min=0))
def tfr(input_path, output, **options) -> None:
    """Draw a file's learnable Wigner-Ville map and its filters' ellipses as a PNG."""
    api.tfr(input_path, output, **options)
    click.echo(f"-> {output}", err=True)


@audio.command()
@click.argument("model", type=click.Path(dir_okay=False))
@output_option()
@click.option("--half", is_flag=True, help="Store the weights as float16 (half the size).")
def export(model, output, half) -> None:
    """Write a small copy of MODEL for shipping: best weights and metadata, no training state."""
    api.export(model, output, half=half)
    click.echo(f"-> {output}", err=True)
