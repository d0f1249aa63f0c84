"""Sliding windows of one split of a library as torch tensors (training and evaluation).

The module imports no torch (the data layer is torch-free): :meth:`WindowDataset.batch` imports
it when a batch is made. torch's DataLoader takes any object with ``__len__`` and
``__getitem__`` (and uses ``__getitems__`` with a batch sampler).
"""

from __future__ import annotations

import numpy as np

from edge_shm.data.windows import gather, window_index, window_starts
from edge_shm.errors import UserError


class WindowDataset:
    """Windows of one split of a library, in memory or read lazily from its file.

    Item ``i`` is ``(inputs, targets)`` with inputs (n_in, 1, H, W) and targets (n_out, 1, H, W),
    float32. Defaults come from the library (its ``window_in``, ``window_out``, ``window_skip``):
    800 crack samples of 8 frames give 4,000 windows, 10 Turing samples of 68 frames give 480.
    With a lazy library (``read_library(path, lazy=True)``) each window is read from the file
    when asked for, so memory is bounded by the batch; the windows are the same either way.
    """

    def __init__(
        self,
        lib,
        split: str = "train",
        n_in: int | None = None,
        n_out: int | None = None,
        stride: int = 1,
    ):
        self.n_in = n_in or lib.window_in
        self.n_out = lib.window_out if n_out is None else n_out
        self.samples = lib.indices(split)
        if len(self.samples) == 0:
            raise UserError(f"{lib.path}: the library has no {split} samples")
        self.lazy, self.frames = lib.lazy, lib.frames  # windows index it: no copy of the split
        starts = window_starts(lib.frames.shape[1], self.n_in, self.n_out, lib.window_skip, stride)
        self.index = window_index(len(self.samples), starts)

    def __len__(self) -> int:
        return len(self.index)

    def windows(self, idx) -> np.ndarray:
        """Windows ``idx`` as (B, n_in + n_out, H, W) float32."""
        rows = self.index[np.asarray(idx)].reshape(-1, 2)
        rows = np.stack([self.samples[rows[:, 0]], rows[:, 1]], axis=1)  # library sample, start
        length = self.n_in + self.n_out
        if not self.lazy:
            return gather(self.frames, rows, length)
        return np.stack([self.frames.window(s, t, length) for s, t in rows])

    def batch(self, idx, device=None):
        """Windows ``idx`` at once as torch tensors: inputs (B, n_in, 1, H, W), targets
        (B, n_out, 1, H, W)."""
        import torch

        w = torch.from_numpy(np.ascontiguousarray(self.windows(idx))).unsqueeze(2)
        if device is not None:
            w = w.to(device)
        return w[:, : self.n_in], w[:, self.n_in :]

    def __getitems__(self, idx):
        """A whole batch in one call (torch's DataLoader uses this with a batch sampler)."""
        return self.batch(idx)

    def __getitem__(self, i: int):
        x, y = self.batch([i])
        return x[0], y[0]


DATA_MODES = ("auto", "memory", "lazy")


def open_for_training(path, mode: str = "auto"):
    """(library, note): the library with its frames in memory or lazy (``mode``), and a line
    saying why when ``auto`` chose lazy (else None).

    ``auto`` reads the frames into memory when they take at most a quarter of this machine's
    memory divided by the processes torchrun started on it (each holds its own copy)."""
    import os

    from edge_shm.data.generators import memory_bytes
    from edge_shm.data.library import read_library

    if mode not in DATA_MODES:
        raise UserError(f"unknown --data {mode!r}; choose auto, memory or lazy")
    lib = read_library(path, lazy=True)
    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    budget = memory_bytes() // 4 // local
    if mode == "lazy" or (mode == "auto" and lib.frames.nbytes > budget):
        why = None
        if mode == "auto":
            why = (
                f"the library's frames take {lib.frames.nbytes / 1024**3:.2f} GiB, more than "
                f"{budget / 1024**3:.2f} GiB (a quarter of memory"
                + (f" / {local} processes" if local > 1 else "")
                + f"): windows are read from {path} as needed"
            )
        return lib, why
    return read_library(path), None


def as_batch(batch):
    """DataLoader ``collate_fn``: :meth:`WindowDataset.__getitems__` already made the batch."""
    return batch
