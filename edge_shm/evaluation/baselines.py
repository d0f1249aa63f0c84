"""Naive forecasts every model is judged beside: a forecast must beat these to be worth having.

Each maps windows (N, n_in, H, W), and optionally a :class:`WindowContext` (cycles, history),
to forecasts of the next frame (N, H, W); the forecasts that know physics (constant
acceleration, Paris' law) are in :mod:`edge_shm.evaluation.physics_baselines`:

- ``zeros``: all background (no crack at all).
- ``copy_last``: the last input frame (persistence: the crack does not grow).
- ``constant_velocity``: the crack keeps growing as it just grew. The last two frames are
  vector-encoded (:func:`edge_shm.vector.encode`); the tip's last displacement ``d`` (px, from
  the tip of frame t-1 to the tip of frame t) is the velocity. The forecast is the last frame
  united with its newest crack pixels (frame t minus frame t-1, as the library drew that growth)
  moved on by ``d``, rounded to whole pixels: the main path extended by its last increment, in
  the same direction and with the same shape, drawn exactly as the library draws cracks. With
  no growth or no crack in either frame it is copy-last. On a straight crack growing a fixed
  number of pixels per frame it is exact.
"""

from __future__ import annotations

import numpy as np

from edge_shm.evaluation.metrics import CRACK_THRESHOLD


def zeros(windows: np.ndarray, ctx=None) -> np.ndarray:
    return np.zeros_like(np.asarray(windows)[:, -1], dtype=np.float32)


def copy_last(windows: np.ndarray, ctx=None) -> np.ndarray:
    return np.asarray(windows, np.float32)[:, -1].copy()


def shift(mask: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """``mask`` (H, W) moved by (dr, dc) px, zero-filled, cropped to the frame."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    rs, rd = (slice(0, h - dr), slice(dr, h)) if dr >= 0 else (slice(-dr, h), slice(0, h + dr))
    cs, cd = (slice(0, w - dc), slice(dc, w)) if dc >= 0 else (slice(-dc, w), slice(0, w + dc))
    if abs(dr) < h and abs(dc) < w:
        out[rd, cd] = mask[rs, cs]
    return out


def tip_px(frame: np.ndarray) -> np.ndarray | None:
    """(row, col) of the encoded main path's tip, px; None without a crack."""
    from edge_shm.vector import encode

    g = encode(frame)
    return None if g.is_empty else g.nodes[-1].astype(np.float64)


def constant_velocity_frame(prev: np.ndarray, last: np.ndarray) -> np.ndarray:
    """One constant-velocity forecast from frames t-1 and t (H, W)."""
    last = np.asarray(last, np.float32)
    grown = (last > CRACK_THRESHOLD) & ~(np.asarray(prev) > CRACK_THRESHOLD)
    a, b = tip_px(prev), tip_px(last)
    if a is None or b is None or not grown.any():
        return last.copy()
    dr, dc = np.rint(b - a).astype(int)
    return np.maximum(last, shift(grown, int(dr), int(dc)).astype(np.float32))


def constant_velocity(windows: np.ndarray, ctx=None) -> np.ndarray:
    w = np.asarray(windows)
    return np.stack([constant_velocity_frame(x[-2], x[-1]) for x in w])


BASELINES = {"zeros": zeros, "copy_last": copy_last, "constant_velocity": constant_velocity}
LABELS = {
    "zeros": "all background",
    "copy_last": "copy last frame",
    "constant_velocity": "constant-velocity tip",
    "constant_acceleration": "constant-acceleration tip",
    "paris": "Paris-law extrapolation",
}
"""How reports name every baseline."""


def baselines() -> dict:
    """Every baseline, naive and physical, by name (a fresh Paris forecaster, whose refusals
    count this evaluation's windows)."""
    from edge_shm.evaluation.physics_baselines import ParisForecaster, constant_acceleration

    return {
        **BASELINES,
        "constant_acceleration": constant_acceleration,
        "paris": ParisForecaster(),
    }
