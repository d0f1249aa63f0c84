"""The two ways of running a model over time, named distinctly.

- **streaming rollout** (:func:`streaming_rollout`): one ``step`` per input frame with the state
  carried, from a zero state; the output after frame t forecasts frame t + 1. This is what a
  device does and what every exported artefact is compared with.
- **autoregressive rollout** (:func:`autoregressive_rollout`): forecasts beyond the data. Each
  forecast is made from a fresh window of the last ``n_in`` frames (the state reset per window,
  as in training), and is fed back in place of the truth for the next window.
"""

from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def predict_next(model, inputs: torch.Tensor, batch: int = 64) -> np.ndarray:
    """Windows (N, T, 1, H, W) -> clipped forecasts of the frame after each window (N, H, W)."""
    device = model.device
    outs = [
        model(inputs[i : i + batch].to(device))[:, -1, 0].clamp(0, 1).cpu()
        for i in range(0, len(inputs), batch)
    ]
    return torch.cat(outs).numpy()


@torch.no_grad()
def autoregressive_rollout(model, frames: np.ndarray, n_in: int, skip: int = 0) -> np.ndarray:
    """Forecast every sample to its end: (N, T, H, W) -> (N, T - skip - n_in, H, W).

    The first ``n_in`` frames after ``skip`` are true; every later frame is forecast from the
    last ``n_in`` frames, forecasts fed back in place of the truth.
    """
    seq = torch.from_numpy(np.array(frames[:, skip : skip + n_in]))  # (N, n_in, H, W)
    preds = []
    for _ in range(frames.shape[1] - skip - n_in):
        nxt = torch.from_numpy(predict_next(model, seq[:, -n_in:].unsqueeze(2)))
        preds.append(nxt)
        seq = torch.cat([seq, nxt.unsqueeze(1)], dim=1)
    return torch.stack(preds, dim=1).numpy()


@torch.no_grad()
def streaming_rollout(model, frames: np.ndarray) -> np.ndarray:
    """One step per frame, state carried: (N, T, H, W) -> raw forecasts (N, T, H, W)."""
    x = torch.as_tensor(np.asarray(frames, np.float32), device=model.device)
    state = model.initial_state(x.shape[0], x.device)
    outs = []
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t, None], state)
        outs.append(out[:, 0])
    return torch.stack(outs, dim=1).cpu().numpy()


class MotionFrameForecaster:
    """A motion network (``capabilities.inputs == "motion"``) as a frame forecaster:
    ``f(windows (M, n_in, H, W), ctx) -> next frames (M, H, W)`` through its codec
    (:mod:`edge_shm.firmware_sim.codec`); ``last`` keeps the decoded forecasts (tip, spread)."""

    def __init__(self, model, batch: int = 512):
        self.model, self.codec, self.batch = model.eval(), model.codec, batch
        self.last: list = []

    @torch.no_grad()
    def __call__(self, windows: np.ndarray, ctx=None) -> np.ndarray:
        from edge_shm.vector.motion import observe

        windows = np.asarray(windows, np.float32)
        cycles = None if ctx is None else ctx.cycles
        obs = [[observe(f) for f in w] for w in windows]
        rows = np.stack(
            [self.codec.rows_of(o, None if cycles is None else c) for o, c in _pairs(obs, cycles)]
        )
        x = torch.from_numpy(rows[:, :, None])  # (M, n_in, 1, S, S)
        out = torch.cat(
            [
                self.model(x[i : i + self.batch].to(self.model.device))[:, -1, 0].cpu()
                for i in range(0, len(x), self.batch)
            ]
        ).numpy()
        n = self.codec.n_in
        self.last = [
            self.codec.forecast(w[-n:], r, o[-n:])
            for w, r, o in zip(windows, out, obs, strict=True)
        ]
        return np.stack([f.frame for f in self.last])


def _pairs(obs: list, cycles):
    return zip(obs, cycles if cycles is not None else [None] * len(obs), strict=True)


def frame_forecaster(model):
    """Any predictor as ``f(windows (M, n_in, H, W), ctx=None) -> next frames (M, H, W)``,
    clipped to [0, 1]."""
    if model.capabilities.inputs == "motion":
        return MotionFrameForecaster(model)

    def run(windows: np.ndarray, ctx=None) -> np.ndarray:
        return predict_next(model, torch.from_numpy(np.ascontiguousarray(windows)).unsqueeze(2))

    return run


class TorchStepper:
    """A torch predictor as a device-side Stepper: numpy frames in, numpy forecasts out."""

    def __init__(self, model):
        self.model = model.eval()
        self.frame_shape = (model.height, model.width)
        self.dtype = next(model.parameters()).dtype  # float32; float64 in exactness tests

    def initial_state(self, batch: int = 1):
        return self.model.initial_state(batch, self.model.device)

    @torch.no_grad()
    def step(self, frame: np.ndarray, state):
        x = torch.as_tensor(np.asarray(frame), dtype=self.dtype, device=self.model.device)
        out, state = self.model.step(x, state)
        return out.cpu().numpy(), state
