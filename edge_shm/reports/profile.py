"""The profile report: profile.md, profile.json, energy.png, memory.png, and a console table."""

from __future__ import annotations

from pathlib import Path

from edge_shm.jsonio import write_json
from edge_shm.outputs import report_dir, write_text
from edge_shm.profile.firmware import steps_per_forecast as _steps
from edge_shm.profile.memory import PRECISIONS

FILES = ("profile.md", "profile.json", "energy.png", "memory.png")


def _kb(b) -> str:
    return f"{b / 1024:,.1f} KiB" if b is not None else "n/a"


def _b(b) -> str:
    return f"{b:,.0f} B ({_kb(b)})"


def _uj(pj) -> str:
    return f"{pj * 1e-6:.4g} uJ"


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _shape(s) -> str:
    return "x".join(str(v) for v in s) if s else "-"


def _mem_row(name: str, line) -> str:
    cells = " | ".join(f"{line.bytes[p]:,} B ({_kb(line.bytes[p])})" for p in PRECISIONS)
    return f"| {name} | {line.values:,} | {cells} |"


def _energy_lines(e) -> list[str]:
    if not e.available:
        return [e.note + "."]
    total = e.total_pJ or 1.0
    lines = [
        "| part | operations (count) | energy per op (pJ) | energy (uJ) | share (%) |",
        "|---|---|---|---|---|",
    ]
    for k, pj in e.compute_pJ.items():
        if e.ops[k]:
            lines.append(
                f"| compute: {k} | {e.ops[k]:,.0f} | {e.op_energy_pJ[k]:g} "
                f"| {pj * 1e-6:.4g} | {100 * pj / total:.1f} |"
            )
    for k, pj in e.memory.energy_pJ.items():
        lines.append(
            f"| memory: {k} ({e.memory.where[k]}) | {e.memory.words[k]:,.0f} words "
            f"| | {pj * 1e-6:.4g} | {100 * pj / total:.1f} |"
        )
    lines += [
        f"| **compute total** | | | {e.compute_total_pJ * 1e-6:.4g} | "
        f"{100 * e.compute_total_pJ / total:.1f} |",
        f"| **memory access total** | | | {e.memory_total_pJ * 1e-6:.4g} | "
        f"{100 * e.memory_total_pJ / total:.1f} |",
        f"| **total per forecast frame** | | | **{e.total_pJ * 1e-6:.4g}** | 100 |",
        "",
        f"Per day at {e.frame_rate_Hz:.4g} Hz ({e.frames_per_day:,.0f} forecasts per day): "
        f"**{e.per_day_J:.4g} J** ({e.per_day_J / 3.6:.4g} mWh).",
    ]
    return lines + [f"\nNote: {n}." for n in e.notes]


def _counts_lines(p) -> list[str]:
    c, nb, t = p.counts, p.neurobench, p.counts.totals
    lines = [
        "| metric | value | definition |",
        "|---|---|---|",
        f"| Footprint | {nb.Footprint_B:,} B | parameters + buffers as stored (float32) |",
        f"| ConnectionSparsity | {nb.ConnectionSparsity:.4f} | zero weights / all weights |",
        f"| ActivationSparsity | {_fmt(nb.ActivationSparsity)} | zero activations / all "
        "(spikes of LIF layers; ReLU outputs for non-spiking models) |",
        f"| SynapticOperations Effective_MACs | {t.macs:,.0f} | real-valued nonzero inputs x "
        "fan-out (includes LSTM gate matmuls) |",
        f"| SynapticOperations Effective_ACs | {t.acs:,.0f} | input spikes x fan-out |",
        f"| SynapticOperations Dense | {t.dense:,.0f} | every input x fan-out |",
        f"| MembraneUpdates | {nb.MembraneUpdates:,.0f} | neuron-steps whose membrane "
        "changed (or which spiked) |",
        f"| neuron updates (dense) | {c.neuron_totals.neurons:,.0f} | neurons x steps |",
        f"| firing rate | {_fmt(c.firing_rate)} | spikes / neuron / step |",
        f"| gate products / sums / nonlinearities | {t.mult:,.0f} / {t.add:,.0f} / "
        f"{t.nonlinear:,.0f} | LSTM/RNN cell arithmetic, ReLU evaluations |",
        "",
        "## Per layer and per step",
        "",
        "| layer | kind | parameters | in | out | dense ops | eff. MACs | eff. ACs "
        "| eff. ops per step |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_layer_row(name, row) for name, row in c.per_layer.items()]
    if c.neuron_layers:
        lines += [
            "",
            "| spiking layer | neurons | firing rate | firing rate per step | active updates |",
            "|---|---|---|---|---|",
        ]
        lines += [_neuron_row(name, row) for name, row in c.neuron_layers.items()]
    return lines


def _layer_row(name: str, row) -> str:
    steps = " / ".join(f"{s.effective:,.0f}" for s in row.steps)
    t = row.total
    return (
        f"| {name} | {row.kind} | {row.params:,} | {_shape(row.in_shape)} | "
        f"{_shape(row.out_shape)} | {t.dense:,.0f} | {t.macs:,.0f} | {t.acs:,.0f} | {steps} |"
    )


def _neuron_row(name: str, row) -> str:
    per = " / ".join(f"{r:.4f}" for r in row.firing_rate_per_step)
    return (
        f"| {name} | {row.neurons_per_step:,} | {row.firing_rate:.4f} | {per} | {row.active:,.0f} |"
    )


def _layout_table(layouts: dict) -> list[str]:
    """The C firmware account of the model at each firmware precision, side by side."""
    from edge_shm.firmware_sim.c.readme import memory_table

    if not layouts:
        return []
    return [
        "",
        "C firmware layout of the model (`firmware_sim/c/layout.py`, before calibration): the "
        "buffers the generator declares, the stack reserve and the alignment padding of the "
        "Cortex-M4 link; the RAM total is the ELF's .data + .bss + stack.",
        "",
        *memory_table(layouts),
    ]


def _budget_lines(p) -> list[str]:
    mb, mem, dev = p.memory_budget, p.memory, p.device
    inp = mem.input_frame
    lines = [
        "Bytes (B) throughout; KiB = 1,024 B (the device files' KB are KiB).",
        "",
        "| line | values (count) | float32 | int8 | Loihi 8-bit |",
        "|---|---|---|---|---|",
        _mem_row("weights", mem.weights),
        _mem_row("persistent state (" + ", ".join(mem.state.tensors or {}) + ")", mem.state),
        _mem_row("peak activations (largest layer in + out)", mem.peak_activations),
    ]
    if mem.output_frame is not None:
        lines.append(_mem_row("output buffer (one forecast)", mem.output_frame))
    lines += [
        "",
        "Element sizes: weights 4 / 1 / 1 B; state 4 / 2 (int16) / 3 (24-bit) B; activations "
        "and output values 4 / 1 / 1 B.",
        "",
        f"Input frame: {inp.pixels:,} px = {inp.float32_B:,} B (float32), {inp.uint8_B:,} B "
        f"(uint8); vector form mean {inp.vector_mean_B:.1f} B (max {inp.vector_max_B:.0f} B, "
        f"{inp.vector_mean_nodes:.1f} nodes; {inp.vector_source}).",
        *_layout_table(mem.layouts),
        "",
        f"## Memory budget on `{dev['name']}` ({mb.precision})",
        "",
    ]
    if mb.basis and mb.lines:
        lines += [f"Lines: {mb.basis}.", ""]
    if mb.lines:
        lines += ["| line | bytes (B) | KiB | where |", "|---|---|---|---|"]
        lines += [f"| {ln.line} | {ln.bytes:,} | {_kb(ln.bytes)} | {ln.where} |" for ln in mb.lines]
    if mb.checks:
        lines += ["", "| memory | need | budget | headroom | result |", "|---|---|---|---|---|"]
        for ch in mb.checks:
            fmt = (lambda v, u=ch.unit: f"{v:,.0f} {u}") if ch.unit else _b
            lines.append(
                f"| {ch.memory} | {fmt(ch.need_B)} | {fmt(ch.budget_B)} | "
                f"{fmt(ch.headroom_B)} ({ch.headroom_pct:.1f} %) | "
                f"{'PASS' if ch.fits else 'FAIL'} |"
            )
    elif mb.lines:
        lines += ["", "No budget: the device has none; pass `--budget-ram KIB --budget-flash KIB`."]
    if mb.notes:
        lines += [""] * bool(mb.lines) + [f"- {n}." for n in mb.notes]
    if mb.compared:
        c = mb.compared
        lines += ["", "| memory | account (layout) | measured (ELF) | difference | why |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for m in ("RAM", "flash"):
            lines.append(
                f"| {m} | {c['account_B'][m]:,} B | {c['measured_B'][m]:,} B | "
                f"{c['difference_B'][m]:+,} B | {c['explained'][m]} |"
            )
    if mb.cores:
        cr = mb.cores
        lines += [
            "",
            f"Cores needed: {cr.needed:,} ({cr.neurons:,} neurons -> "
            f"{cr.by_neurons:,} cores; memory -> {cr.by_memory:,} cores).",
        ]
    return lines


def _deployed_lines(d) -> list[str]:
    """The calibrated (integer) deployment, measured on the integer engine."""
    if not d:
        return []
    acc = d.get("account_B")
    memory = (
        f"Memory: the C firmware's layout of this calibration (the budget above): RAM "
        f"{acc['RAM']:,} B, flash constants {acc['flash']:,} B."
        if acc
        else "Memory: " + ", ".join(f"{k} {v:,} B" for k, v in d["memory_B"].items()) + "."
    )
    return [
        "",
        f"## Deployed precision: `{d['target']}` calibration (`{d['calibration']}`)",
        "",
        memory,
        "",
        f"Work per forecast on the integer engine (`firmware_sim/int_engine.py`) over "
        f"{d['windows']} windows (event-driven: one addition per event and output it reaches): "
        f"synaptic additions {d['synaptic_ops_per_forecast']:,.0f}; bias additions "
        f"{d['bias_ops_per_forecast']:,.0f}; neuron updates "
        f"{d['neuron_updates_per_forecast']:,.0f}.",
    ]


def _measured_lines(m) -> list[str]:
    """The C firmware on the emulated Cortex-M4: what was measured, what derived."""
    if not m:
        return []
    b, dev = m["elf_bytes"], m["linked_for"]
    lines = [
        "",
        f"## Measured: the C firmware on an emulated Cortex-M4 (`{m['firmware']}`)",
        "",
        f"Built with arm-none-eabi-gcc for a Cortex-M4, linked for `{dev['name']}` (RAM "
        f"{dev['ram_B']:,} B, flash {dev['flash_B']:,} B), run in QEMU (mps2-an386) on the "
        f"same {m['windows']} windows. Measured figures say so; the energy above stays an "
        "estimate from operation counts.",
        "",
        "| figure | value | how |",
        "|---|---|---|",
        f"| instructions per step (frame in, forecast out) | {m['instructions_per_step']:,.0f} "
        "| measured (QEMU) |",
        f"| instructions per forecast ({_steps(m)}-frame window from a zero state) | "
        f"{m['instructions_per_forecast']:,.0f} (max "
        f"{m['instructions_per_forecast_max']:,.0f}) | measured (QEMU) |",
        f"| flash (.text + .data) | {b['flash']:,} B | measured (ELF) |",
        f"| RAM (.data + .bss + stack) | {b['ram']:,} B | measured (ELF) |",
    ]
    if "ms_per_forecast_at_clock" in m:
        lines.append(
            f"| time per {_steps(m)}-frame forecast at {m['clock_hz'] / 1e6:g} MHz | "
            f"{m['ms_per_forecast_at_clock']:.2f} ms | derived: one instruction per cycle "
            "(a lower bound) |"
        )
    return lines


def profile_markdown(p) -> str:
    dev = p.device
    lines = [
        f"# Profile of `{p.model}` ({p.parameters:,} parameters) on `{dev['name']}`",
        "",
        f"Run `{p.run['dir']}`; {p.frames['source']}; {p.frames['windows']} windows. One "
        f"forecast frame = {p.counts.steps_per_forecast} steps (the input window, state reset "
        "per window); every figure is the mean per forecast.",
        "",
        f"Device: {dev['description']} (precision {dev['precision']}, "
        f"{'event-driven' if dev['event_driven'] else 'clocked'}).",
        "",
        "## Energy per forecast frame",
        "",
        *_energy_lines(p.energy),
        "",
        "## Operations per forecast (NeuroBench names where they overlap)",
        "",
        *_counts_lines(p),
        "",
        "## Memory lines",
        "",
        *_budget_lines(p),
        *_deployed_lines(p.run.get("deployed")),
        *_measured_lines(p.run.get("measured")),
        "",
        "## Device figures used",
        "",
        "| quantity | value | unit | source |",
        "|---|---|---|---|",
    ]
    for sec in ("energy", "memory_access", "budget"):
        for k, q in dev[sec].items():
            lines.append(f"| {sec}.{k} | {q['value']:g} | {q['unit']} | {q['source']} |")
    if dev.get("clock"):
        q = dev["clock"]
        lines.append(f"| clock | {q['value']:g} | {q['unit']} | {q['source']} |")
    return "\n".join(lines) + "\n"


def console_table(p):
    """A rich table of the headline figures, every number with its unit."""
    from rich.table import Table

    e, mb = p.energy, p.memory_budget
    tab = Table(title=f"{p.model} on {p.device['name']} (per forecast frame)")
    tab.add_column("quantity")
    tab.add_column("value", justify="right")
    if e.available:
        tab.add_row("energy, compute", _uj(e.compute_total_pJ))
        tab.add_row("energy, memory access", _uj(e.memory_total_pJ))
        tab.add_row("energy, total", _uj(e.total_pJ))
        tab.add_row(f"energy per day at {e.frame_rate_Hz:.4g} Hz", f"{e.per_day_J:.4g} J")
    else:
        tab.add_row("energy", "n/a (no energy figures)")
    t = p.counts.totals
    tab.add_row("effective MACs / ACs", f"{t.macs:,.0f} / {t.acs:,.0f} ops")
    tab.add_row("firing rate", _fmt(p.counts.firing_rate) + " spikes/neuron/step")
    m = p.run.get("measured")
    if m:
        tab.add_row(
            f"instructions per {_steps(m)}-frame forecast (Cortex-M4, measured)",
            f"{m['instructions_per_forecast']:,.0f}",
        )
        if "ms_per_forecast_at_clock" in m:
            tab.add_row(
                f"time per {_steps(m)}-frame forecast at {m['clock_hz'] / 1e6:g} MHz "
                "(1 instruction/cycle)",
                f"{m['ms_per_forecast_at_clock']:.2f} ms",
            )
    if not mb.lines and mb.notes:
        tab.add_row("memory", mb.notes[0])
    for ln in mb.lines:
        tab.add_row(f"{ln.line} in {ln.where}", f"{ln.bytes:,} B")
    if mb.layout and not mb.compared:
        tab.add_row("code in flash", "measured only with --firmware")
    if mb.compared:
        d = mb.compared["difference_B"]
        tab.add_row("RAM, measured - account (layout)", f"{d['RAM']:+,} B")
    for ch in mb.checks:
        unit = ch.unit or "B"
        tab.add_row(
            f"{ch.memory}: {'PASS' if ch.fits else 'FAIL'}",
            f"need {ch.need_B:,.0f} {unit} / budget {ch.budget_B:,.0f} {unit}",
        )
    return tab


def devices_table(devices: dict):
    """A rich table of device profiles (``devices``: name -> Device): energy per operation
    and memory limits, each with its unit."""
    from rich import box
    from rich.table import Table

    tab = Table(
        title="device profiles (sources: edge-shm profile reports, docs/profile.md)",
        box=box.SIMPLE_HEAD,  # no vertical rules: room for the columns at 80 characters
        pad_edge=False,
    )
    longest = max((len(n) for n in devices), default=4)
    tab.add_column("name", no_wrap=True, min_width=longest)  # the names one types, never cut
    for col in ("kind", "precision", "MAC", "AC", "neuron update", "RAM", "flash"):
        tab.add_column(col, overflow="fold")

    def q(section, key):
        return f"{section[key].value:g} {section[key].unit}" if key in section else "-"

    for name, d in sorted(devices.items()):
        e, b = d.energy, d.budget
        tab.add_row(
            name,
            d.kind,
            d.precision,
            q(e, "mac"),
            q(e, "ac"),
            q(e, "neuron_active"),
            q(b, "ram"),
            q(b, "flash"),
        )
    return tab


def write_profile(p, out_dir) -> str:
    """The report folder: profile.md, profile.json, energy.png, memory.png (atomically)."""
    from edge_shm.reports.plots import energy_split, memory_budget

    md = profile_markdown(p)
    with report_dir(out_dir, "profile folder") as tmp:
        write_json(tmp / "profile.json", p.to_dict())
        write_text(tmp / "profile.md", md)
        if p.energy.available:
            energy_split([(f"{p.model} @ {p.device['name']}", p.energy)], tmp / "energy.png")
        if p.memory_budget.lines:  # none where the model cannot run on the device
            memory_budget([(p.model, p.memory_budget)], tmp / "memory.png")
    return md + f"\nreport: {Path(out_dir) / 'profile.md'}"
