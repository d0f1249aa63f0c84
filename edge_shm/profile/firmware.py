"""Figures measured on the C firmware (``profile --firmware FW``): the tree built for a
Cortex-M4 and run in QEMU over the profile's windows, each from a zero state.

Measured: instructions per step and per forecast (QEMU's instruction count through SysTick,
``firmware_sim/c/runner.py``) and the ELF's section sizes. Derived: the time per forecast at
the device profile's clock, one instruction per cycle (a lower bound). Estimated (not run on a
core): the energy figures from operation counts and the memory lines before the compiler.
"""

from __future__ import annotations

import numpy as np


def measured_figures(firmware, windows: np.ndarray, device) -> dict:
    """``windows`` (N, T, H, W) in [0, 1] through ``firmware`` on the emulated Cortex-M4."""
    from edge_shm.firmware_sim.c.runner import run_m4

    results = run_m4(firmware, windows)
    per_window = np.array([int(r["instructions"].sum()) for r in results], np.float64)
    per_step = np.concatenate([r["instructions"] for r in results]).astype(np.float64)
    out = {
        "firmware": str(firmware),
        "windows": len(results),
        "instructions_per_step": float(per_step.mean()),
        "instructions_per_forecast": float(per_window.mean()),
        "instructions_per_forecast_max": float(per_window.max()),
        "elf_bytes": results[0]["sizes"],
        "linked_for": results[0]["device"],
        "measured": ["instructions_per_step", "instructions_per_forecast", "elf_bytes"],
    }
    if device.clock_hz:
        out["clock_hz"] = device.clock_hz
        out["ms_per_forecast_at_clock"] = 1e3 * out["instructions_per_forecast"] / device.clock_hz
        out["derived"] = ["ms_per_forecast_at_clock (one instruction per cycle: a lower bound)"]
    return out


def measured_budget(budget, figures: dict, device):
    """The memory lines of ``budget`` replaced by the ELF's sections, against the same
    budgets (RAM: .data + .bss + stack; flash: .text + .data)."""
    from edge_shm.profile.memory import BudgetLine, MemoryBudget, _check

    b = figures["elf_bytes"]
    lines = [
        BudgetLine(".text: code and const weights (ELF, measured)", b["text"], "flash"),
        BudgetLine(".data: initial values (ELF, measured)", b["data"], "flash"),
        BudgetLine(".data (ELF, measured)", b["data"], "RAM"),
        BudgetLine(".bss: state, spikes, scratch, buffers (ELF, measured)", b["bss"], "RAM"),
        BudgetLine("stack reserve (ELF, measured)", b["stack"], "RAM"),
    ]  # fmt: skip
    need = {w: sum(x.bytes for x in lines if x.where == w) for w in ("RAM", "flash")}
    out = MemoryBudget(
        device.name, f"{budget.precision}, measured", lines, need, cores=budget.cores
    )
    for c in budget.checks:
        out.checks.append(_check(c.memory, need[c.memory], c.budget_B) if c.memory in need else c)
    out.fits = all(c.fits for c in out.checks) if out.checks else None
    return out
