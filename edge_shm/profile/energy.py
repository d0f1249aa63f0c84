"""Energy per forecast on a device: compute (operations x energy per op) + memory traffic.

On an event-driven device (``event_driven``: Loihi, SpiNNaker) zero inputs cause no work, so
MACs are the effective ones and neurons are charged active / inactive; on a clocked device (CPU,
ASIC) MACs are dense and every neuron is updated every step. ACs are always the effective ones
(spike-driven kernels, the keras-spiking ``synops = connections x rate`` convention).

Memory traffic per step: every weight is read once per layer call, every activation written
once and read once, the persistent state read and written once. Words are 32 bit; the number of
words is the bytes at the device precision / 4. A block lives on chip when it fits the device's
on-chip capacity (weights first, then state + activations), else off chip. Devices without an
``onchip_word`` energy have on-chip traffic included in the per-op energies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from edge_shm.profile.memory import ACT_BYTES, STATE_BYTES, WEIGHT_BYTES, column

SECONDS_PER_DAY = 86400.0
DEFAULT_FRAME_RATE_HZ = 1.0 / 60.0
ENERGY_PARTS = ("mac", "ac", "neuron_active", "neuron_inactive", "mult", "add", "nonlinear")


@dataclass
class MemoryTraffic:
    words: dict[str, float]  # 32-bit words moved per forecast: weights, activations, state
    where: dict[str, str]  # "on chip" / "off chip"
    energy_pJ: dict[str, float]
    onchip_included_in_ops: bool
    total_pJ: float


@dataclass
class EnergyReport:
    """Energy per forecast frame (pJ) on one device; ``available`` False without energy data."""

    device: str
    available: bool
    note: str = ""
    ops: dict[str, float] = field(default_factory=dict)
    op_energy_pJ: dict[str, float] = field(default_factory=dict)
    compute_pJ: dict[str, float] = field(default_factory=dict)
    compute_total_pJ: float = 0.0
    memory: MemoryTraffic | None = None
    memory_total_pJ: float = 0.0
    total_pJ: float = 0.0
    per_layer_compute_pJ: dict[str, float] = field(default_factory=dict)
    frame_rate_Hz: float = DEFAULT_FRAME_RATE_HZ
    frames_per_day: float = 0.0
    per_day_J: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        if not self.available:
            return {"device": self.device, "available": False, "note": self.note}
        out = asdict(self)
        out.pop("note")
        return out


def forecast_ops(counts, device) -> dict[str, float]:
    """Operations per forecast charged on ``device`` (see the module text)."""
    t, n = counts.totals, counts.neuron_totals
    if device.event_driven:
        active, inactive, macs = n.active, n.neurons - n.active, t.macs
    else:
        active, inactive, macs = n.neurons, 0.0, t.macs_dense
    return {
        "mac": macs,
        "ac": t.acs,
        "neuron_active": active,
        "neuron_inactive": inactive,
        "mult": t.mult,
        "add": t.add,
        "nonlinear": t.nonlinear,
    }


def memory_traffic(profile, device) -> MemoryTraffic:
    """32-bit words moved per forecast, where they live and what they cost (pJ)."""
    p = column(device.precision)
    acc, mem = profile.counts.access_elems, profile.memory
    words = {
        "weights": acc.get("weights", 0.0) * WEIGHT_BYTES[p] / 4,
        "activations": acc.get("activations", 0.0) * ACT_BYTES[p] / 4,
        "state": acc.get("state", 0.0) * STATE_BYTES[p] / 4,
    }
    ma = device.memory_access
    cap = ma["onchip_capacity"].base if "onchip_capacity" in ma else math.inf
    w_bytes = mem.weights.bytes[p]
    data_bytes = mem.state.bytes[p] + mem.peak_activations.bytes[p]
    weights_on = w_bytes <= cap
    data_on = data_bytes <= cap - (w_bytes if weights_on else 0)
    where = {
        "weights": "on chip" if weights_on else "off chip",
        "activations": "on chip" if data_on else "off chip",
        "state": "on chip" if data_on else "off chip",
    }
    on = ma["onchip_word"].base if "onchip_word" in ma else 0.0
    off = ma["offchip_word"].base if "offchip_word" in ma else on
    energy = {k: words[k] * (on if where[k] == "on chip" else off) for k in words}
    return MemoryTraffic(words, where, energy, "onchip_word" not in ma, float(sum(energy.values())))


def energy_report(profile, device, frame_rate_hz: float = DEFAULT_FRAME_RATE_HZ) -> EnergyReport:
    """Energy per forecast frame (compute + memory, split) and per day on ``device``."""
    if not device.has_energy:
        return EnergyReport(
            device.name,
            False,
            note=f"device {device.name!r} has no energy figures (memory limits only)",
        )
    if device.native == "spiking" and not profile.counts.spiking:
        why = (
            f"{profile.model} is not a spiking network: it cannot run on {device.name}, "
            "which runs spiking networks only (no energy for a deployment that does not exist)"
        )
        return EnergyReport(device.name, False, note=why)
    e = device.op_energy_pj()
    ops = forecast_ops(profile.counts, device)
    compute = {k: ops[k] * e[k] for k in ops}
    traffic = memory_traffic(profile, device)
    total = sum(compute.values()) + traffic.total_pJ
    per_layer = {}
    for name, row in profile.counts.per_layer.items():
        tot = row.total
        mac = tot.macs if device.event_driven else tot.macs_dense
        per_layer[name] = (
            mac * e["mac"]
            + tot.acs * e["ac"]
            + tot.mult * e["mult"]
            + tot.add * e["add"]
            + tot.nonlinear * e["nonlinear"]
        )
    per_layer["neurons"] = compute["neuron_active"] + compute["neuron_inactive"]
    notes = []
    if traffic.onchip_included_in_ops:
        notes.append("on-chip memory traffic is included in the per-operation energies")
    return EnergyReport(
        device=device.name,
        available=True,
        ops=ops,
        op_energy_pJ=e,
        compute_pJ=compute,
        compute_total_pJ=float(sum(compute.values())),
        memory=traffic,
        memory_total_pJ=traffic.total_pJ,
        total_pJ=float(total),
        per_layer_compute_pJ=per_layer,
        frame_rate_Hz=frame_rate_hz,
        frames_per_day=frame_rate_hz * SECONDS_PER_DAY,
        per_day_J=float(total * 1e-12 * frame_rate_hz * SECONDS_PER_DAY),
        notes=notes,
    )


@dataclass
class RateCurve:
    """Energy per forecast (pJ) of a spiking model if its spike-driven inputs had ``rates``.
    ``ann_twin_pJ``: the same network without spikes on the same device; None on a device that
    runs spiking networks only (the twin cannot run there)."""

    rates: list[float]
    energy_pJ: list[float]
    measured_rate: float | None
    measured_pJ: float
    base_pJ: float
    slope_pJ: float
    ann_twin_pJ: float | None


def energy_vs_rate(profile, device, rates) -> RateCurve | None:
    """ACs scale linearly with the input spike rate (ACs = dense ACs x rate); everything else
    stays as measured. Also the same network as a non-spiking twin (every synaptic op a dense
    MAC, every neuron a ReLU evaluation), but not on a device that runs spiking networks only.
    None without energy data."""
    rep = energy_report(profile, device)
    if not rep.available:
        return None
    t, e = profile.counts.totals, rep.op_energy_pJ
    base = rep.total_pJ - t.acs * e["ac"]
    n = profile.counts.neuron_totals.neurons
    twin = None  # a non-spiking network cannot run on a spiking-only device: no price there
    if device.native != "spiking":
        twin = (
            rep.total_pJ
            - rep.compute_total_pJ
            + (t.macs_dense + t.acs_dense) * e["mac"]
            + t.mult * e["mult"]
            + t.add * e["add"]
            + (t.nonlinear + n) * e["nonlinear"]
        )
    return RateCurve(
        rates=list(map(float, rates)),
        energy_pJ=[base + t.acs_dense * e["ac"] * r for r in rates],
        measured_rate=t.acs / t.acs_dense if t.acs_dense else None,
        measured_pJ=rep.total_pJ,
        base_pJ=base,
        slope_pJ=t.acs_dense * e["ac"],
        ann_twin_pJ=twin,
    )


RATE_TOLERANCE = 1e-6  # a crossing this close to rate 1 is the end of the range, not inside it


def break_even_rate(curve: RateCurve | None, reference_pJ: float) -> float | None:
    """Input spike rate at which the SNN starts to cost more than ``reference_pJ``, only when
    strictly inside the swept range (0, 1): None when the SNN is no dearer at every rate up to 1
    (a crossing at rate 1 included: a twin charging MACs at the AC price ties there), 0.0 when it
    costs more even without spikes."""
    if curve is None:
        return None
    if curve.slope_pJ <= 0:  # no spike-driven work: the SNN costs the same at every rate
        return None if curve.base_pJ <= reference_pJ else 0.0
    r = (reference_pJ - curve.base_pJ) / curve.slope_pJ
    if r >= 1 - RATE_TOLERANCE:
        return None
    return max(r, 0.0)
