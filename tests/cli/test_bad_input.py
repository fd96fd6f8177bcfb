"""Issue 13: bad options and inputs give one line, a non-zero exit and no output."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from chipsr.cli.main import cli

from builders import (EXAMPLES, EXAMPLE_SIZES, GOLDEN, GOLDEN_BAM, GOLDEN_BED, SIZES, make_tracks,
                      one_line_error, train_args, write_bam, write_bins)


@pytest.mark.parametrize("command", [["denoise", "--marks", "a.bw", "--model", "m.pt"],
                                     ["audio", "upsample", "in.wav", "--model", "m.pt"],
                                     ["impute", "fill", "in.csv", "--model", "m.pt"]])
def test_device_is_validated_once_where_it_is_parsed(tmp_path, command):
    out = tmp_path / "o"
    one_line_error([*command, "-o", out, "--device", "bogus"], "--device", "bogus", "cpu, cuda")
    if not torch.cuda.is_available():
        one_line_error([*command, "-o", out, "--device", "cuda"], "--device", "CUDA is not available")
    assert not out.exists()


def test_usage_errors_are_one_line():
    one_line_error(["train"], "Missing option", "train --help")
    one_line_error(["no-such-command"], "No such command")
    one_line_error(["coverage", "x.bed", "-o", "x.bw", "--bin-size", "abc"], "--bin-size")


def test_non_finite_values_in_a_bigwig_are_an_error_naming_file_and_position(tmp_path):
    import numpy as np
    import pyBigWig

    rng = np.random.default_rng(0)
    n = -(-SIZES["chrA"] // 25)
    good = {"chrA": rng.gamma(0.5, 1.0, n)}
    bad_vals = good["chrA"].copy()
    bad_vals[4000:4020] = np.nan  # 20 non-finite bins (pyBigWig cannot write inf; other tools can: same check)
    truth = write_bins(tmp_path / "truth.bw", good)
    bad = write_bins(tmp_path / "bad.bw", {"chrA": bad_vals})
    with pyBigWig.open(str(bad)) as bw:
        assert np.isnan(bw.intervals("chrA", 100_000, 100_025)[0][2])
    before = bad.read_bytes()
    out = tmp_path / "ev"
    line = one_line_error(["evaluate", "--truth", truth, "--tracks", f"x={bad}", "-o", out, "--region", "chrA"],
                          "bad.bw", "non-finite value nan", "chrA:100001-")
    assert not list(tmp_path.glob("ev.*")) and bad.read_bytes() == before
    model = tmp_path / "m.pt"
    one_line_error(["train", "--marks", f"a={bad}", "--target", truth, "-o", model, "--train-region",
                    "chrA:1-120000", "--valid-region", "chrA:120001-150000", "--window", "200"], "bad.bw", "non-finite")
    assert not model.exists()
    assert "Traceback" not in line


@pytest.mark.slow
def test_nan_as_zero_reads_non_finite_bins_as_zero_in_train_denoise_evaluate(tmp_path):
    """--nan-as-zero (train, denoise, evaluate): NaN bins read as 0, one warning naming the file and
    the number of bins, a finite output; without it the same command is one line naming the flag."""
    import json

    import numpy as np
    import pyBigWig

    from chipsr.io.tracks import nan_as_zero, read_binned

    files = make_tracks(tmp_path)
    vals = {c: read_binned(files["K27ac"], c, 25) for c in SIZES}
    vals["chrA"][1000:1020] = np.nan  # 20 bins inside the training region
    vals["chrB"][100:103] = np.nan  # 3 bins in the denoised/evaluated chromosome
    bad = write_bins(tmp_path / "bad.bw", vals)
    files = {**files, "K27ac": bad}
    before = bad.read_bytes()
    with nan_as_zero() as replaced:
        for c in SIZES:  # the right values: the NaN bins are 0, every other bin as written
            assert np.array_equal(read_binned(bad, c, 25), np.nan_to_num(vals[c], nan=0.0))
    assert sum(len(f) for ranges in replaced[str(bad)].values() for f, _ in ranges) == 23
    model = tmp_path / "m.pt"
    args = train_args(files, model, "--arch", "linear", "--epochs", "1", "--samples-per-epoch", "16")
    one_line_error(args, "bad.bw", "non-finite value nan", "--nan-as-zero")
    assert not model.exists()
    r = CliRunner().invoke(cli, [*args, "--nan-as-zero"])
    assert r.exit_code == 0, r.output
    warnings = [ln for ln in r.output.splitlines() if "non-finite" in ln]
    assert len(warnings) == 1 and "bad.bw" in warnings[0] and "23 bins of 25 bp" in warnings[0], r.output
    marks = f"{files['K27ac']},{files['K4me1']}"
    out = tmp_path / "d.bw"
    deno = ["denoise", "--marks", marks, "--model", model, "-o", out, "--region", "chrB"]
    one_line_error(deno, "bad.bw", "--nan-as-zero")
    assert not out.exists()
    r = CliRunner().invoke(cli, [*map(str, deno), "--nan-as-zero"])
    assert r.exit_code == 0, r.output
    assert sum("bad.bw" in ln and "bins of 25 bp" in ln for ln in r.output.splitlines()) == 1, r.output
    with pyBigWig.open(str(out)) as bw:
        got = np.asarray(bw.values("chrB", 0, SIZES["chrB"], numpy=True))
    assert np.isfinite(got).all() and got.std() > 0
    ev = ["evaluate", "--truth", files["target"], "--tracks", f"noisy={bad},denoised={out}", "-o",
          tmp_path / "ev", "--region", "chrB"]
    one_line_error(ev, "bad.bw", "--nan-as-zero")
    r = CliRunner().invoke(cli, [*map(str, ev), "--nan-as-zero"])
    assert r.exit_code == 0, r.output
    assert sum("bad.bw" in ln and "3 bins of 25 bp" in ln for ln in r.output.splitlines()) == 1, r.output
    rows = json.loads((tmp_path / "ev.json").read_text())["metrics"]
    assert all(np.isfinite(row["pearson"]) for row in rows if row["subset"] == "all")
    assert bad.read_bytes() == before


def test_stale_temp_files_of_killed_runs_are_removed_by_the_next_run(tmp_path):
    import os
    import tempfile
    from pathlib import Path

    out = tmp_path / "o.bw"
    dead = 2**22 + 12345  # above Linux's default pid_max (4,194,304): no such process
    stale = tmp_path / f".o.bw.pid{dead}.abcd.tmp.bw"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".o.bw.pid{os.getpid()}.efgh.tmp.bw"  # a run in progress: kept
    live.write_bytes(b"y")
    stale_dir = Path(tempfile.gettempdir()) / f"chipsr-coverage-pid{dead}-zzzz"
    stale_dir.mkdir(exist_ok=True)
    (stale_dir / "part.npz").write_bytes(b"z" * 100)
    result = CliRunner().invoke(cli, ["coverage", str(GOLDEN_BED), "-o", str(out), "--chrom-sizes", str(EXAMPLE_SIZES)])
    assert result.exit_code == 0, result.output
    assert out.exists() and not stale.exists() and live.exists() and not stale_dir.exists()
    assert not list(Path(tempfile.gettempdir()).glob(f"chipsr-coverage-pid{os.getpid()}-*"))


@pytest.mark.slow
def test_killed_train_leaves_no_model_and_resume_matches_an_uninterrupted_run(tmp_path):
    """SIGKILL mid-training: no file under the final name, denoise refuses the in-progress state,
    --resume with changed settings is refused, and --resume ends with the weights of a run that
    was never interrupted."""
    import signal
    import subprocess
    import sys
    import time

    files = make_tracks(tmp_path)
    opts = ["--arch", "conv", "--width", "0.0625", "--unet-depth", "2", "--epochs", "6", "--samples-per-epoch", "256",
            "--device", "cpu"]
    full = tmp_path / "full.pt"
    assert CliRunner().invoke(cli, train_args(files, full, *opts)).exit_code == 0
    killed = tmp_path / "killed.pt"
    partial = tmp_path / "killed.pt.inprogress"
    proc = subprocess.Popen([sys.executable, "-m", "chipsr", *train_args(files, killed, *opts)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if partial.exists() and (tmp_path / "killed.pt.epochs.tsv").exists() and \
                len((tmp_path / "killed.pt.epochs.tsv").read_text().splitlines()) >= 3:  # 2 epochs done
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert partial.exists() and not killed.exists()
    one_line_error(["denoise", "--marks", f"{files['K27ac']},{files['K4me1']}", "--model", partial,
                    "-o", tmp_path / "d.bw"], "unfinished training state", "--resume")
    one_line_error([*train_args(files, killed, *opts[:-2]), "--lr", "5e-3", "--resume"], "--resume", "lr")
    result = CliRunner().invoke(cli, [*train_args(files, killed, *opts), "--resume"])
    assert result.exit_code == 0, result.output
    assert killed.exists() and not partial.exists()
    a, b = torch.load(full, weights_only=True), torch.load(killed, weights_only=True)
    for k, v in a["state_dict"].items():
        assert torch.equal(v, b["state_dict"][k]), k
    assert not list(tmp_path.glob(".killed.pt*"))  # no temp files left


EXAMPLE = EXAMPLES
EXAMPLE_MARKS = {"H3K27ac": "GSM2136938_MOLM13.H3K27ac", "H3K4me1": "GSM2136939_MOLM13.H3K4me1",
                 "H3K4me3": "GSM2136940_MOLM13.H3K4me3"}


def _coverage_args(mark, out):
    data = EXAMPLE / "data"
    return ["coverage", str(data / f"{EXAMPLE_MARKS[mark]}.chr22.frag200.bed.gz"), "-o", str(out), "--bin-size", "25",
            "--chrom-sizes", str(data / "hg19.chrom.sizes")]


@pytest.fixture(scope="module")
def example_coverage(tmp_path_factory):
    """Uninterrupted coverage of the example's three marks (real MOLM-13 fragments, chr22): name -> bigWig."""
    folder = tmp_path_factory.mktemp("coverage")
    tracks = {}
    for mark in EXAMPLE_MARKS:
        tracks[mark] = folder / f"{mark}.bw"
        result = CliRunner().invoke(cli, _coverage_args(mark, tracks[mark]))
        assert result.exit_code == 0, result.output
    return tracks


def _kill_while_writing(args, output):
    """Run ``python -m chipsr ARGS`` and SIGKILL it as soon as its temporary output file (``.NAME.*tmp*``
    beside ``output``) exists; returns the killed pid. Retried if a run ends before it is seen."""
    import signal
    import subprocess
    import sys
    import time

    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "chipsr", *map(str, args)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while proc.poll() is None and time.time() < deadline:
            if list(output.parent.glob(f".{output.name}.*tmp*")):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return proc.pid
            time.sleep(0.005)
        proc.kill()
        proc.wait()
        for leftover in [output, *output.parent.glob(f"{output.name}.*")]:
            leftover.unlink(missing_ok=True)
    pytest.fail(f"chipsr {args[0]} ended three times before its temporary output was seen")


def _bigwig_intervals(path):
    import pyBigWig

    with pyBigWig.open(str(path)) as bw:
        return {c: bw.intervals(c) for c in bw.chroms()}


def _assert_killed_then_rerun_matches(args, output, expected):
    """Kill a run mid-write: nothing under the final name; a rerun succeeds, equals the uninterrupted
    run value for value, and leaves no temporary file (or coverage temp folder) behind."""
    import tempfile

    pid = _kill_while_writing(args, output)
    assert not output.exists()
    assert list(output.parent.glob(f".{output.name}.*tmp*"))  # the killed run's half-written file
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert _bigwig_intervals(output) == _bigwig_intervals(expected)
    assert not list(output.parent.glob(f".{output.name}.*"))
    assert not list(Path(tempfile.gettempdir()).glob(f"chipsr-coverage-pid{pid}-*"))


@pytest.mark.slow
def test_killed_coverage_leaves_no_output_and_a_rerun_matches(tmp_path, example_coverage):
    out = tmp_path / "H3K27ac.bw"
    _assert_killed_then_rerun_matches(_coverage_args("H3K27ac", out), out, example_coverage["H3K27ac"])


@pytest.mark.slow
def test_killed_denoise_leaves_no_output_and_a_rerun_matches(tmp_path, example_coverage):
    """The shipped H3K27ac TFiLM model on real coverage, chr22:20-30 Mb (about 1.5 s of inference)."""
    marks = ",".join(f"{m}={p}" for m, p in example_coverage.items())

    def args(out):
        return ["denoise", "--marks", marks, "--model", EXAMPLE / "models" / "H3K27ac.tfilm.pt", "-o", out,
                "--region", "chr22:20000001-30000000", "-p", "1"]

    full = tmp_path / "full.bw"
    result = CliRunner().invoke(cli, [str(a) for a in args(full)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "denoised.bw"
    _assert_killed_then_rerun_matches(args(out), out, full)


def test_bam_with_another_bams_index_is_refused(tmp_path):
    import shutil

    sizes = {"chr1": 100_000, "chr2": 100_000}
    a = write_bam(tmp_path / "a.bam", sizes, [{"name": f"a{i}", "chrom": "chr1", "pos": 1000 + 50 * i}
                                              for i in range(200)])
    b = write_bam(tmp_path / "b.bam", sizes, [{"name": f"b{i}", "chrom": "chr2", "pos": 500 + 40 * i}
                                              for i in range(300)])
    shutil.copy(str(b) + ".bai", str(a) + ".bai")  # a.bam now carries b.bam's index
    out = tmp_path / "a.bw"
    one_line_error(["coverage", a, "-o", out], "a.bam", "a.bam.bai does not match", "another BAM", "samtools index")
    assert not out.exists()
    ok = CliRunner().invoke(cli, ["coverage", str(b), "-o", str(tmp_path / "b.bw")])
    assert ok.exit_code == 0, ok.output


def test_text_named_bam_is_refused(tmp_path):
    fake = tmp_path / "reads.bam"
    fake.write_text("chr1\t100\t300\nchr1\t200\t400\n")
    out = tmp_path / "low.bam"
    one_line_error(["subsample", fake, "-o", out, "--number", "1"], "reads.bam", "not a BAM")
    assert not out.exists()


def _sizes(tmp_path, text="chr1\t10000\n"):
    p = tmp_path / "g.sizes"
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def test_comment_lines_anywhere_in_a_bed_give_the_right_result(tmp_path):
    import numpy as np

    from chipsr.io.tracks import read_binned

    rows = [f"chr1\t{100 * i}\t{100 * i + 150}\n" for i in range(50)]
    clean = tmp_path / "clean.bed"
    clean.write_text("".join(rows))
    mixed = tmp_path / "mixed.bed"
    mixed.write_text("track name=x\n" + "".join(rows[:20]) + "# a comment\tmid\tfile\n" + "".join(rows[20:35])
                     + "browser position chr1\n\n" + "".join(rows[35:]))
    sizes = _sizes(tmp_path)
    for name in ("clean", "mixed"):
        r = CliRunner().invoke(cli, ["coverage", str(tmp_path / f"{name}.bed"), "--chrom-sizes", str(sizes),
                                     "-o", str(tmp_path / f"{name}.bw"), "--bin-size", "10"])
        assert r.exit_code == 0, r.output
    assert np.array_equal(read_binned(tmp_path / "clean.bw", "chr1", 10), read_binned(tmp_path / "mixed.bw", "chr1", 10))
    for name in ("clean", "mixed"):
        r = CliRunner().invoke(cli, ["subsample", str(tmp_path / f"{name}.bed"), "-o", str(tmp_path / f"{name}.s.bed"),
                                     "--number", "10", "--seed", "3"])
        assert r.exit_code == 0, r.output
    kept = [ln for ln in (tmp_path / "mixed.s.bed").read_text().splitlines() if not ln.startswith(("track", "#"))]
    assert kept == (tmp_path / "clean.s.bed").read_text().splitlines()  # same reads kept, comments dropped


def test_bed_reads_past_the_chromosome_end_are_refused(tmp_path):
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t10\t300\nchr1\t9900\t10100\n")
    out = tmp_path / "o.bw"
    one_line_error(["coverage", bed, "--chrom-sizes", _sizes(tmp_path), "-o", out], "r.bed line 2", "10100",
                   "another genome build")
    assert not out.exists()


def test_non_utf8_and_truncated_gzip_text_inputs(tmp_path):
    import gzip

    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t10\t300\n")
    bad_sizes = _sizes(tmp_path, b"chr1\t10000\n\xff\xfe\t3\n")
    one_line_error(["coverage", bed, "--chrom-sizes", bad_sizes, "-o", tmp_path / "o.bw"], "g.sizes line 2",
                   "not UTF-8")
    trunc = tmp_path / "bl.bed.gz"
    trunc.write_bytes(gzip.compress(b"chr1\t100\t200\n" * 200)[:40])
    line = one_line_error(["coverage", bed, "--chrom-sizes", _sizes(tmp_path), "--blacklist", trunc,
                           "-o", tmp_path / "o.bw"], "bl.bed.gz", "gzip")
    assert "Aborted" not in line
    garbage = tmp_path / "g.bed"
    garbage.write_bytes(b"chr1\t10\t300\nchr1\t5\xff0\t600\n")
    line = one_line_error(["coverage", garbage, "--chrom-sizes", _sizes(tmp_path), "-o", tmp_path / "o.bw"],
                          "g.bed line 2", "\\xff")
    assert "\ufffd" not in line


def test_absurd_bin_size_and_overlapping_denoise_regions(tmp_path, tiny_tracks, tiny_model):
    one_line_error(["coverage", "x.bed", "-o", tmp_path / "o.bw", "--bin-size", "99999999999999999999999"],
                   "--bin-size")
    files, model = tiny_tracks, tiny_model
    out = tmp_path / "d.bw"
    one_line_error(["denoise", "--marks", f"{files['K27ac']},{files['K4me1']}", "--model", model, "-o", out,
                    "--region", "chrA:1-50000", "--region", "chrA:40001-60000"], "overlap")
    assert not out.exists()


@pytest.mark.parametrize("content, message", [
    (b'{"metrics": [], "tracks": {}}', "no track_order"),
    (b'[1, 2]', "not an object"),
    (b'{"metrics": [{"track": "x"}], "tracks": {}, "track_order": [], "truth": "t", "regions": [], '
     b'"bin_size": 25, "peaks": {}}', "metrics row 1"),
    (b'\xff\xfe{}', "not UTF-8"),
    (b'{"metrics": ', "not a JSON"),
])
def test_report_refuses_malformed_evaluation_json(tmp_path, content, message):
    ev = tmp_path / "ev.json"
    ev.write_bytes(content)
    out = tmp_path / "r.md"
    one_line_error(["report", "--evaluation", f"H3K27ac={ev}", "-o", out], "ev.json", message)
    assert not out.exists()


@pytest.mark.parametrize("rates", ["0", "0.1,1", "-0.2", "nan"])
def test_impute_evaluate_rates_checked_before_any_work(tmp_path, rates):
    data = tmp_path / "d.csv"
    data.write_text("time,a\n2020-01-01,1\n")
    one_line_error(["impute", "evaluate", "--data", data, "--dataset", "csv", "-o", tmp_path / "r.tsv",
                    "--rates", rates], "--rates")
    assert not list(tmp_path.glob("r.*"))


def test_subsample_pools_bed_replicates(tmp_path):
    """Issue 13: the low-depth input of a mark with replicates is drawn from all of them: pooling two
    files gives exactly what subsampling their concatenation gives."""
    a, b, both = tmp_path / "rep1.bed", tmp_path / "rep2.bed", tmp_path / "both.bed"
    rows_a = [f"chr1\t{10 * i}\t{10 * i + 200}\n" for i in range(300)]
    rows_b = [f"chr2\t{7 * i}\t{7 * i + 150}\n" for i in range(500)]
    a.write_text("track name=rep1\n" + "".join(rows_a))
    b.write_text("".join(rows_b))
    both.write_text("track name=rep1\n" + "".join(rows_a + rows_b))
    outs = []
    for args in ([a, b], [both]):
        out = tmp_path / f"s{len(outs)}.bed"
        r = CliRunner().invoke(cli, ["subsample", *map(str, args), "-o", str(out), "--number", "100", "--seed", "7"])
        assert r.exit_code == 0, r.output
        assert "kept 100 of 800" in r.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert b"chr2" in outs[0] and b"chr1\t" in outs[0]  # both replicates contribute


def test_subsample_refuses_mixed_formats_and_bams_of_different_references(tmp_path):
    """Replicate BAMs are pooled (test_subsample.py); BAM + BED together, or BAMs whose headers list
    different reference sequences, are one line naming both files, with no output."""
    rep1 = GOLDEN.parent / "replicates" / "rep1.chr19_0_2000000.bam"  # hg38 chr19 + chrM
    hg19 = GOLDEN_BAM
    bed = GOLDEN / "CTCF_SE_ChIP_chr22_50k.bed.gz"
    out = tmp_path / "o.bam"
    one_line_error(["subsample", rep1, bed, "-o", out, "--number", "1"], str(rep1), str(bed), "all be BAM or all be BED")
    one_line_error(["subsample", rep1, hg19, "-o", out, "--number", "1"], str(rep1), str(hg19),
                   "different reference sequences", "chr19 (58617616 bp) vs chr22 (51304566 bp)")
    assert not list(tmp_path.iterdir())


def test_a_model_of_another_task_is_named(tmp_path, tiny_model):
    """A ChIP-seq model given to audio commands (and an audio model to denoise) names the file."""
    chip = tiny_model
    wav = tmp_path / "in.wav"
    import numpy as np
    import soundfile

    soundfile.write(str(wav), np.zeros(4000, dtype=np.float32), 4000)
    one_line_error(["audio", "upsample", wav, "--model", chip, "-o", tmp_path / "up.wav"], chip.name,
                   "not an audio super-resolution model")
    one_line_error(["impute", "fill", wav, "--model", chip, "-o", tmp_path / "f.csv"], chip.name)
