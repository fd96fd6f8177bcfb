"""chipsr coverage: the binning arithmetic, options, and the output files."""

from __future__ import annotations

import numpy as np
import pyBigWig
import pytest
from click.testing import CliRunner

from chipsr import api
from chipsr.cli.main import cli
from chipsr.io.tracks import read_track
from chipsr.tasks.chipseq.coverage import BinAccumulator, merge_runs, rle, sums_to_means

from builders import depth_per_bp, random_fragments, write_bam, write_bed, write_sizes


def dense(acc, **kw):
    n_bins = acc.n_bins
    s, e, v = sums_to_means(acc.runs(**kw), acc.length, acc.bin_size)
    assert s[0] == 0 and e[-1] == n_bins and np.all(s[1:] == e[:-1])
    return np.repeat(v, e - s)


def test_bin_mean_hand_computed():
    # chromosome of 10 bp, bins of 4 bp: [0,4) [4,8) [8,10) (last bin truncated to 2 bp)
    acc = BinAccumulator(10, 4)
    acc.add(np.array([1, 3]), np.array([6, 10]))  # depth: 0 1 1 2 2 2 1 1 1 1
    values = dense(acc)
    np.testing.assert_allclose(values, [(0 + 1 + 1 + 2) / 4, (2 + 2 + 1 + 1) / 4, (1 + 1) / 2])


@pytest.mark.parametrize("bin_size", [1, 3, 25, 1000])
def test_bin_mean_matches_brute_force(bin_size):
    rng = np.random.default_rng(bin_size)
    length = 10_007  # not a multiple of the bin sizes: the last bin is truncated
    starts, ends = random_fragments(rng, 3000, length)
    acc = BinAccumulator(length, bin_size)
    half = len(starts) // 2  # added in two chunks, as streaming does
    acc.add(starts[:half], ends[:half])
    acc.add(starts[half:], ends[half:])
    depth = depth_per_bp(starts, ends, length)
    expected = np.array([depth[i : i + bin_size].mean() for i in range(0, length, bin_size)])
    np.testing.assert_allclose(dense(acc, slab=7), expected, rtol=0, atol=1e-12)


def test_rle_and_merge_runs():
    s, e, v = rle(np.array([1.0, 1.0, 2.0, 2.0, 2.0, 0.0]))
    assert s.tolist() == [0, 2, 5] and e.tolist() == [2, 5, 6] and v.tolist() == [1, 2, 0]
    s, e, v = merge_runs(np.array([0, 2, 4]), np.array([2, 4, 9]), np.array([1.0, 1.0, 3.0]))
    assert s.tolist() == [0, 4] and e.tolist() == [4, 9] and v.tolist() == [1, 3]


@pytest.fixture
def small_genome(tmp_path):
    sizes = {"chrA": 1000, "chrB": 510}
    return write_sizes(tmp_path / "g.sizes", sizes), sizes


def test_bed_fragments_extension_and_strands(tmp_path, small_genome):
    sizes_path, sizes = small_genome
    bed = write_bed(tmp_path / "r.bed", [
        ("chrA", 100, 136, ".", 0, "+"),
        ("chrA", 400, 436, ".", 0, "-"),
        ("chrA", 980, 995, ".", 0, "+"),   # extended past the end: clipped at 1000
        ("chrB", 10, 60, ".", 0, "-"),     # extended before 0: clipped at 0
    ])
    out = tmp_path / "cov.bw"
    stats = api.coverage([bed], out, bin_size=1, extend_reads=100, chrom_sizes=sizes_path)
    assert stats.n_reads == 4
    a = read_track(out, "chrA")
    expected = np.zeros(1000)
    expected[100:200] += 1
    expected[336:436] += 1
    expected[980:1000] += 1
    np.testing.assert_array_equal(a, expected)
    b = read_track(out, "chrB")
    assert b[:60].tolist() == [1] * 60 and b[60:].sum() == 0
    # without extension the rows count as written
    api.coverage([bed], out, bin_size=1, chrom_sizes=sizes_path)
    assert read_track(out, "chrA")[100:136].tolist() == [1] * 36 and read_track(out, "chrA")[136] == 0


def test_bigwig_header_zoom_levels_and_second_reader(tmp_path, small_genome):
    pybigtools = pytest.importorskip("pybigtools")
    sizes_path, sizes = small_genome
    rng = np.random.default_rng(0)
    starts, ends = random_fragments(rng, 2000, 1000, 200)
    bed = write_bed(tmp_path / "r.bed.gz", [("chrA", s, e) for s, e in zip(starts, ends)])
    out = tmp_path / "cov.bw"
    api.coverage([bed], out, bin_size=10, chrom_sizes=sizes_path)
    with pyBigWig.open(str(out)) as bw:
        assert bw.chroms() == sizes
        assert bw.header()["nLevels"] >= 1
        ours = np.nan_to_num(bw.values("chrA", 0, 1000, numpy=True))
        assert bw.intervals("chrB") == ((0, 510, 0.0),)
    depth = depth_per_bp(starts, ends, 1000)
    np.testing.assert_allclose(ours, np.repeat(depth.reshape(-1, 10).mean(1), 10), rtol=1e-6)
    bt = pybigtools.open(str(out))
    assert dict(bt.chroms()) == sizes
    np.testing.assert_allclose(np.asarray(bt.values("chrA", 0, 1000, fillna=0)), ours, rtol=1e-7)


def test_bedgraph_output_and_format_inference(tmp_path, small_genome):
    sizes_path, _ = small_genome
    bed = write_bed(tmp_path / "r.bed", [("chrA", 0, 50), ("chrA", 25, 75)])
    for name in ("cov.bdg", "cov.bedgraph.gz"):
        out = tmp_path / name
        api.coverage([bed], out, bin_size=25, chrom_sizes=sizes_path)
        track = read_track(out, "chrA", 0, 1000)
        assert track[:25].tolist() == [1] * 25 and track[25:50].tolist() == [2] * 25
        assert track[50:75].tolist() == [1] * 25 and track[75:].sum() == 0
    text = (tmp_path / "cov.bdg").read_text().splitlines()
    assert text[0] == "chrA\t0\t25\t1" and text[-1] == "chrB\t0\t510\t0"


def test_normalizations(tmp_path, small_genome):
    sizes_path, _ = small_genome
    bed = write_bed(tmp_path / "r.bed", [("chrA", 0, 100), ("chrA", 50, 150), ("chrB", 0, 200), ("chrB", 500, 510)])
    raw = tmp_path / "raw.bdg"
    api.coverage([bed], raw, bin_size=10, chrom_sizes=sizes_path)
    base = read_track(raw, "chrA", 0, 1000)
    n, bp = 4, 100 + 100 + 200 + 10
    bin_sum = sum(read_track(raw, c, 0, 1000)[::10].sum() for c in ("chrA",)) + read_track(raw, "chrB", 0, 510)[::10].sum()
    for mode, factor in [("CPM", 1e6 / n), ("RPKM", 1e9 / (n * 10)), ("RPGC", 1000 / bp), ("BPM", 1e6 / bin_sum)]:
        out = tmp_path / f"{mode}.bdg"
        stats = api.coverage([bed], out, bin_size=10, chrom_sizes=sizes_path, normalize_using=mode,
                             effective_genome_size=1000)
        assert stats.scale == pytest.approx(factor)
        np.testing.assert_allclose(read_track(out, "chrA", 0, 1000), base * factor, rtol=1e-6)


def test_region_and_blacklist(tmp_path, small_genome):
    sizes_path, _ = small_genome
    bed = write_bed(tmp_path / "r.bed", [("chrA", 0, 100), ("chrA", 200, 300), ("chrA", 600, 700), ("chrB", 0, 10)])
    black = write_bed(tmp_path / "black.bed", [("chrA", 250, 260)])
    out = tmp_path / "cov.bdg"
    stats = api.coverage([bed], out, bin_size=50, chrom_sizes=sizes_path, region="chrA:151-650",
                         blacklist=black, normalize_using="CPM")
    assert stats.n_reads == 3  # the blacklisted read is not counted; the region does not limit N
    lines = [ln.split("\t") for ln in out.read_text().splitlines()]
    assert {ln[0] for ln in lines} == {"chrA"}
    assert int(lines[0][1]) == 150 and int(lines[-1][2]) == 650  # bins on the 50-bp grid
    track = read_track(out, "chrA", 0, 1000)
    assert track[200:300].sum() == 0  # blacklisted fragment dropped
    np.testing.assert_allclose(track[600:650], 1e6 / 3, rtol=1e-6)
    assert track[650:700].sum() == 0  # outside the region: not written


def test_ignore_duplicates_bed(tmp_path, small_genome):
    sizes_path, _ = small_genome
    bed = write_bed(tmp_path / "r.bed", [
        ("chrA", 10, 46, ".", 0, "+"), ("chrA", 10, 46, ".", 0, "+"), ("chrA", 10, 46, ".", 0, "-"),
        ("chrA", 20, 56, ".", 0, "+"),
    ])
    stats = api.coverage([bed], tmp_path / "c.bdg", bin_size=1, chrom_sizes=sizes_path, ignore_duplicates=True)
    assert stats.n_reads == 3
    unsorted = write_bed(tmp_path / "u.bed", [("chrA", 30, 60), ("chrA", 10, 20)])
    with pytest.raises(ValueError, match="sorted"):
        api.coverage([unsorted], tmp_path / "c.bdg", chrom_sizes=sizes_path, ignore_duplicates=True)


def test_unsorted_bed_matches_sorted(tmp_path, small_genome, monkeypatch):
    """Chromosomes interleaved across chunks (and accumulators flushed to disk) give the same track."""
    import chipsr.io.reads as reads_mod
    import chipsr.tasks.chipseq.coverage as cov

    sizes_path, _ = small_genome
    rng = np.random.default_rng(3)
    rows = [("chrA" if rng.random() < 0.5 else "chrB", int(s), int(s) + 30) for s in rng.integers(0, 480, 500)]
    shuffled = write_bed(tmp_path / "shuf.bed", rows)
    ordered = write_bed(tmp_path / "sorted.bed", sorted(rows))
    api.coverage([ordered], tmp_path / "a.bdg", bin_size=7, chrom_sizes=sizes_path)
    real_iter = reads_mod.iter_bed_reads
    monkeypatch.setattr(cov, "iter_bed_reads", lambda p: real_iter(p, chunk_lines=37))
    monkeypatch.setattr(cov, "ACCUMULATOR_BUDGET", 1)
    api.coverage([shuffled], tmp_path / "b.bdg", bin_size=7, chrom_sizes=sizes_path)
    for chrom in ("chrA", "chrB"):
        np.testing.assert_allclose(read_track(tmp_path / "a.bdg", chrom), read_track(tmp_path / "b.bdg", chrom))


def _pairs_bam(tmp_path, sizes):
    reads = [
        # a proper pair: fragment [100, 300)
        dict(name="p1", chrom="chrA", pos=100, flag=0x1 | 0x2 | 0x20 | 0x40, mate_chrom="chrA", mate_pos=264, tlen=200),
        dict(name="s1", chrom="chrA", pos=150, flag=0x10, mapq=5),  # single-end, reverse, low MAPQ
        dict(name="p1", chrom="chrA", pos=264, flag=0x1 | 0x2 | 0x10 | 0x80, mate_chrom="chrA", mate_pos=100, tlen=-200),
        dict(name="s2", chrom="chrA", pos=500, flag=0x0, cigar="10M20N10M"),  # spliced: two blocks
    ]
    return write_bam(tmp_path / "pe.bam", sizes, reads)


def test_bam_pairs_as_fragments_and_filters(tmp_path, small_genome):
    _, sizes = small_genome
    bam = _pairs_bam(tmp_path, sizes)
    out = tmp_path / "c.bdg"
    stats = api.coverage([bam], out, bin_size=1, extend_reads=100, min_mapq=10)
    a = read_track(out, "chrA", 0, 1000)
    expected = np.zeros(1000)
    expected[100:300] += 1  # the pair, once
    expected[500:600] += 1  # s2 extended to 100 bp
    np.testing.assert_array_equal(a, expected)
    assert stats.n_reads == 2
    # no extension: each mate's aligned blocks, the spliced read as two blocks
    api.coverage([bam], out, bin_size=1)
    a = read_track(out, "chrA", 0, 1000)
    assert a[100:136].tolist() == [1] * 36 and a[150:186].tolist() == [1] * 36
    assert a[500:510].sum() == 10 and a[510:530].sum() == 0 and a[530:540].sum() == 10
    # --extend-reads without LEN uses pairs and refuses single-end reads
    with pytest.raises(ValueError, match="needs a fragment length"):
        api.coverage([bam], out, bin_size=1, extend_reads=0)
    # flag exclusion
    stats = api.coverage([bam], out, bin_size=1, sam_flag_exclude=0x10)
    assert stats.n_reads == 2


def test_bam_threads_and_unindexed_give_same_track(tmp_path, shared_chipseq):
    import shutil

    src = shared_chipseq / "gm12878_hg38_chr21" / "GM12878_hg38_CTCF_r1.chr21.bam"
    api.coverage([src], tmp_path / "one.bw", bin_size=25, extend_reads=200, threads=1)
    noidx = tmp_path / "noindex.bam"
    shutil.copy(src, noidx)  # no .bai beside it: indexed in a temporary directory
    api.coverage([noidx], tmp_path / "two.bw", bin_size=25, extend_reads=200, threads=2)
    assert not (tmp_path / "noindex.bam.bai").exists()
    with pyBigWig.open(str(tmp_path / "one.bw")) as a, pyBigWig.open(str(tmp_path / "two.bw")) as b:
        assert a.chroms() == b.chroms()
        assert a.intervals("chr21") == b.intervals("chr21")


def test_fasta_chrom_sizes(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text(">chrA\n" + "ACGT" * 25 + "\n>chrB\nAC\n")
    bed = write_bed(tmp_path / "r.bed", [("chrA", 0, 10)])
    out = tmp_path / "c.bw"
    result = CliRunner().invoke(cli, ["coverage", str(bed), "--genome-fasta", str(fa), "-o", str(out), "--bin-size", "5"])
    assert result.exit_code == 0, result.output
    with pyBigWig.open(str(out)) as bw:
        assert bw.chroms() == {"chrA": 100, "chrB": 2}


def test_accumulator_touched_span_and_truncated_last_bin():
    acc = BinAccumulator(1003, 10)  # 101 bins, the last one 3 bp wide
    acc.add(np.array([405]), np.array([427]))
    acc.add(np.array([1001]), np.array([1003]))
    values = dense(acc)
    expected = np.zeros(101)
    expected[40], expected[41], expected[42] = 0.5, 1.0, 0.7
    expected[100] = 2 / 3
    np.testing.assert_allclose(values, expected)
    empty = BinAccumulator(1003, 10)
    assert dense(empty).sum() == 0


def test_partials_add_exactly(tmp_path):
    from chipsr.tasks.chipseq.coverage import PartialTracks

    parts = PartialTracks(str(tmp_path))
    a, b = BinAccumulator(1000, 7), BinAccumulator(1000, 7)
    rng = np.random.default_rng(5)
    s, e = random_fragments(rng, 400, 1000)
    a.add(s[:200], e[:200])
    b.add(s[200:], e[200:])
    parts.save("c", a.runs())
    parts.save("c", b.runs())
    both = BinAccumulator(1000, 7)
    both.add(s, e)
    np.testing.assert_array_equal(_expand(parts.load("c", both.n_bins)), _expand(both.runs()))


def _expand(runs):
    s, e, v = runs
    return np.repeat(v, e - s)
