"""The numpy reference simulator of a deployment graph (float64 by default), explicit state.

``step(frame, state) -> (prediction, state)`` and ``trace_step`` (plus the per-layer
:class:`~edge_shm.graph.trace.Trace`) mirror the torch predictors: every layer computes within
the frame's step, by the one chain stepper (:class:`~edge_shm.neuro.chain.ChainStepper`) over
the graph's float stages (:func:`graph_stages`): convolutions by
:func:`edge_shm.neuro.conv.conv2d`, neurons by the one LIF step of :mod:`edge_shm.neuro.lif`,
then the output operations.
"""

from __future__ import annotations

import numpy as np

from edge_shm.graph.graph import DeploymentGraph
from edge_shm.graph.nodes import Conv
from edge_shm.neuro.chain import ChainStepper, Stage
from edge_shm.neuro.lif import FloatLIF
from edge_shm.neuro.synapse import FloatConv


def graph_stages(graph: DeploymentGraph, dtype=np.float64, neuron=None) -> list[Stage]:
    """The graph as float stages: the convolutions before each LIF population (one in a chain
    conv -> LIF -> ... -> conv) and that population, then the readout stage (the convolutions
    after the last population, neuron None). ``neuron(lif_layer, dt)`` makes each population's
    neuron (default :class:`FloatLIF` in ``dtype``)."""
    make = neuron or (lambda layer, dt: FloatLIF(layer.params(dt), dtype))
    shapes = graph.shapes()
    stages, convs = [], []
    for layer, shape in zip(graph.layers, shapes, strict=True):
        if isinstance(layer, Conv):
            convs.append(layer)
            continue
        stages.append(Stage(FloatConv(convs, dtype), make(layer, graph.dt), layer.name, shape))
        convs = []
    stages.append(Stage(FloatConv(convs, dtype), None, None, shapes[-1]))
    return stages


class GraphStepper(ChainStepper):
    """Steps a :class:`DeploymentGraph` one frame at a time, frames (B, C, H, W) (the
    neuron-step interface is pluggable: ``neuron(lif_layer, dt)`` returns an object with
    ``initial_state`` and ``step``)."""

    def __init__(self, graph: DeploymentGraph, dtype=np.float64, neuron=None):
        super().__init__(graph_stages(graph, dtype, neuron))
        self.graph = graph
        self.dtype = dtype
        self.neurons = {s.name: s.neuron for s in self.stages if s.neuron is not None}
        self.lif_shapes = graph.lif_shapes()
        self.frame_shape = graph.input_shape[1:]

    def initial_state(self, batch: int = 1) -> dict:
        return super().initial_state(batch)

    def encode(self, frame: np.ndarray) -> np.ndarray:
        return np.asarray(frame, self.dtype)

    def decode(self, readout: np.ndarray, x: np.ndarray) -> np.ndarray:
        return self.graph.apply_post(readout, x)
