"""The Snakemake workflow: lint, dry run, and a real run on the bundled example."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyBigWig
import pytest

ROOT = Path(__file__).resolve().parents[1]


def snakemake(*args, cwd=ROOT):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def test_lint():
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_dry_run_lists_every_step(tmp_path):
    result = snakemake("-n", "--cores", "1", "--config", f"results={tmp_path}")
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    for rule in ("subsample", "coverage_lowdepth", "coverage_fulldepth"):
        assert rule in text


def test_invalid_config_is_rejected(tmp_path):
    result = snakemake("-n", "--cores", "1", "--config", "coverage={'bin_size': 0}")
    assert result.returncode != 0


@pytest.mark.slow
def test_example_run(tmp_path):
    result = snakemake("--cores", "2", "--config", f"results={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    for depth in ("lowdepth", "fulldepth"):
        with pyBigWig.open(str(tmp_path / "coverage" / f"H3K27ac.{depth}.bw")) as bw:
            assert bw.chroms("chr22") == 51_304_566
            assert bw.header()["sumData"] > 0
    assert (tmp_path / "benchmarks" / "coverage" / "H3K4me3.lowdepth.tsv").exists()
    log = (tmp_path / "logs" / "subsample" / "H3K4me1.bed.gz.log").read_text()
    assert "kept 16600 of 425237" in log
