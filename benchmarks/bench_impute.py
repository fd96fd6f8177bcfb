#!/usr/bin/env python
"""Imputation speed on the full Beijing Air-Quality set (132 series x 35,064 hourly steps), CPU.

1. Training throughput (windows/s: drawing a window with fresh hiding + forward + masked loss +
   backward + Adam step) of the TFiLM U-Net, Conv U-Net and DNN imputers at the settings used
   for the results in docs/impute.md.
2. ``chipsr impute fill`` on the whole set written as one wide CSV (35,064 rows x 132 columns,
   1.56 % blank cells): wall time and peak RSS of the command, run in a subprocess.

Not a test: it prints a table. Uses 1 torch thread unless told otherwise.

    python benchmarks/bench_impute.py [--data BEIJING_DIR] [--model tfilm.pt] [--steps 20] [--threads 1]

BEIJING_DIR holds the 12 station files ``PRSA_Data_<Station>_20130301-20170228.csv`` (or ``.csv.gz``)
of the UCI Beijing Multi-Site Air-Quality data set (UCI ML Repository dataset 501, CC BY 4.0,
doi:10.24432/C5RK5G; https://archive.ics.uci.edu/dataset/501). Default: a folder
``shared/data/imputation/beijing_air_quality`` beside the repository.

Without --model, ``fill`` uses an untrained TFiLM imputer of the same architecture (the time
does not depend on the weights).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "imputation" / "beijing_air_quality"

#: the settings of the models in docs/impute.md
ARCH_SETTINGS = {
    "tfilm": {"arch": "tfilm", "n_steps": 24, "depth": 2, "width": 0.25},
    "conv": {"arch": "conv", "n_steps": 24, "depth": 2, "width": 0.25},
    "dnn": {"arch": "dnn", "n_steps": 24, "hidden": 2048, "n_layers": 3},
}


def train_throughput(imp_settings: dict, Z, steps: int, batch: int) -> tuple[float, int]:
    """Windows per second over ``steps`` optimiser steps (after 2 warm-up steps); parameters."""
    import torch

    from chipsr.core.models import count_parameters
    from chipsr.tasks.impute.model import Imputer, _TrainWindows, masked_loss

    imp = Imputer(**imp_settings, batch_size=batch)
    model = imp._build(Z.shape[1])
    ds = _TrainWindows([Z], imp.config, 10**6, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    loss_fn = masked_loss("l1")
    model.train()
    for i in range(steps + 2):
        if i == 2:
            t0 = time.perf_counter()
        xs, ys = zip(*(ds[j] for j in range(batch)))
        x, y = torch.stack(xs), torch.stack(ys)
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - t0), count_parameters(model)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model", type=Path, default=None, help="checkpoint for fill (default: untrained TFiLM)")
    ap.add_argument("--steps", type=int, default=20, help="optimiser steps per architecture")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import numpy as np
    import torch

    from chipsr.tasks.impute.data import Standardizer, load_beijing, saits_split

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    df = load_beijing(args.data)
    load_s = time.perf_counter() - t0
    train, _, _ = saits_split(df)
    Z = Standardizer.fit(train.to_numpy()).transform(train.to_numpy())
    print(f"Beijing: {df.shape[1]} series x {df.shape[0]} steps, loaded in {load_s:.1f} s; "
          f"torch {torch.__version__}, {args.threads} thread(s), CPU")
    print()
    print(f"{'model':<8}{'params':>12}{'train windows/s':>18}")
    for name, settings in ARCH_SETTINGS.items():
        wps, n_par = train_throughput(settings, Z, args.steps, args.batch)
        print(f"{name:<8}{n_par:>12,}{wps:>18.1f}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_in = tmp / "beijing_wide.csv"
        df.to_csv(csv_in, na_rep="", index_label="time")
        model = args.model
        if model is None:
            from chipsr.tasks.impute.model import Imputer

            imp = Imputer(feature_names=list(df.columns), **ARCH_SETTINGS["tfilm"])
            imp.scaler = Standardizer.fit(train.to_numpy())
            imp.model = imp._build(df.shape[1]).eval()
            model = tmp / "untrained.pt"
            imp.save(model)
        out = tmp / "filled.csv"
        code = ("import sys; from chipsr.cli.impute import impute; "
                "impute(sys.argv[1:], prog_name='chipsr impute')")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code, "fill", str(csv_in), "-o", str(out), "--model", str(model),
                               "-p", str(args.threads)], capture_output=True, text=True, check=False,
                              env={**os.environ, "OMP_NUM_THREADS": str(args.threads)})
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode != 0:
            sys.exit(f"fill failed: {proc.stderr.strip()}")
        n_blank = int(np.isnan(df.to_numpy()).sum())
        print()
        print(f"{'fill (whole command)':<24}{'wall s':>10}{'peak RSS MiB':>15}{'cells filled':>15}")
        rss = max(peak, before) / 1024  # ru_maxrss is in KiB on Linux
        print(f"{'TFiLM, 35,064 x 132':<24}{wall:>10.1f}{rss:>15.0f}{n_blank:>15,}")
        print(f"  ({csv_in.stat().st_size / 2**20:.1f} MiB CSV in, {out.stat().st_size / 2**20:.1f} MiB out; "
              f"{proc.stderr.strip()})")


if __name__ == "__main__":
    main()
