"""Issue 12: a model applied to a new sample. Depth-invariant units, depth sets, references, the
model card and their bad inputs, on small synthetic bigWigs (real data: the workflow's input-depth
table and the brain cross-sample config)."""

from __future__ import annotations

import numpy as np
import pyBigWig
import pytest
import yaml
from click.testing import CliRunner

from chipsr.cli.main import cli
from chipsr.io.genome import read_bed_intervals
from chipsr.io.tracks import genome_mean

from builders import BIN, EXAMPLES, SIZES, one_line_error, write_bins

SPLITS = ["--train-region", "chrA:1-100000", "--valid-region", "chrA:100001-150000", "--test-region", "chrB"]
FAST = ["--window", "200", "--epochs", "2", "--batch-size", "8", "--samples-per-epoch", "32", "--width", "0.0625",
        "--unet-depth", "2"]


def run(args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def scaled_copy(src, dst, factor):
    """The same track with every value multiplied by ``factor`` (a deeper or shallower sequencing run)."""
    with pyBigWig.open(str(src)) as bw:
        values = {c: np.nan_to_num(np.array(bw.values(c, 0, n))[::BIN]) * factor for c, n in bw.chroms().items()}
    return write_bins(dst, values)


def named_marks(tracks) -> str:
    return f"K27ac={tracks['K27ac']},K4me1={tracks['K4me1']}"


@pytest.fixture(scope="module")
def related(tiny_tracks, tmp_path_factory):
    """Another sample's deep track: tiny_tracks' target, three times deeper."""
    return scaled_copy(tiny_tracks["target"], tmp_path_factory.mktemp("related") / "related_deep.bw", 3.0)


@pytest.fixture(scope="module")
def with_ref(tiny_tracks, related, tmp_path_factory):
    """A TFiLM model with one reference channel ("related"), trained once for the module."""
    model = tmp_path_factory.mktemp("with_ref") / "ref.pt"
    res = run(["train", "--marks", named_marks(tiny_tracks), "--target", str(tiny_tracks["target"]), "-o", model,
               "--reference", f"related={related}", "--arch", "tfilm", *SPLITS, *FAST])
    assert res.exit_code == 0, res.output
    return model


def test_genome_mean_is_over_covered_chromosomes_outside_the_blacklist(tmp_path):
    n_a = -(-SIZES["chrA"] // BIN)
    values = np.arange(n_a, dtype=float) % 7
    track = write_bins(tmp_path / "t.bw", {"chrA": values})  # chrB: no signal, so not "covered"
    blacklist = tmp_path / "bl.bed"
    blacklist.write_text("chrA\t1010\t2000\nchrB\t0\t100\n")  # bins 40-79 of chrA
    got = genome_mean(track, BIN, read_bed_intervals(blacklist))
    keep = np.ones(n_a, dtype=bool)
    keep[40:80] = False
    assert got["chroms"] == ["chrA"] and got["bins"] == keep.sum()
    assert got["mean"] == pytest.approx(values[keep].mean(), rel=1e-9)
    assert genome_mean(track, BIN)["mean"] == pytest.approx(values.mean(), rel=1e-9)


def test_denoised_track_does_not_depend_on_the_input_depth(tiny_tracks, tiny_model, tmp_path):
    """Inputs 4x deeper (every value x4) give the same fold-enrichment output: the units come from
    each track itself (raw units would make it 4x larger)."""
    t = tiny_tracks
    deep = {m: scaled_copy(t[m], tmp_path / f"{m}.x4.bw", 4.0) for m in ("K27ac", "K4me1")}
    outs = []
    for name, marks in (("1x", named_marks(t)), ("4x", named_marks(deep))):
        out = tmp_path / f"{name}.bw"
        res = run(["denoise", "--marks", marks, "--model", tiny_model, "-o", out])
        assert res.exit_code == 0, res.output
        with pyBigWig.open(str(out)) as bw:
            outs.append(np.nan_to_num(np.array(bw.values("chrB", 0, SIZES["chrB"]))))
    assert outs[0].mean() > 0
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_depth_sets_and_model_card(tiny_tracks, tmp_path):
    t = tiny_tracks
    half = {m: scaled_copy(t[m], tmp_path / f"{m}.half.bw", 0.5) for m in ("K27ac", "K4me1")}
    out = tmp_path / "sets.pt"
    res = run(["-v", "train", "--marks", named_marks(t),
                                   "--depth-set", f"K27ac={half['K27ac']},K4me1={half['K4me1']}",
                                   "--target", f"K27ac={t['target']}", "-o", out, "--arch", "linear", *SPLITS, *FAST])
    assert res.exit_code == 0, res.output
    assert "each from one of 2 depth sets" in res.output
    card_file = tmp_path / "card.yaml"
    res = run(["info", str(out), "-o", str(card_file)])
    assert res.exit_code == 0, res.output
    card = yaml.safe_load(card_file.read_text())
    assert card == yaml.safe_load(res.output)
    assert card["marks"] == ["K27ac", "K4me1"] and card["target"] == "K27ac" and card["references"] == []
    assert card["depth_sets"] == 2 and card["bin_size_bp"] == BIN and card["units"].startswith("fold enrichment")
    lo, hi = card["depth_range_mean_per_bin"]["K27ac"]
    assert hi == pytest.approx(2 * lo, rel=1e-3)
    assert card["validation"]["valid_pearson_r"] > 0


def test_depth_far_outside_the_training_range_warns_naming_the_file(tiny_tracks, tiny_model, tmp_path):
    t = tiny_tracks
    sparse = scaled_copy(t["K27ac"], tmp_path / "sparse.bw", 0.05)
    res = run(["denoise", "--marks", f"K27ac={sparse},K4me1={t['K4me1']}",
                                   "--model", tiny_model, "-o", tmp_path / "o.bw"])
    assert res.exit_code == 0, res.output  # a warning, not an error
    assert "sparse.bw: depth" in res.output and "below the training range of K27ac" in res.output


@pytest.mark.slow
def test_reference_channels_are_recorded_and_must_match(tiny_tracks, tiny_model, related, with_ref, tmp_path):
    marks, model = named_marks(tiny_tracks), with_ref
    res = run(["info", str(model)])
    assert yaml.safe_load(res.output)["references"] == ["related"]
    out = tmp_path / "o.bw"
    ok = run(["denoise", "--marks", marks, "--reference", f"related={related}", "--model", model, "-o", out])
    assert ok.exit_code == 0, ok.output
    out.unlink()
    one_line_error(["denoise", "--marks", marks, "--model", model, "-o", out],
                   "ref.pt", "references (none) do not match the model's related")
    one_line_error(["denoise", "--marks", marks, "--reference", f"other={related}", "--model", model,
                    "-o", out], "do not match the model's related")
    one_line_error(["denoise", "--marks", marks, "--reference", f"related={related}",
                    "--model", tiny_model, "-o", out], tiny_model.name, "takes no --reference")
    assert not out.exists()


@pytest.mark.slow
def test_reference_bad_inputs(tiny_tracks, related, tmp_path):
    t = tiny_tracks
    base = ["train", "--marks", named_marks(t), "--target", str(t["target"]), "-o", tmp_path / "x.pt", *SPLITS,
            *FAST, "--arch", "linear"]
    one_line_error([*base, "--reference", f"self={t['target']}"], "is the target file itself")
    other_build = write_bins(tmp_path / "hg38.bw", {"chrA": np.ones(100)}, sizes={"chrA": 150_000, "chrC": 5000})
    one_line_error([*base, "--reference", f"r={other_build}"], "hg38.bw", "different chromosomes")
    fine = write_bins(tmp_path / "fine.bw", {c: np.arange(-(-n // 10)) % 3 for c, n in SIZES.items()}, bin_size=10)
    one_line_error([*base, "--reference", f"r={fine}"], "fine.bw", "10-bp grid")
    one_line_error([*base, "--reference", str(related)], "--reference", "expected NAME=PATH")
    one_line_error([*base, "--reference", f"K27ac={related}"], "also a mark")
    assert not (tmp_path / "x.pt").exists()
    # two references given in another order than the model's
    two = tmp_path / "two.pt"
    res = run(["train", "--marks", named_marks(t), "--target", str(t["target"]), "-o", two,
                                   "--reference", f"a={related}", "--reference", f"b={t['K4me1']}",
                                   *SPLITS, *FAST, "--arch", "linear"])
    assert res.exit_code == 0, res.output
    one_line_error(["denoise", "--marks", named_marks(t), "--reference", f"b={t['K4me1']}",
                    "--reference", f"a={related}", "--model", two, "-o", tmp_path / "o.bw"],
                   "references b, a do not match the model's a, b")


def test_differential_r_scores_what_is_specific_to_the_sample():
    from chipsr.tasks.chipseq.evaluate import differential_r

    rng = np.random.default_rng(1)
    shared = rng.gamma(0.5, 2, 5000)
    own = rng.gamma(0.5, 1, 5000)  # what only the new sample has
    truth, reference = shared + own, 2.0 * shared  # the reference: a related sample, deeper
    assert differential_r(truth * 3, truth, reference) == pytest.approx(1.0)  # any depth: FE units
    copy = reference + rng.normal(0, 0.5, 5000)  # the reference with noise: nothing of the sample's own
    assert abs(differential_r(copy, truth, reference)) < 0.1
    assert differential_r(shared + 0.5 * own, truth, reference) > 0.5


def test_evaluate_reference_baseline_and_differential_r(tiny_tracks, related, tmp_path):
    t = tiny_tracks
    prefix = tmp_path / "ev"
    res = run(["evaluate", "--truth", t["target"], "--tracks", f"noisy={t['K27ac']},reference={related}",
               "-o", prefix, "--region", "chrB", "--smooth-input", "noisy", "--smooth-reference", "reference",
               "--differential-reference", "reference", "--valid-region", "chrA:1-100000"])
    assert res.exit_code == 0, res.output
    import json

    result = json.loads((tmp_path / "ev.json").read_text())
    assert result["track_order"] == ["noisy", "reference", "smoothed input", "smoothed reference"]
    assert result["reference_smoothing"]["input"] == "reference"
    diff = result["differential"]["by_track"]
    assert diff["reference"] is None and diff["noisy"] is not None  # the reference minus itself: undefined
    assert "Differential r" in (tmp_path / "ev.md").read_text()
    one_line_error(["evaluate", "--truth", t["target"], "--tracks", f"noisy={t['K27ac']}", "-o", tmp_path / "x",
                    "--smooth-reference", "nope", "--valid-region", "chrA:1-100000"],
                   "--smooth-reference 'nope' is not one of the --tracks names")


@pytest.mark.slow
def test_export_ships_a_small_model_that_denoises_the_same(tiny_tracks, related, with_ref, tmp_path):
    small = tmp_path / "small.pt"
    res = run(["export", with_ref, "-o", small, "--half"])
    assert res.exit_code == 0, res.output
    assert small.stat().st_size < with_ref.stat().st_size / 3
    outs = []
    for model in (with_ref, small):
        out = tmp_path / f"{model.stem}.bw"
        res = run(["denoise", "--marks", named_marks(tiny_tracks), "--reference", f"related={related}",
                   "--model", model, "-o", out, "--region", "chrB"])
        assert res.exit_code == 0, res.output
        with pyBigWig.open(str(out)) as bw:
            outs.append(np.nan_to_num(np.array(bw.values("chrB", 0, SIZES["chrB"]))))
    np.testing.assert_allclose(outs[1], outs[0], rtol=2e-2, atol=2e-2 * float(outs[0].max()))
    assert yaml.safe_load(run(["info", small]).output)["references"] == ["related"]


@pytest.mark.parametrize("mark", ["H3K27ac", "H3K4me1", "H3K4me3"])
def test_shipped_models_have_their_cards_and_denoise_real_coverage(mark, tmp_path):
    """examples/models/: float16 TFiLM models with cards; one denoises real coverage built from the
    example's reads (a 2-Mb slice), in fold-enrichment units."""
    root = EXAMPLES
    model = root / "models" / f"{mark}.tfilm.pt"
    assert model.stat().st_size < 1_000_000
    card = yaml.safe_load((root / "models" / f"{mark}.tfilm.yaml").read_text())
    assert card == yaml.safe_load(run(["info", model]).output) | {"file": card["file"]}
    assert card["marks"] == ["H3K27ac", "H3K4me1", "H3K4me3"] and card["target"] == mark
    assert card["depth_sets"] == 5 and card["bin_size_bp"] == 25
    if mark != "H3K27ac":
        return  # one end-to-end denoise is enough
    files = {"H3K27ac": "GSM2136938_MOLM13.H3K27ac", "H3K4me1": "GSM2136939_MOLM13.H3K4me1",
             "H3K4me3": "GSM2136940_MOLM13.H3K4me3"}
    marks = []
    for name, stem in files.items():
        out = tmp_path / f"{name}.bw"
        res = run(["coverage", root / "data" / f"{stem}.chr22.frag200.bed.gz", "-o", out, "--bin-size", "25",
                   "--chrom-sizes", root / "data" / "hg19.chrom.sizes"])
        assert res.exit_code == 0, res.output
        marks.append(f"{name}={out}")
    out = tmp_path / "denoised.bw"
    res = run(["denoise", "--marks", ",".join(marks), "--model", model, "-o", out, "--region", "chr22:40000001-42000000"])
    assert res.exit_code == 0, res.output
    with pyBigWig.open(str(out)) as bw:
        mean = bw.stats("chr22", 40_000_000, 42_000_000, exact=True)[0]
    assert 0.2 < mean < 20  # a fold enrichment over the genome-wide average, not raw depth
