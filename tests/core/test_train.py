"""The training engine: loss falls, early stopping, exact resume, checkpoints, TSV."""

from __future__ import annotations

import csv

import pytest
import torch

from chipsr.core.device import pick_device
from chipsr.core.train import TrainConfig, evaluate, fit
from chipsr.core.models import model_from_checkpoint
from chipsr.io.checkpoint import CheckpointWriter, EpochTsv, load_checkpoint, make_checkpoint, save_checkpoint

from builders import tiny_net, toy_data


def test_pick_device_defaults_and_errors():
    assert pick_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device(None).type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")


def test_config_validation():
    with pytest.raises(ValueError, match="loss 'huber'"):
        TrainConfig(loss="huber")
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=0)


@pytest.mark.slow
def test_fit_lowers_loss_and_keeps_best(device):
    torch.manual_seed(0)
    model = tiny_net()
    x, y = toy_data()
    before, _ = evaluate(model, (x, y), device=device)
    records = []
    pearson = lambda p, t: float(torch.corrcoef(torch.stack([p.flatten(), t.flatten()]))[0, 1])  # noqa: E731
    result = fit(model, (x, y), toy_data(16, seed=1), TrainConfig(epochs=30, batch_size=16, lr=1e-2, device=device),
                 metric=pearson, callbacks=[lambda rec, state, best: records.append((rec, best))], progress=False)
    after, r = evaluate(model, (x, y), device=device, metric=pearson)
    assert after < before / 10
    assert len(result.history) == len(records) and records[0][1] is True
    assert set(result.history[0]) == {"epoch", "train_loss", "valid_loss", "valid_metric", "lr", "seconds",
                                     "samples_per_s"}
    assert result.best_valid_loss == min(h["valid_loss"] for h in result.history)
    assert r > 0.9


@pytest.mark.slow
def test_early_stopping():
    torch.manual_seed(0)
    model = tiny_net()
    x, y = toy_data()
    noise = (torch.randn(16, 2, 32), torch.randn(16, 1, 32))  # validation unrelated to training
    result = fit(model, (x, y), noise, TrainConfig(epochs=50, batch_size=16, lr=1e-2, patience=2, device="cpu"),
                 progress=False)
    assert result.stopped_early and len(result.history) < 50
    assert len(result.history) - result.best_epoch == 2


@pytest.mark.slow
def test_resume_gives_identical_weights(tmp_path):
    x, y = toy_data()
    valid = toy_data(16, seed=1)
    cfg = TrainConfig(epochs=4, batch_size=8, lr=5e-3, patience=None, seed=3, device="cpu")

    torch.manual_seed(11)
    full = tiny_net()
    fit(full, (x, y), valid, cfg, progress=False)

    torch.manual_seed(11)
    part = tiny_net()
    ckpt_path = tmp_path / "m.pt"
    fit(part, (x, y), valid, TrainConfig(**{**cfg.__dict__, "epochs": 2}),
        callbacks=[CheckpointWriter(ckpt_path, part)], progress=False)
    ckpt = load_checkpoint(ckpt_path)  # weights_only=True
    resumed = tiny_net()
    result = fit(resumed, (x, y), valid, cfg, resume=ckpt["train_state"], progress=False)
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    # compare the *last* weights of both runs (fit loads the best; the state keeps the last)
    torch.manual_seed(11)
    again = tiny_net()
    full_result = fit(again, (x, y), valid, cfg, progress=False)
    for k, v in full_result.state["model"].items():
        assert torch.equal(v, result.state["model"][k]), k
    for k, v in full.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


@pytest.mark.slow
def test_checkpoint_and_tsv_files(tmp_path):
    torch.manual_seed(0)
    model = tiny_net()
    x, y = toy_data()
    tsv = tmp_path / "m.epochs.tsv"
    fit(model, (x, y), toy_data(16, seed=1), TrainConfig(epochs=3, batch_size=16, device="cpu"),
        callbacks=[EpochTsv(tsv), CheckpointWriter(tmp_path / "m.pt", model, {"scale": [1.0, 2.0]})],
        progress=False)
    rows = list(csv.DictReader(tsv.open(), delimiter="\t"))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert list(rows[0]) == ["epoch", "train_loss", "valid_loss", "valid_metric", "seconds", "samples_per_s", "lr"]
    ckpt = load_checkpoint(tmp_path / "m.pt")
    assert ckpt["meta"] == {"scale": [1.0, 2.0]} and ckpt["chipsr_version"]
    assert ckpt["train_config"]["epochs"] == 3
    with pytest.raises(ValueError, match="not a chipsr checkpoint|does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_checkpoint_round_trip_predicts_identically(tmp_path):
    models = pytest.importorskip("chipsr.core.models")
    torch.manual_seed(0)
    model = models.TFiLMUNet(in_channels=3, out_channels=1, depth=2, n_blocks=2, width=0.125).eval()
    path = save_checkpoint(tmp_path / "u.pt", make_checkpoint(model))
    rebuilt = model_from_checkpoint(load_checkpoint(path))
    x = torch.randn(2, 3, 64)
    assert torch.equal(model(x), rebuilt(x))


@pytest.mark.slow
def test_fit_dict_metric_custom_loss_and_samples_per_epoch(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(40, 1, 16)
    y = 2 * x
    model = torch.nn.Conv1d(1, 1, 1)
    model.config = {"name": "conv"}
    calls = []

    def loss_fn(pred, target):
        calls.append(len(pred))
        return ((pred - target) ** 2).mean()

    def metric(pred, target):
        return {"a": float((pred - target).abs().mean()), "b": 1.0}

    tsv = tmp_path / "e.tsv"
    result = fit(model, (x, y), (x[:8], y[:8]), TrainConfig(epochs=2, batch_size=5, samples_per_epoch=10),
                 metric=metric, loss_fn=loss_fn, callbacks=[EpochTsv(tsv)], progress=False)
    rec = result.history[-1]
    assert rec["valid_a"] == rec["valid_metric"] and rec["valid_b"] == 1.0
    assert calls[:2] == [5, 5] and len(calls) == 2 * (2 + 2)  # 2 train batches + 2 valid batches per epoch
    header = tsv.read_text().splitlines()[0].split("\t")
    assert header[-2:] == ["valid_a", "valid_b"]


@pytest.mark.slow
def test_fit_time_limit_stops_after_the_epoch():
    x = torch.randn(8, 1, 16)
    model = torch.nn.Conv1d(1, 1, 1)
    result = fit(model, (x, x), (x, x), TrainConfig(epochs=5, time_limit_s=0.0, patience=None), progress=False)
    assert len(result.history) == 1 and result.stop_reason == "time_limit" and result.stopped_early


def test_fit_restores_the_deterministic_flag_when_it_fails_before_the_first_epoch(monkeypatch):
    """An error while fit sets up (here: wrapping the model for DDP) leaves torch's deterministic
    flag as it was (it used to stay on) and would leave the process group."""
    import chipsr.core.train as core_train

    def boom(*args):
        raise RuntimeError("no DDP here")

    monkeypatch.setattr(core_train, "_parallel", boom)
    before = torch.are_deterministic_algorithms_enabled()
    x, y = toy_data(8)
    with pytest.raises(RuntimeError, match="no DDP"):
        fit(tiny_net(), (x, y), (x, y), TrainConfig(epochs=1, batch_size=4, deterministic=not before, device="cpu"),
            progress=False)
    assert torch.are_deterministic_algorithms_enabled() == before
