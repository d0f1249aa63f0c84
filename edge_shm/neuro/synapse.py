"""Synapses: what turns a layer's input into its neurons' current, one per kind of arithmetic.

A synapse is called as ``synapse(x, ops) -> current``: ``x`` the layer's input (a frame, or the
previous population's spikes, boolean), ``ops`` an :class:`OpCount` to add the step's work to
(or None). :class:`FloatConv` is the dense floating-point convolution
(:func:`edge_shm.neuro.conv.conv2d`); :class:`ScatterConv` the event-driven integer one
(:func:`scatter_conv`), summed with its bias by the precision's rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edge_shm.neuro.conv import conv2d
from edge_shm.neuro.precision import Precision


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

    Each non-zero input scatters its kernel into the outputs it reaches, so the work is
    proportional to the events, not to the dense convolution. Returns (output (C_out, H', W')
    int64, synaptic operations, events)."""
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


class FloatConv:
    """Floating-point synapse: a run of convolutions applied in order (usually one; none
    passes the input through), on (B, C, H, W) arrays of ``dtype``.

    ``convs``: objects with ``name``, ``weight`` (C_out, C_in / groups, kh, kw), ``bias``
    (C_out,) or None, ``stride``, ``padding``, ``dilation`` ((rows, columns), px) and
    ``groups``, e.g. :class:`edge_shm.graph.nodes.Conv`.
    """

    def __init__(self, convs, dtype=np.float64):
        self.convs = tuple(convs)
        self.dtype = dtype
        self.name = self.convs[-1].name if self.convs else None

    def __call__(self, x: np.ndarray, ops: OpCount | None = None) -> np.ndarray:
        x = np.asarray(x, self.dtype)
        for c in self.convs:
            bias = None if c.bias is None else c.bias.astype(self.dtype)
            w = c.weight.astype(self.dtype)
            x = conv2d(x, w, bias, c.stride, c.padding, c.dilation, c.groups)
        return x


class ScatterConv:
    """Integer synapse: one event-driven convolution of an input (C, H, W) of integers (or
    spikes) with an integer kernel (C_out, C_in, kh, kw) and bias (C_out,), summed by
    ``precision``'s rule; the output (C_out, H', W') is ``out_shape``. Counts its work."""

    def __init__(self, name, weight, bias, stride, padding, dilation, out_shape, precision):
        self.name = name
        self.weight, self.bias = weight, bias
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.out_shape = tuple(out_shape)
        self.precision: Precision = precision

    @classmethod
    def of(cls, layer, precision: Precision) -> ScatterConv:
        """From a calibrated layer (:class:`~edge_shm.firmware_sim.fixed_graph.FixedLayer`)."""
        geometry = (layer.stride, layer.padding, layer.dilation)
        return cls(layer.name, layer.weight, layer.bias, *geometry, layer.out_shape, precision)

    def __call__(self, x: np.ndarray, ops: OpCount | None = None) -> np.ndarray:
        acc, n, events = scatter_conv(
            x, self.weight, self.stride, self.padding, self.dilation, self.out_shape[1:]
        )
        if ops is not None:
            ops.add(self.name, n, events)
            ops.bias_ops += int(np.prod(self.out_shape)) if self.bias.any() else 0
        return self.precision.synaptic_sum(acc, self.bias[:, None, None])
