#!/usr/bin/env python
"""Benchmark `chipsr denoise` over full-size hg19 autosomes at 25-bp bins: Mbp/s and peak RSS.

Not a test. The input tracks are built by tiling the real example's low-depth chr22 coverage
(results/coverage/*.lowdepth.bw from `make example`, 16-51 Mb) over the chr1-22 lengths of
hg19; the model is a TFiLM U-Net of the workflow's default size (width 1/16, U-Net depth 4; weights do not
change the speed).

    python benchmarks/bench_denoise.py [--chroms chr1,chr2,...] [--threads 1] [--device cpu] [--overlap 50]
        [--width 0.0625 --unet-depth 4] [--coverage DIR]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyBigWig
import torch

ROOT = Path(__file__).resolve().parents[1]
MARKS = ["H3K27ac", "H3K4me1", "H3K4me3"]
BIN = 25


def read_sizes(path: Path) -> dict[str, int]:
    sizes = {}
    for line in path.read_text().splitlines():
        name, size = line.split()[:2]
        sizes[name] = int(size)
    return sizes


def build_tracks(workdir: Path, sizes: dict[str, int], coverage: Path,
                 names: list[str] | None = None) -> list[Path]:
    """Tile the example's chr22 coverage ``coverage/NAME.bw`` (16-51 Mb) over ``sizes`` at 25 bp;
    NAME defaults to the low-depth tracks of MARKS. Returns the new bigWigs ``workdir/NAME.bw``."""
    from chipsr.io.tracks import read_binned

    paths = []
    for name in names or [f"{m}.lowdepth" for m in MARKS]:
        src = coverage / f"{name}.bw"
        if not src.exists():
            sys.exit(f"{src} missing: run `make example` first")
        tile = read_binned(src, "chr22", BIN, 16_000_000, 51_000_000)
        out = workdir / f"{name}.bw"
        with pyBigWig.open(str(out), "w") as bw:
            bw.addHeader(list(sizes.items()))
            for chrom, size in sizes.items():
                n = -(-size // BIN)
                values = np.resize(tile, n)
                starts = np.arange(n, dtype=np.int64) * BIN
                for i in range(0, n, 2_000_000):
                    s = starts[i : i + 2_000_000]
                    bw.addEntries([chrom] * len(s), s, ends=np.minimum(s + BIN, size), values=values[i : i + 2_000_000])
        paths.append(out)
    return paths


def make_model(path: Path, width: float, depth: int) -> None:
    from chipsr.io.checkpoint import make_checkpoint, save_checkpoint
    from chipsr.tasks.chipseq.config import ModelSettings
    from chipsr.tasks.chipseq.model import build_chipseq_model

    model = build_chipseq_model(ModelSettings(width=width, unet_depth=depth), len(MARKS))
    norm = {"task": "chipseq", "marks": [f"{m}.lowdepth" for m in MARKS], "target": "H3K27ac.fulldepth",
            "bin_size": BIN, "window": 1000, "arch": "tfilm", "transform": "none", "input_scale": [1.0] * 3,
            "target_scale": 1.0, "splits": {}}
    save_checkpoint(path, make_checkpoint(model, norm))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chroms", default=",".join(f"chr{i}" for i in range(1, 23)))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--overlap", type=int, default=50)
    parser.add_argument("--width", type=float, default=0.0625)
    parser.add_argument("--unet-depth", type=int, default=4)
    parser.add_argument("--coverage", default=str(ROOT / "results" / "coverage"),
                        help="Folder with MARK.lowdepth.bw (the example's low-depth coverage).")
    parser.add_argument("--tracks", default=None,
                        help="Folder to build the tiled tracks in and reuse on the next call (bench_train_data.py "
                             "builds the same ones) [default: a temporary one].")
    args = parser.parse_args()
    hg19 = read_sizes(ROOT / "examples" / "data" / "hg19.chrom.sizes")
    sizes = {c: hg19[c] for c in args.chroms.split(",")}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        built = Path(args.tracks) if args.tracks else work
        built.mkdir(parents=True, exist_ok=True)
        tracks = [built / f"{m}.lowdepth.bw" for m in MARKS]
        if not all(t.exists() for t in tracks):
            t0 = time.perf_counter()
            tracks = build_tracks(built, sizes, Path(args.coverage))
            print(f"built {len(tracks)} tracks over {sum(sizes.values()) / 1e6:.0f} Mbp in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
        make_model(work / "model.pt", args.width, args.unet_depth)
        regions = [a for c in sizes for a in ("--region", c)]  # reused tracks may cover more chromosomes
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "chipsr", "-v", "denoise", *regions, "--marks",
               ",".join(str(p) for p in tracks), "--model", str(work / "model.pt"), "-o", str(work / "out.bw"),
               "--threads", str(args.threads), "--device", args.device, "--overlap", str(args.overlap)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(proc.stderr[-2000:])
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
        mbp = sum(sizes.values()) / 1e6
        print(f"torch {torch.__version__}, device {args.device}, threads {args.threads}, overlap {args.overlap}, "
              f"model width {args.width:g} U-Net depth {args.unet_depth}")
        print(f"denoise: {mbp:.0f} Mbp in {wall:.0f} s = {mbp / wall:.2f} Mbp/s (incl. start-up and bigWig "
              f"writing); peak RSS {rss / 1024 / 1024:.2f} GiB")


if __name__ == "__main__":
    main()
