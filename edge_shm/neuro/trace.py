"""What a spiking step leaves behind: spikes and membranes per LIF layer, keyed by layer name.

Used on both sides: torch models return a :class:`Trace` of tensors from ``trace_step``, the
numpy runtimes one of arrays; the export verification compares them layer by layer. Every
runtime (the float and integer steppers, Lava floating_pt and fixed_pt) returns a sequence as
a :class:`SequenceTrace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


@dataclass
class Trace:
    """One step. Every dict maps a LIF layer name to a (B, C, H, W) array or tensor ((C, H, W)
    for a runtime without a batch axis, the integer engine).

    Attributes
    ----------
    spikes : 1 where the neuron spiked, else 0.
    v_pre : membrane potential before the threshold (to judge spikes that sit on it).
    currents : synaptic input of the step (the synapse's output, before the neuron's gain).
    v_prev, v : membrane potential before the step and after the reset.
    readout : the readout synapse's output (before the output operations); None when the
        runtime does not record it (the torch models).
    """

    spikes: dict = field(default_factory=dict)
    v_pre: dict = field(default_factory=dict)
    currents: dict = field(default_factory=dict)
    v_prev: dict = field(default_factory=dict)
    v: dict = field(default_factory=dict)
    readout: np.ndarray | None = None


@dataclass
class SequenceTrace:
    """One sequence from a zero state, one step per frame (batch 1).

    Attributes
    ----------
    prediction : (T, H, W) the forecast after each input frame (after the output operations).
    spikes : layer -> (T, C, H, W) bool.
    v_pre : layer -> (T, C, H, W) membrane before the threshold (empty when not recorded).
    readout : (T, C, Hr, Wr) the readout before the output operations (integers on the integer
        runtimes); None when not recorded.

    Fields also read as items (``res["spikes"]``), as the runtimes' results were dicts.
    """

    prediction: np.ndarray
    spikes: dict[str, np.ndarray]
    v_pre: dict[str, np.ndarray] = field(default_factory=dict)
    readout: np.ndarray | None = None

    def __getitem__(self, key: str):
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, key)

    @classmethod
    def from_steps(cls, predictions: list, traces: list[Trace], batched: bool = True):
        """Stack per-step predictions and traces over time: batch 1 (predictions (1, C', H, W),
        traces (1, C, H, W)) or, ``batched`` False, without the batch axis (predictions
        (C', H, W), traces (C, H, W)). The prediction keeps channel 0."""

        def one(a) -> np.ndarray:
            return np.asarray(a)[0] if batched else np.asarray(a)

        names = list(traces[0].spikes) if traces else []
        readout = None
        if traces and all(t.readout is not None for t in traces):
            readout = np.stack([one(t.readout) for t in traces])
        return cls(
            prediction=np.stack([one(p)[0] for p in predictions]),
            spikes={n: np.stack([one(t.spikes[n]) > 0 for t in traces]) for n in names},
            v_pre={n: np.stack([one(t.v_pre[n]) for t in traces]) for n in names},
            readout=readout,
        )
