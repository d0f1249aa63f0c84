"""Figures measured on the C firmware (``profile --firmware FW``): the tree built for a
Cortex-M4 and run in QEMU over the profile's windows, each from a zero state.

Measured: instructions per step and per forecast (QEMU's instruction count through SysTick,
``firmware_sim/c/runner.py``) and the ELF's section sizes, shown beside the memory account of
the firmware's layout (``deployed.py``) with their difference. Derived: the time per forecast
at the device profile's clock, one instruction per cycle (a lower bound for a single-issue
Cortex-M4; an estimate for the dual-issue Cortex-M7 of mcu-512k's STM32F767). Estimated (not run on
a core): the energy figures from operation counts.
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
        "steps_per_forecast": int(windows.shape[1]),
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
        out["derived"] = [
            "ms_per_forecast_at_clock (one instruction per cycle: a lower bound for a "
            "single-issue Cortex-M4, an estimate for a dual-issue Cortex-M7)"
        ]
    return out


def steps_per_forecast(measured: dict) -> int:
    """Frames per forecast window of :func:`measured_figures` (profiles written before the key
    was recorded: instructions per forecast / per step)."""
    return measured.get("steps_per_forecast") or round(
        measured["instructions_per_forecast"] / measured["instructions_per_step"]
    )


def compare(account: dict, measured: dict) -> dict:
    """Measured (ELF) against the account, in bytes: RAM should agree to the byte; flash
    differs by the code, vector table and other constants, which only a build measures."""
    diff = {m: measured[m] - account[m] for m in ("RAM", "flash")}
    ram = (
        "the ELF holds exactly the account"
        if diff["RAM"] == 0
        else f"{diff['RAM']:+,} B the layout does not declare (C library data, or the "
        "compiler placing the buffers otherwise than the account's alignment model)"
    )
    return {
        "account_B": dict(account),
        "measured_B": dict(measured),
        "difference_B": diff,
        "explained": {"RAM": ram, "flash": "code, vector table and other constants (measured "
                      "only; the account's flash is the constants alone)"},
    }  # fmt: skip


def measured_budget(budget, figures: dict, device):
    """The memory lines of ``budget`` replaced by the ELF's sections, against the same
    budgets (RAM: .data + .bss + stack; flash: .text + .data), compared with ``budget``'s
    account (``compared``)."""
    from edge_shm.profile.memory import BudgetLine, MemoryBudget, _need, recheck

    b = figures["elf_bytes"]
    lines = [
        BudgetLine(".text: code and const weights (ELF, measured)", b["text"], "flash"),
        BudgetLine(".data: initial values (ELF, measured)", b["data"], "flash"),
        BudgetLine(".data (ELF, measured)", b["data"], "RAM"),
        BudgetLine(".bss: state, spikes, scratch, buffers (ELF, measured)", b["bss"], "RAM"),
        BudgetLine("stack reserve and its alignment (ELF, measured)", b["stack"], "RAM"),
    ]  # fmt: skip
    out = MemoryBudget(device.name, f"{budget.precision}, measured", lines, _need(lines),
                       cores=budget.cores, basis="measured: the ELF's sections "
                       "(arm-none-eabi-size)", layout=budget.layout,
                       account_B=budget.account_B)  # fmt: skip
    if budget.account_B is not None:
        out.compared = compare(budget.account_B, {"RAM": b["ram"], "flash": b["flash"]})
    return recheck(out, budget.checks)
