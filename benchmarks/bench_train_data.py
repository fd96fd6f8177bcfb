#!/usr/bin/env python
"""Benchmark `chipsr train`'s streaming training data (issue 15) on hg19-sized tracks: peak RSS,
time to stream the bins, and training windows/s.

Not a test. The tracks are the real example's chr22 coverage (results/coverage/ from
`make example`: three low-depth marks and the full-depth H3K27ac target) tiled over the hg19
lengths of --chroms; training uses every chromosome but the last, validation the last one whole.
One epoch of --samples crops by default: the point is memory, which does not grow with epochs
beyond the pages the crops touch.

    python benchmarks/bench_train_data.py [--chroms chr1,...,chr22] [--bin-size 25] [--epochs 1]
        [--samples 800] [--threads 2] [--workers 0] [--coverage DIR]

Example: the 1-bp case on one chromosome (train on its first 40 Mb, validate on the rest):
    python benchmarks/bench_train_data.py --chroms chr22 --bin-size 1
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_denoise import BIN, MARKS, ROOT, build_tracks, read_sizes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chroms", default=",".join(f"chr{i}" for i in range(1, 23)))
    parser.add_argument("--bin-size", type=int, default=BIN)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--samples", type=int, default=800)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--coverage", default=str(ROOT / "results" / "coverage"),
                        help="Folder with MARK.lowdepth.bw and H3K27ac.fulldepth.bw (the example's coverage).")
    parser.add_argument("--chipsr", default=None,
                        help="Directory of another chipsr checkout to run instead (e.g. an older commit's worktree).")
    parser.add_argument("--tracks", default=None,
                        help="Folder to build the tiled tracks in and reuse on the next call [default: a temporary one].")
    args = parser.parse_args()
    hg19 = read_sizes(ROOT / "examples" / "data" / "hg19.chrom.sizes")
    chroms = args.chroms.split(",")
    sizes = {c: hg19[c] for c in chroms}
    if len(chroms) > 1:
        train, valid = chroms[:-1], [chroms[-1]]
    else:
        train, valid = [f"{chroms[0]}:1-40000000"], [f"{chroms[0]}:40000001-{sizes[chroms[0]]}"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        names = [f"{m}.lowdepth" for m in MARKS] + ["H3K27ac.fulldepth"]
        built = Path(args.tracks) if args.tracks else work
        built.mkdir(parents=True, exist_ok=True)
        stamp = built / f"built.{'_'.join(chroms)}"
        if stamp.exists():
            tracks = [built / f"{n}.bw" for n in names]
        else:
            t0 = time.perf_counter()
            tracks = build_tracks(built, sizes, Path(args.coverage), names)
            stamp.touch()
            print(f"built {len(tracks)} tracks over {sum(sizes.values()) / 1e6:.0f} Mbp in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
        model = work / "model.pt"
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "chipsr", "train", "--marks",
               ",".join(str(p) for p in tracks[:-1]), "--target", str(tracks[-1]), "-o", str(model),
               "--bin-size", str(args.bin_size), "--epochs", str(args.epochs), "--samples-per-epoch",
               str(args.samples), "--threads", str(args.threads), "--device", "cpu"]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        for r in train:
            cmd += ["--train-region", r]
        for r in valid:
            cmd += ["--valid-region", r]
        env = None
        if args.chipsr:  # run from that checkout, so `-m chipsr` finds its package first
            import os

            env = {**os.environ, "PYTHONPATH": str(Path(args.chipsr).resolve())}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=args.chipsr or None)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(proc.stderr[-3000:])
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
        with open(str(model) + ".epochs.tsv") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        train_s = sum(float(r["seconds"]) for r in rows)
        wps = sum(float(r["samples_per_s"]) for r in rows) / len(rows)
        n_bins = sum(sizes.values()) // args.bin_size
        print(f"train: {len(train)} training + {len(valid)} validation region(s), {n_bins / 1e6:.0f}M bins per track "
              f"at {args.bin_size} bp, {args.epochs} epoch(s) of {args.samples} crops, {args.threads} threads, "
              f"{args.workers} workers")
        print(f"wall {wall:.0f} s (epochs {train_s:.0f} s, the rest reading/streaming the bins and start-up); "
              f"{wps:.0f} training windows/s; valid r {float(rows[-1]['valid_metric']):.4f}; "
              f"peak RSS {rss / 1024 / 1024:.2f} GiB")


if __name__ == "__main__":
    main()
