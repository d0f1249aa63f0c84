"""A calibrated graph (:class:`~edge_shm.firmware_sim.fixed_graph.FixedGraph`) as a C99 tree.

``write_firmware(fixed, folder)`` writes::

    esf.h  engine.c          the API and the engine (the same for every network; src/)
    model.h  model.c         this network: sizes, constants, const weights, static state
    harness.c io.h io_host.c io_semihosting.c startup.c    the test harness (host, Cortex-M4)
    cortex_m4.ld             linker script with the RAM and flash of the device profile
    README.md                for the firmware engineer
    firmware.json            manifest (format ``edge-shm-c-firmware``, version 1)

Layouts on the device: weights ``[c_in][ky][kx][c_out]`` as int8 (Loihi: the 8-bit mantissas,
shifted by the layer's weight exponent when used), biases int32 (Loihi: already wrapped to 24
bits), membranes (Loihi: 24 bit in 3 bytes; int8: int16), spikes (bits) and readout (int32)
in (row, column, channel) order, the forecast channel-major through ``esf_out_map``
(depth-to-space as an index map). Each layer is computed in bands of output rows so that the
accumulator scratch holds ``SCRATCH_VALUES`` values, not the whole layer.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.neuro.precision import wrap24

FORMAT_NAME = "edge-shm-c-firmware"
FORMAT_VERSION = 1
ENGINE_FILES = ("esf.h", "engine.c")
HARNESS_FILES = ("harness.c", "io.h", "io_host.c", "io_semihosting.c", "startup.c")
GENERATED = ("model.h", "model.c")
INT32_MAX = 2**31 - 1
SCRATCH_VALUES = 8192  # accumulators per band of output rows (at least one row)


def source_text(name: str) -> str:
    """A file of the engine or harness (``src/``)."""
    return resources.files("edge_shm.firmware_sim.c").joinpath("src", name).read_text("utf-8")


def _array(ctype: str, name: str, values, const: bool = True, per_line: int = 16) -> str:
    vals = [str(int(v)) for v in np.asarray(values).ravel()]
    rows = [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(rows) if rows else "0"
    qual = "const " if const else ""
    return f"static {qual}{ctype} {name}[{max(len(vals), 1)}] = {{\n    {body}\n}};\n"


def accumulator_bound(fixed) -> int:
    """The largest |synaptic sum| any layer can reach: sum of |w| over a channel's taps times
    the largest input (pixels: the input scale; spikes: 1)."""
    bound = 0
    for i, layer in enumerate(fixed.layers):
        in_max = fixed.input_scale if i == 0 else 1
        per_out = np.abs(layer.weight).reshape(layer.weight.shape[0], -1).sum(axis=1)
        bound = max(bound, int(per_out.max()) * in_max)
    return bound


def requant_fits_int32(fixed) -> bool:
    """Whether every int8 layer's requantisation ``(sum + b) M + 2^(shift - 1)`` stays within
    int32 for any input (then the device computes it in 32 bits, no saturation reached)."""
    if fixed.target == "loihi":
        return False
    for i, layer in enumerate(fixed.layers):
        if not layer.lif:
            continue
        in_max = fixed.input_scale if i == 0 else 1
        per_out = np.abs(layer.weight).reshape(layer.weight.shape[0], -1).sum(axis=1) * in_max
        a = int(per_out.max()) + int(np.abs(layer.bias).max(initial=0))
        if a * int(layer.multiplier) + (1 << (int(layer.shift) - 1)) > INT32_MAX:
            return False
    return True


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


def band_rows(layer) -> int:
    """Output rows computed at once: as many as fit SCRATCH_VALUES accumulators, at least 1."""
    _, h, w = layer.out_shape
    return max(1, min(h, SCRATCH_VALUES // (w * layer.out_shape[0])))


def scratch_values(fixed) -> int:
    return max(band_rows(la) * la.out_shape[2] * la.out_shape[0] for la in fixed.layers)


def check_supported(fixed) -> None:
    if fixed.input_shape[0] != 1:
        raise UserError(f"the C firmware takes one-channel frames, not {fixed.input_shape[0]}")
    for layer in fixed.layers:
        mant = layer.weight >> layer.weight_exp if fixed.target == "loihi" else layer.weight
        if np.any(mant < -128) or np.any(mant > 127):
            raise UserError(f"layer {layer.name}: weights beyond 8 bits")
        if any(s & (s - 1) for s in layer.stride):
            raise UserError(f"layer {layer.name}: stride {layer.stride} is not a power of two")
        if max(layer.out_shape + layer.in_shape) > 65535:
            raise UserError(f"layer {layer.name}: a dimension beyond 65535")


def model_sources(fixed) -> dict[str, str]:
    """model.h and model.c of ``fixed``."""
    check_supported(fixed)
    loihi = fixed.target == "loihi"
    wide = accumulator_bound(fixed) >= INT32_MAX
    acc_t, v_t = ("int64_t" if wide else "int32_t"), ("uint8_t" if loihi else "int16_t")
    v_bytes = 3 if loihi else 2
    lifs = [la for la in fixed.layers if la.lif]
    readout = fixed.layers[-1]
    out_c, out_h, out_w = post_shape(fixed)
    mapping = out_map(fixed)
    map_t = "uint16_t" if mapping.max() < 2**16 else "uint32_t"
    scratch = scratch_values(fixed)
    h, w = fixed.frame_shape
    head = [
        "/* Generated by edge-shm from calibration.json: do not edit (regenerate instead). */",
        "#ifndef ESF_MODEL_H",
        "#define ESF_MODEL_H",
        "",
        "#include <stdint.h>",
        "",
        f"/* model {fixed.model}, precision {fixed.target} */",
        f"#define ESF_LOIHI {int(loihi)}",
        f"#define ESF_FRAME_H {h}",
        f"#define ESF_FRAME_W {w}",
        f"#define ESF_FRAME_PIXELS {h * w}",
        f"#define ESF_INPUT_SCALE {fixed.input_scale}",
        f"#define ESF_N_LAYERS {len(fixed.layers)}",
        f"#define ESF_N_LIF {len(lifs)}",
        f"#define ESF_READOUT_SIZE {int(np.prod(readout.out_shape))}",
        f"#define ESF_OUT_C {out_c}",
        f"#define ESF_OUT_H {out_h}",
        f"#define ESF_OUT_W {out_w}",
        f"#define ESF_OUT_SIZE {out_c * out_h * out_w}",
        f"#define ESF_KEEPS_CRACKED {int(fixed.keeps_cracked)}",
        f"/* readout units per frame unit (for decoding off the device): {readout.scale!r} */",
        f"#define ESF_READOUT_SCALE {readout.scale!r}",
        "",
        f"typedef {acc_t} esf_acc_t; /* accumulators: largest sum {accumulator_bound(fixed)} */",
        f"typedef {v_t} esf_v_t;     /* membrane storage: ESF_V_BYTES per neuron */",
        f"#define ESF_V_BYTES {v_bytes}",
        f"#define ESF_REQUANT32 {int(requant_fits_int32(fixed))} /* int8: a M + half fits int32 */",
        "",
        "typedef struct {",
        "    int32_t c_in, h_in, w_in, c_out, h_out, w_out;",
        "    int32_t kh, kw, sy_shift, sx_shift, py, px, dy, dx; /* stride = 1 << shift */",
        "    int32_t band;         /* output rows computed at once (scratch) */",
        "    const int8_t *weight; /* [c_in][kh][kw][c_out] */",
        "    int32_t w_shift;      /* weight = mantissa << w_shift (Loihi; 0 for int8) */",
        "    const int32_t *bias;  /* [c_out] */",
        "    esf_v_t *v;           /* membranes (h_out w_out c_out), NULL for the readout */",
        "    uint8_t *spikes;      /* spike bits of the population */",
        "    int32_t dv, vth, multiplier, shift;",
        "} esf_layer_t;",
        "",
        "extern const esf_layer_t esf_layers[ESF_N_LAYERS];",
        "extern const esf_layer_t *const esf_lif_layers[ESF_N_LIF];",
        f"extern esf_acc_t esf_scratch[{scratch}];",
        "extern int32_t esf_readout_buf[ESF_READOUT_SIZE];",
        f"extern const {map_t} esf_out_map[ESF_OUT_SIZE];",
        "",
        "#endif",
        "",
    ]
    body = [
        "/* Generated by edge-shm from calibration.json: do not edit. */",
        '#include "esf.h"',
        "",
    ]
    rows = []
    for i, la in enumerate(fixed.layers):
        n = int(np.prod(la.out_shape))
        mant = la.weight >> la.weight_exp if loihi else la.weight
        bias = wrap24(la.bias) if loihi else la.bias
        body.append(_array("int8_t", f"w{i}", mant.transpose(1, 2, 3, 0)))
        body.append(_array("int32_t", f"b{i}", bias))
        if la.lif:
            body.append(f"static esf_v_t v{i}[{n * v_bytes if loihi else n}];")
            body.append(f"static uint8_t s{i}[{(n + 7) // 8}];\n")
        c_in, h_in, w_in = la.in_shape
        c_out, h_out, w_out = la.out_shape
        kh, kw = la.weight.shape[2:]
        shifts = [int(s).bit_length() - 1 for s in la.stride]
        geo = (c_in, h_in, w_in, c_out, h_out, w_out, kh, kw, *shifts, *la.padding,
               *la.dilation, band_rows(la))  # fmt: skip
        state = (f"v{i}", f"s{i}") if la.lif else ("0", "0")
        shift = la.weight_exp if loihi else 0
        rows.append(
            f"    {{{', '.join(str(int(g)) for g in geo)}, w{i}, {shift}, b{i}, {state[0]}, "
            f"{state[1]}, {la.dv}, {la.vth}, {la.multiplier}, {la.shift}}}, /* {la.name} */"
        )
    body.append("const esf_layer_t esf_layers[ESF_N_LAYERS] = {\n" + "\n".join(rows) + "\n};")
    refs = ", ".join(f"&esf_layers[{i}]" for i, la in enumerate(fixed.layers) if la.lif)
    body.append(f"const esf_layer_t *const esf_lif_layers[ESF_N_LIF] = {{{refs}}};")
    body.append(f"esf_acc_t esf_scratch[{scratch}];")
    body.append("int32_t esf_readout_buf[ESF_READOUT_SIZE];")
    body.append(_array(map_t, "esf_out_map", mapping).replace("static const", "const", 1))
    return {"model.h": "\n".join(head), "model.c": "\n".join(body)}


def post_shape(fixed) -> tuple[int, int, int]:
    from edge_shm.graph import post_op_from_dict

    shape = tuple(fixed.layers[-1].out_shape)
    for d in fixed.post:
        shape = post_op_from_dict(d).out_shape(shape)
    return tuple(int(s) for s in shape)


def sources(fixed) -> dict[str, str]:
    """Every C file of the tree, name -> text."""
    out = {name: source_text(name) for name in (*ENGINE_FILES, *HARNESS_FILES)}
    out.update(model_sources(fixed))
    return out


def sources_sha256(texts: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(texts):
        h.update(name.encode() + b"\0" + texts[name].encode() + b"\0")
    return h.hexdigest()


def static_bytes(fixed) -> dict[str, int]:
    """What the network itself puts in flash (weights, biases, index map) and RAM (state,
    spikes, scratch, readout), in bytes, before the compiler: the tree's own estimate."""
    loihi = fixed.target == "loihi"
    wide = accumulator_bound(fixed) >= INT32_MAX
    n = [int(np.prod(la.out_shape)) for la in fixed.layers]
    lif_n = [k for k, la in zip(n, fixed.layers, strict=True) if la.lif]
    out = int(np.prod(post_shape(fixed)))
    mapping = out_map(fixed)
    return {
        "weights": int(sum(la.weight.size for la in fixed.layers)),
        "biases": 4 * int(sum(la.bias.size for la in fixed.layers)),
        "out_map": out * (2 if mapping.max() < 2**16 else 4),
        "membranes": (3 if loihi else 2) * sum(lif_n),
        "spike_bits": sum((k + 7) // 8 for k in lif_n),
        "scratch": (8 if wide else 4) * scratch_values(fixed),
        "readout": 4 * n[-1],
    }


def write_firmware(fixed, folder: Path, ram_bytes: int, flash_bytes: int, device: str) -> dict:
    """Write the C tree of ``fixed`` into ``folder`` (which exists); the linker script gets
    ``ram_bytes`` and ``flash_bytes`` of ``device``. Returns the manifest (firmware.json)."""
    from edge_shm.firmware_sim.c.toolchain import linker_script
    from edge_shm.jsonio import write_json

    texts = sources(fixed)
    texts["cortex_m4.ld"] = linker_script(ram_bytes, flash_bytes, device)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model": fixed.model,
        "precision": fixed.target,
        "frame_shape": list(fixed.frame_shape),
        "output_shape": list(post_shape(fixed)),
        "input_scale": fixed.input_scale,
        "readout_scale": float(fixed.layers[-1].scale),
        "keeps_cracked": fixed.keeps_cracked,
        "lif_layers": [la.lif for la in fixed.layers if la.lif],
        "device": {"name": device, "ram_B": int(ram_bytes), "flash_B": int(flash_bytes)},
        "static_bytes": static_bytes(fixed),
        "files": {name: hashlib.sha256(t.encode()).hexdigest() for name, t in texts.items()},
    }
    (folder / "README.md").write_text(readme(fixed, manifest), encoding="utf-8")
    write_json(folder / "firmware.json", manifest)
    return manifest


def readme(fixed, manifest: dict) -> str:
    from edge_shm.firmware_sim.c.readme import text

    return text(fixed, manifest)
