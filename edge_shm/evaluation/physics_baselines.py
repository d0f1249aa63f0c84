"""Forecasts that know physics, beside the naive ones: constant acceleration and Paris' law.

Both move the tip of the main path (:mod:`edge_shm.vector.motion`) along the direction of its
last motion and draw the growth onto the last frame as the library draws cracks; without
growth in the window they are the last frame (copy-last).

- ``constant_acceleration``: the main path's length is quadratic in the frame index through
  the last three frames, ``L3 = 3 L2 - 3 L1 + L0``: the tip advances ``2 s2 - s1`` (the last
  two length increments s1, s2), never backwards.
- ``paris``: da/dN = C' (sqrt(pi a) F(a/W))^m, with F the SENT geometry factor the generator
  uses and C' = C d_sigma^m (the stress range need not be known), fitted to every observed
  (a, N) of the sample so far, the window's frames included (a: projected length, the tip's
  x from the mouth edge plus the part outside the view); the next frame's a is where the fitted
  law reaches that frame's cycles. It needs the cycles of the frames and of the frame forecast,
  the plate width, and at least three frames of growth; otherwise it refuses, says why
  (:attr:`ParisForecaster.refusals`) and forecasts the last frame.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from edge_shm.evaluation.remaining import paris_extrapolate
from edge_shm.vector import motion


@dataclass
class WindowContext:
    """What a forecaster may know besides the window's frames, for M windows.

    cycles : (M, n_in + 1) load cycles of the window's frames and of the frame forecast (NaN
        where unknown), or None.
    history : per window, (a_mm, cycles) of the true frames of the sample before the window,
        for fits over the whole history (Paris), or None.
    pixel_mm : pixel size, mm; width_mm : plate width (None: unknown); a_offset_mm : crack
        length outside the view, mm.
    """

    cycles: np.ndarray | None = None
    history: list | None = None
    pixel_mm: float = 1.0
    width_mm: float | None = None
    a_offset_mm: float = 0.0

    def part(self, idx) -> WindowContext:
        """The context of windows ``idx``."""
        idx = np.asarray(idx)
        return WindowContext(
            None if self.cycles is None else self.cycles[idx],
            None if self.history is None else [self.history[i] for i in idx],
            self.pixel_mm,
            self.width_mm,
            self.a_offset_mm,
        )


def _extend(window: np.ndarray, obs: list, advance_px: float) -> np.ndarray:
    """The last frame with its tip moved ``advance_px`` along the last motion."""
    last = np.asarray(window[-1], np.float32)
    if advance_px <= 0 or len(obs) < 2 or any(o is None for o in obs):
        return last.copy()
    d = obs[-1].tip - obs[-2].tip
    n = float(np.hypot(*d))
    if n < motion.STILL_PX:
        return last.copy()
    return motion.draw_extension(last, obs[-1].tip, obs[-1].tip + advance_px * d / n, obs[-1].width)


def constant_acceleration_frame(window: np.ndarray) -> np.ndarray:
    """One constant-acceleration forecast from the last three frames of ``window``."""
    obs = [motion.observe(f) for f in np.asarray(window)[-3:]]
    if len(obs) < 3 or any(o is None for o in obs):
        return np.asarray(window[-1], np.float32).copy()
    s1, s2 = obs[1].length - obs[0].length, obs[2].length - obs[1].length
    return _extend(window, obs, 2 * s2 - s1)


def constant_acceleration(windows: np.ndarray, ctx: WindowContext | None = None) -> np.ndarray:
    return np.stack([constant_acceleration_frame(w) for w in np.asarray(windows)])


class ParisForecaster:
    """Paris-law extrapolation (see the module text); ``refusals`` counts why it refused."""

    def __init__(self):
        self.refusals: Counter = Counter()
        self.forecasts = 0

    def __call__(self, windows: np.ndarray, ctx: WindowContext | None = None) -> np.ndarray:
        windows = np.asarray(windows)
        out = []
        for i, w in enumerate(windows):
            frame, why = self.one(w, None if ctx is None else ctx.part([i]))
            self.forecasts += 1
            if why:
                self.refusals[why] += 1
            out.append(frame)
        return np.stack(out)

    def one(self, window: np.ndarray, ctx: WindowContext | None) -> tuple[np.ndarray, str]:
        """(forecast, "" or the reason it refused)."""
        last = np.asarray(window[-1], np.float32).copy()
        if ctx is None or ctx.cycles is None or not np.all(np.isfinite(ctx.cycles[0])):
            return last, "no cycles known"
        if not ctx.width_mm:
            return last, "plate width unknown"
        obs = [motion.observe(f) for f in window]
        if any(o is None for o in obs):
            return last, "a frame without a crack"
        a = [o.tip[1] * ctx.pixel_mm + ctx.a_offset_mm for o in obs]
        n = list(ctx.cycles[0, : len(obs)])
        if ctx.history is not None:
            a_before, n_before = ctx.history[0]
            a, n = list(a_before) + a, list(n_before) + n
        a_next = paris_extrapolate(np.array(a), np.array(n), ctx.cycles[0, -1], ctx.width_mm)
        if isinstance(a_next, str):
            return last, a_next
        d = obs[-1].tip - obs[-2].tip
        along = d[1] / max(float(np.hypot(*d)), 1e-9)  # share of a step that grows a
        if float(np.hypot(*d)) < motion.STILL_PX or along <= 0.2:
            return last, "the tip does not move across the ligament"
        return _extend(window, obs, (a_next - a[-1]) / ctx.pixel_mm / along), ""
