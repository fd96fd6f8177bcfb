"""chipsr evaluate: bin-resolution reading, the metrics and their subsets, smoothing, outputs, errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pyBigWig
import pytest
from click.testing import CliRunner
from scipy.ndimage import gaussian_filter1d

from chipsr.cli.chipseq import evaluate as evaluate_cmd
from chipsr.errors import ChipsrInputError
from chipsr.io.tracks import read_track
from chipsr.tasks.chipseq import evaluate as ev
from chipsr.api import evaluate  # the settings' defaults (EvaluateSettings); the task function has none
from chipsr.tasks.chipseq.evaluate import SMOOTHED_NAME, parse_tracks, read_binned

from builders import DATA


def write_bigwig(path, sizes: dict[str, int], bins: dict[str, np.ndarray], bin_size: int = 10):
    """A bigWig with one interval per non-zero grid bin (zeros are gaps: read back as 0)."""
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(sizes.items()))
    for chrom, values in bins.items():
        values = np.asarray(values, dtype=np.float64)
        idx = np.flatnonzero(values)
        if len(idx):
            starts = idx * bin_size
            bw.addEntries([chrom] * len(idx), starts, ends=np.minimum(starts + bin_size, sizes[chrom]),
                          values=values[idx])
    bw.close()
    return path


def rows_of(result, track, chrom="all"):
    return {r["subset"]: r for r in result["metrics"] if r["track"] == track and r["chrom"] == chrom}


# ----------------------------------------------------------------------------------------------
# read_binned


@pytest.fixture
def irregular_bigwig(tmp_path):
    """Random intervals with gaps on a 10,007-bp chromosome, and the per-bp truth (brute force)."""
    rng = np.random.default_rng(7)
    length = 10_007
    cuts = np.unique(np.concatenate(([0, length], rng.integers(1, length, 600))))
    values = rng.integers(0, 40, len(cuts) - 1) / 4.0  # exact in float32; ~1/40 are 0 = gaps
    keep = values != 0
    starts, ends, values = cuts[:-1][keep], cuts[1:][keep], values[keep]
    per_bp = np.zeros(length)
    for s, e, v in zip(starts, ends, values):
        per_bp[s:e] = v
    path = tmp_path / "irregular.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chrA", length), ("chrB", 500)])
    bw.addEntries(["chrA"] * len(starts), starts.astype(np.int64), ends=ends.astype(np.int64), values=values)
    bw.close()
    return path, per_bp


@pytest.mark.parametrize("bin_size", [1, 7, 25, 1000])
def test_read_binned_matches_brute_force(irregular_bigwig, bin_size, monkeypatch):
    path, per_bp = irregular_bigwig
    length = len(per_bp)
    np.testing.assert_array_equal(read_track(path, "chrA"), per_bp)  # the fixture is what we think
    expected = np.array([per_bp[i : i + bin_size].mean() for i in range(0, length, bin_size)])
    np.testing.assert_allclose(read_binned(path, "chrA", bin_size), expected, rtol=0, atol=1e-9)
    # small fetch chunks: intervals straddling chunk edges are split correctly
    import chipsr.io.tracks as tracks_module  # where the bigWig reader lives

    monkeypatch.setattr(tracks_module, "_CHUNK_BP", 333)
    np.testing.assert_allclose(read_binned(path, "chrA", bin_size), expected, rtol=0, atol=1e-9)
    # a sub-range not aligned to the grid gets the whole grid bins it overlaps
    start, end = 1234, 5678
    first, last = start // bin_size, -(-end // bin_size)
    np.testing.assert_allclose(read_binned(path, "chrA", bin_size, start, end), expected[first:last],
                               rtol=0, atol=1e-9)


def test_read_binned_truncated_last_bin_and_empty_chromosome(irregular_bigwig):
    path, per_bp = irregular_bigwig
    values = read_binned(path, "chrA", 1000)
    assert values.shape == (11,)  # 10,007 bp: ten full bins and one of 7 bp
    assert values[-1] == pytest.approx(per_bp[10_000:].mean())  # averaged over its 7 real bases
    np.testing.assert_array_equal(read_binned(path, "chrB", 25), np.zeros(20))  # no intervals: zeros
    assert read_binned(path, "chrA", 25, 100, 100).shape == (0,)


def test_read_binned_errors(irregular_bigwig, tmp_path):
    path, _ = irregular_bigwig
    with pytest.raises(ChipsrInputError, match="chrZ"):
        read_binned(path, "chrZ", 25)
    with pytest.raises(ChipsrInputError, match="outside chrB"):
        read_binned(path, "chrB", 25, 0, 501)
    with pytest.raises(ChipsrInputError, match="does not exist"):
        read_binned(tmp_path / "missing.bw", "chrA", 25)
    text = tmp_path / "text.bw"
    text.write_text("not a bigWig\n")
    with pytest.raises(ChipsrInputError, match="not a bigWig"):
        read_binned(text, "chrA", 25)
    with pytest.raises(ChipsrInputError, match="bin size"):
        read_binned(path, "chrA", 0)


# ----------------------------------------------------------------------------------------------
# metrics, subsets, blacklist


@pytest.fixture
def hand_case(tmp_path):
    """40 bins of 10 bp on c1 (+ 20 on c2): background 1,2,3,...; six high bins; a noisy track."""
    sizes = {"c1": 400, "c2": 200}
    truth = np.array([1.0, 2.0, 3.0] * 12)[:34]
    truth = np.concatenate((truth[:20], [50, 60, 70, 80, 90, 100], truth[20:]))
    rng = np.random.default_rng(3)
    track = truth + rng.integers(-12, 13, len(truth)) / 4.0
    c2_truth = np.arange(1.0, 21.0)
    c2_track = c2_truth[::-1].copy()
    t = write_bigwig(tmp_path / "truth.bw", sizes, {"c1": truth, "c2": c2_truth})
    x = write_bigwig(tmp_path / "track.bw", sizes, {"c1": track, "c2": c2_track})
    return sizes, t, x, truth, track, c2_truth, c2_track


def test_identical_track_gives_r_1_and_mse_0(hand_case, tmp_path):
    _, truth_path, _, *_ = hand_case
    same = shutil.copy(truth_path, tmp_path / "same.bw")
    result = evaluate(truth_path, {"same": same}, tmp_path / "out", bin_size=10)
    for chrom in ("c1", "c2", "all"):
        for subset, row in rows_of(result, "same", chrom).items():
            if row["n_bins"] == 0:  # c2 has no called peak: undefined, written as null
                assert (subset, row["pearson"], row["mse"]) == ("peaks", None, None)
                continue
            assert row["mse"] == 0.0
            if row["n_bins"] >= 2:
                assert row["pearson"] == pytest.approx(1.0) and row["spearman"] == pytest.approx(1.0)


def test_called_peaks_split_by_hand(tmp_path):
    """Without a peak file the in-peak bins are those of the peaks `chipsr peaks`' default rule calls on the
    truth: MACS3's caller at max(5.5 x mean, read floor), so a strong run shorter than 200 bp is no peak."""
    truth = np.tile([1.0, 2.0, 3.0], 134)[:400]  # 400 bins of 10 bp on c1; the median positive value is 2
    truth[100:125] = 50 + 2 * np.arange(25)  # 250 bp of 50 ... 98
    truth[300:310] = 100  # 100 bp of 100: above the cutoff but shorter than MACS3's minimum length (200 bp)
    track = truth + np.random.default_rng(3).integers(-12, 13, len(truth)) / 4.0
    truth_path = write_bigwig(tmp_path / "truth.bw", {"c1": 4000}, {"c1": truth})
    track_path = write_bigwig(tmp_path / "track.bw", {"c1": 4000}, {"c1": track})
    result = evaluate(truth_path, {"x": track_path}, tmp_path / "out", regions=["c1"], bin_size=10)
    # the rule by hand: mean 8.95, 5.5 x mean = 49.2 above the read floor (k x 2 for k <= 12 at 4.5 reads)
    mean = truth.mean()
    assert mean == pytest.approx(8.95)
    inside = np.zeros(400, bool)
    inside[100:125] = True  # 50 ... 98: one 250-bp run at or above 49.2; the 100-bp run is too short
    assert result["peaks"]["threshold"] == pytest.approx(5.5 * mean)
    assert result["peaks"]["fold"] == pytest.approx(5.5)
    assert result["peaks"]["fraction"] == pytest.approx(25 / 400)
    assert result["peaks"]["source"] == "called" and "5.5 x the mean 8.95" in result["peaks"]["rule"]
    rows = rows_of(result, "x", "c1")
    for subset, m in {"all": np.ones(400, bool), "peaks": inside, "background": ~inside}.items():
        assert rows[subset]["n_bins"] == m.sum()
        assert rows[subset]["pearson"] == pytest.approx(np.corrcoef(track[m], truth[m])[0, 1], abs=1e-12)
        # MSE of fold enrichments: each track over its mean on all evaluated bins (units-free)
        fe_x, fe_y = track / track.mean(), truth / truth.mean()
        assert rows[subset]["mse"] == pytest.approx(np.mean((fe_x[m] - fe_y[m]) ** 2), abs=1e-12)
    assert rows_of(result, "x", "all") == {k: {**v, "chrom": "all"} for k, v in rows.items()}


def test_peaks_bed_per_chromosome_and_overall(hand_case, tmp_path):
    _, truth_path, track_path, truth, track, c2_truth, c2_track = hand_case
    peaks = tmp_path / "peaks.bed"
    peaks.write_text("c1\t5\t25\nc2\t0\t100\n")  # c1 bins 0-2 (bin 2 = [20, 30) overlaps); c2 bins 0-9
    result = evaluate(truth_path, {"x": track_path}, tmp_path / "out", truth_peaks=peaks, bin_size=10)
    assert result["peaks"]["source"] == "file" and result["peaks"]["n_bins"] == 3 + 10
    c1, c2, both = (rows_of(result, "x", c) for c in ("c1", "c2", "all"))
    assert (c1["peaks"]["n_bins"], c1["background"]["n_bins"]) == (3, 37)
    assert (c2["peaks"]["n_bins"], c2["background"]["n_bins"]) == (10, 10)
    assert c2["all"]["pearson"] == pytest.approx(-1.0) and c2["peaks"]["spearman"] == pytest.approx(-1.0)
    assert both["all"]["n_bins"] == 60
    x, y = np.concatenate((track, c2_track)), np.concatenate((truth, c2_truth))
    assert both["all"]["pearson"] == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    m = np.zeros(60, bool)
    m[[0, 1, 2, *range(40, 50)]] = True
    assert both["peaks"]["pearson"] == pytest.approx(np.corrcoef(x[m], y[m])[0, 1], abs=1e-12)


def test_blacklisted_bins_are_excluded(hand_case, tmp_path):
    _, truth_path, track_path, truth, track, *_ = hand_case
    blacklist = tmp_path / "bl.bed"
    blacklist.write_text("c1\t95\t130\n")  # overlaps bins [90,100) [100,110) [110,120) [120,130): 4 bins
    result = evaluate(truth_path, {"x": track_path}, tmp_path / "out", regions=["c1"], blacklist=blacklist,
                      bin_size=10)
    rows = rows_of(result, "x", "c1")
    assert rows["all"]["n_bins"] == 40 - 4
    assert result["n_bins_blacklisted"] == 4 and result["n_bins"] == 36
    assert rows["peaks"]["n_bins"] + rows["background"]["n_bins"] == 36
    keep = np.ones(40, bool)
    keep[9:13] = False
    assert rows["all"]["pearson"] == pytest.approx(np.corrcoef(track[keep], truth[keep])[0, 1], abs=1e-12)


def test_regions_are_merged_and_stay_on_the_grid(hand_case, tmp_path):
    _, truth_path, track_path, *_ = hand_case
    # 1-based c1:15-40 = bp [14, 40) -> bins 1..3; c1:31-60 -> bins 3..5; merged: bins 1..5 (5 bins)
    result = evaluate(truth_path, {"x": track_path}, tmp_path / "out", regions=["c1:15-40", "c1:31-60"],
                      bin_size=10)
    assert rows_of(result, "x", "c1")["all"]["n_bins"] == 5
    assert result["regions"] == ["c1:15-40", "c1:31-60"]


def test_locus_given_or_chosen(hand_case, tmp_path):
    _, truth_path, track_path, *_ = hand_case
    chosen = evaluate(truth_path, {"x": track_path}, tmp_path / "a", bin_size=10)
    assert chosen["locus"] == "c1:1-400"  # c1 (400 bp < 100 kb) holds the highest-signal window
    given = evaluate(truth_path, {"x": track_path}, tmp_path / "b", bin_size=10, locus="c2:51-150")
    assert given["locus"] == "c2:51-150"
    with pytest.raises(ChipsrInputError, match="--locus c2:1-999"):
        evaluate(truth_path, {"x": track_path}, tmp_path / "c", bin_size=10, locus="c2:1-999")


# ----------------------------------------------------------------------------------------------
# smoothing


def test_smoothing_picks_the_sigma_that_wins_on_the_selection_region(tmp_path):
    sizes = {"c1": 20_000, "c2": 20_000}
    rng = np.random.default_rng(11)
    spikes = {c: rng.poisson(0.05, 2000) * 8.0 for c in sizes}  # sparse counts per 10-bp bin
    truth = {c: gaussian_filter1d(v, 4.0, mode="constant") for c, v in spikes.items()}  # made with sigma 4
    truth_path = write_bigwig(tmp_path / "truth.bw", sizes, truth)
    noisy_path = write_bigwig(tmp_path / "noisy.bw", sizes, spikes)
    result = evaluate(truth_path, {"noisy": noisy_path}, tmp_path / "out", regions=["c1"], bin_size=10,
                      smooth_input="noisy", smooth_sigmas=(16, 8, 1, 4, 2), valid_region="c2:1-20000")
    s = result["smoothing"]
    assert s["sigma"] == 4.0 and s["input"] == "noisy" and s["select_region"] == "c2:1-20000"
    assert s["pearson_by_sigma"]["4"] > 0.9999 > max(r for k, r in s["pearson_by_sigma"].items() if k != "4")
    assert result["track_order"] == ["noisy", SMOOTHED_NAME]
    smoothed = rows_of(result, SMOOTHED_NAME, "c1")
    assert smoothed["all"]["pearson"] > 0.9999 > rows_of(result, "noisy", "c1")["all"]["pearson"]
    md = (tmp_path / "out.md").read_text()
    assert "sigma 4 bins" in md and f"| {SMOOTHED_NAME} |" in md


# ----------------------------------------------------------------------------------------------
# the command and its outputs


def test_cli_writes_every_output(hand_case, tmp_path):
    sizes, truth_path, track_path, truth, *_ = hand_case
    noisy = write_bigwig(tmp_path / "noisy.bw", sizes, {"c1": truth[::-1].copy(), "c2": np.ones(20)})
    prefix = tmp_path / "res" / "eval"
    prefix.parent.mkdir()
    result = CliRunner().invoke(evaluate_cmd, [
        "--truth", str(truth_path), "--tracks", f"noisy={noisy}", "--tracks", f"tfilm={track_path}",
        "-o", str(prefix), "--bin-size", "10", "--region", "c1", "--region", "c2:1-100",
        "--smooth-input", "noisy", "--smooth-sigmas", "1,2", "--valid-region", "c2:101-200",
    ])
    assert result.exit_code == 0, result.output
    assert "Pearson r over" in result.output
    names = sorted(p.name for p in prefix.parent.iterdir())
    assert names == ["eval.json", "eval.md", "eval.png", "eval.tsv"]  # no temporary files left
    import pandas as pd

    tsv = pd.read_csv(f"{prefix}.tsv", sep="\t")
    assert list(tsv.columns) == ["track", "chrom", "subset", "n_bins", "pearson", "spearman", "mse", "mean"]
    assert len(tsv) == 3 * 3 * 3  # (noisy, tfilm, smoothed) x (c1, c2, all) x (all, peaks, background)
    assert set(tsv["chrom"]) == {"c1", "c2", "all"} and set(tsv["subset"]) == {"all", "peaks", "background"}
    meta = json.loads((prefix.parent / "eval.json").read_text())
    assert meta["bin_size"] == 10 and meta["truth"] == str(truth_path)
    assert meta["regions"] == ["c1", "c2:1-100"] and meta["smoothing"]["sigma"] in (1.0, 2.0)
    assert meta["n_bins"] == 50 and len(meta["metrics"]) == 27
    table = [line for line in (prefix.parent / "eval.md").read_text().splitlines() if line.startswith("| ")]
    assert table[0].startswith("| track | Pearson r | Pearson r (peaks) | Pearson r (outside peaks)")
    assert [line.split(" | ")[0] for line in table[1:]] == ["| noisy", "| tfilm", f"| {SMOOTHED_NAME}"]
    assert (prefix.parent / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert meta["locus"].startswith("c1:")  # the highest-signal window: the peaks of c1


def test_parse_tracks():
    assert parse_tracks(["a=x.bw,b=y.bw", "c=z.bw"]) == {"a": "x.bw", "b": "y.bw", "c": "z.bw"}
    assert list(parse_tracks(["b=1.bw", "a=2.bw"])) == ["b", "a"]  # order kept
    with pytest.raises(ChipsrInputError, match="expected NAME=PATH"):
        parse_tracks(["a=x.bw,y.bw"])
    with pytest.raises(ChipsrInputError, match="used twice"):
        parse_tracks(["a=x.bw", "a=y.bw"])


@pytest.fixture
def bad_case(tmp_path):
    sizes = {"c1": 400, "c2": 200}
    t = write_bigwig(tmp_path / "truth.bw", sizes, {"c1": np.arange(40.0), "c2": np.arange(20.0)})
    x = write_bigwig(tmp_path / "x.bw", sizes, {"c1": np.arange(40.0)[::-1].copy()})
    y = write_bigwig(tmp_path / "other_build.bw", {"c1": 400, "c2": 300}, {"c1": np.ones(40)})
    z = write_bigwig(tmp_path / "c1_only.bw", {"c1": 400}, {"c1": np.ones(40)})
    return tmp_path, t, x, y, z


BAD_INPUTS = {
    "missing truth": (["--truth", "{d}/nope.bw", "--tracks", "x={x}"], "nope.bw"),
    "missing track": (["--truth", "{t}", "--tracks", "x={x},y={d}/gone.bw"], "gone.bw"),
    "chrom sizes differ": (["--truth", "{t}", "--tracks", "y={y}"], "other_build.bw: chromosome c2 is 300 bp"),
    "track lacks a chromosome": (["--truth", "{t}", "--tracks", "z={z}"], "chromosome c2 of the truth"),
    "region chrom absent": (["--truth", "{t}", "--tracks", "x={x}", "--region", "chrZ"], "chromosome chrZ"),
    "region beyond chrom end": (["--truth", "{t}", "--tracks", "x={x}", "--region", "c2:1-250"], "END 250"),
    "tracks without NAME=": (["--truth", "{t}", "--tracks", "{x}"], "expected NAME=PATH"),
    "duplicate track names": (["--truth", "{t}", "--tracks", "x={x},x={t}"], "'x' is used twice"),
    "selection overlaps": (["--truth", "{t}", "--tracks", "x={x}", "--region", "c1:1-200",
                            "--smooth-input", "x", "--valid-region", "c1:191-400"], "overlaps"),
    "selection missing": (["--truth", "{t}", "--tracks", "x={x}", "--smooth-input", "x"],
                          "needs --valid-region"),
    "unknown smooth input": (["--truth", "{t}", "--tracks", "x={x}", "--smooth-input", "y",
                              "--valid-region", "c2"], "--smooth-input 'y'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_error_and_no_outputs(bad_case, case, monkeypatch):
    from chipsr.cli import main

    d, t, x, y, z = bad_case
    template, expected = BAD_INPUTS[case]
    args = [a.format(d=d, t=t, x=x, y=y, z=z) for a in template] + ["-o", str(d / "out")]
    # through the real command group: one "Error:" line, exit 1
    result = CliRunner().invoke(main.cli, ["evaluate", *args])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], result.output
    # the command on its own raises the library's error
    direct = CliRunner().invoke(evaluate_cmd, args)
    assert isinstance(direct.exception, ChipsrInputError) and "\n" not in str(direct.exception)
    assert not list(d.glob("out*")) and not list(d.glob(".out*"))


def test_failure_while_writing_leaves_no_outputs(hand_case, tmp_path, monkeypatch):
    _, truth_path, track_path, *_ = hand_case

    def broken_plot(*args, **kwargs):
        raise RuntimeError("plotting failed")

    import chipsr.plots

    monkeypatch.setattr(chipsr.plots, "evaluation_figure", broken_plot)
    with pytest.raises(RuntimeError, match="plotting failed"):
        evaluate(truth_path, {"x": track_path}, tmp_path / "out", bin_size=10)
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob(".out*"))


def test_help():
    result = CliRunner().invoke(evaluate_cmd, ["--help"])
    assert result.exit_code == 0
    assert "-o, --output PREFIX" in result.output and "--valid-region" in result.output


def markdown_case(hand_case, tmp_path):
    """``evaluate`` with every table of PREFIX.md: smoothing, a depth series, differential r, a
    truth peak file (per-bin scores) and a given peak set."""
    sizes, truth_path, track_path, truth, track, c2_truth, _ = hand_case
    noisy = write_bigwig(tmp_path / "noisy.bw", sizes, {"c1": truth[::-1].copy(), "c2": np.ones(20)})
    deeper = write_bigwig(tmp_path / "x2.bw", sizes, {"c1": (truth + track) / 2, "c2": c2_truth})
    peaks = tmp_path / "peaks.bed"
    peaks.write_text("c1\t195\t260\nc1\t300\t330\n")
    given = tmp_path / "given.bed"
    given.write_text("c1\t200\t240\n")
    prefix = tmp_path / "res"
    evaluate(truth_path, {"noisy": noisy, "tfilm": track_path}, prefix, regions=["c1"], blacklist=None,
             truth_peaks=peaks, bin_size=10, smooth_input="noisy", smooth_sigmas=(1, 2), valid_region="c2",
             locus=None, depth_series={1: noisy, 2: deeper}, smooth_reference=None, differential_reference="noisy",
             peak_type=None, called_peaks={"macs3 0.01": given}, peak_overlap=None)
    return prefix


def test_markdown_bytes(hand_case, tmp_path):
    """PREFIX.md byte for byte (tests/data/report/evaluate.md: written before its tables went
    through chipsr.io.tables.markdown_table); the paths it names are replaced by their names."""
    markdown_case(hand_case, tmp_path)
    text = (tmp_path / "res.md").read_text().replace(str(tmp_path) + "/", "")
    assert text == (DATA / "report" / "evaluate.md").read_text()


def test_constant_track_with_depth_series_and_only_seed_tracks(tmp_path):
    """Two inputs that crashed with an IndexError: a constant track (no r, so no depth
    equivalence) beside a depth series, and tracks that are all seeds (the figure draws them)."""
    rng = np.random.default_rng(0)
    sizes = {"c1": 4000}
    truth = rng.poisson(3, 400).astype(float) + 1
    t = write_bigwig(tmp_path / "t.bw", sizes, {"c1": truth})
    n1 = write_bigwig(tmp_path / "n1.bw", sizes, {"c1": truth + rng.normal(0, 3, 400).clip(-0.9)})
    n2 = write_bigwig(tmp_path / "n2.bw", sizes, {"c1": truth + rng.normal(0, 1, 400).clip(-0.9)})
    const = write_bigwig(tmp_path / "const.bw", sizes, {"c1": np.full(400, 2.0)})
    result = evaluate(t, {"const": const}, tmp_path / "a", bin_size=10, depth_series={1: n1, 2: n2})
    assert rows_of(result, "const")["all"]["pearson"] is None
    assert "const" not in result["depth_equivalence"]["by_track"]
    result = evaluate(t, {"tfilm.seed1": n1, "tfilm.seed2": n2}, tmp_path / "b", bin_size=10)
    assert (tmp_path / "b.png").stat().st_size > 0
    with pytest.raises(ValueError, match="not defined"):
        ev.equivalent_depth([1, 2], [0.5, 0.8], float("nan"))
