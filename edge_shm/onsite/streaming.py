"""Windowed forecasts computed as a stream: one step per arriving frame, the state carried.

The forecasting models are trained on windows of ``n_in`` frames from a zero state, and
``evaluate`` scores them that way. A device cannot re-run the window at every frame, and a
single state carried from the first frame is not what the model learnt. So the loop keeps
``n_in`` staggered states: a new one starts at every frame, every live one steps the frame once,
and the one that has now seen ``n_in`` frames gives the forecast and is dropped. Each forecast
is then exactly the windowed one, and each frame is stepped ``n_in`` times, never re-read.

Forecasts further ahead feed each forecast back as the next frame (its crack map on binary
data, as ``evaluate`` does) through copies of the live states: horizon k equals ``evaluate``'s
k-th autoregressive forecast of the same window.
"""

from __future__ import annotations

import numpy as np

from edge_shm.firmware_sim.stepper import Stepper


class StreamingForecaster:
    """Push frames (H, W) one at a time; get the forecasts 1..``horizon`` frames ahead.

    Parameters
    ----------
    stepper : any Stepper (torch model adapter, ONNX Runtime, NIR simulator, integer engine).
    n_in : frames per forecast window (the run's ``window[0]``).
    horizon : forecasts per frame, >= 1.
    binary : feed back crack maps (forecast > 0.5) instead of the raw forecast.
    """

    def __init__(self, stepper: Stepper, n_in: int, horizon: int, binary: bool = True):
        self.stepper, self.n_in, self.horizon, self.binary = stepper, n_in, horizon, binary
        self.frame_shape = tuple(stepper.frame_shape)
        self.live: list[tuple[int, object]] = []  # (frames seen, state), youngest first
        self.steps = 0  # stepper calls so far

    def _advance(self, live, frame):
        """Start a state, step every live one with ``frame``; (forecast or None, survivors)."""
        x = np.ascontiguousarray(frame[None, None], np.float32)
        out, kept = None, []
        for seen, state in [(0, self.stepper.initial_state(1)), *live]:
            pred, state = self.stepper.step(x, state)
            self.steps += 1
            if seen + 1 == self.n_in:
                out = np.clip(np.asarray(pred, np.float32)[0, 0], 0.0, 1.0)
            else:
                kept.append((seen + 1, state))
        return out, kept

    def push(self, frame: np.ndarray) -> list[np.ndarray]:
        """Forecasts (H, W) for 1..horizon frames ahead; [] until ``n_in`` frames arrived."""
        first, self.live = self._advance(self.live, frame)
        if first is None:
            return []
        forecasts, live = [first], self.live
        while len(forecasts) < self.horizon:
            back = (forecasts[-1] > 0.5).astype(np.float32) if self.binary else forecasts[-1]
            nxt, live = self._advance(live, back)
            forecasts.append(nxt)
        return forecasts


class WindowRerunForecaster:
    """The same forecasts for runtimes that cannot be stepped from the host (Lava: its process
    graph runs whole sequences): each forecast re-runs its window through ``run_windows``
    (M, n_in, H, W) -> (M, H, W). Equal results, more work; said so in the run's summary."""

    def __init__(self, run_windows, n_in: int, horizon: int, binary: bool = True, shape=None):
        self.run_windows, self.n_in, self.horizon, self.binary = run_windows, n_in, horizon, binary
        self.recent: list[np.ndarray] = []
        self.steps = 0
        self.frame_shape = tuple(shape) if shape is not None else None

    def push(self, frame: np.ndarray) -> list[np.ndarray]:
        self.recent = [*self.recent, np.asarray(frame, np.float32)][-self.n_in :]
        if len(self.recent) < self.n_in:
            return []
        seq, forecasts = list(self.recent), []
        while len(forecasts) < self.horizon:
            nxt = np.clip(self.run_windows(np.stack(seq[-self.n_in :])[None])[0], 0.0, 1.0)
            self.steps += self.n_in
            forecasts.append(nxt.astype(np.float32))
            seq.append((nxt > 0.5).astype(np.float32) if self.binary else nxt)
        return forecasts
