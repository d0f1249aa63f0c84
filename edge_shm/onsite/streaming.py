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

from edge_shm.firmware_sim.codec import CodecStepper
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
        self.clocked = isinstance(stepper, CodecStepper)  # takes each frame's load cycles
        shape = stepper.frame_shape
        self.frame_shape = None if shape is None else tuple(shape)
        self.live: list[tuple[int, object]] = []  # (frames seen, state), youngest first
        self.steps = 0  # stepper calls so far
        self.details: list = []  # a motion network's decoded forecasts (tip, spread, scale)
        self.cycles: list[float | None] = []  # the cycles of the frames pushed so far

    def _advance(self, live, frame, cycles=None, next_cycles=None):
        """Start a state, step every live one with ``frame``; (forecast or None, survivors)."""
        x = np.ascontiguousarray(frame[None, None], np.float32)
        kw = {}
        if self.clocked:
            kw = {"cycles": [_nan(cycles)], "next_cycles": [_nan(next_cycles)]}
        out, kept = None, []
        for seen, state in [(0, self.stepper.initial_state(1)), *live]:
            pred, state = self.stepper.step(x, state, **kw)
            self.steps += 1
            if seen + 1 == self.n_in:
                out = np.clip(np.asarray(pred, np.float32)[0, 0], 0.0, 1.0)
                if self.clocked:
                    self.details.append(self.stepper.last[0])
            else:
                kept.append((seen + 1, state))
        return out, kept

    def push(self, frame: np.ndarray, cycles: float | None = None, ahead=None):
        """Forecasts (H, W) for 1..horizon frames ahead; [] until ``n_in`` frames arrived.

        ``cycles``: the frame's load cycles, when known (a motion network reads the clock);
        ``ahead``: the cycles of the next ``horizon`` frames when the schedule is known (a
        cycles file, a library), else they are taken at the last known interval."""
        self.details = []
        self.cycles.append(cycles)
        times = schedule(self.cycles, self.horizon, ahead)
        first, self.live = self._advance(self.live, frame, cycles, times[0])
        if first is None:
            return []
        forecasts, live = [first], self.live
        while len(forecasts) < self.horizon:
            back = (forecasts[-1] > 0.5).astype(np.float32) if self.binary else forecasts[-1]
            k = len(forecasts)
            nxt, live = self._advance(live, back, times[k - 1], times[k])
            forecasts.append(nxt)
        return forecasts


def _nan(v) -> float:
    return np.nan if v is None else float(v)


def schedule(cycles: list, horizon: int, ahead=None) -> list:
    """The cycles of the next ``horizon`` frames: ``ahead`` where given (and finite), else the
    last known interval continued (a camera's fixed interval); None entries when unknown."""
    known = list(ahead or [])[:horizon]
    if len(known) == horizon and all(v is not None and np.isfinite(v) for v in known):
        return [float(v) for v in known]
    if len(cycles) < 2 or cycles[-1] is None or cycles[-2] is None:
        return [None] * horizon
    step = float(cycles[-1] - cycles[-2])
    return [cycles[-1] + step * k for k in range(1, horizon + 1)]


class WindowRerunForecaster:
    """The same forecasts for runtimes that cannot be stepped from the host (Lava: its process
    graph runs whole sequences): each forecast re-runs its window through ``run_windows``
    (M, n_in, H, W) -> (M, H, W), the last step's output. Equal results, more work; said so
    in the run's summary. With a ``codec`` (a motion network) ``run_windows`` runs the codec's
    tiles and the forecaster decodes its readout."""

    def __init__(
        self, run_windows, n_in: int, horizon: int, binary: bool = True, shape=None, codec=None
    ):
        self.run_windows, self.n_in, self.horizon, self.binary = run_windows, n_in, horizon, binary
        self.codec = codec
        self.recent: list[np.ndarray] = []
        self.steps = 0
        self.frame_shape = tuple(shape) if shape is not None else None
        self.details: list = []
        self.cycles: list[float | None] = []

    def _next(self, window: np.ndarray, cycles) -> np.ndarray:
        if self.codec is None:
            return np.clip(self.run_windows(window[None])[0], 0.0, 1.0)
        readout = self.run_windows(self.codec.rows(window, cycles)[None])[0]
        fc = self.codec.forecast(window, readout)
        self.details.append(fc)
        return fc.frame

    def push(self, frame: np.ndarray, cycles: float | None = None, ahead=None):
        self.details = []
        self.recent = [*self.recent, np.asarray(frame, np.float32)][-self.n_in :]
        self.cycles = [*self.cycles, cycles][-self.n_in :]
        if len(self.recent) < self.n_in:
            return []
        seq, forecasts = list(self.recent), []
        known = [*self.cycles, *schedule(self.cycles, self.horizon, ahead)]
        while len(forecasts) < self.horizon:
            k = len(forecasts)
            c = known[k : k + self.n_in + 1]
            c = None if any(v is None for v in c) else np.array(c)
            nxt = self._next(np.stack(seq[-self.n_in :]), c)
            self.steps += self.n_in
            forecasts.append(nxt.astype(np.float32))
            seq.append((nxt > 0.5).astype(np.float32) if self.binary else nxt)
        return forecasts
