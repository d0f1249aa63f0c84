"""Sequences from any source: a frames file or folder, or a library's test split."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edge_shm.data.frames import check_frames, load_frames
from edge_shm.data.library import is_library, read_library


def load_stack(src: str | os.PathLike) -> np.ndarray:
    """Sequences (N, T, H, W) float32 from any source of :func:`load_frames`, or a library's
    test split; (T, H, W) and single images become one sequence."""
    if Path(src).is_file() and is_library(src):
        return read_library(src, load_physics=False).split_frames("test")
    arr = load_frames(src)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        arr = arr[None]
    return check_frames(arr, f"{src}")
