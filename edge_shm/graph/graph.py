"""The deployment graph: a chain of convolutions and LIF populations plus output operations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from edge_shm.errors import UserError
from edge_shm.graph.nodes import LIF, Conv, Shape


class GraphError(UserError, ValueError):
    """A graph that is malformed or that a backend cannot run (a one-line reason)."""


@dataclass
class DeploymentGraph:
    """A feed-forward spiking network, one graph step per input frame.

    Attributes
    ----------
    model : the registered model name it was lowered from.
    input_shape : (C, H, W) of one input frame.
    layers : the chain, input side first: :class:`Conv` and :class:`LIF` nodes. Every layer
        computes within the frame's step (no synaptic delay; Lava adds one per synapse layer and
        its builder re-aligns). The last layer's output is the readout.
    dt : seconds per step (NIR has no time step; it is recorded beside the graph).
    post : fixed output operations applied to the readout, in order (e.g. depth-to-space).
    codec : for a network over feature rows, the frame codec that makes its inputs from
        camera frames and its forecast frames from the readout
        (:mod:`edge_shm.firmware_sim.codec`, ``to_dict`` form); None for a network over frames.
    """

    model: str
    input_shape: Shape
    layers: list
    dt: float = 1e-3
    post: list = field(default_factory=list)
    codec: dict | None = None

    def __post_init__(self):
        self.input_shape = tuple(int(s) for s in self.input_shape)
        self.validate()

    # --- structure ------------------------------------------------------------------------
    def validate(self) -> None:
        if not (isinstance(self.dt, int | float) and math.isfinite(self.dt) and self.dt > 0):
            raise GraphError(f"dt must be a positive number of seconds, got {self.dt!r}")
        if len(self.input_shape) != 3 or min(self.input_shape) < 1:
            raise GraphError(f"input shape must be (C, H, W), got {self.input_shape}")
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise GraphError(f"layer names repeat: {names}")
        if not self.layers:
            raise GraphError("the graph has no layers")
        shape = self.input_shape
        for layer in self.layers:
            if isinstance(layer, Conv):
                if layer.c_in != shape[0]:
                    raise GraphError(
                        f"layer {layer.name}: expects {layer.c_in} input channels, gets {shape[0]}"
                    )
                shape = layer.out_shape(shape)
                if min(shape[1:]) < 1:
                    raise GraphError(f"layer {layer.name}: output of {shape[1]}x{shape[2]} px")
            elif isinstance(layer, LIF):
                for key in ("tau", "r", "v_leak", "v_threshold", "v_reset"):
                    v = np.asarray(getattr(layer, key), np.float64)
                    if not np.all(np.isfinite(v)):
                        raise GraphError(f"layer {layer.name}: {key} is not finite")
                if np.any(np.asarray(layer.tau) <= 0):
                    raise GraphError(f"layer {layer.name}: tau must be positive")
            else:
                raise GraphError(f"layer {getattr(layer, 'name', layer)!r}: unknown node type")
        if self.codec is not None and not isinstance(self.codec, dict):
            raise GraphError(f"the frame codec must be a JSON object, got {self.codec!r}")
        for op in self.post:
            new = op.out_shape(shape)
            if min(new) < 1 or (hasattr(op, "factor") and shape[0] % (op.factor**2)):
                raise GraphError(f"output operation {op.to_dict()} does not fit shape {shape}")
            shape = new

    def shapes(self) -> list[Shape]:
        """Output shape (C, H, W) of every layer, in order."""
        out, shape = [], self.input_shape
        for layer in self.layers:
            if isinstance(layer, Conv):
                shape = layer.out_shape(shape)
            out.append(shape)
        return out

    def input_shapes(self) -> list[Shape]:
        """Input shape (C, H, W) of every layer, in order."""
        return [self.input_shape, *self.shapes()[:-1]]

    @property
    def readout_shape(self) -> Shape:
        return self.shapes()[-1]

    @property
    def output_shape(self) -> Shape:
        shape = self.readout_shape
        for op in self.post:
            shape = op.out_shape(shape)
        return shape

    def lif_layers(self) -> list[LIF]:
        return [layer for layer in self.layers if isinstance(layer, LIF)]

    def lif_shapes(self) -> dict[str, Shape]:
        return {
            layer.name: s
            for layer, s in zip(self.layers, self.shapes(), strict=True)
            if isinstance(layer, LIF)
        }

    def apply_post(self, readout: np.ndarray, frame: np.ndarray) -> np.ndarray:
        """The forecast (B, C, H, W) from the readout, by the output operations in order."""
        x = readout
        for op in self.post:
            x = op.apply(x, frame)
        return x

    def synapse_chain(self) -> list[tuple[Conv, LIF | None]]:
        """The graph as (convolution, the LIF it feeds or None for the readout) pairs.

        Raises GraphError when the chain is not conv -> LIF -> ... -> conv (what the Lava
        builder and the bundle need).
        """
        pairs, i = [], 0
        while i < len(self.layers):
            conv = self.layers[i]
            if not isinstance(conv, Conv):
                raise GraphError(f"layer {conv.name}: a LIF population must follow a convolution")
            nxt = self.layers[i + 1] if i + 1 < len(self.layers) else None
            if isinstance(nxt, LIF):
                pairs.append((conv, nxt))
                i += 2
            elif nxt is None:
                pairs.append((conv, None))
                i += 1
            else:
                raise GraphError(f"layer {nxt.name}: two convolutions in a row")
        if pairs[-1][1] is not None:
            raise GraphError("the graph must end in a readout convolution, not in spikes")
        return pairs

    def parameters(self) -> int:
        return int(
            sum(
                layer.weight.size + (0 if layer.bias is None else layer.bias.size)
                for layer in self.layers
                if isinstance(layer, Conv)
            )
        )
