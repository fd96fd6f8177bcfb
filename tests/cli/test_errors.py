"""Bad input: a one-line error naming the file and value, exit code != 0, no output left behind."""

from __future__ import annotations

import gzip
import shutil

import pytest
from click.testing import CliRunner

from chipsr.cli.main import cli

from builders import GOLDEN_BAM, one_line_error, write_bam, write_bed, write_sizes

BAM = GOLDEN_BAM


def run_fails(args, *must_contain, out=None):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0, result.output
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    message = lines[-1]
    assert message.startswith("Error:") or "Error" in message, result.output
    for text in must_contain:
        assert text in result.output, (text, result.output)
    if out is not None:
        leftovers = [p for p in out.parent.iterdir() if p.name.startswith(("." + out.name, out.name))]
        assert leftovers == [], leftovers
    return result.output


@pytest.fixture
def sizes(tmp_path):
    return write_sizes(tmp_path / "g.sizes", {"chr1": 10_000, "chr2": 5_000})


def cov(reads, out, sizes, *extra):
    return ["coverage", *map(str, reads), "-o", str(out), "--chrom-sizes", str(sizes), *extra]


def test_missing_file(tmp_path, sizes):
    out = tmp_path / "o.bw"
    run_fails(cov([tmp_path / "nope.bed"], out, sizes), "nope.bed", "does not exist", out=out)
    run_fails(["subsample", str(tmp_path / "nope.bam"), "-o", str(tmp_path / "o.bam")], "nope.bam", "does not exist")


def test_corrupt_and_truncated_gzip(tmp_path, sizes):
    good = write_bed(tmp_path / "good.bed.gz", [("chr1", i, i + 10) for i in range(5000)])
    data = good.read_bytes()
    truncated = tmp_path / "trunc.bed.gz"
    truncated.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt.bed.gz"
    corrupt.write_bytes(data[:20] + bytes(200) + data[220:])
    for bad in (truncated, corrupt):
        out = tmp_path / "o.bw"
        run_fails(cov([bad], out, sizes), bad.name, "gzip", out=out)
        sub = tmp_path / "s.bed.gz"
        run_fails(["subsample", str(bad), "-o", str(sub), "--number", "10"], bad.name, out=sub)


def test_empty_reads_file(tmp_path, sizes):
    empty = tmp_path / "empty.bed"
    empty.write_text("")
    run_fails(cov([empty], tmp_path / "o.bw", sizes), "empty.bed", "empty")
    header_only = tmp_path / "hdr.bed.gz"
    with gzip.open(header_only, "wt") as fh:
        fh.write("track name=x\n")
    run_fails(cov([header_only], tmp_path / "o.bw", sizes), "hdr.bed.gz", "no reads")


@pytest.mark.parametrize("line, problem", [
    ("chr1\t500\t400", "end (400) <= start (500)"),
    ("chr1\t500\t500", "end (500) <= start (500)"),
    ("chr1\t5x0\t600", "non-integer coordinate"),
    ("chr1\t1.5\t600", "non-integer coordinate"),
])
def test_bad_bed_line(tmp_path, sizes, line, problem):
    bed = tmp_path / "bad.bed"
    bed.write_text("chr1\t1\t50\nchr1\t2\t60\n" + line + "\nchr1\t3\t70\n")
    out = tmp_path / "o.bw"
    run_fails(cov([bed], out, sizes), "bad.bed line 3", problem, out=out)
    sub = tmp_path / "s.bed"
    run_fails(["subsample", str(bed), "-o", str(sub), "--number", "1"], "bad.bed line 3", problem, out=sub)


def test_unknown_chromosome(tmp_path, sizes):
    bed = write_bed(tmp_path / "r.bed", [("chr1", 1, 50), ("chrUn_x", 5, 60), ("chr2", 1, 9)])
    out = tmp_path / "o.bw"
    run_fails(cov([bed], out, sizes), "r.bed line 2", "chrUn_x", "--skip-unknown-chroms", out=out)
    result = CliRunner().invoke(cli, cov([bed], out, sizes, "--skip-unknown-chroms"))
    assert result.exit_code == 0 and out.exists()
    assert "skipped 1 reads" in result.output


def test_chrom_sizes_disagree_with_bam_header(tmp_path):
    wrong = write_sizes(tmp_path / "hg38.sizes", {"chr22": 50_818_468})
    out = tmp_path / "o.bw"
    run_fails(["coverage", str(BAM), "-o", str(out), "--chrom-sizes", str(wrong)],
              BAM.name, "51304566", "50818468", out=out)


def test_unsorted_bam(tmp_path):
    sizes = {"chr1": 10_000}
    reads = [dict(name="a", chrom="chr1", pos=500), dict(name="b", chrom="chr1", pos=100)]
    marked = write_bam(tmp_path / "marked.bam", sizes, reads, index=False, sort_order="unsorted")
    run_fails(["coverage", str(marked), "-o", str(tmp_path / "o.bw")], "marked.bam", "not coordinate-sorted", "samtools sort")
    unmarked = write_bam(tmp_path / "unmarked.bam", sizes, reads, index=False, sort_order="unknown")
    line = one_line_error(["coverage", str(unmarked), "-o", str(tmp_path / "o.bw")], "unmarked.bam", "samtools sort",
                          "not in coordinate order")
    assert "No such file" not in line


def test_bam_without_index_is_indexed_in_a_temp_dir(tmp_path):
    copy = tmp_path / "noidx.bam"
    shutil.copy(BAM, copy)
    out = tmp_path / "o.bw"
    result = CliRunner().invoke(cli, ["coverage", str(copy), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "has no index" in result.output and "samtools index" in result.output
    assert out.exists() and not (tmp_path / "noidx.bam.bai").exists()


def test_output_directory_missing(tmp_path, sizes):
    bed = write_bed(tmp_path / "r.bed", [("chr1", 1, 50)])
    run_fails(cov([bed], tmp_path / "nodir" / "o.bw", sizes), "nodir", "does not exist")
    run_fails(["subsample", str(bed), "-o", str(tmp_path / "nodir" / "o.bed")], "nodir", "does not exist")


def test_bad_numbers(tmp_path, sizes):
    bed = write_bed(tmp_path / "r.bed", [("chr1", 1, 50)])
    run_fails(["subsample", str(bed), "-o", str(tmp_path / "o.bed"), "--number", "0"], "--number", "0")
    run_fails(["subsample", str(bed), "-o", str(tmp_path / "o.bed"), "--number", "-5"], "--number")
    run_fails(["subsample", str(bed), "-o", str(tmp_path / "o.bed"), "--fraction", "1.5"], "--fraction", "1.5")
    run_fails(cov([bed], tmp_path / "o.bw", sizes, "--bin-size", "-25"), "--bin-size", "-25")
    run_fails(cov([bed], tmp_path / "o.bw", sizes, "--bin-size", "0"), "--bin-size")
    run_fails(cov([bed], tmp_path / "o.bw", sizes, "--normalize-using", "RPGC"), "--effective-genome-size")
    run_fails(cov([bed], tmp_path / "o.bw", sizes, "--region", "chr9:1-100"), "chr9")


def test_bed_without_chrom_sizes(tmp_path):
    bed = write_bed(tmp_path / "r.bed", [("chr1", 1, 50)])
    run_fails(["coverage", str(bed), "-o", str(tmp_path / "o.bw")], "r.bed", "--chrom-sizes")


def test_crash_mid_write_leaves_no_output(tmp_path, sizes, monkeypatch):
    import chipsr.io.tracks as tracks

    bed = write_bed(tmp_path / "r.bed", [("chr1", 1, 50), ("chr2", 1, 50)])
    calls = {"n": 0}
    real_add = tracks.TrackWriter.add

    def failing_add(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real_add(self, *a, **k)

    monkeypatch.setattr(tracks.TrackWriter, "add", failing_add)
    out = tmp_path / "o.bw"
    with pytest.raises(RuntimeError):
        from chipsr import api

        api.coverage([bed], out, chrom_sizes=sizes)
    assert [p.name for p in tmp_path.iterdir() if "o.bw" in p.name] == []
