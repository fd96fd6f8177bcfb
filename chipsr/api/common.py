"""What every API module shares: settings fields, threads, ``NAME=PATH`` lists, device checks.

Importing it imports nothing heavy (``chipsr --help`` stays fast).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

# region_bounds and split_item: the CLI's click types parse with them; setting and the help texts: the
# settings dataclasses of every task are built with them
from chipsr.specs import DEVICE_HELP, THREADS_HELP, region_bounds, setting, split_item  # noqa: F401


def command_settings(cls: type, settings: Any | None, overrides: dict) -> Any:
    """``settings`` (default ``cls()``) with the keyword ``overrides`` applied; when it has a
    ``threads`` field, torch's CPU threads are set to it (the one place the audio and imputation
    commands set them).

    Raises
    ------
    TypeError
        An override that is not a field of ``cls``.
    """
    s = replace(settings if settings is not None else cls(), **overrides)
    if hasattr(s, "threads"):
        import torch

        torch.set_num_threads(s.threads)
    return s


def named_paths(specs: Sequence[str | tuple[str, str]], option: str = "--model") -> list[tuple[str, str]]:
    """``NAME=PATH`` (or ``PATH``, named by its file stem; or a ``(name, path)`` pair) -> (name, path):
    :func:`chipsr.specs.named_paths` without comma splitting (the name ends at the first ``=``).

    Raises
    ------
    ChipsrInputError
        A name given twice, an empty name or path (naming ``option``).
    """
    from chipsr.specs import named_paths as _named_paths

    items = [f"{s[0]}={s[1]}" if isinstance(s, tuple) else str(s) for s in specs]
    return list(_named_paths(items, option, commas=False, default_name=lambda p: Path(p).stem, what="model").items())


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (a link counts): the output guard's test
    (:func:`chipsr.io.atomic.same_file`)."""
    from chipsr.io.atomic import same_file as _same_file

    return _same_file(a, b)


def check_device(value: str) -> None:
    """Check a ``--device`` value: a known name (cpu, cuda, cuda:N, mps) that this machine has.

    Raises
    ------
    ValueError
        An unknown name, or a device this machine lacks (the message says which).
    """
    import re

    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", value):
        raise ValueError(f"unknown device {value!r}; expected cpu, cuda, cuda:N or mps")
    if value == "cpu":
        return
    from chipsr.core.device import pick_device

    try:
        pick_device(value)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(str(exc)) from None
    if value.startswith("cuda:"):
        import torch

        if int(value[5:]) >= torch.cuda.device_count():
            raise ValueError(f"{value}: this machine has {torch.cuda.device_count()} CUDA device(s)")
