"""Profile reports (Markdown + JSON + PNG) and the energy columns of ``edge-shm compare``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.profile import (
    DEFAULT_FRAME_RATE_HZ,
    PRECISIONS,
    break_even_rate,
    energy_report,
    energy_vs_rate,
    library_windows,
    memory_report,
    profile_model,
    windows_from_frames,
)


def _kb(b) -> str:
    return f"{b / 1024:,.1f} KB" if b is not None else "n/a"


def _uj(pj) -> str:
    return f"{pj * 1e-6:.4g} uJ"


def _n(x) -> str:
    return f"{x:,.0f}" if x is not None else "n/a"


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.2f} %"


def check_positive(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise UserError(f"{name} must be a positive number, got {value}")
    return float(value)


def load_windows(
    run_config: dict,
    library=None,
    frames=None,
    split="test",
    max_windows=None,
    window=None,
    pixel_mm=None,
):
    """Windows (N, T, 1, H, W) and a description of where they came from."""
    if (library is None) == (frames is None):
        raise UserError("give exactly one of --library and --frames")
    if library is not None:
        from edge_shm.library import read_library

        lib = read_library(library, load_physics=False)
        if split not in ("train", "test"):
            raise UserError(f"--split must be train or test, got {split!r}")
        x = library_windows(lib, split, max_windows)
        if window and window != lib.window_in:
            raise UserError(f"--window {window} differs from the library's {lib.window_in}")
        src = f"library `{library}` ({split} split, fingerprint {lib.fingerprint()})"
        return x, src, pixel_mm or lib.pixel_mm
    from edge_shm.library import check_frames, load_frames_any

    arr = check_frames(load_frames_any(frames), str(frames))
    x = windows_from_frames(arr, window or 3, max_windows)
    return x, f"frames `{frames}`", pixel_mm or 0.075


def run_profile(
    run_dir,
    device,
    *,
    library=None,
    frames=None,
    split="test",
    max_windows=64,
    frame_rate_hz=DEFAULT_FRAME_RATE_HZ,
    budget_ram_kb=None,
    budget_flash_kb=None,
    batch=16,
    progress=None,
) -> dict:
    """Profile a run directory on ``device``; returns the full report dictionary."""
    from edge_shm.runs import load_run

    check_positive("--frame-rate", frame_rate_hz)
    budget_ram_kb = check_positive("--budget-ram", budget_ram_kb)
    budget_flash_kb = check_positive("--budget-flash", budget_flash_kb)
    if max_windows is not None and max_windows <= 0:
        raise UserError(f"--max-windows must be a positive integer, got {max_windows}")
    model, config = load_run(run_dir)
    x, source, pixel_mm = load_windows(config, library, frames, split, max_windows)
    prof = profile_model(model, x, pixel_mm=pixel_mm, batch=batch, progress=progress)
    prof["run"] = {
        "dir": str(run_dir),
        "model": config["model"],
        "weights_sha256": config.get("weights_sha256"),
    }
    prof["frames"] = {
        "source": source,
        "windows": int(x.shape[0]),
        "steps_per_forecast": int(x.shape[1]),
    }
    prof["device"] = device.to_dict()
    prof["energy"] = energy_report(prof, device, frame_rate_hz)
    prof["memory_budget"] = memory_report(
        prof,
        device,
        None if budget_ram_kb is None else budget_ram_kb * 1024,
        None if budget_flash_kb is None else budget_flash_kb * 1024,
    )
    return prof


def profile_markdown(p: dict) -> str:
    c, e, mb, mem, nb = p["counts"], p["energy"], p["memory_budget"], p["memory"], p["neurobench"]
    dev = p["device"]
    lines = [
        f"# Profile of `{p['model']}` ({p['parameters']:,} parameters) on `{dev['name']}`",
        "",
        f"Run `{p['run']['dir']}`; {p['frames']['source']}; {p['frames']['windows']} windows. "
        f"One forecast frame = {c['steps_per_forecast']} steps (the input window, state reset "
        "per window); every figure is the mean per forecast.",
        "",
        f"Device: {dev['description']} (precision {dev['precision']}, "
        f"{'event-driven' if dev['event_driven'] else 'clocked'}).",
        "",
        "## Energy per forecast frame",
        "",
    ]
    if e["available"]:
        lines += [
            "| part | operations (count) | energy per op (pJ) | energy (uJ) | share (%) |",
            "|---|---|---|---|---|",
        ]
        total = e["total_pJ"] or 1.0
        for k, pj in e["compute_pJ"].items():
            if e["ops"][k]:
                lines.append(
                    f"| compute: {k} | {e['ops'][k]:,.0f} | {e['op_energy_pJ'][k]:g} "
                    f"| {pj * 1e-6:.4g} | {100 * pj / total:.1f} |"
                )
        for k, pj in e["memory"]["energy_pJ"].items():
            words = e["memory"]["words"][k]
            lines.append(
                f"| memory: {k} ({e['memory']['where'][k]}) | {words:,.0f} words "
                f"| | {pj * 1e-6:.4g} | {100 * pj / total:.1f} |"
            )
        lines += [
            f"| **compute total** | | | {e['compute_total_pJ'] * 1e-6:.4g} | "
            f"{100 * e['compute_total_pJ'] / total:.1f} |",
            f"| **memory access total** | | | {e['memory_total_pJ'] * 1e-6:.4g} | "
            f"{100 * e['memory_total_pJ'] / total:.1f} |",
            f"| **total per forecast frame** | | | **{e['total_pJ'] * 1e-6:.4g}** | 100 |",
            "",
            f"Per day at {e['frame_rate_Hz']:.4g} Hz ({e['frames_per_day']:,.0f} forecasts per "
            f"day): **{e['per_day_J']:.4g} J** ({e['per_day_J'] / 3.6:.4g} mWh).",
        ]
        lines += [f"\nNote: {n}." for n in e["notes"]]
    else:
        lines.append(e["note"] + ".")
    t = c["totals"]
    lines += [
        "",
        "## Operations per forecast (NeuroBench names where they overlap)",
        "",
        "| metric | value | definition |",
        "|---|---|---|",
        f"| Footprint | {nb['Footprint_B']:,} B | parameters + buffers as stored (float32) |",
        f"| ConnectionSparsity | {nb['ConnectionSparsity']:.4f} | zero weights / all weights |",
        f"| ActivationSparsity | {_fmt(nb['ActivationSparsity'])} | zero activations / all "
        "(spikes of LIF layers; ReLU outputs for non-spiking models) |",
        f"| SynapticOperations Effective_MACs | {t['macs']:,.0f} | real-valued nonzero inputs x "
        "fan-out (includes LSTM gate matmuls) |",
        f"| SynapticOperations Effective_ACs | {t['acs']:,.0f} | input spikes x fan-out |",
        f"| SynapticOperations Dense | {t['dense']:,.0f} | every input x fan-out |",
        f"| MembraneUpdates | {nb['MembraneUpdates']:,.0f} | neuron-steps whose membrane "
        "changed (or which spiked) |",
        f"| neuron updates (dense) | {c['neurons']['totals']['neurons']:,.0f} | neurons x steps |",
        f"| firing rate | {_fmt(c['firing_rate'])} | spikes / neuron / step |",
        f"| gate products / sums / nonlinearities | {t['mult']:,.0f} / {t['add']:,.0f} / "
        f"{t['nonlinear']:,.0f} | LSTM/RNN cell arithmetic, ReLU evaluations |",
        "",
        "## Per layer and per step",
        "",
        "| layer | kind | parameters | in | out | dense ops | eff. MACs | eff. ACs "
        "| eff. ops per step |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in c["per_layer"].items():
        tot = row["total"]
        steps = " / ".join(f"{s['macs'] + s['acs']:,.0f}" for s in row["steps"])
        lines.append(
            f"| {name} | {row['kind']} | {row['params']:,} | {_shape(row['in_shape'])} | "
            f"{_shape(row['out_shape'])} | {tot['dense']:,.0f} | {tot['macs']:,.0f} | "
            f"{tot['acs']:,.0f} | {steps} |"
        )
    if c["neurons"]["layers"]:
        lines += [
            "",
            "| spiking layer | neurons | firing rate | firing rate per step | active updates |",
            "|---|---|---|---|---|",
        ]
        for name, row in c["neurons"]["layers"].items():
            per = " / ".join(f"{r:.4f}" for r in row["firing_rate_per_step"])
            lines.append(
                f"| {name} | {row['neurons_per_step']:,} | {row['firing_rate']:.4f} | "
                f"{per} | {row['active']:,.0f} |"
            )
    lines += [
        "",
        "## Memory lines",
        "",
        "| line | values (count) | float32 | int8 | Loihi 8-bit |",
        "|---|---|---|---|---|",
        _mem_row("weights", mem["weights"]),
        _mem_row("persistent state (" + ", ".join(mem["state"]["tensors"]) + ")", mem["state"]),
        _mem_row("peak activations (largest layer in + out)", mem["peak_activations"]),
        "",
        "Element sizes: weights 4 / 1 / 1 B; state 4 / 2 (int16) / 3 (24-bit) B; activations "
        "4 / 1 / 1 B.",
        "",
        f"Input frame: {mem['input_frame']['pixels']:,} px = "
        f"{mem['input_frame']['float32_B']:,} B (float32), {mem['input_frame']['uint8_B']:,} B "
        f"(uint8); vector form mean {mem['input_frame']['vector_mean_B']:.1f} B "
        f"(max {mem['input_frame']['vector_max_B']:.0f} B, "
        f"{mem['input_frame']['vector_mean_nodes']:.1f} nodes; "
        f"{mem['input_frame']['vector_source']}).",
        "",
        f"## Memory budget on `{dev['name']}` ({mb['precision']})",
        "",
        "| line | bytes (B) | KB | where |",
        "|---|---|---|---|",
    ]
    for ln in mb["lines"]:
        lines.append(f"| {ln['line']} | {ln['bytes']:,} | {_kb(ln['bytes'])} | {ln['where']} |")
    if mb["checks"]:
        lines += ["", "| memory | need | budget | headroom | result |", "|---|---|---|---|---|"]
        for ch in mb["checks"]:
            unit = ch.get("unit")
            fmt = _count_fmt(unit) if unit else _kb
            lines.append(
                f"| {ch['memory']} | {fmt(ch['need_B'])} | {fmt(ch['budget_B'])} | "
                f"{fmt(ch['headroom_B'])} ({ch['headroom_pct']:.1f} %) | "
                f"{'PASS' if ch['fits'] else 'FAIL'} |"
            )
    else:
        lines += ["", "No budget: the device has none; pass `--budget-ram KB --budget-flash KB`."]
    if mb["cores"]:
        cr = mb["cores"]
        lines += [
            "",
            f"Cores needed: {cr['needed']:,} ({cr['neurons']:,} neurons -> "
            f"{cr['by_neurons']:,} cores; memory -> {cr['by_memory']:,} cores).",
        ]
    lines += [
        "",
        "## Device figures used",
        "",
        "| quantity | value | unit | source |",
        "|---|---|---|---|",
    ]
    for sec in ("energy", "memory_access", "budget"):
        for k, q in dev[sec].items():
            lines.append(f"| {sec}.{k} | {q['value']:g} | {q['unit']} | {q['source']} |")
    return "\n".join(lines) + "\n"


def _count_fmt(unit: str):
    return lambda v: f"{v:,.0f} {unit}"


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _shape(s) -> str:
    return "x".join(str(v) for v in s) if s else "-"


def _mem_row(name: str, d: dict) -> str:
    return (
        f"| {name} | {d['values']:,} | "
        + " | ".join(f"{d[f'{p}_B']:,} B ({_kb(d[f'{p}_B'])})" for p in PRECISIONS)
        + " |"
    )


def console_table(p: dict):
    """A rich table of the headline figures."""
    from rich.table import Table

    e, mb = p["energy"], p["memory_budget"]
    tab = Table(title=f"{p['model']} on {p['device']['name']} (per forecast frame)")
    tab.add_column("quantity")
    tab.add_column("value", justify="right")
    if e["available"]:
        tab.add_row("energy, compute", _uj(e["compute_total_pJ"]))
        tab.add_row("energy, memory access", _uj(e["memory_total_pJ"]))
        tab.add_row("energy, total", _uj(e["total_pJ"]))
        tab.add_row(f"energy per day at {e['frame_rate_Hz']:.4g} Hz", f"{e['per_day_J']:.4g} J")
    else:
        tab.add_row("energy", "n/a (no energy figures)")
    t = p["counts"]["totals"]
    tab.add_row("effective MACs / ACs", f"{t['macs']:,.0f} / {t['acs']:,.0f}")
    tab.add_row("firing rate", _fmt(p["counts"]["firing_rate"]) + " spikes/neuron/step")
    for ln in mb["lines"]:
        tab.add_row(f"{ln['line']} in {ln['where']}", f"{ln['bytes']:,} B")
    for ch in mb["checks"]:
        unit = ch.get("unit", "B")
        tab.add_row(
            f"{ch['memory']}: {'PASS' if ch['fits'] else 'FAIL'}",
            f"need {ch['need_B']:,.0f} {unit} / budget {ch['budget_B']:,.0f} {unit}",
        )
    return tab


def write_profile(p: dict, out_dir) -> str:
    from edge_shm.atomic import atomic_file
    from edge_shm.plots import energy_split, memory_budget
    from edge_shm.runs import write_json

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "profile.json", p)
    md = profile_markdown(p)
    with atomic_file(out_dir / "profile.md") as tmp:
        tmp.write_text(md)
    label = f"{p['model']} @ {p['device']['name']}"
    if p["energy"]["available"]:
        energy_split([(label, p["energy"])], out_dir / "energy.png")
    memory_budget([(p["model"], p["memory_budget"])], out_dir / "memory.png")
    return md


# --- compare -------------------------------------------------------------------------------


class EnergyColumns:
    """Adds ``energy_<device>_uj`` columns to comparison rows and writes the energy figures."""

    def __init__(self, devices, library=None, max_windows: int = 16):
        self.devices = devices
        self.library = library
        self.max_windows = max_windows
        self.profiles: dict[str, dict] = {}
        self.skipped: str | None = None

    def _library_for(self, row) -> Path | None:
        if self.library is not None:
            return Path(self.library)
        from edge_shm.runs import read_json

        ev = read_json(Path(row["run"]) / "evaluation.json")
        lib = ev.get("run", {}).get("library")
        return Path(lib) if lib and Path(lib).is_file() else None

    def __call__(self, rows: list[dict]) -> None:
        from edge_shm.library import read_library
        from edge_shm.runs import load_run

        if self.library is not None and not Path(self.library).is_file():
            raise UserError(f"{self.library}: no such library file")
        for row in rows:
            lib_path = self._library_for(row)
            if lib_path is None:
                self.skipped = (
                    f"{row['run']}: its evaluation library is gone; pass --library "
                    "to add energy columns"
                )
                continue
            model, _ = load_run(row["run"])
            lib = read_library(lib_path, load_physics=False)
            x = library_windows(lib, "test", self.max_windows)
            prof = profile_model(model, x, pixel_mm=lib.pixel_mm)
            self.profiles[row["run"]] = prof
            row["firing_rate"] = prof["counts"]["firing_rate"]
            for dev in self.devices:
                rep = energy_report(prof, dev)
                row[f"energy_{dev.name}_uj"] = rep["total_pJ"] * 1e-6 if rep["available"] else None
        if self.skipped:
            for row in rows:
                for dev in self.devices:
                    row.setdefault(f"energy_{dev.name}_uj", None)

    def section(self, rows: list[dict], out_dir: Path) -> str:
        from edge_shm.plots import energy_vs_firing_rate, energy_vs_mae

        if self.skipped:
            return f"\nEnergy: n/a ({self.skipped})."
        keys = [f"energy_{d.name}_uj" for d in self.devices]
        energy_vs_mae(rows, keys, out_dir / "energy_vs_mae.png")
        lines = [
            "",
            "## Energy per forecast frame (uJ)",
            "",
            f"Profiled on {self.max_windows} test windows per run (one forecast = one "
            "window of input frames). Devices: "
            + ", ".join(f"`{d.name}`" for d in self.devices)
            + ". Details: `edge-shm profile`.",
            "",
        ]
        snn = [r for r in rows if r["model"] == "snn" and r["run"] in self.profiles]
        other = [r for r in rows if r["model"] != "snn" and r["run"] in self.profiles]
        curves = []
        for s in snn[:1]:
            for dev in self.devices:
                prof = self.profiles[s["run"]]
                curve = energy_vs_rate(prof, dev, np.linspace(0, 1, 51))
                if not curve:
                    continue
                refs = {"non-spiking twin": curve["ann_twin_pJ"]}
                for o in other:
                    rep = energy_report(self.profiles[o["run"]], dev)
                    refs[o["model"]] = rep["total_pJ"]
                be = {k: break_even_rate(curve, v) for k, v in refs.items()}
                curves.append(
                    {"label": dev.name, "curve": curve, "references": refs, "break_even": be}
                )
                for o in other:
                    ratio = refs[o["model"]] / curve["measured_pJ"]
                    lines.append(
                        f"- `{dev.name}`: {o['model']} / snn energy ratio "
                        f"{ratio:,.1f}x; " + _break_even_text(be[o["model"]], o["model"])
                    )
                lines.append(
                    f"- `{dev.name}`: vs the same network without spikes: "
                    + _break_even_text(be["non-spiking twin"], "non-spiking twin")
                )
        if curves:
            energy_vs_firing_rate(curves, out_dir / "energy_vs_firing_rate.png")
            lines += [
                "",
                f"Measured input spike rate of the SNN's spike-driven layers: "
                f"{curves[0]['curve']['measured_rate']:.4f} spikes/neuron/step. "
                "Figures: energy_vs_mae.png, energy_vs_firing_rate.png.",
            ]
        else:
            lines += ["", "Figure: energy_vs_mae.png."]
        return "\n".join(lines)


def _break_even_text(rate, ref: str) -> str:
    if rate is None:
        return f"the SNN stays cheaper than the {ref} at every spike rate up to 1"
    if rate == 0.0:
        return f"the SNN costs more than the {ref} even without spikes"
    return f"the SNN stops paying off against the {ref} above {rate:.3f} spikes/neuron/step"
