"""Camera-like crack sequences with exact ground truth: test and example images for the intake.

A fatigue crack photographed at fixed intervals on a test rig: a grey specimen (level 0.45-0.55)
under uneven light (gradient and vignette, +-10-15 %), a fine grain, 3-5 faint straight
scratches (+-0.03-0.07), all fixed across frames; sensor noise (sigma 0.02, new in each frame),
a lens blur (Gaussian, 0.6 px), 8-bit quantisation. Every random choice comes from ``seed`` (one
stream per part of the scene): the same seed gives the same bytes.

Drawn in a canonical view, mouth on the left, then turned to ``mouth`` (np.rot90: right 180
degrees, top 90 clockwise, bottom 90 counter-clockwise); ``size`` is the delivered (rows, cols).
Positions are (row, col) of pixel centres, px.

- notch: a slot 8-12 px wide, 15-25 px deep, with a 90-degree V end, from the mouth edge at
  mid-height (mid-width for top and bottom); +0.40 (bright) or -0.35 (dark) against the surface.
- crack: from the notch's V tip (or the mouth edge), a centre line wandering smoothly within
  +-15 degrees of the growth axis, drawn 2-3 px wide with anti-aliased edges and a round end
  reaching half its width past the tip; +-0.25-0.35 against the surface (before the light).
- growth: a fixed cycle interval; advances of 2-10 px that accelerate, one pause (the rig
  stopped: no growth, no cycles), a last jump of 25-40 px, at most 70 % of the specimen along
  the axis at the end. ``static``: 40 % of it from frame 0, never growing.
- ruler: a light strip 14 px wide along an edge the crack never reaches (the view's bottom for
  mouth left or right, its right for top or bottom); dark 1 px ticks every 1 mm (1 / pixel_mm
  px, at sub-pixel positions), 4 px long, 7 px every 5 mm, 10 px every 10 mm.
- colour halo (RGB): a rust-brown line (surface + (0.05, -0.10, -0.30)) in a pale yellow halo
  7-10 px wide (surface + (0.18, 0.15, 0)). Luminance shows the halo as two bright bands around
  a line barely darker than the surface (a bright threshold draws a hollow outline); the
  **blue** channel shows the line alone, dark (-0.30): the halo is invisible in it. The notch
  is dark in every channel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter
from scipy.ndimage import shift as shift_image
from skimage.draw import line_aa, polygon

from edge_shm.errors import UserError

MOUTHS = ("left", "right", "top", "bottom")
TURNS = {"left": 0, "right": 2, "top": 3, "bottom": 1}  # np.rot90 k of the canonical view
# Canonical edge of the ruler: the view's bottom for mouth left/right, its right for top/bottom.
RULER_SIDE = {"left": "bottom", "right": "top", "top": "top", "bottom": "bottom"}
RULER_PX, RULER_MARGIN = 14, 3  # strip width and its distance from the image edge, px
RULER_LEVEL, TICK_LEVEL = 0.85, 0.12  # reflectance of the strip and of its ticks
NOISE_SIGMA, BLUR_PX = 0.02, 0.6
HALO_RGB = np.array([0.18, 0.15, 0.0])
LINE_RGB = np.array([0.05, -0.10, -0.30])
UNITS = {
    "tip_px": "(row, col) of the crack tip in each delivered image, px",
    "a_px": "crack length from the mouth edge along the growth axis, notch included, px",
    "shift_px": "(rows, cols) the view moved by relative to frame 0, px",
    "cycles": "load cycles at each frame",
    "notch_px": "(depth, width) of the notch, px",
    "ruler": "tick spacing (mm, px), box (r0, c0, r1, c1) in frame 0, tick centres (px)",
    "contrast": "crack minus surface before the light (in the truth's channel)",
}


@dataclass(frozen=True)
class CameraSequence:
    """A generated camera sequence and its truth (the look: the module docstring).

    ``a_px`` is the tip's column for mouth left, W - 1 - col for right, its row for top,
    H - 1 - row for bottom, before the camera shift. ``ruler["box"]`` is half-open, in frame 0;
    ``ruler["ticks_px"]`` are the tick centres along ``ruler["axis"]`` (rows or cols), px.
    """

    images: list[np.ndarray]  # as the camera wrote them: uint8 (H, W) grey or (H, W, 3) RGB
    names: list[str]  # file names in time order: "1.png", ... or "frame_000.png", ...
    tip_px: np.ndarray  # (T, 2) true tip (row, col) in each image, camera shift included, px
    a_px: np.ndarray  # (T,) length from the mouth edge along the growth axis, notch included, px
    shift_px: np.ndarray  # (T, 2) int camera shift (rows, cols) of each frame from frame 0, px
    cycles: np.ndarray  # (T,) load cycles at each frame
    mouth: str  # left | right | top | bottom
    pixel_mm: float  # mm per pixel
    notch_px: tuple[int, int] | None  # (depth, width) of the notch, px
    ruler: dict | None  # tick_mm, tick_px, box (r0, c0, r1, c1) in frame 0, axis, ticks_px
    crack: str  # polarity of the crack in ``channel``: bright | dark
    channel: str  # where the crack shows: "grey", or "b" (blue) for a colour halo
    contrast: float  # crack minus surface in ``channel`` before the light and the blur
    seed: int

    def truth(self) -> dict:
        """Everything but the images, JSON-ready, with ``a_mm``, ``size`` and ``units``."""
        out = {k: v for k, v in vars(self).items() if k != "images"}
        for k in ("tip_px", "a_px", "cycles"):
            out[k] = np.round(out[k], 4).tolist()
        out["shift_px"] = self.shift_px.tolist()
        out["notch_px"] = list(self.notch_px) if self.notch_px else None
        out["a_mm"] = np.round(self.a_px * self.pixel_mm, 4).tolist()
        return out | {"size": list(self.images[0].shape[:2]), "units": UNITS}


def camera_sequence(
    seed: int,
    *,
    mouth: str = "left",
    crack: str = "bright",
    size: tuple[int, int] = (160, 224),
    frames: int = 12,
    pixel_mm: float = 0.05,
    notch: bool = True,
    ruler: bool = False,
    shift: tuple[int, int, int] | None = None,
    colour_halo: bool = False,
    static: bool = False,
    jpeg: bool = False,
    names: str = "numbers",
) -> CameraSequence:
    """Render ``frames`` camera images of a growing crack, with their truth.

    Parameters
    ----------
    seed : every random choice (surface, notch, path, growth, ruler phase, noise).
    mouth : left | right | top | bottom, the image edge the crack grows from.
    crack : bright | dark (ignored with ``colour_halo``: dark in the blue channel).
    size : (rows, cols) of the delivered images, px.
    frames : images in the sequence (at least 4; 2 when ``static``).
    pixel_mm : mm per pixel (the ruler's ticks are 1 / pixel_mm px apart).
    notch, ruler : draw a machined notch, a ruler.
    shift : (k, rows, cols): frames k, k + 1, ... show the view moved by (rows, cols) px (a
        camera knock), the uncovered border filled by edge replication.
    colour_halo : RGB images, a rust-brown line in a pale halo (module docstring).
    static : the crack has its length from frame 0 and never grows.
    jpeg : name the files ``.jpg`` (:func:`write_sequence` then writes JPEG).
    names : numbers ("1", "2", ..., not zero-padded) or padded ("frame_000", ...).
    """
    _check(mouth, crack, size, frames, pixel_mm, shift, static, names)
    h, w = size if mouth in ("left", "right") else size[::-1]  # the canonical view, mouth left
    notch_px, notch_cov, start = _notch(_rng(seed, 1), (h, w), notch)
    path = _path(_rng(seed, 2), start, (h, w))
    a, cycles = _growth(_rng(seed, 3), frames, start[1], w, static)
    look = _rng(seed, 0)
    scene = dict(surface=_surface(look, (h, w)), notch=notch_cov, colour=colour_halo)
    scene["contrast"] = float(look.uniform(0.25, 0.35)) * (1 if crack == "bright" else -1)
    scene["half_width"] = float(look.uniform(1.0, 1.5))
    scene["halo_half"] = float(look.uniform(3.0, 4.5))
    ruler_info = None
    if ruler:
        side = RULER_SIDE[mouth]
        strip, ticks, box, at = _ruler(_rng(seed, 5), (h, w), 1.0 / pixel_mm, side)
        scene["ruler"] = strip, ticks
        ruler_info = _ruler_truth(box, at, mouth, (h, w), pixel_mm)
    shifts = np.zeros((frames, 2), np.int64)
    if shift is not None:
        shifts[shift[0] :] = shift[1:]
    noise = _rng(seed, 4)
    images, tips = [], []
    for t in range(frames):
        line = _cut(path, a[t])
        img = np.rot90(_render(scene, line), TURNS[mouth])
        # a camera knock: integer shift, the uncovered border replicating the edge
        img = shift_image(img, (*shifts[t], 0)[: img.ndim], order=0, mode="nearest")
        img = img + noise.normal(0.0, NOISE_SIGMA, img.shape)
        images.append(np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8))
        tips.append(line[-1])
    ext = ".jpg" if jpeg else ".png"
    numbered = names == "numbers"
    file_names = [f"{t + 1}{ext}" if numbered else f"frame_{t:03d}{ext}" for t in range(frames)]
    contrast = float(LINE_RGB[2]) if colour_halo else scene["contrast"]
    crack, channel = ("dark", "b") if colour_halo else (crack, "grey")
    tip_px = to_view(np.array(tips), mouth, (h, w)) + shifts
    fields = (images, file_names, tip_px, a, shifts, cycles, mouth, float(pixel_mm), notch_px)
    return CameraSequence(*fields, ruler_info, crack, channel, contrast, seed)


def write_sequence(seq: CameraSequence, folder, fmt: str | None = None, quality: int = 85) -> Path:
    """Write the images of ``seq`` under its names, with ``truth.json`` and ``cycles.json``.

    ``fmt`` png (Pillow's optimised PNG) or jpg (JPEG at ``quality``); None: the extension of
    the sequence's names. The names' extension follows ``fmt``. Returns ``folder``.
    ``cycles.json`` is ``{"cycles": [...]}``, as ``edge-shm forecast --cycles-file`` reads it.
    """
    from PIL import Image

    fmt = (fmt or Path(seq.names[0]).suffix.lstrip(".")).lower()
    if fmt not in ("png", "jpg"):
        raise UserError(f"image format must be png or jpg, not {fmt!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"{Path(n).stem}.{fmt}" for n in seq.names]
    for img, name in zip(seq.images, names, strict=True):
        extra = {"quality": int(quality)} if fmt == "jpg" else {"optimize": True}
        Image.fromarray(img).save(folder / name, **extra)
    truth = seq.truth() | {"names": names, "format": fmt}
    truth["jpeg_quality"] = int(quality) if fmt == "jpg" else None
    (folder / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    cycles = {"cycles": seq.cycles.tolist()}
    (folder / "cycles.json").write_text(json.dumps(cycles, indent=1) + "\n")
    return folder


def to_view(points: np.ndarray, mouth: str, canon_shape: tuple[int, int]) -> np.ndarray:
    """(n, 2) (row, col) in the canonical view (h, w) -> in the view turned to ``mouth``."""
    h, w = canon_shape
    r, c = np.asarray(points, float).T
    k = TURNS[mouth]
    out = {0: (r, c), 2: (h - 1 - r, w - 1 - c), 3: (c, h - 1 - r), 1: (w - 1 - c, r)}[k]
    return np.stack(out, axis=1)


def _check(mouth, crack, size, frames, pixel_mm, shift, static, names) -> None:
    least = 2 if static else 4
    rules = [
        (mouth in MOUTHS, f"mouth must be one of {', '.join(MOUTHS)}, not {mouth!r}"),
        (crack in ("bright", "dark"), f"crack must be bright or dark, not {crack!r}"),
        (names in ("numbers", "padded"), f"names must be numbers or padded, not {names!r}"),
        (len(size) == 2 and min(size) >= 64, f"size must be (rows, cols) >= 64 px, not {size}"),
        (frames >= least, f"frames must be at least {least}, not {frames}"),
        (pixel_mm > 0, f"pixel_mm must be positive, not {pixel_mm}"),
    ]
    if shift is not None:
        k, dr, dc = shift
        ok = 0 < k < frames and abs(dr) <= size[0] // 4 and abs(dc) <= size[1] // 4
        rules.append((ok, f"shift {shift}: frame 1..{frames - 1}, at most a quarter of the view"))
    for ok, why in rules:
        if not ok:
            raise UserError(why)


def _rng(seed: int, part: int) -> np.random.Generator:
    """One stream per part of the scene, so that an option does not change the other parts."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(part,)))


def _surface(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(reflectance, light): the bare specimen (h, w) with grain and scratches, and the
    lighting factor (h, w) around 1."""
    h, w = shape
    grain = gaussian_filter(rng.normal(0.0, 1.0, shape), 1.5)
    refl = rng.uniform(0.45, 0.55) + 0.01 * grain / grain.std()
    for _ in range(int(rng.integers(3, 6))):
        if rng.random() < 0.5:
            ends = (rng.integers(0, h), 0, rng.integers(0, h), w - 1)
        else:
            ends = (0, rng.integers(0, w), h - 1, rng.integers(0, w))
        rr, cc, val = line_aa(*(int(v) for v in ends))
        refl[rr, cc] += rng.choice([-1.0, 1.0]) * rng.uniform(0.03, 0.07) * val
    yy, xx = np.mgrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j]
    phi = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(phi) * xx + np.sin(phi) * yy) / np.sqrt(2)
    vignette = 1 - (xx**2 + yy**2)
    mix = rng.uniform(0.4, 0.8)
    light = 1 + rng.uniform(0.10, 0.15) * (mix * gradient + (1 - mix) * vignette)
    return refl, light


def _coverage(vertices: np.ndarray, shape: tuple[int, int], ss: int = 4) -> np.ndarray:
    """Fraction (h, w) of each pixel inside the polygon ``vertices`` (n, 2) (row, col), by
    ``ss`` x ``ss`` supersampling."""
    h, w = shape
    v = (np.asarray(vertices, float) + 0.5) * ss - 0.5
    rr, cc = polygon(v[:, 0], v[:, 1], (h * ss, w * ss))
    fine = np.zeros((h * ss, w * ss))
    fine[rr, cc] = 1.0
    return fine.reshape(h, ss, w, ss).mean(axis=(1, 3))


def _notch(rng, shape, notch: bool):
    """((depth, width) or None, coverage (h, w) or None, (row, col) where the crack starts)."""
    h, _ = shape
    rc = (h - 1) / 2
    if not notch:
        return None, None, (rc, -2.0)  # from just outside the mouth edge
    depth, width = int(rng.integers(15, 26)), int(rng.integers(8, 13))
    half = width / 2
    v = [(rc - half, -2), (rc - half, depth - half), (rc, depth)]
    v += [(rc + half, depth - half), (rc + half, -2)]
    return (depth, width), _coverage(np.array(v), shape), (rc, float(depth))


def _path(rng, start: tuple[float, float], shape: tuple[int, int]) -> np.ndarray:
    """(n, 2) centre line (row, col) from ``start`` past the far edge in 1 px steps.

    The direction is 15 degrees times a smooth random signal (three sines of 50-200 px
    wavelength) in [-1, 1], pulled back toward the start row so that the line stays within a
    quarter of the height of it (the ruler's edge is never reached); columns always increase.
    """
    h, w = shape
    lam, phase, amp = rng.uniform(50, 200, 3), rng.uniform(0, 2 * np.pi, 3), rng.uniform(0.5, 1, 3)
    r, c = start
    pts, s = [(r, c)], 0.0
    while c < w + 2:
        g = float((amp * np.sin(2 * np.pi * s / lam + phase)).sum() / amp.sum())
        turn = np.deg2rad(15.0) * np.clip(g - (r - start[0]) / (0.25 * h), -1.0, 1.0)
        r, c, s = r + np.sin(turn), c + np.cos(turn), s + 1.0
        pts.append((r, c))
    return np.array(pts)


def _cut(path: np.ndarray, a: float) -> np.ndarray:
    """The centre line up to column ``a``; its last point, interpolated, is the tip."""
    i = int(np.searchsorted(path[:, 1], a))
    tip = (float(np.interp(a, path[:, 1], path[:, 0])), float(a))
    return np.vstack([path[:i], tip])


def _growth(rng, frames: int, start: float, width: int, static: bool):
    """((T,) lengths a from the mouth, px; (T,) load cycles) at a fixed cycle interval."""
    interval = float(rng.integers(10, 41) * 100)
    if static:
        return np.full(frames, 0.4 * width), interval * np.arange(frames, dtype=float)
    n = frames - 1
    steps = np.clip(np.geomspace(2.5, 9.0, n - 1) * rng.lognormal(0.0, 0.2, n - 1), 2.0, 10.0)
    pause = int(rng.integers(1, n - 1))
    steps[pause] = 0.0
    jump = rng.uniform(25.0, 40.0)
    a0 = max(start, 0.0) + rng.uniform(5.0, 9.0)
    room = 0.7 * width - a0 - jump
    if room <= 0:
        raise UserError(f"a specimen of {width} px along the crack is too short for the growth")
    steps *= min(1.0, room / steps.sum())
    a = a0 + np.concatenate([[0.0], np.cumsum(np.append(steps, jump))])
    dn = np.full(n, interval)
    dn[pause] = 0.0  # the rig stopped while the camera ran
    return a, np.concatenate([[0.0], np.cumsum(dn)])


def _ruler(rng, shape, tick_px: float, side: str):
    """(strip coverage (h, w), tick coverage (h, w), box (r0, c0, r1, c1), tick columns)."""
    h, w = shape
    r0 = RULER_MARGIN if side == "top" else h - RULER_MARGIN - RULER_PX
    r1, c0, c1 = r0 + RULER_PX, RULER_MARGIN, w - RULER_MARGIN
    at = np.arange(c0 + 3 + rng.uniform(0, 1), c1 - 3, tick_px)
    if not 4 <= tick_px or len(at) < 5:
        raise UserError(f"ticks {tick_px:.1f} px apart do not make a ruler of 5 ticks or more")
    strip = np.zeros(shape)
    strip[r0:r1, c0:c1] = 1.0
    ticks = np.zeros(shape)
    cols = np.arange(w)
    for k, x in enumerate(at):
        n = 10 if k % 10 == 0 else 7 if k % 5 == 0 else 4
        rows = slice(r0, r0 + n) if side == "bottom" else slice(r1 - n, r1)  # from the inner edge
        # a 1 px tick at a sub-pixel column: the box filter of its width (a triangle)
        ticks[rows] = np.maximum(ticks[rows], np.clip(1 - np.abs(cols - x), 0, 1))
    return strip, ticks, (r0, c0, r1, c1), at


def _ruler_truth(box, at, mouth, shape, pixel_mm) -> dict:
    r0, c0, r1, c1 = box
    corners = to_view(np.array([[r0, c0], [r1 - 1, c1 - 1]]), mouth, shape)
    lo, hi = corners.min(0).astype(int), corners.max(0).astype(int) + 1
    along = to_view(np.stack([np.full_like(at, r0), at], axis=1), mouth, shape)
    axis = 1 if TURNS[mouth] in (0, 2) else 0
    return {
        "tick_mm": 1.0,
        "tick_px": 1.0 / pixel_mm,
        "box": [int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])],
        "axis": "cols" if axis else "rows",
        "ticks_px": np.round(np.sort(along[:, axis]), 4).tolist(),
    }


def _distance(line: np.ndarray, shape: tuple[int, int], reach: float) -> np.ndarray:
    """Distance (h, w), px, from each pixel centre to the polyline ``line`` (n, 2); inf beyond
    ``reach`` px of its bounding box."""
    lo = np.maximum(np.floor(line.min(0) - reach).astype(int), 0)
    hi = np.minimum(np.ceil(line.max(0) + reach).astype(int) + 1, shape)
    rr, cc = np.mgrid[lo[0] : hi[0], lo[1] : hi[1]]
    p = np.stack([rr.ravel(), cc.ravel()], axis=1).astype(float)
    a, b = (line[:-1], line[1:]) if len(line) > 1 else (line, line)
    ab = b - a
    l2 = np.maximum((ab**2).sum(1), 1e-12)
    d2 = np.full(len(p), np.inf)
    for i in range(0, len(a), 32):  # segments in chunks: bounded memory
        ap = p[:, None] - a[None, i : i + 32]
        t = np.clip((ap * ab[None, i : i + 32]).sum(-1) / l2[i : i + 32], 0.0, 1.0)
        d2 = np.minimum(d2, ((ap - t[..., None] * ab[None, i : i + 32]) ** 2).sum(-1).min(1))
    out = np.full(shape, np.inf)
    out[lo[0] : hi[0], lo[1] : hi[1]] = np.sqrt(d2).reshape(rr.shape)
    return out


def _render(scene: dict, line: np.ndarray) -> np.ndarray:
    """The canonical view (h, w) or (h, w, 3), about [0, 1], with the crack's centre ``line``."""
    refl, light = (m[..., None] for m in scene["surface"])
    d = _distance(line, refl.shape[:2], scene["halo_half"] + 2)[..., None]
    core = np.clip(scene["half_width"] + 0.5 - d, 0.0, 1.0)  # anti-aliased: soft 1 px edges
    if scene["colour"]:
        halo = np.clip(scene["halo_half"] + 0.5 - d, 0.0, 1.0)
        img = refl + halo * HALO_RGB + core * (LINE_RGB - HALO_RGB)  # the line inside the halo
        notch_level = refl - 0.38
    else:
        img = refl + scene["contrast"] * core
        notch_level = refl + (0.40 if scene["contrast"] > 0 else -0.35)
    if scene["notch"] is not None:
        img = img * (1 - scene["notch"][..., None]) + notch_level * scene["notch"][..., None]
    if "ruler" in scene:
        strip, ticks = (m[..., None] for m in scene["ruler"])
        img = img * (1 - strip) + RULER_LEVEL * strip
        img = img * (1 - ticks) + TICK_LEVEL * ticks
    img = gaussian_filter(img * light, (BLUR_PX, BLUR_PX, 0))
    return img if scene["colour"] else img[..., 0]
