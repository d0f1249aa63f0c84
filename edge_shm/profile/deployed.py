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
        total.forecast(w)
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


def deployed_budget(budget, figures: dict, device):
    """The memory lines of ``budget`` (a :class:`~edge_shm.profile.memory.MemoryBudget`)
    replaced by the calibrated deployment's bytes, checked against the same budgets."""
    from edge_shm.profile.memory import BudgetLine, MemoryBudget, _check

    mem, target = figures["memory_B"], figures["target"]
    has_flash = any(c.memory == "flash" for c in budget.checks)
    bits = "v, 24-bit" if target == "loihi" else "v, 16-bit"
    lines = [
        BudgetLine(f"weights (8-bit, {target})", mem["weights"], "flash" if has_flash else "RAM"),
        BudgetLine("biases (32-bit)", mem["biases"], "flash" if has_flash else "RAM"),
        BudgetLine(f"persistent state ({bits})", mem["state"], "RAM"),
        BudgetLine("scratch (largest int32 accumulator)", mem["scratch"], "RAM"),
    ]
    need = {w: sum(x.bytes for x in lines if x.where == w) for w in ("RAM", "flash")}
    out = MemoryBudget(device.name, f"deployed {target}", lines, need, cores=budget.cores)
    for c in budget.checks:
        if c.memory in need:
            out.checks.append(_check(c.memory, need[c.memory], c.budget_B))
        else:
            out.checks.append(c)
    out.fits = all(c.fits for c in out.checks) if out.checks else None
    return out
