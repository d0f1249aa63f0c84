"""Figures of a calibrated deployment on the integer engine (``profile --calibration``)."""

from __future__ import annotations


def deployed_figures(fixed, calibration: str, library=None, frames=None, split="test",
                     max_windows=None) -> dict:  # fmt: skip
    """Memory in bytes at the deployed precision and integer work per forecast, over the same
    windows as the profile (each from a zero state)."""
    from edge_shm.firmware_sim.int_engine import IntEngine
    from edge_shm.profile.profiler import load_windows

    x, _, _ = load_windows(library, frames, split, max_windows)
    total = IntEngine(fixed)
    for w in x[:, :, 0].numpy():
        engine = IntEngine(fixed)
        state = engine.initial_state()
        for f in w:
            _, state = engine.step(f, state)
        for k in ("synaptic_ops", "bias_ops", "neuron_updates"):
            setattr(total.ops, k, getattr(total.ops, k) + getattr(engine.ops, k))
    n = len(x)
    return {
        "calibration": calibration,
        "target": fixed.target,
        "windows": n,
        "memory_B": total.memory_bytes(),
        "synaptic_ops_per_forecast": total.ops.synaptic_ops / n,
        "bias_ops_per_forecast": total.ops.bias_ops / n,
        "neuron_updates_per_forecast": total.ops.neuron_updates / n,
    }
