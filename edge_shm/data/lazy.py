"""Frames read from the library file when asked for: training memory bounded by the batch.

:class:`LazyFrames` stands in for the (N, T, H, W) frame array of a library opened with
``read_library(path, lazy=True)``. It reads through h5py, whose chunk cache holds the few most
recent samples (one chunk per sample), validates every block it returns exactly as the eager
reader validates the whole array, and reopens the file in each process (DataLoader workers).
Torch-free.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import h5py
import numpy as np

from edge_shm.data.frames import check_frames
from edge_shm.errors import UserError

CACHED_SAMPLES = 4


class LazyFrames:
    """The frames dataset of a library file, read block by block.

    Parameters
    ----------
    path : the library file (validated by :func:`edge_shm.data.library.read_library`).
    shape : (N, T, H, W) of its ``frames`` dataset.
    """

    def __init__(self, path, shape: tuple[int, int, int, int]):
        self.path, self.shape = path, tuple(int(s) for s in shape)
        self.dtype, self.ndim = np.dtype(np.float32), 4
        self._file, self._pid = None, None
        self._identity = _identity(path)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def nbytes(self) -> int:
        """Bytes of the whole array in memory (float32)."""
        return 4 * int(np.prod(self.shape))

    def _dataset(self) -> h5py.Dataset:
        if self._file is None or self._pid != os.getpid():
            if _identity(self.path) != self._identity:
                raise UserError(f"{self.path}: the library file was replaced or changed meanwhile")
            chunk = 4 * int(np.prod(self.shape[1:]))
            try:
                self._file = h5py.File(
                    self.path, "r", rdcc_nbytes=CACHED_SAMPLES * chunk + (1 << 20), rdcc_nslots=521
                )
            except OSError as e:
                raise UserError(f"{self.path}: cannot reopen the library ({e})") from None
            self._pid = os.getpid()
        return self._file["frames"]

    def __getitem__(self, key) -> np.ndarray:
        """Any h5py selection (ints, slices, one sorted index list), checked, as float32."""
        try:
            block = np.asarray(self._dataset()[key])
        except (OSError, KeyError, ValueError, TypeError, RuntimeError) as e:
            raise UserError(f"{self.path}: corrupt or unreadable frames ({e})") from None
        return check_frames(block, f"{self.path}: frames", ndim=None) if block.ndim >= 2 else block

    def window(self, sample: int, start: int, length: int) -> np.ndarray:
        """Frames ``start`` to ``start + length - 1`` of ``sample``: (length, H, W) float32."""
        return self[int(sample), int(start) : int(start) + int(length)]

    def __getstate__(self) -> dict:
        return dict(self.__dict__, _file=None, _pid=None)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None


def _identity(path) -> tuple | None:
    """What names one version of a file: device, inode, size, modification time."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def iter_samples(frames, indices=None) -> Iterator[np.ndarray]:
    """Each sample (T, H, W) float32 of an in-memory array or :class:`LazyFrames`, in order."""
    for i in range(len(frames)) if indices is None else indices:
        yield np.ascontiguousarray(frames[int(i)], dtype=np.float32)
