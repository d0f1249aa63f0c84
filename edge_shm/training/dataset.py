"""Sliding windows of one split of a library as torch tensors (training and evaluation)."""

from __future__ import annotations

import numpy as np
import torch

from edge_shm.data.windows import gather, window_index, window_starts


class WindowDataset:
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
        self.n_out = lib.window_out if n_out is None else n_out
        self.frames = lib.split_frames(split)
        starts = window_starts(self.frames.shape[1], self.n_in, self.n_out, lib.window_skip, stride)
        self.index = window_index(len(self.frames), starts)

    def __len__(self) -> int:
        return len(self.index)

    def batch(self, idx, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows ``idx`` at once: inputs (B, n_in, 1, H, W), targets (B, n_out, 1, H, W)."""
        w = gather(self.frames, self.index[np.asarray(idx)], self.n_in + self.n_out)
        w = torch.from_numpy(np.ascontiguousarray(w)).unsqueeze(2)
        if device is not None:
            w = w.to(device)
        return w[:, : self.n_in], w[:, self.n_in :]

    def __getitem__(self, i: int):
        x, y = self.batch([i])
        return x[0], y[0]
