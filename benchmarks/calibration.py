"""Benchmark: what the chip computes. Float vs Loihi fixed point vs int8 on the crack test split.

For the forecasting SNN (section ``forecast``) and the base SNN (section ``train``): calibrate
on 16 train sequences (Loihi fixed point and int8), score the integer engine beside the float
model on the forecast-skill metrics (tip error 1 to 4 frames ahead, tolerant F1, MAE), with the
degradation in percent; time the event-driven integer step against the dense ONNX step of the
same run; and compare the engine's synaptic operations with the profiler's effective counts on
the same windows.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.run import stamp

RUNS = {"forecast": "run-forecast-snn", "snn": "run-snn"}
ONNX = {
    "forecast": "export-forecast-snn-onnx",
    "snn": "export-snn-onnx",
    "lstm": "export-lstm-onnx",
}
NAMES = {"forecast": "forecasting SNN", "snn": "base SNN", "lstm": "base LSTM"}
SEQUENCES = 16
OP_WINDOWS = 54


def _engine_forecaster(fixed):
    from edge_shm.firmware_sim.int_engine import IntEngine

    def run(windows: np.ndarray) -> np.ndarray:
        engine = IntEngine(fixed)
        out = [np.clip(engine.forecast(w)[0], 0, 1) for w in windows]
        return np.stack(out).astype(np.float32)

    return run


def _pct(new: float, ref: float) -> str:
    if not (np.isfinite(new) and np.isfinite(ref)) or ref == 0:
        return "n/a"
    return f"{100 * (new - ref) / ref:+.1f} %"


def run(ctx) -> str:
    from edge_shm.calibration.calibrate import calibrate
    from edge_shm.data.library import read_library
    from edge_shm.data.splits import calibration_samples
    from edge_shm.evaluation.evaluate import forecasters
    from edge_shm.evaluation.horizons import horizon_scores

    lib = read_library(ctx.crack_library(), load_physics=False)
    test = lib.split_frames("test")
    pick = calibration_samples(lib, SEQUENCES)
    lines = [
        f"## Calibration: float vs Loihi fixed point vs int8 ({stamp()})",
        "",
        f"Calibrated on {SEQUENCES} train sequences (`edge-shm calibrate`); scored on the test "
        f"split ({len(test)} samples; horizon 1 = every window). Integer rows: the integer "
        "engine (`firmware_sim/int_engine.py`), which Lava fixed_pt reproduces bit for bit "
        "(tests/firmware_sim/test_int_engine.py). Goal: tip error and MAE within 10 % of float.",
        "",
        "| model | precision | tip error h1 median / mean / p90 (mm) | tip error h2, h3, h4 "
        "median (mm) | tolerant F1 h1 | MAE raw h1 | MAE crack map h1 | tip h1 vs float | "
        "MAE raw h1 vs float | spikes flipped vs float (worst layer) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    timing, ops = [], []
    for key, run_name in RUNS.items():
        from edge_shm.runs import load_run

        model, _ = load_run(ctx.work / run_name)
        graph = model.lower()
        fixed = {t: calibrate(graph, lib.frames[pick], t) for t in ("loihi", "int8")}
        methods = {"float": forecasters(model)["model"]}
        methods.update({t: _engine_forecaster(f) for t, f in fixed.items()})
        scores = horizon_scores(methods, test, lib.window_in, lib.window_skip, lib.pixel_mm)
        ref = scores[0].methods["float"]
        for name in methods:
            s = scores[0].methods[name]
            t = s.tip_error_mm
            later = ", ".join(f"{h.methods[name].tip_error_mm.median:.3f}" for h in scores[1:])
            flips = "-"
            if name != "float":
                worst = max(r.get("flipped_fraction", 0) for r in fixed[name].report["layers"])
                flips = f"{100 * worst:.3f} %"
            lines.append(
                f"| {NAMES[key]} | {name} | {t.median:.3f} / {t.mean:.3f} / {t.p90:.3f} | "
                f"{later} | {s.tolerant_f1:.3f} | {s.mae_raw:.5f} | {s.mae_crack_map:.5f} | "
                f"{_pct(t.median, ref.tip_error_mm.median)} | {_pct(s.mae_raw, ref.mae_raw)} | "
                f"{flips} |"
            )
        timing.append(_timing(key, fixed["loihi"], ctx.work / ONNX[key] / "model.onnx", test))
        ops.append(_ops(key, model, fixed["loihi"], lib))
    lines += [
        "",
        "| model | integer engine step, event-driven (ms) | ONNX Runtime dense float step (ms) "
        "| synaptic ops per step (engine) |",
        "|---|---|---|---|",
        *timing,
        "",
        f"Operation counts on the same {OP_WINDOWS} test windows (3 steps each, from a zero "
        "state): the engine counts one addition per event and output it reaches; the "
        "profiler's effective MACs + ACs count the same fan-out of nonzero inputs on the float "
        "model (they differ only by the spikes that flip).",
        "",
        "| model | engine synaptic ops per forecast | profiler effective MACs + ACs per forecast "
        "| difference |",
        "|---|---|---|---|",
        *ops,
        "",
        "int8 ONNX (QDQ, `edge-shm export --target onnx --int8`, calibrated on 8 train "
        "sequences; synapse inputs and weights int8, neuron and gate arithmetic float), ONNX "
        "Runtime on this host's CPU (x86; ARM in the section `arm`), 2 held-out "
        "sequences x 8 frames, forecasts clipped to [0, 1]:",
        "",
        "| model | mean / max abs(int8 - float) forecast | float step (ms) | int8 step (ms) "
        "| file float / int8 (B) |",
        "|---|---|---|---|---|",
        *_int8_rows(ctx, lib, test),
    ]
    return "\n".join(lines) + "\n"


def _int8_rows(ctx, lib, test) -> list[str]:
    import tempfile
    from pathlib import Path

    from edge_shm.data.splits import calibration_samples
    from edge_shm.export.int8_onnx import CALIBRATION_SEQUENCES, int8_report, quantize_step_graph

    calib = lib.frames[calibration_samples(lib, CALIBRATION_SEQUENCES)]
    rows = []
    for key, folder in ONNX.items():
        src = ctx.work / folder / "model.onnx"
        if not src.is_file():
            rows.append(f"| {NAMES[key]} | n/a ({src} missing) | | | |")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            q = Path(tmp) / "model.int8.onnx"
            quantize_step_graph(src, q, calib)
            r = int8_report(src, q, test[:2])
        rows.append(
            f"| {NAMES[key]} | {r['mean_abs_diff_vs_float']:.4f} / "
            f"{r['max_abs_diff_vs_float']:.3f} | {r['float_ms_per_step']:.2f} | "
            f"{r['int8_ms_per_step']:.2f} | {r['float_bytes']:,} / {r['int8_bytes']:,} |"
        )
    return rows


def _timing(key, fixed, onnx_path, test) -> str:
    from edge_shm.firmware_sim.int_engine import IntEngine
    from edge_shm.firmware_sim.onnx_runner import OnnxStepper

    seq = test[0]
    engine = IntEngine(fixed)
    state = engine.initial_state()
    t0 = time.perf_counter()
    for f in seq:
        _, state = engine.step(f, state)
    eng_ms = 1e3 * (time.perf_counter() - t0) / len(seq)
    per_step = engine.ops.synaptic_ops / len(seq)
    onnx_ms = "n/a (no ONNX export in bench-out)"
    if onnx_path.is_file():
        stepper = OnnxStepper(onnx_path)
        st = stepper.initial_state(1)
        t0 = time.perf_counter()
        for f in seq:
            _, st = stepper.step(f[None, None].astype(np.float32), st)
        onnx_ms = f"{1e3 * (time.perf_counter() - t0) / len(seq):.2f}"
    return f"| {NAMES[key]} | {eng_ms:.2f} | {onnx_ms} | {per_step:,.0f} |"


def _ops(key, model, fixed, lib) -> str:
    from edge_shm.firmware_sim.int_engine import IntEngine
    from edge_shm.profile.profiler import load_windows, profile_model

    x, _, _ = load_windows(lib.path, None, "test", OP_WINDOWS)
    prof = profile_model(model, x)
    eff = prof.counts.totals.macs + prof.counts.totals.acs
    engine = IntEngine(fixed)
    for w in x[:, :, 0].numpy():
        engine.forecast(w)
    per = engine.ops.synaptic_ops / len(x)
    return f"| {NAMES[key]} | {per:,.0f} | {eff:,.0f} | {_pct(per, eff)} |"
