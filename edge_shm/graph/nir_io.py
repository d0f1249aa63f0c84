"""The deployment graph as a NIR graph and back (``nir`` package, type-checked).

Writing: ``Input -> layers -> Output`` with ``nir.Conv2d`` (``input_shape`` set so that every
node carries its type) and ``nir.LIF`` (parameters as arrays of the population's shape, as NIR's
type check wants). NIR has no time step and no reshaping node: the graph's metadata records
``dt`` (s) and, as JSON in ``edge_shm_post``, the output operations that follow the readout.

Reading accepts the chains edge-shm writes (and any NIR chain of Conv2d and LIF nodes); ``dt``
must be in the metadata or given. Anything else is a one-line :class:`GraphError`.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from edge_shm.graph.graph import DeploymentGraph, GraphError
from edge_shm.graph.nodes import LIF, Conv, post_op_from_dict

DT_KEY = "dt"
POST_KEY = "edge_shm_post"
CODEC_KEY = "edge_shm_codec"
LIF_KEYS = ("tau", "r", "v_leak", "v_threshold", "v_reset")


def to_nir(graph: DeploymentGraph, metadata: dict | None = None):
    """A ``nir.NIRGraph`` of ``graph`` (the readout is the Output; output operations are
    recorded in the metadata)."""
    import nir

    c, h, w = graph.input_shape
    nodes = {"input": nir.Input(input_type=np.array([c, h, w]))}
    edges, prev = [], "input"
    for layer, shape, in_shape in zip(
        graph.layers, graph.shapes(), graph.input_shapes(), strict=True
    ):
        if isinstance(layer, Conv):
            if layer.groups != 1:
                raise GraphError(f"layer {layer.name}: NIR's Conv2d type check needs groups = 1")
            node = nir.Conv2d(
                input_shape=tuple(int(s) for s in in_shape[1:]),
                weight=layer.weight,
                stride=layer.stride,
                padding=layer.padding,
                dilation=layer.dilation,
                groups=1,
                bias=layer.bias if layer.bias is not None else np.zeros(layer.c_out, np.float32),
            )
        else:
            full = {
                k: np.broadcast_to(np.asarray(getattr(layer, k), np.float32), shape).copy()
                for k in LIF_KEYS
            }
            node = nir.LIF(**full)
        nodes[layer.name] = node
        edges.append((prev, layer.name))
        prev = layer.name
    nodes["output"] = nir.Output(output_type=np.array(graph.readout_shape))
    edges.append((prev, "output"))
    meta = {
        DT_KEY: float(graph.dt),
        "dt_unit": "s",
        "model": graph.model,
        "producer": "edge_shm.graph.nir_io",
        "time_step": "one graph step per input frame; no synaptic delay between nodes",
    }
    if graph.post:
        meta[POST_KEY] = json.dumps([op.to_dict() for op in graph.post])
    if graph.codec is not None:
        meta[CODEC_KEY] = json.dumps(graph.codec)
    meta.update(metadata or {})
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta, type_check=True)


def _line(x) -> str:
    """``str(x)`` on one line, at most 200 characters."""
    return " ".join(str(x).split())[:200]


def _text(v) -> str:
    v = v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v
    return v.decode() if isinstance(v, bytes) else str(v)


def chain(nir_graph) -> list[str]:
    """Node names from the Input to the Output of a chain-shaped NIR graph."""
    nxt: dict[str, list[str]] = {}
    for a, b in nir_graph.edges:
        nxt.setdefault(a, []).append(b)
    bad = [n for n in nir_graph.nodes if not (isinstance(n, str) and n.isprintable())]
    if bad:
        raise GraphError(f"the NIR graph has a node name that is not printable: {bad[0]!r}")
    start = [n for n, node in nir_graph.nodes.items() if type(node).__name__ == "Input"]
    if len(start) != 1:
        raise GraphError("the NIR graph needs exactly one Input node")
    names = [start[0]]
    while names[-1] in nxt:
        succ = nxt[names[-1]]
        if len(succ) != 1 or succ[0] in names:
            raise GraphError(f"the NIR graph must be a chain; {names[-1]!r} branches or loops")
        names.append(succ[0])
    return names


F32_MAX = float(np.finfo(np.float32).max)


def _finite(name: str, key: str, value) -> np.ndarray:
    """``value`` as a float64 array of finite numbers (float32 range), or a one-line error
    naming the node and the field."""
    try:
        v = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        raise GraphError(f"node {name}: {key} is not numeric") from None
    if v.size == 0:
        raise GraphError(f"node {name}: {key} is empty")
    if not np.all(np.isfinite(v)) or np.abs(v).max() > F32_MAX:
        raise GraphError(f"node {name}: {key} holds NaN or infinite values")
    return v


def _ints(name: str, key: str, value, sizes: tuple, lo: int) -> tuple:
    """``value`` as a tuple of integers >= ``lo`` of one of ``sizes``, or a one-line error."""
    try:
        v = np.asarray(value, np.float64).ravel()
    except (TypeError, ValueError):
        v = np.array([np.nan])
    if v.size not in sizes or not np.all(np.isfinite(v)) or np.any(v != np.round(v)):
        raise GraphError(f"node {name}: {key} must be {' or '.join(map(str, sizes))} integers")
    if v.min() < lo:
        raise GraphError(f"node {name}: {key} must hold integers >= {lo}, got {v.tolist()}")
    return tuple(int(x) for x in v)


def _conv(name: str, node, shape) -> Conv:
    w = _finite(name, "weight", node.weight)
    if w.ndim != 4 or min(w.shape) < 1:
        raise GraphError(f"node {name}: weight of shape {w.shape}, expected (C_out, C_in, kh, kw)")
    b = None if node.bias is None else _finite(name, "bias", node.bias)
    if b is not None and b.shape != (w.shape[0],):
        raise GraphError(f"node {name}: bias of shape {b.shape}, expected ({w.shape[0]},)")
    pad = node.padding
    if isinstance(pad, str):
        if pad != "valid":
            raise GraphError(f"node {name}: padding 'same' is not supported; write ints")
        pad = 0
    (groups,) = _ints(name, "groups", node.groups, (1,), 1)
    if w.shape[0] % groups:
        raise GraphError(f"node {name}: groups ({groups}) must divide the output channels")
    conv = Conv(name, w, b, _ints(name, "stride", node.stride, (1, 2), 1),
                _ints(name, "padding", pad, (1, 2), 0),
                _ints(name, "dilation", node.dilation, (1, 2), 1), groups)  # fmt: skip
    if conv.c_in != shape[0]:
        raise GraphError(f"node {name}: weight takes {conv.c_in} input channels, gets {shape[0]}")
    return conv


def _lif(name: str, node, shape) -> LIF:
    """A LIF population: every parameter finite, one value or one per neuron of ``shape``,
    thresholds and time constants > 0."""
    params = {}
    for key in LIF_KEYS:
        v = _finite(name, key, getattr(node, key))
        if v.size != 1 and v.shape != tuple(shape):
            raise GraphError(f"node {name}: {key} of shape {v.shape}, the population is {shape}")
        if key in ("tau", "v_threshold") and np.any(v <= 0):
            raise GraphError(f"node {name}: {key} must be > 0")
        params[key] = float(v.flat[0]) if np.all(v == v.flat[0]) else v
    return LIF(name, **params)


def from_nir(nir_graph, dt: float | None = None, model: str | None = None) -> DeploymentGraph:
    """A :class:`DeploymentGraph` from a NIR chain of Conv2d and LIF nodes."""
    meta = dict(getattr(nir_graph, "metadata", None) or {})
    if dt is None:
        if DT_KEY not in meta:
            raise GraphError("the NIR graph's metadata has no 'dt' (NIR has no time step)")
        try:
            dt = float(np.asarray(meta[DT_KEY]).reshape(-1)[0])
        except (TypeError, ValueError, IndexError):
            raise GraphError(
                f"the NIR graph's 'dt' is not a number: {_line(meta[DT_KEY])}"
            ) from None
    post = []
    if POST_KEY in meta:
        try:
            post = [post_op_from_dict(d) for d in json.loads(_text(meta[POST_KEY]))]
        except (ValueError, TypeError) as e:
            raise GraphError(
                f"the NIR graph's output operations are unreadable ({_line(e)})"
            ) from None
    codec = None
    if CODEC_KEY in meta:
        try:
            codec = json.loads(_text(meta[CODEC_KEY]))
        except (ValueError, TypeError) as e:
            raise GraphError(f"the NIR graph's frame codec is unreadable ({_line(e)})") from None
    names = chain(nir_graph)
    first = nir_graph.nodes[names[0]]
    in_type = np.asarray(first.input_type.get("input", first.output_type.get("output")))
    shape = _ints(names[0], "shape", in_type, (2, 3), 1)
    shape = input_shape = (1, *shape) if len(shape) == 2 else shape
    layers = []
    for name in names[1:]:
        node = nir_graph.nodes[name]
        kind = type(node).__name__
        if kind == "Output":
            break
        if kind == "Conv2d":
            layers.append(_conv(name, node, shape))
            shape = layers[-1].out_shape(shape)
            if min(shape) < 1:
                raise GraphError(f"node {name}: output of {shape[1]}x{shape[2]} px")
        elif kind == "LIF":
            layers.append(_lif(name, node, shape))
        else:
            raise GraphError(f"node {name} ({kind}) is not supported here (Conv2d and LIF only)")
    return DeploymentGraph(
        model=model or _text(meta.get("model", "nir")),
        input_shape=input_shape,
        layers=layers,
        dt=dt,
        post=post,
        codec=codec,
    )


def read_nir(path, dt: float | None = None) -> DeploymentGraph:
    """Read a ``.nir`` file (type-checked) into a :class:`DeploymentGraph`."""
    import nir

    try:
        g = nir.read(str(path), type_check=True)
    except Exception as e:  # h5py/nir raise many types for a broken file
        raise GraphError(
            f"{path}: not a readable NIR graph ({type(e).__name__}: {_line(e)})"
        ) from None
    try:
        return from_nir(g, dt)
    except GraphError as e:
        raise GraphError(f"{path}: {e}") from None
    except (TypeError, ValueError, IndexError, KeyError, AttributeError) as e:
        raise GraphError(f"{path}: malformed NIR graph ({type(e).__name__}: {_line(e)})") from None


def write_nir(graph: DeploymentGraph, path, metadata: dict | None = None) -> None:
    """Write ``graph`` as a ``.nir`` file and read it back with type checking."""
    import nir

    buffer = io.BytesIO()  # h5py on a full disk prints tracebacks and may crash: write bytes
    nir.write(buffer, to_nir(graph, metadata))
    Path(path).write_bytes(buffer.getvalue())
    nir.read(str(path), type_check=True)
