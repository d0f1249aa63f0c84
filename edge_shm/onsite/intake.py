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

import numpy as np

from edge_shm.errors import UserError
from edge_shm.onsite.camera import CameraView


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
                raise UserError(
                    f"--roi {self.roi}: the model reads frames of any size (a motion network); "
                    "crop the images yourself or leave --roi none"
                )
            return img
        h, w = self.shape
        if self.roi == "resize":
            from skimage.transform import resize

            return resize(img, self.shape, order=1, anti_aliasing=True).astype(np.float32)
        if self.roi == "none":
            if img.shape != self.shape:
                raise UserError(
                    f"{name}: {img.shape[0]} x {img.shape[1]} px, the model takes {h} x {w} px; "
                    "choose --roi center, crop:ROW,COL or resize"
                )
            return img
        origin = self.crop_origin()
        r, c = origin if origin else ((img.shape[0] - h) // 2, (img.shape[1] - w) // 2)
        if r < 0 or c < 0 or r + h > img.shape[0] or c + w > img.shape[1]:
            raise UserError(
                f"{name}: a {h} x {w} px region at row {r}, column {c} does not fit in "
                f"{img.shape[0]} x {img.shape[1]} px"
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
            raise UserError(f"{name}: expected one grey image, got shape {img.shape}")
        if not np.all(np.isfinite(img)):
            raise UserError(f"{name}: contains NaN or infinite values")
        if img.min() < 0 or img.max() > 1:
            raise UserError(f"{name}: intensities outside [0, 1]")
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
            raise UserError(f"{name}: expected a grey or RGB image, got shape {img.shape}")
        if not np.all(np.isfinite(img)) or img.min() < 0 or img.max() > 1:
            raise UserError(f"{name}: intensities not finite or outside [0, 1]")
        if self.shape is not None and self.roi == "none":
            self.region(img[..., 0] if img.ndim == 3 else img, name)  # the size checked first
        crack, info = self.camera.read(img, name)
        self.camera.last = info | {"image_shape": list(img.shape[:2])}
        x = self.region(crack, name)
        return (x > 0.5).astype(np.float32)


def above_background(x: np.ndarray, block: int = 31, k: float = 5.0, floor: float = 0.05):
    """1 where ``x`` exceeds its local (Gaussian, ``block`` px) mean by more than ``k`` robust
    standard deviations (1.4826 MAD) of the difference and by at least ``floor``."""
    from skimage.filters import threshold_local

    r = x - threshold_local(x, block_size=block, method="gaussian")
    sigma = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    return (r > max(k * sigma, floor)).astype(np.float32)


def read_frame(path, intake: Intake) -> np.ndarray:
    """One image file -> one frame (a multi-page TIFF is refused: one file, one frame)."""
    from edge_shm.data.frames import read_image

    colour = intake.camera is not None and intake.camera.channel != "luminance"
    img = read_image(path, channel="rgb") if colour else read_image(path)
    if img.ndim != (3 if colour else 2):
        raise UserError(f"{path}: {img.shape[0]} pages; write one image per frame")
    return intake.frame(img, str(path))
