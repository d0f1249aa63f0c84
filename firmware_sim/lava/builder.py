"""Deployment graph -> Lava process graph -> run (``Loihi2SimCfg(select_tag="floating_pt")``).

Torch-free; runs inside the Lava environment. For a graph conv -> LIF -> ... -> conv::

    RingBuffer source (W, H, C + 1): the frame's channels, then a constant 1 (bias unit)
      -> Conv (graded input, num_message_bits=24)   -> LIF (W', H', C1 + 1)
      -> Conv (binary spikes)                        -> LIF (W'', H'', C2 + 1) ...
      -> Conv (readout, no neuron)                   -> NpySink (W_r, H_r, C_r)
    and an NpySink on every LIF population's spikes.

Layout: Lava tensors are WHC and its Conv is a true convolution with weights (C_out, W, H,
C_in): kernels are flipped and reordered (:func:`edge_shm.neuro.conv.lava_kernel`); stride,
padding and dilation are given in (x, y) = (W, H) order.

Layers: the graph's float stages (:func:`edge_shm.graph.simulate.graph_stages`, those the
numpy simulator steps), one Conv (and LIF) per stage. LIF mapping, the neuron's
(:meth:`edge_shm.neuro.lif.FloatLIF.lava_params`): the graph's forward-Euler LIF
``v <- v + dt/tau ((v_leak - v) + r I)`` (v_leak = 0, v_reset = 0) onto Lava's
``u <- u (1 - du) + a_in; v <- v (1 - dv) + u + bias; spike if v > vth; v <- 0``: du = 1
(u = a_in), dv = dt/tau, vth = v_threshold, and the input gain dt r / tau
(``FloatLIF.input_gain``) folded into the incoming Conv weights and bias.

Bias: not in ``bias_mant`` (Lava would add it from step 1, before the layer's first input
arrives). Each population carries one extra "bias unit" channel that spikes at every step from
the step its first real input arrives (the source's constant-1 channel drives the first unit,
each unit the next one's, with weight 2 vth). Each Conv reads the unit of its input through one
kernel tap that lands inside the input for every output pixel (the centre tap of a "same"
convolution; found per layer for strided or dilated ones) with weight ``input_scale * bias``
(readout: ``bias``). The bias thus travels with the data and has exactly its delay.

Time-step alignment (Lava steps are 1-based): frame k (0-based) is sent at step k + 1; the
output of the population behind synapse layer j (1-based) for frame k comes out at step
k + 1 + j; the readout at k + 1 + D, D the number of synapse layers. A run of T frames takes
T + D steps (zero input in the last D); :func:`run_lava` re-aligns every recording and reports
the delays it removed. The output operations (depth-to-space, ...) are applied to the aligned
readout on the host, exactly as every other backend applies them.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge_shm.graph import DeploymentGraph, GraphError, SequenceTrace
from edge_shm.graph.simulate import graph_stages
from edge_shm.neuro.conv import lava_kernel

MESSAGE_BITS = 24  # graded messages for the real-valued first layer


@dataclass
class LavaLayer:
    """One Lava Conv (and the LIF it feeds, unless it is the readout)."""

    name: str
    weight: np.ndarray  # (C_out [+1], W, H, C_in + 1), Lava layout
    in_shape: tuple[int, int, int]  # (W, H, C_in + 1)
    out_shape: tuple[int, int, int]  # (W', H', C_out [+1])
    stride: tuple[int, int]  # (x, y)
    padding: tuple[int, int]
    dilation: tuple[int, int]
    graded: bool
    target: str | None = None  # the LIF population, None for the readout
    channels: int = 0  # real channels of the population (without the bias unit)
    lif: dict = field(default_factory=dict)  # the neuron's Lava LIF constants (lava_params)


def bias_tap(size_in: int, size_out: int, k: int, s: int, p: int, d: int) -> int:
    """A kernel index that reads an in-bounds input pixel for every output pixel (one axis)."""
    centre = k // 2
    for t in sorted(range(k), key=lambda t: abs(t - centre)):
        if -p + t * d >= 0 and (size_out - 1) * s - p + t * d <= size_in - 1:
            return t
    raise GraphError(
        f"no kernel tap reads inside the input for every output (k={k}, s={s}, "
        f"p={p}, d={d}): the bias cannot travel through a bias unit"
    )


def plan(graph: DeploymentGraph) -> list[LavaLayer]:
    """The Lava layers of a graph (numpy only): kernels with bias units, and the LIF constants
    each population's neuron gives (``lava_params``), from the graph's float stages."""
    layers = []
    in_shapes, out_shapes = graph.input_shapes(), graph.shapes()
    chain = zip(graph.synapse_chain(), graph_stages(graph), strict=True)
    for idx, ((conv, _), stage) in enumerate(chain):
        i = graph.layers.index(conv)
        c_in, h_in, w_in = in_shapes[i]
        c_out, h_out, w_out = out_shapes[i]
        if conv.groups != 1:
            raise GraphError(f"layer {conv.name}: grouped convolutions are not mapped to Lava")
        lif, scale = {}, 1.0
        if stage.neuron is not None:
            try:
                lif = stage.neuron.lava_params()
            except ValueError as e:
                raise GraphError(f"layer {stage.name}: {e}") from None
            scale = stage.neuron.input_gain
        kh, kw = conv.kernel
        ty = bias_tap(h_in, h_out, kh, conv.stride[0], conv.padding[0], conv.dilation[0])
        tx = bias_tap(w_in, w_out, kw, conv.stride[1], conv.padding[1], conv.dilation[1])
        kern = np.zeros((c_out + bool(lif), c_in + 1, kh, kw))
        kern[:c_out, :c_in] = scale * conv.weight
        if conv.bias is not None:
            kern[:c_out, c_in, ty, tx] = scale * conv.bias
        if lif:
            kern[c_out, c_in, ty, tx] = 2.0 * lif["vth"]  # keeps the next bias unit firing
        layers.append(
            LavaLayer(
                name=conv.name,
                weight=lava_kernel(kern),
                in_shape=(w_in, h_in, c_in + 1),
                out_shape=(w_out, h_out, kern.shape[0]),
                stride=conv.stride[::-1],
                padding=conv.padding[::-1],
                dilation=conv.dilation[::-1],
                graded=idx == 0,
                target=stage.name,
                channels=c_out if lif else 0,
                lif=lif,
            )
        )
    return layers


@dataclass
class LavaResult(SequenceTrace):
    """A Lava run: the :class:`~edge_shm.graph.trace.SequenceTrace` of every runtime
    (``prediction`` (T, H, W) forecast, ``spikes`` {layer: (T, C, H, W) bool}, ``readout``
    (T, C, H', W') before the output operations, all aligned to the frame index; ``v_pre`` is
    not recorded) plus ``delays`` {layer: steps removed}, the ``steps`` run and wall-clock
    ``seconds``."""

    delays: dict = field(default_factory=dict)
    steps: int = 0
    seconds: dict = field(default_factory=dict)


def run_lava(graph: DeploymentGraph, frames: np.ndarray, sink_dir=None) -> LavaResult:
    """Run the graph in Lava on frames (T, H, W); sinks write into ``sink_dir`` (a temporary
    folder when None)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.conv.process import Conv
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    from edge_shm.firmware_sim.lava.io import NpySink

    t0 = time.perf_counter()
    frames = np.asarray(frames, np.float64)
    n_frames = frames.shape[0]
    layers = plan(graph)
    depth, steps = len(layers), n_frames + len(layers)
    w, h, c_src = layers[0].in_shape
    data = np.zeros((w, h, c_src, steps))
    data[:, :, 0, :n_frames] = frames.transpose(2, 1, 0)
    data[:, :, c_src - 1, :] = 1.0
    with tempfile.TemporaryDirectory(prefix="edge-shm-lava-sinks.", dir=sink_dir) as tmp:
        port, files, last = Source(data=data).s_out, {}, None
        for layer in layers:
            conv = Conv(
                weight=layer.weight,
                input_shape=layer.in_shape,
                padding=layer.padding,
                stride=layer.stride,
                dilation=layer.dilation,
                num_message_bits=MESSAGE_BITS if layer.graded else 0,
            )
            port.connect(conv.s_in)
            name = layer.target or "readout"
            files[name] = str(Path(tmp) / f"{name}.npy")
            binary = layer.target is not None
            sink = NpySink(shape=layer.out_shape, buffer=steps, path=files[name], binary=binary)
            if binary:
                lif = LIF(shape=layer.out_shape, name=name, **layer.lif)
                conv.a_out.connect(lif.a_in)
                lif.s_out.connect(sink.a_in)
                port = lif.s_out
            else:
                conv.a_out.connect(sink.a_in)
            last = sink
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            # Lava's model search imports every module of this folder by file path and warns
            # about those that only import as part of the package; harmless.
            warnings.filterwarnings("ignore", message="Cannot import module")
            try:
                last.run(
                    condition=RunSteps(num_steps=steps),
                    run_cfg=Loihi2SimCfg(select_tag="floating_pt"),
                )
                t2 = time.perf_counter()
            finally:
                last.stop()
        raw = {k: np.load(f) for k, f in files.items()}  # (steps, W, H, C)
    delays, spikes = {}, {}
    for j, layer in enumerate(layers, start=1):
        if layer.target:
            delays[layer.target] = j
            s = raw[layer.target][j : j + n_frames, :, :, : layer.channels]
            spikes[layer.target] = s.transpose(0, 3, 2, 1)  # (T, C, H, W) bool
    delays["readout"] = depth
    readout = raw["readout"][depth : depth + n_frames].transpose(0, 3, 2, 1)
    pred = graph.apply_post(readout, frames[:, None])[:, 0]
    return LavaResult(
        prediction=pred,
        spikes=spikes,
        readout=readout,
        delays=delays,
        steps=steps,
        seconds={"build": t1 - t0, "run": t2 - t1, "total": time.perf_counter() - t0},
    )
