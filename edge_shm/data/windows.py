"""Windows over sequences: the one enumeration used by training, evaluation and profiling.

A window is ``n_in`` consecutive frames in and the ``n_out`` frames after them out (the paper's
3 -> 1 for cracks, 10 -> 10 for Turing patterns). Windows start after ``skip`` frames of each
sample and advance by ``stride`` frames. Torch-free.
"""

from __future__ import annotations

import numpy as np

from edge_shm.errors import UserError


def window_starts(n_frames: int, n_in: int, n_out: int, skip: int = 0, stride: int = 1):
    """First frame of every window of ``n_in + n_out`` frames after ``skip`` frames, (M,) int."""
    if n_in < 1 or n_out < 0 or skip < 0 or stride < 1:
        raise UserError(
            f"windows need n_in >= 1, n_out >= 0, skip >= 0 and stride >= 1; got n_in={n_in}, "
            f"n_out={n_out}, skip={skip}, stride={stride}"
        )
    last = n_frames - (n_in + n_out)
    if last < skip:
        raise UserError(
            f"samples of {n_frames} frames are too short for {n_in}-in/{n_out}-out windows"
            + (f" after {skip} skipped frame(s)" if skip else "")
        )
    return np.arange(skip, last + 1, stride)


def window_index(n_samples: int, starts: np.ndarray) -> np.ndarray:
    """(M, 2) int rows (sample, start frame), samples outer, starts inner."""
    s, t = np.meshgrid(np.arange(n_samples), np.asarray(starts), indexing="ij")
    return np.stack([s.ravel(), t.ravel()], axis=1)


def evenly_spaced(n: int, k: int | None) -> np.ndarray:
    """Indices of at most ``k`` items spread evenly over ``n`` (all of them when k is None)."""
    if k is None or n <= k:
        return np.arange(n)
    if k <= 0:
        raise UserError(f"the number of windows must be a positive integer, got {k}")
    return np.unique(np.linspace(0, n - 1, k).round().astype(int))


def gather(frames: np.ndarray, index: np.ndarray, length: int) -> np.ndarray:
    """Frames (N, T, H, W) and rows (sample, start) -> windows (M, length, H, W)."""
    index = np.asarray(index).reshape(-1, 2)
    span = np.arange(length)
    return frames[index[:, :1], index[:, 1:] + span]


def windows(
    frames: np.ndarray,
    n_in: int,
    n_out: int = 0,
    skip: int = 0,
    max_windows: int | None = None,
) -> np.ndarray:
    """All (or ``max_windows`` evenly spread) windows of ``n_in + n_out`` frames, (M, L, H, W)."""
    starts = window_starts(frames.shape[1], n_in, n_out, skip)
    index = window_index(frames.shape[0], starts)
    return gather(frames, index[evenly_spaced(len(index), max_windows)], n_in + n_out)
