"""Fatigue-crack-growth digital library: an engineering LEFM model of the paper's XFEM library.

The paper (Zhao & Xu, section 2.1.1) grows an edge crack with XFEM in a 10 mm x 20 mm plate under
random tension and shear; this module reproduces the same library with closed-form stress
intensity factors instead of XFEM. It is an engineering approximation: the single-edge-notched
tension (SENT) geometry factor for mode I, the edge-crack shear solution K_II = 1.12 tau sqrt(pi a)
for mode II, the far-field stress rotated into the local frame of the kinked tip. The library
format accepts XFEM or experimental images unchanged.

Coordinates: x along the width from the cracked (left) edge, y up the height from the bottom
edge, both in mm. The crack starts at (0, H/2) with its tip at (a0, H/2). Angles are measured
counter-clockwise from +x, in radians.

Sign convention of the kink: a positive K_II (shear that slides the upper crack face towards -x,
i.e. positive far-field tau_xy on the top edge) deflects the crack clockwise, towards -y. The kink
angle is theta = -sign(K_II) * arccos(...) of the paper's eq. (2).

Units: stress in MPa, lengths in mm inside the geometry, SIFs in MPa*sqrt(m), Paris coefficient
C = 9.7e-12 m/cycle/(MPa*sqrt(m))^m with m = 3.0, load ratio R = 0 (Delta K = K_max).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from skimage.draw import line as draw_line

from edge_shm.data.generators.streams import sample_rng
from edge_shm.data.generators.timing import cut, cut_at_x
from edge_shm.errors import UserError


@dataclass(frozen=True)
class FCGParams:
    """Physical and imaging parameters of the crack library (units in the field names)."""

    width_mm: float = 10.0
    """Plate width, along x (the crack's direction), mm."""
    height_mm: float = 20.0
    """Plate height, along y, mm."""
    initial_crack_mm: float = 1.0
    """Initial edge crack, from x = 0 at mid-height, mm."""
    stop_x_mm: float = 9.0
    """Growth stops when the tip passes this x, mm."""
    increment_mm: float = 0.3
    """Crack growth per simulation step, mm (as the paper's XFEM increment)."""
    n_segments: int = 7
    """Load segments: equal x slices of the span from the initial tip to the stop line."""
    tension_mean_mpa: float = 200.0
    """Mean far-field tension of a segment, MPa."""
    tension_std_mpa: float = 50.0
    """Standard deviation of the tension, MPa."""
    shear_mean_mpa: float = 100.0
    """Mean far-field shear of a segment, MPa."""
    shear_std_mpa: float = 50.0
    """Standard deviation of the shear, MPa."""
    paris_c: float = 9.7e-12
    """Paris coefficient C of da/dN = C dK^m, m/cycle/(MPa*sqrt(m))^m."""
    paris_m: float = 3.0
    """Paris exponent m."""
    pixel_mm: float = 0.075
    """Pixel size, mm."""
    rows: int = 96
    """Region of interest, rows (y), px."""
    cols: int = 132
    """Region of interest, columns (x), px."""
    crack_width_px: int = 2
    """Width of the drawn crack line, px."""
    max_redraws: int = 1000
    """Load draws tried per sample before giving up (cracks leaving the region are redrawn)."""
    timing: str = "slices"
    """When frames are cut (:data:`TIMINGS`): ``slices`` where the tip crosses equal x slices
    (the paper's), ``cycles`` at equal load-cycle intervals (a camera's), ``mixed`` a timing,
    span and pauses drawn per sample, ``static`` one instant repeated (nothing grows)."""
    frames: int = 0
    """Frames per sample; 0: the paper's n_segments + 1."""
    life_fraction: float = 0.97
    """``cycles`` timing: the frames span load cycles 0 to this fraction of the life (the
    cycles at which the tip reaches the stop line; the last few percent grow fastest)."""

    @property
    def n_frames(self) -> int:
        """Frames per sample (default: the initial crack and the end of each load segment)."""
        return self.frames or self.n_segments + 1

    def units(self) -> dict[str, str]:
        return {
            "width_mm": "mm",
            "height_mm": "mm",
            "initial_crack_mm": "mm",
            "n_segments": "1",
            "stop_x_mm": "mm",
            "increment_mm": "mm",
            "tension_mean_mpa": "MPa",
            "tension_std_mpa": "MPa",
            "shear_mean_mpa": "MPa",
            "shear_std_mpa": "MPa",
            "paris_c": "m/cycle/(MPa*sqrt(m))^m",
            "paris_m": "1",
            "pixel_mm": "mm",
            "rows": "px",
            "cols": "px",
            "crack_width_px": "px",
            "max_redraws": "1",
            "timing": "slices | cycles | mixed | static",
            "frames": "frames per sample (0: n_segments + 1)",
            "life_fraction": "1",
        }

    def validate(self) -> None:
        """Refuse parameters the generator cannot honour (one line each)."""
        if not (0 < self.initial_crack_mm < self.stop_x_mm < self.width_mm):
            raise UserError("crack lengths must satisfy 0 < initial < stop < plate width (mm)")
        if self.n_segments < 1 or self.increment_mm <= 0 or self.pixel_mm <= 0:
            raise UserError("segments, increment and pixel size must be positive")
        if not (8 <= self.rows <= 4096 and 8 <= self.cols <= 4096):
            raise UserError(f"frames of {self.rows}x{self.cols} px are outside 8..4096 px")
        if self.timing not in TIMINGS:
            raise UserError(f"unknown timing {self.timing!r}; choose one of {', '.join(TIMINGS)}")
        if self.frames != 0 and not 2 <= self.frames <= 1000:
            raise UserError(f"--frames must lie in 2..1000 for crack libraries, got {self.frames}")
        if not 0 < self.life_fraction <= 1:
            raise UserError(f"life_fraction must lie in (0, 1], got {self.life_fraction}")


TIMINGS = ("slices", "cycles", "mixed", "static")


PHYSICS_UNITS = {
    "loads_mpa": "MPa (tension, shear) per load segment",
    "frame_tip_mm": "mm (x, y) of the tip at each frame",
    "frame_cycles": "cycles at each frame",
    "frame_timing": "timing of each sample's frames: 0 slices, 1 cycles, 2 static",
    "rejected_draws": "load draws rejected because the crack left the region",
    "path_nodes_mm": "mm (x, y) of every growth increment",
    "path_sif_mpa_sqrt_m": "MPa*sqrt(m) (K_I, K_II) at every node",
}


def sent_geometry_factor(a_over_w: np.ndarray | float) -> np.ndarray | float:
    """Geometry factor F(a/W) of a single edge notched tension plate (Tada, 0.5 % accurate).

    F = sqrt(2/(pi b) tan(pi b/2)) [0.752 + 2.02 b + 0.37 (1 - sin(pi b/2))^3] / cos(pi b/2),
    b = a/W, valid for 0 < b < 1. K_I = sigma sqrt(pi a) F.
    """
    b = np.asarray(a_over_w, dtype=float)
    if np.any((b <= 0) | (b >= 1)):
        raise ValueError("a/W must lie in (0, 1)")
    h = np.pi * b / 2
    f = np.sqrt(np.tan(h) / h) * (0.752 + 2.02 * b + 0.37 * (1 - np.sin(h)) ** 3) / np.cos(h)
    return f if f.ndim else float(f)


def kink_angle(k1: float, k2: float) -> float:
    """Crack deflection angle in radians by the paper's eq. (2), signed as the module says.

    theta = -sign(K_II) arccos[(3 K_II^2 + sqrt(K_I^4 + 8 K_I^2 K_II^2)) / (K_I^2 + 9 K_II^2)].
    Zero for pure mode I; -70.5 deg for pure positive mode II.
    """
    if k2 == 0.0:
        return 0.0
    num = 3 * k2**2 + np.sqrt(k1**4 + 8 * k1**2 * k2**2)
    den = k1**2 + 9 * k2**2
    return float(-np.sign(k2) * np.arccos(np.clip(num / den, -1.0, 1.0)))


def local_stresses(sigma: float, tau: float, phi: float) -> tuple[float, float]:
    """Far-field (sigma_yy = sigma, tau_xy = tau, sigma_xx = 0) resolved on a crack at angle phi.

    Returns (sigma_nn, tau_nt) in MPa: the normal stress opening the crack and the shear stress
    sliding its faces, with n = (-sin phi, cos phi) and t = (cos phi, sin phi).
    """
    c, s = np.cos(phi), np.sin(phi)
    sigma_nn = sigma * c * c - 2 * tau * s * c
    tau_nt = tau * (c * c - s * s) + sigma * s * c
    return float(sigma_nn), float(tau_nt)


def stress_intensity(sigma: float, tau: float, phi: float, x_tip_mm: float, p: FCGParams):
    """Mode I and II SIFs (MPa*sqrt(m)) at a tip whose projected length is ``x_tip_mm``.

    The crack length in the SENT factor is the projected length x_tip (a/W), the local loading is
    the far field resolved on the tip direction ``phi``. Crack faces do not carry compression:
    K_I is floored at zero.
    """
    sigma_nn, tau_nt = local_stresses(sigma, tau, phi)
    a_m = x_tip_mm * 1e-3
    k1 = sigma_nn * np.sqrt(np.pi * a_m) * sent_geometry_factor(x_tip_mm / p.width_mm)
    k2 = 1.12 * tau_nt * np.sqrt(np.pi * a_m)
    return max(float(k1), 0.0), float(k2)


def equivalent_sif(k1: float, k2: float, theta: float) -> float:
    """Maximum-tangential-stress equivalent SIF cos(t/2)[K_I cos^2(t/2) - 1.5 K_II sin t]."""
    c = np.cos(theta / 2)
    return float(abs(c * (k1 * c * c - 1.5 * k2 * np.sin(theta))))


def paris_cycles(da_mm: float, delta_k: float, p: FCGParams) -> float:
    """Cycles to grow ``da_mm`` at constant Delta K (MPa*sqrt(m)) by da/dN = C Delta K^m."""
    if delta_k <= 0:
        return float("inf")
    return da_mm * 1e-3 / (p.paris_c * delta_k**p.paris_m)


@dataclass
class CrackHistory:
    """One simulated crack: the polyline of the path and the physics along it."""

    nodes_mm: np.ndarray  # (n, 2) x, y of the path from the mouth to the tip
    cycles: np.ndarray  # (n,) cycles when the tip reached each node
    k1: np.ndarray  # (n,) K_I (MPa*sqrt(m)) computed at each node (0 at the mouth)
    k2: np.ndarray  # (n,) K_II (MPa*sqrt(m))
    loads_mpa: np.ndarray  # (n_segments, 2) tension and shear amplitude per segment
    frames_tip_mm: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    frames_cycles: np.ndarray = field(default_factory=lambda: np.zeros(0))
    frames_nodes: list[np.ndarray] = field(default_factory=list)


def segment_bounds(p: FCGParams) -> np.ndarray:
    """x (mm) of the load-segment boundaries: the span [a0, stop_x] sliced into n_segments."""
    return np.linspace(p.initial_crack_mm, p.stop_x_mm, p.n_segments + 1)


def draw_loads(rng: np.random.Generator, p: FCGParams) -> np.ndarray:
    """Tension and shear amplitudes (MPa) per segment; a non-positive tension is redrawn."""
    loads = np.empty((p.n_segments, 2))
    for i in range(p.n_segments):
        tension = 0.0
        while tension <= 0.0:
            tension = rng.normal(p.tension_mean_mpa, p.tension_std_mpa)
        loads[i] = tension, rng.normal(p.shear_mean_mpa, p.shear_std_mpa)
    return loads


def grow_crack(loads_mpa: np.ndarray, p: FCGParams) -> CrackHistory:
    """Grow the crack increment by increment under the per-segment loads.

    Each increment of ``increment_mm`` follows the direction kinked by eq. (2) at the current tip;
    cycles per increment come from the Paris law with the equivalent SIF. Growth stops when the
    tip passes ``stop_x_mm``. Frames are cut where the tip first reaches each segment boundary.
    """
    y0 = p.height_mm / 2
    bounds = segment_bounds(p)
    nodes = [(0.0, y0), (p.initial_crack_mm, y0)]
    cycles, k1s, k2s = [0.0, 0.0], [0.0], [0.0]
    phi, n_total = 0.0, 0.0
    while nodes[-1][0] <= p.stop_x_mm:
        x, y = nodes[-1]
        seg = min(int(np.searchsorted(bounds, x, side="right")) - 1, p.n_segments - 1)
        sigma, tau = loads_mpa[max(seg, 0)]
        k1, k2 = stress_intensity(sigma, tau, phi, min(x, p.width_mm * 0.99), p)
        theta = kink_angle(k1, k2)
        phi += theta
        n_total += paris_cycles(p.increment_mm, equivalent_sif(k1, k2, theta), p)
        nodes.append((x + p.increment_mm * np.cos(phi), y + p.increment_mm * np.sin(phi)))
        cycles.append(n_total)
        k1s.append(k1)
        k2s.append(k2)
        if len(nodes) > 10_000 or np.cos(phi) <= 0:
            raise RuntimeError("crack stopped advancing across the width")
    k1s.append(k1s[-1])
    k2s.append(k2s[-1])
    hist = CrackHistory(
        np.array(nodes),
        np.array(cycles),
        np.array(k1s[: len(nodes)]),
        np.array(k2s[: len(nodes)]),
        loads_mpa,
    )
    _cut_frames(hist, bounds)
    return hist


def _cut_frames(hist: CrackHistory, bounds: np.ndarray) -> None:
    """Truncate the path where the tip first reaches each x in ``bounds`` (linear interpolation)."""
    hist.frames_tip_mm, hist.frames_cycles, hist.frames_nodes = cut_at_x(
        hist.nodes_mm, hist.cycles, bounds
    )


def roi_origin_mm(p: FCGParams) -> tuple[float, float]:
    """(x, y) in mm of the top-left corner of the region of interest (centred on mid-height)."""
    return 0.0, p.height_mm / 2 + p.rows * p.pixel_mm / 2


def mm_to_pixel(points_mm: np.ndarray, p: FCGParams) -> np.ndarray:
    """(n, 2) x, y in mm -> (n, 2) row, column as floats (row 0 at the top of the ROI)."""
    x0, y_top = roi_origin_mm(p)
    cols = (points_mm[:, 0] - x0) / p.pixel_mm
    rows = (y_top - points_mm[:, 1]) / p.pixel_mm
    return np.stack([rows, cols], axis=1)


def fits_roi(nodes_mm: np.ndarray, p: FCGParams) -> bool:
    """True when every node of the path, drawn ``crack_width_px`` wide, stays inside the ROI."""
    rc = mm_to_pixel(nodes_mm, p)
    margin = p.crack_width_px
    return bool(np.all(rc[:, 0] >= margin) and np.all(rc[:, 0] <= p.rows - 1 - margin))


def rasterize(nodes_mm: np.ndarray, p: FCGParams) -> np.ndarray:
    """Draw a polyline (mm) into a (rows, cols) float32 frame: crack 1, background 0.

    The path is drawn as an 8-connected 1-pixel line (scikit-image) through the pixels that
    contain the nodes, then widened to ``crack_width_px`` by a square dilation.
    """
    from skimage.morphology import dilation

    img = np.zeros((p.rows, p.cols), dtype=bool)
    rc = np.floor(mm_to_pixel(nodes_mm, p)).astype(int)
    rc[:, 1] = np.clip(rc[:, 1], 0, p.cols - 1)
    for (r0, c0), (r1, c1) in zip(rc[:-1], rc[1:], strict=True):
        rr, cc = draw_line(r0, c0, r1, c1)
        ok = (rr >= 0) & (rr < p.rows)
        img[rr[ok], cc[ok]] = True
    if p.crack_width_px > 1:
        img = dilation(img, np.ones((p.crack_width_px, p.crack_width_px), dtype=bool))
    return img.astype(np.float32)


def simulate_sample(rng: np.random.Generator, p: FCGParams) -> tuple[CrackHistory, int]:
    """Draw loads and grow one crack that stays in the ROI.

    Rule for cracks that would leave the 96-row region of interest: the whole sample is rejected
    and re-simulated with fresh loads from the same seeded stream (never clipped). Returns the
    history and the number of rejected draws.
    """
    for rejected in range(p.max_redraws + 1):
        hist = grow_crack(draw_loads(rng, p), p)
        if fits_roi(hist.frames_nodes[-1], p):
            return hist, rejected
    raise UserError(
        f"no crack stayed inside the {p.rows}-row region in {p.max_redraws} draws; "
        "lower the shear or enlarge the region"
    )


def generate(n_samples: int, seed: int, p: FCGParams | None = None, progress=None, first: int = 0):
    """Simulate cracks ``first`` to ``first + n_samples - 1``; sample i draws from
    :func:`sample_rng` (seed, i) only, so a shard of a library is the same samples.

    Returns
    -------
    frames : (N, T, rows, cols) float32 in {0, 1}
    physics : dict of per-sample arrays (loads, tip path, cycles, SIFs, rejections, timing)

    Frames are cut by ``p.timing`` (:mod:`edge_shm.data.generators.timing`) after the crack
    is grown, so the cracks of a seed are the same under every timing.
    """
    p = p or FCGParams()
    if n_samples <= 0:
        raise UserError(f"--samples must be a positive integer, got {n_samples}")
    T = p.n_frames
    frames = np.zeros((n_samples, T, p.rows, p.cols), dtype=np.float32)
    loads = np.zeros((n_samples, p.n_segments, 2))
    tips = np.zeros((n_samples, T, 2))
    cycles = np.zeros((n_samples, T))
    rejected = np.zeros(n_samples, dtype=np.int64)
    timing = np.zeros(n_samples, dtype=np.int8)
    paths, path_k = [], []
    for i in range(n_samples):
        rng = sample_rng(seed, first + i)
        hist, rejected[i] = simulate_sample(rng, p)
        timing[i] = cut(hist, p, rng)
        for t, nodes in enumerate(hist.frames_nodes):
            # Cumulative: the truncated last segment may rasterise to other pixels than the full
            # one drawn later; a crack pixel never heals.
            frames[i, t] = np.maximum(rasterize(nodes, p), frames[i, t - 1] if t else 0.0)
        loads[i], tips[i], cycles[i] = hist.loads_mpa, hist.frames_tip_mm, hist.frames_cycles
        paths.append(hist.nodes_mm)
        path_k.append(np.stack([hist.k1, hist.k2], axis=1))
        if progress is not None:
            progress()
    physics = {
        "loads_mpa": loads,
        "frame_tip_mm": tips,
        "frame_cycles": cycles,
        "rejected_draws": rejected,
        "frame_timing": timing,
        "path_nodes_mm": paths,
        "path_sif_mpa_sqrt_m": path_k,
    }
    return frames, physics
