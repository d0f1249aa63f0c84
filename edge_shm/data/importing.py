"""Experimental image sequences as a library (kind ``imported``).

What can be refused is refused before the data are read: a ``.npy`` header (four non-negative
dimensions) is read before its data (too short samples are named after bad values), and in
an image tree the frames of every sample are counted and sized from the image headers (PNG:
one frame; TIFF: one per page, read from its page directory) before the first image is
decoded. Image samples are then decoded one at a time into one preallocated array.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_shm.data.frames import (
    MAX_ARRAY_BYTES,
    check_frames,
    check_input_file,
    image_files,
    image_sizes,
    load_frames,
    read_sequence,
)
from edge_shm.data.library import paper_split, write_library
from edge_shm.errors import UserError


def import_library(
    src: str | Path,
    path: str | Path,
    pixel_mm: float,
    n_test: int | None = None,
    window: tuple[int, int, int] = (3, 1, 0),
    camera: Callable[[], object] | None = None,
) -> Path:
    """Import frames (N, T, H, W) from a ``.npy`` array or one folder of images per sample.

    Parameters
    ----------
    src : ``.npy`` (N, T, H, W) in [0, 1], or a folder of sample folders of PNG/TIFF images.
    path : library file to write.
    pixel_mm : pixel size, mm.
    n_test : test samples (the last ones); default the paper's proportion (108 of 908).
    window : default windows (in, out, skip), frames; 3 -> 1 as for the crack library.
    camera : for image folders, ``camera()`` returning a fresh view (the on-site
        ``CameraView``: ``channel`` and ``read(image, name) -> (crack, _)``): each sample is
        read as the on-site loop reads a camera (channel, registration, fixed features, mouth
        on the left) and stored as crack maps; None stores the grey images as they are.

    Returns the library file written (atomically), frames stored as float32 (N, T, H, W).
    """
    if not (math.isfinite(pixel_mm) and pixel_mm > 0):
        raise UserError(f"--pixel-mm must be a positive number, got {pixel_mm}")
    src = Path(src)
    if not src.exists():
        raise UserError(f"{src}: no such file or folder")
    if camera is not None and not src.is_dir():
        raise UserError(f"{src}: --camera reads folders of images, not an array")
    if src.is_dir():
        frames = _image_tree(src, window, camera)
    else:
        if src.suffix.lower() == ".npy":
            _check_length(src, _npy_shape(src), (0, 0, 0))  # dimensions only: values first
        try:
            raw = load_frames(src)
        except (ValueError, EOFError, OSError) as e:
            raise UserError(f"{src}: unreadable array ({type(e).__name__}: {e})") from None
        _check_length(src, raw.shape, (0, 0, 0))
        frames = check_frames(raw, f"{src}")
        _check_length(src, frames.shape, window)
    n = frames.shape[0]
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
        params={"source": str(src.name)},
        units={"source": "path"},
        window=window,
    )


def _check_length(src, shape, window) -> None:
    """Refuse anything but (N, T, H, W) with T long enough for the windows."""
    if len(shape) != 4:
        raise UserError(
            f"{src}: import needs samples (N, T, H, W): a .npy of 4 dimensions or one sub-folder "
            f"of frames per sample; got shape {tuple(shape)}"
        )
    if min(shape) < 1:
        raise UserError(f"{src}: frames are empty or of negative size: shape {tuple(shape)}")
    if shape[1] < sum(window):
        raise UserError(
            f"{src}: samples of {shape[1]} frames are too short for {window[0]}-in/"
            f"{window[1]}-out windows"
        )


def _npy_shape(src: Path) -> tuple:
    """The shape in a ``.npy`` header, read without the data (a regular file only)."""
    check_input_file(src, MAX_ARRAY_BYTES + 1024**2, ".npy array")
    try:
        with open(src, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, _ = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, _ = np.lib.format.read_array_header_2_0(f)
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        raise UserError(f"{src}: not a readable .npy array ({e})") from None
    return tuple(shape)


def _camera_sequence(folder: Path, view) -> np.ndarray:
    """(T, H, W) crack maps of one sample folder read through a fresh camera view."""
    from edge_shm.data.frames import read_image

    colour = view.channel != "luminance"
    out = []
    for f in image_files(folder):
        img = read_image(f, channel="rgb") if colour else read_image(f)
        crack, _ = view.read(img, str(f))
        out.append(crack)
    return np.stack(out).astype(np.float32)


def _image_tree(src: Path, window, camera=None) -> np.ndarray:
    """(N, T, H, W) float32 from one sub-folder of images per sample: every sample's frames
    counted and sized from the headers first, then decoded sample by sample."""
    entries = [p for p in src.iterdir() if not p.name.startswith(".")]
    dirs = sorted(p for p in entries if p.is_dir())
    if not dirs:
        raise UserError(
            f"{src}: import needs one sub-folder of frames per sample (N, T, H, W); found none"
        )
    stray = sorted(set(entries) - set(dirs))
    if stray:
        raise UserError(f"{stray[0]}: a file among sample folders (one folder per sample)")
    heads = [[image_sizes(f) for f in image_files(d)] for d in dirs]
    sizes = sorted({hw for sample in heads for file in sample for hw in file})
    if len(sizes) > 1:
        raise UserError(f"{src}: mixed image sizes {sizes} (rows, columns)")
    counts = [sum(len(file) for file in sample) for sample in heads]
    if len(set(counts)) > 1:
        raise UserError(f"{src}: samples have different numbers of frames {sorted(set(counts))}")
    _check_length(src, (len(dirs), counts[0], 1, 1), window)
    frames = None
    for i, d in enumerate(dirs):
        seq = read_sequence(d) if camera is None else _camera_sequence(d, camera())
        seq = check_frames(seq, f"{d}", ndim=3)
        if frames is None:
            frames = _allocate(src, (len(dirs), *seq.shape))
        if seq.shape != frames.shape[1:]:
            raise UserError(
                f"{src}: mixed image sizes: {d.name} holds {seq.shape}, {dirs[0].name} "
                f"{frames.shape[1:]} (frames, rows, columns)"
            )
        frames[i] = seq
    return frames


def _allocate(src: Path, shape: tuple) -> np.ndarray:
    """An empty float32 array for the library, refused when it would take more than half of
    this machine's memory."""
    from edge_shm.data.generators import memory_bytes

    need = 4 * math.prod(shape)
    if need > memory_bytes() // 2:
        raise UserError(
            f"{src}: {shape[0]:,} samples of {shape[1]} x {shape[2]} x {shape[3]} px need "
            f"{need / 1024**3:,.1f} GiB, more than half of this machine's memory"
        )
    return np.empty(shape, dtype=np.float32)
