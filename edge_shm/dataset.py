"""Sliding windows over a library: the paper's 3 -> 1 (cracks) and 10 -> 10 (Turing) tasks."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from edge_shm.errors import UserError


def window_starts(n_frames: int, n_in: int, n_out: int, skip: int = 0, stride: int = 1):
    """First frame of every window of ``n_in + n_out`` frames, after ``skip`` frames."""
    last = n_frames - (n_in + n_out)
    if last < skip:
        raise UserError(
            f"samples of {n_frames} frames are too short for {n_in}-in/{n_out}-out windows"
        )
    return np.arange(skip, last + 1, stride)


class WindowDataset(Dataset):
    """Windows of one split of a library.

    Item ``i`` is ``(inputs, targets)`` with inputs (n_in, 1, H, W) and targets (n_out, 1, H, W),
    float32. Defaults come from the library (its ``window_in``, ``window_out``, ``window_skip``):
    800 crack samples of 8 frames give 4,000 windows, 10 Turing samples of 68 frames give 480.
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
        self.n_out = n_out or lib.window_out
        self.samples = lib.indices(split)
        self.frames = torch.from_numpy(lib.frames[self.samples])
        starts = window_starts(lib.frames.shape[1], self.n_in, self.n_out, lib.window_skip, stride)
        s, t = np.meshgrid(np.arange(len(self.samples)), starts, indexing="ij")
        self.index = np.stack([s.ravel(), t.ravel()], axis=1)

    def __len__(self) -> int:
        return len(self.index)

    def batch(self, idx) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows ``idx`` at once: inputs (B, n_in, 1, H, W), targets (B, n_out, 1, H, W)."""
        s, t = self.index[np.asarray(idx)].T
        span = np.arange(self.n_in + self.n_out)
        w = self.frames[torch.from_numpy(s)[:, None], torch.from_numpy(t[:, None] + span)]
        w = w.unsqueeze(2)
        return w[:, : self.n_in], w[:, self.n_in :]

    def __getitem__(self, i: int):
        x, y = self.batch([i])
        return x[0], y[0]
