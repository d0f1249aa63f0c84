"""Memory lines of a model (bytes at each precision) and the budget check on a device.

Element sizes come from the deployed precisions (:mod:`edge_shm.neuro.precision`, which the
integer engine's deployed bytes read too): weights 4 / 1 / 1 B (float32 / int8 / Loihi 8-bit
mantissas), persistent state per neuron 4 / 2 (int16 v, as TFLM's LSTM) / 3 (Loihi's 24-bit v;
the current has no memory) B, activations 4 / 1 / 1 B, input pixels 4 / 1 / 1 B.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from edge_shm.neuro.precision import precision

# The profile's columns: the device files' precision names (``loihi8`` is ``loihi``).
PRECISIONS = ("float32", "int8", "loihi8")
WEIGHT_BYTES = {p: precision(p).weight_bytes for p in PRECISIONS}
STATE_BYTES = {p: precision(p).state_bytes for p in PRECISIONS}
ACT_BYTES = {p: precision(p).activation_bytes for p in PRECISIONS}
INPUT_BYTES = {p: precision(p).input_bytes for p in PRECISIONS}


def column(name: str) -> str:
    """The profile column of a precision name or alias (``loihi`` -> ``loihi8``)."""
    want = precision(name)
    return next(p for p in PRECISIONS if precision(p) is want)


@dataclass
class MemoryLine:
    """``values`` (count) and their size in bytes at each precision."""

    values: int
    bytes: dict[str, int]
    tensors: dict | None = None  # state only: name -> shape

    @classmethod
    def of(cls, values: int, table: dict, tensors=None) -> MemoryLine:
        return cls(int(values), {p: int(values * b) for p, b in table.items()}, tensors)

    def to_dict(self) -> dict:
        out = {"values": self.values}
        if self.tensors is not None:
            out["tensors"] = self.tensors
        out.update({f"{p}_B": b for p, b in self.bytes.items()})
        return out


@dataclass
class InputFrame:
    """One input frame as pixels (B) and in vector form (B, from the crack encoder)."""

    pixels: int
    float32_B: int
    uint8_B: int
    vector_mean_B: float
    vector_max_B: float
    vector_mean_nodes: float
    vector_source: str


@dataclass
class MemoryLines:
    weights: MemoryLine
    state: MemoryLine
    peak_activations: MemoryLine
    input_frame: InputFrame

    def to_dict(self) -> dict:
        return {
            "weights": self.weights.to_dict(),
            "state": self.state.to_dict(),
            "peak_activations": self.peak_activations.to_dict(),
            "input_frame": asdict(self.input_frame),
        }


def vector_form(frames: np.ndarray, pixel_mm: float, max_frames: int = 64) -> dict:
    """Bytes of crack frames in vector form (M_v = 8 N_n + 24 B), from the vector encoder."""
    from edge_shm import vector
    from edge_shm.data.windows import evenly_spaced

    frames = np.asarray(frames).reshape(-1, *np.shape(frames)[-2:])
    frames = frames[evenly_spaced(len(frames), max_frames)]
    nodes = np.array([vector.encode(f, pixel_mm).n_nodes for f in frames], dtype=float)
    sizes = np.array([vector.vector_bytes(int(n)) for n in nodes], dtype=float)
    return {
        "frames": int(len(frames)),
        "mean_nodes": float(nodes.mean()),
        "mean_B": float(sizes.mean()),
        "max_B": float(sizes.max()),
        "source": "edge_shm.vector.encode (M_v = 2 x 4 x N_n + 24 B)",
    }


def memory_lines(params: int, summary, frame_shape, vector: dict) -> MemoryLines:
    h, w = frame_shape
    return MemoryLines(
        weights=MemoryLine.of(params, WEIGHT_BYTES),
        state=MemoryLine.of(summary.state_elems, STATE_BYTES, summary.state_shapes),
        peak_activations=MemoryLine.of(summary.peak_activation_elems, ACT_BYTES),
        input_frame=InputFrame(
            h * w,
            4 * h * w,
            h * w,
            vector["mean_B"],
            vector["max_B"],
            vector["mean_nodes"],
            vector["source"],
        ),
    )


@dataclass
class BudgetLine:
    line: str
    bytes: int
    where: str  # "RAM" or "flash"


@dataclass
class BudgetCheck:
    memory: str
    need_B: float
    budget_B: float
    headroom_B: float
    headroom_pct: float
    fits: bool
    unit: str | None = None  # None: bytes


@dataclass
class Cores:
    neurons: int
    by_neurons: int
    by_memory: int
    needed: int


@dataclass
class MemoryBudget:
    device: str
    precision: str
    lines: list[BudgetLine]
    need_B: dict[str, int]
    checks: list[BudgetCheck] = field(default_factory=list)
    fits: bool | None = None
    cores: Cores | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        for c in out["checks"]:
            if c["unit"] is None:
                c.pop("unit")
        return out


def _check(what: str, need: float, budget: float, unit=None) -> BudgetCheck:
    return BudgetCheck(
        what, need, budget, budget - need, 100.0 * (budget - need) / budget, need <= budget, unit
    )


def memory_report(profile, device, budget_ram_B=None, budget_flash_B=None) -> MemoryBudget:
    """Memory needed at the device precision, placed in flash and RAM, against the budget."""
    p = column(device.precision)
    mem = profile.memory
    ram_budget = budget_ram_B if budget_ram_B is not None else device.budget_bytes("ram")
    flash_budget = budget_flash_B if budget_flash_B is not None else device.budget_bytes("flash")
    lines = [
        BudgetLine(
            f"weights ({p})", mem.weights.bytes[p], "flash" if flash_budget is not None else "RAM"
        ),
        BudgetLine(f"persistent state ({STATE_BYTES[p] * 8}-bit)", mem.state.bytes[p], "RAM"),
        BudgetLine(
            f"peak activations ({ACT_BYTES[p] * 8}-bit)", mem.peak_activations.bytes[p], "RAM"
        ),
        BudgetLine(
            f"input frame, pixels ({INPUT_BYTES[p] * 8}-bit)",
            mem.input_frame.pixels * INPUT_BYTES[p],
            "RAM",
        ),
    ]
    need = {w: sum(x.bytes for x in lines if x.where == w) for w in ("RAM", "flash")}
    rep = MemoryBudget(device.name, device.precision, lines, need)
    for what, budget in (("RAM", ram_budget), ("flash", flash_budget)):
        if budget is not None:
            rep.checks.append(_check(what, need[what], budget))
    npc, mpc = device.budget_bytes("neurons_per_core"), device.budget_bytes("memory_per_core")
    n_neurons = sum(r.neurons_per_step for r in profile.counts.neuron_layers.values())
    if npc or mpc:
        by_neurons = math.ceil(n_neurons / npc) if npc and n_neurons else 0
        by_memory = math.ceil(sum(x.bytes for x in lines) / mpc) if mpc else 0
        rep.cores = Cores(n_neurons, by_neurons, by_memory, max(1, by_neurons, by_memory))
        chip = device.budget_bytes("cores")
        if chip:
            rep.checks.append(_check("cores", rep.cores.needed, chip, "cores"))
        elif npc:
            rep.checks.append(_check("neurons per core", n_neurons, npc, "neurons"))
    rep.fits = all(c.fits for c in rep.checks) if rep.checks else None
    return rep
