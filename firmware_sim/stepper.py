"""The streaming interface every device-side runtime implements (torch-free).

``initial_state(batch) -> state`` (zeros) and ``step(frame, state) -> (prediction, state)``,
frame and prediction (B, 1, H, W) float32: the same protocol as the torch predictors, so that a
device loop is written once. :func:`stream` runs one over whole sequences.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Stepper(Protocol):
    frame_shape: tuple[int, int]

    def initial_state(self, batch: int = 1): ...

    def step(self, frame: np.ndarray, state): ...


def stream(stepper: Stepper, frames: np.ndarray) -> np.ndarray:
    """Sequences (N, T, H, W) -> forecasts (N, T, H, W) float32, one step per frame, each
    sequence from a zero state (all sequences as one batch)."""
    frames = np.asarray(frames, np.float32)
    state = stepper.initial_state(frames.shape[0])
    outs = []
    for t in range(frames.shape[1]):
        pred, state = stepper.step(frames[:, t, None], state)
        outs.append(np.asarray(pred, np.float32)[:, 0])
    return np.stack(outs, axis=1)
