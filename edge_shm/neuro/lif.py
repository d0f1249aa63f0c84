"""The leaky integrate-and-fire step in numpy: one definition for every torch-free runtime.

Discrete form, one step per frame (Lava's LIF, with Norse's box LIF as the case ``du = 1``)::

    u'    = (1 - du) u + scale * I          synaptic current (I: the summed synaptic input)
    v_pre = v + dv (v_leak - v) + u'        membrane before the threshold
    z     = v_pre > v_th                    spike (strict: a tie does not spike)
    v'    = v_reset where z, else v_pre

A NIR ``LIF(tau, r, v_leak, v_threshold, v_reset)`` stepped by forward Euler with ``dt`` is
``du = 1, dv = dt / tau, scale = dt r / tau``: ``v_pre = v + dt/tau ((v_leak - v) + r I)``,
exactly Norse's ``lif_box_feed_forward_step`` (``tau_mem_inv = 1 / tau``). Lava's floating-point
LIF ``u = u (1 - du) + a_in; v = v (1 - dv) + u + bias`` is the same with ``scale = 1`` and
``bias = dv v_leak``.

The neuron-step interface is ``initial_state(shape) -> LIFState`` and
``step(current, state) -> (z, v_pre, state)``, plus ``lava_params()`` (the constants of Lava's
``LIF`` process that computes the same step). :class:`FloatLIF` implements it in floating
point; the fixed-point implementations (:mod:`edge_shm.neuro.fixed_lif`) have the same methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np


class LIFState(NamedTuple):
    """Explicit neuron state: synaptic current ``u`` and membrane ``v``, arrays of one shape."""

    u: np.ndarray
    v: np.ndarray


@dataclass(frozen=True)
class LIFParams:
    """Per-step constants of the discrete LIF (dimensionless; scalars or arrays): the decay per
    step of the membrane (dv) and of the synaptic current (du), the gain on the input (scale),
    the leak, threshold and reset potentials."""

    dv: float
    du: float = 1.0
    scale: float = 1.0
    v_leak: float = 0.0
    v_th: float = 1.0
    v_reset: float = 0.0

    @classmethod
    def from_continuous(cls, tau, r, v_leak, v_threshold, v_reset, dt: float) -> LIFParams:
        """NIR's ``tau dv/dt = (v_leak - v) + r I`` stepped by forward Euler with ``dt`` (s)."""
        return cls(
            dv=dt / tau,
            du=1.0,
            scale=dt * r / tau,
            v_leak=v_leak,
            v_th=v_threshold,
            v_reset=v_reset,
        )


class NeuronStep(Protocol):
    def initial_state(self, shape: tuple[int, ...]) -> LIFState: ...

    def step(self, current: np.ndarray, state: LIFState): ...

    def lava_params(self) -> dict: ...


def lif_step(current: np.ndarray, state: LIFState, p: LIFParams):
    """One step of the discrete LIF; returns ``(z, v_pre, new_state)`` (z boolean)."""
    u = p.scale * current if np.all(p.du == 1) else (1 - p.du) * state.u + p.scale * current
    v_pre = state.v + p.dv * (p.v_leak - state.v) + u
    z = v_pre > p.v_th
    return z, v_pre, LIFState(u, np.where(z, p.v_reset, v_pre))


class FloatLIF:
    """Floating-point implementation of the neuron-step interface (float64 by default)."""

    def __init__(self, params: LIFParams, dtype=np.float64):
        self.params = params
        self.dtype = dtype

    def initial_state(self, shape: tuple[int, ...]) -> LIFState:
        return LIFState(np.zeros(shape, self.dtype), np.zeros(shape, self.dtype))

    def step(self, current: np.ndarray, state: LIFState):
        return lif_step(np.asarray(current, self.dtype), state, self.params)

    @property
    def input_gain(self) -> float:
        """``scale``, the gain on the input: not a parameter of Lava's LIF, so a Lava builder
        folds it into the incoming weights and bias."""
        return _one(self.params.scale)

    def lava_params(self) -> dict:
        """Lava's floating-point ``LIF`` (``u = u (1 - du) + a_in; v = v (1 - dv) + u + bias``,
        spike if ``v > vth``, then ``v = 0``) for these constants: ``du``, ``dv``, ``vth`` and
        ``bias_mant`` 0 (a bias travels through the synapse). ValueError unless every constant
        is one number for the whole population and ``v_leak = v_reset = 0``."""
        p = self.params
        constants = (p.dv, p.du, p.scale, p.v_leak, p.v_th, p.v_reset)
        if not all(map(_uniform, constants)) or _one(p.v_leak) != 0 or _one(p.v_reset) != 0:
            raise ValueError(
                "Lava's LIF needs one v_threshold, v_leak = 0 and v_reset = 0 for the whole "
                "population"
            )
        return {"du": _one(p.du), "dv": _one(p.dv), "vth": _one(p.v_th), "bias_mant": 0.0}


def _one(x) -> float:
    return float(np.asarray(x).flat[0])


def _uniform(x) -> bool:
    a = np.asarray(x)
    return a.ndim == 0 or bool(np.all(a == a.flat[0]))
