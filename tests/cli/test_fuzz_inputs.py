"""The fuzz table: every input slot of every subcommand x every kind of bad file.

Each case builds the bad file from nothing but bytes, puts it in one input slot of an otherwise
valid command line (the other inputs are small real files), and asserts: non-zero exit, one output
line starting with ``Error:`` that names the bad file, no traceback, no output or temporary file
left in the output folder, and the bad file byte-identical afterwards.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chipsr.cli.main import cli

from builders import EXAMPLES, EXAMPLE_SIZES as SIZES, GOLDEN_BED as BED


def _bad_files(folder: Path) -> dict[str, Path]:
    """One file per kind of bad input (the name ends like the slot expects, e.g. .bed.gz)."""
    kinds = {}
    kinds["missing"] = folder / "missing.dat"
    (folder / "empty.dat").write_bytes(b"")
    kinds["empty"] = folder / "empty.dat"
    (folder / "garbage.dat").write_bytes(bytes(range(256)) * 8)
    kinds["garbage"] = folder / "garbage.dat"
    (folder / "truncated.dat").write_bytes(gzip.compress(b"chr22\t100\t300\n" * 5000)[:60])
    kinds["truncated_gzip"] = folder / "truncated.dat"
    (folder / "latin1.dat").write_bytes("chr22\t100\t300\tna\xefve\n".encode("latin-1") * 3)
    kinds["not_utf8"] = folder / "latin1.dat"
    (folder / "adir.dat").mkdir()
    kinds["directory"] = folder / "adir.dat"
    return kinds


KINDS = ["missing", "empty", "garbage", "truncated_gzip", "not_utf8", "directory"]


@pytest.fixture(scope="module")
def real(tmp_path_factory, tiny_tracks, tiny_model):
    """Small real inputs: a low-depth-like bigWig, an evaluation JSON, a WAV and a CSV; and the
    shared tiny ChIP-seq model with its two marks."""
    import numpy as np
    import soundfile

    d = tmp_path_factory.mktemp("real")
    bw = d / "k27ac.bw"
    r = CliRunner().invoke(cli, ["coverage", str(BED), "--chrom-sizes", str(SIZES), "-o", str(bw),
                                 "--region", "chr22:30000001-32000000"])
    assert r.exit_code == 0, r.output
    ev = d / "ev"
    r = CliRunner().invoke(cli, ["evaluate", "--truth", str(bw), "--tracks", f"x={bw}", "-o", str(ev),
                                 "--region", "chr22:30000001-32000000"])
    assert r.exit_code == 0, r.output
    wav = d / "in.wav"
    soundfile.write(str(wav), np.zeros(8000, dtype=np.float32), 4000)
    csv = d / "in.csv"
    csv.write_text("time,a\n2020-01-01,1\n2020-01-02,\n")
    peaks = d / "p.narrowPeak"
    r = CliRunner().invoke(cli, ["peaks", str(bw), "-o", str(peaks), "--fold", "3"])
    assert r.exit_code == 0, r.output
    return {"bw": bw, "model": tiny_model, "K27ac": tiny_tracks["K27ac"], "K4me1": tiny_tracks["K4me1"],
            "json": Path(f"{ev}.json"), "wav": wav, "csv": csv, "peaks": peaks}


# (slot name, builder of the command line given the bad path X, the real inputs and the output folder)
SLOTS = {
    "subsample READS": lambda x, r, o: ["subsample", x, "-o", o / "s.bed", "--number", "5"],
    "coverage READS": lambda x, r, o: ["coverage", x, "--chrom-sizes", SIZES, "-o", o / "c.bw"],
    "coverage --chrom-sizes": lambda x, r, o: ["coverage", BED, "--chrom-sizes", x, "-o", o / "c.bw"],
    "coverage --blacklist": lambda x, r, o: ["coverage", BED, "--chrom-sizes", SIZES, "--blacklist", x,
                                             "-o", o / "c.bw"],
    "train --marks": lambda x, r, o: ["train", "--marks", f"k27ac={x}", "--target", r["bw"], "-o", o / "m.pt",
                                      "--train-region", "chr22:30000001-31000000",
                                      "--valid-region", "chr22:31000001-32000000"],
    "train --target": lambda x, r, o: ["train", "--marks", f"k27ac={r['bw']}", "--target", x, "-o", o / "m.pt",
                                       "--train-region", "chr22:30000001-31000000",
                                       "--valid-region", "chr22:31000001-32000000"],
    "denoise --marks": lambda x, r, o: ["denoise", "--marks", f"K27ac={x},K4me1={r['K4me1']}", "--model", r["model"],
                                        "-o", o / "d.bw"],
    "denoise --model": lambda x, r, o: ["denoise", "--marks", f"K27ac={r['K27ac']},K4me1={r['K4me1']}", "--model", x,
                                        "-o", o / "d.bw"],
    "evaluate --truth": lambda x, r, o: ["evaluate", "--truth", x, "--tracks", f"x={r['bw']}", "-o", o / "e"],
    "evaluate --tracks": lambda x, r, o: ["evaluate", "--truth", r["bw"], "--tracks", f"x={x}", "-o", o / "e"],
    "evaluate --peaks": lambda x, r, o: ["evaluate", "--truth", r["bw"], "--tracks", f"x={r['bw']}",
                                         "--truth-peaks", x, "-o", o / "e", "--region", "chr22:30000001-32000000"],
    "report --evaluation": lambda x, r, o: ["report", "--evaluation", f"H3K27ac={x}", "-o", o / "r.md"],
    "audio upsample INPUT": lambda x, r, o: ["audio", "upsample", x, "--model",
                                             EXAMPLES / "audio" / "speech_r4_tfilm.pt", "-o", o / "u.wav"],
    "audio upsample --model": lambda x, r, o: ["audio", "upsample", r["wav"], "--model", x, "-o", o / "u.wav"],
    "impute fill --model": lambda x, r, o: ["impute", "fill", r["csv"], "--model", x, "-o", o / "f.csv"],
    # the commands and options added later: peaks, gather, info, export, report's page, references,
    # evaluate's peak options and depth series
    "peaks TRACK": lambda x, r, o: ["peaks", x, "-o", o / "p.narrowPeak"],
    "peaks --truth-peaks": lambda x, r, o: ["peaks", r["bw"], "-o", o / "p.narrowPeak", "--truth-peaks", x,
                                            "--valid-region", "chr22:30000001-31000000"],
    "peaks --model": lambda x, r, o: ["peaks", r["bw"], "-o", o / "p.narrowPeak", "--model", x],
    "peaks --blacklist": lambda x, r, o: ["peaks", r["bw"], "-o", o / "p.narrowPeak", "--blacklist", x],
    "gather SHARDS": lambda x, r, o: ["gather", x, "-o", o / "g.bw"],
    "info MODEL": lambda x, r, o: ["info", x, "-o", o / "card.yaml"],
    "export MODEL": lambda x, r, o: ["export", x, "-o", o / "small.pt"],
    "report --training-log": lambda x, r, o: ["report", "--evaluation", f"H3K27ac={r['json']}", "-o", o / "r.md",
                                              "--html", o / "r.html", "--training-log", f"H3K27ac.tfilm={x}"],
    "report --peak-file": lambda x, r, o: ["report", "--evaluation", f"H3K27ac={r['json']}", "-o", o / "r.md",
                                           "--peak-file", f"L={x}"],
    "train --reference": lambda x, r, o: ["train", "--marks", f"k27ac={r['bw']}", "--reference", f"ref={x}",
                                          "--target", r["bw"], "-o", o / "m.pt",
                                          "--train-region", "chr22:30000001-31000000",
                                          "--valid-region", "chr22:31000001-32000000"],
    "train --truth-peaks": lambda x, r, o: ["train", "--marks", f"k27ac={r['bw']}", "--target", r["bw"],
                                            "-o", o / "m.pt", "--truth-peaks", x,
                                            "--train-region", "chr22:30000001-31000000",
                                            "--valid-region", "chr22:31000001-32000000"],
    "evaluate --called": lambda x, r, o: ["evaluate", "--truth", r["bw"], "--tracks", f"x={r['bw']}",
                                          "--truth-peaks", r["peaks"], "--called", f"c={x}", "-o", o / "e",
                                          "--region", "chr22:30000001-32000000"],
    "evaluate --depth-series": lambda x, r, o: ["evaluate", "--truth", r["bw"], "--tracks", f"x={r['bw']}",
                                                "--depth-series", f"1={r['bw']},2={x}", "-o", o / "e",
                                                "--region", "chr22:30000001-32000000"],
}


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


#: legitimate inputs among the "bad" ones: a non-UTF-8 byte in a BED *name* column is a valid read;
#: an empty peak file is an empty peak set (a caller may call nothing; evaluate warns)
LEGIT = {("subsample READS", "not_utf8"), ("coverage READS", "not_utf8"), ("evaluate --peaks", "empty"),
         ("evaluate --called", "empty")}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("slot", list(SLOTS))
def test_bad_file_in_every_slot(tmp_path, real, slot, kind):
    bad = _bad_files(tmp_path)[kind]
    out = tmp_path / "out"
    out.mkdir()
    before = _sha(bad)
    result = CliRunner().invoke(cli, [str(a) for a in SLOTS[slot](bad, real, out)])
    if (slot, kind) in LEGIT:  # the right result, not an error
        assert result.exit_code == 0, result.output
        assert [p.name for p in out.iterdir() if not p.name.startswith(".")] and _sha(bad) == before
        return
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output, result.output
    # an exception other than click's exit is a crash, not an error message
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert bad.name in lines[0], lines[0]
    assert list(out.iterdir()) == [], list(out.iterdir())  # no output, no temporary file
    assert _sha(bad) == before
    if bad.is_dir():
        shutil.rmtree(bad)
