"""Memory-mapped ``.npy`` arrays: a folder of arrays written once and read lazily by any process.

The streaming training data lives here: a whole genome's bins (124M per track at
25 bp on hg19) are written chunk by chunk to ``.npy`` files and read back as ``numpy.memmap``
views, so a training process holds only the pages it touches, and a ``DataLoader`` worker
receives a path rather than a pickled copy of the array.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np


class LazyArray:
    """A read-only ``.npy`` array opened as a memory map on first use, in whichever process uses it.

    It behaves like the array for ``shape``, ``ndim``, ``dtype``, ``len`` and indexing; pickling
    it (e.g. to a ``torch.utils.data.DataLoader`` worker) carries only its path.

    Parameters
    ----------
    path : path
        An existing ``.npy`` file.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._array = None
        probe = self.array
        self.shape, self.dtype = probe.shape, probe.dtype

    @property
    def array(self) -> np.ndarray:
        """The memory-mapped array (opened once per process)."""
        if self._array is None:
            self._array = np.load(self.path, mmap_mode="r")
        return self._array

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        return self.array[key]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.array, dtype=dtype)

    def __getstate__(self):
        return {"path": self.path, "shape": self.shape, "dtype": self.dtype}

    def __setstate__(self, state):
        self.path, self.shape, self.dtype = state["path"], state["shape"], state["dtype"]
        self._array = None


class ArrayStore:
    """A scratch folder of ``.npy`` arrays, emptied when created and removed by :meth:`remove`.

    The folder carries a marker file; an existing folder with it (left by a killed run) is
    replaced, anything else of that name is refused (:meth:`check`), never deleted.

    Parameters
    ----------
    folder : path
        Created.

    Raises
    ------
    ChipsrInputError
        ``folder`` exists and is not a chipsr scratch folder.
    """

    MARKER = ".chipsr-scratch"

    def __init__(self, folder: str | os.PathLike):
        self.folder = self.check(folder)
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)
        (self.folder / self.MARKER).touch()

    @classmethod
    def check(cls, folder: str | os.PathLike) -> Path:
        """``folder`` as a Path, when it is free or an earlier scratch folder (safe to replace).

        Raises
        ------
        ChipsrInputError
            It exists and is not one (a file, or a folder without the marker): naming the path.
        """
        from chipsr.errors import ChipsrInputError

        folder = Path(folder)
        if folder.exists() and not (folder.is_dir() and (folder / cls.MARKER).is_file()):
            raise ChipsrInputError(f"{folder}: exists and is not a chipsr scratch folder (it would be replaced); "
                                   f"move it or choose another output path")
        return folder

    def create(self, name: str, shape: tuple[int, ...], dtype=np.float32) -> np.memmap:
        """A writable, zero-filled memory-mapped array ``<folder>/<name>.npy`` of this shape."""
        return np.lib.format.open_memmap(self.folder / f"{name}.npy", mode="w+", dtype=dtype, shape=shape)

    def open(self, name: str) -> LazyArray:
        """The array ``name``, read-only and lazily mapped (:class:`LazyArray`)."""
        return LazyArray(self.folder / f"{name}.npy")

    def remove(self) -> None:
        """Delete the folder and everything in it."""
        shutil.rmtree(self.folder, ignore_errors=True)
