"""The genome a run covers is read from its reads: chromosome names checked against the sizes, regions
on chromosomes with reads, MACS3's genome size derived or checked (when the workflow is parsed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chipsr.api import check_chromosome_names, effective_genome_size, reads_chromosomes
from chipsr.errors import ChipsrInputError

ROOT = Path(__file__).resolve().parents[2]
READS = ROOT / "examples" / "data" / "GSM2136940_MOLM13.H3K4me3.chr22.frag200.bed.gz"
BAM = ROOT / "tests" / "data" / "golden" / "wgEncodeBroadHistoneGm12878ControlStdAlnRep1.chr22_30000000_32000000.bam"


def test_reads_chromosomes_counts_bed_and_bam_and_caches(tmp_path):
    cache = tmp_path / "cache.json"
    counts = reads_chromosomes([READS, BAM], cache)
    assert set(counts) == {"chr22"} and counts["chr22"] > 4974
    assert cache.is_file()
    assert reads_chromosomes([READS, BAM], cache) == counts  # from the cache


def test_chromosome_names_that_do_not_match_the_sizes_are_refused():
    check_chromosome_names("r.bed", {"chr22": 5}, {"chr22": 100, "chr1": 200}, "hg19.sizes")
    with pytest.raises(ChipsrInputError, match=r"like 'chr22', the sizes like '1'"):
        check_chromosome_names("r.bed", {"chr22": 5}, {"1": 200, "22": 100}, "ens.sizes")


def test_effective_genome_size_leaves_out_the_blacklist_and_chromosomes_without_reads():
    sizes = {"chr1": 1000, "chr2": 500}
    blacklist = {"chr1": (np.array([100, 900]), np.array([200, 1200]))}
    assert effective_genome_size(sizes, ["chr1"], blacklist) == 1000 - 100 - 100
    assert effective_genome_size(sizes, ["chr1", "chr2"], None) == 1500


@pytest.mark.slow
@pytest.mark.parametrize("extra, message", [
    ('denoise_regions: ["chr21"]\n', "config denoise_regions: region chr21: config/samples.tsv has no reads on chr21"),
    ("peaks:\n  genome_size: 2700000000\n", "config peaks.genome_size: 2700000000 bp is more than 2x from"),
    ('splits:\n  valid: ["chr22:35000001-40000000"]\n', "config splits: train/valid regions overlap: "
                                                       "chr22:16000001-36000000 and chr22:35000001-40000000"),
])
def test_the_workflow_refuses_a_config_off_the_reads(tmp_path, extra, message):
    config = tmp_path / "extra.yaml"
    config.write_text(extra)
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(config)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_macs3_format_is_read_from_the_file():
    from chipsr.api import macs3_format

    assert macs3_format(READS) == "BEDPE"  # 3-column fragments
    assert macs3_format(BAM) in ("BAM", "BAMPE")


@pytest.mark.slow
def test_the_genome_wide_template_is_checked_against_the_reads():
    """config/genome_wide.yaml on the bundled chr22 reads: refused in one line, naming the first split
    region without reads (on a whole genome's reads it runs)."""
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile",
                             "config/genome_wide.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "config splits.train: region chr5: config/samples.tsv has no reads on chr5" in result.stdout + result.stderr


def test_check_splits_refuses_overlaps_between_and_within_splits():
    from chipsr.api import check_splits
    from chipsr.io.genome import parse_region

    sizes = {"chr1": 1000, "chr2": 1000}
    r = parse_region
    check_splits({"train": [r("chr1")], "valid": [r("chr2:1-500")], "test": [r("chr2:501-1000")]}, sizes)
    with pytest.raises(ChipsrInputError, match="valid/test regions overlap: chr2:1-500 and chr2:500-1000"):
        check_splits({"train": [r("chr1")], "valid": [r("chr2:1-500")], "test": [r("chr2:500-1000")]}, sizes)
    with pytest.raises(ChipsrInputError, match="train regions overlap"):
        check_splits({"train": [r("chr1:1-600"), r("chr1:500-900")], "valid": [r("chr2")]}, sizes)
