"""Benchmark: the on-site loop (``edge-shm forecast``).

1. Per backend (torch run, ONNX, NIR, integer engine, Lava bundle): latency per frame and
   peak memory of the whole command on the shipped sensor images (8 frames, horizon 4), each
   in its own process (peak resident set of that process, or of its largest child for Lava,
   which runs in .venv-lava).
2. The loop on the full library's test split, every sample frame by frame: tip error per
   horizon (mm, the forecast tip against the tip observed that many frames later) for the
   forecasting SNN and the constant-velocity baseline, run through the same loop.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.run import ROOT, stamp

SHIPPED = ROOT / "examples" / "runs" / "forecast-snn"
SENSOR = ROOT / "examples" / "sensor"
HORIZON = 4
SENSOR_ARGS = ["--roi", "center", "--crack", "dark", "--horizon", str(HORIZON)]


def _artefacts(ctx, tmp: Path) -> dict[str, list[str]]:
    """backend -> the forecast command's model arguments (artefacts made here when missing)."""
    cli = [sys.executable, "-m", "edge_shm"]
    lib = ctx.crack_library()
    out = {"torch": [str(SHIPPED)]}
    for target in ("onnx", "nir", "lava"):
        folder = ctx.work / f"export-forecast-snn-{target}"
        if not (folder / "export.json").is_file():
            if target == "lava" and not (ROOT / ".venv-lava" / "bin" / "python").exists():
                continue
            subprocess.run([*cli, "export", str(SHIPPED), "-t", target, "--frames", str(lib),
                            "-o", str(folder)], check=True, capture_output=True)  # fmt: skip
        out[target] = [str(folder), "--backend", target]
    calib = tmp / "calib"
    subprocess.run([*cli, "calibrate", str(SHIPPED), "-l", str(lib), "-t", "loihi", "-o",
                    str(calib)], check=True, capture_output=True)  # fmt: skip
    out["int"] = [str(calib), "--window", "3", "--pixel-mm", "0.075"]
    return out


def _backend_rows(ctx) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for backend, model in _artefacts(ctx, tmp).items():
            out = tmp / f"out-{backend}"
            proc = subprocess.run(
                [sys.executable, "-m", "edge_shm", "forecast", *model, "--frames",
                 str(SENSOR / "frames"), *SENSOR_ARGS, "-o", str(out)],
                capture_output=True, text=True,
            )  # fmt: skip
            if proc.returncode != 0:
                rows.append(f"| {backend} | failed: {proc.stderr.strip()[-200:]} | | | |")
                continue
            recs = [json.loads(x) for x in (out / "forecast.jsonl").read_text().splitlines()]
            lat = np.array([r["latency_ms"] for r in recs[3:]])  # steady state: full windows
            mem = json.loads((out / "summary.json").read_text())["peak_memory_MB"]
            child = f" (Lava child {mem['largest_child']:.0f})" if backend == "lava" else ""
            rows.append(
                f"| {backend} | {np.median(lat):.1f} / {lat.max():.1f} | "
                f"{recs[0]['latency_ms']:.0f} | {int(np.median([r['steps'] for r in recs[3:]]))}"
                f" | {mem['process']:.0f}{child} |"
            )
    return rows


def _tip_errors(ctx, method: str) -> list[np.ndarray]:
    """Tip errors (mm) per horizon of the loop over every test sample."""
    import torch

    from edge_shm.data.library import read_library
    from edge_shm.evaluation.baselines import constant_velocity
    from edge_shm.evaluation.forecast import TorchStepper
    from edge_shm.onsite.loop import ForecastLoop, LoopConfig
    from edge_shm.onsite.sources import Arrival
    from edge_shm.onsite.streaming import StreamingForecaster, WindowRerunForecaster
    from edge_shm.runs import load_run

    lib = read_library(ctx.crack_library(), load_physics=False)
    test = lib.split_frames("test")
    model, _ = load_run(SHIPPED, "cpu")
    torch.set_num_threads(2)
    errs: list[list[float]] = [[] for _ in range(HORIZON)]
    for seq in test:
        cfg = LoopConfig(n_in=3, horizon=HORIZON, pixel_mm=lib.pixel_mm, critical_mm=8.0)
        if method == "forecast":
            fc = StreamingForecaster(TorchStepper(model), 3, HORIZON)
        else:
            fc = WindowRerunForecaster(constant_velocity, 3, HORIZON, shape=lib.frame_shape)
        loop = ForecastLoop(fc, cfg)
        recs = [loop.push(Arrival(str(t), f)) for t, f in enumerate(seq)]
        for t, r in enumerate(recs):
            for f in r["forecast"]:
                k = f["horizon"]
                if t + k < len(recs):
                    truth = recs[t + k]["observed"]
                    if f.get("crack") and truth.get("crack"):
                        errs[k - 1].append(
                            float(np.hypot(*np.subtract(f["tip_mm"], truth["tip_mm"])))
                        )
    return [np.array(e) for e in errs]


def run(ctx) -> str:
    lines = [f"## On-site loop (`edge-shm forecast`) ({stamp()})", ""]
    lines += [
        "Per backend: the shipped forecasting SNN on the 8 shipped sensor images "
        "(`examples/sensor`, 120 x 160 px, centre region, dark crack), horizon 4. Latency per "
        "frame from the run's records once 3 frames are in (each frame: 3 steps for the "
        "observed frame and 3 per further horizon, and the vector encoding of the frame and "
        "its 4 forecasts); the first frame carries the start-up (imports, sessions). Peak "
        "memory: the command's process as it reports it (`summary.json`; Lava also its "
        "largest child, the Lava run in .venv-lava).",
        "",
        "| backend | latency per frame median / max (ms) | first frame (ms) | steps per frame "
        "| peak memory (MB) |",
        "|---|---|---|---|---|",
        *_backend_rows(ctx),
        "",
    ]
    fc, cv = _tip_errors(ctx, "forecast"), _tip_errors(ctx, "cv")
    lines += [
        "The loop on every test sample of the full library (108 x 8 frames, frame by frame, "
        "state carried), tip error in mm against the tip observed k frames later, where both "
        "have a crack:",
        "",
        "| forecaster | "
        + " | ".join(f"h{k} median / p90 (n)" for k in range(1, HORIZON + 1))
        + " |",
        "|---|" + "---|" * HORIZON,
    ]
    for name, e in (("forecasting SNN", fc), ("constant velocity", cv)):
        cells = [f"{np.median(x):.3f} / {np.percentile(x, 90):.3f} ({len(x)})" for x in e]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    better = [np.median(a) < np.median(b) for a, b in zip(fc, cv, strict=True)]
    lines += [
        "",
        "Forecasting SNN better than constant velocity (median): "
        + ", ".join(f"h{k + 1} {'yes' if b else 'NO'}" for k, b in enumerate(better))
        + ".",
    ]
    return "\n".join(lines) + "\n"
