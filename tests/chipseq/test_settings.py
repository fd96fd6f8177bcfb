"""One source for every setting: `chipsr train`'s defaults, the workflow's default and the shipped
models agree; the workflow's train: map is checked against the settings."""

from __future__ import annotations

from dataclasses import fields

import pytest
import yaml

from chipsr.api import TrainSettings, train_settings_from_map
from chipsr.cli.main import cli
from chipsr.errors import ChipsrInputError

from builders import REPO

ROOT = REPO
REQUIRED = ["--marks", "a.bw", "--target", "t.bw", "-o", "m.pt", "--train-region", "chr1", "--valid-region", "chr2"]


def _train_command():
    return cli.get_command(None, "train")


def _cli_settings(*extra: str) -> TrainSettings:
    """The TrainSettings `chipsr train` passes on, parsed from the command line (nothing runs)."""
    command = _train_command()
    ctx = command.make_context("train", [*REQUIRED, *extra])
    names = {f.name for f in fields(TrainSettings)}
    return TrainSettings(**{k: v for k, v in ctx.params.items() if k in names})


def test_cli_defaults_are_the_settings_defaults():
    assert _cli_settings() == TrainSettings()


def test_workflow_default_trains_what_chipsr_train_trains():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for arch in config["archs"]:
        assert train_settings_from_map(config.get("train"), arch) == TrainSettings(arch=arch).resolved()


@pytest.mark.parametrize("card", sorted((ROOT / "examples" / "models").glob("*.pt")), ids=lambda p: p.name)
def test_shipped_models_are_the_default_network_and_recipe(card):
    import torch

    from chipsr.core.models import count_parameters, model_from_checkpoint
    from chipsr.tasks.chipseq.model import build_chipseq_model

    checkpoint = torch.load(card, weights_only=False)
    saved = checkpoint["normalization"]["settings"]
    s = TrainSettings(arch=saved["arch"]).resolved()
    built = build_chipseq_model(s.model(), len(saved["marks"]))
    shipped = model_from_checkpoint(checkpoint)
    assert count_parameters(built) == count_parameters(shipped) == 364_002
    built_config = built.config if isinstance(built.config, dict) else built.config.to_dict()
    assert built_config == checkpoint["config"]
    for key in ("window", "transform", "input_transform", "epochs", "batch_size", "lr", "lr_schedule", "select",
                "samples_per_epoch", "reverse", "peak_fraction"):
        assert saved[key] == getattr(s, key), key


def test_train_map_values_per_architecture_and_command_line():
    from chipsr.api import WORKFLOW_TRAIN_KEYS
    from chipsr.cli.options import command_line

    mapping = {"width": 0.125, "unet_depth": 3, "epochs": {"coda": 30}, "reverse": False, "affine": False,
               "time_limit": {"tfilm": 5}}
    tfilm, coda = (train_settings_from_map(mapping, arch) for arch in ("tfilm", "coda"))
    assert (tfilm.width, tfilm.unet_depth, tfilm.epochs, tfilm.time_limit) == (0.125, 3, 16, 5)
    assert (coda.epochs, coda.time_limit, coda.reverse) == (30, None, False)
    # the workflow's options, parsed back by chipsr train, give the same settings
    args = command_line(_train_command(), tfilm, skip=tuple(WORKFLOW_TRAIN_KEYS))
    assert "--unet-depth" in args and "--gamma-only" in args and "--no-reverse" in args
    assert _cli_settings(*args) == tfilm


@pytest.mark.parametrize("mapping, message", [
    ({"widht": 0.1}, "train.widht: not a setting of chipsr train"),
    ({"seed": 3}, "train.seed: set by the workflow from model.seeds"),
    ({"epochs": {"tfilmm": 3}}, "train.epochs: 'tfilmm' is not an architecture"),
])
def test_train_map_refuses_unknown_keys_in_one_line(mapping, message):
    with pytest.raises(ChipsrInputError, match=message):
        train_settings_from_map(mapping, "tfilm")


def test_repeated_mark_names_are_refused_not_read_as_depth_sets(tmp_path):
    from click.testing import CliRunner

    args = ["train", "--marks", "a/H3K27ac.bw", "--marks", "b/H3K27ac.bw", "--target", "t.bw", "-o",
            str(tmp_path / "m.pt"), "--train-region", "chr1", "--valid-region", "chr2"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert "used twice" in result.output and "--depth-set" in result.output
