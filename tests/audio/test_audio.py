"""Audio super-resolution: signals, data, streaming upsampling, CLI, bad input (tiny fixtures)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from chipsr.cli.main import cli
from chipsr.core.metrics import snr_db
from chipsr.errors import ChipsrInputError
from chipsr.io import audio as aio
from chipsr.io.checkpoint import make_checkpoint, save_checkpoint
from chipsr.api import audio as api
from chipsr.tasks.audio import data as task_data
from chipsr.tasks.audio import evaluate as task_eval
from chipsr.tasks.audio import model as task_model
from chipsr.tasks.audio.upsample import SuperResolver

from builders import EXAMPLES

RATE = 16000


def _speechlike(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Harmonics of a gliding pitch under a syllable envelope, plus a little noise (broadband)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 40) if k * 160 < rate / 2)
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    x = 0.2 * x * env + 0.003 * rng.standard_normal(len(t))
    return x.astype(np.float32)


def _tiny_checkpoint(path, ratio=4, lowres="decimate", patch=2048):
    torch.manual_seed(0)
    model = task_model.build_audio_model("tfilm", width=1 / 32, depth=2, blocks=8, patch=patch, backbone="stride", dropout=0)
    norm = {"task": task_data.TASK, "ratio": ratio, "high_rate": RATE, "low_rate": RATE / ratio, "lowres": lowres,
            "resampler": aio.RESAMPLER, "patch": patch, "stride": patch // 2, "arch": "tfilm"}
    save_checkpoint(path, make_checkpoint(model, norm))
    return path


@pytest.fixture
def ckpt(tmp_path):
    return _tiny_checkpoint(tmp_path / "tiny.pt")


def _invoke(*argv):
    return CliRunner().invoke(cli, [str(a) for a in argv])


# ---------------------------------------------------------------- signals
def test_aliased_lowres_is_plain_subsampling():
    x = np.arange(40, dtype=np.float32)
    np.testing.assert_array_equal(task_data.make_lowres(x, 4, "aliased"), x[::4])


def test_decimate_keeps_a_low_tone_and_removes_a_high_one():
    t = np.arange(16000) / RATE
    low, high = np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 3000 * t)
    lr_low = task_data.make_lowres(low, 4)
    lr_high = task_data.make_lowres(high, 4)
    assert float(snr_db(lr_low[100:-100], low[::4][100:-100])) > 30  # zero-phase: no delay
    assert np.abs(lr_high[100:-100]).max() < 0.01  # 3 kHz is above the 1.6 kHz cut-off at 4 kHz


def test_lowres_rejects_bad_mode_and_ratio():
    with pytest.raises(ValueError, match="low-res mode"):
        task_data.make_lowres(np.zeros(64), 4, "boxcar")
    with pytest.raises(ValueError, match="ratio"):
        task_data.make_lowres(np.zeros(64), 1)


def test_spline_reproduces_a_cubic_and_passes_through_the_knots():
    t = np.arange(0, 400, dtype=np.float64)
    cubic = 1e-6 * (t - 100) ** 3 - 1e-3 * t + 0.5
    lr = cubic[::4]
    up = task_data.spline_upsample(lr, 4)
    assert up.shape == (400,)
    np.testing.assert_allclose(up[::4], lr, atol=1e-5)
    np.testing.assert_allclose(up[:397], cubic[:397], rtol=1e-4, atol=1e-4)


def test_sinc_upsampling_restores_a_band_limited_tone():
    t = np.arange(32000) / RATE
    x = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    up = task_eval.sinc_upsample(x[::4], 4)
    assert up.shape == x.shape
    assert float(snr_db(up[2000:-2000], x[2000:-2000])) > 40


def test_noise_fill_keeps_the_low_band_and_fills_the_high_band():
    x = _speechlike(2.0)
    spline, y, _ = task_data.make_pair(x, 4, "decimate")
    filled = task_eval.noise_fill(spline, 4, "decimate", seed=1)
    assert filled.shape == spline.shape
    spec = lambda s: np.abs(np.fft.rfft(s)) ** 2  # noqa: E731
    f = np.fft.rfftfreq(len(spline), 1 / RATE)
    high = f > 3000
    assert spec(filled)[high].sum() > 4 * spec(spline)[high].sum()
    low = f < 1200
    assert float(snr_db(np.fft.irfft(np.fft.rfft(filled) * low, len(filled)),
                        np.fft.irfft(np.fft.rfft(spline) * low, len(spline)))) > 30
    np.testing.assert_array_equal(filled, task_eval.noise_fill(spline, 4, "decimate", seed=1))  # seeded


def test_score_is_perfect_for_the_target_itself():
    y = _speechlike(1.0)
    s = task_eval.score(y + 1e-3, y)
    assert s["snr_db"] > 30 and s["lsd_log10"] < 0.1 and set(s) == set(task_eval.METRICS)


# ---------------------------------------------------------------- data
def test_speaker_split_is_disjoint(tmp_path):
    files = [tmp_path / f"{spk}-1-000{u}.flac" for spk in (11, 22, 33, 44, 55) for u in (1, 2)]
    train, valid = aio.split_by_speaker(files, 0.2, seed=3)
    assert len(train) + len(valid) == 10 and len(valid) == 2
    assert {aio.speaker_of(f) for f in train}.isdisjoint({aio.speaker_of(f) for f in valid})
    assert aio.speaker_of(tmp_path / "p225_001.wav") == "p225"
    with pytest.raises(ChipsrInputError, match="at least 2 speakers"):
        aio.split_by_speaker(files[:2], 0.5)


def test_list_audio_from_dirs_and_lists(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("x.wav", "y.flac"):
        sf.write(tmp_path / "a" / name, np.zeros(100), 8000)
    (tmp_path / "a" / "notes.txt").write_text("hello")
    listing = tmp_path / "list.txt"
    listing.write_text("# comment\na/x.wav\n")
    assert [p.name for p in aio.list_audio(tmp_path / "a")] == ["x.wav", "y.flac"]
    assert [p.name for p in aio.list_audio(listing)] == ["x.wav"]
    listing.write_text("a/missing.wav\n")
    with pytest.raises(ChipsrInputError, match="line 1: no such audio file"):
        aio.list_audio(listing)
    with pytest.raises(ChipsrInputError, match="no such file"):
        aio.list_audio(tmp_path / "nope")


def test_patches_never_cross_files():
    a, b = np.arange(10, dtype=np.float32), np.arange(100, 107, dtype=np.float32)
    ds = task_data.PatchDataset([a, b], [a, b], patch=4, stride=2)
    assert len(ds) == 4 + 2
    xs = [ds[i][0][0].tolist() for i in range(len(ds))]
    assert xs[0] == [0, 1, 2, 3] and xs[4] == [100, 101, 102, 103] and xs[5] == [102, 103, 104, 105]


# ---------------------------------------------------------------- inference
def test_streaming_output_does_not_depend_on_block_size(ckpt):
    from chipsr.io.checkpoint import load_checkpoint

    res = SuperResolver(load_checkpoint(ckpt), overlap=256, windows_per_segment=2)
    lr = _speechlike(2.0)[::4]
    whole = res.upsample_array(lr)
    blocks = [lr[i : i + 333, None] for i in range(0, len(lr), 333)]
    streamed = np.concatenate(list(res.run(iter(blocks))))[:, 0]
    assert whole.shape == (len(lr) * 4,)
    np.testing.assert_array_equal(streamed, whole)
    # an untrained model (final conv ~ 0) is close to its spline input
    assert float(snr_db(whole, task_data.spline_upsample(lr, 4))) > 20


def test_upsample_cli_stereo_and_rate(tmp_path, ckpt):
    x = _speechlike(1.5)
    stereo = np.stack([x[::4], 0.5 * x[::4]], axis=1)
    inp, out = tmp_path / "low.wav", tmp_path / "high.wav"
    sf.write(inp, stereo, RATE // 4)
    result = _invoke("audio", "upsample", inp, "-o", out, "--model", ckpt)
    assert result.exit_code == 0, result.output
    data, rate = sf.read(out, always_2d=True)
    assert rate == RATE and data.shape == (stereo.shape[0] * 4, 2)
    assert float(snr_db(data[:, 1], 0.5 * data[:, 0])) > 30  # channels processed alike and separately


def test_upsample_warns_when_the_input_rate_is_above_the_model_input(tmp_path, ckpt, caplog):
    inp, out = tmp_path / "mid.flac", tmp_path / "high.flac"
    sf.write(inp, _speechlike(1.0, rate=8000), 8000)
    s = api.upsample(inp, out, ckpt)
    assert "discards the band" in caplog.text
    assert sf.info(out).samplerate == RATE and abs(s["audio_seconds"] - 1.0) < 0.01


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("case", ["not_audio", "empty", "too_short", "at_target_rate", "nan", "ratio", "missing"])
def test_upsample_bad_input_one_line_error_and_no_output(tmp_path, ckpt, case):
    inp, out = tmp_path / "in.wav", tmp_path / "out.wav"
    extra = []
    if case == "not_audio":
        inp.write_text("this is not audio\n")
        expected = "not a readable audio file"
    elif case == "empty":
        sf.write(inp, np.zeros((0, 1)), 4000)
        expected = "no samples"
    elif case == "too_short":
        sf.write(inp, np.zeros(100), 4000)
        expected = "shorter than one 2048-sample patch"
    elif case == "at_target_rate":
        sf.write(inp, np.zeros(20000), RATE)
        expected = "already at or above the model's target rate 16000"
    elif case == "nan":
        x = _speechlike(1.0, rate=4000)
        x[1234] = np.nan
        inp = tmp_path / "in.flac" if False else tmp_path / "in.wav"
        sf.write(inp, x, 4000, subtype="FLOAT")
        expected = "frame 1234"
    elif case == "ratio":
        sf.write(inp, _speechlike(1.0, rate=4000), 4000)
        extra = ["--ratio", "8"]
        expected = "trained for ratio 4, not --ratio 8"
    else:
        inp = tmp_path / "missing.wav"
        expected = "no such audio file"
    result = _invoke("audio", "upsample", inp, "-o", out, "--model", ckpt, *extra)
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and expected in lines[0], result.output
    if case != "ratio":
        assert str(inp.name) in lines[0]
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))


def test_upsample_refuses_a_chipseq_checkpoint(tmp_path):
    from chipsr.tasks.chipseq.model import LinearFilter

    path = tmp_path / "chip.pt"
    model = LinearFilter(3, 1, 5)
    model.config = {"name": "linear_filter", "in_channels": 3, "out_channels": 1, "width": 5}
    save_checkpoint(path, make_checkpoint(model, {"marks": ["a"]}))
    sf.write(tmp_path / "in.wav", _speechlike(1.0, rate=4000), 4000)
    result = _invoke("audio", "upsample", tmp_path / "in.wav", "-o", tmp_path / "o.wav", "--model", path)
    assert result.exit_code == 1 and "not an audio super-resolution model" in result.output


# ---------------------------------------------------------------- train + evaluate
@pytest.fixture
def speech_dir(tmp_path):
    d = tmp_path / "speech"
    d.mkdir()
    for spk in range(5):
        sf.write(d / f"{100 + spk}-1-0000.flac", _speechlike(1.2, seed=spk), RATE)
    return d


@pytest.mark.slow
def test_train_cli_writes_checkpoint_tsv_splits_and_resumes(tmp_path, speech_dir):
    out = tmp_path / "m.pt"
    args = ["audio", "train", "--data", speech_dir, "-o", out, "--ratio", "4", "--patch", "2048", "--stride", "1024",
            "--width", "0.03125", "--unet-depth", "2", "--blocks", "8", "--epochs", "2", "--batch-size", "8",
            "--valid-fraction", "0.2", "--lr", "1e-3"]
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    tsv = (tmp_path / "m.pt.epochs.tsv").read_text().splitlines()
    header = tsv[0].split("\t")
    assert "valid_snr_db" in header and "valid_lsd" in header and len(tsv) == 3
    snr = [float(line.split("\t")[header.index("valid_snr_db")]) for line in tsv[1:]]
    assert all(np.isfinite(snr))
    splits = json.loads((tmp_path / "m.pt.splits.json").read_text())
    assert len(splits["valid_speakers"]) == 1 and not set(splits["train_speakers"]) & set(splits["valid_speakers"])
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["meta"]["lowres"] == "decimate" and ckpt["meta"]["resampler"] == aio.RESAMPLER
    before = out.read_bytes()
    for option, value in (("--ratio", "2"), ("--width", "0.0625")):  # these would train another model
        changed = list(args)
        changed[changed.index(option) + 1] = value
        result = _invoke(*changed, "--resume")
        assert result.exit_code == 1 and "settings differ" in result.output and option[2:] in result.output
        assert out.read_bytes() == before
    args[args.index("--epochs") + 1] = "3"
    result = _invoke(*args, "--resume")
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "m.pt.epochs.tsv").read_text().splitlines()) == 4


@pytest.mark.slow
def test_train_with_a_seed_is_reproducible(tmp_path, speech_dir):
    """Issue 13: the same seed gives the same losses (the model is built after seeding)."""
    rows = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.pt"
        result = _invoke("audio", "train", "--data", speech_dir, "-o", out, "--ratio", "4", "--patch", "2048",
                         "--stride", "2048", "--width", "0.03125", "--unet-depth", "2", "--blocks", "8", "--epochs", "1",
                         "--batch-size", "8", "--valid-fraction", "0.2", "--seed", "5", "--device", "cpu")
        assert result.exit_code == 0, result.output
        rows.append([line.split("\t")[1:4] for line in (tmp_path / f"{name}.pt.epochs.tsv").read_text().splitlines()])
    assert rows[0] == rows[1]


def test_evaluate_cli_reports_models_and_baselines(tmp_path, speech_dir, ckpt):
    prefix = tmp_path / "rep"
    result = _invoke("audio", "evaluate", "--model", f"tiny={ckpt}", "--data", speech_dir, "-o", prefix,
                     "--max-files", "2")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "rep.json").read_text())
    assert report["methods"] == ["spline", "sinc", "noise_fill", "tiny"]
    assert report["settings"]["lowres"] == "decimate" and report["wins"]["tiny"]["files"] == 2
    # the spline row is the spline baseline recomputed by hand
    f = sorted(speech_dir.iterdir())[0]
    x, y, _ = task_data.make_pair(sf.read(f, dtype="float32")[0], 4, "decimate")
    row = next(r for r in report["rows"] if r["method"] == "spline" and r["file"] == f.name)
    assert row["snr_db"] == pytest.approx(float(snr_db(x, y)), rel=1e-6)
    md = (tmp_path / "rep.md").read_text()
    assert "| noise_fill |" in md and "LSD log10" in md
    assert (tmp_path / "rep.png").stat().st_size > 10_000
    assert (tmp_path / "rep.tsv").read_text().count("\n") == 1 + 2 * 4


def test_evaluate_refuses_a_low_rate_reference(tmp_path, ckpt):
    sf.write(tmp_path / "lo.wav", _speechlike(1.0, rate=8000), 8000)
    result = _invoke("audio", "evaluate", "--model", ckpt, "--data", tmp_path / "lo.wav", "-o", tmp_path / "r")
    assert result.exit_code == 1 and "below the high-res rate 16000 Hz" in result.output


@pytest.mark.slow
def test_train_with_the_lwvd_loss_records_it(tmp_path, speech_dir):
    out = tmp_path / "w.pt"
    result = _invoke("audio", "train", "--data", speech_dir, "-o", out, "--patch", "2048", "--stride", "2048",
                     "--width", "0.03125", "--unet-depth", "2", "--blocks", "8", "--epochs", "1", "--valid-fraction", "0.2",
                     "--tf-loss", "lwvd", "--tf-loss-weight", "0.05")
    assert result.exit_code == 0, result.output
    norm = torch.load(out, weights_only=True)["meta"]
    assert norm["tf_loss"] == "lwvd" and norm["tf_loss_weight"] == 0.05


def test_tfr_cli_draws_a_png(tmp_path):
    inp, out = tmp_path / "s.wav", tmp_path / "tfr.png"
    sf.write(inp, np.stack([_speechlike(0.5), _speechlike(0.5, seed=1)], axis=1), RATE)
    result = _invoke("audio", "tfr", inp, "-o", out, "--filters", "16")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = _invoke("audio", "tfr", inp, "-o", tmp_path / "x.png", "--channel", "5")
    assert result.exit_code == 1 and "has 2 channel(s)" in result.output and not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_export_drops_the_training_state_and_keeps_the_output(tmp_path, speech_dir):
    from chipsr.io.checkpoint import load_checkpoint

    out = tmp_path / "m.pt"
    result = _invoke("audio", "train", "--data", speech_dir, "-o", out, "--patch", "2048", "--stride", "2048",
                     "--width", "0.03125", "--unet-depth", "2", "--blocks", "8", "--epochs", "1", "--valid-fraction", "0.2")
    assert result.exit_code == 0, result.output
    small = tmp_path / "small.pt"
    assert _invoke("audio", "export", out, "-o", small, "--half").exit_code == 0
    assert small.stat().st_size < out.stat().st_size / 3
    full, half = load_checkpoint(out), load_checkpoint(small)
    assert "train_state" not in half and half["meta"] == full["meta"] and len(half["history"]) == 1
    lr = _speechlike(1.0)[::4]
    a = SuperResolver(full).upsample_array(lr)
    b = SuperResolver(half).upsample_array(lr)
    assert float(snr_db(b, a)) > 50  # float16 weights change the output by < -50 dB


def test_shipped_example_model_beats_spline_on_the_demo_utterance(tmp_path):
    """The model in examples/audio super-resolves the bundled held-out utterance better than spline."""
    root = EXAMPLES / "audio"
    out = tmp_path / "up.wav"
    result = _invoke("audio", "upsample", root / "data" / "2989-138028-0000_4kHz.wav", "-o", out,
                     "--model", root / "speech_r4_tfilm.pt", "--ratio", "4")
    assert result.exit_code == 0, result.output
    y = sf.read(root / "data" / "2989-138028-0000.flac", dtype="float32")[0]
    up = sf.read(out, dtype="float32")[0]
    n = min(len(y), len(up)) // 4 * 4
    spline = task_data.spline_upsample(sf.read(root / "data" / "2989-138028-0000_4kHz.wav", dtype="float32")[0], 4)[:n]
    model, base = task_eval.score(up[:n], y[:n]), task_eval.score(spline, y[:n])
    assert model["snr_db"] > base["snr_db"] + 0.1 and model["lsd_log10"] < base["lsd_log10"] - 0.3


def test_ratio_6_model_with_a_fractional_low_rate(tmp_path):
    """r = 6 at 16 kHz has a 2666.67-Hz low rate: soxr resamples to it and the output is at 16 kHz."""
    ckpt = _tiny_checkpoint(tmp_path / "r6.pt", ratio=6)
    inp, out = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(inp, _speechlike(2.0, rate=8000), 8000)
    s = api.upsample(inp, out, ckpt)
    info = sf.info(out)
    assert info.samplerate == RATE and abs(info.frames - 2 * RATE) <= 6 and s["input_rate"] == 8000
