"""The integer firmware engine: a calibrated graph stepped with integer arithmetic only.

Torch-free and Lava-free (numpy). It runs a :class:`~edge_shm.firmware_sim.fixed_graph.FixedGraph`
frame by frame with the neuron-step interface of the float simulator (``initial_state``,
``step(frame, state) -> (prediction, state)``), every layer within the frame's step (Lava adds
one step per synapse; its fixed-point runner re-aligns, so the two compare step for step).

Synapses are event-driven: each non-zero input (a spike, or a pixel of the graded first layer)
scatters its kernel into the outputs it reaches, so the work of a step is proportional to the
events that arrive, not to the dense convolution; :class:`OpCount` counts it.

Arithmetic per target (``FixedGraph.target``), per LIF layer, in this order:

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

The readout layer (no LIF) returns its integer sum; ``prediction`` is that sum divided by the
layer's scale, through the graph's output operations (float64, identical on every backend).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX24 = 2**23
DECAY_SHIFT = 12


def wrap24(x: np.ndarray) -> np.ndarray:
    """Lava Conv's ``signed_clamp``: wrap (not saturate) into [-2**23, 2**23)."""
    return (x + MAX24) % (2 * MAX24) - MAX24


def wrap_u(x: np.ndarray) -> np.ndarray:
    """Lava LIF's single conditional wrap of the current (models.py, 24 bit)."""
    y = np.where(x > MAX24, x - 2 * MAX24, x)
    return np.where(y <= -MAX24, x + 2 * MAX24, y)


def decay(v: np.ndarray, dv: int) -> np.ndarray:
    """``trunc0(v (4096 - dv) / 4096)``: the product rounded towards zero, as Lava does."""
    p = v * (4096 - dv)
    return np.sign(p) * (np.abs(p) >> DECAY_SHIFT)


def lif_loihi(v: np.ndarray, a: np.ndarray, dv: int, vth: int):
    """One Lava ``PyLifModelBitAcc`` step with du = 4095 (no current memory), bias 0:
    (new v, spikes) from membrane ``v`` and synaptic input ``a`` (integers)."""
    u = wrap_u(a << 6)
    v = np.clip(decay(v, dv) + u, -(MAX24 - 1), MAX24 - 1)
    s = v > (vth << 6)
    return np.where(s, 0, v), s


def lif_int8(v: np.ndarray, acc: np.ndarray, dv: int, vth: int, multiplier: int, shift: int):
    """One int16-membrane step from an int32 accumulator: (new v, spikes)."""
    a = (acc * multiplier + (1 << (shift - 1))) >> shift
    v = np.clip(decay(v, dv) + a, -(2**15), 2**15 - 1)
    s = v > vth
    return np.where(s, 0, v), s


@dataclass
class OpCount:
    """Integer work of the steps run so far: synaptic additions (one per event and output it
    reaches), bias additions, neuron updates; ``events`` that arrived at synapses."""

    synaptic_ops: int = 0
    bias_ops: int = 0
    neuron_updates: int = 0
    events: int = 0
    per_layer: dict = field(default_factory=dict)

    def add(self, layer: str, ops: int, events: int) -> None:
        self.synaptic_ops += ops
        self.events += events
        self.per_layer[layer] = self.per_layer.get(layer, 0) + ops


def scatter_conv(x: np.ndarray, weight: np.ndarray, stride, padding, dilation, out_hw):
    """Event-driven convolution (cross-correlation, zero padding) of one input (C, H, W).

    Returns (output (C_out, H', W') int64, synaptic operations, events)."""
    c_out, _, kh, kw = weight.shape
    ho, wo = out_hw
    ci, iy, ix = np.nonzero(x)
    val = x[ci, iy, ix].astype(np.int64)
    flat, wsel = [], []
    for ky in range(kh):
        ny = iy + padding[0] - ky * dilation[0]
        oky = (ny >= 0) & (ny % stride[0] == 0) & (ny // stride[0] < ho)
        for kx in range(kw):
            nx = ix + padding[1] - kx * dilation[1]
            ok = oky & (nx >= 0) & (nx % stride[1] == 0) & (nx // stride[1] < wo)
            if not ok.any():
                continue
            flat.append((ny[ok] // stride[0]) * wo + nx[ok] // stride[1])
            wsel.append(weight[:, ci[ok], ky, kx] * val[ok])  # (C_out, events reaching)
    out = np.zeros((c_out, ho * wo), np.int64)
    if flat:
        idx, contrib = np.concatenate(flat), np.concatenate(wsel, axis=1)
        for co in range(c_out):
            # float64 sums of integers below 2**53 are exact
            out[co] = np.rint(np.bincount(idx, contrib[co], ho * wo)).astype(np.int64)
        ops = c_out * idx.size
    else:
        ops = 0
    return out.reshape(c_out, ho, wo), int(ops), int(val.size)


class IntEngine:
    """Steps a :class:`~edge_shm.firmware_sim.fixed_graph.FixedGraph` with integer arithmetic."""

    def __init__(self, fixed):
        self.fixed = fixed
        self.ops = OpCount()

    def initial_state(self) -> dict[str, np.ndarray]:
        """Membrane v per LIF layer (int64 holding 24- or 16-bit values), zeros."""
        return {
            layer.lif: np.zeros(layer.out_shape, np.int64)
            for layer in self.fixed.layers
            if layer.lif is not None
        }

    def quantize_frame(self, frame: np.ndarray) -> np.ndarray:
        """Frame (H, W) in [0, 1] -> integer pixels (1, H, W): round(x input_scale)."""
        f = np.asarray(frame, np.float64)
        return np.rint(np.clip(f, 0, 1) * self.fixed.input_scale).astype(np.int64)[None]

    def trace_step(self, frame: np.ndarray, state: dict):
        """frame (H, W) -> (prediction (C, H', W') float64, new state, {layer: spikes},
        readout (C, Hr, Wr) int64)."""
        fx = self.fixed
        x = self.quantize_frame(frame)
        new, spikes = dict(state), {}
        for layer in fx.layers:
            acc, ops, events = scatter_conv(
                x, layer.weight, layer.stride, layer.padding, layer.dilation, layer.out_shape[1:]
            )
            self.ops.add(layer.name, ops, events)
            self.ops.bias_ops += int(np.prod(layer.out_shape)) if layer.bias.any() else 0
            b = layer.bias[:, None, None]
            if fx.target == "loihi":
                a = wrap24(acc) + wrap24(b)
            else:
                a = np.clip(acc + b, -(2**31), 2**31 - 1)
            if layer.lif is None:
                readout = a
                break
            if fx.target == "loihi":
                v, s = lif_loihi(state[layer.lif], a, layer.dv, layer.vth)
            else:
                v, s = lif_int8(
                    state[layer.lif], a, layer.dv, layer.vth, layer.multiplier, layer.shift
                )
            self.ops.neuron_updates += v.size
            new[layer.lif], spikes[layer.lif] = v, s
            x = s.astype(np.int64)
        pred = fx.apply_post(readout / fx.layers[-1].scale, np.asarray(frame, np.float64)[None])
        return pred, new, spikes, readout

    def step(self, frame: np.ndarray, state: dict):
        pred, new, _, _ = self.trace_step(frame, state)
        return pred, new

    def forecast(self, window: np.ndarray) -> np.ndarray:
        """The forecast (C, H', W') after a window of frames (T, H, W) from a zero state (the
        work adds to ``self.ops``)."""
        state = self.initial_state()
        for f in np.asarray(window):
            pred, state = self.step(f, state)
        return pred

    def run(self, frames: np.ndarray) -> dict:
        """One sequence (T, H, W) from a zero state: ``prediction`` (T, H', W'), ``readout``
        (T, C, H, W) int64, ``spikes`` {layer: (T, C, H, W) bool}."""
        state = self.initial_state()
        preds, reads, spikes = [], [], {}
        for f in np.asarray(frames):
            pred, state, s, r = self.trace_step(f, state)
            preds.append(pred[0])
            reads.append(r)
            for k, z in s.items():
                spikes.setdefault(k, []).append(z)
        return {
            "prediction": np.stack(preds),
            "readout": np.stack(reads),
            "spikes": {k: np.stack(z) for k, z in spikes.items()},
        }

    def memory_bytes(self) -> dict[str, int]:
        """Deployed memory: weights (8-bit mantissas), biases, state, scratch, in bytes."""
        fx = self.fixed
        state_b = 6 if fx.target == "loihi" else 2  # loihi: u and v, 24 bit each
        weights = sum(layer.weight.size for layer in fx.layers)
        biases = sum(layer.bias.size * 4 for layer in fx.layers)
        state = sum(int(np.prod(la.out_shape)) * state_b for la in fx.layers if la.lif)
        scratch = max(int(np.prod(la.out_shape)) for la in fx.layers) * 4
        return {"weights": weights, "biases": biases, "state": state, "scratch": scratch}


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
