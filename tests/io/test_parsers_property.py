"""Property-based tests (hypothesis) of the region and BED-reads parsers."""

from __future__ import annotations

import gzip

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipsr.errors import ChipsrInputError
from chipsr.io.genome import Region, parse_region
from chipsr.io.reads import iter_bed_reads

CHROM = st.from_regex(r"[A-Za-z][A-Za-z0-9_.]{0,15}", fullmatch=True)


@given(CHROM, st.integers(1, 10**9), st.integers(0, 10**6))
def test_region_round_trip(chrom, start, length):
    text = f"{chrom}:{start}-{start + length}"
    r = parse_region(text)
    assert (r.chrom, r.start, r.end) == (chrom, start - 1, start + length)  # 1-based inclusive -> 0-based
    assert parse_region(str(r)) == r
    assert parse_region(chrom) == Region(chrom)


@given(st.text(max_size=40))
def test_region_parser_raises_only_its_own_error(text):
    try:
        parse_region(text)
    except ChipsrInputError:
        pass


ROW = st.tuples(st.sampled_from(["chr1", "chr2", "chrX"]), st.integers(0, 10**7), st.integers(1, 1000))
NOISE = st.sampled_from(["# a comment\n", "track name=x\n", "browser position chr1\n", "\n", "#\tx\ty\tz\n"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ROW, st.lists(NOISE, max_size=2)), min_size=1, max_size=60), st.booleans(),
       st.booleans())
def test_bed_reader_returns_exactly_the_data_rows(tmp_path, rows, gz, six_columns):
    """Header, comment and blank lines anywhere are skipped; every data row comes back, in order."""
    lines = []
    for (chrom, start, length), noise in rows:
        lines += noise
        extra = f"\tr\t0\t{'+' if start % 2 else '-'}" if six_columns else ""
        lines.append(f"{chrom}\t{start}\t{start + length}{extra}\n")
    data = "".join(lines).encode()
    path = tmp_path / ("r.bed.gz" if gz else "r.bed")
    path.write_bytes(gzip.compress(data) if gz else data)
    got = [(c, int(s), int(e)) for chunk in iter_bed_reads(path, chunk_lines=7)
           for c, s, e in zip(chunk.chroms, chunk.starts, chunk.ends)]
    assert got == [(c, s, s + n) for (c, s, n), _ in rows]
