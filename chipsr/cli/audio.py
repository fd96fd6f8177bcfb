"""``chipsr audio``: audio super-resolution (train / upsample / evaluate / tfr)."""

from __future__ import annotations

import click

from chipsr.cli.types import GuardedGroup

from chipsr.cli.options import device_option, output_option, seed_option, torch_threads_option

_CTX = {"help_option_names": ["-h", "--help"]}


@click.group(cls=GuardedGroup, context_settings=_CTX)
def audio() -> None:
    """Audio super-resolution: train a model, upsample recordings, evaluate against baselines.

    \b
    chipsr audio train --data DIR --ratio 4 -o model.pt
    chipsr audio upsample low.wav -o high.wav --model model.pt
    chipsr audio evaluate --model model.pt --data DIR -o report
    chipsr audio tfr speech.wav -o tfr.png
    """


@audio.command(context_settings=_CTX)
@click.option("--data", multiple=True, required=True,
              help="Directory (searched recursively), audio file or list file (one path per line); repeatable.")
@output_option(suffixes=(".epochs.tsv", ".splits.json"))
@click.option("--ratio", type=click.IntRange(min=2), default=4, show_default=True, help="Upsampling ratio r.")
@click.option("--arch", type=click.Choice(["tfilm", "audiounet", "dnn"]), default="tfilm", show_default=True,
              help="TFiLM U-Net, AudioUNet (Kuleshov 2017) or the DNN baseline (Li 2015).")
@click.option("--rate", type=click.IntRange(min=1000), default=16000, show_default=True, help="High-res rate (Hz).")
@click.option("--lowres", type=click.Choice(["decimate", "aliased"]), default="decimate", show_default=True,
              help="decimate: order-8 Chebyshev low-pass + subsample (paper); aliased: x[::r] (reference recipe).")
@click.option("--patch", type=click.IntRange(min=256), default=8192, show_default=True, help="Patch length (samples).")
@click.option("--stride", type=click.IntRange(min=1), default=4096, show_default=True, help="Patch stride (samples).")
@click.option("--valid-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.1,
              show_default=True, help="Share of speakers held out for validation (split by speaker).")
@click.option("--width", type=click.FloatRange(min=0, min_open=True), default=0.125, show_default=True,
              help="Filter-count multiplier (1 = the paper's 128..512 filters, ~56-92M parameters).")
@click.option("--depth", type=click.IntRange(min=1), default=4, show_default=True, help="Down blocks (K).")
@click.option("--blocks", type=click.IntRange(min=1), default=32, show_default=True,
              help="TFiLM blocks per patch (32 in the paper).")
@click.option("--backbone", type=click.Choice(["stride", "pool"]), default="stride", show_default=True,
              help="TFiLM: strided convs (cheap) or the paper's dilated convs + max-pool.")
@click.option("--dropout", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--samples-per-epoch", type=click.IntRange(min=1), default=None,
              help="Patches drawn per epoch (default: all).")
@click.option("--time-limit", "time_limit_min", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after the epoch that ends past this many minutes.")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=3e-4, show_default=True)
@click.option("--loss", type=click.Choice(["rmse", "mse", "l1"]), default="rmse", show_default=True,
              help="Waveform loss (rmse = per-patch RMSE, the reference code's).")
@click.option("--tf-loss", type=click.Choice(["none", "lwvd"]), default="none", show_default=True,
              help="Add a learnable-WVD (fixed Gabor kernels) log-magnitude L1 loss.")
@click.option("--tf-loss-weight", type=click.FloatRange(min=0), default=0.02, show_default=True,
              help="Weight of the LWVD term (~0.02 makes it comparable to the RMSE on spline inputs).")
@click.option("--patience", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--resume", is_flag=True, help="Continue the training state stored in -o.")
@seed_option
@device_option
@torch_threads_option
def train(data, output, **options) -> None:
    """Train a super-resolution model on high-res recordings (pairs made on the fly).

    Writes the checkpoint (-o), OUTPUT.epochs.tsv (validation SNR and LSD per epoch) and
    OUTPUT.splits.json (the speaker-disjoint train/validation split).
    """
    from chipsr.tasks.audio import train as run

    options["tf_loss"] = None if options["tf_loss"] == "none" else options["tf_loss"]
    s = run(list(data), output, **options)
    click.echo(f"best epoch {s['best_epoch']}: valid SNR {s['valid_snr_db']:.2f} dB, LSD {s['valid_lsd']:.3f} "
               f"({s['train_patches']} patches, {s['parameters']:,} parameters) -> {output}", err=True)


@audio.command(context_settings=_CTX)
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@output_option()
@click.option("--model", required=True, type=click.Path(dir_okay=False), help="Checkpoint from `chipsr audio train`.")
@click.option("--ratio", type=click.IntRange(min=2), default=None,
              help="Check that the model upsamples by this ratio (error otherwise).")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@device_option
@torch_threads_option
def upsample(input_path, output, model, ratio, **options) -> None:
    """Super-resolve INPUT (any rate below the model's, any length, mono or multichannel).

    The output is written at the model's high rate (.wav/.flac 16-bit PCM, .ogg Vorbis).
    """
    from chipsr.tasks.audio import upsample as run

    s = run(input_path, output, model, ratio=ratio, **options)
    click.echo(f"{s['audio_seconds']:.1f} s at {s['output_rate']} Hz in {s['compute_seconds']:.1f} s "
               f"(real-time factor {s['real_time_factor']:.3f}) -> {output}", err=True)


@audio.command(context_settings=_CTX)
@click.option("--model", "models", multiple=True, required=True,
              help="Checkpoint, or NAME=checkpoint; repeatable (models of one ratio and rate).")
@click.option("--data", multiple=True, required=True, help="Held-out high-res recordings (dir / file / list).")
@output_option(suffixes=(".tsv", ".json", ".md", ".png", ".tfr.png"), prefix=True, dest="prefix", metavar="PREFIX",
               help="Output prefix: PREFIX.tsv, .json, .md, .png (spectrograms), .tfr.png (learnable WVD).")
@click.option("--max-files", type=click.IntRange(min=1), default=None, help="Only the first N files.")
@click.option("--figure-file", default=None, help="File drawn in the figures (default: the first).")
@click.option("--lowres", type=click.Choice(["decimate", "aliased"]), default=None,
              help="Make the low-res input this way instead of as the models were trained (mismatch test).")
@seed_option
@device_option
@torch_threads_option
def evaluate(models, data, prefix, **options) -> None:
    """SNR and LSD (log10 and the reference's ln) of models vs spline, sinc and noise fill."""
    from pathlib import Path

    from chipsr.tasks.audio import evaluate as run

    named = []
    for m in models:
        name, _, path = m.rpartition("=") if "=" in m else (Path(m).stem, "", m)
        named.append((name, path))
    report = run(named, list(data), prefix, **options)
    for name, mean in report["mean"].items():
        click.echo(f"{name:>12}: SNR {mean['snr_db']:6.2f} dB  LSD {mean['lsd_log10']:.3f} (log10) "
                   f"{mean['lsd_ln_ref']:.3f} (ln, ref)", err=True)


@audio.command(context_settings=_CTX)
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@output_option()
@click.option("--filters", type=click.IntRange(min=1), default=64, show_default=True, help="Number of filters K.")
@click.option("--channel", type=click.IntRange(min=0), default=None, help="Channel to draw (default: the mono mix).")
def tfr(input_path, output, filters, channel) -> None:
    """Draw a file's learnable Wigner-Ville map and its filters' ellipses as a PNG."""
    from chipsr.errors import ChipsrInputError
    from chipsr.io.audio import read_audio
    from chipsr.tasks.tfr import plot_tfr

    data, rate = read_audio(input_path)
    if channel is not None and channel >= data.shape[1]:
        raise ChipsrInputError(f"{input_path}: --channel {channel} but the file has {data.shape[1]} channel(s)")
    x = data[:, channel] if channel is not None else data.mean(axis=1)
    plot_tfr(x, rate, output, n_filters=filters)
    click.echo(f"-> {output}", err=True)


@audio.command(context_settings=_CTX)
@click.argument("model", type=click.Path(dir_okay=False))
@output_option()
@click.option("--half", is_flag=True, help="Store the weights as float16 (half the size).")
def export(model, output, half) -> None:
    """Write a small copy of MODEL for shipping: best weights and metadata, no training state."""
    from chipsr.io.checkpoint import export_checkpoint

    export_checkpoint(model, output, half=half)
    click.echo(f"-> {output}", err=True)
