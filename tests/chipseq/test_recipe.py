"""The training recipe: random crops, reversal, peak-enriched sampling, cosine
schedule, selection by validation Pearson r, seed ensembles and their report."""

from __future__ import annotations

import math

import numpy as np
import pyBigWig
import pytest
import torch
from click.testing import CliRunner

from chipsr.cli.main import cli
from chipsr.core.train import TrainConfig, fit
from chipsr.io.checkpoint import CheckpointWriter, load_checkpoint
from chipsr.tasks.chipseq.data import RandomCrops, Scaling, usable_starts
from chipsr.tasks.chipseq.evaluate import read_binned
from chipsr.tasks.chipseq.report import seed_summary, verdict

from builders import BIN, SIZES, tiny_net, toy_data, train_args, write_bins


def test_usable_starts_by_hand():
    # 10 bins, window 3; bin 4 blacklisted; bins 7..9 all zero in every track
    x = np.array([[1, 1, 1, 1, 1, 1, 1, 0, 0, 0]], dtype=np.float32)
    y = np.array([[1, 1, 1, 1, 1, 1, 0, 0, 0, 0]], dtype=np.float32)
    black = np.zeros(10, dtype=bool)
    black[4] = True
    # windows [s, s+3): s=0,1 ok; 2,3,4 touch bin 4; 5 ([5,8)) and 6 ([6,9)) have signal; 7 ([7,10)) is empty
    assert usable_starts(x, y, black, 3).tolist() == [0, 1, 5, 6]
    assert usable_starts(x, y, black, 11).tolist() == []


def _crops(**kw):
    rng = np.random.default_rng(0)
    n = 5000
    y = rng.gamma(0.5, 1.0, (1, n)).astype(np.float32)
    x = np.vstack([y[0] + rng.normal(0, 0.1, n), rng.random(n)]).astype(np.float32)
    black = np.zeros(n, dtype=bool)
    black[1000:1500] = True
    starts = usable_starts(x, y, black, 100)
    return x, y, black, RandomCrops([x], [y], [starts], 100, 64, **kw)


def test_random_crops_are_seeded_per_epoch_and_avoid_the_blacklist():
    x, y, black, ds = _crops(seed=1)
    ds.set_epoch(3)
    first = list(ds.crops)
    ds.set_epoch(4)
    assert ds.crops != first  # fresh crops every epoch
    ds.set_epoch(3)
    assert ds.crops == first  # and the same crops for the same (seed, epoch): resumable
    _, _, _, other = _crops(seed=2)
    other.set_epoch(3)
    assert other.crops != first
    for _, s, _, _ in ds.crops:
        assert not black[s : s + 100].any()
    assert len(ds) == 64
    xi, yi = ds[0]
    assert xi.shape == (2, 100) and yi.shape == (1, 100) and xi.dtype == torch.float32


def test_reversal_flips_inputs_and_target_together():
    x, y, _, ds = _crops(seed=0)
    flips = [f for _, _, f, _ in ds.crops]
    assert 10 < sum(flips) < 54  # about half of 64
    i = flips.index(True)
    _, s, _, _ = ds.crops[i]
    xi, yi = ds[i]
    assert np.array_equal(xi.numpy(), x[:, s : s + 100][:, ::-1])
    assert np.array_equal(yi.numpy(), y[:, s : s + 100][:, ::-1])
    _, _, _, plain = _crops(seed=0, reverse=False)
    assert not any(f for _, _, f, _ in plain.crops)


def test_peak_fraction_centres_crops_on_high_target_bins():
    x, y, black, ds = _crops(seed=0, peak_fraction=1.0, peak_quantile=0.99)
    cutoff = ds.peak_cutoff
    for _, s, _, _ in ds.crops:
        window = y[0, s : s + 100]
        assert window.max() >= cutoff  # a peak bin lies within +- window/4 of the centre
        assert not black[s : s + 100].any()
    # uniform crops hold a peak bin less often
    _, _, _, uniform = _crops(seed=0)
    share = np.mean([y[0, s : s + 100].max() >= cutoff for _, s, _, _ in uniform.crops])
    assert share < 1.0


def test_log1p_input_scaling():
    x = np.array([[0.0, 2.0, 4.0, 2.0]], dtype=np.float32)  # mean 2
    y = np.array([1.0, 1.0, 3.0, 3.0], dtype=np.float32)    # mean 2
    s = Scaling.fit("none", x, y, ["a"], "t", input_transform="log1p")
    assert s.input_scale == [2.0] and s.target_scale == 2.0
    assert np.allclose(s.inputs(x), np.log1p(x / 2))
    assert np.allclose(s.invert(s.target(y)), y)


class _Crops(torch.utils.data.Dataset):
    """Toy data with set_epoch: a different seeded draw each epoch."""

    def __init__(self):
        self.x, self.y = toy_data(256)
        self.epochs = []
        self.set_epoch(0)

    def set_epoch(self, epoch):
        self.epochs.append(epoch)
        self.idx = torch.randperm(256, generator=torch.Generator().manual_seed(epoch))[:32]

    def __len__(self):
        return 32

    def __getitem__(self, i):
        return self.x[self.idx[i]], self.y[self.idx[i]]


@pytest.mark.slow
def test_cosine_schedule_metric_selection_and_set_epoch():
    torch.manual_seed(0)
    model = tiny_net()
    data = _Crops()
    valid = toy_data(16, seed=1)
    pearson = lambda p, t: float(torch.corrcoef(torch.stack([p.flatten(), t.flatten()]))[0, 1])  # noqa: E731
    cfg = TrainConfig(epochs=6, batch_size=8, lr=1e-2, patience=None, lr_schedule="cosine", select="metric",
                      device="cpu")
    result = fit(model, data, valid, cfg, metric=pearson, progress=False)
    assert data.epochs == [0, 1, 2, 3, 4, 5, 6]
    lrs = [h["lr"] for h in result.history]
    assert lrs == sorted(lrs, reverse=True) and lrs[-1] == pytest.approx(0.0, abs=1e-12)
    # lr after epoch 3 of 6 (steps 12 of 24): half the peak
    assert lrs[2] == pytest.approx(1e-2 * 0.5 * (1 + math.cos(math.pi * 12 / 24)))
    best = max(result.history, key=lambda h: h["valid_metric"])
    assert result.best_epoch == best["epoch"]


@pytest.mark.slow
def test_resume_with_cosine_and_crops_is_exact(tmp_path):
    valid = toy_data(16, seed=1)
    cfg = TrainConfig(epochs=4, batch_size=8, lr=5e-3, patience=None, seed=3, device="cpu", lr_schedule="cosine",
                      select="metric")
    pearson = lambda p, t: float(torch.corrcoef(torch.stack([p.flatten(), t.flatten()]))[0, 1])  # noqa: E731
    torch.manual_seed(11)
    full = tiny_net()
    full_result = fit(full, _Crops(), valid, cfg, metric=pearson, progress=False)

    class Killed(Exception):
        pass

    def kill_after_2(record, state, best):
        if record["epoch"] == 2:
            raise Killed

    torch.manual_seed(11)
    part = tiny_net()
    path = tmp_path / "m.pt"
    with pytest.raises(Killed):
        fit(part, _Crops(), valid, cfg, metric=pearson, callbacks=[CheckpointWriter(path, part), kill_after_2],
            progress=False)
    resumed = tiny_net()
    result = fit(resumed, _Crops(), valid, cfg, metric=pearson, resume=load_checkpoint(path)["train_state"],
                 progress=False)
    for k, v in full_result.state["model"].items():
        assert torch.equal(v, result.state["model"][k]), k
    assert result.best_epoch == full_result.best_epoch


@pytest.mark.slow
def test_seed_ensemble_is_the_mean_of_its_members(tmp_path, tiny_tracks):
    tracks = tiny_tracks
    models = []
    for seed in (1, 2):
        model = tmp_path / f"m{seed}.pt"
        result = CliRunner().invoke(cli, train_args(tracks, model, "--arch", "conv", "--width", "0.0625", "--unet-depth",
                                                    "2", "--epochs", "1", "--seed", str(seed)))
        assert result.exit_code == 0, result.output
        models.append(model)
    marks = ["--marks", f"{tracks['K27ac']},{tracks['K4me1']}"]
    outs = []
    for i, args in enumerate((["--model", str(models[0])], ["--model", str(models[1])],
                              ["--model", str(models[0]), "--model", str(models[1])],
                              ["--model", f"{models[0]},{models[1]}"])):
        out = tmp_path / f"d{i}.bw"
        result = CliRunner().invoke(cli, ["denoise", *marks, *args, "-o", str(out), "--region", "chrB"])
        assert result.exit_code == 0, result.output
        outs.append(read_binned(out, "chrB", BIN))
    assert not np.allclose(outs[0], outs[1])  # the seeds differ
    assert np.allclose(outs[2], (outs[0] + outs[1]) / 2, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(outs[3], outs[2])  # comma-separated = repeated
    with pyBigWig.open(str(tmp_path / "d2.bw")) as bw:
        assert bw.chroms() == SIZES


@pytest.mark.slow
def test_ensemble_refuses_models_of_another_target(tmp_path, tiny_tracks, tiny_model):
    """tiny_model's target is target.bw; b.pt is the same recipe with K27ac.bw as its target."""
    tracks, a, b = tiny_tracks, tiny_model, tmp_path / "b.pt"
    args = train_args(tracks, b, "--arch", "linear", "--epochs", "1")
    args[args.index("--target") + 1] = str(tracks["K27ac"])
    assert CliRunner().invoke(cli, args).exit_code == 0
    result = CliRunner().invoke(cli, ["denoise", "--marks", f"{tracks['K27ac']},{tracks['K4me1']}", "--model",
                                      str(a), "--model", str(b), "-o", str(tmp_path / "o.bw")])
    assert result.exit_code == 1 and "target" in result.output and "b.pt" in result.output
    assert not (tmp_path / "o.bw").exists()


def test_seed_summary_and_verdict_by_hand():
    row = {"noisy_input": 0.60, "smoothed input": 0.80, "tfilm": 0.90, "tfilm.seed1": 0.88, "tfilm.seed2": 0.86,
           "tfilm.seed3": 0.87, "conv": 0.89, "conv.seed1": 0.87, "conv.seed2": 0.85, "conv.seed3": 0.86}
    s = seed_summary(row)
    assert list(s) == ["noisy_input", "smoothed input", "tfilm", "conv"]
    assert s["tfilm"]["mean"] == pytest.approx(0.87) and s["tfilm"]["sd"] == pytest.approx(0.01)
    assert s["tfilm"]["value"] == 0.90 and s["tfilm"]["n"] == 3
    assert s["smoothed input"] == {"value": 0.80, "mean": 0.80, "sd": 0.0, "n": 0}
    assert verdict(s) == "tfilm ahead of conv by +0.010, within the seed sd 0.010"
    s["conv"]["mean"] = 0.85
    assert "beyond" in verdict(s)
    tiny = {"tfilm": {"value": 0.8112, "mean": 0.8110, "sd": 0.0002, "n": 3},
            "coda": {"value": 0.8118, "mean": 0.8103, "sd": 0.0001, "n": 3}}
    assert verdict(tiny) == "tfilm ahead of coda by +0.0007, beyond the seed sd 0.0002"  # not "sd 0.000"


def test_equivalent_depth_by_hand():
    from chipsr.tasks.chipseq.evaluate import equivalent_depth

    ks, rs = [1, 2, 4, 8, 16], [0.6, 0.7, 0.8, 0.85, 0.9]
    m, bound = equivalent_depth(ks, rs, 0.875)  # halfway between 8x and 16x in log2: 2**3.5
    assert bound == "=" and m == pytest.approx(2 ** 3.5)
    assert equivalent_depth(ks, rs, 0.8) == (4.0, "=")
    assert equivalent_depth(ks, rs, 0.95) == (16.0, ">")
    assert equivalent_depth(ks, rs, 0.5) == (1.0, "<")
    # a noisy dip (0.75 then 0.70) is flattened by the running maximum: one answer only
    m, _ = equivalent_depth([4, 1, 2], [0.70, 0.60, 0.75], 0.72)
    assert m == pytest.approx(2 ** 0.8)
    with pytest.raises(ValueError):
        equivalent_depth([1], [0.5], 0.4)


def test_evaluate_depth_series(tmp_path):
    rng = np.random.default_rng(0)
    n = -(-SIZES["chrB"] // BIN)
    truth = np.convolve(rng.gamma(0.3, 4, n), np.ones(20) / 20, mode="same")
    empty = {"chrA": np.zeros(10)}  # chrA first: the header's chromosome order
    files = {"truth": write_bins(tmp_path / "truth.bw", {**empty, "chrB": truth})}
    for k, sd in ((1, 2.0), (2, 1.0), (4, 0.5)):  # deeper = less noise
        files[k] = write_bins(tmp_path / f"x{k}.bw", {**empty, "chrB": truth + rng.normal(0, sd, n)})
    files["model"] = write_bins(tmp_path / "model.bw", {**empty, "chrB": truth + rng.normal(0, 0.7, n)})
    prefix = tmp_path / "ev"
    result = CliRunner().invoke(cli, ["evaluate", "--truth", str(files["truth"]), "--tracks",
                                      f"noisy={files[1]},model={files['model']}", "-o", str(prefix),
                                      "--region", "chrB", "--depth-series",
                                      f"1={files[1]},2={files[2]},4={files[4]}"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads((tmp_path / "ev.json").read_text())
    eq = data["depth_equivalence"]
    assert list(eq["series"]) == ["1", "2", "4"]
    assert eq["by_track"]["noisy"]["multiple"] == pytest.approx(1.0)
    m = eq["by_track"]["model"]
    assert m["bound"] == "=" and 2 < m["multiple"] < 4  # noise sd 0.7 lies between the 2x and 4x tracks
    assert "raw 2x" in data["track_order"] and "Depth equivalence" in (tmp_path / "ev.md").read_text()


@pytest.mark.slow
def test_tfilm_variants_are_recorded_in_the_checkpoint(tmp_path, tiny_tracks):
    tracks = tiny_tracks
    model = tmp_path / "v.pt"
    result = CliRunner().invoke(cli, train_args(tracks, model, "--arch", "tfilm", "--width", "0.0625", "--unet-depth", "2",
                                                "--epochs", "1", "--gamma-only", "--bidirectional", "--blocks", "4"))
    assert result.exit_code == 0, result.output
    cfg = load_checkpoint(model)["config"]
    assert cfg["n_blocks"] == 4
    assert cfg["affine"] is False and cfg["bidirectional"] is True


def test_depth_sets_draw_one_set_per_crop_and_keep_single_set_crops():
    """(D, k, n) inputs: each crop's input comes whole from one depth set, drawn from a separate
    seeded stream, so a single set draws exactly the crops it drew before depth sets existed."""
    x, y, black, single = _crops(seed=1)
    sets = np.stack([x, x * 2, x * 3])  # three "depths" of the same marks
    starts = usable_starts(sets, y, black, 100)
    multi = RandomCrops([sets], [y], [starts], 100, 64, seed=1)
    multi.set_epoch(2)
    single.set_epoch(2)
    assert [c[:3] for c in multi.crops] == [c[:3] for c in single.crops]
    picked = {int(c[3]) for c in multi.crops}
    assert picked == {0, 1, 2}
    for i, (r, s, flip, d) in enumerate(multi.crops):
        xi, _ = multi[i]
        want = sets[d][:, s : s + 100]
        np.testing.assert_array_equal(xi.numpy(), want[:, ::-1] if flip else want)
