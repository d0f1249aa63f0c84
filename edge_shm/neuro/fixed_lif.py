"""The LIF step in integers: one neuron per fixed-point precision (``loihi``, ``int8``).

Both implement the neuron-step interface of :mod:`edge_shm.neuro.lif` on int64 arrays holding
the deployed widths: ``initial_state(shape)``, ``step(current, state) -> (z, v_pre, state)``
and ``lava_params()``. ``current`` is the synaptic sum the precision's synapse delivers
(:meth:`~edge_shm.neuro.precision.Precision.synaptic_sum`); the state is ``LIFState(u, v)``,
u the step's current (recorded, not carried: neither neuron has current memory) and v the
membrane, the only persistent state (``Precision.state_bytes``).

``loihi``, Lava's ``PyLifModelBitAcc`` (lava-nc 0.10.0) with du = 4095, bias 0::

    u = wrap_u(a << 6)                           # du = 4095 (+ Lava's offset 1): no memory
    v = clip(trunc0(v (4096 - dv) / 4096) + u, +-(2**23 - 1))
    s = v > (vth << 6);  v[s] = 0

``int8`` (a microcontroller: int32 accumulator in, int16 membrane)::

    a = (acc M + 2**(sh - 1)) >> sh              # requantisation, 64-bit product, rounds half up
    v = sat16(trunc0(v (4096 - dv) / 4096) + a)
    s = v > vth;  v[s] = 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_shm.neuro.lif import LIFState
from edge_shm.neuro.precision import INT8, LOIHI, Precision, saturate


def decay(v: np.ndarray, dv: int, shift: int = 12) -> np.ndarray:
    """``trunc0(v (2**shift - dv) / 2**shift)``: the product rounded towards zero, as Lava
    does (-53 decayed by half is -26, not -27)."""
    p = v * ((1 << shift) - dv)
    return np.sign(p) * (np.abs(p) >> shift)


def wrap_u(x: np.ndarray, bits: int = 24) -> np.ndarray:
    """Lava LIF's single conditional wrap of the current: x > 2**(bits-1) wraps down,
    x <= -2**(bits-1) wraps up, once."""
    half = 2 ** (bits - 1)
    y = np.where(x > half, x - 2 * half, x)
    return np.where(y <= -half, x + 2 * half, y)


def _zeros(shape: tuple[int, ...]) -> LIFState:
    return LIFState(np.zeros(shape, np.int64), np.zeros(shape, np.int64))


@dataclass(frozen=True)
class LoihiLIF:
    """Loihi 2 fixed-point LIF: ``dv`` of 4096 per step, threshold mantissa ``vth``."""

    dv: int
    vth: int
    precision: Precision = LOIHI

    @classmethod
    def of(cls, layer) -> LoihiLIF:
        """From a calibrated layer (:class:`~edge_shm.firmware_sim.fixed_graph.FixedLayer`)."""
        return cls(int(layer.dv), int(layer.vth))

    def initial_state(self, shape: tuple[int, ...]) -> LIFState:
        return _zeros(shape)

    def step(self, current: np.ndarray, state: LIFState):
        """current: the synaptic input a (int64, any shape) -> (z, v_pre, new state)."""
        p = self.precision
        limit = 2 ** (p.state_bits - 1) - 1  # Lava's voltage limits are symmetric
        u = wrap_u(current << p.current_shift, p.state_bits)
        v_pre = np.clip(decay(state.v, self.dv, p.decay_shift) + u, -limit, limit)
        z = v_pre > (self.vth << p.vth_shift)
        return z, v_pre, LIFState(u, np.where(z, 0, v_pre))

    def lava_params(self) -> dict:
        """Constants of Lava's ``LIF`` (fixed_pt: ``PyLifModelBitAcc``); no bias."""
        p = self.precision
        return {"du": p.du, "dv": self.dv, "vth": self.vth, "bias_mant": 0, "bias_exp": 0}


@dataclass(frozen=True)
class Int8LIF:
    """int16-membrane LIF fed by an int32 accumulator requantised by ``multiplier`` and
    ``shift``; ``dv`` of 4096 per step, threshold ``vth`` in membrane units."""

    dv: int
    vth: int
    multiplier: int
    shift: int
    precision: Precision = INT8

    @classmethod
    def of(cls, layer) -> Int8LIF:
        """From a calibrated layer (:class:`~edge_shm.firmware_sim.fixed_graph.FixedLayer`)."""
        return cls(int(layer.dv), int(layer.vth), int(layer.multiplier), int(layer.shift))

    def initial_state(self, shape: tuple[int, ...]) -> LIFState:
        return _zeros(shape)

    def step(self, current: np.ndarray, state: LIFState):
        """current: the int32 accumulator (int64 array) -> (z, v_pre, new state)."""
        p = self.precision
        a = (current * self.multiplier + (1 << (self.shift - 1))) >> self.shift
        v_pre = saturate(decay(state.v, self.dv, p.decay_shift) + a, p.state_bits)
        z = v_pre > self.vth
        return z, v_pre, LIFState(a, np.where(z, 0, v_pre))

    def lava_params(self) -> dict:
        raise ValueError("Lava has no int8 LIF model; Lava runs the loihi precision")


FIXED_NEURONS = {"loihi": LoihiLIF, "int8": Int8LIF}
