"""The Snakemake workflow: lint, dry run, and a real run on the bundled example."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyBigWig
import pytest

from builders import GOLDEN_BAM, GOLDEN_BED, REPO

pytestmark = pytest.mark.slow  # every test starts snakemake

ROOT = REPO


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
    for rule in ("subsample", "coverage_lowdepth", "coverage_fulldepth", "train", "denoise", "evaluate", "report"):
        assert rule in text


def test_invalid_config_is_rejected(tmp_path):
    result = snakemake("-n", "--cores", "1", "--config", "coverage={'bin_size': 0}")
    assert result.returncode != 0


SMALL = """
results: {results}
splits:
  train: ["chr22:16000001-19000000"]
  valid: ["chr22:19000001-20000000"]
  test: ["chr22:20000001-22000000"]
denoise_regions: ["chr22:20000001-22000000"]
depth_series: [2]
archs: [linear, tfilm]
input_depths: {{depths: [0.5], archs: [tfilm]}}
train:
  window: 200
  unet_depth: 2
  epochs: 1
  samples_per_epoch: 64
  peak_fraction: 0.5
  time_limit: {{tfilm: 5}}
  batch_size: 32
  lr: {{tfilm: 0.001}}
model:
  seeds: [1, 2]
  depth_sets: [0.5, 1]
  threads: 1
  device: cpu
"""


def test_example_run_end_to_end(tmp_path):
    """Every rule on the real example, with small splits and one epoch (the full run: make example)."""
    config = tmp_path / "small.yaml"
    config.write_text(SMALL.format(results=tmp_path / "results"))
    res = tmp_path / "results"
    result = snakemake("--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    for depth in ("lowdepth", "fulldepth"):
        with pyBigWig.open(str(res / "coverage" / f"H3K27ac.{depth}.bw")) as bw:
            assert bw.chroms("chr22") == 51_304_566
            assert bw.header()["sumData"] > 0
    log = (res / "logs" / "subsample" / "H3K4me1.lowdepth.bed.gz.log").read_text()
    assert "kept 16600 of 425237" in log
    with pyBigWig.open(str(res / "denoised" / "H3K4me3.tfilm.bw")) as bw:
        assert bw.chroms("chr22") == 51_304_566
        assert bw.stats("chr22", 20_000_000, 22_000_000)[0] > 0
    report = (res / "report.md").read_text()
    for mark in ("H3K27ac", "H3K4me1", "H3K4me3"):
        assert f"| {mark} |" in report
    assert "smoothed input" in report and "tfilm" in report
    # issue 14: MACS3 truth and low-depth peaks, chipsr peaks of the denoised tracks, the peak table
    assert (res / "peaks" / "H3K27ac.fulldepth.q0.05.narrowPeak").stat().st_size > 0
    assert (res / "peaks" / "H3K4me1.fulldepth.q0.05.broadPeak").exists()
    assert (res / "peaks" / "H3K4me3.tfilm.narrowPeak").exists()
    assert "| H3K27ac | peak F1 |" in report and "MACS3 low-depth" in report
    assert "H3K27ac.tfilm peaks" in (res / "hub" / "igv_session.xml").read_text()
    assert " ± " in report and "(ens. " in report and "seed sd" in report  # 2 seeds: spread and ensemble
    assert "Depth equivalence" in report and "| 1x 0." in report and "raw 2x |" not in report
    assert (res / "hub" / "hg19" / "trackDb.txt").exists() and (res / "hub" / "igv_session.xml").exists()
    assert ".seed" not in (res / "hub" / "hg19" / "trackDb.txt").read_text()  # the hub shows ensembles only
    for seed in (1, 2):
        assert (res / "benchmarks" / "train" / f"H3K27ac.tfilm.seed{seed}.tsv").exists()
        assert (res / "denoised" / "seeds" / f"H3K27ac.tfilm.seed{seed}.bw").exists()
    assert "ensemble of 2 models" in (res / "logs" / "denoise" / "H3K27ac.tfilm.log").read_text()
    # depth sets in training, the input-depth table, and models named after samples.tsv's marks
    assert "each from one of 2 depth sets" in (res / "logs" / "train" / "H3K27ac.tfilm.seed1.log").read_text()
    assert "Input depth" in report and "| H3K27ac | 0.5x |" in report and "| H3K27ac | 1x |" in report
    from chipsr.tasks.chipseq.model import model_card

    card = model_card(res / "models" / "H3K27ac" / "tfilm.seed1.pt")
    assert card["marks"] == ["H3K27ac", "H3K4me1", "H3K4me3"] and card["target"] == "H3K27ac"
    assert card["depth_sets"] == 2 and card["units"].startswith("fold enrichment")
    # nothing changed: a second run has nothing to do
    again = snakemake("-n", "--cores", "2", "--configfile", str(config))
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.parametrize("override, message", [
    ("splits={'train': ['chr22:16000001-36000000'], 'valid': ['chr22:30000001-40000000'], "
     "'test': ['chr22:40000001-51304566']}", "overlap"),
    ("splits={'train': ['chr22:16-x'], 'valid': ['chr22:36000001-40000000'], 'test': ['chr22']}", "splits.train"),
    ("splits={'train': ['chr22:16000001-36000000'], 'valid': ['chr22:36000001-40000000'], "
     "'test': ['chr22:40000001-99000000']}", "beyond chr22"),
    ("blacklist=no/such/blacklist.bed", "config blacklist"),
    ("chrom_sizes=no/such.sizes", "config chrom_sizes"),
    # issue 12: a new sample without reads for a mark, a missing file, references that differ from training's
    ("new_samples={'S': {'reads': {'H3K27ac': 'examples/data/hg19.chrom.sizes'}}}",
     "config new_samples.S.reads: no reads for H3K4me1, H3K4me3"),
    ("new_samples={'S': {'reads': {'H3K27ac': 'no/such.bed', 'H3K4me1': 'x', 'H3K4me3': 'y'}}}",
     "config new_samples.S.reads.H3K27ac: no/such.bed does not exist"),
    ("references={'rel': 'no/such/deep.bam'}", "config references.rel: no/such/deep.bam does not exist"),
])
def test_bad_config_fails_at_parse_time_naming_the_key(tmp_path, override, message):
    """Issue 13: caught by `snakemake -n`, before any job, naming the key."""
    result = snakemake("-n", "--cores", "1", "--config", f"results={tmp_path}", override)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr, result.stderr[-2000:]


def test_replicate_bams_are_pooled_and_mixed_formats_refused_at_parse_time(tmp_path):
    """Replicate BAMs of a mark are pooled by `chipsr subsample` (and coverage); BAM and BED reads in
    one row are refused before any job."""
    bam, bed = GOLDEN_BAM, GOLDEN_BED
    samples = tmp_path / "samples.tsv"
    samples.write_text(f"mark\treads\nH3K27ac\t{bam},{bam}\n")
    result = snakemake("-n", "-p", "--cores", "1", "--config", f"results={tmp_path}", f"samples={samples}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"subsample {bam} {bam} -o" in result.stdout + result.stderr
    samples.write_text(f"mark\treads\nH3K27ac\t{bam},{bed}\n")
    result = snakemake("-n", "--cores", "1", "--config", f"results={tmp_path}", f"samples={samples}")
    assert result.returncode != 0 and "lists BAM and BED reads together" in result.stdout + result.stderr


def test_brain_cross_sample_config_dry_run(tmp_path):
    """config/brain_h3k36me3.yaml (issue 12): references and a new sample, every step planned."""
    result = snakemake("-n", "-p", "--cores", "1", "--configfile", "config/brain_h3k36me3.yaml",
                       "--config", f"results={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout + result.stderr
    for rule in ("coverage_reference", "subsample_sample", "coverage_sample", "coverage_sample_reference",
                 "denoise_sample", "evaluate_sample", "report_sample"):
        assert f"rule {rule}:" in text or f"{rule} " in text, rule
    assert "--reference related_H3K36me3=" in text and "--differential-reference reference_related_H3K36me3" in text
    # each seed's model scores the new sample too (the spread over seeds), on the test region only
    assert "rule denoise_sample_seed:" in text or "denoise_sample_seed " in text
    assert "tfilm.seed1=" in text and "/samples/Substantia_Nigra/denoised/seeds/H3K36me3.tfilm.seed1.bw" in text


def test_slurm_gpu_profile_dry_run_launches_torchrun(tmp_path):
    """model.gpus = 2: the train rule runs torchrun with 2 processes and asks SLURM for 2 GPUs (issue 15)."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    extra = tmp_path / "gpus.yaml"
    extra.write_text("model:\n  gpus: 2\n  device: cuda\n")
    result = snakemake("--profile", "workflow/profiles/slurm-gpu", "-n", "-p", "--configfile", "config/config.yaml",
                       str(extra), "--config", f"results={tmp_path / 'r'}")
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout + result.stderr
    assert "torchrun --standalone --nproc-per-node=2 -m chipsr -v train" in text
    assert "gpu=2" in text and "gpu_model=a100" in text


def test_denoise_scatter_dry_run_shards_by_chromosome_and_gathers(tmp_path):
    """denoise_scatter: one denoise job per chromosome of denoise_regions, then `chipsr gather` (issue 15)."""
    result = snakemake("-n", "-p", "--cores", "1", "--config", f"results={tmp_path}", "denoise_scatter=True",
                       "denoise_regions=['chr21','chr22:20000001-22000000']")
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout + result.stderr
    assert "denoise_shard" in text and "gather_denoised" in text
    assert "--region chr22:20000001-22000000" in text and "--region chr21 " in text
    shards = [f"{tmp_path}/denoised/shards/H3K27ac.tfilm/{c}.bw" for c in ("chr21", "chr22")]
    assert f"chipsr -v gather {shards[0]} {shards[1]} -o {tmp_path}/denoised/H3K27ac.tfilm.bw" in text
