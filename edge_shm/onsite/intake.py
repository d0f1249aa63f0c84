"""Sensor images -> the model's frames: grey, region of interest, binarised, checked.

Steps, in order (docs/forecast.md):

1. grey intensities in [0, 1] (``data.frames.read_image``: colour to grey, integers scaled);
2. ``crack``: ``bright`` (cracks bright, as the libraries) or ``dark`` (a crack photographed
   dark on a bright surface: inverted, ``1 - x``);
3. region (``roi``): ``none`` (the image must already have the model's size; any other size is
   refused), ``center`` (the centred window of the model's size), ``crop:ROW,COL`` (the window
   whose top-left pixel is ROW, COL) or ``resize`` (the whole image resampled to the model's
   size, anti-aliased; its pixel size scales with it);
4. ``binarize``: ``auto`` (default: crack where the frame stands above its local background,
   a Gaussian-weighted mean over 31 x 31 px (scikit-image ``threshold_local``), by more than
   5 robust standard deviations of that difference and at least 0.05: robust to uneven
   lighting, sensor noise and a crack of a few pixels), ``otsu`` (Otsu's threshold of the
   frame: fine for large cracks, fooled by noise when the crack is small), a number ``t`` in
   (0, 1) (crack where ``x > t``) or ``none`` (a probability map passed through, values kept).
   A frame with one grey level has no crack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.onsite.camera import CameraView, FrameRefused


@dataclass(frozen=True)
class Intake:
    """How images become frames of ``shape`` (rows, cols) at ``pixel_mm`` mm per model pixel;
    ``shape`` None: any size (a motion network), the image kept whole."""

    shape: tuple[int, int] | None
    roi: str = "none"
    binarize: str = "auto"
    crack: str = "bright"
    camera: CameraView | None = field(default=None, compare=False)  # a camera's view

    def __post_init__(self):
        if self.crack not in ("bright", "dark"):
            raise UserError(f"--crack must be bright or dark, not {self.crack!r}")
        self.crop_origin()  # validates roi
        self.threshold()  # validates binarize

    def crop_origin(self) -> tuple[int, int] | None:
        if self.roi in ("none", "center", "resize"):
            return None
        if self.roi.startswith("crop:"):
            try:
                r, c = (int(v) for v in self.roi[5:].split(","))
            except ValueError:
                r = c = -1
            if r >= 0 and c >= 0:
                return r, c
        raise UserError(f"--roi must be none, center, resize or crop:ROW,COL, not {self.roi!r}")

    def threshold(self) -> float | None:
        if self.binarize in ("auto", "otsu", "none"):
            return None
        try:
            t = float(self.binarize)
        except ValueError:
            t = math.nan
        if not 0 < t < 1:
            raise UserError(
                f"--binarize must be auto, otsu, none or a number in (0, 1): {self.binarize}"
            )
        return t

    def scale(self, image_shape: tuple[int, int]) -> float:
        """Image pixels per model pixel along the columns (1 unless ``resize``)."""
        if self.shape is None or self.roi != "resize":
            return 1.0
        return image_shape[1] / self.shape[1]

    def region(self, img: np.ndarray, name: str) -> np.ndarray:
        if self.shape is None:
            if self.roi != "none":
                raise FrameRefused(
                    f"--roi {self.roi}: the model reads frames of any size (a motion network); "
                    "crop the images yourself or leave --roi none",
                    f"--roi {self.roi} does not apply: this model reads the whole image, of any "
                    "size; leave --roi none",
                )
            return img
        (h, w), (ih, iw) = self.shape, img.shape[:2]
        if self.roi == "resize":
            from skimage.transform import resize

            return resize(img, self.shape, order=1, anti_aliasing=True).astype(np.float32)
        if self.roi == "none":
            if img.shape != self.shape:
                raise FrameRefused(
                    f"{name}: {ih} x {iw} px, the model takes {h} x {w} px; "
                    "choose --roi center, crop:ROW,COL or resize",
                    f"the image is {ih} x {iw} px, the model reads {h} x {w} px: give --roi "
                    "center, crop:ROW,COL or resize",
                )
            return img
        origin = self.crop_origin()
        r, c = origin if origin else ((ih - h) // 2, (iw - w) // 2)
        if r < 0 or c < 0 or r + h > ih or c + w > iw:
            why = (
                f"the crack region falls outside the frame: the {h} x {w} px window at row {r}, "
                f"column {c} does not fit in the {ih} x {iw} px image; check --roi "
                "crop:ROW,COL and the notch position"
            )
            if origin is None:  # centred: the image is smaller than the model's frame
                why = (
                    f"the image ({ih} x {iw} px) is smaller than the {h} x {w} px region the "
                    "model reads: check the camera's resolution, or use --roi resize"
                )
            raise FrameRefused(
                f"{name}: a {h} x {w} px region at row {r}, column {c} does not fit in "
                f"{ih} x {iw} px",
                why,
            )
        return img[r : r + h, c : c + w]

    def frame(self, img: np.ndarray, name: str = "frame") -> np.ndarray:
        """(H', W') grey image -> (H, W) float32 frame (binary unless ``binarize`` is none).

        With a :attr:`camera` view, (H', W') grey or (H', W', 3) colour: the camera's reading
        (registered, fixed features removed, the mouth on the left), then the region; what the
        camera did is in ``camera.last``."""
        img = np.asarray(img, np.float32)
        if self.camera is not None:
            return self._camera_frame(img, name)
        if img.ndim != 2:
            raise FrameRefused(
                f"{name}: expected one grey image, got shape {img.shape}", "not one grey image"
            )
        if not np.all(np.isfinite(img)):
            raise FrameRefused(
                f"{name}: contains NaN or infinite values", "the frame holds invalid numbers"
            )
        if img.min() < 0 or img.max() > 1:
            raise FrameRefused(
                f"{name}: intensities outside [0, 1]", "the frame's intensities lie outside 0-1"
            )
        if self.crack == "dark":
            img = 1.0 - img
        x = self.region(img, name)
        if self.binarize == "none":
            return np.ascontiguousarray(x, np.float32)
        if float(x.max()) == float(x.min()):
            return np.zeros(x.shape, np.float32)
        t = self.threshold()
        if self.binarize == "auto":
            return above_background(x)
        if t is None:
            from skimage.filters import threshold_otsu

            t = float(threshold_otsu(x))
        return (x > t).astype(np.float32)

    def _camera_frame(self, img: np.ndarray, name: str) -> np.ndarray:
        if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] != 3):
            raise FrameRefused(
                f"{name}: expected a grey or RGB image, got shape {img.shape}",
                "not a grey or colour (RGB) image",
            )
        if not np.all(np.isfinite(img)) or img.min() < 0 or img.max() > 1:
            raise FrameRefused(
                f"{name}: intensities not finite or outside [0, 1]",
                "the image's intensities are invalid or lie outside 0-1",
            )
        if self.shape is not None and self.roi == "none":
            self._check_turned_size(img.shape[:2], name)  # before any camera work
        crack, info = self.camera.read(img, name)
        self.camera.last = info | {"image_shape": list(img.shape[:2])}
        if info["mouth"] is None and self.shape is not None and self.roi == "none":
            return np.zeros(self.shape, np.float32)  # mouth not decided yet: no crack seen
        x = self.region(crack, name)
        return (x > 0.5).astype(np.float32)

    def _check_turned_size(self, image_shape: tuple[int, int], name: str) -> None:
        """With ``roi`` none, the image turned mouth-left must have the model's size: a crack
        growing from the top or bottom edge turns an H x W image into W x H."""
        ih, iw = image_shape
        turns = {"left": [(ih, iw)], "right": [(ih, iw)], "top": [(iw, ih)], "bottom": [(iw, ih)]}
        if self.shape in turns.get(self.camera.mouth, [(ih, iw), (iw, ih)]):
            return
        h, w = self.shape
        turned = "" if self.camera.mouth in ("left", "right") else (
            f" ({iw} x {ih} px once turned mouth-left)" if self.camera.mouth != "auto" else ""
        )  # fmt: skip
        raise FrameRefused(
            f"{name}: {ih} x {iw} px{turned}, the model takes {h} x {w} px; "
            "choose --roi center, crop:ROW,COL or resize",
            f"the image is {ih} x {iw} px{turned}, the model reads {h} x {w} px: give --roi "
            "center, crop:ROW,COL or resize",
        )


def above_background(x: np.ndarray, block: int = 31, k: float = 5.0, floor: float = 0.05):
    """1 where ``x`` exceeds its local (Gaussian, ``block`` px) mean by more than ``k`` robust
    standard deviations (1.4826 MAD) of the difference and by at least ``floor``."""
    from skimage.filters import threshold_local

    r = x - threshold_local(x, block_size=block, method="gaussian")
    sigma = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    return (r > max(k * sigma, floor)).astype(np.float32)


def read_frame(path, intake: Intake) -> np.ndarray:
    """One image file -> one frame (a multi-page TIFF is refused: one file, one frame).

    Raises
    ------
    FrameRefused : the image cannot be read or used (its ``reason`` in a person's words)."""
    from edge_shm.data.frames import read_image

    colour = intake.camera is not None and intake.camera.channel != "luminance"
    try:
        img = read_image(path, channel="rgb") if colour else read_image(path)
    except UserError as e:
        raise FrameRefused(str(e), unreadable(Path(path), str(e))) from None
    if img.ndim != (3 if colour else 2):
        n = img.shape[0]
        raise FrameRefused(
            f"{path}: {n} pages; write one image per frame",
            f"the file holds {n} pages (a multi-page TIFF or an animated GIF): write one image "
            "per frame",
        )
    return intake.frame(img, str(path))


# What the image readers (edge_shm.data.images) say, by a phrase of their one-line message, in a
# person's words; the first that matches (the message without its path otherwise).
UNREADABLE = (
    ("pixels in all", "the image has too many pixels (over {pixels:,}): lower the resolution"),
    ("memory", "too large to decode in this machine's memory"),
    ("cannot be read (", "the file cannot be opened ({why})"),
    ("not a regular file", "not a regular file (a folder, a pipe or a device)"),
    (" B, more than", "the file is too large (over {size:,} B) to be read as an image"),
    ("truncated", "the image is cut short: still being written, or damaged"),
    ("not a readable image", "not a readable image: the file is damaged or not really {kind}"),
    ("pages of different sizes", "its pages have different sizes: write one image per frame"),
    ("grey or RGB", "not a grey or colour (RGB) image"),
    ("complex-valued", "not a grey or colour (RGB) image"),
)


def unreadable(path: Path, message: str) -> str:
    """Why the image readers could not read ``path`` (their ``message``), in a person's words
    (:data:`UNREADABLE`)."""
    from edge_shm.data.images import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS

    said = message.removeprefix(f"{path}: ")
    facts = {
        "pixels": MAX_IMAGE_PIXELS,
        "size": MAX_IMAGE_BYTES,
        "why": said.partition("(")[2].rstrip(")"),
        "kind": f"a {path.suffix[1:].upper()} image" if path.suffix else "an image",
    }
    for phrase, reason in UNREADABLE:
        if phrase in said:
            return reason.format(**facts)
    return said
