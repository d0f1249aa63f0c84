"""The static buffers of a C firmware tree, in one list: what the generator declares and what
the profiler adds up (``edge-shm profile``: the RAM and flash a deployed precision needs).

:func:`static_buffers` lists every buffer of fixed size the firmware has, in declaration order:
its C name, group (weights, biases, state, spikes, scratch, ...), element type and bytes, count,
memory (flash for ``const`` data, RAM otherwise) and the file that declares it. The generator
(``generate.py``) writes model.c's declarations from this list; the engine's and harness's own
buffers (``engine.c``, ``harness.c``, ``io_semihosting.c``: fixed sources) are listed as they
declare them, and a test reads those files to keep the two in step.

RAM = the buffers + the stack reserve of the linker script (``toolchain.STACK_BYTES``) + the
alignment padding of the Cortex-M4 link (:func:`alignment_padding`: every array word-aligned,
int64 arrays and the stack 8-aligned, placed as arm-none-eabi-gcc places them). Flash = the
const buffers + code, which only a build measures (``profile --firmware``).

A :class:`Geometry` is what the layout depends on: layer shapes and the precision, plus the
accumulator width (int64 only where a calibration's sums may exceed int32). It comes from a
calibration (:func:`geometry`, exact) or from the float deployment graph (:func:`graph_geometry`:
int8 from the worst case of 8-bit weights and pixels, Loihi assumed int32).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_shm.errors import UserError
from edge_shm.firmware_sim.c.toolchain import M4_SOURCES, STACK_BYTES

SCRATCH_VALUES = 8192  # accumulators per band of output rows (at least one row)
CHUNK = 256  # forecast values the harness writes at once (harness.c: z[CHUNK])
INT32_MAX = 2**31 - 1
LAYER_STRUCT_BYTES = 96  # sizeof(esf_layer_t) with 32-bit pointers: 20 int32 + 4 pointers
POINTER_BYTES = 4  # Cortex-M4
ACCUMULATORS = {"calibration": "from the calibration's largest sum",
                "int8 bound": "127 x 255 x the largest fan-in fits int32",
                "assumed": "assumed: a Loihi calibration sets it (--calibration)"}  # fmt: skip


@dataclass(frozen=True)
class Buffer:
    """One statically sized array (or scalar) of the firmware."""

    name: str  # C identifier
    group: str  # weights, biases, out_map, layer_table, state, spikes, scratch, readout, input,
    #             output, counters
    ctype: str
    elem_bytes: int
    count: int
    memory: str  # "flash" (const) or "RAM"
    source: str  # "model.c" (generated) or the fixed source that declares it
    static: bool = True  # file-local (``static``) or shared through model.h
    dim: str = ""  # the C expression of its length, when not the number

    @property
    def bytes(self) -> int:
        return self.elem_bytes * self.count

    @property
    def align(self) -> int:
        """Alignment on the Cortex-M4 at -O2: arrays are word-aligned (GCC's DATA_ALIGNMENT on
        ARM), 8-byte elements 8-aligned."""
        return min(8, max(4, self.elem_bytes))

    def declaration(self) -> str:
        """The C definition of a buffer without initial values (zeroed at start-up)."""
        qual = "static " if self.static else ""
        return f"{qual}{self.ctype} {self.name}[{self.dim or self.count}];"

    def extern(self) -> str:
        """Its declaration in a header (a buffer shared through model.h)."""
        const = "const " if self.memory == "flash" else ""
        return f"extern {const}{self.ctype} {self.name}[{self.dim or self.count}];"


@dataclass(frozen=True)
class LayerGeometry:
    name: str
    lif: bool
    in_shape: tuple
    out_shape: tuple
    kernel: tuple
    stride: tuple

    @property
    def neurons(self) -> int:
        return int(np.prod(self.out_shape))

    @property
    def weights(self) -> int:
        return self.out_shape[0] * self.in_shape[0] * self.kernel[0] * self.kernel[1]


@dataclass(frozen=True)
class Geometry:
    """What the layout of a firmware depends on. ``target`` "int8" or "loihi"; ``wide``:
    64-bit accumulators; ``accumulators``: how ``wide`` was decided (a key of ACCUMULATORS);
    ``map_max``: the largest readout index the forecast reads."""

    model: str
    target: str
    frame_shape: tuple
    layers: tuple
    out_shape: tuple
    map_max: int
    wide: bool = False
    accumulators: str = "calibration"
    channels: int = 1  # of the input frame

    @property
    def readout_size(self) -> int:
        return self.layers[-1].neurons

    @property
    def out_size(self) -> int:
        return int(np.prod(self.out_shape))

    @property
    def map_type(self) -> tuple[str, int]:
        return ("uint16_t", 2) if self.map_max < 2**16 else ("uint32_t", 4)


def _layers(pairs) -> tuple:
    return tuple(
        LayerGeometry(name, bool(lif), tuple(int(s) for s in i), tuple(int(s) for s in o),
                      tuple(int(k) for k in kernel), tuple(int(s) for s in stride))
        for name, lif, i, o, kernel, stride in pairs
    )  # fmt: skip


def accumulator_bound(fixed) -> int:
    """The largest |synaptic sum| any layer can reach: sum of |w| over a channel's taps times
    the largest input (pixels: the input scale; spikes: 1)."""
    bound = 0
    for i, layer in enumerate(fixed.layers):
        in_max = fixed.input_scale if i == 0 else 1
        per_out = np.abs(layer.weight).reshape(layer.weight.shape[0], -1).sum(axis=1)
        bound = max(bound, int(per_out.max()) * in_max)
    return bound


def out_map(fixed) -> np.ndarray:
    """For each forecast value (C', H', W', flattened) the index of the readout value (HWC
    order) it reads: the depth-to-space operations applied to an index array."""
    from edge_shm.graph import post_op_from_dict

    c, h, w = fixed.layers[-1].out_shape
    y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    hwc_index = ((y * w + x) * c + ch).transpose(2, 0, 1)[None]  # (1, C, H, W)
    z = hwc_index
    for d in fixed.post:
        if d["op"] != "keep_cracked":
            z = post_op_from_dict(d).apply(z, None)
    return z[0].ravel()


def post_shape(fixed) -> tuple[int, int, int]:
    """The forecast's shape (C', H', W'): the readout's after the output operations."""
    from edge_shm.graph import post_op_from_dict

    shape = tuple(fixed.layers[-1].out_shape)
    for d in fixed.post:
        shape = post_op_from_dict(d).out_shape(shape)
    return tuple(int(s) for s in shape)


def geometry(fixed) -> Geometry:
    """The geometry of a calibration (a :class:`~edge_shm.firmware_sim.fixed_graph.FixedGraph`)."""
    layers = _layers(
        (la.name, la.lif, la.in_shape, la.out_shape, la.weight.shape[2:], la.stride)
        for la in fixed.layers
    )
    return Geometry(fixed.model, fixed.target, tuple(fixed.frame_shape), layers,
                    post_shape(fixed), int(out_map(fixed).max()),
                    accumulator_bound(fixed) >= INT32_MAX, "calibration",
                    int(fixed.input_shape[0]))  # fmt: skip


def graph_geometry(graph, target: str) -> Geometry:
    """The geometry of a float :class:`~edge_shm.graph.DeploymentGraph` at ``target`` before
    any calibration: int8 sums are at most 127 x 255 x the fan-in; Loihi's depend on the
    calibration's scales, int32 is assumed."""
    if target not in ("int8", "loihi"):
        raise UserError(f"no C firmware layout at {target!r} (int8 or loihi)")
    in_shapes, out_shapes = graph.input_shapes(), graph.shapes()
    pairs = []
    for conv, lif in graph.synapse_chain():
        i = graph.layers.index(conv)
        kernel = np.shape(conv.weight)[2:]
        pairs.append((conv.name, lif is not None, in_shapes[i], out_shapes[i], kernel, conv.stride))
    layers = _layers(pairs)
    fan_in = max(la.in_shape[0] * la.kernel[0] * la.kernel[1] for la in layers)
    wide = target == "int8" and 127 * 255 * fan_in >= INT32_MAX
    return Geometry(graph.model, target, tuple(graph.input_shape[1:]), layers,
                    tuple(int(s) for s in graph.output_shape), layers[-1].neurons - 1, wide,
                    "int8 bound" if target == "int8" else "assumed",
                    int(graph.input_shape[0]))  # fmt: skip


def check_geometry(geo: Geometry) -> None:
    """What the C engine cannot run whatever the calibration, in one line."""
    if geo.channels != 1:
        raise UserError(f"the C firmware takes one-channel frames, not {geo.channels}")
    for la in geo.layers:
        if any(s & (s - 1) for s in la.stride):
            raise UserError(f"layer {la.name}: stride {la.stride} is not a power of two")
        if max(la.out_shape + la.in_shape) > 65535:
            raise UserError(f"layer {la.name}: a dimension beyond 65535")


def band_rows(layer) -> int:
    """Output rows computed at once: as many as fit SCRATCH_VALUES accumulators, at least 1."""
    c, h, w = layer.out_shape
    return max(1, min(h, SCRATCH_VALUES // (w * c)))


def scratch_values(layers) -> int:
    """Accumulators of the banded scratch: the largest band of any layer."""
    return max(band_rows(la) * la.out_shape[2] * la.out_shape[0] for la in layers)


def static_buffers(geo: Geometry) -> list[Buffer]:
    """Every statically sized buffer of the firmware of ``geo``, in declaration order per
    file (model.c first, then the fixed sources)."""
    loihi = geo.target == "loihi"
    v_type, v_bytes = ("esf_v_t", 1) if loihi else ("esf_v_t", 2)  # uint8_t x 3 / int16_t
    acc = 8 if geo.wide else 4
    out = []
    for i, la in enumerate(geo.layers):
        out.append(Buffer(f"w{i}", "weights", "int8_t", 1, max(la.weights, 1), "flash", "model.c"))
        out.append(Buffer(f"b{i}", "biases", "int32_t", 4, la.out_shape[0], "flash", "model.c"))
        if la.lif:
            n = la.neurons
            out.append(Buffer(f"v{i}", "state", v_type, v_bytes, 3 * n if loihi else n, "RAM",
                              "model.c"))  # fmt: skip
            out.append(Buffer(f"s{i}", "spikes", "uint8_t", 1, (n + 7) // 8, "RAM", "model.c"))
    n_lif = sum(la.lif for la in geo.layers)
    map_t, map_b = geo.map_type
    out += [
        Buffer("esf_layers", "layer_table", "esf_layer_t", LAYER_STRUCT_BYTES, len(geo.layers),
               "flash", "model.c", False, "ESF_N_LAYERS"),
        Buffer("esf_lif_layers", "layer_table", "esf_layer_t *const", POINTER_BYTES, n_lif,
               "flash", "model.c", False, "ESF_N_LIF"),
        Buffer("esf_scratch", "scratch", "esf_acc_t", acc, scratch_values(geo.layers), "RAM",
               "model.c", False),
        Buffer("esf_readout_buf", "readout", "int32_t", 4, geo.readout_size, "RAM", "model.c",
               False, "ESF_READOUT_SIZE"),
        Buffer("esf_out_map", "out_map", map_t, map_b, geo.out_size, "flash", "model.c", False,
               "ESF_OUT_SIZE"),
        Buffer("synaptic_ops", "counters", "uint32_t", 4, 1, "RAM", "engine.c"),
        Buffer("frame", "input", "uint8_t", 1, int(np.prod(geo.frame_shape)), "RAM",
               "harness.c", True, "ESF_FRAME_PIXELS"),
        Buffer("z", "output", "int64_t", 8, CHUNK, "RAM", "harness.c", True, "CHUNK"),
        Buffer("wraps", "counters", "uint32_t", 4, 1, "RAM", "io_semihosting.c"),
    ]  # fmt: skip
    return out


def alignment_padding(buffers: list[Buffer]) -> list[tuple[str, int]]:
    """Bytes the Cortex-M4 link adds between RAM buffers and before the stack, as (what,
    bytes) with bytes > 0: .bss holds each file's buffers in the order of M4_SOURCES, a file's
    in reverse order of declaration (as gcc emits them), each at its alignment; .bss ends
    word-aligned and the stack reserve starts 8-aligned (RAM starts 8-aligned; no .data)."""
    order = {name: i for i, name in enumerate(M4_SOURCES)}
    ram = [b for b in buffers if b.memory == "RAM"]
    by_file = sorted(range(len(ram)), key=lambda k: (order.get(ram[k].source, len(order)), -k))
    pads, at = [], 0
    for k in by_file:
        b = ram[k]
        pad = -at % b.align
        if pad:
            pads.append((f"before {b.name} ({b.ctype}, {b.align}-aligned)", pad))
        at += pad + b.bytes
    if -at % 4:
        pads.append(("end of .bss (word-aligned)", -at % 4))
        at += -at % 4
    if -at % 8:
        pads.append(("stack reserve (8-aligned)", -at % 8))
    return pads


@dataclass(frozen=True)
class Group:
    """One line of the memory account: ``key`` (a group), ``line`` (what it is, with its
    element type), ``bytes``, ``memory`` (RAM or flash)."""

    key: str
    line: str
    bytes: int
    memory: str


def memory_groups(geo: Geometry) -> list[Group]:
    """The memory account of the firmware of ``geo``: flash (const data; code is measured
    only) and RAM (buffers, stack reserve, alignment padding), one line per group."""
    bufs = static_buffers(geo)
    loihi = geo.target == "loihi"

    def total(group: str) -> int:
        return sum(b.bytes for b in bufs if b.group == group)

    neurons = sum(la.neurons for la in geo.layers if la.lif)
    scratch = next(b for b in bufs if b.group == "scratch")
    acc = "int64" if geo.wide else "int32"
    map_t = geo.map_type[0].removesuffix("_t")
    pads = alignment_padding(bufs)
    pad_text = "; ".join(f"{what}: {n} B" for what, n in pads) or "none"
    n_layers, n_lif = len(geo.layers), sum(la.lif for la in geo.layers)
    return [
        Group("weights", "weights (int8)" if not loihi else "weights (Loihi 8-bit mantissas)",
              total("weights"), "flash"),
        Group("biases", "biases (int32)" if not loihi else "biases (int32, 24-bit values)",
              total("biases"), "flash"),
        Group("out_map", f"output index map ({geo.out_size:,} x {map_t})", total("out_map"),
              "flash"),
        Group("layer_table", f"layer table ({n_layers} layers, {n_lif} LIF pointers)",
              total("layer_table"), "flash"),
        Group("state", f"persistent state v ({'24-bit, 3' if loihi else 'int16, 2'} B x "
              f"{neurons:,} neurons)", total("state"), "RAM"),
        Group("spikes", f"spike bits (1 bit x {neurons:,} neurons)", total("spikes"), "RAM"),
        Group("scratch", f"banded scratch ({scratch.count:,} x {acc} accumulators, "
              f"{ACCUMULATORS[geo.accumulators]})", total("scratch"), "RAM"),
        Group("input", f"input frame buffer ({total('input'):,} x uint8 pixels)",
              total("input"), "RAM"),
        Group("readout", f"readout buffer ({geo.readout_size:,} x int32)", total("readout"),
              "RAM"),
        Group("output", f"output buffer ({CHUNK} x int64 forecast values, written in chunks)",
              total("output"), "RAM"),
        Group("counters", "counters (synaptic ops, clock wraps: 2 x uint32)", total("counters"),
              "RAM"),
        Group("stack", "stack reserve (linker script)", STACK_BYTES, "RAM"),
        Group("padding", f"alignment padding (Cortex-M4 link: {pad_text})",
              sum(n for _, n in pads), "RAM"),
    ]  # fmt: skip


def account_bytes(geo: Geometry) -> dict[str, int]:
    """RAM (everything the ELF's .data + .bss + stack hold) and flash (const data, no code)."""
    groups = memory_groups(geo)
    return {m: sum(g.bytes for g in groups if g.memory == m) for m in ("RAM", "flash")}
