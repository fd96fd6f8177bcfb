"""chipsr subsample: exact counts, mates together, reproducible bytes, uniformity, formats."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pysam
import pytest
from click.testing import CliRunner

from chipsr import api
from chipsr.cli.main import cli

from builders import DATA, GOLDEN_BAM, write_bam, write_bed


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def bed_reads(tmp_path):
    rows = [("chr1", i * 10, i * 10 + 36, ".", 0, "+-"[i % 2]) for i in range(1000)]
    rows += [rows[5]] * 3  # stacked duplicates are distinct reads
    return write_bed(tmp_path / "reads.bed.gz", rows)


def data_lines(path):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as fh:
        return [ln for ln in fh if ln.strip() and not ln.startswith(("#", "track"))]


def test_bed_exact_count_and_reproducible(tmp_path, bed_reads):
    a, b, c = tmp_path / "a.bed.gz", tmp_path / "b.bed.gz", tmp_path / "c.bed.gz"
    stats = api.subsample(bed_reads, a, number=100, seed=7)
    assert (stats.total, stats.kept) == (1003, 100)
    assert len(data_lines(a)) == 100
    api.subsample(bed_reads, b, number=100, seed=7)
    assert md5(a) == md5(b)  # byte-identical
    api.subsample(bed_reads, c, number=100, seed=8)
    assert md5(a) != md5(c)
    # kept lines are unchanged input lines, in input order
    src = data_lines(bed_reads)
    kept = data_lines(a)
    positions = [src.index(line) for line in kept]
    assert positions == sorted(positions)


def test_bed_header_lines_pass_through_and_plain_output(tmp_path):
    src = tmp_path / "r.bed"
    src.write_text("track name=x\n" + "".join(f"chr1\t{i}\t{i + 50}\n" for i in range(200)))
    out = tmp_path / "o.bed"
    api.subsample(src, out, number=20)
    text = out.read_text().splitlines()
    assert text[0] == "track name=x" and len(text) == 21


def test_fraction(tmp_path):
    src = write_bed(tmp_path / "r.bed", [("chr1", i, i + 50) for i in range(20000)])
    stats = api.subsample(src, tmp_path / "o.bed", fraction=0.1, seed=1)
    assert abs(stats.kept - 2000) < 4 * np.sqrt(20000 * 0.1 * 0.9)
    assert api.subsample(src, tmp_path / "all.bed", fraction=1.0).kept == 20000


def test_uniform_inclusion(tmp_path):
    """Every line is kept with probability N/M: inclusion counts over many seeds look binomial."""
    m, n, seeds = 50, 10, 400
    src = write_bed(tmp_path / "r.bed", [("chr1", i, i + 50) for i in range(m)])
    counts = np.zeros(m)
    for seed in range(seeds):
        out = tmp_path / "o.bed"
        api.subsample(src, out, number=n, seed=seed)
        for line in out.read_text().splitlines():
            counts[int(line.split("\t")[1])] += 1
    assert counts.sum() == n * seeds
    expected = seeds * n / m
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 100  # df = 49; P(chi2 > 100) < 1e-4 under uniformity


def test_keeps_all_and_warns_when_n_exceeds_total(tmp_path, bed_reads, caplog):
    out = tmp_path / "o.bed.gz"
    stats = api.subsample(bed_reads, out, number=5000)
    assert stats.kept == stats.total == 1003
    assert "keeping all" in caplog.text


def _paired_bam(tmp_path, n_pairs=300, n_single=100):
    sizes = {"chr1": 100_000, "chr2": 50_000}
    reads = []
    for i in range(n_pairs):
        pos = 100 + i * 200
        chrom = "chr1" if pos < 90_000 else "chr2"
        pos = pos if chrom == "chr1" else pos - 89_000
        reads.append(dict(name=f"pair{i}", chrom=chrom, pos=pos, flag=0x1 | 0x2 | 0x20 | 0x40,
                          mate_chrom=chrom, mate_pos=pos + 150, tlen=186))
        reads.append(dict(name=f"pair{i}", chrom=chrom, pos=pos + 150, flag=0x1 | 0x2 | 0x10 | 0x80,
                          mate_chrom=chrom, mate_pos=pos, tlen=-186))
    for i in range(n_single):
        reads.append(dict(name=f"single{i}", chrom="chr1", pos=50 + i * 700, flag=0))
    reads.append(dict(name="unmapped", flag=0x4))
    key = lambda r: (r.get("chrom") is None, ["chr1", "chr2"].index(r["chrom"]) if r.get("chrom") else 0, r.get("pos", 0))
    return write_bam(tmp_path / "in.bam", sizes, sorted(reads, key=key))


def test_bam_pairs_stay_together_exact_sorted_indexed(tmp_path):
    src = _paired_bam(tmp_path)
    out = tmp_path / "sub.bam"
    result = CliRunner().invoke(cli, ["subsample", str(src), "-o", str(out), "--number", "50", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sub.bam.bai").exists()
    names, positions = {}, []
    with pysam.AlignmentFile(str(out)) as bam:
        assert bam.header.to_dict()["HD"]["SO"] == "coordinate"
        assert any(pg["PN"] == "chipsr" for pg in bam.header.to_dict()["PG"])
        for r in bam.fetch(until_eof=True):
            names.setdefault(r.query_name, []).append(r.flag)
            if not r.is_unmapped:
                positions.append((r.reference_id, r.reference_start))
        assert bam.mapped == sum(len(v) for v in names.values()) - ("unmapped" in names)
    assert len(names) == 50  # exactly 50 templates
    for name, flags in names.items():
        assert len(flags) == (2 if name.startswith("pair") else 1), name
    assert positions == sorted(positions)
    out2 = tmp_path / "sub2.bam"
    api.subsample(src, out2, number=50, seed=3)
    assert md5(out) == md5(out2)


def test_bam_fraction_and_unsorted_input_is_sorted(tmp_path):
    src = _paired_bam(tmp_path)
    with pysam.AlignmentFile(str(src)) as bam:
        reads = list(bam.fetch(until_eof=True))
        header = bam.header.to_dict()
    header["HD"]["SO"] = "unsorted"
    shuffled = tmp_path / "shuf.bam"
    rng = np.random.default_rng(0)
    with pysam.AlignmentFile(str(shuffled), "wb", header=header) as out:
        for i in rng.permutation(len(reads)):
            out.write(reads[i])
    out = tmp_path / "sub.bam"
    stats = api.subsample(shuffled, out, fraction=0.5, seed=1)
    assert 0.3 < stats.kept / stats.total < 0.7
    with pysam.AlignmentFile(str(out)) as bam:
        pos = [(r.reference_id, r.reference_start) for r in bam.fetch(until_eof=True) if not r.is_unmapped]
    assert pos == sorted(pos)


def test_real_bam_subsample(tmp_path):
    src = GOLDEN_BAM
    out = tmp_path / "sub.bam"
    stats = api.subsample(src, out, number=1000, seed=0)
    assert stats.total == 4974 and stats.kept == 1000
    with pysam.AlignmentFile(str(out)) as bam:
        assert sum(1 for _ in bam.fetch("chr22")) == 1000


REPLICATES = DATA / "replicates"
REP_BAMS = [REPLICATES / "rep1.chr19_0_2000000.bam", REPLICATES / "rep2.chr19_0_2000000.bam"]


def test_replicate_bams_are_pooled_sorted_indexed_and_reproducible(tmp_path):
    """Issue 13: `chipsr subsample rep1.bam rep2.bam` draws N templates uniformly from the union
    (ENCODE CEBPB A549 replicates; rep1's read names start COLUMBO, rep2's ROCKFORD)."""
    outs = []
    for name, seed in (("a.bam", 5), ("b.bam", 5), ("c.bam", 6)):
        out = tmp_path / name
        r = CliRunner().invoke(cli, ["subsample", *map(str, REP_BAMS), "-o", str(out), "--number", "1000",
                                     "--seed", str(seed)])
        assert r.exit_code == 0, r.output
        assert "kept 1000 of 2686 templates" in r.output  # 1,323 + 1,363 reads
        outs.append(out)
    a, b, c = outs
    assert a.read_bytes() == b.read_bytes() and md5(a.with_suffix(".bam.bai")) == md5(b.with_suffix(".bam.bai"))
    assert a.read_bytes() != c.read_bytes()
    with pysam.AlignmentFile(str(a)) as bam:
        assert bam.header.to_dict()["HD"]["SO"] == "coordinate" and bam.has_index()
        reads = list(bam.fetch("chr19"))
    origin = [r.query_name.split(":")[0] for r in reads]
    n1, n2 = origin.count("COLUMBO"), origin.count("ROCKFORD")
    assert n1 > 0 and n2 > 0 and n1 + n2 == 1000
    # hypergeometric: rep1 holds 1323/2686 of the pool; sd ~ 12.5 reads
    assert abs(n1 - 1000 * 1323 / 2686) < 5 * 12.5
    starts = [r.reference_start for r in reads]
    assert starts == sorted(starts)
    originals = {}
    for path in REP_BAMS:
        with pysam.AlignmentFile(str(path), check_sq=False) as bam:
            originals.update({(r.query_name, r.reference_start): r.to_string() for r in bam.fetch(until_eof=True)})
    assert all(originals[(r.query_name, r.reference_start)] == r.to_string() for r in reads)  # records unchanged


def test_pooled_bams_key_templates_by_file_and_name(tmp_path):
    """Two BAMs with the same reads are two sets of templates (equal names in different files are
    distinct); the same file given twice is refused; a single BAM, alone or as a one-item list, gives
    the same bytes as before pooling."""
    import shutil

    from chipsr.errors import ChipsrInputError

    src = GOLDEN_BAM
    copy = tmp_path / "copy.bam"
    shutil.copy(src, copy)
    shutil.copy(f"{src}.bai", f"{copy}.bai")
    with pytest.raises(ChipsrInputError, match="given twice among the READS"):
        api.subsample([src, src], tmp_path / "refused.bam", number=10, seed=1)
    assert not (tmp_path / "refused.bam").exists()
    stats = api.subsample([src, copy], tmp_path / "twice.bam", number=6000, seed=1)
    assert (stats.total, stats.kept) == (2 * 4974, 6000)
    with pysam.AlignmentFile(str(tmp_path / "twice.bam")) as bam:
        names = [r.query_name for r in bam.fetch("chr22")]
    assert len(names) == 6000 and len(set(names)) < 6000  # some reads drawn from both copies
    api.subsample(src, tmp_path / "one.bam", number=1000, seed=2)
    api.subsample([src], tmp_path / "list.bam", number=1000, seed=2)
    assert md5(tmp_path / "one.bam") == md5(tmp_path / "list.bam")
