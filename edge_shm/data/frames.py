"""Frames from files, and the one place where frame arrays are validated (torch-free).

Frames are intensities in [0, 1] (float32), crack or pattern bright, with the shapes

- a frame: (H, W), rows x columns;
- a sequence: (T, H, W);
- a stack of sequences: (N, T, H, W).

Readers accept PNG and TIFF images (multi-page TIFFs are sequences, one page per frame), folders
of images (name order), folders of sample sub-folders, and ``.npy`` arrays (never pickled; the
header is checked against the file size before anything is allocated).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

IMAGE_SUFFIXES = {".png", ".tif", ".tiff"}
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


def read_image(path: str | os.PathLike) -> np.ndarray:
    """A grey, RGB or RGBA image as float32 intensities: (H, W), or (P, H, W) for a multi-page
    TIFF. Integer images are divided by their type's maximum; colour is converted to grey."""
    from skimage.color import rgb2gray, rgba2rgb

    path = Path(path)
    check_input_file(path, MAX_IMAGE_BYTES, "image")
    try:
        if path.suffix.lower() in (".tif", ".tiff"):
            import tifffile

            with tifffile.TiffFile(path) as tif:
                if sum(int(np.prod(p.shape)) for p in tif.pages) > MAX_IMAGE_PIXELS:
                    raise UserError(f"{path}: more than {MAX_IMAGE_PIXELS:,} pixels in all")
                pages = [_tiff_page(page) for page in tif.pages]
        else:
            from skimage import io

            pages = [io.imread(path)]
    except UserError:
        raise
    except MemoryError:
        raise UserError(f"{path}: too large to decode in this machine's memory") from None
    except Exception as e:  # imageio/tifffile raise many types for broken files
        why = (str(e).strip().splitlines() or [""])[0][:120]
        raise UserError(f"{path}: not a readable image ({type(e).__name__}: {why})") from None
    out = []
    for img in pages:
        img = np.asarray(img)
        if np.iscomplexobj(img):
            raise UserError(f"{path}: complex-valued image")
        if img.ndim == 3 and img.shape[-1] == 4:
            img = rgba2rgb(img)
        if img.ndim == 3 and img.shape[-1] == 3:
            img = rgb2gray(img)
        elif np.issubdtype(img.dtype, np.integer):
            img = img.astype(np.float64) / np.iinfo(img.dtype).max
        if img.ndim != 2:
            raise UserError(f"{path}: expected a 2-D grey or RGB image, got shape {img.shape}")
        out.append(img.astype(np.float32))
    if len({im.shape for im in out}) > 1:
        raise UserError(f"{path}: pages of different sizes")
    return out[0] if len(out) == 1 else np.stack(out)


MAX_IMAGE_BYTES = 1024**3
MAX_IMAGE_PIXELS = 64 * 1024**2  # per file (all pages), as Pillow's decompression-bomb guard


def check_input_file(path: Path, max_bytes: int, what: str) -> None:
    """Refuse what is not a regular file (a FIFO would block, a device never end) or is
    larger than ``max_bytes``, before anything reads it; symbolic links are followed only to
    regular files."""
    import stat

    try:
        st = path.stat()
    except OSError as e:
        raise UserError(f"{path}: cannot be read ({e.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise UserError(f"{path}: not a regular file; a {what} must be one")
    if st.st_size > max_bytes:
        raise UserError(f"{path}: {st.st_size:,} B, more than a {what} may be ({max_bytes:,} B)")


def _tiff_page(page) -> np.ndarray:
    """One TIFF page as (H, W) or (H, W, C): planar colour pages are moved to channels last."""
    img = page.asarray()
    if img.ndim == 3 and int(page.planarconfig) == 2 and img.shape[0] in (3, 4):
        img = np.moveaxis(img, 0, -1)
    return img


def image_files(folder: Path) -> list[Path]:
    files = sorted(f for f in folder.iterdir() if not f.name.startswith("."))
    bad = [f for f in files if not f.is_file() or f.suffix.lower() not in IMAGE_SUFFIXES]
    if bad:
        raise UserError(f"{bad[0]}: not a PNG or TIFF image")
    if not files:
        raise UserError(f"{folder}: no images")
    return files


def read_sequence(folder: str | os.PathLike) -> np.ndarray:
    """The images of one folder, in name order, as a sequence (T, H, W)."""
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
    raise UserError(f"{src}: expected a .npy array, a PNG/TIFF image or a folder of images")


def load_stack(src: str | os.PathLike) -> np.ndarray:
    """Sequences (N, T, H, W) float32 from any source of :func:`load_frames`, or a library's
    test split; (T, H, W) and single images become one sequence."""
    from edge_shm.data.library import is_library, read_library

    if Path(src).is_file() and is_library(src):
        return read_library(src, load_physics=False).split_frames("test")
    arr = load_frames(src)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        arr = arr[None]
    return check_frames(arr, f"{src}")
