"""The numpy reference simulator of a deployment graph (float64 by default), explicit state.

``step(frame, state) -> (prediction, state)`` and ``trace_step`` (plus the per-layer
:class:`~edge_shm.graph.trace.Trace`) mirror the torch predictors: every layer computes within
the frame's step, convolutions by :func:`edge_shm.neuro.conv.conv2d`, neurons by the one LIF
step of :mod:`edge_shm.neuro.lif`, then the output operations.
"""

from __future__ import annotations

import numpy as np

from edge_shm.graph.graph import DeploymentGraph
from edge_shm.graph.nodes import Conv
from edge_shm.graph.trace import SequenceTrace, Trace
from edge_shm.neuro.conv import conv2d
from edge_shm.neuro.lif import FloatLIF, LIFState


class GraphStepper:
    """Steps a :class:`DeploymentGraph` one frame at a time (the neuron-step interface is
    pluggable: ``neuron(lif_layer, dt)`` returns an object with ``initial_state`` and ``step``)."""

    def __init__(self, graph: DeploymentGraph, dtype=np.float64, neuron=None):
        self.graph = graph
        self.dtype = dtype
        make = neuron or (lambda layer, dt: FloatLIF(layer.params(dt), dtype))
        self.neurons = {layer.name: make(layer, graph.dt) for layer in graph.lif_layers()}
        self.lif_shapes = graph.lif_shapes()
        self.frame_shape = graph.input_shape[1:]

    def initial_state(self, batch: int = 1) -> dict[str, LIFState]:
        return {n: self.neurons[n].initial_state((batch, *s)) for n, s in self.lif_shapes.items()}

    def trace_step(self, frame: np.ndarray, state: dict):
        """frame (B, C, H, W) -> (prediction (B, C', H', W'), new state, Trace)."""
        x = np.asarray(frame, self.dtype)
        new, trace = dict(state), Trace()
        for layer in self.graph.layers:
            if isinstance(layer, Conv):
                bias = None if layer.bias is None else layer.bias.astype(self.dtype)
                x = conv2d(
                    x,
                    layer.weight.astype(self.dtype),
                    bias,
                    layer.stride,
                    layer.padding,
                    layer.dilation,
                    layer.groups,
                )
            else:
                old = state[layer.name]
                z, v_pre, new[layer.name] = self.neurons[layer.name].step(x, old)
                trace.spikes[layer.name], trace.v_pre[layer.name] = z, v_pre
                trace.currents[layer.name], trace.v_prev[layer.name] = x, old.v
                trace.v[layer.name] = new[layer.name].v
                x = z.astype(self.dtype)
        pred = self.graph.apply_post(x, np.asarray(frame, self.dtype))
        return pred, new, trace

    def step(self, frame: np.ndarray, state: dict):
        pred, new, _ = self.trace_step(frame, state)
        return pred, new

    def run(self, frames: np.ndarray) -> SequenceTrace:
        """One sequence (T, H, W) from a zero state -> :class:`SequenceTrace`."""
        state = self.initial_state(1)
        preds, traces = [], []
        for f in np.asarray(frames):
            pred, state, tr = self.trace_step(f[None, None], state)
            preds.append(pred)
            traces.append(tr)
        return SequenceTrace.from_steps(preds, traces)
