"""chipsr callpeak: `macs3 callpeak` on reads with its traps handled, byte-identical to MACS3 run by hand."""

from __future__ import annotations

import subprocess

import pytest
from click.testing import CliRunner

from chipsr.cli.main import cli

from builders import EXAMPLE_SIZES, EXAMPLES, one_line_error

READS = EXAMPLES / "data" / "GSM2136940_MOLM13.H3K4me3.chr22.frag200.bed.gz"
BLACKLIST = EXAMPLES / "data" / "hg19-blacklist.v2.bed.gz"

pytest.importorskip("MACS3", reason="MACS3 is not installed")


@pytest.mark.slow
def test_callpeak_is_macs3_run_by_hand(tmp_path):
    """The same peaks as `macs3 callpeak` on a tab-separated copy of the reads, with the genome size
    derived from the chromosomes with reads outside the blacklist; MACS3's other files are gone."""
    from chipsr.tasks.chipseq.callpeak import macs3_program

    out = tmp_path / "k4me3.narrowPeak"
    result = CliRunner().invoke(cli, ["callpeak", str(READS), "-o", str(out), "--chrom-sizes", str(EXAMPLE_SIZES),
                                      "--blacklist", str(BLACKLIST), "--cutoff", "p1e-5"])
    assert result.exit_code == 0, result.output
    assert "-g 33067466" in result.output  # chr22 outside the blacklist
    by_hand = tmp_path / "hand"
    by_hand.mkdir()
    subprocess.run(f"zcat {READS} > {by_hand}/reads.bed", shell=True, check=True)
    subprocess.run([macs3_program(), "callpeak", "-t", f"{by_hand}/reads.bed", "-f", "BEDPE", "-g", "33067466",
                    "-n", "k4me3", "--outdir", str(by_hand), "--keep-dup", "all", "-p", "1e-5"],
                   check=True, capture_output=True)
    assert out.read_bytes() == (by_hand / "k4me3_peaks.narrowPeak").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hand", "k4me3.narrowPeak"]


def test_callpeak_refuses_bad_options_in_one_line(tmp_path):
    out = tmp_path / "p.narrowPeak"
    one_line_error(["callpeak", READS, "-o", out, "--cutoff", "0.05", "-g", "1000000"], "--cutoff '0.05'")
    one_line_error(["callpeak", READS, "-o", out], "--genome-size", "--chrom-sizes")
    one_line_error(["callpeak", READS, READS, "-o", out, "-g", "1000000"], "given twice")
    assert not out.exists()
