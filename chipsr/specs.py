"""``NAME=PATH`` item lists and ``CHR:START-END`` regions: the one parser of each that every layer
uses (the CLI's click types, the API, the tasks, :func:`chipsr.io.genome.parse_region`).

Forms: ``NAME=PATH`` (the name ends at the first ``=``), or a bare ``PATH`` named by its file name
(when names are optional); a spec may hold several items separated by commas (paths with commas
are then not supported).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import field
from pathlib import Path
from typing import Any

from chipsr.errors import ChipsrInputError

def setting(default: Any, help: str) -> Any:
    """A settings field (``dataclasses.field``): its ``default`` and the ``help`` the CLI shows for it.

    Every command's settings dataclass is built from these, so a default and its help text are written
    once and read by the Python API, the command line and the workflow.
    """
    return field(default=default, metadata={"help": help})


#: help of the threads and device settings. ``-p/--threads`` is the CPU cores a command may use
#: (Snakemake's ``threads:``): torch's threads, or processes in ``chipsr coverage``
THREADS_HELP = "CPU cores: torch's threads."
DEVICE_HELP = "cpu, cuda, cuda:N, mps [default: CUDA if present, else MPS, else CPU]."

#: suffixes dropped from a bare bigWig path to name it
BIGWIG_SUFFIXES = (".bw", ".bigwig", ".bigWig")


def bigwig_stem(path: str) -> str:
    """The default name of a bare track path: its file name without a bigWig suffix."""
    name = Path(path).name
    for suffix in BIGWIG_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def split_item(item: str, option: str, require_names: bool = True,
               default_name: Callable[[str], str] = bigwig_stem, form: str = "NAME=PATH") -> tuple[str, str]:
    """One item -> ``(name, path)``, both stripped.

    Raises
    ------
    ChipsrInputError
        No ``=`` when names are required, or an empty name or path (naming ``option`` and ``form``).
    """
    item = str(item).strip()
    name, sep, path = (part.strip() for part in item.partition("="))
    if not sep:
        if require_names:
            raise ChipsrInputError(f"{option} item {item!r}: expected {form} (e.g. noisy=low_depth.bw)")
        name, path = default_name(item), item
    if not name or not path:
        raise ChipsrInputError(f"{option} item {item!r}: expected {form} with both parts")
    return name, path


def named_paths(specs: Iterable[str], option: str, require_names: bool = False, commas: bool = True,
                default_name: Callable[[str], str] = bigwig_stem, what: str = "track") -> dict[str, str]:
    """Items of one option (repeated and/or comma-separated) -> ordered ``{name: path}``.

    Parameters
    ----------
    specs : iterable of str
        The option's values, e.g. ``["A.bw,B.bw", "name=C.bw"]``.
    option : str
        The option, for messages (e.g. ``"--marks"``).
    require_names : bool
        Every item must be ``NAME=PATH``; otherwise a bare path is named by ``default_name``.
    commas : bool
        Split each spec at commas.
    default_name : callable
        Name of a bare path (default: the file name without a bigWig suffix).
    what : str
        What a name names, for messages ("track", "model").

    Raises
    ------
    ChipsrInputError
        No items; an item without ``NAME=`` when names are required; an empty name or path; a name
        used twice.
    """
    named: dict[str, str] = {}
    for spec in specs:
        for item in (str(spec).split(",") if commas else [str(spec)]):
            if not item.strip():
                continue
            name, path = split_item(item, option, require_names, default_name)
            if name in named:
                raise ChipsrInputError(f"{option}: {what} name {name!r} is used twice ({named[name]} and {path})")
            named[name] = path
    if not named:
        raise ChipsrInputError(f"{option}: no {what}s given")
    return named


_REGION_RE = re.compile(r"^(?P<chrom>[^:\s]+)(?::(?P<start>[\d,]+)[-:](?P<end>[\d,]+))?$")


def region_bounds(text: str) -> tuple[str, int | None, int | None]:
    """``CHR`` or ``CHR:START-END`` (1-based inclusive, as samtools and IGV write it; commas allowed;
    deepTools' ``CHR:START:END`` too) -> ``(chrom, start, end)`` 0-based half-open, or
    ``(chrom, None, None)`` for a whole chromosome. ``chr22:1-100`` is ``("chr22", 0, 100)``.

    Raises
    ------
    ChipsrInputError
        The text does not parse, or START < 1 or END < START.
    """
    m = _REGION_RE.match(text.strip())
    if not m:
        raise ChipsrInputError(f"region {text!r}: expected CHR or CHR:START-END")
    if m.group("start") is None:
        return m.group("chrom"), None, None
    start = int(m.group("start").replace(",", ""))
    end = int(m.group("end").replace(",", ""))
    if start < 1 or end < start:
        raise ChipsrInputError(f"region {text!r}: need 1 <= START <= END")
    return m.group("chrom"), start - 1, end
