"""Experimental image sequences as a library (kind ``imported``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from edge_shm.data.frames import check_frames, load_frames
from edge_shm.data.library import paper_split, write_library
from edge_shm.errors import UserError


def import_library(
    src, path, pixel_mm: float, n_test: int | None = None, window: tuple[int, int, int] = (3, 1, 0)
) -> Path:
    """Import frames (N, T, H, W) from a ``.npy`` array or one folder of images per sample.

    Parameters
    ----------
    src : ``.npy`` (N, T, H, W) in [0, 1], or a folder of sample folders of PNG/TIFF images.
    path : library file to write.
    pixel_mm : pixel size, mm.
    n_test : test samples (the last ones); default the paper's proportion (108 of 908).
    window : default windows (in, out, skip), 3 -> 1 as for the crack library.
    """
    if not (math.isfinite(pixel_mm) and pixel_mm > 0):
        raise UserError(f"--pixel-mm must be a positive number, got {pixel_mm}")
    raw = load_frames(src)
    if raw.ndim != 4:
        raise UserError(
            f"{src}: import needs samples (N, T, H, W): a .npy of 4 dimensions or one sub-folder "
            f"of frames per sample; got shape {raw.shape}"
        )
    frames = check_frames(raw, f"{src}")
    n = frames.shape[0]
    if frames.shape[1] < sum(window):
        raise UserError(
            f"{src}: samples of {frames.shape[1]} frames are too short for {window[0]}-in/"
            f"{window[1]}-out windows"
        )
    if n_test is None:
        split = paper_split(n, 108, 908)
    else:
        if not 0 <= n_test < n:
            raise UserError(f"--n-test must lie in [0, {n - 1}], got {n_test}")
        split = np.zeros(n, dtype=np.int8)
        split[n - n_test :] = 1
    return write_library(
        path,
        frames,
        split,
        kind="imported",
        generator="edge_shm.library.import",
        seed=None,
        pixel_mm=pixel_mm,
        params={"source": str(Path(src).name)},
        units={"source": "path"},
        window=window,
    )
