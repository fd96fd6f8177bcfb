"""Issue 13: bad options and inputs give one line, a non-zero exit and no output."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from chipsr.cli.main import cli


def one_line_error(args, *must_contain):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code != 0, result.output
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert "Traceback" not in result.output
    for text in must_contain:
        assert text in lines[0], (text, lines[0])
    return lines[0]


@pytest.mark.parametrize("command", [["denoise", "--marks", "a.bw", "--model", "m.pt"],
                                     ["audio", "upsample", "in.wav", "--model", "m.pt"],
                                     ["impute", "fill", "in.csv", "--model", "m.pt"]])
def test_device_is_validated_once_where_it_is_parsed(tmp_path, command):
    out = tmp_path / "o"
    one_line_error([*command, "-o", out, "--device", "bogus"], "--device", "bogus", "cpu, cuda")
    if not torch.cuda.is_available():
        one_line_error([*command, "-o", out, "--device", "cuda"], "--device", "CUDA is not available")
    assert not out.exists()


def test_usage_errors_are_one_line():
    one_line_error(["train"], "Missing option", "train --help")
    one_line_error(["no-such-command"], "No such command")
    one_line_error(["coverage", "x.bed", "-o", "x.bw", "--bin-size", "abc"], "--bin-size")


def test_non_finite_values_in_a_bigwig_are_an_error_naming_file_and_position(tmp_path):
    import numpy as np
    import pyBigWig

    from test_train_denoise import SIZES, write_bins

    rng = np.random.default_rng(0)
    n = -(-SIZES["chrA"] // 25)
    good = {"chrA": rng.gamma(0.5, 1.0, n)}
    bad_vals = good["chrA"].copy()
    bad_vals[4000:4020] = np.nan  # 20 non-finite bins (pyBigWig cannot write inf; other tools can: same check)
    truth = write_bins(tmp_path / "truth.bw", good)
    bad = write_bins(tmp_path / "bad.bw", {"chrA": bad_vals})
    with pyBigWig.open(str(bad)) as bw:
        assert np.isnan(bw.intervals("chrA", 100_000, 100_025)[0][2])
    before = bad.read_bytes()
    out = tmp_path / "ev"
    line = one_line_error(["evaluate", "--truth", truth, "--tracks", f"x={bad}", "-o", out, "--region", "chrA"],
                          "bad.bw", "non-finite value nan", "chrA:100001-")
    assert not list(tmp_path.glob("ev.*")) and bad.read_bytes() == before
    model = tmp_path / "m.pt"
    one_line_error(["train", "--marks", f"a={bad}", "--target", truth, "-o", model, "--train-region",
                    "chrA:1-120000", "--valid-region", "chrA:120001-150000", "--window", "200"], "bad.bw", "non-finite")
    assert not model.exists()
    assert "Traceback" not in line


def test_stale_temp_files_of_killed_runs_are_removed_by_the_next_run(tmp_path):
    import os
    import tempfile
    from pathlib import Path

    from test_output_guard import BED, SIZES

    out = tmp_path / "o.bw"
    dead = 2**22 + 12345  # above Linux's default pid_max (4,194,304): no such process
    stale = tmp_path / f".o.bw.pid{dead}.abcd.tmp.bw"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".o.bw.pid{os.getpid()}.efgh.tmp.bw"  # a run in progress: kept
    live.write_bytes(b"y")
    stale_dir = Path(tempfile.gettempdir()) / f"chipsr-coverage-pid{dead}-zzzz"
    stale_dir.mkdir(exist_ok=True)
    (stale_dir / "part.npz").write_bytes(b"z" * 100)
    result = CliRunner().invoke(cli, ["coverage", str(BED), "-o", str(out), "--chrom-sizes", str(SIZES)])
    assert result.exit_code == 0, result.output
    assert out.exists() and not stale.exists() and live.exists() and not stale_dir.exists()
    assert not list(Path(tempfile.gettempdir()).glob(f"chipsr-coverage-pid{os.getpid()}-*"))


def test_killed_train_leaves_no_model_and_resume_matches_an_uninterrupted_run(tmp_path):
    """SIGKILL mid-training: no file under the final name, denoise refuses the in-progress state,
    --resume with changed settings is refused, and --resume ends with the weights of a run that
    was never interrupted."""
    import signal
    import subprocess
    import sys
    import time

    from test_train_denoise import make_tracks, train_args

    files = make_tracks(tmp_path)
    opts = ["--arch", "conv", "--width", "0.0625", "--depth", "2", "--epochs", "6", "--samples-per-epoch", "256",
            "--device", "cpu"]
    full = tmp_path / "full.pt"
    assert CliRunner().invoke(cli, train_args(files, full, *opts)).exit_code == 0
    killed = tmp_path / "killed.pt"
    partial = tmp_path / "killed.pt.inprogress"
    proc = subprocess.Popen([sys.executable, "-m", "chipsr", *train_args(files, killed, *opts)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if partial.exists() and (tmp_path / "killed.pt.epochs.tsv").exists() and \
                len((tmp_path / "killed.pt.epochs.tsv").read_text().splitlines()) >= 3:  # 2 epochs done
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert partial.exists() and not killed.exists()
    one_line_error(["denoise", "--marks", f"{files['K27ac']},{files['K4me1']}", "--model", partial,
                    "-o", tmp_path / "d.bw"], "unfinished training state", "--resume")
    one_line_error([*train_args(files, killed, *opts[:-2]), "--lr", "5e-3", "--resume"], "--resume", "lr")
    result = CliRunner().invoke(cli, [*train_args(files, killed, *opts), "--resume"])
    assert result.exit_code == 0, result.output
    assert killed.exists() and not partial.exists()
    a, b = torch.load(full, weights_only=True), torch.load(killed, weights_only=True)
    for k, v in a["state_dict"].items():
        assert torch.equal(v, b["state_dict"][k]), k
    assert not list(tmp_path.glob(".killed.pt*"))  # no temp files left
