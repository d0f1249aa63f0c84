"""The deployed number formats: their sizes in bytes and their integer arithmetic rules.

One :class:`Precision` per format, in :data:`PRECISIONS`: ``float32`` (the float model),
``int8`` (a microcontroller: int8 weights, int32 saturating accumulators, int16 membranes) and
``loihi`` (Loihi 2 fixed point as Lava's bit-accurate models compute it: 8-bit weight mantissas,
24-bit wrapping synaptic sums and 24-bit membranes). :func:`precision` looks a name up, old
names included (``loihi8``, the device files' name for ``loihi``).

State bytes count the membrane v only, one value per neuron: at every precision deployed here
the synaptic current has no memory (float: du = 1; Loihi: du = 4095, which Lava's 1-bit offset
makes a decay of 4096 / 4096, so the current of a step is that step's input, ``u = a << 6``).
So float32 keeps 4 B, int8 2 B (int16 v), loihi 3 B (24-bit v) per neuron. The profiler's
memory lines and the integer engine's deployed bytes both read these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def wrap(x: np.ndarray, bits: int) -> np.ndarray:
    """Two's-complement wrap (not saturation) into [-2**(bits-1), 2**(bits-1))."""
    half = 2 ** (bits - 1)
    return (x + half) % (2 * half) - half


def saturate(x: np.ndarray, bits: int) -> np.ndarray:
    """Saturation into the signed range [-2**(bits-1), 2**(bits-1) - 1]."""
    return np.clip(x, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def wrap24(x: np.ndarray) -> np.ndarray:
    """Lava Conv's ``signed_clamp``: wrap (not saturate) into [-2**23, 2**23)."""
    return wrap(x, 24)


@dataclass(frozen=True)
class Precision:
    """A deployed number format.

    Attributes
    ----------
    name : registry name (``float32``, ``int8``, ``loihi``).
    weight_bytes, bias_bytes : B per weight (loihi: the 8-bit mantissa, the exponent is one
        per layer) and per bias.
    state_bytes : B of persistent state per neuron: the membrane v (module docstring).
    activation_bytes, input_bytes : B per activation between layers and per input pixel.
    accumulator_bytes : B per synaptic accumulator (the scratch of one layer's sums).
    weight_bits, accumulator_bits, state_bits : signed widths of a weight, a synaptic sum and
        the membrane; None in floating point.
    accumulator_wraps : a synaptic sum wraps at ``accumulator_bits`` (Loihi's Conv) instead of
        saturating (an int32 accumulator).
    decay_shift : decays are integers of 1 / 2**decay_shift (``trunc0(v (4096 - dv) / 4096)``).
    current_shift : the synaptic input enters the current as ``a << current_shift``.
    vth_shift : the threshold mantissa is compared as ``vth << vth_shift``.
    du : the current decay given to Lava (loihi: 4095, no current memory); None when unused.
    aliases : older names accepted by :func:`precision`.
    """

    name: str
    weight_bytes: int
    state_bytes: int
    activation_bytes: int
    input_bytes: int
    bias_bytes: int = 4
    accumulator_bytes: int = 4
    weight_bits: int | None = None
    accumulator_bits: int | None = None
    accumulator_wraps: bool = False
    state_bits: int | None = None
    decay_shift: int = 12
    current_shift: int = 0
    vth_shift: int = 0
    du: int | None = None
    aliases: tuple[str, ...] = ()

    @property
    def integer(self) -> bool:
        return self.accumulator_bits is not None

    def synaptic_sum(self, acc: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """The neurons' input from a synapse's sum ``acc`` and its ``bias`` (broadcast).

        loihi: each wrapped at 24 bits, then added (two Conv processes summed at the LIF's
        ``a_in``, which does not wrap); int8: their sum saturated at int32; float: their sum.
        """
        if self.accumulator_bits is None:
            return acc + bias
        if self.accumulator_wraps:
            return wrap(acc, self.accumulator_bits) + wrap(bias, self.accumulator_bits)
        return saturate(acc + bias, self.accumulator_bits)


FLOAT32 = Precision("float32", weight_bytes=4, state_bytes=4, activation_bytes=4, input_bytes=4)
INT8 = Precision(
    "int8",
    weight_bytes=1,
    state_bytes=2,
    activation_bytes=1,
    input_bytes=1,
    weight_bits=8,
    accumulator_bits=32,
    state_bits=16,
)
LOIHI = Precision(
    "loihi",
    weight_bytes=1,
    state_bytes=3,
    activation_bytes=1,
    input_bytes=1,
    weight_bits=8,
    accumulator_bits=24,
    accumulator_wraps=True,
    state_bits=24,
    current_shift=6,
    vth_shift=6,
    du=4095,
    aliases=("loihi8",),
)
PRECISIONS: dict[str, Precision] = {p.name: p for p in (FLOAT32, INT8, LOIHI)}


def precision(name: str) -> Precision:
    """The :class:`Precision` of a name or an alias; ValueError for an unknown one."""
    for p in PRECISIONS.values():
        if name == p.name or name in p.aliases:
            return p
    known = [n for p in PRECISIONS.values() for n in (p.name, *p.aliases)]
    raise ValueError(f"unknown precision {name!r}; known: {', '.join(known)}")
