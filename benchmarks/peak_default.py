"""How good is `chipsr peaks`' default cutoff? Peak F1 against the full-depth MACS3 peaks, per mark and track.

For each mark of the bundled example (MOLM-13, hg19 chr22: H3K27ac and H3K4me3 narrow, H3K4me1 broad) and
each track a user may call peaks on (the low-depth coverage and its denoised track, at one or several
depths), the script calls peaks with `chipsr peaks` three ways and scores each on the test region:

- calibrated: `--truth-peaks FULL_PEAKS --valid-region VALID` (the fold with the best peak F1 on the
  validation region: what the workflow does, and the best a user with deep peaks gets);
- fold 4: `--fold 4`, a fixed fold over the track's mean, for comparison;
- default: no cutoff option at all (what a user without truth peaks or a model gets).

Beside them, `macs3 callpeak` on the low-depth reads at the workflow's cutoffs (q 0.05, p 1e-2 ... 1e-5),
the best of them on the test region (the usual practice without denoising). With --fold-sweep, it also
prints the peak F1 of the full-depth coverage called at several folds on the validation region: the
measurement behind the default rule's fold.

Inputs, all in the repository: the full-depth fragments examples/data/GSM21369{38,39,40}_MOLM13.*.bed.gz,
examples/data/hg19.chrom.sizes, examples/data/hg19-blacklist.v2.bed.gz and the models
examples/models/{mark}.tfilm.pt. The script builds what it needs in --work with chipsr's own commands
(skipping files that exist): `chipsr subsample -n` (seed --seed), `chipsr coverage --bin-size 25`,
`chipsr denoise --region chr22`, and the truth peaks with `macs3 callpeak -f BEDPE --keep-dup all`
(`--broad --broad-cutoff 0.1` for H3K4me1), as workflow/rules/peaks.smk does. Splits as in
config/config.yaml: validation chr22:36000001-40000000, test chr22:40000001-51304566. Peaks overlapping
the blacklist are dropped and truth peaks are clipped to the region (chipsr.tasks.chipseq.peaks.restrict);
a called peak is right when it overlaps a truth peak by >= 1 bp.

Run from the repository root with MACS3 installed: `python benchmarks/peak_default.py --work /tmp/pd`
(about 5 minutes on 2 CPU cores for one depth; --depths 0.5,1,2,4 for the depth series). Prints a Markdown
table and writes the rows as a TSV (--out).
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARKS = {"H3K27ac": ("GSM2136938", "narrow"), "H3K4me3": ("GSM2136940", "narrow"), "H3K4me1": ("GSM2136939", "broad")}
VALID, TEST = "chr22:36000001-40000000", "chr22:40000001-51304566"
LOWDEPTH_CUTOFFS = ("q0.05", "p1e-2", "p1e-3", "p1e-4", "p1e-5")
GENOME_SIZE = "35000000"  # MACS3 -g for chr22, as config/config.yaml


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", type=Path, required=True, help="Folder for the tracks, peaks and the TSV (reused).")
    p.add_argument("--examples", type=Path, default=REPO / "examples", help="The example folder [%(default)s].")
    p.add_argument("--number", type=int, default=16_600, help="Low-depth fragments per mark at depth 1 "
                                                                "[%(default)s, the example's].")
    p.add_argument("--depths", default="1", help="Depths to score, as multiples of --number, comma-separated "
                                                  "[%(default)s].")
    p.add_argument("--seed", type=int, default=1, help="Subsampling seed [%(default)s].")
    p.add_argument("--threads", type=int, default=2, help="chipsr denoise -p [%(default)s].")
    p.add_argument("--fold-sweep", action="store_true", help="Also score the full-depth coverage at several folds "
                                                              "on the validation region.")
    p.add_argument("--out", type=Path, default=None, help="TSV of the rows [WORK/peak_default.tsv].")
    return p.parse_args(argv)


def sh(args: list, log: Path | None = None) -> str:
    """Run a command; its stderr goes to ``log`` (and is returned); stop with its message if it fails."""
    res = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    if log is not None:
        log.write_text(res.stderr)
    if res.returncode != 0:
        sys.exit(f"failed ({res.returncode}): {' '.join(map(str, args))}\n{res.stderr[-2000:]}")
    return res.stderr


def chipsr(*args, log: Path | None = None) -> str:
    return sh([sys.executable, "-m", "chipsr", *args], log)


def macs3() -> str:
    found = shutil.which("macs3") or str(Path(sys.executable).with_name("macs3"))
    if not Path(found).exists():
        sys.exit("macs3 not found: pip install 'macs3>=3.0.4'")
    return found


def build(a: argparse.Namespace, depths: list[float]) -> dict:
    """Every input, built in ``a.work`` when missing: {(mark, kind, depth): path} for tracks, plus the reads
    and the truth peaks."""
    data, work = a.examples / "data", a.work
    sizes, blacklist = data / "hg19.chrom.sizes", data / "hg19-blacklist.v2.bed.gz"
    cov = ["--bin-size", "25", "--chrom-sizes", sizes, "--blacklist", blacklist]
    out: dict = {}
    for mark, (gsm, kind) in MARKS.items():
        full_reads = data / f"{gsm}_MOLM13.{mark}.chr22.frag200.bed.gz"
        out[mark, "reads", "full"] = full_reads
        full = work / "full" / f"{mark}.bw"
        if not full.exists():
            full.parent.mkdir(parents=True, exist_ok=True)
            chipsr("coverage", full_reads, "-o", full, *cov)
        out[mark, "coverage", "full"] = full
        truth = work / "truth" / f"{mark}_peaks.{'broadPeak' if kind == 'broad' else 'narrowPeak'}"
        if not truth.exists():
            truth.parent.mkdir(parents=True, exist_ok=True)
            broad = ["--broad", "--broad-cutoff", "0.1"] if kind == "broad" else []
            sh([macs3(), "callpeak", "-t", full_reads, "-f", "BEDPE", "-g", GENOME_SIZE, "-n", mark, "--outdir",
                truth.parent, "--keep-dup", "all", *broad], work / "truth" / f"{mark}.log")
        out[mark, "truth"] = truth
        for depth in depths:
            d = work / f"x{depth:g}"
            d.mkdir(parents=True, exist_ok=True)
            reads, low = d / f"{mark}.bed.gz", d / f"{mark}.low.bw"
            if not reads.exists():
                chipsr("subsample", full_reads, "-o", reads, "-n", str(round(a.number * depth)), "--seed", str(a.seed))
            if not low.exists():
                chipsr("coverage", reads, "-o", low, *cov)
            out[mark, "reads", depth], out[mark, "low-depth", depth] = reads, low
    for depth in depths:
        d = work / f"x{depth:g}"
        marks = ",".join(f"{m}={d / f'{m}.low.bw'}" for m in ("H3K27ac", "H3K4me1", "H3K4me3"))  # the cards' order
        for mark in MARKS:
            den = d / f"{mark}.denoised.bw"
            if not den.exists():
                chipsr("denoise", "--marks", marks, "--model", a.examples / "models" / f"{mark}.tfilm.pt", "-o", den,
                       "--region", "chr22", "-p", str(a.threads))
            out[mark, "denoised", depth] = den
    return out


def scorer(blacklist: Path):
    """``score(peak_file, truth_file, region) -> dict`` of chipsr's peak-level scores on ``region``."""
    from chipsr.io.genome import parse_region, read_bed_intervals, read_chrom_sizes
    from chipsr.io.peaks import read_peak_intervals
    from chipsr.tasks.chipseq.peaks import peak_set_scores, restrict

    bl = read_bed_intervals(blacklist)
    sizes = read_chrom_sizes(blacklist.parent / "hg19.chrom.sizes")

    def score(called: Path, truth: Path, region: str) -> dict:
        reg = [parse_region(region)]
        return peak_set_scores(restrict(read_peak_intervals(called), reg, sizes, bl),
                               restrict(read_peak_intervals(truth), reg, sizes, bl))
    return score


def call(track: Path, out: Path, kind: str, blacklist: Path, *options) -> float:
    """`chipsr peaks` on ``track``; returns the cutoff it reports."""
    text = chipsr("peaks", track, "-o", out, "--peak-type", kind, "--blacklist", blacklist, *options)
    found = re.search(r"where the track >= ([0-9.eE+-]+)", text)
    return float(found.group(1)) if found else math.nan


def lowdepth_macs3(reads: Path, kind: str, work: Path, truth: Path, score) -> tuple[str, dict]:
    """`macs3 callpeak` on the low-depth reads at each of the workflow's cutoffs; the best on the test region."""
    best = ("", {"f1": -1.0})
    for cut in LOWDEPTH_CUTOFFS:
        name = f"{reads.name.split('.')[0]}.{cut}"
        peaks = work / f"{name}_peaks.{'broadPeak' if kind == 'broad' else 'narrowPeak'}"
        if not peaks.exists():
            broad = ["--broad", "--broad-cutoff", "0.1"] if kind == "broad" else []
            sh([macs3(), "callpeak", "-t", reads, "-f", "BEDPE", "-g", GENOME_SIZE, "-n", name, "--outdir", work,
                "--keep-dup", "all", f"-{cut[0]}", cut[1:], *broad], work / f"{name}.log")
        s = score(peaks, truth, TEST)
        if s["f1"] > best[1]["f1"]:
            best = (cut, s)
    return best


def fmt(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.3f}"


def main(argv=None) -> None:
    a = parse_args(argv)
    depths = [float(x) for x in a.depths.split(",")]
    a.work.mkdir(parents=True, exist_ok=True)
    blacklist = a.examples / "data" / "hg19-blacklist.v2.bed.gz"
    inputs = build(a, depths)
    score = scorer(blacklist)
    rows = []
    for depth in depths:
        peaks_dir = a.work / f"x{depth:g}" / "peaks"
        peaks_dir.mkdir(exist_ok=True)
        for mark, (_, kind) in MARKS.items():
            truth = inputs[mark, "truth"]
            for track in ("low-depth", "denoised"):
                path = inputs[mark, track, depth]
                stem = peaks_dir / f"{mark}.{track}"
                ext = "broadPeak" if kind == "broad" else "narrowPeak"
                rules = {"calibrated": ["--truth-peaks", truth, "--valid-region", VALID], "fold 4": ["--fold", "4"],
                         "default": []}
                row = {"depth": depth, "mark": mark, "peak_type": kind, "track": track}
                for rule, options in rules.items():
                    out = Path(f"{stem}.{rule.replace(' ', '')}.{ext}")
                    cutoff = call(path, out, kind, blacklist, *options)
                    s = score(out, truth, TEST)
                    row.update({f"{rule}_f1": s["f1"], f"{rule}_precision": s["precision"],
                                f"{rule}_recall": s["recall"], f"{rule}_n": s["n_called"], f"{rule}_cutoff": cutoff})
                row["gap"] = row["calibrated_f1"] - row["default_f1"]
                if track == "low-depth":
                    cut, s = lowdepth_macs3(inputs[mark, "reads", depth], kind, peaks_dir, truth, score)
                    row.update(macs3_best_cutoff=cut, macs3_best_f1=s["f1"])
                rows.append(row)
                print(f"x{depth:g} {mark} {track}: calibrated {fmt(row['calibrated_f1'])}, fold 4 "
                      f"{fmt(row['fold 4_f1'])}, default {fmt(row['default_f1'])}", file=sys.stderr)
    header = ("| depth | mark | track | calibrated | fold 4 | default (cutoff) | calibrated - default "
              "| macs3 callpeak, best cutoff |")
    print(f"Peak F1 on {TEST} against `macs3 callpeak` on the full-depth reads ({a.number} fragments per mark "
          f"at depth 1, seed {a.seed}):\n")
    print(header)
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        macs = f"{fmt(r['macs3_best_f1'])} ({r['macs3_best_cutoff']})" if "macs3_best_f1" in r else ""
        print(f"| {r['depth']:g}x | {r['mark']} ({r['peak_type']}) | {r['track']} | {fmt(r['calibrated_f1'])} "
              f"| {fmt(r['fold 4_f1'])} | {fmt(r['default_f1'])} ({r['default_cutoff']:.3g}) | {r['gap']:+.3f} "
              f"| {macs} |")
    out = a.out or a.work / "peak_default.tsv"
    import pandas as pd

    pd.DataFrame(rows).to_csv(out, sep="\t", index=False, float_format="%.4g")
    print(f"\nrows: {out}", file=sys.stderr)
    if a.fold_sweep:
        fold_sweep(inputs, a.work, blacklist, score)


def fold_sweep(inputs: dict, work: Path, blacklist: Path, score) -> None:
    """Peak F1 of the full-depth coverage at several folds over its mean, on the validation region."""
    folds = (4, 5, 5.5, 6, 7, 8)
    (work / "full" / "peaks").mkdir(exist_ok=True)
    print(f"\nFull-depth coverage, `chipsr peaks --fold F`, peak F1 on {VALID}:\n")
    print("| mark | " + " | ".join(f"fold {f}" for f in folds) + " |")
    print("|---|" + "---|" * len(folds))
    table = {}
    for mark, (_, kind) in MARKS.items():
        for f in folds:
            out = work / "full" / "peaks" / f"{mark}.fold{f}.{'broadPeak' if kind == 'broad' else 'narrowPeak'}"
            call(inputs[mark, "coverage", "full"], out, kind, blacklist, "--fold", str(f))
            table[mark, f] = score(out, inputs[mark, "truth"], VALID)["f1"]
        print(f"| {mark} | " + " | ".join(fmt(table[mark, f]) for f in folds) + " |")
    print("| mean | " + " | ".join(fmt(sum(table[m, f] for m in MARKS) / len(MARKS)) for f in folds) + " |")


if __name__ == "__main__":
    main()
