"""A calibrated graph (``loihi`` target) in Lava, ``Loihi2SimCfg(select_tag="fixed_pt")``.

Torch-free; runs inside the Lava environment. Per synapse layer l, every parameter an integer::

    input_l --Conv(W_l)------------------------> LIF_l (du 4095, dv, vth; bias_mant 0)
    unit_l-1 --Conv(b_l at one tap)------------^   (both Convs sum at LIF_l.a_in)
    unit_l-1 --Conv(1 at the same tap)--> unit_l (LIF, 1 channel: dv 0, vth 0: fires every
                                                  step from its first input on)

input_0 is the frame (graded, 24-bit messages) and unit_-1 a source of ones; the readout's
two Convs sum into a sink. The bias has its own synapse, so its 8-bit mantissa has its own
exponent, and it arrives with exactly the layer's delay (Lava's ``bias_mant`` would act from
step 1, before the first input). The sinks record the integer values (the floating_pt
``NpySink`` model stores the int32 messages exactly in float64; it is mapped in through
``exception_proc_model_map``, the fixed_pt models of everything else are Lava's own).
Alignment as in :mod:`builder`: synapse layer j delays by j steps; results are re-aligned.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from edge_shm.firmware_sim.int_engine import fixed_stages
from edge_shm.firmware_sim.lava.builder import LavaResult, bias_tap
from edge_shm.neuro.conv import lava_kernel
from edge_shm.neuro.fixed_lif import LoihiLIF


def _tap_kernel(c_out: int, kh: int, kw: int, tap: tuple[int, int], values) -> np.ndarray:
    k = np.zeros((c_out, 1, kh, kw), np.int64)
    k[:, 0, tap[0], tap[1]] = values
    return k


def run_lava_fixed(fixed, frames: np.ndarray, sink_dir=None) -> LavaResult:
    """Run a ``loihi`` :class:`~edge_shm.firmware_sim.fixed_graph.FixedGraph` on frames (T, H, W):
    a :class:`~edge_shm.firmware_sim.lava.builder.LavaResult` with ``prediction`` (T, H', W'),
    ``readout`` (T, C, H, W) int64, ``spikes`` {lif: (T, C, H, W)}, ``delays``, ``steps``,
    ``seconds`` (also read as items, ``res["readout"]``). The layers are the integer engine's
    stages (:func:`~edge_shm.firmware_sim.int_engine.fixed_stages`); each LIF takes its
    neuron's ``lava_params``."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.conv.process import Conv
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    from edge_shm.firmware_sim.lava.io import NpySink, PyNpySinkFloat

    if fixed.target != "loihi":
        raise ValueError(f"Lava runs the loihi calibration, not {fixed.target!r}")
    t0 = time.perf_counter()
    frames = np.asarray(frames, np.float64)
    n_frames, depth = frames.shape[0], len(fixed.layers)
    steps = n_frames + depth
    h, w = frames.shape[1:]
    pix = np.zeros((w, h, 1, steps), np.int64)
    if n_frames:
        pix[:, :, 0, :n_frames] = np.concatenate([fixed.quantize(f) for f in frames]).transpose(
            2, 1, 0
        )
    unit_lif = LoihiLIF(dv=0, vth=0).lava_params()  # fires every step from its first input
    with tempfile.TemporaryDirectory(prefix="edge-shm-lava-sinks.", dir=sink_dir) as tmp:
        port, unit = Source(data=pix).s_out, Source(data=np.ones((w, h, 1, steps), np.int64)).s_out
        files, last = {}, None
        for j, (layer, stage) in enumerate(zip(fixed.layers, fixed_stages(fixed), strict=True)):
            c_out, c_in, kh, kw = layer.weight.shape
            _, h_in, w_in = layer.in_shape
            _, h_out, w_out = layer.out_shape
            s, p, d = layer.stride, layer.padding, layer.dilation
            tap = (
                bias_tap(h_in, h_out, kh, s[0], p[0], d[0]),
                bias_tap(w_in, w_out, kw, s[1], p[1], d[1]),
            )
            geo = dict(padding=p[::-1], stride=s[::-1], dilation=d[::-1])

            def conv(weight, src, graded=False, geo=geo, shape=(w_in, h_in)):
                c = Conv(
                    weight=lava_kernel(weight).astype(np.int32),
                    input_shape=(*shape, weight.shape[1]),
                    num_message_bits=24 if graded else 0,
                    **geo,
                )
                src.connect(c.s_in)
                return c

            main = conv(layer.weight, port, graded=j == 0)
            bias = conv(_tap_kernel(c_out, kh, kw, tap, layer.bias), unit)
            shape = (w_out, h_out, c_out)
            name = layer.lif or "readout"
            files[name] = str(Path(tmp) / f"{name}.npy")
            sink = NpySink(shape=shape, buffer=steps, path=files[name], binary=False)
            if stage.neuron is None:
                main.a_out.connect(sink.a_in)
                bias.a_out.connect(sink.a_in)
            else:
                lif = LIF(shape=shape, name=name, **stage.neuron.lava_params())
                main.a_out.connect(lif.a_in)
                bias.a_out.connect(lif.a_in)
                lif.s_out.connect(sink.a_in)
                u = LIF(shape=(w_out, h_out, 1), **unit_lif)
                conv(_tap_kernel(1, kh, kw, tap, 1), unit).a_out.connect(u.a_in)
                port, unit = lif.s_out, u.s_out
            last = sink
        t1 = time.perf_counter()
        cfg = Loihi2SimCfg(
            select_tag="fixed_pt", exception_proc_model_map={NpySink: PyNpySinkFloat}
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Cannot import module")
            try:
                last.run(condition=RunSteps(num_steps=steps), run_cfg=cfg)
                t2 = time.perf_counter()
            finally:
                last.stop()
        raw = {k: np.load(f) for k, f in files.items()}  # (steps, W, H, C) float64
    spikes, delays = {}, {}
    for j, layer in enumerate(fixed.layers, start=1):
        if layer.lif:
            delays[layer.lif] = j
            spikes[layer.lif] = raw[layer.lif][j : j + n_frames].transpose(0, 3, 2, 1) > 0.5
    delays["readout"] = depth
    readout = np.rint(raw["readout"][depth : depth + n_frames]).astype(np.int64)
    readout = readout.transpose(0, 3, 2, 1)
    pred = np.stack(
        [fixed.forecast(r, fixed.quantize(f))[0] for r, f in zip(readout, frames, strict=True)]
    )  # channel 0, as every runtime's SequenceTrace
    return LavaResult(
        prediction=pred,
        spikes=spikes,
        readout=readout,
        delays=delays,
        steps=steps,
        seconds={"build": t1 - t0, "run": t2 - t1, "total": time.perf_counter() - t0},
    )


def run_fixed(calib_dir, frames: np.ndarray, python=None) -> list[LavaResult]:
    """Run a calibration folder in Lava fixed_pt on sequences (N, T, H, W), each from a zero
    state: in-process when Lava imports here, else in ``.venv-lava`` (as
    :func:`~edge_shm.firmware_sim.lava.host.run_bundle`)."""
    from edge_shm.firmware_sim.lava.host import lava_importable, run_child

    frames = np.asarray(frames, np.float32)
    if python is None and lava_importable():
        from edge_shm.firmware_sim.fixed_graph import FixedGraph

        fixed = FixedGraph.load(calib_dir)
        return [run_lava_fixed(fixed, f) for f in frames]
    module = "edge_shm.firmware_sim.lava.fixed"
    return run_child(module, calib_dir, frames, load_fixed_results, python, "Lava fixed_pt run")


def load_fixed_results(path) -> list[LavaResult]:
    import json

    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        out = []
        for i, m in enumerate(meta):
            spikes = {
                k.split("_spikes_", 1)[1]: z[k] for k in z.files if k.startswith(f"{i}_spikes_")
            }
            out.append(
                LavaResult(
                    prediction=z[f"{i}_prediction"],
                    spikes=spikes,
                    readout=z[f"{i}_readout"],
                    delays=m["delays"],
                    steps=m["steps"],
                    seconds=m["seconds"],
                )
            )
    return out


def main(argv=None) -> int:
    """``python -m edge_shm.firmware_sim.lava.fixed CALIB --frames F.npy --out R.npz``:
    run sequences (N, T, H, W) in Lava fixed_pt; the result archive holds, per sequence i,
    ``i_prediction``, ``i_readout`` and ``i_spikes_LAYER``."""
    import argparse
    import json

    from edge_shm.firmware_sim.fixed_graph import FixedGraph
    from edge_shm.firmware_sim.lava import lifeline

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("calib")
    ap.add_argument("--frames", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sinks", default=None)
    args = ap.parse_args(argv)
    lifeline.hold()
    fixed = FixedGraph.load(args.calib)
    arrays, meta = {}, []
    for i, seq in enumerate(np.load(args.frames, allow_pickle=False)):
        r = run_lava_fixed(fixed, seq, args.sinks)
        arrays[f"{i}_prediction"], arrays[f"{i}_readout"] = r["prediction"], r["readout"]
        for k, v in r["spikes"].items():
            arrays[f"{i}_spikes_{k}"] = v
        meta.append({k: r[k] for k in ("delays", "steps", "seconds")})
    with open(args.out, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
