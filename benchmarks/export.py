"""Benchmark: deployment export of the full-size trained runs; parity and step latencies."""

from __future__ import annotations

import time

import numpy as np
import torch

from benchmarks.run import stamp


def _median_ms(fn, n: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def _latencies(run_dir, onnx_path, frame: np.ndarray, n: int) -> tuple[float, float]:
    """(torch eager ms, ONNX Runtime ms) per step, batch 1, one 96 x 132 frame."""
    from edge_shm.firmware_sim.onnx_runner import OnnxStepper
    from edge_shm.runs import load_run

    model, _ = load_run(run_dir)
    x = torch.from_numpy(frame[None, None])
    state = model.initial_state(1)

    @torch.no_grad()
    def torch_step():
        model.step(x, state)

    ort = OnnxStepper(onnx_path)
    st = ort.initial_state(1)
    xf = frame[None, None].astype(np.float32)
    return _median_ms(torch_step, n), _median_ms(lambda: ort.step(xf, st), n)


def run(ctx) -> str:
    from edge_shm.app.export import ExportRequest, export_run

    reports = {}
    for model, target in (("snn", "onnx"), ("lstm", "onnx"), ("snn", "nir"), ("snn", "lava")):
        out = ctx.work / f"export-{model}-{target}"
        reports[model, target] = export_run(
            ExportRequest(ctx.trained_run(model), target, out)
        ).report
    from edge_shm.data.library import read_library

    lib = read_library(ctx.crack_library(), load_physics=False)
    frame = lib.frames[lib.indices("test")[0], 3]
    threads = torch.get_num_threads()
    lat = {
        m: _latencies(ctx.trained_run(m), ctx.work / f"export-{m}-onnx" / "model.onnx", frame, n)
        for m, n in (("snn", 300), ("lstm", 40))
    }
    o_snn = reports["snn", "onnx"]["verification"]
    o_lstm = reports["lstm", "onnx"]["verification"]
    nirv = reports["snn", "nir"]["verification"]
    lava = reports["snn", "lava"]["verification"]
    lava_ms = 1e3 * lava["lava_run_seconds_per_step"]
    lava_total = 1e3 * lava["seconds"] / (lava["sequences"] * lava["frames_per_sequence"])

    def spikes(v):
        return (
            f"{100 * v['agreement']:.4f} % of {v['spikes_compared']:,} spikes agree "
            f"({v['disagree']} differ, {v['unexplained']} away from the threshold); "
            f"max frame diff {v['max_abs_frame_diff']:.2g}"
        )

    def n_frames(v):
        return f"{v['sequences']} x {v['frames_per_sequence']} frames"

    rows = []
    for m, label, v in (("snn", "base SNN", o_snn), ("lstm", "base LSTM", o_lstm)):
        size = reports[m, "onnx"]["artefact"]["bytes"]
        rows.append(
            f"| {label} | {lat[m][0]:.2f} ms | {lat[m][1]:.2f} ms | {size:,} B | "
            f"max abs {v['max_abs_diff']:.2g} over {n_frames(v)} |"
        )
    nir_ms = 1e3 * nirv["seconds"] / (nirv["sequences"] * nirv["frames_per_sequence"])
    rows2 = [
        f"| NIR, numpy reference simulator | {spikes(nirv)} ({n_frames(nirv)}) | "
        f"{nir_ms:.0f} ms per frame incl. the torch reference |",
        f"| Lava `Loihi2SimCfg(floating_pt)`, 96 x 132 frames | {spikes(lava)} "
        f"({n_frames(lava)}, delays {lava['delays']} removed) | {lava_ms:.0f} ms per Lava "
        f"step (run only); {lava_total:.0f} ms per frame incl. subprocess, compile, start-up |",
    ]
    nl = "\n"
    return f"""## Deployment export ({stamp()})

Full-size trained runs (`bench-out/run-snn`, `bench-out/run-lstm`) exported with
`edge-shm export --target onnx|nir|lava` (verification on, held-out frames = the test split of
the 908-sample crack library). Latency: median of one streaming step (batch 1, one 96 x 132
frame, states carried), torch eager vs ONNX Runtime (CPU provider, {threads} torch threads,
ONNX Runtime default threads), same process, same frame.

| model | torch eager step | ONNX Runtime step | ONNX file | parity (ONNX Runtime vs torch) |
|---|---|---|---|---|
{nl.join(rows)}

| artefact (base SNN) | parity with torch | time |
|---|---|---|
{nl.join(rows2)}
"""
