"""A model's windows: which n_in -> n_out windows it takes, and its rollout over one.

A model forecasts a window either by stepping (every model's ``step``, each forecast fed back)
or at once: a model that decodes F > 1 frames at once (SimVP with ``frames_out`` = 10) has a
``forecast_window(x, n_out)`` and an int ``frames_out``; :func:`window_forecaster` tells which.
"""

from __future__ import annotations

import torch

from edge_shm.errors import UserError
from edge_shm.models.registry import model_class


def check_window(model: str, lib) -> tuple[int, int] | None:
    """A sequence model's (n_in, n_out), refused unless the library's windows are its own;
    None for next-frame models (any n_in -> 1)."""
    window = model_class(model).window
    if window is not None and (lib.window_in, lib.window_out) != tuple(window):
        raise UserError(
            f"model {model!r} forecasts {window[0]} -> {window[1]} frames; the library "
            f"{lib.path} has {lib.window_in} -> {lib.window_out} windows"
        )
    return window


def window_forecaster(model):
    """The model's ``forecast_window(x, n_out) -> (B, n_out, 1, H, W)`` when it decodes a
    window at once, None when it steps (every other model, and SimVP with ``frames_out`` 1)."""
    return getattr(model, "forecast_window", None)


@torch.no_grad()
def rollout_window(model, x, n_out: int) -> torch.Tensor:
    """n_in true frames, then n_out forecasts each fed back (state carried), or the model's
    window forecast when it decodes one at once (:func:`window_forecaster`):
    x (B, n_in, 1, H, W) -> (B, n_out, 1, H, W), clipped to [0, 1]."""
    forecast = window_forecaster(model)
    if forecast is not None:
        return forecast(x, n_out).clamp(0, 1)
    state = model.initial_state(x.shape[0], x.device)
    out = None
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t], state)
    preds = [out.clamp(0, 1)]
    while len(preds) < n_out:
        out, state = model.step(preds[-1], state)
        preds.append(out.clamp(0, 1))
    return torch.stack(preds, dim=1)
