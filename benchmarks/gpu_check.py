#!/usr/bin/env python
"""The project's one-command GPU check (issue 15): run it on a machine with an NVIDIA GPU.

    bash benchmarks/gpu_check.sh            # = python benchmarks/gpu_check.py
    python benchmarks/gpu_check.py --device cpu --quick   # the same steps on the CPU (a dry check)

Steps, each timed, then one Markdown table on stdout (paste it into the README):
1. the GPU (nvidia-smi) and torch's view of it;
2. the tests marked `gpu` (pytest -m gpu);
3. `chipsr denoise` speed on the real example's chr22 coverage (built here from examples/data with
   `chipsr subsample` + `chipsr coverage`, so no earlier `make example` is needed), default model size;
4. a short `chipsr train` on the same tracks: training windows/s (bf16 autocast on CUDA) and valid r;
5. with 2 or more GPUs, the same training under `torchrun --nproc-per-node=2` (DDP, NCCL).
Budget: under 10 minutes on one GPU. Not a test; nothing here is asserted beyond each step's exit code.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
MARKS = {"H3K27ac": "GSM2136938_MOLM13.H3K27ac", "H3K4me1": "GSM2136939_MOLM13.H3K4me1",
         "H3K4me3": "GSM2136940_MOLM13.H3K4me3"}
SPLITS = ["--train-region", "chr22:16000001-36000000", "--valid-region", "chr22:36000001-40000000"]


def step(rows: list, name: str, cmd: list[str], timeout: int = 600) -> subprocess.CompletedProcess:
    """Run one step, record (name, status, seconds) and return the process."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        rows.append((name, f"timed out after {timeout} s", ""))
        return subprocess.CompletedProcess(cmd, 124, "", "")
    seconds = time.perf_counter() - t0
    status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
    rows.append([name, status, f"{seconds:.1f} s"])
    return proc


def chipsr(*args) -> list[str]:
    return [sys.executable, "-m", "chipsr", *map(str, args)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--quick", action="store_true", help="Fewer epochs and no pytest (a dry check of the script).")
    args = ap.parse_args()
    import torch

    rows: list = []
    smi = shutil.which("nvidia-smi")
    gpus = torch.cuda.device_count() if args.device == "cuda" else 0
    if args.device == "cuda" and gpus == 0:
        sys.exit("no CUDA device visible to torch: run with --device cpu for a dry check")
    info = subprocess.run([smi, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                          capture_output=True, text=True, check=False).stdout.strip() if smi else "no nvidia-smi"
    rows.append(["machine", f"torch {torch.__version__}, {gpus} GPU(s): {info or 'none'}", ""])
    if not args.quick:
        step(rows, "pytest -m gpu", [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider"],
             timeout=300)
    with tempfile.TemporaryDirectory(prefix="chipsr-gpu-check-") as tmp:
        work = Path(tmp)
        low, full = {}, {}
        t0 = time.perf_counter()
        for mark, stem in MARKS.items():
            reads = DATA / f"{stem}.chr22.frag200.bed.gz"
            sub = work / f"{mark}.low.bed.gz"
            subprocess.run(chipsr("subsample", reads, "-o", sub, "--number", 16600, "--seed", 1), check=True,
                           capture_output=True)
            for kind, src, out in (("low", sub, low), ("full", reads, full)):
                out[mark] = work / f"{mark}.{kind}.bw"
                subprocess.run(chipsr("coverage", src, "-o", out[mark], "--bin-size", 25, "--chrom-sizes",
                                      DATA / "hg19.chrom.sizes"), check=True, capture_output=True)
        rows.append(["example coverage (3 marks, low + full)", "ok", f"{time.perf_counter() - t0:.1f} s"])
        marks = ",".join(f"{m}={p}" for m, p in low.items())
        model = ROOT / "examples" / "models" / "H3K27ac.tfilm.pt"
        proc = step(rows, f"denoise chr22 ({args.device}, shipped H3K27ac model)",
                    chipsr("-v", "denoise", "--marks", marks, "--model", model, "-o", work / "d.bw", "--region", "chr22",
                           "--device", args.device))
        rate = re.search(r"\(([\d.]+) Mbp/s\)", proc.stderr)
        rows[-1][1] += f"; loop {rate.group(1)} Mbp/s" if rate else ""
        epochs = 2 if args.quick else 6
        train = ["--marks", marks, "--target", f"H3K27ac={full['H3K27ac']}", *SPLITS, "--epochs", epochs,
                 "--samples-per-epoch", 1600, "--batch-size", 32, "--device", args.device]
        for name, cmd in [("train 1 process", chipsr("-v", "train", *train, "-o", work / "m1.pt"))] + (
                [("train DDP 2 processes", [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                            "--nproc-per-node=2", "-m", "chipsr", "-v", "train", *map(str, train),
                                            "-o", str(work / "m2.pt")])] if gpus >= 2 else []):
            out = work / ("m1.pt" if "1 process" in name else "m2.pt")
            proc = step(rows, f"{name} ({epochs} epochs x 1600 windows)", list(map(str, cmd)))
            if proc.returncode == 0:
                with open(str(out) + ".epochs.tsv") as fh:
                    recs = list(csv.DictReader(fh, delimiter="\t"))
                rate = sum(float(r["samples_per_s"]) for r in recs) / len(recs)
                rows[-1][1] += (f"; {rate:.0f} windows/s per process, best valid r "
                                f"{max(float(r['valid_metric']) for r in recs):.3f}")
        if gpus < 2:
            rows.append(["train DDP 2 processes", "skipped: fewer than 2 GPUs", ""])
    print("| check | result | time |\n|---|---|---:|")
    for name, status, seconds in rows:
        print(f"| {name} | {status} | {seconds} |")


if __name__ == "__main__":
    main()
