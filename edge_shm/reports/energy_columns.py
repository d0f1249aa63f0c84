"""The energy columns and section of ``edge-shm compare`` (profiles each run on test windows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_shm.errors import UserError


class EnergyColumns:
    """Fills ``row.energy_uj`` (per device) and ``row.firing_rate``; writes the energy figures."""

    def __init__(self, devices, library=None, max_windows: int = 16):
        self.devices = devices
        self.library = library
        self.max_windows = max_windows
        self.profiles: dict[str, object] = {}
        self.skipped: str | None = None

    def _library_for(self, row) -> Path | None:
        if self.library is not None:
            return Path(self.library)
        return Path(row.library) if row.library and Path(row.library).is_file() else None

    def __call__(self, rows: list) -> None:
        from edge_shm.profile.energy import energy_report
        from edge_shm.profile.profiler import load_windows, profile_model
        from edge_shm.runs import load_run

        if self.library is not None and not Path(self.library).is_file():
            raise UserError(f"{self.library}: no such library file")
        for row in rows:
            row.energy_uj = dict.fromkeys((d.name for d in self.devices), None)
            lib_path = self._library_for(row)
            if lib_path is None:
                self.skipped = (
                    f"{row.run}: its evaluation library is gone; pass --library to "
                    "add energy columns"
                )
                continue
            model, config = load_run(row.run)
            n_in = (config.get("window") or [None])[0]
            x, _, pixel_mm = load_windows(lib_path, None, "test", self.max_windows, n_in)
            prof = profile_model(model, x, pixel_mm=pixel_mm)
            self.profiles[row.run] = prof
            row.firing_rate = prof.counts.firing_rate
            for dev in self.devices:
                rep = energy_report(prof, dev)
                row.energy_uj[dev.name] = rep.total_pJ * 1e-6 if rep.available else None

    def section(self, rows: list, out_dir: Path) -> str:
        from edge_shm.profile.energy import energy_vs_rate
        from edge_shm.reports.comparison import accuracy_axis
        from edge_shm.reports.plots import energy_vs_accuracy, energy_vs_firing_rate

        if self.skipped:
            return f"\nEnergy: n/a ({self.skipped})."
        axis = accuracy_axis(rows)
        figure = "energy_vs_tip_error.png" if axis.tip else "energy_vs_mae.png"
        energy_vs_accuracy(rows, [d.name for d in self.devices], axis, out_dir / figure)
        lines = [
            "",
            "## Energy per forecast frame (uJ)",
            "",
            f"Profiled on {self.max_windows} test windows per run (one forecast = one window of "
            "input frames). Devices: "
            + ", ".join(f"`{d.name}`" for d in self.devices)
            + ". Details: `edge-shm profile`.",
            "",
        ]
        spiking = [r for r in rows if r.spiking and r.run in self.profiles]
        other = [r for r in rows if not r.spiking and r.run in self.profiles]
        curves = []
        for s in spiking[:1]:
            for dev in self.devices:
                curve = energy_vs_rate(self.profiles[s.run], dev, np.linspace(0, 1, 51))
                if curve is not None:
                    curves.append(self._against(s, other, dev, curve, lines))
        figures = [figure]
        if curves:
            energy_vs_firing_rate(curves, out_dir / "energy_vs_firing_rate.png")
            figures.append("energy_vs_firing_rate.png")
            lines += [
                "",
                f"Measured input spike rate of the SNN's spike-driven layers: "
                f"{curves[0]['curve'].measured_rate:.4f} spikes/neuron/step.",
            ]
        lines += ["", f"Figures: {', '.join(figures)}. {axis.note()}"]
        return "\n".join(lines)

    def _against(self, s, other: list, dev, curve, lines: list) -> dict:
        """The SNN ``s``'s rate curve on ``dev`` against the other models and its non-spiking
        twin, where they can run (nothing priced on a device they cannot run on); appends the
        Markdown lines; returns the figure's item."""
        from edge_shm.profile.energy import break_even_rate, energy_report

        refs = {}
        for o in other:
            rep = energy_report(self.profiles[o.run], dev)
            if rep.available:
                refs[o.model] = rep.total_pJ
            else:
                lines.append(f"- `{dev.name}`: {rep.note}.")
        if curve.ann_twin_pJ is not None:
            refs["non-spiking twin"] = curve.ann_twin_pJ
        be = {k: break_even_rate(curve, v) for k, v in refs.items()}
        for o in (o for o in other if o.model in refs):
            ratio = refs[o.model] / curve.measured_pJ
            lines.append(
                f"- `{dev.name}`: {o.model} / {s.model} energy ratio {ratio:,.1f}x; "
                + _break_even_text(be[o.model], o.model, curve, refs[o.model])
            )
        if curve.ann_twin_pJ is None:
            lines.append(
                f"- `{dev.name}`: no non-spiking twin: {dev.name} runs spiking networks only."
            )
        else:
            lines.append(
                f"- `{dev.name}`: vs the same network without spikes: "
                + _break_even_text(
                    be["non-spiking twin"], "non-spiking twin", curve, curve.ann_twin_pJ
                )  # fmt: skip
            )
        return {"label": dev.name, "curve": curve, "references": refs, "break_even": be}


def _break_even_text(rate, ref: str, curve, ref_pJ: float) -> str:
    """The crossing, said only when it lies strictly inside the swept rates (0, 1)."""
    if rate is None:
        at_one = curve.base_pJ + curve.slope_pJ
        tie = abs(at_one - ref_pJ) <= 1e-6 * max(abs(at_one), abs(ref_pJ))
        return (
            f"the SNN stays cheaper than the {ref} at every spike rate up to 1 "
            "spike/neuron/step" + (" (they cost the same at 1)" if tie else "")
        )
    if rate == 0.0:
        return f"the SNN costs more than the {ref} even without spikes"
    return f"the SNN stops paying off against the {ref} above {rate:.3f} spikes/neuron/step"
