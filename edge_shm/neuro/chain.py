"""One stepper over a chain of synapse-neuron stages, whatever the precision.

A network is a list of :class:`Stage`: a synapse (:mod:`edge_shm.neuro.synapse`) and the
neuron population it feeds (:mod:`edge_shm.neuro.lif`, :mod:`edge_shm.neuro.fixed_lif`), the
last stage's neuron None (its synapse's output is the readout). Every stage computes within
the frame's step. :class:`ChainStepper` walks it with explicit state; the float graph simulator
and the integer engine are ChainSteppers built from their graphs, and the Lava builders build
their processes from the same stages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_shm.neuro.synapse import OpCount
from edge_shm.neuro.trace import SequenceTrace, Trace


@dataclass(frozen=True)
class Stage:
    """``synapse(x, ops) -> current``; ``neuron`` (the neuron-step interface) or None for the
    readout; ``name`` the population's (its state and trace key; None for the readout);
    ``shape`` (C, H, W) of the synapse's output."""

    synapse: object
    neuron: object | None
    name: str | None
    shape: tuple


class ChainStepper:
    """Steps a list of :class:`Stage` one frame at a time.

    ``batched``: arrays carry a batch axis (B, C, H, W) (the float simulator) or none
    (C, H, W) (the integer engine, one sequence at a time). ``ops``: an :class:`OpCount` the
    synapses and neuron updates add to, or None. Subclasses turn a frame into the chain's input
    (:meth:`encode`) and the readout into the prediction (:meth:`decode`).
    """

    batched = True

    def __init__(self, stages: list[Stage], ops: OpCount | None = None):
        self.stages = list(stages)
        self.ops = ops
        if not self.stages or self.stages[-1].neuron is not None:
            raise ValueError("a chain ends in a readout stage (neuron None)")

    def encode(self, frame: np.ndarray) -> np.ndarray:
        """The chain's input from a frame (identity)."""
        return frame

    def decode(self, readout: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The prediction from the readout and the chain's input ``x`` (identity)."""
        return readout

    def initial_state(self, batch: int | None = None) -> dict:
        """Zero state of every population: {name: LIFState}, (batch, C, H, W) when batched
        (batch 1 by default), else (C, H, W)."""
        if self.batched:
            lead = (1 if batch is None else batch,)
        elif batch is None:
            lead = ()
        else:
            raise ValueError("this stepper steps one sequence at a time, without a batch axis")
        return {
            s.name: s.neuron.initial_state((*lead, *s.shape))
            for s in self.stages
            if s.neuron is not None
        }

    def trace_step(self, frame: np.ndarray, state: dict):
        """frame -> (prediction, new state, :class:`Trace` with the readout)."""
        x = self.encode(frame)
        inp, new, trace = x, dict(state), Trace()
        for stage in self.stages:
            current = stage.synapse(inp, self.ops)
            if stage.neuron is None:
                trace.readout = current
                break
            old = state[stage.name]
            z, v_pre, new[stage.name] = stage.neuron.step(current, old)
            if self.ops is not None:
                self.ops.neuron_updates += z.size
            trace.spikes[stage.name], trace.v_pre[stage.name] = z, v_pre
            trace.currents[stage.name], trace.v_prev[stage.name] = current, old.v
            trace.v[stage.name] = new[stage.name].v
            inp = z
        return self.decode(trace.readout, x), new, trace

    def step(self, frame: np.ndarray, state: dict):
        pred, new, _ = self.trace_step(frame, state)
        return pred, new

    def run(self, frames: np.ndarray) -> SequenceTrace:
        """One sequence of frames (T, H, W) from a zero state -> :class:`SequenceTrace`."""
        state = self.initial_state()
        preds, traces = [], []
        for f in np.asarray(frames):
            pred, state, tr = self.trace_step(f[None, None] if self.batched else f, state)
            preds.append(pred)
            traces.append(tr)
        return SequenceTrace.from_steps(preds, traces, self.batched)
