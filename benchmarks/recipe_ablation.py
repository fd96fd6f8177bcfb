"""Training-recipe ablation for `chipsr train` on the example (issue 11).

Trains one model per run with the given options (through the public API, the same code path as
`chipsr train`), then scores the kept checkpoint by Pearson r on the validation region (what the
recipe is chosen on) and on the held-out test region (reported, never used for choosing), over
non-blacklisted 25-bp bins. Appends one row per run to a TSV.

Run after the workflow has built `results/coverage/` (e.g. `snakemake --cores 2
results/coverage/H3K27ac.lowdepth.bw ...`):

    python benchmarks/recipe_ablation.py --target H3K27ac --name default --out ablation.tsv -- --arch tfilm
    python benchmarks/recipe_ablation.py --target H3K27ac --name no-reverse --out ablation.tsv -- --no-reverse
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MARKS = ("H3K27ac", "H3K4me1", "H3K4me3")
SPLITS = {"train": "chr22:16000001-36000000", "valid": "chr22:36000001-40000000", "test": "chr22:40000001-51304566"}
BLACKLIST = REPO / "examples" / "data" / "hg19-blacklist.v2.bed.gz"


def region_r(model_path: Path, coverage: Path, target: str, region: str) -> float:
    """Pearson r of the model's output vs the full-depth track over a region's non-blacklisted bins."""
    import torch

    from chipsr.core.inference import predict_tiled
    from chipsr.core.metrics import pearson_r
    from chipsr.tasks.chipseq.model import model_from_checkpoint  # registers the ChIP-seq networks
    from chipsr.io.checkpoint import load_checkpoint
    from chipsr.io.genome import overlaps_intervals, parse_region, read_bed_intervals
    from chipsr.tasks.chipseq.data import Scaling, load_bins

    ckpt = load_checkpoint(model_path)
    norm = ckpt["meta"]
    scaling = Scaling(norm["transform"], list(norm["input_scale"]), float(norm["target_scale"]),
                      norm.get("input_transform", "scaled"))
    model = model_from_checkpoint(ckpt)
    reg = parse_region(region)
    b = int(norm["bin_size"])
    start, end = (reg.start // b) * b, reg.end
    x = load_bins([coverage / f"{m}.lowdepth.bw" for m in MARKS], reg.chrom, b, start, end)
    y = load_bins([coverage / f"{target}.fulldepth.bw"], reg.chrom, b, start, end)[0]
    with torch.no_grad():
        pred = predict_tiled(model, scaling.inputs(x), window=int(norm["window"]), overlap=100, batch_size=64)
    pred = scaling.invert(pred[0].numpy())
    edges = start + np.arange(len(y) + 1) * b
    black = overlaps_intervals(edges[:-1], edges[1:], read_bed_intervals(BLACKLIST).get(reg.chrom))
    return float(pearson_r(pred[~black], y[~black]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, choices=MARKS)
    ap.add_argument("--name", required=True, help="Row label (the recipe variant).")
    ap.add_argument("--out", required=True, help="TSV to append to.")
    ap.add_argument("--coverage", default=str(REPO / "results" / "coverage"))
    ap.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then extra `chipsr train` options.")
    args = ap.parse_args()
    extra = [a for a in args.train_args if a != "--"]
    from click.testing import CliRunner

    from chipsr.cli.main import cli

    cov = Path(args.coverage)
    marks = ",".join(f"{m}={cov / f'{m}.lowdepth.bw'}" for m in MARKS)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.pt"
        t0 = time.perf_counter()
        result = CliRunner().invoke(cli, ["train", "--marks", marks, "--target", str(cov / f"{args.target}.fulldepth.bw"),
                                          "-o", str(model), "--train-region", SPLITS["train"],
                                          "--valid-region", SPLITS["valid"], "--test-region", SPLITS["test"],
                                          "--blacklist", str(BLACKLIST), *extra])
        seconds = time.perf_counter() - t0
        if result.exit_code != 0:
            sys.exit(f"train failed: {result.output}")
        row = {"target": args.target, "name": args.name, "options": " ".join(extra),
               "valid_r": f"{region_r(model, cov, args.target, SPLITS['valid']):.4f}",
               "test_r": f"{region_r(model, cov, args.target, SPLITS['test']):.4f}",
               "train_s": f"{seconds:.0f}"}
    new = not os.path.exists(args.out)
    with open(args.out, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row), delimiter="\t")
        if new:
            w.writeheader()
        w.writerow(row)
    print("\t".join(row.values()))


if __name__ == "__main__":
    main()
