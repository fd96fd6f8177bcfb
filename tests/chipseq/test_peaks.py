"""`chipsr peaks` (MACS3's track callers on a bigWig), its default rule, and the peak metrics.

Real data: the MOLM-13 H3K27ac fragments of chr22:30-32 Mb (tests/data/golden), piled up by
`chipsr coverage` at full depth and at a 5 % subsample. Small hand-made bigWigs only where a case
needs an exact layout (the bedGraph-gap trap, a 1-bp track).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyBigWig
import pytest
from click.testing import CliRunner
from builders import DATA, one_line_error

from chipsr.cli.main import cli
from chipsr.errors import ChipsrInputError
from chipsr.io.tracks import read_binned
from chipsr.tasks.chipseq.peaks import (
    bin_scores,
    bp_jaccard,
    default_cutoff,
    merge_intervals,
    peak_set_scores,
    positive_median,
)

pytest.importorskip("MACS3", reason="MACS3 is not installed (pip install 'macs3>=3.0.4')")


FRAGS = DATA / "golden" / "GSM2136938_MOLM13.H3K27ac.chr22.frag200.chr22_30000000_32000000.bed.gz"
SIZES = DATA / "hg19.chrom.sizes"
REGION = "chr22:30000001-32000000"


def run(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def tracks(tmp_path_factory):
    """Full-depth and 5 %-subsample coverage of the real H3K27ac fragments (25-bp bins), and a 1-bp track
    (hand-made: the example's fragments sit on a 10-bp grid)."""
    tmp = tmp_path_factory.mktemp("peaks")
    out = {}
    low = tmp / "low.bed.gz"
    assert run(["subsample", FRAGS, "-o", low, "--fraction", "0.05", "--seed", "1"]).exit_code == 0
    for name, reads, bin_size in (("full", FRAGS, 25), ("low", low, 25)):
        out[name] = tmp / f"{name}.bw"
        res = run(["coverage", reads, "-o", out[name], "--bin-size", bin_size, "--chrom-sizes", SIZES])
        assert res.exit_code == 0, res.output
    out["full1bp"] = tmp / "one_bp.bw"
    with pyBigWig.open(str(out["full1bp"]), "w") as bw:
        bw.addHeader([("chr22", 51_304_566)])
        starts = np.arange(30_000_000, 30_001_000)
        bw.addEntries("chr22", starts.tolist(), values=(starts % 7 + 1.0).tolist(), span=1)
    return out


def read_rows(path):
    return [line.split("\t") for line in path.read_text().splitlines()]


def test_narrow_peaks_are_valid_narrowpeak_above_the_cutoff(tracks, tmp_path):
    out = tmp_path / "full.narrowPeak"
    res = run(["peaks", tracks["full"], "-o", out, "--fold", "4", "--region", REGION])
    assert res.exit_code == 0, res.output
    rows = read_rows(out)
    assert len(rows) > 10
    starts = [int(r[1]) for r in rows]
    assert starts == sorted(starts)
    with pyBigWig.open(str(tracks["full"])) as bw:
        mean = bw.stats("chr22", 30_000_000, 32_000_000, type="mean")[0]  # only region with signal
        assert "4 x its genome-wide mean" in res.output
        for r in rows:
            assert len(r) == 10 and r[5] == "." and r[8] == "-1"
            start, end, score, signal, summit = int(r[1]), int(r[2]), int(r[4]), float(r[6]), int(r[9])
            assert end - start >= 200 and 0 <= score <= 1000 and 0 <= summit < end - start
            top = bw.stats("chr22", start, end, type="max", exact=True)[0]
            assert signal == pytest.approx(top, rel=1e-5)
            # the call used the track's genome-wide mean (chr22 has signal only in 30-32 Mb here)
            assert top >= 4 * mean * (2_000_000 / 51_304_566) * 0.999


def test_a_gap_between_two_peaks_never_merges_them(tmp_path):
    """MACS3 gives a bedGraph gap the next interval's value; chipsr hands it explicit zeros."""
    path = tmp_path / "gaps.bw"
    with pyBigWig.open(str(path), "w") as bw:
        bw.addHeader([("chr1", 10_000)])
        bw.addEntries(["chr1", "chr1"], [1000, 5000], ends=[1200, 5300], values=[5.0, 6.0])
    out = tmp_path / "gaps.narrowPeak"
    assert run(["peaks", path, "-o", out, "--cutoff", "2", "--min-length", "100"]).exit_code == 0
    assert [(int(r[1]), int(r[2])) for r in read_rows(out)] == [(1000, 1200), (5000, 5300)]


def test_broad_peaks_write_broadpeak_and_gappedpeak(tracks, tmp_path):
    out, gapped = tmp_path / "b.broadPeak", tmp_path / "b.gappedPeak"
    res = run(["peaks", tracks["full"], "-o", out, "--peak-type", "broad", "--fold", "4", "--gapped-peak", gapped,
               "--region", REGION])
    assert res.exit_code == 0, res.output
    broad, gap = read_rows(out), read_rows(gapped)
    assert broad and len(broad) == len(gap)
    assert all(len(r) == 9 for r in broad) and all(len(r) == 15 for r in gap)
    for r in gap:
        start, end, n = int(r[1]), int(r[2]), int(r[9])
        sizes = [int(v) for v in r[10].split(",")]
        offsets = [int(v) for v in r[11].split(",")]
        assert len(sizes) == len(offsets) == n and offsets[0] == 0 and offsets[-1] + sizes[-1] == end - start
    narrow = read_rows(tmp_path / "n.narrowPeak") if run(
        ["peaks", tracks["full"], "-o", tmp_path / "n.narrowPeak", "--fold", "4", "--region", REGION]).exit_code == 0 \
        else []
    assert len(broad) <= len(narrow)  # linking merges strong regions


def test_calibration_picks_the_fold_with_the_best_f1(tracks, tmp_path):
    truth = tmp_path / "truth.narrowPeak"
    assert run(["peaks", tracks["full"], "-o", truth, "--fold", "4"]).exit_code == 0
    out = tmp_path / "low.narrowPeak"
    res = run(["-v", "peaks", tracks["low"], "-o", out, "--truth-peaks", truth,
               "--valid-region", "chr22:30000001-31000000"])
    assert res.exit_code == 0, res.output
    assert "fold calibrated on chr22:30000001-31000000" in res.output
    from chipsr.api import peaks as call  # PeaksSettings' defaults

    info = call(tracks["low"], tmp_path / "again.narrowPeak", truth_peaks=truth,
                valid_region="chr22:30000001-31000000")
    best = max(row["f1"] for row in info["calibration"] if not math.isnan(row["f1"]))
    assert next(r for r in info["calibration"] if r["fold"] == info["fold"])["f1"] == best > 0.2


def test_a_track_without_signal_on_the_validation_region_gets_the_default_rule(tracks, tmp_path):
    """When no fold calls a peak that matches the truth on the validation region (the track is empty
    there), calibration does not pick the highest fold (which calls nothing anywhere): chipsr peaks
    and evaluate fall back to the default rule and say so."""
    from chipsr.tasks.chipseq.peaks import calibrate_fold

    truth_ivs = {"chr1": (np.array([100]), np.array([400]))}
    empty = [("chr1", np.array([10_000]), np.array([0.0]))]
    fold, table = calibrate_fold(lambda: empty, 1.0, truth_ivs)
    assert fold is None and len(table) > 1
    truth = tmp_path / "truth.narrowPeak"
    assert run(["peaks", tracks["full"], "-o", truth, "--fold", "4"]).exit_code == 0
    # the low-depth track with its validation region (chr22:30-31 Mb) emptied, as a track denoised on
    # the test region only would be
    cut = tmp_path / "cut.bw"
    with pyBigWig.open(str(tracks["low"])) as src, pyBigWig.open(str(cut), "w") as dst:
        dst.addHeader(list(src.chroms().items()))
        ivs = [iv for iv in src.intervals("chr22") if iv[0] >= 31_000_000]
        dst.addEntries(["chr22"] * len(ivs), [a for a, _, _ in ivs], ends=[b for _, b, _ in ivs],
                       values=[v for _, _, v in ivs])
    from chipsr.api import peaks as call

    info = call(cut, tmp_path / "x.narrowPeak", truth_peaks=truth, valid_region="chr22:30000001-31000000")
    assert info["calibration"] is not None and "default" in info["rule"]
    assert info["n_peaks"] > 0  # the highest calibration fold called none
    res = run(["evaluate", "--truth", tracks["full"], "--tracks", f"cut={cut}", "-o", tmp_path / "ev",
               "--region", "chr22:31000001-32000000", "--truth-peaks", truth, "--peak-type", "narrow",
               "--valid-region", "chr22:30000001-31000000"])
    assert res.exit_code == 0, res.output
    called = json.loads((tmp_path / "ev.json").read_text())["peak_scores"]["called"]["cut"]
    assert "the default rule: no fold of cut matches a truth peak" in called["source"] and called["n_called"] > 0


def test_cutoff_analysis_prints_macs3_table(tracks):
    res = run(["peaks", tracks["full"], "--cutoff-analysis", "5", "--region", REGION])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].split() == ["score", "npeaks", "lpeaks", "avelpeak"]


def test_no_peaks_give_a_warning_and_a_valid_empty_file(tracks, tmp_path):
    out = tmp_path / "none.narrowPeak"
    res = run(["peaks", tracks["full"], "-o", out, "--cutoff", "1e9"])
    assert res.exit_code == 0 and out.exists() and out.read_text() == ""
    assert "no peak at cutoff" in res.output
    empty = tmp_path / "quiet.narrowPeak"
    res = run(["peaks", tracks["full"], "-o", empty, "--region", "chr22:40000001-41000000", "--fold", "3"])
    assert res.exit_code == 0 and empty.read_text() == "" and "no signal" in res.output


def test_bad_input_one_line(tracks, tmp_path):
    out = tmp_path / "x.narrowPeak"
    one_line_error(["peaks", tracks["full1bp"], "-o", out, "--peak-type", "broad", "--region", REGION], "1-bp resolution")
    one_line_error(["peaks", tracks["full"], "-o", out, "--cutoff", "3", "--fold", "2"], "not both")
    one_line_error(["peaks", tracks["full"], "-o", out, "--truth-peaks", out], "--valid-region")
    one_line_error(["peaks", tracks["full"], "-o", out, "--cutoff", "-1"], "--cutoff")
    one_line_error(["peaks", tracks["full"], "-o", tracks["full"], "--cutoff", "3"], "would overwrite")
    one_line_error(["peaks", tracks["full"], "-o", out, "--region", "chrZ:1-100"], "chrZ")
    one_line_error(["peaks", FRAGS, "-o", out], "not a bigWig")
    assert not out.exists()


def test_macs3_missing_is_one_line(tracks, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "MACS3.Signal.BedGraph", None)  # import fails as if not installed
    one_line_error(["peaks", tracks["full"], "-o", tmp_path / "x.narrowPeak"], "MACS3 is not installed", "pip install")


def poisson_tail(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam), summed by hand."""
    return 1 - sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k))


def rule_by_hand(mean: float, unit: float) -> tuple[float, int]:
    """The default rule: max(5.5 x mean, k x unit), k >= 2 the fewest reads with P(X >= k) <= 0.01."""
    k = 2
    while poisson_tail(k, mean / unit) > 0.01:
        k += 1
    return max(5.5 * mean, k * unit), k


def test_default_cutoff_by_hand():
    low = default_cutoff(0.1, 1.0)  # the example's depth: one read is 10 x the mean, so the floor decides
    assert poisson_tail(1, 0.1) > 0.01 >= poisson_tail(2, 0.1)
    assert (low["cutoff"], low["reads"], low["fold"]) == (2.0, 2, pytest.approx(20.0))
    assert "2 reads x 1" in low["rule"]
    assert default_cutoff(0.001, 1.0)["cutoff"] == 2.0  # one read would pass the tail test: two at least
    deep = default_cutoff(1.0, 0.5)  # a denoised track: 7 x 0.5 is below 5.5 x the mean
    assert poisson_tail(6, 2.0) > 0.01 >= poisson_tail(7, 2.0)
    assert (deep["cutoff"], deep["reads"], deep["fold"]) == (5.5, 7, 5.5)
    none = default_cutoff(2.0, math.nan)  # no positive value to take a read from: the fold alone
    assert (none["cutoff"], none["reads"]) == (11.0, None)
    with pytest.raises(ChipsrInputError, match="mean"):
        default_cutoff(0.0, 1.0)


def test_positive_median_by_hand():
    assert positive_median([(np.array([0, 1, 1, 2, 5, -1.0]), None)]) == 1.0  # of 1, 1, 2, 5
    assert positive_median([(np.array([1.0, 3.0]), np.array([10, 30]))]) == 3.0  # weighted by length
    assert positive_median([(np.array([1.0]), np.array([5])), (np.array([2.0]), np.array([6]))]) == 2.0
    assert positive_median([(np.array([0.3, 0.3 + 1e-9, 7.0]), None)]) == pytest.approx(0.3, rel=2e-4)
    assert math.isnan(positive_median([(np.zeros(3), None)]))


@pytest.mark.parametrize("name", ["low", "full"])
def test_default_rule_calls_what_it_says_on_real_tracks(tracks, tmp_path, name):
    """`chipsr peaks TRACK` with no cutoff: the peaks of `--cutoff C`, C the rule computed here from the
    track's own bins (chr22 is its only chromosome with signal, so the genome-wide mean is chr22's)."""
    bins = read_binned(tracks[name], "chr22", 25)
    cutoff, reads = rule_by_hand(bins.mean(), float(np.median(bins[bins > 0])))
    if name == "low":  # a 5 % subsample: one read's signal (1) is ~200 x the mean, so 2 reads set the cutoff
        assert (cutoff, reads) == (2.0, 2)
    default, given = tmp_path / "default" / "x.narrowPeak", tmp_path / "given" / "x.narrowPeak"
    default.parent.mkdir(), given.parent.mkdir()
    res = run(["-v", "peaks", tracks[name], "-o", default])
    assert res.exit_code == 0, res.output
    assert "the default rule, the larger of 5.5 x the mean" in res.output and f" {reads} reads x " in res.output
    assert run(["peaks", tracks[name], "-o", given, "--cutoff", repr(cutoff)]).exit_code == 0
    assert len(read_rows(default)) > 10 and default.read_bytes() == given.read_bytes()


def test_evaluate_in_peak_bins_are_the_default_peaks_of_the_truth(tracks, tmp_path):
    """Without --truth-peaks, `chipsr evaluate`'s in-peak bins are the bins of the peaks `chipsr peaks`
    calls on the truth at the default rule, the rule taken over the evaluated bins."""
    import json

    res = run(["evaluate", "--truth", tracks["full"], "--tracks", f"noisy={tracks['low']}", "-o", tmp_path / "ev",
               "--region", REGION])
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "ev.json").read_text())["peaks"]
    bins = read_binned(tracks["full"], "chr22", 25, 30_000_000, 32_000_000)
    cutoff, _ = rule_by_hand(bins.mean(), float(np.median(bins[bins > 0])))
    assert info["source"] == "called" and info["threshold"] == pytest.approx(cutoff, rel=1e-9)
    out = tmp_path / "truth.narrowPeak"
    assert run(["peaks", tracks["full"], "-o", out, "--cutoff", repr(info["threshold"]), "--region", REGION]).exit_code == 0
    inside = set()
    for row in read_rows(out):
        inside.update(range(int(row[1]) // 25, -(-int(row[2]) // 25)))
    assert len(inside) > 100 and info["n_bins"] == len(inside)


def ivs(*pairs):
    s, e = zip(*pairs)
    return {"chr1": merge_intervals(np.array(s), np.array(e))}


def test_peak_set_scores_by_hand():
    truth = ivs((100, 200), (300, 400), (1000, 1100))
    called = ivs((150, 160), (390, 600), (2000, 2100))
    s = peak_set_scores(called, truth)
    assert (s["n_called"], s["n_truth"]) == (3, 3)
    assert s["precision"] == pytest.approx(2 / 3) and s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(2 / 3)
    # bp: called 10 + 210 + 100 = 320, truth 300, overlap 10 + 10 = 20 -> 20 / 600
    assert s["jaccard"] == pytest.approx(20 / 600)
    strict = peak_set_scores(called, truth, reciprocal=0.5)  # (150,160) is 10 % of its truth peak
    assert strict["precision"] == 0 and strict["f1"] == 0
    assert bp_jaccard(truth, truth) == 1.0
    assert bp_jaccard(ivs((0, 10)), ivs((10, 20))) == 0.0  # touching is not overlapping
    assert merge_intervals(np.array([5, 0, 8]), np.array([9, 6, 12]))[1].tolist() == [12]


def test_bin_scores_match_sklearn_and_use_every_bin():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    labels = rng.random(5000) < 0.1
    values = labels + rng.normal(0, 0.8, 5000)
    got = bin_scores(values, labels)
    assert got["auprc"] == pytest.approx(average_precision_score(labels, values))
    assert got["auroc"] == pytest.approx(roc_auc_score(labels, values))
    assert math.isnan(bin_scores(values, np.zeros(5000, bool))["auprc"])


def test_evaluate_scores_peaks_of_every_track_and_given_sets(tracks, tmp_path):
    """`chipsr evaluate --peaks TRUTH --call-peaks narrow --called ...`: the truth is `macs3 callpeak` on the
    full-depth fragments (as the workflow does); every track gets a calibrated peak call and AUPRC / AUROC."""
    import json
    import shutil
    import subprocess
    import sys

    macs3 = shutil.which("macs3") or str(__import__("pathlib").Path(sys.executable).with_name("macs3"))
    res = subprocess.run([macs3, "callpeak", "-t", str(FRAGS), "-f", "BEDPE", "-g", "2e6", "-n", "full",
                          "--outdir", str(tmp_path), "-q", "0.05"], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    truth = tmp_path / "full_peaks.narrowPeak"
    given = tmp_path / "given.narrowPeak"
    assert run(["peaks", tracks["low"], "-o", given, "--fold", "6"]).exit_code == 0
    res = run(["evaluate", "--truth", tracks["full"], "--tracks", f"noisy={tracks['low']}", "-o", tmp_path / "ev",
               "--region", "chr22:31000001-32000000", "--truth-peaks", truth, "--smooth-input", "noisy",
               "--valid-region", "chr22:30000001-31000000", "--peak-type", "narrow",
               "--called", f"fold6={given}"])
    assert res.exit_code == 0, res.output
    scores = json.loads((tmp_path / "ev.json").read_text())["peak_scores"]
    assert set(scores["called"]) == {"noisy", "smoothed input", "fold6"}
    assert set(scores["by_track"]) == {"noisy", "smoothed input"}
    for row in scores["called"].values():
        assert 0 <= row["f1"] <= 1 and row["n_truth"] > 5
    smooth, noisy = scores["by_track"]["smoothed input"], scores["by_track"]["noisy"]
    assert smooth["auprc"] > noisy["auprc"] > scores["by_track"]["noisy"]["positives"]  # better than chance
    assert "| smoothed input |" in (tmp_path / "ev.md").read_text()
    one_line_error(["evaluate", "--truth", tracks["full"], "--tracks", f"noisy={tracks['low']}", "-o",
                    tmp_path / "ev2", "--peak-type", "narrow"], "--truth-peaks")


def chromium() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
def test_report_page_renders_in_a_real_browser(tracks, tmp_path):
    """`chipsr report --html`: one self-contained page; headless Chromium renders the igv.js tracks from the
    embedded data with no JavaScript error, and the screenshot shows them."""
    import subprocess

    truth = tmp_path / "truth.narrowPeak"
    assert run(["peaks", tracks["full"], "-o", truth, "--fold", "4"]).exit_code == 0
    res = run(["evaluate", "--truth", tracks["full"], "--tracks", f"noisy={tracks['low']},model={tracks['full']}",
               "-o", tmp_path / "ev", "--region", "chr22:31000001-32000000", "--truth-peaks", truth,
               "--smooth-input", "noisy", "--valid-region", "chr22:30000001-31000000", "--peak-type", "narrow"])
    assert res.exit_code == 0, res.output
    page = tmp_path / "report.html"
    log = tmp_path / "m.pt.epochs.tsv"  # the columns `chipsr train` writes
    log.write_text("epoch\ttrain_loss\tvalid_loss\tvalid_metric\n1\t2.0\t3.0\t0.61\n2\t1.5\t2.5\t0.74\n")
    res = run(["report", "--evaluation", f"H3K27ac={tmp_path / 'ev.json'}", "-o", tmp_path / "report.md",
               "--html", page, "--peak-file", f"H3K27ac.model peaks={truth}",
               "--training-log", f"H3K27ac.model.seed1={log}"])
    assert res.exit_code == 0, res.output
    text = page.read_text()
    assert "Training curves" in text
    assert 'src="http' not in text and "cdn.jsdelivr" not in text  # igv.js and the data are inline: nothing fetched
    assert "data:image/png;base64," in text and "| H3K27ac |" not in text  # figures embedded, tables rendered
    assert "<table>" in text and "peak F1" in text
    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): the page was written but not rendered")
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=10000"]
    dom = subprocess.run([*args, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=False).stdout
    assert 'id="js-errors"></pre>' in dom, dom[dom.find('id="js-errors"'):][:500]
    status = dom[dom.find('id="igv-status">') + 16:].split("<")[0]
    assert status.startswith("rendered") and int(status.split()[1]) >= 4, status
    shot = tmp_path / "report.png"
    subprocess.run([*args, "--window-size=1300,1000", f"--screenshot={shot}", page.as_uri()], capture_output=True, check=False,
                   timeout=120)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 900 and pixels[..., :3].std() > 0.05  # not a blank page


def test_an_empty_truth_peak_set(tracks, tmp_path):
    """`chipsr peaks --truth-peaks` with no truth peak there: one line; `chipsr evaluate` still scores
    (peak F1 undefined, the default fold used with a warning)."""
    empty = tmp_path / "empty.narrowPeak"
    empty.write_text("")
    out = tmp_path / "x.narrowPeak"
    one_line_error(["peaks", tracks["low"], "-o", out, "--truth-peaks", empty, "--valid-region", REGION],
                   "no truth peak in the validation region")
    assert not out.exists()
    res = run(["evaluate", "--truth", tracks["full"], "--tracks", f"noisy={tracks['low']}", "-o", tmp_path / "ev",
               "--region", "chr22:31000001-32000000", "--truth-peaks", empty, "--smooth-input", "noisy",
               "--valid-region", "chr22:30000001-31000000", "--peak-type", "narrow"])
    assert res.exit_code == 0, res.output
    assert "no truth peak" in res.output
    import json

    scores = json.loads((tmp_path / "ev.json").read_text())["peak_scores"]
    assert scores["called"]["noisy"]["f1"] is None and scores["by_track"]["noisy"]["auprc"] is None


@pytest.mark.slow
def test_model_card_stores_the_calibrated_peak_rule(tracks, tmp_path):
    """`chipsr train --truth-peaks`: the model card gets the fold calibrated on the validation region, and
    `chipsr peaks --model` applies it to the model's denoised track (a lab has no deep peaks)."""
    import yaml

    truth = tmp_path / "truth.broadPeak"
    assert run(["peaks", tracks["full"], "-o", truth, "--fold", "4", "--peak-type", "broad"]).exit_code == 0
    model = tmp_path / "m.pt"
    res = run(["train", "--marks", f"H3K27ac={tracks['low']}", "--target", f"H3K27ac={tracks['full']}", "-o", model,
               "--train-region", "chr22:30000001-31200000", "--valid-region", "chr22:31200001-31800000",
               "--test-region", "chr22:31800001-32000000", "--arch", "linear", "--window", "200", "--epochs", "1",
               "--samples-per-epoch", "16", "--truth-peaks", truth, "--peak-type", "broad"])
    assert res.exit_code == 0, res.output
    card = yaml.safe_load(run(["info", model]).output)
    rule = card["peaks"]
    assert rule["type"] == "broad" and rule["fold"] > 0 and 0 < rule["f1_valid"] <= 1
    assert rule["region"] == "chr22:31200001-31800000"
    denoised = tmp_path / "d.bw"
    assert run(["denoise", "--marks", f"H3K27ac={tracks['low']}", "--model", model, "-o", denoised,
                "--region", "chr22:30000001-32000000"]).exit_code == 0
    out = tmp_path / "d.broadPeak"
    res = run(["peaks", denoised, "-o", out, "--model", model])
    assert res.exit_code == 0, res.output
    assert f"{rule['fold']:g} x its genome-wide mean" in res.output and "broad peaks" in res.output
    assert all(len(r) == 9 for r in read_rows(out))
    one_line_error(["peaks", denoised, "-o", out, "--model", model, "--fold", "3"], "--model")
    bare = tmp_path / "bare.pt"
    assert run(["train", "--marks", f"H3K27ac={tracks['low']}", "--target", f"H3K27ac={tracks['full']}", "-o", bare,
                "--train-region", "chr22:30000001-31200000", "--valid-region", "chr22:31200001-31800000",
                "--arch", "linear", "--window", "200", "--epochs", "1", "--samples-per-epoch", "16"]).exit_code == 0
    one_line_error(["peaks", denoised, "-o", tmp_path / "e.narrowPeak", "--model", bare], "no calibrated peak rule")


@pytest.mark.parametrize("mark,kind", [("H3K27ac", "narrowPeak"), ("H3K4me1", "broadPeak")])
def test_shipped_models_carry_their_peak_rule(tracks, tmp_path, mark, kind):
    """The models in examples/models/ were trained with --target-peaks: `chipsr peaks --model` needs no truth."""
    model = DATA.parent.parent / "examples" / "models" / f"{mark}.tfilm.pt"
    out = tmp_path / f"x.{kind}"
    res = run(["peaks", tracks["full"], "-o", out, "--model", model, "--region", REGION])
    assert res.exit_code == 0, res.output
    assert ("broad" if kind == "broadPeak" else "narrow") + " peaks" in res.output
    assert len(read_rows(out)) > 0
