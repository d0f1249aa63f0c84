"""Torch references that every artefact is compared with (one step per frame, zero state)."""

from __future__ import annotations

import numpy as np
import torch

from edge_shm.evaluation.forecast import streaming_rollout
from edge_shm.graph import SequenceTrace

__all__ = ["streaming_rollout", "torch_trace"]


@torch.no_grad()
def torch_trace(model, frames: np.ndarray) -> SequenceTrace:
    """A spiking model on one sequence (T, H, W): forecasts, spikes and membranes before the
    threshold per LIF layer (the model's ``trace_step``, float32)."""
    x = torch.as_tensor(np.asarray(frames, np.float32), device=model.device)
    state = model.initial_state(1, x.device)
    preds, traces = [], []
    for f in x:
        out, state, tr = model.trace_step(f[None, None], state)
        preds.append(out.cpu().numpy())
        for d in (tr.spikes, tr.v_pre):
            for k in d:
                d[k] = d[k].cpu().numpy()
        traces.append(tr)
    return SequenceTrace.from_steps(preds, traces)
