"""The deployment graph as a NIR graph and back (``nir`` package, type-checked).

Writing: ``Input -> layers -> Output`` with ``nir.Conv2d`` (``input_shape`` set so that every
node carries its type) and ``nir.LIF`` (parameters as arrays of the population's shape, as NIR's
type check wants). NIR has no time step and no reshaping node: the graph's metadata records
``dt`` (s) and, as JSON in ``edge_shm_post``, the output operations that follow the readout.

Reading accepts the chains edge-shm writes (and any NIR chain of Conv2d and LIF nodes); ``dt``
must be in the metadata or given. Anything else is a one-line :class:`GraphError`.
"""

from __future__ import annotations

import json

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


def _text(v) -> str:
    v = v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v
    return v.decode() if isinstance(v, bytes) else str(v)


def chain(nir_graph) -> list[str]:
    """Node names from the Input to the Output of a chain-shaped NIR graph."""
    nxt: dict[str, list[str]] = {}
    for a, b in nir_graph.edges:
        nxt.setdefault(a, []).append(b)
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


def _lif_value(node, key: str):
    v = np.asarray(getattr(node, key), np.float64)
    return float(v.flat[0]) if v.size and np.all(v == v.flat[0]) else v


def from_nir(nir_graph, dt: float | None = None, model: str | None = None) -> DeploymentGraph:
    """A :class:`DeploymentGraph` from a NIR chain of Conv2d and LIF nodes."""
    meta = dict(getattr(nir_graph, "metadata", None) or {})
    if dt is None:
        if DT_KEY not in meta:
            raise GraphError("the NIR graph's metadata has no 'dt' (NIR has no time step)")
        try:
            dt = float(np.asarray(meta[DT_KEY]).reshape(-1)[0])
        except (TypeError, ValueError, IndexError):
            raise GraphError(f"the NIR graph's 'dt' is not a number: {meta[DT_KEY]!r}") from None
    post = []
    if POST_KEY in meta:
        try:
            post = [post_op_from_dict(d) for d in json.loads(_text(meta[POST_KEY]))]
        except (ValueError, TypeError) as e:
            raise GraphError(f"the NIR graph's output operations are unreadable ({e})") from None
    codec = None
    if CODEC_KEY in meta:
        try:
            codec = json.loads(_text(meta[CODEC_KEY]))
        except (ValueError, TypeError) as e:
            raise GraphError(f"the NIR graph's frame codec is unreadable ({e})") from None
    names = chain(nir_graph)
    first = nir_graph.nodes[names[0]]
    in_type = np.asarray(first.input_type.get("input", first.output_type.get("output")))
    layers = []
    for name in names[1:]:
        node = nir_graph.nodes[name]
        kind = type(node).__name__
        if kind == "Output":
            break
        if kind == "Conv2d":
            pad = node.padding
            if isinstance(pad, str):
                if pad != "valid":
                    raise GraphError(f"node {name}: padding 'same' is not supported; write ints")
                pad = 0
            layers.append(
                Conv(name, node.weight, node.bias, node.stride, pad, node.dilation, node.groups)
            )
        elif kind == "LIF":
            layers.append(LIF(name, **{k: _lif_value(node, k) for k in LIF_KEYS}))
        else:
            raise GraphError(f"node {name} ({kind}) is not supported here (Conv2d and LIF only)")
    if in_type.size == 2:
        in_type = np.r_[1, in_type]
    return DeploymentGraph(
        model=model or _text(meta.get("model", "nir")),
        input_shape=tuple(int(s) for s in in_type),
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
        raise GraphError(f"{path}: not a readable NIR graph ({type(e).__name__}: {e})") from None
    try:
        return from_nir(g, dt)
    except GraphError as e:
        raise GraphError(f"{path}: {e}") from None


def write_nir(graph: DeploymentGraph, path, metadata: dict | None = None) -> None:
    """Write ``graph`` as a ``.nir`` file and read it back with type checking."""
    import nir

    nir.write(str(path), to_nir(graph, metadata))
    nir.read(str(path), type_check=True)
