"""Training on n_in -> n_out windows (the Turing protocol, 10 -> 10), one readable function.

The model steps through the window: the n_in true frames, then n_out - 1 more steps whose input
is the true frame with probability ``eta`` and the model's own forecast otherwise (scheduled
sampling, as OpenSTL trains ConvLSTM, PredRNN++ and STCLIF); the loss is the MSE of every
next-frame forecast against the true next frame (n_in + n_out - 1 of them). ``eta`` falls
linearly from 1 to 0 over the first half of the epochs; evaluation always feeds forecasts back.

A model that decodes a window at once (SimVP with ``frames_out`` = 10,
:func:`~edge_shm.models.windows.window_forecaster`) is trained as OpenSTL trains SimVP: the
loss is the MSE of its n_out forecast frames against the true ones, with no scheduled sampling
(it feeds nothing back); its ``frames_out`` must be the windows' n_out.
"""

from __future__ import annotations

import torch

from edge_shm.errors import UserError
from edge_shm.models.windows import window_forecaster


def sampling_eta(epoch: int, epochs: int) -> float:
    """Probability of feeding the true frame in the output phase at ``epoch`` (0-based)."""
    half = max(epochs / 2, 1)
    return max(0.0, 1.0 - epoch / half)


def sequence_loss(model, x, y, eta: float, gen: torch.Generator, part=None) -> torch.Tensor:
    """x (B, n_in, 1, H, W), y (B, n_out, 1, H, W) -> MSE over all next-frame forecasts, or
    over the n_out frames of a window forecast at once (then ``eta``, ``gen``, ``part`` unused).

    ``part = (lo, size)``: x is windows lo.. of a global batch of ``size`` (several processes);
    the random draws are those of the whole batch, so every window gets the draws it would get
    in one process.
    """
    n_in, n_out = x.shape[1], y.shape[1]
    forecast = window_forecaster(model)
    if forecast is not None:
        if model.frames_out != n_out:
            raise UserError(
                f"model {model.name!r} forecasts {model.frames_out} frames at once "
                f"('frames_out'); the training windows have {n_out}: set it to {n_out} or 1"
            )
        return torch.mean((forecast(x, n_out) - y) ** 2)
    lo, size = (0, x.shape[0]) if part is None else part
    state = model.initial_state(x.shape[0], x.device)
    frames = torch.cat([x, y], dim=1)
    preds, prev = [], None
    for t in range(n_in + n_out - 1):
        inp = frames[:, t]
        if t >= n_in and prev is not None:
            keep = torch.rand(size, generator=gen)[lo : lo + x.shape[0]] < eta
            inp = torch.where(keep.to(x.device)[:, None, None, None], inp, prev)
        prev, state = model.step(inp, state)
        preds.append(prev)
    return torch.mean((torch.stack(preds, dim=1) - frames[:, 1:]) ** 2)
