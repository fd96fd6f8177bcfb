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
