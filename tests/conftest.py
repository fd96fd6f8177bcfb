"""Shared fixtures: the optional full-size data, the device to run on, and one tiny ChIP-seq data
set with a model trained on it, built once per test run. Plain builders (paths, small synthetic
files, the `chipsr train` command line) are in builders.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import SHARED_ROOT, make_tracks, train_args

# Optional full-size real ChIP-seq sets, not shipped, in a folder shared/data/chipseq beside the repository
# (tests that use them are skipped without it). Each is public: the MOLM-13 histone marks of GEO GSE80779
# (Wan et al. 2017) on hg19 chr22, as bedGraph pileups (molm13_hg19_chr22/pileup/, from GitHub
# ycl6/EnrichedHeatmap-Demo @ 3119325f, data/) and the 200-bp fragments recovered from them
# (molm13_hg19_chr22/fragments/; see tests/data/golden/README.md, section (d)); and ENCODE GM12878 CTCF reads on
# hg38 chr21 (gm12878_hg38_chr21/GM12878_hg38_CTCF_r1.chr21.bam, from GitHub compgenomr/compGenomRData
# @ 24484cb7, inst/extdata/chip-seq/).
SHARED = SHARED_ROOT / "data" / "chipseq"


@pytest.fixture
def shared_chipseq() -> Path:
    """The optional full-size real data sets (see SHARED above); skips the test without them."""
    if not SHARED.is_dir():
        pytest.skip(f"the full-size ChIP-seq data ({SHARED}) is not available")
    return SHARED


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


@pytest.fixture(scope="session")
def tiny_tracks(tmp_path_factory) -> dict[str, Path]:
    """builders.make_tracks' bigWigs (K27ac, K4me1 and their target; chrA and chrB, 25-bp bins), written
    once per run. Shared: read them, never write beside them or change them."""
    return make_tracks(tmp_path_factory.mktemp("tiny_tracks"))


@pytest.fixture(scope="session")
def tiny_model(tiny_tracks, tmp_path_factory) -> Path:
    """A linear ChIP-seq model (marks K27ac and K4me1, target ``target``, 25-bp bins, chrB held out)
    trained once per run on tiny_tracks, for tests that need a trained model but not a particular one.
    Its file is linear.pt; shared: never write over it."""
    from click.testing import CliRunner

    from chipsr.cli.main import cli

    model = tmp_path_factory.mktemp("tiny_model") / "linear.pt"
    result = CliRunner().invoke(cli, train_args(tiny_tracks, model, "--arch", "linear", "--epochs", "1"))
    assert result.exit_code == 0, result.output
    return model
