"""NIR graph of the base SNN, written with the ``nir`` package.

Not norse 1.1.0's ``to_nir`` (it writes tau = dt / tau_mem_inv, leaves Conv2d input_shape unset
and cannot map ConvTranspose2d; DESIGN.md section 6). Mapping:

- ``Conv2d`` -> ``nir.Conv2d`` (cross-correlation, weight (C_out, C_in, kh, kw), bias, padding,
  ``input_shape=(H, W)`` so that every node carries its type).
- stride-1 ``ConvTranspose2d`` (weight (C_in, C_out, kh, kw), padding p) -> the equivalent
  ``nir.Conv2d`` with the kernel flipped in both spatial axes, the channels swapped and padding
  ``k - 1 - p``.
- Norse box LIF (``v <- v + dt * tau_mem_inv * ((v_leak - v) + x)``, spike if ``v > v_th``,
  reset to ``v_reset``) -> ``nir.LIF(tau = 1 / tau_mem_inv, r = 1, v_leak, v_threshold,
  v_reset)``: the NIR equation ``tau dv/dt = (v_leak - v) + R I`` integrated by forward Euler
  with the step ``dt``. NIR has no dt: the graph's metadata records ``dt`` (and the manifest of a
  Lava bundle repeats it). With dt = 1 ms and tau_mem_inv = 500 /s, tau = 2 ms.

Per-neuron parameters have the shape of the layer, (C, H, W), as NIR's type check wants.
"""

from __future__ import annotations

import numpy as np

from edge_shm.errors import UserError

NIR_DT_KEY = "dt"


def refuse(model_name: str, layer: str, kind: str, target: str):
    raise UserError(
        f"model {model_name!r} cannot be exported to {target}: layer {layer} ({kind}) has no "
        f"{target} equivalent"
    )


def check_expressible(model, target: str) -> None:
    """Refuse (one line) a model that the NIR/Lava path cannot express, naming the layer."""
    from torch import nn

    from edge_shm.models.snn import BaseSNN

    for kinds in ((nn.LSTM, nn.RNN, nn.GRU), (nn.Conv3d, nn.Linear)):
        for name, mod in model.named_modules():
            if isinstance(mod, kinds):
                refuse(model.name, name, type(mod).__name__, target)
    if not isinstance(model, BaseSNN):
        refuse(model.name, model.name, type(model).__name__, target)
    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
            ok = (
                mod.stride == (1, 1)
                and mod.dilation == (1, 1)
                and mod.groups == 1
                and mod.kernel_size[0] == mod.kernel_size[1]
                and mod.kernel_size[0] % 2 == 1
                and mod.padding == (mod.kernel_size[0] // 2,) * 2
            )
            if isinstance(mod, nn.ConvTranspose2d):
                ok = ok and mod.output_padding == (0, 0)
            if not ok:
                refuse(model.name, name, f"{type(mod).__name__} other than stride-1 'same'", target)


def conv_params(mod) -> dict:
    """A torch Conv2d or stride-1 ConvTranspose2d as cross-correlation parameters (numpy)."""
    from torch import nn

    w = mod.weight.detach().cpu().numpy().astype(np.float32)
    b = mod.bias.detach().cpu().numpy().astype(np.float32)
    k = mod.kernel_size[0]
    if isinstance(mod, nn.ConvTranspose2d):
        w = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
        pad = k - 1 - mod.padding[0]
    else:
        pad = mod.padding[0]
    return {"weight": w, "bias": b, "padding": int(pad)}


def snn_layers(model) -> list[dict]:
    """The SNN as an ordered list of layers: conv (cross-correlation) and lif."""
    p = model.lif
    tau = float(1.0 / float(p.tau_mem_inv))
    lif = {
        "tau": tau,
        "r": 1.0,
        "v_leak": float(p.v_leak),
        "v_threshold": float(p.v_th),
        "v_reset": float(p.v_reset),
    }
    layers = []
    for name, lif_name in (
        ("conv1", "lif1"),
        ("conv2", "lif2"),
        ("deconv1", "lif3"),
        ("deconv2", None),
    ):
        mod = getattr(model, name)
        c = conv_params(mod)
        layers.append({"name": name, "kind": "conv", "source": type(mod).__name__, **c})
        if lif_name:
            layers.append(
                {"name": lif_name, "kind": "lif", "channels": int(c["weight"].shape[0]), **lif}
            )
    return layers


def build_graph(model, config: dict):
    """The nir.NIRGraph of a base SNN (type-checked on construction)."""
    import nir

    check_expressible(model, "nir")
    h, w = model.height, model.width
    nodes = {"input": nir.Input(input_type=np.array([1, h, w]))}
    edges = []
    prev = "input"
    for layer in snn_layers(model):
        if layer["kind"] == "conv":
            node = nir.Conv2d(
                input_shape=(h, w),
                weight=layer["weight"],
                stride=1,
                padding=layer["padding"],
                dilation=1,
                groups=1,
                bias=layer["bias"],
            )
            channels = layer["weight"].shape[0]
        else:
            shape = (channels, h, w)

            def full(v, shape=shape):
                return np.full(shape, v, np.float32)

            node = nir.LIF(
                tau=full(layer["tau"]),
                r=full(layer["r"]),
                v_leak=full(layer["v_leak"]),
                v_threshold=full(layer["v_threshold"]),
                v_reset=full(layer["v_reset"]),
            )
        nodes[layer["name"]] = node
        edges.append((prev, layer["name"]))
        prev = layer["name"]
    nodes["output"] = nir.Output(output_type=np.array([1, h, w]))
    edges.append((prev, "output"))
    metadata = {
        NIR_DT_KEY: float(model.dt),
        "dt_unit": "s",
        "model": config["model"],
        "producer": "edge_shm.export.nir_export",
        "time_step": "one graph step per input frame; no synaptic delay between nodes",
        "conv_transpose": "deconv1/deconv2 are stride-1 ConvTranspose2d written as Conv2d "
        "(kernel flipped, channels swapped, padding k-1-p)",
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=True)


def export_nir(model, config: dict, path) -> dict:
    import nir

    graph = build_graph(model, config)
    nir.write(str(path), graph)
    back = nir.read(str(path), type_check=True)  # proves the file loads with type checking
    return {
        "nodes": list(back.nodes),
        "dt": float(model.dt),
        "tau": float(1.0 / float(model.lif.tau_mem_inv)),
        "bytes": path.stat().st_size,
    }
