"""Peak files: ENCODE narrowPeak (BED6+4), broadPeak (BED6+3) and gappedPeak (BED12+3).

Formats as UCSC defines them (https://genome.ucsc.edu/FAQ/FAQformat.html#format12): 0-based
half-open coordinates; ``score`` an integer 0-1000 (browser shading; here 1000 x the peak's signal
over the file's highest signal); ``signalValue`` the track value at the summit; ``pValue`` and
``qValue`` -1 (a track caller has no statistics); narrowPeak's ``peak`` the summit's offset from
``chromStart``. Rows are sorted as ``sort -k1,1 -k2,2n`` (what ``bedToBigBed`` needs) and written
atomically. Reading takes any BED-like peak file through :func:`chipsr.io.genome.read_bed_intervals`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from chipsr.errors import ChipsrInputError
from chipsr.io.atomic import atomic_output
from chipsr.io.genome import read_bed_intervals

#: file formats and their column count
PEAK_FORMATS = {"narrowPeak": 10, "broadPeak": 9, "gappedPeak": 15}


def read_peak_intervals(path: str | os.PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Merged, sorted peak intervals per chromosome (bp) of a narrowPeak/broadPeak/BED file.

    A file without peaks (empty, or only ``track`` / ``#`` lines) is a valid, empty peak set: ``{}``
    (a peak caller may call nothing).

    Raises
    ------
    ChipsrInputError
        Missing or malformed file (file, line and value named).
    """
    from pathlib import Path

    from chipsr.io.genome import open_text

    p = Path(path)
    if not p.is_file():
        raise ChipsrInputError(f"{p}: peak file does not exist")
    if p.stat().st_size == 0:
        return {}
    with open_text(p) as lines:
        if not any(line.strip() and not line.startswith(("#", "track", "browser")) for line in lines):
            return {}
    return read_bed_intervals(path)


def check_peak_chromosomes(ivs: dict, path, chroms, track) -> None:
    """Refuse a peak set none of whose chromosomes is in a track's header (e.g. Ensembl's ``22``
    against UCSC's ``chr22``): every score against it would silently be zero.

    Parameters
    ----------
    ivs : dict
        The peak set (:func:`read_peak_intervals`).
    path : path
        The peak file, for the message.
    chroms : collection of str
        The track's chromosome names.
    track : path
        The track, for the message.

    Raises
    ------
    ChipsrInputError
        Naming both files and an example of each naming style.
    """
    if not ivs or any(c in chroms for c in ivs):
        return
    theirs, ours = next(iter(ivs)), next(iter(chroms), "?")
    raise ChipsrInputError(f"{path}: its peaks are on chromosomes named like {theirs!r}, {track}'s like {ours!r}: "
                           f"no peak is on a chromosome of the track; use peaks of the same assembly and naming")


def write_peaks(path: str | os.PathLike, fmt: str, chrom: Sequence[str], start: Sequence[int], end: Sequence[int],
                value: Sequence[float], summit: Sequence[int] | None = None,
                blocks: Sequence[Sequence[tuple[int, int]]] | None = None, name: str = "chipsr") -> int:
    """Write peaks atomically in ``fmt`` (a key of :data:`PEAK_FORMATS`); returns the number written.

    Parameters
    ----------
    path : str or PathLike
        Output file; an empty peak set gives an empty (valid) file.
    fmt : {"narrowPeak", "broadPeak", "gappedPeak"}
    chrom, start, end, value : sequences of one length
        Peaks (0-based half-open bp) and their signal (track value at the summit / highest run).
    summit : sequence of int, optional
        Absolute summit positions (narrowPeak's ``peak`` column; -1 where unknown).
    blocks : sequence of lists of (start, end), optional
        gappedPeak's blocks per peak (absolute bp; the first starts at the peak start, the last ends
        at its end, as MACS3's ``bdgbroadcall`` gives them).
    name : str
        Peak name prefix: peaks are named ``{name}_peak_{k}`` in file order (1-based).

    Raises
    ------
    ChipsrInputError
        Unknown format, a gappedPeak without blocks, or a missing output folder.
    """
    import pandas as pd

    if fmt not in PEAK_FORMATS:
        raise ChipsrInputError(f"peak format {fmt!r}: expected one of {', '.join(PEAK_FORMATS)}")
    n = len(start)
    frame = pd.DataFrame({"chrom": list(chrom), "start": np.asarray(start, np.int64),
                          "end": np.asarray(end, np.int64), "value": np.asarray(value, np.float64)})
    frame["summit"] = np.asarray(summit, np.int64) if summit is not None else -1
    if fmt == "gappedPeak":
        if blocks is None or len(blocks) != n:
            raise ChipsrInputError("gappedPeak needs the blocks of every peak")
        frame["blocks"] = list(blocks)
    frame = frame.sort_values(["chrom", "start", "end"], kind="stable").reset_index(drop=True)
    top = float(frame["value"].max()) if n else 1.0
    score = np.clip(np.round(1000 * frame["value"] / top), 0, 1000).astype(int) if n and top > 0 else 0
    out = pd.DataFrame({"chrom": frame["chrom"], "start": frame["start"], "end": frame["end"],
                        "name": [f"{name}_peak_{k + 1}" for k in range(n)], "score": score, "strand": "."})
    if fmt == "gappedPeak":
        out["thickStart"], out["thickEnd"], out["itemRgb"] = frame["start"], frame["end"], "0"
        out["blockCount"] = [len(b) for b in frame["blocks"]]
        out["blockSizes"] = [",".join(str(e - s) for s, e in b) for b in frame["blocks"]]
        out["blockStarts"] = [",".join(str(s - p) for s, _ in b) for b, p in zip(frame["blocks"], frame["start"])]
    out["signalValue"] = frame["value"].round(6)
    out["pValue"], out["qValue"] = -1, -1
    if fmt == "narrowPeak":
        out["peak"] = np.where(frame["summit"] >= 0, frame["summit"] - frame["start"], -1)
    with atomic_output(path) as tmp:
        out.to_csv(tmp, sep="\t", header=False, index=False, lineterminator="\n", float_format="%.6g")
    return n
