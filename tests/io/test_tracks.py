"""io.tracks: the bigWig reader's file handling."""

from __future__ import annotations

import pytest


def test_bigwig_file_closes_on_every_exit_path(tmp_path):
    """BigWigFile is a context manager: the file is closed after the block, also when it raises."""
    import pyBigWig

    from chipsr.io.tracks import BigWigFile

    path = tmp_path / "t.bw"
    out = pyBigWig.open(str(path), "w")
    out.addHeader([("chr1", 100)])
    out.addEntries(["chr1"], [0], ends=[50], values=[1.0])
    out.close()
    with BigWigFile(path) as bw:
        assert bw.chroms == {"chr1": 100}
    assert bw.bw is None
    with pytest.raises(RuntimeError), BigWigFile(path) as bw:
        raise RuntimeError("inside")
    assert bw.bw is None
