"""chipsr coverage against the field's tools: MACS3 pileup, deepTools bamCoverage, and the
published MOLM-13 pileups. The reference outputs were made once with the real tools; the exact
commands and versions are in tests/data/golden/README.md."""

from __future__ import annotations

import numpy as np
import pytest

from chipsr import api
from chipsr.io.tracks import read_track

from builders import GOLDEN, HG19_SIZES

CHR22 = 51_304_566
BAM = GOLDEN / "wgEncodeBroadHistoneGm12878ControlStdAlnRep1.chr22_30000000_32000000.bam"


def test_macs3_pileup_extsize_200(tmp_path):
    """`macs3 pileup -f BED --extsize 200` == `--bin-size 1 --extend-reads 200`, base for base."""
    out = tmp_path / "ctcf.bw"
    api.coverage([GOLDEN / "CTCF_SE_ChIP_chr22_50k.bed.gz"], out, bin_size=1, extend_reads=200,
                 normalize_using="none", chrom_sizes=HG19_SIZES)
    ours = read_track(out, "chr22", 0, CHR22)
    ref = read_track(GOLDEN / "macs3_pileup_ext200.bdg.gz", "chr22", 0, CHR22)
    assert ref.sum() > 0
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("extend, normalize, golden", [
    (None, "none", "bamcoverage_bs1.bdg.gz"),
    (200, "none", "bamcoverage_bs1_ext200.bdg.gz"),
    (None, "CPM", "bamcoverage_bs1_cpm.bdg.gz"),
    (200, "CPM", "bamcoverage_bs1_ext200_cpm.bdg.gz"),
])
def test_bamcoverage_bin_size_1(tmp_path, extend, normalize, golden):
    """`bamCoverage --binSize 1 [--extendReads 200] [--normalizeUsing CPM]` on a real BAM."""
    out = tmp_path / "cov.bw"
    stats = api.coverage([BAM], out, bin_size=1, extend_reads=extend, normalize_using=normalize)
    assert stats.n_reads == 4974
    ours = read_track(out, "chr22", 0, CHR22)
    ref = read_track(GOLDEN / golden, "chr22", 0, CHR22)
    assert ref.sum() > 0 and np.count_nonzero(ours) == np.count_nonzero(ref)
    # identical up to rounding: bigWig stores float32, and bamCoverage's bedGraph prints 6
    # significant digits (1e6/4974 = 201.04544 is written 201.045)
    np.testing.assert_allclose(ours, ref, rtol=5e-6, atol=0)


def test_molm13_published_pileup_slice(tmp_path):
    """Re-piling the MOLM-13 fragments reproduces the published GEO pileup bedGraph.

    The fragment slice holds only fragments entirely inside chr22:30-32 Mb, so the comparison
    stops 200 bp (one fragment length) short of the slice edges."""
    out = tmp_path / "k27ac.bdg.gz"
    api.coverage([GOLDEN / "GSM2136938_MOLM13.H3K27ac.chr22.frag200.chr22_30000000_32000000.bed.gz"], out,
                 bin_size=1, chrom_sizes=HG19_SIZES)
    lo, hi = 30_000_200, 31_999_800
    ours = read_track(out, "chr22", lo, hi)
    ref = read_track(GOLDEN / "GSM2136938_MOLM13.H3K27ac.chr22.chr22_30000000_32000000.bdg.gz", "chr22", lo, hi)
    assert ref.sum() > 0
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.slow
@pytest.mark.parametrize("mark", ["GSM2136938_MOLM13.H3K27ac", "GSM2136939_MOLM13.H3K4me1", "GSM2136940_MOLM13.H3K4me3"])
def test_molm13_published_pileup_whole_chr22(tmp_path, shared_chipseq, mark):
    """The full chromosome, for all three marks (the optional GSE80779 chr22 data of conftest's SHARED;
    about 2 s per mark)."""
    frags = shared_chipseq / "molm13_hg19_chr22" / "fragments" / f"{mark}.chr22.frag200.bed.gz"
    pileup = shared_chipseq / "molm13_hg19_chr22" / "pileup" / f"{mark}.chr22.bdg.gz"
    out = tmp_path / "full.bw"
    api.coverage([frags], out, bin_size=1, chrom_sizes=HG19_SIZES)
    np.testing.assert_array_equal(read_track(out, "chr22", 0, CHR22), read_track(pileup, "chr22", 0, CHR22))


def test_bin_size_25_is_mean_depth_not_read_count(tmp_path):
    """At 25 bp our bins hold the mean of the 1-bp pileup; bamCoverage counts overlapping reads
    (documented difference). The mean of our 1-bp track over each bin equals our 25-bp track."""
    bp = tmp_path / "bp.bw"
    b25 = tmp_path / "b25.bw"
    api.coverage([BAM], bp, bin_size=1)
    api.coverage([BAM], b25, bin_size=25)
    lo, hi = 30_000_000, 32_000_000
    per_bp = read_track(bp, "chr22", lo, hi).reshape(-1, 25).mean(axis=1)
    ours25 = read_track(b25, "chr22", lo, hi)[::25]
    np.testing.assert_allclose(ours25, per_bp, rtol=1e-6)
    deeptools25 = read_track(GOLDEN / "bamcoverage_bs25.bdg.gz", "chr22", lo, hi)[::25]
    assert np.all(deeptools25 >= ours25 - 1e-6)  # a read overlapping a bin counts 1 there, >= its mean depth
    assert np.corrcoef(deeptools25, ours25)[0, 1] > 0.8
