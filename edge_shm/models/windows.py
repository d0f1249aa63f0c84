"""A model's windows: which n_in -> n_out windows it takes, and its rollout over one."""

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


@torch.no_grad()
def rollout_window(model, x, n_out: int) -> torch.Tensor:
    """n_in true frames, then n_out forecasts each fed back (state carried):
    x (B, n_in, 1, H, W) -> (B, n_out, 1, H, W), clipped to [0, 1]."""
    state = model.initial_state(x.shape[0], x.device)
    out = None
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t], state)
    preds = [out.clamp(0, 1)]
    while len(preds) < n_out:
        out, state = model.step(preds[-1], state)
        preds.append(out.clamp(0, 1))
    return torch.stack(preds, dim=1)
