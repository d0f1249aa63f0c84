"""A torch-free numpy reference simulator of the NIR graphs that edge-shm writes.

Semantics (those of the exporter, see docs/export.md):

- One graph step per input frame. Within a step the nodes run in topological order: no node
  adds a delay (unlike Lava, where every synapse layer adds one step).
- ``Conv2d``: cross-correlation (as in torch and NIR), zero padding, plus the bias.
- ``LIF``: forward Euler of ``tau dv/dt = (v_leak - v) + r I`` with the step ``dt`` from the
  graph's metadata: ``v <- v + dt / tau * ((v_leak - v) + r I)``; spike ``z = v > v_threshold``
  then ``v <- v_reset`` where it spiked. ``v`` starts at zero.

Arithmetic is float64 by default. ``run`` returns the output frames and, per LIF node, the
spikes and the membrane potential before the threshold (to judge spikes that sit on it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def conv2d(x: np.ndarray, weight: np.ndarray, bias, padding, stride=1, dilation=1, groups=1):
    """x (C_in, H, W) -> (C_out, H', W'): cross-correlation, zero padding."""
    if np.any(np.asarray(stride) != 1) or np.any(np.asarray(dilation) != 1) or groups != 1:
        raise ValueError("nir_sim supports stride 1, dilation 1, groups 1 convolutions only")
    c_out, c_in, kh, kw = weight.shape
    if isinstance(padding, str):
        if padding == "valid":
            ph = pw = 0
        else:  # same
            ph, pw = kh // 2, kw // 2
    else:
        ph, pw = (int(padding), int(padding)) if np.isscalar(padding) else map(int, padding)
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))
    # win: (C_in, H', W', kh, kw)
    out = np.tensordot(weight, win, axes=([1, 2, 3], [0, 3, 4]))
    if bias is not None:
        out = out + np.asarray(bias).reshape(-1, 1, 1)
    return out


def topological_order(graph) -> list[str]:
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for a, b in graph.edges:
        preds[b].append(a)
    order, done = [], set()

    def visit(n, stack=()):
        if n in done:
            return
        if n in stack:
            raise ValueError(f"NIR graph has a cycle through {n!r}; nir_sim runs feed-forward")
        for p in preds[n]:
            visit(p, (*stack, n))
        done.add(n)
        order.append(n)

    for n in graph.nodes:
        visit(n)
    return order


@dataclass
class NIRSimulator:
    """Steps a feed-forward NIR graph (Input, Conv2d, LIF, Affine, Linear, Flatten, Output)."""

    graph: object
    dt: float | None = None
    dtype: type = np.float64
    state: dict = field(default_factory=dict)

    def __post_init__(self):
        meta = getattr(self.graph, "metadata", {}) or {}
        if self.dt is None:
            if "dt" not in meta:
                raise ValueError("the NIR graph's metadata lacks 'dt'; pass dt explicitly")
            self.dt = float(np.asarray(meta["dt"]))
        self.order = topological_order(self.graph)
        self.preds = {n: [a for a, b in self.graph.edges if b == n] for n in self.graph.nodes}
        kinds = {type(n).__name__ for n in self.graph.nodes.values()}
        unknown = kinds - {"Input", "Output", "Conv2d", "LIF", "Affine", "Linear", "Flatten"}
        if unknown:
            raise ValueError(f"nir_sim cannot run node types {sorted(unknown)}")
        self.reset()

    def reset(self) -> None:
        self.state = {}

    def lif_names(self) -> list[str]:
        return [n for n in self.order if type(self.graph.nodes[n]).__name__ == "LIF"]

    def step(self, frame: np.ndarray) -> tuple[np.ndarray, dict]:
        """One frame (C, H, W) -> (output, {lif: (spikes, v_before_threshold)})."""
        values: dict[str, np.ndarray] = {}
        trace = {}
        out = None
        for name in self.order:
            node = self.graph.nodes[name]
            kind = type(node).__name__
            if kind == "Input":
                values[name] = np.asarray(frame, self.dtype)
                continue
            x = sum(values[p] for p in self.preds[name])
            if kind == "Conv2d":
                y = conv2d(
                    x,
                    node.weight.astype(self.dtype),
                    node.bias.astype(self.dtype) if node.bias is not None else None,
                    node.padding,
                    node.stride,
                    node.dilation,
                    node.groups,
                )
            elif kind == "LIF":
                v = self.state.get(name)
                if v is None:
                    v = np.zeros_like(x)
                tau = node.tau.astype(self.dtype)
                v = v + self.dt / tau * ((node.v_leak - v) + node.r * x)
                z = v > node.v_threshold
                trace[name] = (z, v.copy())
                self.state[name] = np.where(z, node.v_reset, v)
                y = z.astype(self.dtype)
            elif kind == "Affine":
                y = node.weight.astype(self.dtype) @ x + node.bias
            elif kind == "Linear":
                y = node.weight.astype(self.dtype) @ x
            elif kind == "Flatten":
                y = x.reshape(-1)
            else:  # Output
                y = out = x
            values[name] = y
        return out, trace

    def run(self, frames: np.ndarray) -> dict:
        """frames (T, H, W) -> {"prediction": (T, H, W), "spikes": {lif: (T, C, H, W) bool},
        "v": {lif: (T, C, H, W)}} from a zero state."""
        self.reset()
        preds, spikes, vs = [], {n: [] for n in self.lif_names()}, {n: [] for n in self.lif_names()}
        for f in np.asarray(frames):
            out, trace = self.step(f[None])
            preds.append(out[0])
            for n, (z, v) in trace.items():
                spikes[n].append(z)
                vs[n].append(v)
        return {
            "prediction": np.stack(preds),
            "spikes": {n: np.stack(s) for n, s in spikes.items()},
            "v": {n: np.stack(v) for n, v in vs.items()},
        }


def run_nir_file(path, frames: np.ndarray, dt: float | None = None) -> dict:
    """Read a .nir file with type checking and run it on frames (T, H, W)."""
    import nir

    return NIRSimulator(nir.read(str(path), type_check=True), dt=dt).run(frames)
