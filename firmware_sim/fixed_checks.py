"""What a calibration folder may hold: every field the engines use, checked on reading.

``FixedGraph.load`` (``fixed_graph.py``) builds the graph from calibration.json and tensors.npz
with :func:`build` and refuses, in one line naming the layer and field, anything the writer
(``calibration/calibrate.py``) cannot produce: fields its format version does not have, wrong
types, shapes that do not chain from the input to the readout, kernels that do not match a
layer's channels, non-finite or non-positive scales, thresholds and decays outside their
fixed-point ranges, integers beyond their mantissas, a window or pixel size out of range.
``FixedGraph.save`` runs :func:`validate` too, so a folder that is written also loads.
"""

from __future__ import annotations

import math

import numpy as np

from edge_shm.errors import UserError

TARGETS = ("loihi", "int8")  # the deployed precisions: Loihi 2 fixed point, int8 MCU

INPUT_SCALES = (1, 255)  # calibrate.py: binary frames, else 8-bit pixels
DECAY_UNITY = 4096  # dv of 4096: calibrate.py writes round(4096 dt / tau) in [0, 4096]
MAX_EXP = 23  # m << e with m 8-bit signed stays within the int32 the folder stores
INT32 = (-(2**31), 2**31 - 1)
VTH_MAX = {"loihi": 2**16, "int8": 2**15 - 1}  # loihi: q vth <= 2**16; int8: int16 membrane
MAX_SHIFT = 62  # int8 requantisation: (acc M + 2**(sh - 1)) >> sh in 64 bits
MAX_WINDOW = 1024  # frames per forecast, as a run's window
PIXEL_MM_RANGE = (1e-6, 1e3)  # mm, as a library's pixel size
TOP_KEYS = {
    1: {
        "format", "format_version", "model", "target", "input_shape", "input_scale", "dt",
        "layers", "post", "run_sha256", "report", "codec", "tensors_sha256",
    },
}  # fmt: skip
TOP_KEYS[2] = TOP_KEYS[1] | {"values_sha256"}
TOP_KEYS[3] = TOP_KEYS[2] | {"window", "pixel_mm"}
NEW_IN = {"window": 3, "pixel_mm": 3}  # fields every folder of that version on holds
LAYER_KEYS = {
    "name", "lif", "in_shape", "out_shape", "stride", "padding", "dilation", "scale",
    "weight_exp", "bias_exp", "dv", "vth", "multiplier", "shift",
}  # fmt: skip


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def name(v, what: str) -> str:
    if not isinstance(v, str) or not v or len(v) > 100 or not v.isprintable():
        raise UserError(f"{what} must be a printable name of 1 to 100 characters, got {_short(v)}")
    return v


def _is_int(v) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)


def _is_num(v) -> bool:
    return (_is_int(v) or isinstance(v, float | np.floating)) and not isinstance(v, bool)


def integer(v, what: str, lo: int, hi: int) -> int:
    if not _is_int(v) or not lo <= v <= hi:
        raise UserError(f"{what} must be an integer in [{lo}, {hi}], got {_short(v)}")
    return int(v)


def positive(v, what: str) -> float:
    try:
        x = float(v) if _is_num(v) else math.nan
    except OverflowError:
        x = math.inf
    if not math.isfinite(x) or x <= 0:
        raise UserError(f"{what} must be a finite number > 0, got {_short(v)}")
    return x


def ints(v, what: str, n: int, lo: int) -> tuple:
    """A list of ``n`` integers >= ``lo`` (JSON list or tuple) as a tuple."""
    if not isinstance(v, list | tuple) or len(v) != n or not all(_is_int(x) for x in v):
        raise UserError(f"{what} must be {n} integers, got {_short(v)}")
    if min(v) < lo:
        raise UserError(f"{what} must hold integers >= {lo}, got {_short(v)}")
    return tuple(int(x) for x in v)


class TensorError(UserError):
    """A problem of tensors.npz (the reader names that file)."""


def _array(arrays: dict, key: str) -> np.ndarray:
    if key not in arrays:
        raise TensorError(f"no entry {key}")
    a = arrays[key]
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "iu":
        kind = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
        raise TensorError(f"{key} must be an integer array, not {kind}")
    if a.size and (a.min() < INT32[0] or a.max() > INT32[1]):
        raise TensorError(f"{key} holds values beyond int32")
    return a.astype(np.int64)


def build(cls_graph, cls_layer, meta: dict, arrays: dict, version: int):
    """A FixedGraph from calibration.json's object (format ``version``) and the npz arrays;
    UserError (without the folder's name) naming the first field that is wrong."""
    unknown = sorted(set(meta) - TOP_KEYS[version])
    if unknown:
        raise UserError(f"unknown fields {_short(unknown)} (format version {version})")
    missing = sorted(k for k, since in NEW_IN.items() if version >= since and k not in meta)
    if missing:
        raise UserError(f"missing fields {missing}")
    if not isinstance(meta.get("layers"), list) or not meta["layers"]:
        raise UserError("layers must be a non-empty list")
    layers = []
    for i, m in enumerate(meta["layers"]):
        if not isinstance(m, dict):
            raise UserError(f"layers[{i}] must be an object, got {_short(m)}")
        key = name(m.get("name"), f"layers[{i}].name")
        unknown = sorted(set(m) - LAYER_KEYS)
        if unknown:
            raise UserError(f"layer {key}: unknown fields {_short(unknown)}")
        missing = sorted({"lif", "in_shape", "out_shape", "stride", "padding", "dilation",
                          "scale"} - set(m))  # fmt: skip
        if missing:
            raise UserError(f"layer {key}: missing fields {missing}")
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in m.items()}
        weight, bias = _array(arrays, f"{key}.weight"), _array(arrays, f"{key}.bias")
        layers.append(cls_layer(weight=weight, bias=bias, **kw))
    expected = {f"{la.name}.{k}" for la in layers for k in ("weight", "bias")}
    extra = sorted(set(arrays) - expected)
    if extra:
        raise TensorError(f"entries {_short(extra)} belong to no layer")
    for key in ("model", "target", "run_sha256"):
        if not isinstance(meta.get(key), str):
            raise UserError(f"{key} must be a string, got {_short(meta.get(key))}")
    if not isinstance(meta.get("post"), list) or not isinstance(meta.get("report"), dict):
        raise UserError("post must be a list and report an object")
    fixed = cls_graph(
        model=meta["model"],
        target=meta["target"],
        input_shape=meta.get("input_shape"),
        input_scale=meta.get("input_scale"),
        dt=meta.get("dt"),
        layers=layers,
        post=meta["post"],
        run_sha256=meta["run_sha256"],
        report=meta["report"],
        codec=meta.get("codec"),  # absent before edge-shm 0.3
        window=meta.get("window"),
        pixel_mm=meta.get("pixel_mm"),
    )
    validate(fixed)
    return fixed


def validate(fixed) -> None:
    """Every number the integer engine and Lava fixed_pt use, in range (UserError)."""
    if fixed.target not in TARGETS:
        raise UserError(f"unknown target {_short(fixed.target)}; known: {', '.join(TARGETS)}")
    shape = fixed.input_shape = ints(fixed.input_shape, "input_shape", 3, 1)
    if shape[0] != 1:
        raise UserError(f"input_shape must be (1, H, W) (one frame), got {shape}")
    fixed.input_scale = integer(fixed.input_scale, "input_scale", 1, max(INPUT_SCALES))
    if fixed.input_scale not in INPUT_SCALES:
        raise UserError(f"input_scale must be 1 or 255, got {fixed.input_scale}")
    fixed.dt = positive(fixed.dt, "dt")
    if fixed.codec is not None and not isinstance(fixed.codec, dict):
        raise UserError(f"codec must be an object or null, got {_short(fixed.codec)}")
    if fixed.window is not None:
        fixed.window = integer(fixed.window, "window", 1, MAX_WINDOW)
    if fixed.pixel_mm is not None:
        fixed.pixel_mm = positive(fixed.pixel_mm, "pixel_mm")
        lo, hi = PIXEL_MM_RANGE
        if not lo <= fixed.pixel_mm <= hi:
            raise UserError(f"pixel_mm must lie in {lo:g}..{hi:g} mm, got {fixed.pixel_mm:g}")
    if not fixed.layers:
        raise UserError("layers must be a non-empty list")
    for i, la in enumerate(fixed.layers):
        name(la.name, f"layers[{i}].name")
        if la.lif is not None:
            name(la.lif, f"layer {la.name}: lif")
    names = [la.name for la in fixed.layers] + [la.lif for la in fixed.layers if la.lif]
    if len(set(names)) != len(names):
        raise UserError(f"layer and LIF names repeat: {_short(names)}")
    for i, layer in enumerate(fixed.layers):
        _check_layer(fixed.target, layer, shape, i == len(fixed.layers) - 1)
        shape = layer.out_shape
    _check_post(fixed, shape)


def _check_layer(target: str, la, in_shape: tuple, last: bool) -> None:
    from edge_shm.neuro.conv import conv_output_size

    w = f"layer {la.name}"
    if not (la.lif is None if last else isinstance(la.lif, str) and la.lif):
        want = "be the readout (lif null)" if last else "feed a LIF population (lif a name)"
        raise UserError(f"{w}: lif is {_short(la.lif)}; this layer must {want}")
    la.in_shape = ints(la.in_shape, f"{w}: in_shape", 3, 1)
    la.out_shape = ints(la.out_shape, f"{w}: out_shape", 3, 1)
    la.stride = ints(la.stride, f"{w}: stride", 2, 1)
    la.padding = ints(la.padding, f"{w}: padding", 2, 0)
    la.dilation = ints(la.dilation, f"{w}: dilation", 2, 1)
    if la.in_shape != in_shape:
        raise UserError(f"{w}: in_shape {la.in_shape} differs from its input {in_shape}")
    c_out = la.out_shape[0]
    if (
        la.weight.ndim != 4
        or la.weight.shape[:2] != (c_out, la.in_shape[0])
        or not all(la.weight.shape[2:])
    ):
        raise TensorError(
            f"{w}: weight of shape {la.weight.shape}, expected ({c_out}, {la.in_shape[0]}, kh, kw)"
        )
    if la.bias.shape != (c_out,):
        raise TensorError(f"{w}: bias of shape {la.bias.shape}, expected ({c_out},)")
    hw = tuple(
        conv_output_size(la.in_shape[1 + a], la.weight.shape[2 + a], la.stride[a],
                         la.padding[a], la.dilation[a])
        for a in (0, 1)
    )  # fmt: skip
    if hw != la.out_shape[1:]:
        raise UserError(f"{w}: out_shape {la.out_shape} differs from its convolution's {hw}")
    la.scale = positive(la.scale, f"{w}: scale")
    for key in ("weight_exp", "bias_exp", "dv", "vth", "multiplier", "shift"):
        if not _is_int(getattr(la, key)):
            raise UserError(f"{w}: {key} must be an integer, got {_short(getattr(la, key))}")
    if target == "loihi":
        for key in ("weight", "bias"):
            e = integer(getattr(la, f"{key}_exp"), f"{w}: {key}_exp", 0, MAX_EXP)
            a = getattr(la, key)
            if np.any(a % (1 << e)) or np.any((a >> e) < -128) or np.any((a >> e) > 127):
                raise TensorError(f"{w}: {key} is not 8-bit mantissas << {key}_exp ({e})")
    else:
        if np.any(np.abs(la.weight) > 127):
            raise TensorError(f"{w}: weight holds values beyond int8 (-127..127)")
    if la.lif is None:
        return
    integer(la.dv, f"{w}: dv", 0, DECAY_UNITY)
    integer(la.vth, f"{w}: vth", 1, VTH_MAX[target])
    if target == "int8":
        integer(la.shift, f"{w}: shift", 1, MAX_SHIFT)
        integer(la.multiplier, f"{w}: multiplier", 1, INT32[1])


def _check_post(fixed, shape: tuple) -> None:
    from edge_shm.graph import post_op_from_dict

    for i, d in enumerate(fixed.post):
        try:
            op = post_op_from_dict(d)
        except (TypeError, ValueError):
            raise UserError(f"post: unknown or malformed output operation {_short(d)}") from None
        factor = getattr(op, "factor", 1)
        if not _is_int(factor) or factor < 1:
            raise UserError(f"post: {op.op} factor must be an integer >= 1, got {_short(factor)}")
        new = op.out_shape(shape)
        if min(new) < 1 or shape[0] % (factor**2):
            raise UserError(f"post: output operation {_short(d)} does not fit shape {shape}")
        if op.op == "keep_cracked" and i != len(fixed.post) - 1:
            raise UserError("post: keep_cracked must be the last output operation")
        if op.op == "keep_cracked" and shape[1:] != fixed.input_shape[1:]:
            raise UserError(f"post: keep_cracked needs the frame's size, the readout is {shape}")
        shape = new
