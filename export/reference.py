"""Torch references that every artefact is compared with (one step per frame, zero state)."""

from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def snn_reference(model, frames: np.ndarray) -> dict:
    """Base SNN on frames (T, H, W) (any H, W): raw predictions (T, H, W), spikes and the
    membrane potential before the threshold per LIF layer, {lif1..3: (T, C, H, W)}."""
    frames = torch.as_tensor(np.asarray(frames, np.float32))
    _, h, w = frames.shape
    state = tuple(torch.zeros(1, c, h, w) for c in model.channels)
    p = model.lif
    names = ("lif1", "lif2", "lif3")
    preds, spikes, vs = [], {n: [] for n in names}, {n: [] for n in names}
    for f in frames:
        out, new, trace = model.step_trace(f[None, None], state)
        for n, v_old, i, z in zip(names, state, trace["currents"], trace["spikes"], strict=True):
            # exactly Norse's lif_box_feed_forward_step before the threshold
            v_pre = v_old + model.dt * p.tau_mem_inv * (i + p.v_leak - v_old)
            vs[n].append(v_pre[0].numpy())
            spikes[n].append(z[0].numpy() > 0)
        preds.append(out[0, 0].numpy())
        state = new
    return {
        "prediction": np.stack(preds),
        "spikes": {n: np.stack(s) for n, s in spikes.items()},
        "v": {n: np.stack(v) for n, v in vs.items()},
    }


@torch.no_grad()
def torch_rollout(model, frames: np.ndarray) -> np.ndarray:
    """Any model's streaming step over frames (N, T, H, W) -> raw predictions (N, T, H, W)."""
    x = torch.as_tensor(np.asarray(frames, np.float32))
    state = model.initial_state(x.shape[0])
    outs = []
    for t in range(x.shape[1]):
        out, state = model.step(x[:, t, None], state)
        outs.append(out[:, 0])
    return torch.stack(outs, dim=1).numpy()
