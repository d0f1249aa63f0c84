"""The integer firmware engine: a calibrated graph stepped with integer arithmetic only.

Torch-free and Lava-free (numpy). It is the one chain stepper
(:class:`~edge_shm.neuro.chain.ChainStepper`) over the stages of a
:class:`~edge_shm.firmware_sim.fixed_graph.FixedGraph` (:func:`fixed_stages`), frame by frame
with the interface of the float simulator (``initial_state``, ``step(frame, state) ->
(prediction, state)``, ``run(frames) -> SequenceTrace``), every layer within the frame's step
(Lava adds one step per synapse; its fixed-point runner re-aligns, so the two compare step for
step). Arrays carry no batch axis: one sequence at a time.

The arithmetic is the precision's (``FixedGraph.target``, :mod:`edge_shm.neuro.precision`):
synapses are event-driven (:class:`~edge_shm.neuro.synapse.ScatterConv`: each non-zero input, a
spike or a pixel of the graded first layer, scatters its kernel into the outputs it reaches, so
the work of a step is proportional to the events that arrive; :class:`OpCount` counts it) and
summed with the bias by the precision's rule; neurons are the precision's LIF
(:mod:`edge_shm.neuro.fixed_lif`). Per LIF layer, in this order:

``loihi`` (Lava ``PyLifModelBitAcc`` and ``PyConvModelFixed``, lava-nc 0.10.0; du = 4095)::

    a = wrap24(scatter(x, W)) + wrap24(b)        # the main and the bias Conv, summed at a_in
    u = wrap_u(a << 6)                           # du = 4095: no current memory
    v = clip(trunc0(v (4096 - dv) / 4096) + u, +-(2**23 - 1))
    s = v > (vth << 6);  v[s] = 0

``int8`` (a microcontroller: int8 weights, int32 accumulators, int16 membranes)::

    acc = sat32(scatter(x, W) + b)
    a   = (acc M + 2**(sh - 1)) >> sh            # requantisation, 64-bit product
    v   = sat16(trunc0(v (4096 - dv) / 4096) + a)
    s   = v > vth;  v[s] = 0

The input frame enters as ``FixedGraph.quantize`` pixels; the readout layer (no LIF) returns its
integer sum and the prediction is ``FixedGraph.forecast(readout, pixels)`` (float64, identical
on every backend).
"""

from __future__ import annotations

import numpy as np

from edge_shm.neuro.chain import ChainStepper, Stage
from edge_shm.neuro.fixed_lif import FIXED_NEURONS
from edge_shm.neuro.precision import precision, wrap24
from edge_shm.neuro.synapse import OpCount, ScatterConv, scatter_conv

__all__ = ["EngineStepper", "IntEngine", "OpCount", "fixed_stages", "scatter_conv", "wrap24"]


def fixed_stages(fixed) -> list[Stage]:
    """The stages of a calibrated graph: per layer its event-driven synapse and, unless it is
    the readout, the LIF of the graph's precision."""
    prec = precision(fixed.target)
    neuron = FIXED_NEURONS[prec.name]
    return [
        Stage(
            ScatterConv.of(layer, prec),
            None if layer.lif is None else neuron.of(layer),
            layer.lif,
            tuple(layer.out_shape),
        )
        for layer in fixed.layers
    ]


class IntEngine(ChainStepper):
    """Steps a :class:`~edge_shm.firmware_sim.fixed_graph.FixedGraph` with integer arithmetic;
    frames (H, W) in [0, 1]; its work adds up in ``ops``."""

    batched = False

    def __init__(self, fixed):
        self.fixed = fixed
        self.precision = precision(fixed.target)
        super().__init__(fixed_stages(fixed), ops=OpCount())

    def encode(self, frame: np.ndarray) -> np.ndarray:
        return self.fixed.quantize(frame)

    def decode(self, readout: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        return self.fixed.forecast(readout, pixels)

    def quantize_frame(self, frame: np.ndarray) -> np.ndarray:
        """Frame (H, W) in [0, 1] -> integer pixels (1, H, W): round(x input_scale)."""
        return self.fixed.quantize(frame)

    def forecast(self, window: np.ndarray) -> np.ndarray:
        """The forecast (C, H', W') after a window of frames (T, H, W) from a zero state (the
        work adds to ``self.ops``)."""
        state = self.initial_state()
        for f in np.asarray(window):
            pred, state = self.step(f, state)
        return pred

    def memory_bytes(self) -> dict[str, int]:
        """Deployed memory in bytes at the graph's precision: the C firmware's account
        (``firmware_sim/c/layout.py``, one line per group: weights, biases, state (v at
        ``Precision.state_bytes`` per neuron), spike bits, banded scratch, input, readout and
        output buffers, counters, stack reserve, alignment padding), not this engine's own
        numpy arrays."""
        from edge_shm.firmware_sim.c.layout import geometry, memory_groups

        return {g.key: g.bytes for g in memory_groups(geometry(self.fixed))}


class EngineStepper:
    """The integer engine behind the Stepper protocol (batch 1): frames (1, 1, H, W) in,
    forecasts (1, 1, H', W') out, so that device loops written for Steppers run it."""

    def __init__(self, engine: IntEngine):
        self.engine = engine
        self.frame_shape = tuple(engine.fixed.frame_shape)

    def initial_state(self, batch: int = 1):
        if batch != 1:
            raise ValueError("the integer engine steps one sequence at a time")
        return self.engine.initial_state()

    def step(self, frame: np.ndarray, state):
        pred, state = self.engine.step(np.asarray(frame)[0, 0], state)
        return np.asarray(pred)[None].astype(np.float32), state
