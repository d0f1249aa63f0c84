"""Crack frames from files, for the encoder, and the crack-vector JSON document it writes."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from edge_shm.data.frames import IMAGE_SUFFIXES, check_frames, load_frames
from edge_shm.errors import UserError
from edge_shm.vector.geometry import MIN_BRANCH_PX, CrackGeometry
from edge_shm.vector.measures import measures

VECTORS_FORMAT = "edge-shm-crack-vectors"
VECTORS_FORMAT_VERSION = 1
DEFAULT_PIXEL_MM = 0.075  # mm; frames other than a library's do not state their pixel size
FRAME_MEASURES = (
    "main_length_mm",
    "total_length_mm",
    "mouth_mm",
    "tip_mm",
    "nodes_count",
    "vector_bytes_B",
)


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


def vectors_document(
    source: str,
    shape: tuple[int, ...],
    pixel_mm: float,
    settings: dict,
    summary: dict,
    geometries: list[CrackGeometry],
) -> dict:
    """The crack-vector JSON document (format ``edge-shm-crack-vectors`` 1).

    Parameters
    ----------
    source : the encoded file or folder, as given.
    shape : shape of the encoded stack (..., H, W), frames in C order.
    pixel_mm : pixel size, mm.
    settings : the :func:`~edge_shm.vector.encode_stack` keywords ``threshold`` (1),
        ``min_size`` (px), ``tolerance`` (px) and ``gap_px`` (px).
    summary : :func:`~edge_shm.vector.summarize` of the stack.
    geometries : one per frame, in C order; each entry holds the geometry and its
        :data:`FRAME_MEASURES` (lengths and positions in mm, counts, bytes).
    """
    return {
        "format": VECTORS_FORMAT,
        "format_version": VECTORS_FORMAT_VERSION,
        "source": source,
        "leading_shape": list(shape[:-2]),
        "frame_shape_px": list(shape[-2:]),
        "pixel_size_mm": pixel_mm,
        "settings": {
            "threshold_1": settings["threshold"],
            "min_size_px": settings["min_size"],
            "tolerance_px": settings["tolerance"],
            "min_branch_px": MIN_BRANCH_PX,
            "gap_px": settings["gap_px"],
        },
        "summary": summary,
        "frames": [_frame_entry(g) for g in geometries],
    }


def _frame_entry(g: CrackGeometry) -> dict:
    m = measures(g)
    return {**g.to_dict(), "measures": {k: m[k] for k in FRAME_MEASURES}}


def is_vectors_file(path: Path) -> bool:
    """True for an earlier crack-vector JSON document (the format name in its first 256 B)."""
    try:
        with open(path, "rb") as f:
            return VECTORS_FORMAT.encode() in f.read(256)
    except OSError:
        return False
