"""Images from files: PNG, TIFF, JPEG, BMP and GIF as float32 intensities in [0, 1].

Every reader refuses what is not a regular file of bounded size, and images of more pixels
than :data:`MAX_IMAGE_PIXELS` before decoding them (a compressed image may expand a thousand
times). A multi-page TIFF or a multi-frame GIF is a sequence (P, H, W).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError

IMAGE_FORMATS = "PNG, TIFF, JPEG, BMP or GIF"  # as messages name the accepted images


def read_image(path: str | os.PathLike, channel: str = "luminance") -> np.ndarray:
    """An image file as float32 intensities: integers divided by their type's maximum (so in
    [0, 1]), floats (a TIFF's) as stored.

    Parameters
    ----------
    path : a PNG, TIFF, JPEG, BMP or GIF file. A ``.tif``/``.tiff`` is read by tifffile, any
        other by Pillow from its content (PNG, JPEG, BMP or GIF; the first frame of an animated
        PNG or of a multi-picture JPEG).
    channel : ``"luminance"`` (colour to grey, ``skimage.color.rgb2gray``), ``"r"``, ``"g"`` or
        ``"b"`` (that colour channel; a grey image is its own every channel) or ``"rgb"`` (all
        three; a grey image repeated in each).

    Returns
    -------
    (H, W) float32, or (P, H, W) for a multi-page TIFF or a multi-frame GIF (one per page or
    frame); (H, W, 3) or (P, H, W, 3) for ``channel="rgb"``. RGBA and grey + alpha are composited
    on white, a palette image is its colours, a 1-bit image is 0 or 1. EXIF orientation is not
    applied (rows and columns as stored, as the header's size).

    Raises
    ------
    UserError : not a regular file, more than ``MAX_IMAGE_BYTES``, more than
        ``MAX_IMAGE_PIXELS`` pixels in all pages (from the header, before decoding), unreadable,
        neither grey nor RGB, pages of different sizes, an unknown ``channel``.
    """
    if channel not in CHANNELS:
        raise UserError(f"the image channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    path = Path(path)
    check_input_file(path, MAX_IMAGE_BYTES, "image")

    def page(img) -> np.ndarray:
        return _channel(np.asarray(img), channel, path)

    out = _decoding(path, lambda: (_tiff_pages if _is_tiff(path) else _pil_pages)(path, page))
    if len({im.shape for im in out}) > 1:
        raise UserError(f"{path}: pages of different sizes")
    return out[0] if len(out) == 1 else np.stack(out)


def image_sizes(path: str | os.PathLike) -> list[tuple[int, int]]:
    """(rows, columns) of every page or frame of an image file, from its header; nothing is
    decoded (a TIFF's page directory is read, a GIF scanned for its frames)."""
    path = Path(path)
    check_input_file(path, MAX_IMAGE_BYTES, "image")

    def sizes():
        if _is_tiff(path):
            import tifffile

            with tifffile.TiffFile(path) as tif:
                return [(int(p.imagelength), int(p.imagewidth)) for p in tif.pages]
        with _pil_open(path) as im:
            return [(im.height, im.width)] * _pil_frames(im)

    return _decoding(path, sizes)


CHANNELS = ("luminance", "r", "g", "b", "rgb")
MAX_IMAGE_BYTES = 1024**3
MAX_IMAGE_PIXELS = 64 * 1024**2  # per file (all pages), below Pillow's own guard (89 M px)
_PIL_FORMATS = ("PNG", "JPEG", "BMP", "GIF")  # what Pillow may parse: no other of its plugins
# Pillow modes -> the mode read, as imageio read PNGs ("P": its palette's, RGB or RGBA; "I": a
# 16-bit grey PNG); the others are plain arrays already: 1 (bool), L, LA, RGB, RGBA, I;16, F
_PIL_CONVERT = {"I": "I;16", "PA": "RGBA", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB"}
_PIL_CONVERT |= {"CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}


def _is_tiff(path: Path) -> bool:
    return path.suffix.lower() in (".tif", ".tiff")


def _decoding(path: Path, read):
    """``read()``, its failures as one line (the decoders raise many types for broken files)."""
    try:
        return read()
    except UserError:
        raise
    except MemoryError:
        raise UserError(f"{path}: too large to decode in this machine's memory") from None
    except Exception as e:  # noqa: BLE001
        why = (str(e).strip().splitlines() or [""])[0][:120]
        raise UserError(f"{path}: not a readable image ({type(e).__name__}: {why})") from None


def _pixel_guard(path: Path, pixels: int) -> None:
    if pixels > MAX_IMAGE_PIXELS:
        raise UserError(
            f"{path}: {pixels:,} pixels in all, more than {MAX_IMAGE_PIXELS:,}; not decoded"
        )


def _tiff_pages(path: Path, page) -> list[np.ndarray]:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        _pixel_guard(path, sum(int(np.prod(p.shape)) for p in tif.pages))
        return [page(_tiff_page(p)) for p in tif.pages]


@contextlib.contextmanager
def _pil_open(path: Path):
    """Pillow's image, header read, nothing decoded; its decompression-bomb error (and warning,
    made an error) become the one-line refusal."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=_PIL_FORMATS) as im:
                yield im
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UserError(
                f"{path}: more than {MAX_IMAGE_PIXELS:,} pixels in all; not decoded"
            ) from None


def _pil_frames(im) -> int:
    """How many frames of a Pillow image are read: a GIF's all, one of any other format."""
    return int(getattr(im, "n_frames", 1)) if im.format == "GIF" else 1


def _pil_pages(path: Path, page) -> list[np.ndarray]:
    out = []
    with _pil_open(path) as im:
        n = _pil_frames(im)
        _pixel_guard(path, im.width * im.height * n)
        for k in range(n):
            im.seek(k)
            mode = im.palette.mode if im.mode == "P" else _PIL_CONVERT.get(im.mode)
            out.append(page(im.convert(mode) if mode else im))
    return out


def _scaled(img: np.ndarray) -> np.ndarray:
    """Integers divided by their type's maximum; booleans and floats as they are."""
    if np.issubdtype(img.dtype, np.integer):
        return img.astype(np.float64) / np.iinfo(img.dtype).max
    return img


def _channel(img: np.ndarray, channel: str, path: Path) -> np.ndarray:
    """One decoded page, (H, W) grey or (H, W, C) with C = 2 (grey, alpha), 3 (RGB) or 4 (RGBA),
    as float32: (H, W) for a channel, (H, W, 3) for ``"rgb"``."""
    from skimage.color import rgb2gray, rgba2rgb
    from skimage.util import img_as_float

    if np.iscomplexobj(img):
        raise UserError(f"{path}: complex-valued image")
    if img.ndim == 3 and img.shape[-1] == 4:
        img = rgba2rgb(img)
    elif img.ndim == 3 and img.shape[-1] == 2:  # grey + alpha, on white as rgba2rgb does
        grey, alpha = _scaled(img[..., 0]), _scaled(img[..., 1])
        img = np.clip(1 - alpha + alpha * grey, 0, 1)
    if img.ndim == 3 and img.shape[-1] == 3:
        if channel == "luminance":
            return rgb2gray(img).astype(np.float32)
        rgb = img_as_float(img)
        return (rgb if channel == "rgb" else rgb[..., "rgb".index(channel)]).astype(np.float32)
    if img.ndim != 2:
        raise UserError(f"{path}: expected a 2-D grey or RGB image, got shape {img.shape}")
    grey = _scaled(img).astype(np.float32)
    return np.repeat(grey[..., None], 3, axis=-1) if channel == "rgb" else grey


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
