"""Crack frames from files, for the encoder."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from edge_shm.data.frames import IMAGE_SUFFIXES, check_frames, load_frames
from edge_shm.errors import UserError


def load_crack_frames(src) -> tuple[np.ndarray, float | None]:
    """Frames (..., H, W) float32 in [0, 1] and the pixel size (mm, None unless a library).

    Accepts one image (H, W) (PNG, TIFF, JPEG, BMP, GIF; a multi-page TIFF is a sequence, one
    page per frame), a folder of images (T, H, W, name order), a folder of sample sub-folders
    (N, T, H, W), a .npy array (any leading dimensions) or a library .h5 (N, T, H, W).
    """
    from edge_shm.data.library import read_library

    src = Path(src)
    if not src.exists():
        raise UserError(f"{src}: no such file or folder")
    pixel_mm = None
    if src.is_file() and (src.suffix.lower() in {".h5", ".hdf5"} or h5py.is_hdf5(src)):
        lib = read_library(src, load_physics=False)
        frames, pixel_mm = lib.frames, lib.pixel_mm
    elif src.is_dir() or src.suffix.lower() in IMAGE_SUFFIXES | {".npy"}:
        frames = load_frames(src)
    else:
        raise UserError(
            f"{src}: not an image (PNG, TIFF, JPEG, BMP, GIF), .npy array, folder or .h5"
        )
    return check_frames(frames, f"{src}: frames", ndim=None), pixel_mm
