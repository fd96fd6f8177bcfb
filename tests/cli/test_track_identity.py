"""No silent wrong result: a track's bin size, a checkpoint's task and weights, and an input named
twice are checked, each refused in one line naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig
import pytest
import torch
from click.testing import CliRunner

from chipsr.cli.main import cli

from builders import EXAMPLES

MODEL = EXAMPLES / "models" / "H3K27ac.tfilm.pt"
AUDIO_MODEL = EXAMPLES / "audio" / "speech_r4_tfilm.pt"
MARKS = ("H3K27ac", "H3K4me1", "H3K4me3")
SIZE = 400_000


def _track(path: Path, bin_size: int, seed: int = 0) -> Path:
    """A bigWig of ``bin_size``-bp bins over chr22 (SIZE bp) with varied values."""
    rng = np.random.default_rng(seed)
    n = SIZE // bin_size
    out = pyBigWig.open(str(path), "w")
    out.addHeader([("chr22", SIZE)])
    out.addEntries("chr22", 0, values=rng.gamma(1.0, 1.0, n).tolist(), span=bin_size, step=bin_size)
    out.close()
    return path


def _one_line_error(args: list, *texts: str) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    lines = [ln for ln in result.output.splitlines() if ln.strip() and not ln.startswith("Warning")]
    assert result.exit_code != 0 and len(lines) == 1 and lines[0].startswith("Error:"), result.output
    for text in texts:
        assert text in lines[0], (text, lines[0])
    return lines[0]


@pytest.fixture
def marks(tmp_path):
    return {m: _track(tmp_path / f"{m}.bw", 25, i) for i, m in enumerate(MARKS)}


@pytest.mark.parametrize("coarse", ["H3K27ac", "H3K4me3"])
def test_a_track_of_another_bin_size_is_refused(tmp_path, marks, coarse):
    """A 100-bp track given to a 25-bp model (first or last of the marks) is refused, naming the file
    and both bin sizes; nothing is written."""
    marks = dict(marks, **{coarse: _track(tmp_path / f"{coarse}.100.bw", 100)})
    out = tmp_path / "d.bw"
    _one_line_error(["denoise", "--marks", ",".join(f"{m}={p}" for m, p in marks.items()), "--model", MODEL,
                     "-o", out], f"{coarse}.100.bw", "100-bp bins", "25-bp bins")
    assert not out.exists()


def test_the_bin_size_check_accepts_the_right_grid(tmp_path, marks):
    from chipsr.tasks.chipseq.data import check_tracks

    assert check_tracks(marks, None, 25, chrom="chr22") == {"chr22": SIZE}
    with pytest.raises(Exception, match="a track of 100-bp bins, but --bin-size needs 25-bp bins"):
        check_tracks({**marks, "x": _track(tmp_path / "x.bw", 100)}, None, 25, chrom="chr22")


def _damaged(tmp_path: Path, change) -> Path:
    ckpt = torch.load(MODEL, weights_only=False)
    change(ckpt["state_dict"])
    path = tmp_path / "damaged.pt"
    torch.save(ckpt, path)
    return path


def test_a_checkpoint_with_non_finite_weights_is_refused(tmp_path, marks):
    def nan(state):
        name = next(k for k, v in state.items() if v.is_floating_point())
        state[name] = torch.full_like(state[name], float("nan"))

    bad = _damaged(tmp_path, nan)
    spec = ",".join(f"{m}={p}" for m, p in marks.items())
    _one_line_error(["denoise", "--marks", spec, "--model", bad, "-o", tmp_path / "d.bw"], str(bad), "NaN")
    _one_line_error(["info", bad], "NaN")
    _one_line_error(["export", bad, "-o", tmp_path / "small.pt"], "NaN")
    assert not (tmp_path / "d.bw").exists() and not (tmp_path / "small.pt").exists()


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path, marks):
    def shrink(state):
        name = next(k for k, v in state.items() if v.ndim == 3)
        state[name] = state[name][:, :, :1].clone()

    bad = _damaged(tmp_path, shrink)
    spec = ",".join(f"{m}={p}" for m, p in marks.items())
    _one_line_error(["denoise", "--marks", spec, "--model", bad, "-o", tmp_path / "d.bw"], str(bad),
                    "do not fit its config")


def test_another_tasks_model_is_named_as_such(tmp_path, marks):
    spec = ",".join(f"{m}={p}" for m, p in marks.items())
    _one_line_error(["denoise", "--marks", spec, "--model", AUDIO_MODEL, "-o", tmp_path / "d.bw"],
                    "is an audio super-resolution model, not a ChIP-seq model")
    _one_line_error(["peaks", marks["H3K27ac"], "-o", tmp_path / "p.narrowPeak", "--model", AUDIO_MODEL],
                    "is an audio super-resolution model, not a ChIP-seq model")
    card = CliRunner().invoke(cli, ["info", str(AUDIO_MODEL)])
    assert card.exit_code == 0, card.output
    assert "valid_pearson_r" not in card.output and "valid_snr_db: 13.37" in card.output


def test_the_same_reads_file_twice_is_refused(tmp_path):
    reads = EXAMPLES / "data" / "GSM2136940_MOLM13.H3K4me3.chr22.frag200.bed.gz"
    link = tmp_path / "link.bed.gz"
    link.symlink_to(reads)
    _one_line_error(["coverage", reads, link, "-o", tmp_path / "c.bw", "--chrom-sizes",
                     EXAMPLES / "data" / "hg19.chrom.sizes"], "are one file", "twice")
    _one_line_error(["subsample", reads, reads, "-o", tmp_path / "s.bed.gz", "-n", "10"], "given twice")
    assert not (tmp_path / "c.bw").exists() and not (tmp_path / "s.bed.gz").exists()


def test_a_truncated_wav_is_refused(tmp_path):
    """A WAV whose header declares more samples than it holds (libsndfile reads what is there without
    a word) is refused naming both lengths; a whole one reads."""
    import soundfile as sf

    from chipsr.errors import ChipsrInputError
    from chipsr.io.audio import read_audio

    whole = tmp_path / "whole.wav"
    sf.write(whole, np.sin(np.arange(16000) / 10.0).astype(np.float32) * 0.5, 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:16000])
    assert read_audio(whole)[0].shape == (16000, 1)
    with pytest.raises(ChipsrInputError, match=r"declares 16000 samples per channel but the file holds 79\d\d"):
        read_audio(cut)
    _one_line_error(["audio", "upsample", cut, "-o", tmp_path / "up.wav", "--model", AUDIO_MODEL], "truncated")
    assert not (tmp_path / "up.wav").exists()


def test_gather_names_each_shards_bin_size(tmp_path):
    """Shards whose chromosome starts with a long empty run: their bin size is read from the grid of
    their boundaries (it was the first run's length, e.g. '300000-bp bins')."""

    def shard(path, chrom, bin_size):
        out = pyBigWig.open(str(path), "w")
        out.addHeader([("chr1", 1_000_000), ("chr2", 1_000_000)])
        out.addEntries([chrom], [0], ends=[300_000], values=[0.0])
        n = 700_000 // bin_size
        out.addEntries(chrom, 300_000, values=np.random.default_rng(1).gamma(1, 1, n).tolist(), span=bin_size,
                       step=bin_size)
        out.close()
        return path

    a, b = shard(tmp_path / "a.bw", "chr1", 25), shard(tmp_path / "b.bw", "chr2", 100)
    _one_line_error(["gather", a, b, "-o", tmp_path / "g.bw"], "b.bw: 100-bp bins, the other shards 25-bp bins")
    assert not (tmp_path / "g.bw").exists()


def test_peaks_on_other_chromosome_names_are_refused(tmp_path, marks):
    """Truth peaks named like Ensembl ('22') against a UCSC track ('chr22'): refused naming both
    files and both styles (chipsr peaks calibrating, chipsr evaluate scoring); nothing written."""
    truth = tmp_path / "ens.narrowPeak"
    truth.write_text("".join(f"22\t{s}\t{s + 500}\tp{i}\t0\t.\t1\t-1\t-1\t250\n"
                             for i, s in enumerate(range(1000, 300_000, 20_000))))
    track = marks["H3K27ac"]
    out = tmp_path / "p.narrowPeak"
    _one_line_error(["peaks", track, "-o", out, "--truth-peaks", truth, "--valid-region", "chr22:1-200000"],
                    "ens.narrowPeak", "like '22'", "like 'chr22'")
    _one_line_error(["evaluate", "--truth", track, "--tracks", f"x={marks['H3K4me1']}", "-o", tmp_path / "ev",
                     "--truth-peaks", truth], "ens.narrowPeak", "like '22'")
    assert not out.exists() and not list(tmp_path.glob("ev.*"))
