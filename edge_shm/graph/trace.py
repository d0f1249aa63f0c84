"""What a spiking step leaves behind: spikes and membranes per LIF layer, keyed by layer name.

Used on both sides: torch models return a :class:`Trace` of tensors from ``trace_step``, the
numpy simulators one of arrays; the export verification compares them layer by layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Trace:
    """One step. Every dict maps a LIF layer name to a (B, C, H, W) array or tensor.

    Attributes
    ----------
    spikes : 1 where the neuron spiked, else 0.
    v_pre : membrane potential before the threshold (to judge spikes that sit on it).
    currents : synaptic input of the step (the convolution's output, before any scaling).
    v_prev, v : membrane potential before the step and after the reset.
    """

    spikes: dict = field(default_factory=dict)
    v_pre: dict = field(default_factory=dict)
    currents: dict = field(default_factory=dict)
    v_prev: dict = field(default_factory=dict)
    v: dict = field(default_factory=dict)


@dataclass
class SequenceTrace:
    """One sequence from a zero state, one step per frame (batch 1).

    Attributes
    ----------
    prediction : (T, H, W) the forecast after each input frame (after the output operations).
    spikes : layer -> (T, C, H, W) bool.
    v_pre : layer -> (T, C, H, W) membrane before the threshold.
    """

    prediction: np.ndarray
    spikes: dict[str, np.ndarray]
    v_pre: dict[str, np.ndarray]

    @classmethod
    def from_steps(cls, predictions: list, traces: list[Trace]) -> SequenceTrace:
        """Stack per-step (1, 1, H, W) predictions and batch-1 traces over time."""
        names = list(traces[0].spikes) if traces else []
        return cls(
            prediction=np.stack([np.asarray(p)[0, 0] for p in predictions]),
            spikes={n: np.stack([np.asarray(t.spikes[n])[0] > 0 for t in traces]) for n in names},
            v_pre={n: np.stack([np.asarray(t.v_pre[n])[0] for t in traces]) for n in names},
        )
