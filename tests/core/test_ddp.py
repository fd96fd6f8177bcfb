"""Issue 15: `torchrun --nproc-per-node=2 -m chipsr train` on CPU (gloo), against one process.

Real data: the MOLM-13 H3K27ac fragments of chr22:30-32 Mb (tests/data/golden), full depth and a 5 %
subsample, as in tests/chipseq/test_peaks.py.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from chipsr.cli.main import cli

from builders import GOLDEN_BED, HG19_SIZES

FRAGS = GOLDEN_BED
SIZES = HG19_SIZES
pytest.importorskip("torch.distributed")
pytestmark = pytest.mark.slow  # every test starts torchrun


def run(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def tracks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    low = tmp / "low.bed.gz"
    assert run(["subsample", FRAGS, "-o", low, "--fraction", "0.05", "--seed", "1"]).exit_code == 0
    out = {}
    for name, reads in (("full", FRAGS), ("low", low)):
        out[name] = tmp / f"{name}.bw"
        assert run(["coverage", reads, "-o", out[name], "--bin-size", "25", "--chrom-sizes", SIZES]).exit_code == 0
    return out


def train_args(tracks, output, seed):
    return ["train", "--marks", f"H3K27ac={tracks['low']}", "--target", f"H3K27ac={tracks['full']}", "-o", output,
            "--train-region", "chr22:30000001-31400000", "--valid-region", "chr22:31400001-32000000",
            "--arch", "conv", "--window", "200", "--width", "0.0625", "--unet-depth", "2", "--epochs", "6",
            "--samples-per-epoch", "128", "--batch-size", "16", "--seed", str(seed), "-p", "1"]


def best_valid_r(model: Path) -> float:
    with open(str(model) + ".epochs.tsv") as fh:
        return max(float(r["valid_metric"]) for r in csv.DictReader(fh, delimiter="\t"))


def test_two_process_ddp_matches_one_process_within_seed_noise(tracks, tmp_path):
    singles = []
    for seed in (0, 1):
        model = tmp_path / f"single{seed}.pt"
        res = run(train_args(tracks, model, seed))
        assert res.exit_code == 0, res.output
        singles.append(best_valid_r(model))
    ddp = tmp_path / "ddp.pt"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                           "-m", "chipsr", "-v", *map(str, train_args(tracks, ddp, 0))],
                          capture_output=True, text=True, timeout=600, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "DDP world size 2 (backend gloo" in proc.stderr
    assert proc.stderr.count("epoch 1: train") == 1  # only rank 0 logs
    assert ddp.exists() and not Path(str(ddp) + ".inprogress").exists()
    with open(str(ddp) + ".epochs.tsv") as fh:
        assert len(list(csv.DictReader(fh, delimiter="\t"))) == 6  # written once, by rank 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ddp.pt")]  # no temp file left
    noise = abs(singles[0] - singles[1])
    r = best_valid_r(ddp)
    print(f"valid r: 1 process seeds 0 / 1 {singles[0]:.4f} / {singles[1]:.4f}; 2 processes (DDP) {r:.4f}")
    assert r > 0.5 and abs(r - singles[0]) <= noise + 0.02, (r, singles)
    # the DDP model is a normal model: it denoises
    assert run(["denoise", "--marks", f"H3K27ac={tracks['low']}", "--model", ddp, "-o", tmp_path / "d.bw",
                "--region", "chr22:31400001-32000000"]).exit_code == 0


def test_batch_not_divisible_by_processes_is_one_line(tracks, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = train_args(tracks, tmp_path / "m.pt", 0)
    args[args.index("--batch-size") + 1] = "15"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                           "-m", "chipsr", *args], capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode != 0
    assert "must be a multiple of the 2 DDP processes" in proc.stderr
    assert not (tmp_path / "m.pt").exists()


def torchrun(args, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m", "chipsr",
            *map(str, args)], env


def test_ddp_resume_after_a_kill_ends_like_an_uninterrupted_run(tracks, tmp_path):
    """SIGKILL the whole torchrun group after 2 epochs; `--resume` under torchrun ends with the weights of a
    DDP run that was never interrupted (rank 0 wrote OUTPUT.inprogress; every rank reads it)."""
    import signal
    import time

    import torch

    full = tmp_path / "full.pt"
    cmd, env = torchrun(train_args(tracks, full, 0))
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=600, check=False).returncode == 0
    killed = tmp_path / "killed.pt"
    cmd, env = torchrun(train_args(tracks, killed, 0))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    log = Path(str(killed) + ".epochs.tsv")
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if log.exists() and len(log.read_text().splitlines()) >= 3:  # 2 epochs done
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be killed"
    # the agent and its workers (torchrun may put the workers in sessions of their own): every process
    # whose command line names this output
    subprocess.run(["pkill", "-KILL", "-f", str(killed)], check=False)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    assert Path(str(killed) + ".inprogress").exists() and not killed.exists()
    cmd, env = torchrun([*train_args(tracks, killed, 0), "--resume"])
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    a, b = torch.load(full, weights_only=True), torch.load(killed, weights_only=True)
    for k, v in a["state_dict"].items():
        assert torch.allclose(v, b["state_dict"][k], atol=1e-6), k
