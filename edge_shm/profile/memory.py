"""Memory lines of a model (bytes at each precision) and the budget check on a device.

One account per deployment. A spiking model that lowers to the C firmware, on a device of
precision int8 or Loihi (``loihi8``), is checked with the firmware's own layout at that
precision (``firmware_sim/c/layout.py``: the buffers the generator declares, the linker
script's stack reserve and the Cortex-M4 link's alignment padding), which is the RAM of its ELF
(.data + .bss + stack); flash is its constants (weights, biases, output index map, layer
table), code measured only with ``--firmware``. ``--calibration`` gives the same layout of the
calibration (``deployed.py``), ``--firmware`` the ELF beside it (``firmware.py``).

Every other model or device keeps the estimate at the device precision from element sizes
(:mod:`edge_shm.neuro.precision`): weights 4 / 1 / 1 B (float32 / int8 / Loihi 8-bit
mantissas), persistent state per neuron 4 / 2 (int16 v, as TFLM's LSTM) / 3 (Loihi's 24-bit v;
the current has no memory) B, activations, input pixels and output values 4 / 1 / 1 B. A
non-spiking model on a device that runs spiking networks only gets no memory or core check.
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


# The C firmware's precision (``layout.Geometry.target``) of a profile column.
FIRMWARE_TARGETS = {"int8": "int8", "loihi8": "loihi"}
CODE_NOTE = "code: measured only with --firmware (flash here is the constants alone)"


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
    """Device-independent memory lines; ``layouts``: the C firmware geometry of the model at
    each firmware precision (``int8``, ``loihi``), empty when it has none."""

    weights: MemoryLine
    state: MemoryLine
    peak_activations: MemoryLine
    input_frame: InputFrame
    output_frame: MemoryLine | None = None
    layouts: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {
            "weights": self.weights.to_dict(),
            "state": self.state.to_dict(),
            "peak_activations": self.peak_activations.to_dict(),
            "input_frame": asdict(self.input_frame),
        }
        if self.output_frame is not None:
            out["output_frame"] = self.output_frame.to_dict()
        if self.layouts:
            out["firmware_layout"] = {t: layout_dict(g) for t, g in self.layouts.items()}
        return out


def layout_dict(geo) -> dict:
    """The C firmware account of ``geo`` for profile.json: lines, totals and every buffer."""
    from edge_shm.firmware_sim.c.layout import account_bytes, memory_groups, static_buffers

    total = account_bytes(geo)
    return {
        "RAM_B": total["RAM"],
        "flash_constants_B": total["flash"],
        "accumulators": geo.accumulators,
        "lines": [asdict(g) for g in memory_groups(geo)],
        "buffers": [
            {"name": b.name, "group": b.group, "ctype": b.ctype, "count": b.count,
             "bytes": b.bytes, "memory": b.memory, "source": b.source}
            for b in static_buffers(geo)
        ],
    }  # fmt: skip


def firmware_layouts(model) -> dict:
    """The C firmware geometry of ``model`` at int8 and Loihi precision (before calibration),
    or {} when it has no C export or the C engine cannot run its graph."""
    from edge_shm.errors import UserError

    if "c" not in model.capabilities.targets:
        return {}
    from edge_shm.firmware_sim.c.layout import check_geometry, graph_geometry

    try:
        graph = model.lower()
        out = {t: graph_geometry(graph, t) for t in FIRMWARE_TARGETS.values()}
        for geo in out.values():
            check_geometry(geo)
    except (UserError, NotImplementedError):
        return {}
    return out


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


def memory_lines(params: int, summary, frame_shape, vector: dict, layouts=None,
                 out_values=None) -> MemoryLines:  # fmt: skip
    """``out_values``: values of one forecast (default one frame of ``frame_shape``)."""
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
        output_frame=MemoryLine.of(h * w if out_values is None else out_values, ACT_BYTES),
        layouts=dict(layouts or {}),
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
    """Memory lines at ``precision`` placed in RAM and flash, checked against the budgets.
    ``basis``: what the lines are (the firmware layout, an estimate, measured); ``layout``:
    the firmware precision of the layout used (None: not a layout) and ``account_B`` its RAM
    and flash (constants) wherever the lines are placed; ``notes``: what is not in the lines;
    ``compared``: measured against the account (``--firmware``)."""

    device: str
    precision: str
    lines: list[BudgetLine]
    need_B: dict[str, int]
    checks: list[BudgetCheck] = field(default_factory=list)
    fits: bool | None = None
    cores: Cores | None = None
    basis: str = ""
    notes: list[str] = field(default_factory=list)
    layout: str | None = None
    account_B: dict | None = None
    compared: dict | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        for c in out["checks"]:
            if c["unit"] is None:
                c.pop("unit")
        for key in ("layout", "account_B", "compared"):
            if out[key] is None:
                out.pop(key)
        return out


def _check(what: str, need: float, budget: float, unit=None) -> BudgetCheck:
    return BudgetCheck(
        what, need, budget, budget - need, 100.0 * (budget - need) / budget, need <= budget, unit
    )


def _need(lines: list[BudgetLine]) -> dict[str, int]:
    return {w: sum(x.bytes for x in lines if x.where == w) for w in ("RAM", "flash")}


def recheck(rep: MemoryBudget, checks: list[BudgetCheck]) -> MemoryBudget:
    """``rep`` with ``checks`` (of another report's lines) redone on its own need."""
    for c in checks:
        rep.checks.append(_check(c.memory, rep.need_B[c.memory], c.budget_B) if c.memory in
                          rep.need_B else c)  # fmt: skip
    rep.fits = all(c.fits for c in rep.checks) if rep.checks else None
    return rep


def layout_lines(groups, has_flash: bool) -> list[BudgetLine]:
    """Budget lines of a firmware account (``layout.Group`` or their dicts): constants in flash
    when the device has a flash budget, else everything in RAM."""
    out = []
    for g in groups:
        g = g if isinstance(g, dict) else asdict(g)
        where = "flash" if g["memory"] == "flash" and has_flash else "RAM"
        out.append(BudgetLine(g["line"], g["bytes"], where))
    return out


def layout_basis(target: str, of: str) -> str:
    return (
        f"the C firmware's layout at {target} ({of}; firmware_sim/c/layout.py): the buffers "
        "the generator declares (weights, biases, persistent state v, spike bits, banded "
        "scratch, input frame, readout and output buffers), the linker script's stack reserve "
        "and the Cortex-M4 link's alignment padding, i.e. the RAM of its ELF (.data + .bss + "
        "stack)"
    )


def _estimate(mem: MemoryLines, p: str, has_flash: bool) -> list[BudgetLine]:
    act = ACT_BYTES[p] * 8
    out_line = mem.output_frame or MemoryLine.of(mem.input_frame.pixels, ACT_BYTES)
    return [
        BudgetLine(f"weights ({p})", mem.weights.bytes[p], "flash" if has_flash else "RAM"),
        BudgetLine(f"persistent state ({STATE_BYTES[p] * 8}-bit)", mem.state.bytes[p], "RAM"),
        BudgetLine(f"peak activations ({act}-bit)", mem.peak_activations.bytes[p], "RAM"),
        BudgetLine(
            f"input frame buffer, pixels ({INPUT_BYTES[p] * 8}-bit)",
            mem.input_frame.pixels * INPUT_BYTES[p],
            "RAM",
        ),
        BudgetLine(f"output buffer, forecast frame ({act}-bit)", out_line.bytes[p], "RAM"),
    ]


def memory_report(profile, device, budget_ram_B=None, budget_flash_B=None) -> MemoryBudget:
    """Memory needed at the device precision, placed in flash and RAM, against the budget:
    the firmware layout where there is one (module docstring), else the estimate."""
    p = column(device.precision)
    mem = profile.memory
    ram_budget = budget_ram_B if budget_ram_B is not None else device.budget_bytes("ram")
    flash_budget = budget_flash_B if budget_flash_B is not None else device.budget_bytes("flash")
    has_flash = flash_budget is not None
    if device.native == "spiking" and not profile.counts.spiking:
        why = (
            f"{profile.model} is not a spiking network: it cannot run on {device.name}, which "
            "runs spiking networks only (no memory or core check for a deployment that does "
            "not exist)"
        )
        return MemoryBudget(device.name, p, [], {"RAM": 0, "flash": 0}, basis="cannot run "
                            "there", notes=[why])  # fmt: skip
    target = FIRMWARE_TARGETS.get(p)
    geo = mem.layouts.get(target)
    if geo is not None:
        from edge_shm.firmware_sim.c.layout import account_bytes, memory_groups

        lines = layout_lines(memory_groups(geo), has_flash)
        rep = MemoryBudget(device.name, p, lines, _need(lines), layout=target,
                           account_B=account_bytes(geo), notes=[CODE_NOTE],
                           basis=layout_basis(target, "of the float graph, before "
                                              "calibration"))  # fmt: skip
        if device.kind == "neuromorphic":
            rep.notes.append(
                "on a neuromorphic device the C firmware's layout at this precision stands for "
                "the deployment's memory: the cores by memory divide its total by the memory "
                "per core"
            )
    else:
        lines = _estimate(mem, p, has_flash)
        why = "a float32 device" if target is None else "no C firmware of this model"
        rep = MemoryBudget(device.name, p, lines, _need(lines),
                           basis=f"an estimate at {p} ({why}) from element sizes",
                           notes=["not counted: scratch, stack, code"])  # fmt: skip
    for what, budget in (("RAM", ram_budget), ("flash", flash_budget)):
        if budget is not None:
            rep.checks.append(_check(what, rep.need_B[what], budget))
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
