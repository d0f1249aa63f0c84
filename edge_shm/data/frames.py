"""Frames from files, and the one place where frame arrays are validated (torch-free).

Frames are intensities in [0, 1] (float32), crack or pattern bright, with the shapes

- a frame: (H, W), rows x columns;
- a sequence: (T, H, W);
- a stack of sequences: (N, T, H, W).

Readers accept PNG, TIFF, JPEG, BMP and GIF images (multi-page TIFFs and multi-frame GIFs are
sequences, one page per frame), folders of images (natural name order: ``2.png`` before
``11.png``), folders of sample sub-folders, and ``.npy`` arrays (never pickled; the header is
checked against the file size before anything is allocated).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from edge_shm.data.images import (  # re-exported: the image readers' old home
    IMAGE_FORMATS,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    check_input_file,
    image_sizes,
    read_image,
)
from edge_shm.errors import UserError

__all__ = ["IMAGE_FORMATS", "MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "check_input_file",
           "image_sizes", "read_image"]  # fmt: skip
IMAGE_SUFFIXES = {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".gif"}
NPY_MAGIC = b"\x93NUMPY"
MAX_ARRAY_BYTES = 8 * 1024**3  # refuse arrays larger than this before reading them


def check_frames(frames, what: str = "frames", ndim: int = 4) -> np.ndarray:
    """Validate a frame array and return it as float32.

    Parameters
    ----------
    frames : array of ``ndim`` dimensions, (N, T, H, W) by default; (..., H, W) for ``ndim=None``.
    what : how to name the array in a message.
    ndim : the number of dimensions required, or None for "at least 2".

    Raises
    ------
    UserError : wrong number of dimensions, empty, not real numbers, NaN or infinite values,
        values outside [0, 1].
    """
    frames = np.asarray(frames)
    names = {2: "(H, W)", 3: "(T, H, W)", 4: "(N, T, H, W)"}
    if ndim is not None and frames.ndim != ndim:
        raise UserError(
            f"{what} must have {ndim} dimensions {names.get(ndim, '')}, got shape {frames.shape}"
        )
    if frames.ndim < 2:
        raise UserError(f"{what} need at least 2 dimensions (rows, cols), got {frames.shape}")
    if 0 in frames.shape:
        raise UserError(f"{what} are empty: shape {frames.shape}")
    if frames.dtype != bool and not (
        np.issubdtype(frames.dtype, np.integer) or np.issubdtype(frames.dtype, np.floating)
    ):
        raise UserError(f"{what} must be real numbers, got dtype {frames.dtype}")
    frames = frames.astype(np.float32, copy=False)
    if not np.all(np.isfinite(frames)):
        raise UserError(f"{what} contain NaN or infinite values")
    lo, hi = float(frames.min()), float(frames.max())
    if lo < 0 or hi > 1:
        raise UserError(f"{what} must lie in [0, 1], got [{lo:.3g}, {hi:.3g}]")
    return frames


def check_frame_shape(frames: np.ndarray, shape, what: str = "the model") -> None:
    """Refuse frames whose (H, W) differ from ``shape``, naming both sizes in px."""
    got, want = tuple(np.shape(frames)[-2:]), tuple(int(s) for s in shape)
    if got != want:
        raise UserError(
            f"frames are {got[0]}x{got[1]} px but {what} expects {want[0]}x{want[1]} px"
        )


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """A ``.npy`` array, checked before it is read: a regular file, magic, header (no negative
    dimension), size against the file."""
    path = Path(path)
    check_input_file(path, MAX_ARRAY_BYTES + (1 << 20), ".npy array")
    try:
        with open(path, "rb") as f:
            magic = f.read(len(NPY_MAGIC))
    except OSError as e:
        raise UserError(f"{path}: not readable ({e.strerror})") from None
    if magic != NPY_MAGIC:
        raise UserError(f"{path}: not a .npy array (no NUMPY header)")
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read(f)
            offset = f.tell()
    except (OSError, ValueError, SyntaxError) as e:
        raise UserError(f"{path}: unreadable .npy header ({e})") from None
    if dtype.hasobject:
        raise UserError(f"{path}: holds Python objects; only numeric arrays are read")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise UserError(f"{path}: its header claims the shape {shape}, with a negative size")
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if need > MAX_ARRAY_BYTES:
        raise UserError(f"{path}: its header claims {need / 1024**3:,.1f} GiB; refusing to read it")
    if path.stat().st_size - offset < need:
        raise UserError(f"{path}: truncated (the header claims {need:,} B of data)")
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise UserError(f"{path}: unreadable .npy array ({e})") from None
    return np.array(arr)


_DIGITS = re.compile(r"([0-9]+)")


def natural_key(name: str) -> tuple:
    """A sort key for file names as people read them: runs of digits as numbers (``frame2``
    before ``frame11``, ``1.jpg`` ... ``12.jpg``), letters regardless of case; names that are
    equal so (``a01``, ``A1``) in plain string order."""
    parts = _DIGITS.split(name.casefold())  # text, digits, text, ...: the types align
    # a number compared by its length without leading zeros, then its digits: no int() limit
    return tuple(
        p if i % 2 == 0 else (len(p.lstrip("0")), p.lstrip("0")) for i, p in enumerate(parts)
    ), name


SIDECARS = {".json", ".txt", ".md", ".csv"}  # notes a camera folder may hold beside images


def image_files(folder: Path, sidecars: bool = False) -> list[Path]:
    """The images of ``folder`` in natural name order (:func:`natural_key`); dot files are
    skipped (and with ``sidecars``, JSON, text, Markdown and CSV files), anything else that is
    not an image is refused."""
    files = [f for f in folder.iterdir() if not f.name.startswith(".")]
    if sidecars:
        files = [f for f in files if not (f.is_file() and f.suffix.lower() in SIDECARS)]
    files.sort(key=lambda f: natural_key(f.name))
    bad = [f for f in files if not f.is_file() or f.suffix.lower() not in IMAGE_SUFFIXES]
    if bad:
        raise UserError(f"{bad[0]}: not a {IMAGE_FORMATS} image")
    if not files:
        raise UserError(f"{folder}: no images")
    return files


def read_sequence(folder: str | os.PathLike) -> np.ndarray:
    """The images of one folder, in natural name order, as a sequence (T, H, W)."""
    folder = Path(folder)
    frames = []
    for f in image_files(folder):
        img = read_image(f)
        frames.extend(img if img.ndim == 3 else [img])
    shapes = sorted({im.shape for im in frames})
    if len(shapes) > 1:
        raise UserError(f"{folder}: mixed image sizes {shapes}")
    return np.stack(frames)


def load_image_tree(src: str | os.PathLike) -> np.ndarray:
    """Frames (N, T, H, W) from one sub-folder of images per sample."""
    src = Path(src)
    subdirs = sorted(d for d in src.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not subdirs:
        raise UserError(f"{src}: no sample sub-folders (one folder of frames per sample)")
    samples = [read_sequence(d) for d in subdirs]
    shapes = sorted({s.shape[1:] for s in samples})
    if len(shapes) > 1:
        raise UserError(f"{src}: mixed image sizes {shapes}")
    lengths = sorted({len(s) for s in samples})
    if len(lengths) > 1:
        raise UserError(f"{src}: samples have different numbers of frames {lengths}")
    return np.stack(samples)


def load_frames(src: str | os.PathLike) -> np.ndarray:
    """Frames from a ``.npy`` array, an image, a folder of images or a folder of sample folders.

    Returns the raw array: (..., H, W) as stored (unchecked values); call :func:`check_frames`.
    """
    src = Path(src)
    if not src.exists():
        raise UserError(f"{src}: no such file or folder")
    if src.is_dir():
        entries = [p for p in src.iterdir() if not p.name.startswith(".")]
        dirs = [p for p in entries if p.is_dir()]
        if dirs and len(dirs) < len(entries):
            stray = sorted(set(entries) - set(dirs))[0]
            raise UserError(f"{stray}: a file among sample folders (one folder per sample)")
        return load_image_tree(src) if dirs else read_sequence(src)
    if src.suffix.lower() == ".npy":
        return load_npy(src)
    if src.suffix.lower() in IMAGE_SUFFIXES:
        return read_image(src)
    raise UserError(f"{src}: expected a .npy array, a {IMAGE_FORMATS} image or a folder of images")
