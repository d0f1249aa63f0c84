"""Bundle -> Lava process graph -> run (``Loihi2SimCfg(select_tag="floating_pt")``); torch-free.

Graph (everything runs inside Lava; nothing is computed on the host but the input layout):

    RingBuffer source (W, H, 2): channel 0 the frame, channel 1 a constant 1 (bias unit)
      -> Conv conv1 (graded input, num_message_bits=24)  -> LIF lif1 (W, H, C1 + 1)
      -> Conv conv2 (binary spikes)                      -> LIF lif2 (W, H, C2 + 1)
      -> Conv deconv1 (as Conv2d, binary spikes)         -> LIF lif3 (W, H, C3 + 1)
      -> Conv deconv2 (readout, no neuron)               -> RingBuffer sink (W, H, 1)
    and a RingBuffer sink on every LIF population's spikes.

Mapping of the Norse box LIF ``v <- v + dt/tau ((v_leak - v) + r I)`` (v_leak = 0) onto Lava's
floating-point LIF ``u <- u (1 - du) + a_in; v <- v (1 - dv) + u + bias; spike if v > vth;
v <- 0``: du = 1 (u = a_in, no current memory), dv = dt/tau (0.5), vth = v_threshold, and the
input scale dt/tau * r (0.5) folded into the incoming Conv weights and bias.

Bias: a conv bias is NOT put in the LIF's ``bias_mant``: Lava would add it from step 1, before
the first input reaches the layer (one step of latency per synapse layer), and the membrane
would no longer start from zero when the first frame arrives. Instead each population carries
one extra "bias unit" channel that spikes at every step from the step its first real input
arrives: the source's constant-1 channel drives lif1's unit, lif1's unit drives lif2's, and so
on (centre tap 2 * vth, so v = 2 vth > vth every step). The next Conv reads the unit through its
centre tap with weight ``input_scale * bias`` (the readout: ``bias``); the centre tap of a
stride-1 "same" convolution reads the pixel itself, so borders get the bias as well. The bias
therefore travels with the data and has exactly its delay.

Time-step alignment (Lava steps are 1-based): frame k (0-based) is sent at step k + 1; the
spikes of the LIF population behind synapse layer j (1-based) for frame k come out at step
k + 1 + j; the readout for frame k at step k + 1 + D with D the number of synapse layers (4).
So a run of T frames takes T + D steps; the last D input steps are zeros. :func:`run_lava`
returns everything re-aligned to the frame index and reports the delays it removed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from edge_shm.firmware_sim.bundle import Bundle, read_bundle

MESSAGE_BITS = 24  # graded messages for the real-valued first layer


def nir_chain(graph) -> list[str]:
    """Node names from the Input to the Output of a chain-shaped NIR graph."""
    nxt: dict[str, list[str]] = {}
    for a, b in graph.edges:
        nxt.setdefault(a, []).append(b)
    start = [n for n, node in graph.nodes.items() if type(node).__name__ == "Input"]
    if len(start) != 1:
        raise ValueError("the Lava builder needs a graph with exactly one Input node")
    chain = [start[0]]
    while chain[-1] in nxt:
        succ = nxt[chain[-1]]
        if len(succ) != 1:
            raise ValueError(f"the Lava builder needs a chain graph; {chain[-1]!r} branches")
        chain.append(succ[0])
    return chain


def lava_kernel(weight: np.ndarray) -> np.ndarray:
    """NIR/torch cross-correlation kernel (C_out, C_in, kh, kw) -> Lava Conv (C_out, W, H, C_in).

    Lava's Conv is a true convolution over (x=W, y=H): flip both spatial axes, then reorder.
    """
    return np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(0, 3, 2, 1))


def plan(bundle: Bundle) -> list[dict]:
    """The Lava layers of a bundle (numpy only): Conv weights with bias units, LIF parameters."""
    graph = bundle.graph()
    man = bundle.manifest
    neurons = {n.name: n for n in man.neurons}
    chain = nir_chain(graph)
    layers = []
    i = 1
    while i < len(chain) - 1:
        name = chain[i]
        node = graph.nodes[name]
        kind = type(node).__name__
        if kind != "Conv2d":
            raise ValueError(f"layer {name} ({kind}) where the Lava builder expects a Conv2d")
        target = chain[i + 1]
        tnode = graph.nodes[target]
        lif = type(tnode).__name__ == "LIF"
        if not lif and type(tnode).__name__ != "Output":
            raise ValueError(f"layer {target} ({type(tnode).__name__}) has no Lava mapping here")
        w = np.asarray(node.weight, np.float64)
        b = np.zeros(w.shape[0]) if node.bias is None else np.asarray(node.bias, np.float64)
        c_out, c_in, k, _ = w.shape
        if isinstance(node.padding, str) or np.any(np.asarray(node.padding) != k // 2):
            raise ValueError(f"layer {name}: only stride-1 'same' convolutions map to Lava here")
        scale = neurons[target].input_scale if lif else 1.0
        c = k // 2
        kern = np.zeros((c_out + (1 if lif else 0), k, k, c_in + 1))
        kern[:c_out, :, :, :c_in] = scale * lava_kernel(w)
        kern[:c_out, c, c, c_in] = scale * b  # bias through the bias unit (centre tap)
        entry = {
            "name": name,
            "weight": kern,
            "padding": c,
            "graded": len(layers) == 0,
            "c_in": c_in + 1,
            "c_out": kern.shape[0],
            "target": target if lif else None,
        }
        if lif:
            n = neurons[target]
            kern[c_out, c, c, c_in] = 2.0 * n.lava_vth  # keeps the next bias unit firing
            entry.update(du=n.lava_du, dv=n.lava_dv, vth=n.lava_vth, channels=n.channels)
            i += 2
        else:
            i += 1
        layers.append(entry)
    return layers


def run_lava(bundle: Bundle, frames: np.ndarray) -> dict:
    """Run the bundle's Lava graph on frames (T, H, W) (any H, W: convolutions are local).

    Returns ``prediction`` (T, H, W), ``spikes`` {lif: (T, C, H, W) bool} aligned to the frame
    index, ``delays`` {layer: steps removed}, ``steps`` run and wall-clock ``seconds``.
    """
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.conv.process import Conv
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    from edge_shm.firmware_sim.lava_io import NpySink

    t0 = time.perf_counter()
    frames = np.asarray(frames, np.float64)
    n_frames, h, w = frames.shape
    layers = plan(bundle)
    depth = len(layers)
    steps = n_frames + depth
    data = np.zeros((w, h, 2, steps))
    data[:, :, 0, :n_frames] = frames.transpose(2, 1, 0)
    data[:, :, 1, :] = 1.0
    with tempfile.TemporaryDirectory(prefix="edge-shm-lava-sinks.") as tmp:
        src = Source(data=data)
        port, shape = src.s_out, (w, h, 2)
        files, last = {}, None
        for layer in layers:
            conv = Conv(
                weight=layer["weight"],
                input_shape=shape,
                padding=layer["padding"],
                num_message_bits=MESSAGE_BITS if layer["graded"] else 0,
            )
            port.connect(conv.s_in)
            shape = (w, h, layer["c_out"])
            name = layer["target"] or "readout"
            files[name] = str(Path(tmp) / f"{name}.npy")
            if layer["target"]:
                lif = LIF(
                    shape=shape,
                    du=layer["du"],
                    dv=layer["dv"],
                    vth=layer["vth"],
                    bias_mant=0.0,
                    name=name,
                )
                conv.a_out.connect(lif.a_in)
                sink = NpySink(shape=shape, buffer=steps, path=files[name], binary=True)
                lif.s_out.connect(sink.a_in)
                port = lif.s_out
            else:
                sink = NpySink(shape=shape, buffer=steps, path=files[name])
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
    t3 = time.perf_counter()
    delays = {}
    spikes = {}
    for j, layer in enumerate(layers, start=1):
        if layer["target"]:
            delays[layer["target"]] = j
            s = raw[layer["target"]][j : j + n_frames, :, :, : layer["channels"]]
            spikes[layer["target"]] = s.transpose(0, 3, 2, 1)  # (T, C, H, W) bool
    delays["readout"] = depth
    pred = raw["readout"][depth : depth + n_frames, :, :, 0].transpose(0, 2, 1)
    return {
        "prediction": pred,
        "spikes": spikes,
        "delays": delays,
        "steps": steps,
        "seconds": {"build": t1 - t0, "run": t2 - t1, "total": t3 - t0},
    }


# --- host side: run in-process when Lava imports, else in .venv-lava through a subprocess ------


def lava_python() -> Path | None:
    env = os.environ.get("EDGE_SHM_LAVA_PYTHON")
    if env:
        return Path(env)
    p = Path(__file__).resolve().parent.parent / ".venv-lava" / "bin" / "python"
    return p if p.exists() else None


def lava_importable() -> bool:
    try:
        import lava.magma.core.run_configs  # noqa: F401
    except Exception:  # lava-nc fails at import on Python 3.11 (not only ImportError)
        return False
    return True


def run_bundle(bundle_dir, frames: np.ndarray, python: str | Path | None = None) -> dict:
    """Run a bundle in Lava on frames (T, H, W): in-process if possible, else via .venv-lava."""
    if python is None and lava_importable():
        return run_lava(read_bundle(bundle_dir), frames)
    with tempfile.TemporaryDirectory(prefix="edge-shm-lava.") as tmp:
        return load_result(_subprocess(bundle_dir, frames, Path(tmp), python))


def run_bundle_samples(bundle_dir, frames: np.ndarray, python=None) -> dict:
    """Predictions of every sample (N, T, H, W) in Lava; each sample starts from zero state."""
    if python is None and lava_importable():
        runs = [run_lava(read_bundle(bundle_dir), f) for f in frames]
        return {
            "prediction": np.stack([r["prediction"] for r in runs]),
            "seconds": np.array([r["seconds"]["total"] for r in runs]),
            "run_seconds": np.array([r["seconds"]["run"] for r in runs]),
        }
    with tempfile.TemporaryDirectory(prefix="edge-shm-lava.") as tmp:
        out = _subprocess(bundle_dir, frames, Path(tmp), python)
        with np.load(out) as f:
            return {k: f[k] for k in f.files}


def _subprocess(bundle_dir, frames, tmp: Path, python) -> Path:
    python = python or lava_python()
    if python is None:
        raise RuntimeError(
            "Lava is not importable here and no .venv-lava was found "
            "(set EDGE_SHM_LAVA_PYTHON to a Python with lava-nc)"
        )
    fin, fout = tmp / "frames.npy", tmp / "out.npz"
    np.save(fin, np.asarray(frames, np.float32))
    cmd = [str(python), "-m", "edge_shm.firmware_sim.lava_builder", str(bundle_dir)]
    cmd += ["--frames", str(fin), "--out", str(fout)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"Lava run failed in {python}: {tail}")
    return fout


def save_result(path, res: dict) -> None:
    arrays = {"prediction": res["prediction"]}
    arrays.update({f"spikes_{k}": np.packbits(v, axis=-1) for k, v in res["spikes"].items()})
    meta = {
        "delays": res["delays"],
        "steps": res["steps"],
        "seconds": res["seconds"],
        "spike_shapes": {k: list(v.shape) for k, v in res["spikes"].items()},
    }
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)


def load_result(path) -> dict:
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        spikes = {
            k: np.unpackbits(f[f"spikes_{k}"], axis=-1, count=shape[-1]).astype(bool)
            for k, shape in meta["spike_shapes"].items()
        }
        return {
            "prediction": f["prediction"],
            "spikes": spikes,
            "delays": meta["delays"],
            "steps": meta["steps"],
            "seconds": meta["seconds"],
        }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run an edge-shm Lava bundle (floating_pt).")
    ap.add_argument("bundle")
    ap.add_argument("--frames", help=".npy (T, H, W); default: the bundle's probe frames")
    ap.add_argument("--out", required=True, help=".npz result")
    args = ap.parse_args(argv)
    bundle = read_bundle(args.bundle)
    frames = np.load(args.frames) if args.frames else bundle.probe_frames()
    if frames.ndim == 4:  # several samples: predictions only, one Lava run per sample
        runs = [run_lava(bundle, f) for f in frames]
        np.savez(
            args.out,
            prediction=np.stack([r["prediction"] for r in runs]),
            seconds=np.array([r["seconds"]["total"] for r in runs]),
            run_seconds=np.array([r["seconds"]["run"] for r in runs]),
        )
    else:
        save_result(args.out, run_lava(bundle, frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
