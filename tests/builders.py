"""Builders shared by the test modules: paths to the committed test data, small synthetic files
(BED, BAM, chrom sizes, binned bigWigs), tiny ChIP-seq tracks and the `chipsr train` command line
that fits them, a tiny network with its toy data, and the one-line-error check of the CLI.

Test modules import this as a module (``from builders import ...``); the tests folder is on
``sys.path`` because pytest puts a rootdir conftest's folder there. Fixtures live in conftest.py.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
EXAMPLES = REPO / "examples"
EXAMPLE_SIZES = EXAMPLES / "data" / "hg19.chrom.sizes"
DATA = TESTS / "data"
GOLDEN = DATA / "golden"
HG19_SIZES = DATA / "hg19.chrom.sizes"
#: real reads of chr22:30-32 Mb: MOLM-13 H3K27ac fragments (BED) and GM12878 control reads (BAM, indexed)
GOLDEN_BED = GOLDEN / "GSM2136938_MOLM13.H3K27ac.chr22.frag200.chr22_30000000_32000000.bed.gz"
GOLDEN_BAM = GOLDEN / "wgEncodeBroadHistoneGm12878ControlStdAlnRep1.chr22_30000000_32000000.bam"
#: optional full-size data sets in a folder "shared" beside the repository (tests that need them skip
#: without them); see conftest.py for what shared/data/chipseq holds
SHARED_ROOT = REPO.parent / "shared"


# ------------------------------------------------------------------------------ reads and sizes
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


# ------------------------------------------------------------------------------ binned tracks
BIN = 25
SIZES = {"chrA": 150_000, "chrB": 40_010}


def write_bins(path, values_by_chrom, bin_size=BIN, sizes=SIZES):
    """A bigWig of ``bin_size``-bp bins: values_by_chrom maps a chromosome to its bin values."""
    import pyBigWig

    with pyBigWig.open(str(path), "w") as bw:
        bw.addHeader(list(sizes.items()))
        for chrom, values in values_by_chrom.items():
            starts = np.arange(len(values), dtype=np.int64) * bin_size
            ends = np.minimum(starts + bin_size, sizes[chrom])
            bw.addEntries([chrom] * len(values), starts, ends=ends, values=np.asarray(values, dtype=np.float64))
    return path


def make_tracks(folder: Path) -> dict[str, Path]:
    """Two noisy marks and their smooth truth on chrA/chrB (25-bp bins): name -> bigWig path
    (K27ac.bw, K4me1.bw, target.bw in ``folder``)."""
    rng = np.random.default_rng(0)
    files = {}
    truth = {}
    marks = {"K27ac": {}, "K4me1": {}}
    for chrom, size in SIZES.items():
        n = -(-size // BIN)
        signal = np.convolve(rng.gamma(0.3, 4, n), np.ones(20) / 20, mode="same")
        truth[chrom] = signal
        marks["K27ac"][chrom] = rng.poisson(signal * 0.5) / 0.5
        marks["K4me1"][chrom] = rng.poisson(np.roll(signal, 3) * 0.3) / 0.3
    for name, values in marks.items():
        files[name] = write_bins(folder / f"{name}.bw", values)
    files["target"] = write_bins(folder / "target.bw", truth)
    return files


def train_args(tracks, out, *extra):
    """`chipsr train` on make_tracks' files: chrA for training and validation, chrB held out."""
    return ["train", "--marks", f"{tracks['K27ac']},{tracks['K4me1']}", "--target", str(tracks["target"]),
            "-o", str(out), "--train-region", "chrA:1-100000", "--valid-region", "chrA:100001-150000",
            "--test-region", "chrB", "--window", "200", "--epochs", "3", "--batch-size", "8", "--samples-per-epoch", "96",
            *extra]


# ------------------------------------------------------------------------------ a tiny network
def tiny_net(channels: int = 2):
    """Conv -> dropout -> conv; (N, C, L) -> (N, 1, L)."""
    from torch import nn

    class TinyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.config = {"name": "tiny"}
            self.net = nn.Sequential(nn.Conv1d(channels, 8, 5, padding=2), nn.ReLU(), nn.Dropout(0.2),
                                     nn.Conv1d(8, 1, 5, padding=2))

        def forward(self, x):
            return self.net(x)

    return TinyNet()


def toy_data(n=64, length=32, seed=0):
    """(x, y) tensors that two convolutions can learn: x (n, 2, length), y (n, 1, length)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, length, generator=g)
    y = (x[:, :1] * 0.5 + torch.roll(x[:, 1:], 1, dims=2)).clone()
    return x, y


# ------------------------------------------------------------------------------ the CLI
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
