"""The output guard: no subcommand may write over one of its inputs (or an input's index).

Every case runs the real CLI on real files and asserts: non-zero exit, exactly one output line,
starting with ``Error:`` and naming ``-o/--output`` (or the folder option), no traceback, and
every input byte-identical afterwards (sha256).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chipsr.cli.main import cli

from builders import EXAMPLES, EXAMPLE_SIZES as SIZES, GOLDEN_BAM as BAM, GOLDEN_BED as BED, one_line_error

AUDIO_MODEL = EXAMPLES / "audio" / "speech_r4_tfilm.pt"
AUDIO_DIR = EXAMPLES / "audio" / "data"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def files(tmp_path):
    """Copies of small real inputs in a scratch folder (so a failing guard cannot hurt the repo)."""
    d = tmp_path / "in"
    d.mkdir()
    out = {
        "bam": Path(shutil.copy(BAM, d / "reads.bam")),
        "bai": Path(shutil.copy(str(BAM) + ".bai", d / "reads.bam.bai")),
        "bed": Path(shutil.copy(BED, d / "reads.bed.gz")),
        "sizes": Path(shutil.copy(SIZES, d / "hg19.chrom.sizes")),
        "model": Path(shutil.copy(AUDIO_MODEL, d / "model.pt")),
    }
    wav = sorted(p for p in AUDIO_DIR.iterdir() if p.suffix in (".wav", ".flac"))[0]
    out["wav"] = Path(shutil.copy(wav, d / ("audio" + wav.suffix)))
    csv = d / "series.csv"
    csv.write_text("time,a,b\n2020-01-01,1.0,\n2020-01-02,,2.0\n2020-01-03,3.0,4.0\n")
    out["csv"] = csv
    return out


def refused(args: list[str], inputs: list[Path], *must_contain: str) -> str:
    """Run ``chipsr ARGS``; assert a clean one-line refusal and untouched inputs."""
    before = {p: _sha(p) for p in inputs}
    line = one_line_error(args, *must_contain)
    for p, digest in before.items():
        assert _sha(p) == digest, f"{p} changed"
    return line


def test_subsample_onto_its_bam(files):
    refused(["subsample", files["bam"], "-o", files["bam"], "--number", "10"], [files["bam"], files["bai"]],
            "-o/--output", "would overwrite", "an input")


def test_subsample_onto_a_bam_whose_index_is_an_input(files, tmp_path):
    # -o other.bam writes other.bam.bai; here that name is a hard link to the input's index
    other = tmp_path / "in" / "other.bam"
    os.link(files["bai"], str(other) + ".bai")
    refused(["coverage", files["bam"], "-o", str(other) + ".bai"], [files["bam"], files["bai"]],
            "index of input")


def test_coverage_onto_input_through_a_symlink(files, tmp_path):
    link = tmp_path / "link.bed.gz"
    link.symlink_to(files["bed"])
    refused(["coverage", files["bed"], "--chrom-sizes", files["sizes"], "-o", link], [files["bed"]],
            "-o/--output", "reads.bed.gz")


def test_coverage_onto_chrom_sizes(files):
    refused(["coverage", files["bed"], "--chrom-sizes", files["sizes"], "-o", files["sizes"]],
            [files["bed"], files["sizes"]], "--chrom-sizes")


def test_train_onto_a_named_mark(files):
    marks = f"H3K27ac={files['bed']},H3K4me1={files['bam']}"
    refused(["train", "--marks", marks, "--target", files["bam"], "-o", files["bed"],
             "--train-region", "chr22", "--valid-region", "chr22"], [files["bed"], files["bam"]],
            "-o/--output", "--marks")


def test_train_side_file_onto_input(files, tmp_path):
    # -o m.pt also writes m.pt.epochs.tsv
    epochs = Path(str(tmp_path / "in" / "m.pt") + ".epochs.tsv")
    epochs.write_text("epoch\n")
    refused(["train", "--marks", files["bed"], "--target", files["bam"], "-o", tmp_path / "in" / "m.pt",
             "--blacklist", epochs, "--train-region", "chr22", "--valid-region", "chr22"], [epochs],
            "m.pt.epochs.tsv")


def test_denoise_onto_the_model(files):
    refused(["denoise", "--marks", files["bed"], "--model", files["model"], "-o", files["model"]],
            [files["model"], files["bed"]], "--model")


def test_evaluate_prefix_onto_input(files, tmp_path):
    truth = Path(shutil.copy(files["bed"], tmp_path / "in" / "res.tsv"))
    refused(["evaluate", "--truth", truth, "--tracks", f"x={files['bed']}", "-o", tmp_path / "in" / "res"],
            [truth], "res.tsv", "--truth")


def test_report_onto_evaluation_and_hub_outside_its_folder(files, tmp_path):
    ev = tmp_path / "in" / "H3K27ac.json"
    ev.write_text("{}")
    refused(["report", "--evaluation", f"H3K27ac={ev}", "-o", ev], [ev], "--evaluation")
    refused(["report", "--evaluation", f"H3K27ac={ev}", "-o", tmp_path / "r.md", "--hub-dir", tmp_path / "hub",
             "--genome", "../../x"], [ev], "--hub-dir", "outside the output folder")
    assert not (tmp_path / "r.md").exists() and not (tmp_path / "hub").exists()


def test_two_outputs_on_one_file_are_refused(files, tmp_path):
    """Issue 14's second outputs: `report --html` on `-o`, `peaks --gapped-peak` on `-o`; and their inputs."""
    ev = tmp_path / "in" / "H3K27ac.json"
    ev.write_text("{}")
    refused(["report", "--evaluation", f"H3K27ac={ev}", "-o", tmp_path / "r.md", "--html", tmp_path / "r.md"],
            [ev], "-o/--output and --html both name")
    refused(["report", "--evaluation", f"H3K27ac={ev}", "-o", tmp_path / "r.md", "--html", ev], [ev], "--evaluation")
    track = tmp_path / "in" / "t.bw"
    assert CliRunner().invoke(cli, ["coverage", str(files["bed"]), "-o", str(track), "--chrom-sizes",
                                    str(files["sizes"])]).exit_code == 0
    refused(["peaks", track, "-o", tmp_path / "p.broadPeak", "--peak-type", "broad", "--gapped-peak", tmp_path / "p.broadPeak"],
            [track], "--gapped-peak")
    refused(["peaks", track, "-o", track, "--fold", "3"], [track], "TRACK")
    assert not (tmp_path / "r.md").exists() and not (tmp_path / "p.broadPeak").exists()


def test_audio_commands(files):
    refused(["audio", "upsample", files["wav"], "--model", files["model"], "-o", files["wav"]],
            [files["wav"], files["model"]], "-o/--output")
    refused(["audio", "export", files["model"], "-o", files["model"]], [files["model"]], "MODEL")
    refused(["audio", "train", "--data", files["wav"], "-o", files["wav"]], [files["wav"]], "--data")


def test_impute_commands(files, tmp_path):
    refused(["impute", "fill", files["csv"], "--model", files["model"], "-o", files["csv"]],
            [files["csv"], files["model"]], "IN.csv")
    data = Path(shutil.copy(files["csv"], tmp_path / "in" / "res.tsv"))
    refused(["impute", "evaluate", "--data", data, "--dataset", "csv", "-o", tmp_path / "in" / "res.md"],
            [data], "res.tsv")


def test_output_folder_checked_before_work(files, tmp_path):
    refused(["coverage", files["bed"], "--chrom-sizes", files["sizes"], "-o", tmp_path / "nope" / "o.bw"],
            [files["bed"]], "-o/--output", "does not exist")
    refused(["coverage", files["bed"], "--chrom-sizes", files["sizes"], "-o", tmp_path],
            [files["bed"]], "-o/--output")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_output_folder(files, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        refused(["coverage", files["bed"], "--chrom-sizes", files["sizes"], "-o", locked / "o.bw"],
                [files["bed"]], "not writable")
    finally:
        locked.chmod(0o700)


def test_distinct_output_still_works(files, tmp_path):
    out = tmp_path / "low.bam"
    result = CliRunner().invoke(cli, ["subsample", str(files["bam"]), "-o", str(out), "--number", "10"])
    assert result.exit_code == 0, result.output
    assert out.exists() and Path(str(out) + ".bai").exists()
