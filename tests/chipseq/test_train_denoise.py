"""chipsr train and chipsr denoise on small synthetic coverage bigWigs (real data: the workflow)."""

from __future__ import annotations

import json

import numpy as np
import pyBigWig
import pytest
from click.testing import CliRunner

from chipsr.cli.main import cli
from chipsr.tasks.chipseq.evaluate import read_binned

from builders import BIN, SIZES, train_args, write_bins


@pytest.mark.slow
@pytest.mark.parametrize("arch, lr, must_beat_input", [("linear", "1e-2", True), ("tfilm", "1e-3", False)])
def test_train_then_denoise(tmp_path, tiny_tracks, arch, lr, must_beat_input):
    """Both paths run end to end; the linear filter (15 Adam steps suffice) must beat the noisy
    input on the held-out chromosome. TFiLM's accuracy is measured on real data by the workflow."""
    tracks = tiny_tracks
    model = tmp_path / f"{arch}.pt"
    result = CliRunner().invoke(cli, train_args(tracks, model, "--arch", arch, "--lr", lr, "--width", "0.0625",
                                                "--unet-depth", "2"))
    assert result.exit_code == 0, result.output
    assert model.exists() and (tmp_path / f"{arch}.pt.epochs.tsv").exists()
    splits = json.loads((tmp_path / f"{arch}.pt.splits.json").read_text())
    assert splits["test"] == ["chrB"] and splits["marks"] == ["K27ac", "K4me1"]
    out = tmp_path / "denoised.bw"
    result = CliRunner().invoke(cli, ["denoise", "--marks", str(tracks["K27ac"]), "--marks", str(tracks["K4me1"]),
                                      "--model", str(model), "-o", str(out), "--overlap", "20"])
    assert result.exit_code == 0, result.output
    with pyBigWig.open(str(out)) as bw:
        assert bw.chroms() == SIZES
    pred = read_binned(out, "chrB", BIN)
    truth = read_binned(tracks["target"], "chrB", BIN)
    noisy = read_binned(tracks["K27ac"], "chrB", BIN)
    assert pred.shape == truth.shape and (pred >= 0).all()
    r_pred, r_noisy = np.corrcoef(pred, truth)[0, 1], np.corrcoef(noisy, truth)[0, 1]
    assert np.isfinite(r_pred)
    if must_beat_input:
        assert r_pred > r_noisy  # held-out chromosome: better than the noisy input


def test_transforms_round_trip():
    from chipsr.tasks.chipseq.data import Scaling

    x = np.abs(np.random.default_rng(1).normal(size=(2, 500))) * 5
    y = x[0] * 2
    for kind in ("none", "arcsinh", "log1p"):
        s = Scaling.fit(kind, x, y, ["a", "b"], "t")
        np.testing.assert_allclose(s.invert(s.target(y)), y, rtol=1e-5, atol=1e-5)


def test_bad_input(tmp_path, tiny_tracks, tiny_model):
    runner = CliRunner()
    tracks, model = tiny_tracks, tiny_model

    def fails(args, *text):
        res = runner.invoke(cli, args)
        assert res.exit_code != 0, res.output
        for t in text:
            assert t in res.output, res.output
        return res

    out = tmp_path / "o.bw"
    # marks that do not match the model
    fails(["denoise", "--marks", str(tracks["K27ac"]), "--model", str(model), "-o", str(out)], "do not match")
    fails(["denoise", "--marks", f"{tracks['K4me1']},{tracks['K27ac']}", "--model", str(model), "-o", str(out)],
          "do not match")
    # a missing bigWig
    fails(["denoise", "--marks", f"{tracks['K27ac']},{tmp_path / 'K4me1_missing.bw'}", "--model", str(model),
           "-o", str(out)], "do not match")
    fails(["denoise", "--marks", f"K27ac={tracks['K27ac']},K4me1={tmp_path / 'nope.bw'}", "--model", str(model),
           "-o", str(out)], "nope.bw", "does not exist")
    # a region outside a chromosome
    fails(["denoise", "--marks", f"{tracks['K27ac']},{tracks['K4me1']}", "--model", str(model), "-o", str(out),
           "--region", "chrB:50000-60000"], "outside chrB")
    assert not out.exists()
    # marks with different chromosome sets or bin sizes
    other = write_bins(tmp_path / "other.bw", {"chrA": np.ones(6000)}, sizes={"chrA": 150_000})
    fails(train_args({**tracks, "K4me1": other}, tmp_path / "x.pt"), "different chromosomes")
    coarse = write_bins(tmp_path / "coarse.bw", {c: np.ones(-(-n // 10)) for c, n in SIZES.items()}, bin_size=10)
    fails(train_args({**tracks, "K4me1": coarse}, tmp_path / "x.pt"), "10-bp grid")
    # a target that is all zeros everywhere (no units), or only in the training region
    zero = write_bins(tmp_path / "zero.bw", {c: np.zeros(-(-n // BIN)) for c, n in SIZES.items()})
    fails(train_args({**tracks, "target": zero}, tmp_path / "x.pt"), "zero.bw: the track is zero everywhere")
    part = {c: np.zeros(-(-n // BIN)) for c, n in SIZES.items()}
    part["chrB"][:] = 1.0
    part = write_bins(tmp_path / "part.bw", part)
    fails(train_args({**tracks, "target": part}, tmp_path / "x.pt"), "all zeros in the training region")
    # overlapping splits
    fails(train_args(tracks, tmp_path / "x.pt", "--test-region", "chrA:90000-95000"), "overlap")
    assert not (tmp_path / "x.pt").exists()


def test_least_squares_filter_recovers_a_known_filter():
    import torch

    from chipsr.tasks.chipseq.model import LinearFilter
    from chipsr.tasks.chipseq.model import least_squares_filter

    torch.manual_seed(0)
    true = LinearFilter(2, 1, width=5)
    x = torch.randn(40, 2, 64)
    with torch.no_grad():
        y = true(x)
    fitted = LinearFilter(2, 1, width=5)
    least_squares_filter(fitted, x.numpy(), y.numpy(), ridge=0.0)
    torch.testing.assert_close(fitted.conv.weight, true.conv.weight, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(fitted.conv.bias, true.conv.bias, atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_base_pair_resolution(tmp_path):
    """--bin-size 1: 1000-bp windows at base-pair resolution."""
    sizes = {"chrA": 30_000}
    rng = np.random.default_rng(2)
    signal = np.convolve(rng.gamma(0.3, 4, 30_000), np.ones(200) / 200, mode="same")
    a = write_bins(tmp_path / "a.bw", {"chrA": rng.poisson(signal)}, bin_size=1, sizes=sizes)
    t = write_bins(tmp_path / "t.bw", {"chrA": signal}, bin_size=1, sizes=sizes)
    model = tmp_path / "m.pt"
    result = CliRunner().invoke(cli, ["train", "--marks", str(a), "--target", str(t), "-o", str(model),
                                      "--bin-size", "1", "--arch", "linear", "--epochs", "1",
                                      "--train-region", "chrA:1-20000", "--valid-region", "chrA:20001-25000",
                                      "--test-region", "chrA:25001-30000"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "d.bw"
    result = CliRunner().invoke(cli, ["denoise", "--marks", str(a), "--model", str(model), "-o", str(out)])
    assert result.exit_code == 0, result.output
    pred = read_binned(out, "chrA", 1, 25_000, 30_000)
    assert np.corrcoef(pred, signal[25_000:])[0, 1] > np.corrcoef(read_binned(a, "chrA", 1, 25_000, 30_000),
                                                                  signal[25_000:])[0, 1]
