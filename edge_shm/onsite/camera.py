"""Camera frames -> crack frames: channel, polarity, registration, fixed features, threshold and
orientation, decided on the first frame and kept for the whole sequence.

A camera on a rig sees more than the crack: a machined notch, a ruler, scratches, uneven light,
a knock that moves the view. :class:`CameraView` holds what the first frame shows and reads
every later frame against it:

1. one grey channel (``luminance``, ``r``, ``g``, ``b`` or ``auto``: the channel in which thin
   lines stand out most; a crack with a pale halo vanishes in luminance);
2. polarity: the crack made bright (``dark`` cracks inverted);
3. registration: each frame aligned to the first by phase correlation (scikit-image) with the
   crack's pixels masked out, so the fixed features (notch, ruler, texture, light) set the
   shift; a shift is taken only when it raises the frames' correlation; a frame that cannot be
   aligned is skipped with its reason;
4. threshold: the residual above a local (31 px Gaussian) background, with hysteresis
   (scikit-image ``apply_hysteresis_threshold``); the noise level comes from the first frame and
   is kept, so the threshold does not rise as the damage grows;
5. fixed features: wide shapes (a notch, a ruler strip, holes: what survives an opening by a
   disk of radius 3 px) and thin shapes of the first frame that do not start at the mouth
   (scratches, ruler ticks), plus a ``--mask`` image, are never the crack;
6. the crack: the thin component that starts at the mouth edge or at the notch (a wide fixed
   shape touching the mouth edge); the largest if several (the others are counted);
7. orientation: the view turned so that the mouth is on the left, as the libraries grow cracks
   (``auto``: the edge the crack or the notch touches in the first frames, said in the output).

Positions are (row, column) in px; frames are float32 (H, W) in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edge_shm.errors import UserError

MOUTHS = ("left", "right", "top", "bottom", "auto")
CHANNELS = ("luminance", "r", "g", "b", "auto")
WIDE_RADIUS_PX = 3  # shapes wider than 2 r + 1 = 7 px in the first frame are not a crack
TOUCH_PX = 3  # a crack "starts at" an edge or a notch within this distance
K_LOW, K_HIGH = 3.0, 6.0  # hysteresis thresholds in noise standard deviations
FLOOR_LOW, FLOOR_HIGH = 0.03, 0.06  # and at least these intensities
SMOOTH_PX = 1.0  # Gaussian smoothing before the threshold: a 2-3 px crack survives it
MAX_SHIFT_FRACTION = 0.25  # a shift above a quarter of the view is not a knock: skipped


class FrameRefused(UserError):
    """An image the intake cannot use. ``str()`` is the technical line (a finite source stops
    with it, for the user who typed the options); ``reason`` says it for a person on site (a
    watched folder's skip reason, the dashboard), without the file's name."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def grey_channel(img: np.ndarray, channel: str) -> np.ndarray:
    """(H, W) grey in [0, 1] from (H, W) grey or (H, W, 3) RGB ``img`` in [0, 1]."""
    from skimage.color import rgb2gray

    img = np.asarray(img, np.float32)
    if img.ndim == 2:
        return img
    if channel == "luminance":
        return rgb2gray(img).astype(np.float32)  # as the image readers convert colour
    return np.ascontiguousarray(img[..., "rgb".index(channel)])


def thin_lines(grey: np.ndarray) -> np.ndarray:
    """Boolean (H, W): the pixels of ``grey`` that stand out of their local background as a
    thin line (hysteresis threshold from the frame's own noise, wide shapes left out)."""
    from skimage.filters import apply_hysteresis_threshold

    r = smooth_residual(grey)
    b = apply_hysteresis_threshold(r, *thresholds(noise_sigma(r)))
    return b & ~grow(wide_shapes(b), 2)


def choose_channel(img: np.ndarray, crack: str = "bright") -> str:
    """``auto``: the colour channel (or luminance) that shows the most thin-line pixels of
    polarity ``crack`` (a crack in a pale halo may vanish in luminance but not in blue)."""
    if np.asarray(img).ndim == 2:
        return "luminance"
    scores = {}
    for c in ("luminance", "r", "g", "b"):
        x = grey_channel(img, c)
        scores[c] = int(thin_lines(x if crack == "bright" else 1.0 - x).sum())
    return max(scores, key=scores.get)


def residual(x: np.ndarray, block: int = 31) -> np.ndarray:
    """``x`` less its local Gaussian-weighted mean over ``block`` px (uneven light removed)."""
    from skimage.filters import threshold_local

    return (x - threshold_local(x, block_size=block, method="gaussian")).astype(np.float32)


def smooth_residual(grey: np.ndarray) -> np.ndarray:
    """The residual of ``grey`` after a Gaussian of :data:`SMOOTH_PX` (sensor noise, JPEG)."""
    from skimage.filters import gaussian

    return residual(gaussian(grey, sigma=SMOOTH_PX, preserve_range=True))


def thresholds(sigma: float) -> tuple[float, float]:
    """(low, high) hysteresis thresholds for a residual of noise ``sigma``."""
    return max(K_LOW * sigma, FLOOR_LOW), max(K_HIGH * sigma, FLOOR_HIGH)


def noise_sigma(r: np.ndarray) -> float:
    """Robust standard deviation (1.4826 MAD) of a residual."""
    return 1.4826 * float(np.median(np.abs(r - np.median(r))))


def orient(frame: np.ndarray, mouth: str) -> np.ndarray:
    """``frame`` turned so that the ``mouth`` edge is the left edge."""
    if mouth == "left":
        return frame
    if mouth == "right":
        return frame[:, ::-1]
    if mouth == "top":
        return frame.T
    return frame[::-1, :].T  # bottom


def image_point(rc, mouth: str, shape: tuple[int, int]) -> tuple[float, float]:
    """A (row, column) of the oriented frame back in the image of ``shape`` (H, W)."""
    r, c = float(rc[0]), float(rc[1])
    h, w = shape
    if mouth == "left":
        return r, c
    if mouth == "right":
        return r, w - 1 - c
    if mouth == "top":
        return c, r
    return h - 1 - c, r  # bottom


def edge_band(shape: tuple[int, int], side: str, px: int = TOUCH_PX) -> np.ndarray:
    """Boolean (H, W): the ``px`` px along one edge of the view."""
    band = np.zeros(shape, bool)
    sl = {"left": np.s_[:, :px], "right": np.s_[:, -px:], "top": np.s_[:px, :],
          "bottom": np.s_[-px:, :]}[side]  # fmt: skip
    band[sl] = True
    return band


def disk(radius: int) -> np.ndarray:
    from skimage.morphology import disk as sk_disk

    return sk_disk(radius).astype(bool)


def grow(binary: np.ndarray, radius: int) -> np.ndarray:
    """``binary`` dilated by a disk of ``radius`` px."""
    from scipy.ndimage import binary_dilation

    return binary_dilation(binary, disk(radius)) if radius > 0 else binary


def wide_shapes(binary: np.ndarray) -> np.ndarray:
    """The parts of ``binary`` wider than a crack: what survives an opening by a small disk."""
    from scipy.ndimage import binary_closing, binary_opening

    solid = binary_closing(binary, disk(1)) | binary  # speckle holes do not split a notch
    return grow(binary_opening(solid, disk(WIDE_RADIUS_PX)), 1) & solid


@dataclass
class CameraView:
    """What the first frame shows, and the reading of every frame against it.

    Parameters
    ----------
    mouth : side the crack grows from (``auto``: decided on the first frames).
    channel : grey channel of colour frames (``auto``: chosen on the first frame).
    crack : ``bright`` or ``dark``.
    register : align each frame to the first.
    mask : optional (H, W) bool, True where the view is never the crack.
    """

    mouth: str = "left"
    channel: str = "luminance"
    crack: str = "bright"
    register: bool = True
    mask: np.ndarray | None = None
    said: list[str] = field(default_factory=list)  # decisions to tell the user, once
    last: dict = field(default_factory=dict)  # what :meth:`read` did to the last frame
    views: dict = field(default_factory=dict)  # first / last: (grey, crack, fixed), mouth left
    _ref: np.ndarray | None = None
    _thresholds: tuple[float, float] = (0.0, 0.0)
    _fixed: np.ndarray | None = None
    _notch: np.ndarray | None = None
    _track: np.ndarray | None = None  # where the crack was, grown by TOUCH_PX
    _blocked: np.ndarray | None = None  # wide fixed shapes (and --mask): never the crack
    _scratches: np.ndarray | None = None  # thin fixed shapes: a crack may cross them

    def __post_init__(self):
        if self.mouth not in MOUTHS:
            raise UserError(f"--mouth must be one of {', '.join(MOUTHS)}, not {self.mouth!r}")
        if self.crack not in ("bright", "dark"):
            raise UserError(f"--crack must be bright or dark, not {self.crack!r}")
        if self.channel not in CHANNELS:
            raise UserError(f"--channel must be one of {', '.join(CHANNELS)}, not {self.channel!r}")

    def _grey(self, img: np.ndarray) -> np.ndarray:
        if self.channel == "auto":
            self.channel = choose_channel(img, self.crack)
            if np.asarray(img).ndim == 3:
                self.said.append(f"channel: {self.channel} (auto: thin lines stand out most)")
        x = grey_channel(img, self.channel)
        return 1.0 - x if self.crack == "dark" else x

    def _binary(self, grey: np.ndarray) -> np.ndarray:
        from skimage.filters import apply_hysteresis_threshold

        return apply_hysteresis_threshold(smooth_residual(grey), *self._thresholds)

    def _start(self, grey: np.ndarray) -> None:
        self._thresholds = thresholds(noise_sigma(smooth_residual(grey)))  # kept: see (4)
        self._ref = grey
        b0 = self._binary(grey)
        wide = wide_shapes(b0)
        if self.mouth == "auto":
            self.mouth = self._guess_mouth(b0)
        if self.mouth is None:
            self.mouth = "auto"  # nothing touches an edge yet: decided on a later frame
            return
        notch = wide & self._touching(wide, self.mouth, only=True, px=TOUCH_PX + 3)
        self._notch = grow(notch, TOUCH_PX + 2)  # the ring a crack starts from
        blocked = grow(wide, 2)  # a wide shape's rim is part of it
        if self.mask is not None:
            if self.mask.shape != grey.shape:
                (mh, mw), (h, w) = self.mask.shape, grey.shape
                raise FrameRefused(
                    f"--mask is {mh} x {mw} px, the frames {h} x {w} px",
                    f"the --mask image is {mh} x {mw} px but the frames are {h} x {w} px: "
                    "give a mask of the frames' size",
                )
            blocked |= self.mask
        self._blocked = blocked
        self._scratches = np.zeros_like(b0)
        crack0, _ = self._main_crack(b0 & ~blocked)
        self._scratches = grow(_sizable(b0 & ~blocked & ~grow(crack0, 2)), 1)
        self._fixed = blocked | self._scratches

    def _touching(self, binary, side: str, only: bool = False, px: int = TOUCH_PX):
        """The components of ``binary`` that reach the ``side`` edge band of ``px`` px
        (``only``: and no other edge: a ruler strip or a border touches several)."""
        from skimage.measure import label

        lab = label(binary, connectivity=2)
        keep = set(np.unique(lab[edge_band(binary.shape, side, px) & binary]).tolist()) - {0}
        if only:
            for other in set(MOUTHS[:4]) - {side}:
                keep -= set(np.unique(lab[edge_band(binary.shape, other, px)]).tolist())
        return np.isin(lab, sorted(keep))

    def _guess_mouth(self, b0: np.ndarray) -> str | None:
        """The edge touched by the largest shape that touches one edge only (a notch or a
        crack; a ruler strip or a frame border touches several)."""
        from skimage.measure import label

        lab = label(b0, connectivity=2)
        sizes = np.bincount(lab.ravel())
        touched: dict[int, set] = {}
        for side in MOUTHS[:4]:
            for i in np.unique(lab[edge_band(b0.shape, side)]):
                touched.setdefault(int(i), set()).add(side)
        single = [(sizes[i], sides.pop()) for i, sides in touched.items() if i and len(sides) == 1]
        if not single:
            return None
        side = max(single)[1]
        self.said.append(f"mouth: {side} (auto: the crack or notch starts at the {side} edge)")
        return side

    def _nearest_mouth(self, lab: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Of components ``ids``, those whose end nearest the mouth lies in the mouth-side
        third of the view (a specimen edge inside the view, not at the image's edge)."""
        o = orient(lab, self.mouth)
        cols = np.arange(o.shape[1])[None, :].repeat(o.shape[0], 0)
        near = {int(i): int(cols[o == i].min()) for i in ids}
        limit = o.shape[1] / 3
        return np.array([i for i in ids if near[int(i)] <= limit], int)

    def _shift(self, grey: np.ndarray, name: str) -> tuple[np.ndarray, tuple[int, int]]:
        """``grey`` aligned to the first frame, and the shift (rows, cols) undone.

        Phase correlation of the whole frames (the fixed features and the light outweigh a
        thin crack); the shift is taken only when it raises the correlation of the smoothed
        frames (noise would otherwise hide the gain), so a frame that did not move stays."""
        from scipy.ndimage import shift as move
        from skimage.filters import gaussian
        from skimage.registration import phase_cross_correlation

        ref = self._ref
        if not self.register or np.ptp(ref) == 0 or np.ptp(grey) == 0:
            return grey, (0, 0)  # nothing to align on
        (dr, dc), *_ = phase_cross_correlation(ref, grey)
        dr, dc = int(round(dr)), int(round(dc))
        if (dr, dc) == (0, 0):
            return grey, (0, 0)
        h, w = grey.shape
        if abs(dr) > MAX_SHIFT_FRACTION * h or abs(dc) > MAX_SHIFT_FRACTION * w:
            raise FrameRefused(
                f"{name}: cannot be aligned to the first frame (moved {dr}, {dc} px)",
                f"the view moved too far to line up with the first frame ({dr}, {dc} px): "
                "has the camera been knocked? check its mount",
            )
        moved = move(grey, (dr, dc), order=0, mode="nearest")
        smooth_ref = gaussian(ref, sigma=2, preserve_range=True)
        before = _correlation(smooth_ref, gaussian(grey, sigma=2, preserve_range=True))
        after = _correlation(smooth_ref, gaussian(moved, sigma=2, preserve_range=True))
        if after <= before + 0.01:
            return grey, (0, 0)  # the shift does not explain the frame better: none
        return moved, (dr, dc)

    def read(self, img: np.ndarray, name: str = "frame") -> tuple[np.ndarray, dict]:
        """One camera image (H, W) or (H, W, 3) in [0, 1] -> (the crack frame with the mouth
        on the left, what was done: ``shift_px``, ``mouth``, ``other_cracks``)."""
        grey = self._grey(img)
        if self._ref is None or self.mouth == "auto":
            self._start(grey)
        if self._ref is not None and grey.shape != self._ref.shape:
            (h, w), (h0, w0) = grey.shape, self._ref.shape
            raise FrameRefused(
                f"{name}: {h} x {w} px, the first frame was {h0} x {w0} px",
                f"the image is {h} x {w} px, the first frame was {h0} x {w0} px: has the "
                "camera or its resolution changed?",
            )
        if self.mouth == "auto":
            return np.zeros(grey.shape, np.float32), {"shift_px": [0, 0], "mouth": None,
                                                       "other_cracks": 0}  # fmt: skip
        grey, shift = self._shift(grey, name)
        crack, others = self._main_crack(self._binary(grey) & ~self._blocked)
        moved = [-shift[0], -shift[1]]  # how the view moved against the first frame
        info = {"shift_px": moved, "mouth": self.mouth, "other_cracks": others}
        view = tuple(orient(x, self.mouth) for x in (grey, crack, self._fixed))
        self.views.setdefault("first", view)
        self.views["last"] = view
        return orient(crack.astype(np.float32), self.mouth), info

    def _main_crack(self, candidates: np.ndarray) -> tuple[np.ndarray, int]:
        """The largest thin component that starts where the crack was (the previous frame's
        crack), at the notch, or at the mouth edge (without reaching another edge); without
        one, the largest whose mouth-side end lies in the mouth-side third of the view (a
        specimen edge inside the view). Returns it and the count of the other candidates."""
        from skimage.measure import label

        thin = candidates  # a crack widens as it opens: only the first frame's wide shapes go
        lab = label(thin, connectivity=2)
        start = self._notch | self._touching(thin, self.mouth, only=True)
        if self._track is not None:
            start = start | self._track
        ids = np.unique(lab[start & thin])
        ids = ids[ids > 0]
        if len(ids) == 0:
            ids = self._nearest_mouth(lab, np.unique(lab[lab > 0]))
        # a crack crossing a scratch keeps its path; the scratch's own pixels are not crack
        own = np.bincount(lab[thin & ~self._scratches].ravel(), minlength=lab.max() + 1)
        ids = ids[own[ids] > 0] if len(ids) else ids
        if len(ids) == 0:
            return np.zeros(thin.shape, bool), 0
        crack = (lab == ids[int(np.argmax(own[ids]))]) & ~self._scratches
        self._track = grow(crack, TOUCH_PX)
        return crack, int(len(ids) - 1)


def _sizable(binary: np.ndarray, min_px: int = 8) -> np.ndarray:
    """The components of ``binary`` of at least ``min_px`` px (a noise speck is no scratch)."""
    from skimage.morphology import remove_small_objects

    return remove_small_objects(binary, max_size=min_px - 1)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images."""
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    x, y = x - x.mean(), y - y.mean()
    d = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / d) if d > 0 else 0.0
