"""The Snakemake workflow: lint, dry run, and a real run on the bundled example."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
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


def planned_jobs(text: str) -> list[dict]:
    """The jobs `snakemake -n -p` prints, in order: each job's rule, its wildcards and resources
    (name -> value as printed), its outputs, and its shell command split into words (None without one)."""
    jobs = []
    job = None
    for line in text.splitlines():
        head = re.fullmatch(r"(?:local)?rule (\w+):", line)
        if head:
            job = {"rule": head.group(1), "wildcards": {}, "resources": {}, "output": [], "shell": None}
            jobs.append(job)
        elif job is not None and line.startswith("    ") and ": " in line:
            key, value = line.strip().split(": ", 1)
            if key in ("wildcards", "resources"):
                job[key] = dict(item.split("=", 1) for item in value.split(", "))
            elif key == "output":
                job["output"] = value.split(", ")
        elif job is not None and line.startswith("Shell command: "):
            command = line[len("Shell command: "):]
            job["shell"] = None if command == "None" else shlex.split(command)
            job = None
    return jobs


def job_stats(text: str) -> dict[str, int]:
    """The first "Job stats" table of a dry run: rule -> number of jobs (the total row left out)."""
    rows = text.split("Job stats:\n", 1)[1].splitlines()[2:]  # after the header and its rule line
    counts = {}
    for row in rows:
        if not row.strip():
            break
        name, count = row.split()
        counts[name] = int(count)
    counts.pop("total")
    return counts


def option(argv: list[str], name: str) -> list[str]:
    """Every value given to option ``name`` in a command's words, in order."""
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == name]


def positional(argv: list[str], command: str) -> list[str]:
    """The words between ``command`` (e.g. "subsample") and its first option."""
    rest = argv[argv.index(command) + 1:]
    return rest[:next((i for i, word in enumerate(rest) if word.startswith("-")), len(rest))]


def config_error(result) -> str:
    """The one-line message of a config the workflow refuses at parse time: the line after
    snakemake's "WorkflowError in file ..." (asserting that no job was planned)."""
    text = result.stdout + result.stderr
    assert result.returncode != 0, text[-2000:]
    assert "Job stats:" not in text, "jobs were planned before the config was refused"
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("WorkflowError in file")]
    assert starts, text[-2000:]
    return lines[starts[0] + 1]


def test_lint():
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_dry_run_lists_every_step(tmp_path):
    """Every step of the default config is planned, one coverage_fulldepth and one report per mark and
    run; the job list and the job-stats table agree."""
    result = snakemake("-n", "-p", "--cores", "1", "--config", f"results={tmp_path}")
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    counts, jobs = job_stats(text), planned_jobs(text)
    assert Counter(job["rule"] for job in jobs) == counts
    for rule in ("subsample", "coverage_lowdepth", "coverage_fulldepth", "train", "denoise", "evaluate", "report"):
        assert counts.get(rule, 0) > 0, rule
    assert counts["coverage_fulldepth"] == 3 and counts["report"] == 1  # the three marks of config/samples.tsv
    trains = [job for job in jobs if job["rule"] == "train"]
    assert all(job["shell"][:3] == ["chipsr", "-v", "train"] for job in trains)
    assert {job["wildcards"]["mark"] for job in trains} == {"H3K27ac", "H3K4me1", "H3K4me3"}


def test_invalid_config_is_rejected(tmp_path):
    """A bin size of 0 (an integer: a config file, not --config, which passes strings) fails the
    schema's minimum, named with its key."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("coverage:\n  bin_size: 0\n")
    result = snakemake("-n", "--cores", "1", "--configfile", str(bad), "--config", f"results={tmp_path}")
    text = result.stdout + result.stderr
    assert result.returncode != 0 and "Job stats:" not in text
    assert "0 is less than the minimum of 1" in text, text[-2000:]
    assert "['coverage']['properties']['bin_size']" in text


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


def markdown_tables(text: str) -> list[list[dict[str, str]]]:
    """Every Markdown table of ``text``: a list of rows, each a dict from the header's cells to the row's."""
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif block:
            header, rows = block[0], block[2:]  # block[1]: the |---| line
            tables.append([dict(zip(header, row, strict=True)) for row in rows])
            block = []
    return tables


def table_with(tables, *columns: str) -> list[dict[str, str]]:
    """The one table whose header starts with ``columns``."""
    found = [t for t in tables if t and list(t[0])[:len(columns)] == list(columns)]
    assert len(found) == 1, (columns, [list(t[0]) for t in tables if t])
    return found[0]


MARKS = ["H3K27ac", "H3K4me1", "H3K4me3"]
R = r"-?[01]\.\d{3}"  # a correlation as the report prints it


def check_small_report(report: str) -> None:
    """The report of SMALL's run, read as tables: one row per mark (and metric or depth), two seeds
    per model (mean ± sd, then the ensemble), the raw depth series, the input-depth table."""
    tables = markdown_tables(report)
    main = table_with(tables, "mark", "noisy_input", "smoothed input")
    assert [row["mark"] for row in main] == MARKS
    assert list(main[0]) == ["mark", "noisy_input", "smoothed input", "linear", "tfilm", "verdict"]
    for row in main:
        for track in ("noisy_input", "smoothed input"):
            assert re.fullmatch(rf"(\*\*)?{R}(\*\*)?", row[track]), row
        for arch in ("linear", "tfilm"):  # 2 seeds: their mean ± sd, and the ensemble's r
            assert re.fullmatch(rf"(\*\*)?{R} ± \d\.\d{{3}} \(ens\. {R}\)(\*\*)?", row[arch]), row
        assert re.match(r"(noisy_input|smoothed input|linear|tfilm) ahead of (noisy_input|smoothed input|linear|tfilm)"
                        r" by [+-]\d", row["verdict"]), row
    assert any("the seed sd" in row["verdict"] for row in main)
    depth = table_with(tables, "mark", "raw track r at each depth")
    assert [row["mark"] for row in depth] == MARKS
    assert list(depth[0])[2:] == ["smoothed input", "linear", "tfilm"]  # no raw 2x column: it is the series
    for row in depth:
        assert re.fullmatch(rf"1x {R}, 2x {R}", row["raw track r at each depth"]), row
        assert all(re.fullmatch(r"[<>]? ?\d+\.\dx", row[c]) for c in ("smoothed input", "linear", "tfilm")), row
    peaks = table_with(tables, "mark", "metric")
    assert [(row["mark"], row["metric"]) for row in peaks] == [(m, k) for m in MARKS for k in ("peak F1", "AUPRC")]
    assert "MACS3 low-depth" in peaks[0]
    assert all(re.fullmatch(rf"{R} \(\S+\)", row["MACS3 low-depth"]) for row in peaks if row["metric"] == "peak F1")
    inputs = table_with(tables, "mark", "input depth")
    assert [(row["mark"], row["input depth"]) for row in inputs] == [(m, d) for m in MARKS for d in ("0.5x", "1x")]
    assert all(row["tfilm mean / 1x"] == "1.00" for row in inputs if row["input depth"] == "1x")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """The small config run once, uninterrupted: its results folder."""
    folder = tmp_path_factory.mktemp("small")
    config = folder / "small.yaml"
    config.write_text(SMALL.format(results=folder / "results"))
    result = snakemake("--cores", "2", "--configfile", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    return folder / "results"


def test_example_run_end_to_end(small_run):
    """Every rule on the real example, with small splits and one epoch (the full run: make example)."""
    res = small_run
    for depth in ("lowdepth", "fulldepth"):
        with pyBigWig.open(str(res / "coverage" / f"H3K27ac.{depth}.bw")) as bw:
            assert bw.chroms("chr22") == 51_304_566
            assert bw.header()["sumData"] > 0
    log = (res / "logs" / "subsample" / "H3K4me1.lowdepth.bed.gz.log").read_text()
    assert "kept 16600 of 425237" in log
    with pyBigWig.open(str(res / "denoised" / "H3K4me3.tfilm.bw")) as bw:
        assert bw.chroms("chr22") == 51_304_566
        assert bw.stats("chr22", 20_000_000, 22_000_000)[0] > 0
    check_small_report((res / "report.md").read_text())
    # MACS3 truth and low-depth peaks, chipsr peaks of the denoised tracks, the peak table
    assert (res / "peaks" / "H3K27ac.fulldepth.q0.05.narrowPeak").stat().st_size > 0
    assert (res / "peaks" / "H3K4me1.fulldepth.q0.05.broadPeak").exists()
    assert (res / "peaks" / "H3K4me3.tfilm.narrowPeak").exists()
    session = ET.parse(res / "hub" / "igv_session.xml").getroot()
    assert "H3K27ac.tfilm peaks" in {track.get("name") for track in session.iter("Track")}
    assert (res / "hub" / "hg19" / "trackDb.txt").exists()
    assert ".seed" not in (res / "hub" / "hg19" / "trackDb.txt").read_text()  # the hub shows ensembles only
    for seed in (1, 2):
        assert (res / "benchmarks" / "train" / f"H3K27ac.tfilm.seed{seed}.tsv").exists()
        assert (res / "denoised" / "seeds" / f"H3K27ac.tfilm.seed{seed}.bw").exists()
    assert "ensemble of 2 models" in (res / "logs" / "denoise" / "H3K27ac.tfilm.log").read_text()
    # depth sets in training, the input-depth table, and models named after samples.tsv's marks
    assert "each from one of 2 depth sets" in (res / "logs" / "train" / "H3K27ac.tfilm.seed1.log").read_text()
    from chipsr.tasks.chipseq.model import model_card

    card = model_card(res / "models" / "H3K27ac" / "tfilm.seed1.pt")
    assert card["marks"] == ["H3K27ac", "H3K4me1", "H3K4me3"] and card["target"] == "H3K27ac"
    assert card["depth_sets"] == 2 and card["units"].startswith("fold enrichment")
    # nothing changed: a second run has nothing to do
    again = snakemake("-n", "--cores", "2", "--configfile", str(res.parent / "small.yaml"))
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.parametrize("override, message", [
    ("splits={'train': ['chr22:16000001-36000000'], 'valid': ['chr22:30000001-40000000'], "
     "'test': ['chr22:40000001-51304566']}", "overlap"),
    ("splits={'train': ['chr22:16-x'], 'valid': ['chr22:36000001-40000000'], 'test': ['chr22']}", "splits.train"),
    ("splits={'train': ['chr22:16000001-36000000'], 'valid': ['chr22:36000001-40000000'], "
     "'test': ['chr22:40000001-99000000']}", "beyond chr22"),
    ("blacklist=no/such/blacklist.bed", "config blacklist"),
    ("chrom_sizes=no/such.sizes", "config chrom_sizes"),
    # a new sample without reads for a mark, a missing file, references that differ from training's
    ("new_samples={'S': {'reads': {'H3K27ac': 'examples/data/hg19.chrom.sizes'}}}",
     "config new_samples.S.reads: no reads for H3K4me1, H3K4me3"),
    ("new_samples={'S': {'reads': {'H3K27ac': 'no/such.bed', 'H3K4me1': 'x', 'H3K4me3': 'y'}}}",
     "config new_samples.S.reads.H3K27ac: no/such.bed does not exist"),
    ("references={'rel': 'no/such/deep.bam'}", "config references.rel: no/such/deep.bam does not exist"),
])
def test_bad_config_fails_at_parse_time_naming_the_key(tmp_path, override, message):
    """Caught by `snakemake -n`, before any job is planned, in one line naming the key."""
    result = snakemake("-n", "--cores", "1", "--config", f"results={tmp_path}", override)
    line = config_error(result)
    assert line.startswith("config ") and message in line, line


def test_replicate_bams_are_pooled_and_mixed_formats_refused_at_parse_time(tmp_path):
    """Replicate BAMs of a mark are pooled by `chipsr subsample` (and coverage); BAM and BED reads in
    one row are refused before any job."""
    bam, bed = GOLDEN_BAM, GOLDEN_BED
    samples = tmp_path / "samples.tsv"
    samples.write_text(f"mark\treads\nH3K27ac\t{bam},{bam}\n")
    result = snakemake("-n", "-p", "--cores", "1", "--config", f"results={tmp_path}", f"samples={samples}")
    assert result.returncode == 0, result.stderr[-3000:]
    subsamples = [job["shell"] for job in planned_jobs(result.stdout + result.stderr) if job["rule"] == "subsample"]
    assert subsamples and all(positional(argv, "subsample") == [str(bam), str(bam)] for argv in subsamples)
    samples.write_text(f"mark\treads\nH3K27ac\t{bam},{bed}\n")
    result = snakemake("-n", "--cores", "1", "--config", f"results={tmp_path}", f"samples={samples}")
    assert "lists BAM and BED reads together" in config_error(result)


def test_brain_cross_sample_config_dry_run(tmp_path):
    """config/brain_h3k36me3.yaml: references and new samples, every step planned; the new samples are
    denoised with the reference channel, and every seed's model scores them on the test region."""
    import yaml

    result = snakemake("-n", "-p", "--cores", "1", "--configfile", "config/brain_h3k36me3.yaml",
                       "--config", f"results={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout + result.stderr
    counts, jobs = job_stats(text), planned_jobs(text)
    for rule in ("coverage_reference", "subsample_sample", "coverage_sample", "coverage_sample_reference",
                 "denoise_sample", "denoise_sample_seed", "evaluate_sample", "report_sample"):
        assert counts.get(rule, 0) > 0, rule
    brain = yaml.safe_load((ROOT / "config" / "brain_h3k36me3.yaml").read_text())
    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    test_regions = (brain.get("splits") or base["splits"])["test"]
    seeds = [job for job in jobs if job["rule"] == "denoise_sample_seed"]
    for job in [job for job in jobs if job["rule"] == "denoise_sample"] + seeds:
        references = option(job["shell"], "--reference")
        assert len(references) == 1 and references[0].startswith("related_H3K36me3="), job["shell"]
    assert all(option(job["shell"], "--region") == test_regions for job in seeds)
    evaluations = {job["wildcards"]["sample"]: job["shell"] for job in jobs if job["rule"] == "evaluate_sample"}
    assert set(evaluations) == {job["wildcards"]["sample"] for job in seeds}
    for sample, argv in evaluations.items():
        assert option(argv, "--differential-reference") == ["reference_related_H3K36me3"]
        tracks = dict(item.split("=", 1) for item in option(argv, "--tracks")[0].split(","))
        assert "reference_related_H3K36me3" in tracks
        # every seed's denoised track of this sample is scored
        assert {option(job["shell"], "-o")[0] for job in seeds if job["wildcards"]["sample"] == sample} \
            <= set(tracks.values())
    nigra = dict(item.split("=", 1) for item in option(evaluations["Substantia_Nigra"], "--tracks")[0].split(","))
    assert nigra["tfilm.seed1"] == f"{tmp_path}/samples/Substantia_Nigra/denoised/seeds/H3K36me3.tfilm.seed1.bw"


def test_slurm_gpu_profile_dry_run_launches_torchrun(tmp_path):
    """model.gpus = 2: every train job runs torchrun with 2 processes and asks SLURM for 2 GPUs of the
    profile's model; without it, train runs chipsr itself and asks for no 2 GPUs."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    extra = tmp_path / "gpus.yaml"
    extra.write_text("model:\n  gpus: 2\n  device: cuda\n")
    runs = {}
    for name, configs in (("2 gpus", ["config/config.yaml", str(extra)]), ("default", ["config/config.yaml"])):
        result = snakemake("--profile", "workflow/profiles/slurm-gpu", "-n", "-p", "--configfile", *configs,
                           "--config", f"results={tmp_path / 'r'}")
        assert result.returncode == 0, result.stderr[-2000:]
        runs[name] = planned_jobs(result.stdout + result.stderr)
    trains = [job for job in runs["2 gpus"] if job["rule"] == "train"]
    assert trains
    for job in trains:
        assert job["shell"][:7] == ["torchrun", "--standalone", "--nproc-per-node=2", "-m", "chipsr", "-v", "train"]
        assert job["resources"]["gpu"] == "2" and job["resources"]["gpu_model"] == "a100", job["resources"]
    assert all(job["resources"].get("gpu") != "2" for job in runs["2 gpus"] if job["rule"] != "train")
    for job in (job for job in runs["default"] if job["rule"] == "train"):
        assert job["shell"][:3] == ["chipsr", "-v", "train"] and job["resources"].get("gpu") != "2"


def test_denoise_scatter_dry_run_shards_by_chromosome_and_gathers(tmp_path):
    """denoise_scatter: one denoise job per chromosome of denoise_regions (holding all of that
    chromosome's regions), then `chipsr gather` of exactly those shards. The example's reads cover
    chr22 only (a region on a chromosome without reads is refused), so one shard takes two regions."""
    result = snakemake("-n", "-p", "--cores", "1", "--config", f"results={tmp_path}", "denoise_scatter=True",
                       "denoise_regions=['chr22:16000001-18000000','chr22:20000001-22000000']")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = planned_jobs(result.stdout + result.stderr)
    folder = f"{tmp_path}/denoised/shards/H3K27ac.tfilm/"
    shards = {option(job["shell"], "-o")[0]: option(job["shell"], "--region") for job in jobs
              if job["rule"] == "denoise_shard" and option(job["shell"], "-o")[0].startswith(folder)}
    assert shards == {f"{folder}chr22.bw": ["chr22:16000001-18000000", "chr22:20000001-22000000"]}
    gathers = [job["shell"] for job in jobs if job["rule"] == "gather_denoised"
               and option(job["shell"], "-o") == [f"{tmp_path}/denoised/H3K27ac.tfilm.bw"]]
    assert len(gathers) == 1 and gathers[0][:3] == ["chipsr", "-v", "gather"]
    assert positional(gathers[0], "gather") == [f"{folder}chr22.bw"]


def test_a_run_stopped_mid_way_and_restarted_gives_the_same_outputs(small_run, tmp_path):
    """A run stopped while it trains (SIGTERM, as a scheduler stops a job) and started again with the
    same command finishes with the outputs of the uninterrupted run: tracks, denoised tracks, peaks
    and evaluation tables byte for byte, and the models' weights."""
    import signal
    import time

    import torch

    config = tmp_path / "small.yaml"
    config.write_text(SMALL.format(results=tmp_path / "results"))
    res = tmp_path / "results"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    run = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", str(config)], cwd=ROOT,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(res.glob("models/*/*.pt")) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    assert run.poll() is None, "the run ended before the first model was written"
    os.killpg(run.pid, signal.SIGTERM)
    run.wait(timeout=120)
    assert not (res / "report.md").exists()
    again = snakemake("--cores", "2", "--configfile", str(config))
    assert again.returncode == 0, again.stderr[-3000:]
    files = [p.relative_to(small_run) for pattern in ("coverage/*.bw", "denoised/**/*.bw", "peaks/*", "evaluation/**/*.tsv")
             for p in small_run.glob(pattern)]
    assert len(files) > 40
    for name in files:
        assert (res / name).read_bytes() == (small_run / name).read_bytes(), name
    for model in small_run.glob("models/*/*.pt"):
        ours = torch.load(res / model.relative_to(small_run), weights_only=False)["state_dict"]
        theirs = torch.load(model, weights_only=False)["state_dict"]
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), model
