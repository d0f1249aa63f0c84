"""Benchmark: energy per forecast frame and memory, base SNN vs base LSTM, crack test split."""

from __future__ import annotations

from benchmarks.run import stamp
from edge_shm.data.library import read_library
from edge_shm.profile.devices import load_devices
from edge_shm.profile.energy import energy_report
from edge_shm.profile.memory import memory_report
from edge_shm.profile.profiler import load_windows, profile_model
from edge_shm.runs import load_run

DEVICES = ("loihi2", "arm-cortex-a", "asic-45nm-fp32", "asic-45nm-int8")
BUDGETS = ("mcu-256k", "mcu-512k", "loihi2-core")
MAX_WINDOWS = 108  # evenly spread over the 540 test windows (one per test sample on average)


def run(ctx) -> str:
    lib = read_library(ctx.crack_library(), load_physics=False)
    x, _, _ = load_windows(ctx.crack_library(), None, "test", MAX_WINDOWS)
    devs = load_devices()
    profiles = {}
    for name in ("snn", "lstm"):
        model, _ = load_run(ctx.trained_run(name))
        profiles[name] = profile_model(model, x, pixel_mm=lib.pixel_mm)
    lines = [
        f"## Energy and memory per forecast frame, SNN vs LSTM ({stamp()})",
        "",
        f"`edge_shm.profile` over {x.shape[0]} windows of the crack test split (evenly spread "
        f"over all test windows); one forecast frame = {x.shape[1]} input steps, state reset per "
        "window. Frame rate for the per-day figure: 1/60 Hz (1,440 forecasts per day). Device "
        "figures and sources: `edge_shm/data/devices.json`, conventions: docs/profile.md.",
        "",
        "| device | model | compute (uJ) | memory access (uJ) | total per forecast (uJ) "
        "| per day (J) | LSTM / SNN (x) |",
        "|---|---|---|---|---|---|---|",
    ]
    for dname in DEVICES:
        reps = {m: energy_report(p, devs[dname]) for m, p in profiles.items()}
        both = reps["lstm"].available and reps["snn"].available
        ratio = reps["lstm"].total_pJ / reps["snn"].total_pJ if both else None
        for m, r in reps.items():
            if not r.available:
                lines.append(f"| {dname} | {m} | cannot run there: {r.note} | | | | |")
                continue
            lines.append(
                f"| {dname} | {m} | {r.compute_total_pJ * 1e-6:.4g} | "
                f"{r.memory_total_pJ * 1e-6:.4g} | {r.total_pJ * 1e-6:.4g} | "
                f"{r.per_day_J:.4g} | {f'{ratio:,.1f}' if m == 'lstm' and ratio else ''} |"
            )
    lines += [
        "",
        "| model | Eff. MACs | Eff. ACs | Dense | neuron updates | firing rate "
        "(spikes/neuron/step) | ActivationSparsity |",
        "|---|---|---|---|---|---|---|",
    ]
    for m, p in profiles.items():
        t, c = p.counts.totals, p.counts
        fr = "n/a" if c.firing_rate is None else f"{c.firing_rate:.4f}"
        sp = c.activation_sparsity
        lines.append(
            f"| {m} | {t.macs:,.0f} | {t.acs:,.0f} | {t.dense:,.0f} | "
            f"{c.neuron_totals.neurons:,.0f} | {fr} | "
            f"{'n/a' if sp is None else f'{sp:.4f}'} |"
        )
    lines += [
        "",
        "| model | weights float32 / int8 / Loihi 8-bit (B) | state float32 (B) | "
        "peak activations float32 (B) | input frame float32 / vector mean (B) |",
        "|---|---|---|---|---|",
    ]
    for m, p in profiles.items():
        mem = p.memory
        w = mem.weights.bytes
        lines.append(
            f"| {m} | {w['float32']:,} / {w['int8']:,} / {w['loihi8']:,} | "
            f"{mem.state.bytes['float32']:,} | {mem.peak_activations.bytes['float32']:,} | "
            f"{mem.input_frame.float32_B:,} / {mem.input_frame.vector_mean_B:.0f} |"
        )
    return "\n".join(lines + ["", *budget_lines(profiles, devs)]) + "\n"


def budget_lines(profiles: dict, devs) -> list[str]:
    """Each budget's checks, with what the need is: the C firmware's layout at the device's
    precision (RAM to the byte, docs/profile.md) or an estimate from element sizes."""
    lines = [
        "Each budget's checks at the device's precision (bytes, or the unit named): the need is "
        "the C firmware's layout (its ELF's RAM to the byte) or, without a firmware for the "
        "model, an estimate from element sizes (docs/profile.md).",
        "",
        "| budget | model | need from | need / budget | fits |",
        "|---|---|---|---|---|",
    ]
    for dname in BUDGETS:
        for m, p in profiles.items():
            rep = memory_report(p, devs[dname])
            if rep.fits is None:
                lines.append(f"| {dname} | {m} | - | cannot run there: {rep.notes[0]} | - |")
                continue
            basis = f"firmware layout, {rep.layout}" if rep.layout else f"estimate, {rep.precision}"
            need = "; ".join(
                f"{c.memory} {c.need_B:,.0f} / {c.budget_B:,.0f} {c.unit or 'B'}"
                for c in rep.checks
            )
            lines.append(f"| {dname} | {m} | {basis} | {need} | {'yes' if rep.fits else 'no'} |")
    return lines
