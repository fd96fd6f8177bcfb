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
