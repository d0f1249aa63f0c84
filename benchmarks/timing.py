"""Benchmark: forecasts on every frame timing a camera gives, on seeds never trained on.

Trains the motion SNN (``motion-snn``) on a mixed-timing crack library (seed 100), calibrates
its forecast band, then scores it 1 to 4 frames ahead on held-out libraries of other seeds cut
at six timings: the paper's 7 slices, 14 and 4 slices, equal load-cycle intervals (a camera),
mixed, and static (nothing grows). Beside it on the same windows: the same network with the
cycles hidden, the shipped pixel forecasting SNN (trained on the paper's timing only), copy-last,
constant velocity, constant acceleration and Paris-law extrapolation. Then it checks the issue's
acceptance lines, exports the run to ONNX, NIR and Lava with verification, calibrates it to
int8 and Loihi fixed point, profiles it on the 512 KiB microcontroller, and copies it to
``examples/runs/motion-snn`` (the run the demo and the on-site examples use).

Sizes: ``BENCH_TIMING_TRAIN`` training samples (default 4000), ``BENCH_TIMING_EPOCHS`` (40),
``BENCH_TIMING_TEST`` test samples per timing (default 100; 50 for 14 slices and static).
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np

from benchmarks.run import ROOT, ship, stamp
from edge_shm.evaluation.baselines import LABELS

TRAIN_SAMPLES = int(os.environ.get("BENCH_TIMING_TRAIN", 4000))
EPOCHS = int(os.environ.get("BENCH_TIMING_EPOCHS", 40))
TEST = int(os.environ.get("BENCH_TIMING_TEST", 100))
TRAIN_SEED = 100
CONFIG = dict(model="motion-snn", batch_size=256, lr=3e-3, schedule="cosine")
TIMINGS = [  # name, build options, test samples, seed
    ("slices 7 (the paper's)", {"timing": "slices"}, TEST, 7001),
    ("slices 14", {"timing": "slices", "frames": 15}, TEST // 2, 7002),
    ("slices 4", {"timing": "slices", "frames": 5}, TEST, 7003),
    ("cycles (a camera)", {"timing": "cycles"}, TEST, 7004),
    ("mixed", {"timing": "mixed"}, TEST, 7005),
    ("static", {"timing": "static"}, TEST // 2, 7006),
]
SHIPPED = ROOT / "examples" / "runs" / "motion-snn"
SHIP_FILES = ("config.json", "weights.safetensors", "metrics.json", "loss.png", "band.json")
ROWS = {
    "model": "motion SNN",
    "model_no_cycles": "motion SNN, cycles hidden",
    "pixel": "forecasting SNN (pixels, paper timing)",
    **{k: LABELS[k] for k in ("copy_last", "constant_velocity", "constant_acceleration", "paris")},
}


def _library(ctx, name: str, samples: int, seed: int, **options):
    from edge_shm.data.generators import build
    from edge_shm.data.library import read_library

    path = ctx.work / f"fcg-{name}-{samples}-s{seed}.h5"
    if not path.exists():
        build("fcg", path, samples, seed, **options)
    return read_library(path)


def _train(ctx, lib):
    from edge_shm.evaluation.band_fit import write_band
    from edge_shm.reports.plots import run_loss_curve
    from edge_shm.training import TrainConfig, train
    from edge_shm.training.loop import training_data

    run_dir = ctx.work / "run-motion-snn"
    cfg = TrainConfig(epochs=EPOCHS, **CONFIG)
    data = training_data(lib, cfg)
    metrics = train(lib, run_dir, cfg, resume=True, data=data, on_checkpoint=run_loss_curve)
    band = write_band(run_dir, lib)
    return run_dir, metrics, band


def _methods(model, pixel):
    from edge_shm.evaluation.baselines import baselines
    from edge_shm.evaluation.forecast import frame_forecaster

    motion = frame_forecaster(model)
    methods = {"model": motion, "model_no_cycles": lambda w, ctx=None: motion(w, None)}
    if pixel is not None:
        methods["pixel"] = frame_forecaster(pixel)
    return {**methods, **baselines()}


def _score(lib, methods, n_in: int):
    from edge_shm.data.splits import library_cycles
    from edge_shm.evaluation.evaluate import baseline_notes, test_context
    from edge_shm.evaluation.horizons import horizon_scores

    cycles = library_cycles(lib)
    _, context = test_context(lib)
    hs = horizon_scores(
        methods, lib.frames, n_in, lib.window_skip, lib.pixel_mm, cycles=cycles, context=context
    )
    return hs, baseline_notes(methods)


def _table(hs) -> list[str]:
    head = " | ".join(f"h{h.horizon} ({h.forecasts}) median / mean / p90" for h in hs)
    lines = [f"| forecast | {head} | tolerant F1 h1 |", "|---|" + "---|" * (len(hs) + 1)]
    for key, label in ROWS.items():
        if key not in hs[0].methods:
            continue
        cells = []
        for h in hs:
            t = h.methods[key].tip_error_mm
            cells.append(" / ".join(_mm(v) for v in (t.median, t.mean, t.p90)))
        lines.append(f"| {label} | {' | '.join(cells)} | {hs[0].methods[key].tolerant_f1:.3f} |")
    return lines


def _mm(v) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.3f}"


def _checks(name: str, hs) -> list[tuple[str, bool]]:
    h1 = hs[0].methods
    best = min(h1["copy_last"].tip_error_mm.median, h1["constant_velocity"].tip_error_mm.median)
    med = h1["model"].tip_error_mm.median
    out = [
        (
            f"{name}: h1 median {med:.3f} mm <= 1.05 x the better of copy-last and constant "
            f"velocity ({best:.3f} mm)",
            med <= 1.05 * best + 1e-12,
        ),
        (
            f"{name}: h1 tolerant F1 {h1['model'].tolerant_f1:.3f} >= copy-last's "
            f"{h1['copy_last'].tolerant_f1:.3f}",
            h1["model"].tolerant_f1 >= h1["copy_last"].tolerant_f1,
        ),
    ]
    if name.startswith("cycles"):
        for h in hs[1:]:
            m, cv = h.methods["model"].tip_error_mm.mean, h.methods["constant_velocity"]
            out.append(
                (
                    f"cycles: h{h.horizon} mean {m:.3f} mm below constant velocity's "
                    f"{cv.tip_error_mm.mean:.3f} mm",
                    m < cv.tip_error_mm.mean,
                )
            )
    if name.startswith("slices 7"):
        out.append((f"paper timing: h1 median {med:.3f} mm <= 0.17 mm", med <= 0.17))
    return out


def _losses(name: str, hs) -> list[str]:
    """Where a baseline or the pixel network beats the motion SNN (mean or median)."""
    found = []
    for h in hs:
        m = h.methods["model"].tip_error_mm
        for key in ("pixel", "copy_last", "constant_velocity", "constant_acceleration", "paris"):
            if key not in h.methods:
                continue
            b = h.methods[key].tip_error_mm
            worse = [
                s
                for s, a, c in (("median", m.median, b.median), ("mean", m.mean, b.mean))
                if a > c + 1e-9
            ]
            if worse:
                found.append(f"h{h.horizon} {ROWS[key]} ({' and '.join(worse)})")
    return [f"- {name}: loses to " + "; ".join(found)] if found else []


FLOOR_MM = 0.005  # a zero error is drawn here on the log axis


def plot(results: dict, path) -> None:
    """Mean tip error per horizon, one panel per timing; ``results``: timing -> list of
    HorizonScores.to_dict() (what timing.json holds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(11, 6.4), sharex=True)
    for ax, (name, hs) in zip(axes.ravel(), results.items(), strict=False):
        k = [h["horizon"] for h in hs]
        for i, (key, label) in enumerate(ROWS.items()):
            if key not in hs[0]["methods"]:
                continue
            v = np.array([h["methods"][key]["tip_error_mm"]["mean"] for h in hs], float)
            ax.plot(k, np.maximum(v, FLOOR_MM), marker="o", color=f"C{i}", label=label)
        ax.set_title(name, fontsize=9)
        ax.set_xticks(k)
        ax.grid(alpha=0.3)
        ax.set_yscale("log")
        ax.set_ylim(bottom=0.8 * FLOOR_MM)
    for ax in axes[-1]:
        ax.set_xlabel("frames ahead")
    for ax in axes[:, 0]:
        ax.set_ylabel("mean tip error (mm)")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(
        f"mean tip error by frame timing, held-out seeds (0 drawn at {FLOOR_MM} mm)", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _chain(ctx, run_dir, lib) -> list[str]:
    """Exports verified, calibrations, the integer engine and the MCU profile of the run."""
    from edge_shm.app.export import ExportRequest, export_run
    from edge_shm.export.api import describe_verification
    from edge_shm.profile.devices import load_devices
    from edge_shm.profile.memory import memory_report
    from edge_shm.profile.profiler import load_windows, profile_model
    from edge_shm.training import load_run

    lines = ["Deployment of the trained run (verified on held-out frames, as motion tiles):", ""]
    for target in ("onnx", "nir", "lava"):
        out = ctx.work / f"export-motion-snn-{target}"
        rep = export_run(ExportRequest(run_dir, target, out, frames=lib.path)).report
        lines.append(f"- {describe_verification(target, rep['verification'])}")
    model, _ = load_run(run_dir)
    lines += _calibrations(ctx, model, lib)
    x, _, pixel_mm = load_windows(lib.path, None, "test", 64)
    prof = profile_model(model, x, pixel_mm=pixel_mm)
    rep = memory_report(prof, load_devices()["mcu-512k"])
    need = "; ".join(f"{c.memory} {c.need_B:,.0f} / {c.budget_B:,.0f} B" for c in rep.checks)
    lines.append(
        f"- mcu-512k: {need}: {'fits' if rep.fits else 'does not fit'} ({prof.parameters:,} "
        "parameters, the zeros between ensemble members included; the vector encoder that "
        "makes the tiles runs beside it and is not counted)"
    )
    return lines


def _calibrations(ctx, model, lib) -> list[str]:
    """int8 and Loihi fixed point from 16 train sequences; the integer engine's forecasts
    against the float ONNX export's on 8 test sequences."""
    from edge_shm.calibration.calibrate import calibrate
    from edge_shm.data.splits import library_cycles
    from edge_shm.firmware_sim.artefacts import run_artefact
    from edge_shm.firmware_sim.codec import graph_inputs

    cycles = library_cycles(lib)
    train, test = lib.indices("train")[:16], lib.indices("test")[:8]
    seqs = graph_inputs(model.codec, lib.frames[train], cycles[train])
    onnx = ctx.work / "export-motion-snn-onnx" / "model.onnx"
    frames = lib.frames[test]
    ref = run_artefact("onnx", onnx, "onnx", frames, cycles[test])
    lines = [
        f"- float (ONNX Runtime), streaming: mean tip error one frame ahead "
        f"{_stream_tip_mm(ref, frames, lib.pixel_mm):.3f} mm on {len(test)} test samples"
    ]
    for target in ("int8", "loihi"):
        folder = ctx.work / f"calibration-motion-snn-{target}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        fixed = calibrate(model.lower(), seqs, target)
        fixed.save(folder)
        got = run_artefact("calibration", folder, "int", lib.frames[test], cycles[test])
        same = float(
            np.mean(
                [
                    np.array_equal(a, b)
                    for a, b in zip(
                        ref.reshape(-1, *ref.shape[2:]),
                        got.reshape(-1, *got.shape[2:]),
                        strict=True,
                    )
                ]
            )
        )
        flips = max(r.get("flipped_fraction", 0.0) for r in fixed.report["layers"])
        lines.append(
            f"- {target}: worst layer {flips:.2%} of spikes flipped against float on the "
            f"calibration sequences; integer-engine forecasts equal to the float ONNX ones on "
            f"{same:.1%} of {ref.shape[0] * ref.shape[1]} test frames; mean tip error one "
            f"frame ahead {_stream_tip_mm(got, frames, lib.pixel_mm):.3f} mm"
        )
    return lines


def _stream_tip_mm(pred, frames, pixel_mm: float) -> float:
    """Mean tip error (mm) of streamed forecasts: the output after frame t (t >= 2, a full
    window) against frame t + 1."""
    from edge_shm.evaluation.skill import encode_all, geometry_arrays

    p = pred[:, 2:-1].reshape(-1, *pred.shape[2:])
    t = frames[:, 3:].reshape(-1, *frames.shape[2:])
    tips, _ = geometry_arrays(p, encode_all(t, pixel_mm), pixel_mm)
    return float(np.nanmean(tips))


def _nonzero(model) -> int:
    return int(sum(int((p != 0).sum()) for p in model.parameters()))


def run(ctx) -> str:
    from edge_shm.training import load_run

    train_lib = _library(ctx, "mixed", TRAIN_SAMPLES, TRAIN_SEED, timing="mixed")
    run_dir, metrics, band = _train(ctx, train_lib)
    model, config = load_run(run_dir)
    pixel_run = ROOT / "examples" / "runs" / "forecast-snn"
    pixel = load_run(pixel_run)[0] if pixel_run.is_dir() else None
    results, notes, checks, losses, libs = {}, {}, [], [], {}
    for name, options, samples, seed in TIMINGS:
        lib = _library(
            ctx, name.split()[0] + str(options.get("frames", "")), samples, seed, **options
        )
        libs[name] = lib
        hs, note = _score(lib, _methods(model, pixel), model.codec.n_in)
        results[name], notes[name] = hs, note
        checks += _checks(name, hs)
        losses += _losses(name, hs)
    table = {name: [h.to_dict() for h in hs] for name, hs in results.items()}
    (ctx.work / "timing.json").write_text(json.dumps(table, default=float))
    plot(table, ROOT / "benchmarks" / "timing.png")
    chain = _chain(ctx, run_dir, libs["cycles (a camera)"])
    ship(run_dir, SHIPPED, SHIP_FILES)
    q = " / ".join(f"{r:.2f}" for r in band["ratio"])
    lines = [
        f"## Every frame timing: the motion SNN beside the naive and physical forecasts "
        f"({stamp()})",
        "",
        f"`motion-snn` ({config['parameters']:,} parameters stored, {_nonzero(model):,} of them "
        f"nonzero: the weights between ensemble members are zero), {metrics['epochs_done']} "
        f"epochs on {TRAIN_SAMPLES} mixed-timing samples (seed {TRAIN_SEED}, "
        f"{config['train_windows']:,} windows of a growing crack), "
        f"{metrics['train_seconds_total']:.0f} s of training; "
        f"forecast band (90 % of held-out tip errors) {q} x (S + 1 px) at horizons 1-4. Test "
        "libraries of other seeds (7001-7006), every sample; tip error in mm (median / mean / "
        "p90), tolerant F1 one frame ahead. The pixel forecasting SNN is the shipped "
        "`examples/runs/forecast-snn`, trained on the paper's timing only. Figure: "
        "`benchmarks/timing.png`.",
    ]
    for name, hs in results.items():
        lines += ["", f"### {name}", "", *_table(hs)]
        paris = notes[name].get("paris")
        if paris and paris["refused"]:
            why = "; ".join(f"{k} ({v})" for k, v in paris["reasons"].items())
            lines += ["", f"Paris refused {paris['refused']} of {paris['forecasts']}: {why}."]
    lines += ["", "Acceptance:", ""]
    lines += [f"- {text}: {'yes' if ok else 'NO'}" for text, ok in checks]
    lines += ["", "Where a baseline or the pixel network wins (mean or median tip error):", ""]
    lines += losses or ["- nowhere"]
    lines += ["", *chain]
    return "\n".join(lines) + "\n"
