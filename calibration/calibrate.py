"""Calibration: choose per-layer scales that map a float deployment graph to integers.

Two targets (``docs/calibration.md``):

``loihi``: Loihi 2 fixed point as Lava's bit-accurate models compute it. Per LIF layer a
power-of-two scale q (membrane units: v_int = 64 q v) chosen from the largest synaptic current
seen on the calibration sequences (the synaptic input a = q (dt r / tau) I stays below 2**15,
so a << 6 and v keep 2x headroom in 24 bits) and from the threshold (q vth < 2**16);
kernels become 8-bit signed mantissas with one exponent per layer (w = m << e, m in
[-128, 127]); the bias travels through its own synapse with its own exponent; dv = round(4096
dt / tau); vth = q v_threshold (compared as vth << 6). The readout keeps q below 2**21 / max.

``int8``: a microcontroller. Kernels are int8 (symmetric, per layer, 127 / max |w|), pixels
uint8, accumulators int32 (bias included), membranes int16 with v_int = K v (K a power of two,
8 thresholds of headroom), and the accumulator is requantised into the membrane by a 15-bit
multiplier and a shift.

Every number that does not fit is saturated and counted (``clipped_fraction``), never silent.
"""

from __future__ import annotations

import math

import numpy as np

from edge_shm.errors import UserError
from edge_shm.firmware_sim.fixed_graph import FixedGraph, FixedLayer
from edge_shm.graph import DeploymentGraph
from edge_shm.graph.nodes import Conv

INPUT_SCALE = 255  # 8-bit pixels; 1 when every calibration frame is binary (crack maps)
MIN_SEQUENCES = 2


def quantize(x: np.ndarray, step: float, lo: int, hi: int):
    """round(x / step) saturated to [lo, hi]: (integers, fraction saturated)."""
    q = np.rint(np.asarray(x, np.float64) / step)
    clipped = (q < lo) | (q > hi)
    return np.clip(q, lo, hi).astype(np.int64), float(clipped.mean()) if q.size else 0.0


def mantissa_exponent(x: np.ndarray, bits: int = 8):
    """x (float, already in integer units) as m << e with m signed ``bits``-bit and the
    smallest e >= 0 that holds max |x|: (m << e as int64, e, fraction saturated)."""
    top = 2 ** (bits - 1) - 1
    hi = float(np.max(x)) if np.size(x) else 0.0
    lo = float(np.min(x)) if np.size(x) else 0.0
    e = 0
    while hi / 2**e > top + 0.5 or lo / 2**e < -top - 1.5:  # beyond what rounds into range
        e += 1
    m, clipped = quantize(x, 2.0**e, -top - 1, top)
    return m << e, e, clipped


def _pow2_floor(x: float) -> float:
    return 2.0 ** math.floor(math.log2(x))


def float_currents(graph: DeploymentGraph, sequences: np.ndarray):
    """Largest |synaptic current| per convolution (float64), and the float spikes
    {lif: (N, T, C, H, W)} of every sequence, from a zero state per sequence (the float graph
    simulator's trace: the current of each population and the readout)."""
    from edge_shm.graph.simulate import GraphStepper

    stepper = GraphStepper(graph)
    peaks = {layer.name: 0.0 for layer in graph.layers if isinstance(layer, Conv)}
    spikes = {name: [] for name in graph.lif_shapes()}
    readout = stepper.stages[-1].synapse.name
    for seq in sequences:
        state = stepper.initial_state(1)
        per = {name: [] for name in spikes}
        for frame in seq:
            _, state, tr = stepper.trace_step(np.asarray(frame, np.float64)[None, None], state)
            for stage in stepper.stages[:-1]:
                conv, current = stage.synapse.name, tr.currents[stage.name]
                if conv is not None:
                    peaks[conv] = max(peaks[conv], float(np.abs(current).max()))
                per[stage.name].append(tr.spikes[stage.name][0])
            if readout is not None:
                peaks[readout] = max(peaks[readout], float(np.abs(tr.readout).max()))
        for name in spikes:
            spikes[name].append(np.stack(per[name]))
    return peaks, {k: np.stack(v) for k, v in spikes.items()}


def calibrate(
    graph: DeploymentGraph,
    sequences: np.ndarray,
    target: str,
    run_sha: str = "",
    window: int | None = None,
    pixel_mm: float | None = None,
):
    """The :class:`FixedGraph` of ``graph`` for ``target`` from calibration ``sequences``
    (N, T, H, W) in [0, 1], with its per-layer report (``FixedGraph.report``). ``run_sha``:
    the run's weights_sha256; ``window`` (frames per forecast) and ``pixel_mm`` (mm per model
    pixel): what the network was trained for, recorded in the calibration (None: unknown)."""
    if target not in ("loihi", "int8"):
        raise UserError(f"unknown calibration target {target!r}; choose loihi or int8")
    sequences = np.asarray(sequences, np.float64)
    if sequences.ndim != 4 or sequences.shape[0] < MIN_SEQUENCES:
        raise UserError(
            f"calibration needs at least {MIN_SEQUENCES} sequences (N, T, H, W), got "
            f"{sequences.shape}"
        )
    if tuple(sequences.shape[2:]) != tuple(graph.input_shape[1:]):
        raise UserError(
            f"calibration frames are {sequences.shape[2]}x{sequences.shape[3]} px, the model "
            f"takes {graph.input_shape[1]}x{graph.input_shape[2]} px"
        )
    input_scale = 1 if np.isin(sequences, (0.0, 1.0)).all() else INPUT_SCALE
    peaks, float_spikes = float_currents(graph, sequences)
    in_shapes, out_shapes = graph.input_shapes(), graph.shapes()
    layers, rows = [], []
    for idx, (conv, lif) in enumerate(graph.synapse_chain()):
        i = graph.layers.index(conv)
        if conv.groups != 1:
            raise UserError(f"layer {conv.name}: grouped convolutions are not calibrated")
        in_scale = input_scale if idx == 0 else 1
        peak = max(peaks[conv.name], 1e-12)
        w = np.asarray(conv.weight, np.float64)
        b = np.zeros(w.shape[0]) if conv.bias is None else np.asarray(conv.bias, np.float64)
        layer = FixedLayer(
            conv.name, None if lif is None else lif.name, w, b,
            tuple(in_shapes[i]), tuple(out_shapes[i]),
            tuple(conv.stride), tuple(conv.padding), tuple(conv.dilation), 1.0,
        )  # fmt: skip
        if lif is not None:
            p = lif.params(graph.dt)
            gain, vth = float(np.asarray(p.scale).flat[0]), lif.scalar("v_threshold")
            layer.dv = int(round(float(np.asarray(p.dv).flat[0]) * 4096))
            if not 0 <= layer.dv <= 4096:
                raise UserError(f"layer {lif.name}: dt / tau = {layer.dv / 4096} outside [0, 1]")
        if target == "loihi":
            if lif is not None:
                q = _pow2_floor(min(2.0**15 / (gain * peak), 2.0**16 / vth))
                layer.scale, layer.vth = q * gain, int(round(q * vth))
            else:
                layer.scale = _pow2_floor(2.0**21 / peak)
            layer.weight, layer.weight_exp, w_clip = mantissa_exponent(w * layer.scale / in_scale)
            layer.bias, layer.bias_exp, b_clip = mantissa_exponent(b * layer.scale)
            w_step = 2.0**layer.weight_exp * in_scale / layer.scale
        else:
            s_w = 127.0 / max(float(np.abs(w).max()), 1e-12)
            layer.scale = s_w * in_scale
            layer.weight, w_clip = quantize(w * s_w, 1.0, -127, 127)
            layer.bias, b_clip = quantize(b * layer.scale, 1.0, -(2**31), 2**31 - 1)
            w_step = 1.0 / s_w
            if lif is not None:
                k = _pow2_floor(2.0**15 / (8 * vth))
                layer.vth = int(round(k * vth))
                ratio = k * gain / layer.scale  # membrane units per accumulator unit
                layer.shift = max(1, 14 - math.floor(math.log2(ratio)))
                layer.multiplier = int(round(ratio * 2**layer.shift))
        deq = layer.weight * in_scale / layer.scale
        layers.append(layer)
        rows.append(
            {
                "layer": conv.name,
                "lif": layer.lif,
                "scale": layer.scale,
                "weight_exp": layer.weight_exp,
                "bias_exp": layer.bias_exp,
                "weight_step": w_step,
                "clipped_fraction": (w_clip * w.size + b_clip * b.size) / (w.size + b.size),
                "weight_max_abs_error": float(np.abs(deq - w).max()),
                "weight_rms_error_relative": float(
                    np.sqrt(np.mean((deq - w) ** 2)) / max(np.sqrt(np.mean(w**2)), 1e-30)
                ),
                "max_abs_current": peaks[conv.name],
            }
        )
    fixed = FixedGraph(
        graph.model,
        target,
        tuple(graph.input_shape),
        input_scale,
        graph.dt,
        layers,
        [op.to_dict() for op in graph.post],
        run_sha,
        codec=graph.codec,
        window=window,
        pixel_mm=pixel_mm,
    )
    _spike_flips(fixed, sequences, float_spikes, rows)
    fixed.report = {"sequences": int(sequences.shape[0]), "layers": rows}
    return fixed


def _spike_flips(fixed: FixedGraph, sequences, float_spikes: dict, rows: list[dict]) -> None:
    """Spikes of the integer engine that differ from float, per layer, into ``rows``."""
    from edge_shm.firmware_sim.int_engine import IntEngine

    engine = IntEngine(fixed)
    got = {name: [] for name in float_spikes}
    for seq in sequences:
        res = engine.run(seq)
        for name in got:
            got[name].append(res["spikes"][name])
    for row in rows:
        name = row["lif"]
        if name is None:
            continue
        ref, mine = float_spikes[name], np.stack(got[name])
        row["spikes"] = int(ref.size)
        row["float_spike_rate"] = float(ref.mean())
        row["flipped_spikes"] = int((ref != mine).sum())
        row["flipped_fraction"] = float((ref != mine).mean())
