"""Shared fixtures: paths to the committed test data, and builders of small synthetic files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).parent
DATA = TESTS / "data"
GOLDEN = DATA / "golden"
HG19_SIZES = DATA / "hg19.chrom.sizes"
# Optional full-size real ChIP-seq sets, not shipped, in a folder shared/data/chipseq beside the repository
# (tests that use them are skipped without it). Each is public: the MOLM-13 histone marks of GEO GSE80779
# (Wan et al. 2017) on hg19 chr22, as bedGraph pileups (molm13_hg19_chr22/pileup/, from GitHub
# ycl6/EnrichedHeatmap-Demo @ 3119325f, data/) and the 200-bp fragments recovered from them
# (molm13_hg19_chr22/fragments/; see tests/data/golden/README.md, section (d)); and ENCODE GM12878 CTCF reads on
# hg38 chr21 (gm12878_hg38_chr21/GM12878_hg38_CTCF_r1.chr21.bam, from GitHub compgenomr/compGenomRData
# @ 24484cb7, inst/extdata/chip-seq/).
SHARED = TESTS.parent.parent / "shared" / "data" / "chipseq"


@pytest.fixture
def shared_chipseq() -> Path:
    """The optional full-size real data sets (see SHARED above); skips the test without them."""
    if not SHARED.is_dir():
        pytest.skip(f"the full-size ChIP-seq data ({SHARED}) is not available")
    return SHARED


def write_sizes(path: Path, sizes: dict[str, int]) -> Path:
    path.write_text("".join(f"{c}\t{n}\n" for c, n in sizes.items()))
    return path


def write_bed(path: Path, rows, gz: bool | None = None) -> Path:
    """Write rows (tuples) as a tab-separated BED; gzipped if the name ends in .gz."""
    text = "".join("\t".join(str(x) for x in row) + "\n" for row in rows)
    if gz if gz is not None else path.name.endswith(".gz"):
        with gzip.GzipFile(path, "wb", mtime=0) as fh:
            fh.write(text.encode())
    else:
        path.write_text(text)
    return path


def write_bam(path: Path, sizes: dict[str, int], reads, index: bool = True, sort_order: str = "coordinate") -> Path:
    """Write a BAM from ``reads``: dicts with name, chrom, pos, cigar (e.g. "36M"), flag and
    optional mapq, mate_chrom, mate_pos, tlen. Reads are written in the given order."""
    import pysam

    header = {"HD": {"VN": "1.6", "SO": sort_order}, "SQ": [{"SN": c, "LN": n} for c, n in sizes.items()]}
    names = list(sizes)
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for r in reads:
            a = pysam.AlignedSegment()
            a.query_name = r["name"]
            a.flag = r.get("flag", 0)
            a.reference_id = names.index(r["chrom"]) if r.get("chrom") else -1
            a.reference_start = r.get("pos", -1)
            a.mapping_quality = r.get("mapq", 60)
            cigar = r.get("cigar", "36M")
            if a.reference_id >= 0:
                a.cigarstring = cigar
            length = sum(int(n) for n, op in _cigar_ops(cigar) if op in "MIS=X")
            a.query_sequence = "A" * length
            a.query_qualities = pysam.qualitystring_to_array("I" * length)
            a.next_reference_id = names.index(r["mate_chrom"]) if r.get("mate_chrom") else -1
            a.next_reference_start = r.get("mate_pos", -1)
            a.template_length = r.get("tlen", 0)
            out.write(a)
    if index:
        pysam.index(str(path))
    return path


def _cigar_ops(cigar: str):
    import re

    return re.findall(r"(\d+)([MIDNSHP=X])", cigar)


def random_fragments(rng: np.random.Generator, n: int, length: int, max_len: int = 300):
    """n random fragments (starts, ends) inside [0, length)."""
    starts = rng.integers(0, length - 1, n)
    ends = np.minimum(starts + rng.integers(1, max_len, n), length)
    return starts, ends


def depth_per_bp(starts, ends, length: int) -> np.ndarray:
    """Brute-force per-bp depth (the definition the fast code must match)."""
    depth = np.zeros(length, dtype=np.int64)
    for s, e in zip(starts, ends):
        depth[s:e] += 1
    return depth


def _devices():
    params = ["cpu"]
    try:
        import torch

        if torch.cuda.is_available():
            params.append(pytest.param("cuda", marks=pytest.mark.gpu))
    except ImportError:  # pragma: no cover
        pass
    return params


@pytest.fixture(params=_devices())
def device(request) -> str:
    """Run a test on the CPU, and again on CUDA where a GPU is present (marked ``gpu``)."""
    return request.param


def one_line_error(args, *must_contain: str) -> str:
    """Run ``chipsr ARGS`` in-process; assert a non-zero exit with exactly one output line, starting
    with ``Error:`` and containing every ``must_contain``, and no traceback. Returns the line."""
    from click.testing import CliRunner

    from chipsr.cli.main import cli

    result = CliRunner().invoke(cli, [str(a) for a in args])
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code != 0, result.output
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert "Traceback" not in result.output
    for text in must_contain:
        assert text in lines[0], (text, lines[0])
    return lines[0]
