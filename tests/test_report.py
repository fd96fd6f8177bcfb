"""chipsr report: the Table-2-shaped aggregate, the UCSC hub and the IGV session."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from click.testing import CliRunner

from chipsr.cli.main import cli


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
