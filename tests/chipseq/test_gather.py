"""Sharded denoising: `chipsr denoise --region CHR` per chromosome, then `chipsr gather`,
is byte-for-byte one unsharded `chipsr denoise`."""

from __future__ import annotations

import numpy as np
import pyBigWig
from click.testing import CliRunner

from chipsr.cli.main import cli

from builders import SIZES, one_line_error, write_bins


def _denoise(tracks, model, out, *regions):
    args = ["denoise", "--marks", f"{tracks['K27ac']},{tracks['K4me1']}", "--model", str(model), "-o", str(out)]
    for r in regions:
        args += ["--region", r]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return out


def test_shards_gather_into_the_unsharded_bigwig_byte_for_byte(tmp_path, tiny_tracks, tiny_model):
    tracks, model = tiny_tracks, tiny_model
    whole = _denoise(tracks, model, tmp_path / "whole.bw")
    shards = [_denoise(tracks, model, tmp_path / f"{c}.bw", c) for c in SIZES]
    out = tmp_path / "gathered.bw"
    # shards in any order: the header's order decides
    result = CliRunner().invoke(cli, ["gather", *map(str, shards[::-1]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == whole.read_bytes()
    with pyBigWig.open(str(out)) as bw:
        assert bw.chroms() == SIZES

    # a chromosome in two shards, another header, an unbinned track, the output is a shard: one line each
    one_line_error(["gather", str(shards[0]), str(whole), "-o", str(tmp_path / "x.bw")], "chrA", "one shard")
    other = write_bins(tmp_path / "other.bw", {"chrA": np.ones(10)}, sizes={"chrA": 150_000})
    one_line_error(["gather", str(shards[1]), str(other), "-o", str(tmp_path / "x.bw")], "other.bw", "header")
    with pyBigWig.open(str(tmp_path / "odd.bw"), "w") as bw:
        bw.addHeader(list(SIZES.items()))
        bw.addEntries(["chrA", "chrA"], [0, 100], ends=[100, 130], values=[1.0, 2.0])
    one_line_error(["gather", str(tmp_path / "odd.bw"), "-o", str(tmp_path / "x.bw")], "odd.bw", "not a binned")
    one_line_error(["gather", str(shards[0]), str(shards[1]), "-o", str(shards[1])], "would overwrite")
    assert not (tmp_path / "x.bw").exists()
