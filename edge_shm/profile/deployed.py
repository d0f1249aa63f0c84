"""Figures of a calibrated deployment on the integer engine (``profile --calibration``).

Memory: the C firmware's layout of the calibration (``firmware_sim/c/layout.py``), the same
account as the plain profile at that precision (:func:`edge_shm.profile.memory.memory_report`),
exact where the plain profile assumes (the accumulator width)."""

from __future__ import annotations

from dataclasses import asdict


def deployed_figures(fixed, calibration: str, library=None, frames=None, split="test",
                     max_windows=None) -> dict:  # fmt: skip
    """Memory in bytes at the deployed precision (``memory_B`` per group, ``memory_lines``
    the account's lines) and integer work per forecast, over the same windows as the profile
    (each from a zero state)."""
    from edge_shm.firmware_sim.c.layout import account_bytes, geometry, memory_groups
    from edge_shm.firmware_sim.int_engine import IntEngine
    from edge_shm.profile.profiler import load_windows

    x, _, _ = load_windows(library, frames, split, max_windows)
    total = IntEngine(fixed)
    for w in x[:, :, 0].numpy():
        total.forecast(w)
    n = len(x)
    geo = geometry(fixed)
    groups = memory_groups(geo)
    return {
        "calibration": calibration,
        "target": fixed.target,
        "windows": n,
        "memory_B": {g.key: g.bytes for g in groups},
        "memory_lines": [asdict(g) for g in groups],
        "account_B": account_bytes(geo),
        "synaptic_ops_per_forecast": total.ops.synaptic_ops / n,
        "bias_ops_per_forecast": total.ops.bias_ops / n,
        "neuron_updates_per_forecast": total.ops.neuron_updates / n,
    }


def deployed_budget(budget, figures: dict, device):
    """The memory lines of ``budget`` (a :class:`~edge_shm.profile.memory.MemoryBudget`)
    replaced by the calibration's firmware account, checked against the same budgets."""
    from edge_shm.profile.memory import (
        CODE_NOTE,
        MemoryBudget,
        _need,
        layout_basis,
        layout_lines,
        recheck,
    )

    target = figures["target"]
    has_flash = any(c.memory == "flash" for c in budget.checks)
    lines = layout_lines(figures["memory_lines"], has_flash)
    out = MemoryBudget(device.name, f"deployed {target}", lines, _need(lines), cores=budget.cores,
                       basis=layout_basis(target, f"of the calibration {figures['calibration']}"),
                       notes=[CODE_NOTE], layout=target,
                       account_B=dict(figures["account_B"]))  # fmt: skip
    if budget.layout == target:
        diff = out.need_B["RAM"] - budget.need_B["RAM"]
        out.notes.append(
            f"RAM {out.need_B['RAM']:,} B, the same as the plain profile's at {target}"
            if diff == 0
            else f"RAM {diff:+,} B against the plain profile's {budget.need_B['RAM']:,} B at "
            f"{target}: the calibration's accumulator width differs from the one assumed there"
        )
    return recheck(out, budget.checks)
