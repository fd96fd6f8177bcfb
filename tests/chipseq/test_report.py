"""chipsr report: the Table-2-shaped aggregate, the UCSC hub and the IGV session."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from chipsr.cli.main import cli

from builders import DATA


def fake_eval(path, tmp_path, r):
    tracks = {"noisy_input": str(tmp_path / "low.bw"), "tfilm": str(tmp_path / "tfilm.bw")}
    rows = []
    for track, value in r.items():
        for subset, shift in (("all", 0), ("peaks", -0.1), ("background", -0.3)):
            rows.append({"track": track, "chrom": "all", "subset": subset, "n_bins": 10, "pearson": value + shift,
                         "spearman": 0.5, "mse": 1.0})
    path.write_text(json.dumps({"truth": str(tmp_path / "full.bw"), "tracks": tracks,
                                "track_order": ["noisy_input", "tfilm"], "regions": ["chr22:1-100"], "bin_size": 25,
                                "peaks": {"rule": "truth >= 5 x mean"}, "locus": "chr22:1-100", "metrics": rows}))
    return path


def test_report_table_hub_and_igv(tmp_path):
    a = fake_eval(tmp_path / "A.json", tmp_path, {"noisy_input": 0.6, "tfilm": 0.9, "smoothed input": 0.8})
    b = fake_eval(tmp_path / "B.json", tmp_path, {"noisy_input": 0.5, "tfilm": 0.7, "smoothed input": 0.75})
    out = tmp_path / "report.md"
    result = CliRunner().invoke(cli, ["report", "--evaluation", f"H3K27ac={a}", "--evaluation", f"H3K4me1={b}",
                                      "-o", str(out), "--hub-dir", str(tmp_path / "hub")])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "| mark | noisy_input | smoothed input | tfilm |" in text
    assert "| H3K27ac | 0.600 | 0.800 | **0.900** |" in text
    assert "| H3K4me1 | 0.500 | **0.750** | 0.700 |" in text  # the best cell is marked, whichever it is
    assert "0.800 / 0.600" in text  # tfilm in peaks / outside for H3K27ac
    hub = tmp_path / "hub"
    assert "genomesFile genomes.txt" in (hub / "hub.txt").read_text()
    trackdb = (hub / "hg19" / "trackDb.txt").read_text()
    assert trackdb.count("type bigWig") == 6 and "bigDataUrl ../../tfilm.bw" in trackdb
    session = ET.parse(hub / "igv_session.xml").getroot()
    assert session.get("genome") == "hg19"
    assert [r.get("path") for r in session.iter("Resource")][:3] == ["../full.bw", "../low.bw", "../tfilm.bw"]


def test_report_bad_input(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    for args, text in ((["--evaluation", f"A={tmp_path / 'missing.json'}"], "does not exist"),
                       (["--evaluation", f"A={bad}"], "not a `chipsr evaluate` JSON"),
                       (["--evaluation", "no-equals-sign"], "MARK=EVAL.json")):
        result = CliRunner().invoke(cli, ["report", *args, "-o", str(tmp_path / "r.md")])
        assert result.exit_code != 0 and text in result.output, result.output
    assert not (tmp_path / "r.md").exists()


# ----------------------------------------------------------------------------------------------
# the report's bytes, with every table (seeds, depth equivalence, differential r, peaks, input depths)


def rich_eval(path, r: dict, peaks: bool = True, extra: dict | None = None):
    """An evaluation JSON as `chipsr evaluate` writes it (tracks, seeds, depth series, differential r,
    peak scores), with overall Pearson r ``r`` per track; no file it names needs to exist."""
    rows = []
    for i, (track, value) in enumerate(r.items()):
        for subset, shift in (("all", 0.0), ("peaks", -0.125), ("background", -0.25)):
            rows.append({"track": track, "chrom": "all", "subset": subset, "n_bins": 10,
                         "pearson": None if value is None else value + shift, "spearman": 0.5, "mse": 1.0,
                         "mean": 2.0 + i / 8})
    data = {"truth": "full.bw", "tracks": {t: f"{t}.bw" for t in r if not t.startswith(("raw ", "smoothed"))},
            "track_order": list(r), "regions": ["chr22:1-1000", "chr21"], "bin_size": 25,
            "peaks": {"rule": "bins overlapping a peak of peaks.narrowPeak"}, "locus": "chr22:1-100",
            "metrics": rows}
    if "raw 2x" in r:
        data["depth_series"] = {"1": "noisy.bw", "2": "x2.bw", "4": "x4.bw"}
        data["depth_equivalence"] = {"series": {"1": r["raw 1x"], "2": r["raw 2x"], "4": r["raw 4x"]}, "by_track": {}}
    if "conv" in r:
        data["differential"] = {"reference": "conv", "by_track": {
            t: (None if t == "conv" else round(v - 0.5, 3)) for t, v in r.items() if v is not None}}
    if peaks:
        data["peak_scores"] = {
            "truth": "/data/full.peaks.narrowPeak", "overlap": "1 bp", "mode": "narrow",
            "by_track": {t: {"auprc": round(v - 0.2, 3), "auroc": 0.9} for t, v in r.items() if v is not None},
            "called": {**{t: {"f1": round(v - 0.3, 3), "n_called": 7} for t, v in r.items()
                          if v is not None and not t.startswith("raw ")},
                       "macs3 1e-5": {"f1": 0.41}, "macs3 0.01": {"f1": 0.52}, "macs3 0.1": {"f1": None}}}
    data.update(extra or {})
    path.write_text(json.dumps(data))
    return path


def test_report_bytes(tmp_path):
    """The whole Markdown report, byte for byte (tests/data/report/rich_report.md: written by the
    report before its tables went through chipsr.io.tables.markdown_table)."""
    from chipsr.api import report  # the settings' defaults (ReportSettings)

    a = rich_eval(tmp_path / "A.json", {"noisy": 0.6, "tfilm": 0.9, "tfilm.seed1": 0.875, "tfilm.seed2": 0.885,
                                        "conv": 0.8, "raw 1x": 0.6, "raw 2x": 0.7, "raw 4x": 0.95,
                                        "smoothed input": 0.75})
    b = rich_eval(tmp_path / "B.json", {"noisy": 0.5, "tfilm.seed1": 0.625, "tfilm.seed2": 0.5,
                                        "conv": None, "smoothed input": 0.6}, peaks=False)
    depth = {"A": {"0.5": rich_eval(tmp_path / "A.half.json", {"noisy": 0.5, "tfilm": 0.8, "conv": 0.85,
                                                               "smoothed input": 0.7}, peaks=False)},
             "B": {"2": rich_eval(tmp_path / "B.x2.json", {"noisy": 0.7, "tfilm": 0.8, "smoothed input": 0.75},
                                  peaks=False)}}
    out = tmp_path / "report.md"
    table = report({"A": a, "B": b}, out, depth_evaluations=depth)
    expected = (DATA / "report" / "rich_report.md").read_bytes()
    assert out.read_bytes() == expected
    assert table["A"]["tfilm"] == 0.9 and table["B"]["conv"] is None


def test_markdown_table():
    from chipsr.io.tables import markdown_table

    assert markdown_table(["a", "b"], [["x", 1], ["", None]], "lr") == "| a | b |\n|---|---:|\n| x | 1 |\n|  | |"
    assert markdown_table(["a"], []) == "| a |\n|---|"
    for header, rows, align in ((["a", "b"], [["x"]], "lr"), (["a"], [["x"]], "c"), (["a", "b"], [], "l")):
        with pytest.raises(ValueError, match="markdown_table"):
            markdown_table(header, rows, align)


def test_a_failed_page_leaves_no_report(tmp_path):
    """report -o with --html is all or none: a bad --training-log (read while the page is written,
    after the Markdown) leaves neither file."""
    a = fake_eval(tmp_path / "A.json", tmp_path, {"noisy_input": 0.6, "tfilm": 0.9})
    bad_log = tmp_path / "log.tsv"
    bad_log.write_text("not a training log\n")
    out, page = tmp_path / "rep.md", tmp_path / "rep.html"
    result = CliRunner().invoke(cli, ["report", "--evaluation", f"A={a}", "-o", str(out), "--html", str(page),
                                      "--training-log", f"A.tfilm={bad_log}"])
    assert result.exit_code != 0, result.output
    assert not out.exists() and not page.exists()
    ok = CliRunner().invoke(cli, ["report", "--evaluation", f"A={a}", "-o", str(out)])
    assert ok.exit_code == 0 and out.exists()
