"""Benchmark: the C firmware (``edge-shm export RUN --target c``, firmware_sim/c) on this host
and on a Cortex-M4 (arm-none-eabi-gcc, QEMU's mps2-an386 board).

The shipped forecasting SNN and a base SNN with conv gains (as tests/conftest.py
``spiking_snn_run``), each calibrated for Loihi fixed point and int8 on a small library (24
samples, seed 7): step time per held-out frame of C on the host vs the Python integer engine vs
ONNX Runtime (goal: C >= 10x Python and faster than ONNX Runtime); the forecasting SNN on the
Cortex-M4: instructions and time per forecast, ELF RAM and flash against mcu-512k's budget and
the profiler's account; the base SNN's Cortex-M4 refusal. Work folder ``bench-out/firmware``
(its library and trained base SNN are reused by later runs).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.run import ROOT, stamp

FORECAST = ROOT / "examples" / "runs" / "forecast-snn"
DEVICE = "mcu-512k"
LIB_SAMPLES, LIB_SEED = 24, 7
GAINS = {"conv1": 6.0, "conv2": 30.0, "deconv1": 30.0}  # tests/conftest.py
PRECISIONS = ("int8", "loihi")
REPEATS = 3
NAMES = {"forecast": "forecasting SNN", "snn": "base SNN with gains"}
RAM_KEYS = ("membranes", "spike_bits", "scratch", "readout")  # firmware.json static_bytes
FLASH_KEYS = ("weights", "biases", "out_map")


def _cli(*args) -> None:
    cmd = [sys.executable, "-m", "edge_shm", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        why = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise SystemExit(f"bench firmware: edge-shm {args[0]} failed: {why[0]}")


def _base_snn(work: Path, lib_path: Path) -> Path:
    """A base SNN trained as tests/conftest.py ``snn_run_dir`` (3 epochs, 64 windows), its
    conv weights and biases scaled by GAINS (``spiking_snn_run``); made once."""
    out = work / "run-snn-gains"
    if (out / "weights.safetensors").is_file():
        return out
    import torch

    from edge_shm.data.library import read_library
    from edge_shm.jsonio import read_json, write_json
    from edge_shm.runs import load_run, save_tensors
    from edge_shm.training import TrainConfig, train

    tmp = work / ".run-snn-gains.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    cfg = dict(model="snn", epochs=3, batch_size=16, loss="weighted", max_train_windows=64)
    train(read_library(lib_path), tmp, TrainConfig(**cfg, seed=0), resume=False)
    model, _ = load_run(tmp)
    with torch.no_grad():
        for name, g in GAINS.items():
            getattr(model, name).weight.mul_(g)
            getattr(model, name).bias.mul_(g)
    config = read_json(tmp / "config.json")
    config["weights_sha256"] = save_tensors(tmp / "weights.safetensors", model.state_dict())
    config["note"] = f"bench: base SNN trained briefly, conv gains {GAINS}"
    write_json(tmp / "config.json", config)
    tmp.replace(out)
    return out


def _artefacts(run_dir: Path, lib: Path, out: Path, profile: bool) -> None:
    """Calibrations, C trees (verified on the host by export) and the ONNX step graph of a run;
    with ``profile`` the profiler's deployed-memory report per calibration."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for t in PRECISIONS:
        calib, fw = out / f"calib-{t}", out / f"fw-{t}"
        _cli("calibrate", run_dir, "-l", lib, "-t", t, "-o", calib)
        _cli("export", run_dir, "--target", "c", "--fixed-point", calib, "--frames", lib,
             "--device", DEVICE, "-o", fw)  # fmt: skip
        if profile:
            _cli("profile", run_dir, "--device", DEVICE, "--library", lib, "--max-windows",
                 16, "--calibration", calib, "-o", out / f"profile-{t}")  # fmt: skip
    _cli("export", run_dir, "--target", "onnx", "--frames", lib, "-o", out / "onnx")


def _time_c(fw: Path, frames: np.ndarray) -> dict:
    from edge_shm.firmware_sim.c.runner import run_host

    run_host(fw, frames[:1, :1])  # warm: the build is cached by export's verification
    step, call = [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        res = run_host(fw, frames)
        call.append(1e3 * (time.perf_counter() - t0) / frames[:, :, 0, 0].size)
        step.append(np.mean([r["step_ns"] for r in res]) / 1e6)
    rate = np.mean([np.mean([s.mean() for s in r["spikes"].values()]) for r in res])
    ops = np.mean([r["synaptic_ops"] for r in res])
    return {"step_ms": np.median(step), "call_ms": np.median(call), "ops": ops, "rate": rate}


def _mean_step_ms(step, init, frames) -> float:
    times = []
    for seq in frames:
        state = init()
        for f in seq:
            t0 = time.perf_counter()
            _, state = step(f, state)
            times.append(time.perf_counter() - t0)
    return 1e3 * float(np.mean(times))


def _time_python(calib: Path, frames: np.ndarray) -> float:
    from edge_shm.firmware_sim.fixed_graph import FixedGraph
    from edge_shm.firmware_sim.int_engine import IntEngine

    engine = IntEngine(FixedGraph.load(calib))
    engine.step(frames[0, 0], engine.initial_state())  # warm
    return _mean_step_ms(engine.step, engine.initial_state, frames)


def _time_onnx(path: Path, frames: np.ndarray, threads: int | None) -> float:
    from edge_shm.firmware_sim.onnx_runner import OnnxStepper

    stepper = OnnxStepper(path, threads=threads)
    x = frames.astype(np.float32)[:, :, None, None]  # (N, T, 1, 1, H, W)
    stepper.step(x[0, 0], stepper.initial_state(1))  # warm
    init = lambda: stepper.initial_state(1)  # noqa: E731
    return float(np.median([_mean_step_ms(stepper.step, init, x) for _ in range(REPEATS)]))


def _host_rows(key: str, out: Path, frames: np.ndarray) -> list[str]:
    onnx = {th: _time_onnx(out / "onnx" / "model.onnx", frames, th) for th in (None, 1)}
    rows = []
    for t in PRECISIONS:
        c = _time_c(out / f"fw-{t}", frames)
        py = _time_python(out / f"calib-{t}", frames)
        vs_py, vs_onnx = py / c["step_ms"], min(onnx.values()) / c["step_ms"]
        miss = []
        if vs_py < 10:
            miss.append(f"C only {vs_py:.1f}x the Python engine")
        if vs_onnx <= 1:
            miss.append(f"ONNX Runtime {1 / vs_onnx:.2f}x faster than C")
        rows.append(
            f"| {NAMES[key]} | {t} | {c['step_ms']:.2f} | {c['call_ms']:.2f} | {py:.1f} | "
            f"{onnx[None]:.2f} / {onnx[1]:.2f} | {vs_py:.1f}x | {vs_onnx:.2f}x | "
            f"{c['ops']:,.0f} / {100 * c['rate']:.1f} % | "
            f"{'met' if not miss else 'not met: ' + '; '.join(miss)} |"
        )
    return rows


def _clock() -> tuple[float, str]:
    from edge_shm.profile.devices import get_device

    device = get_device(DEVICE)
    hz = device.clock_hz
    return hz, f"{hz / 1e6:.0f} MHz, the clock of profile {DEVICE} ({device.clock.source})"


def _bytes(n: float) -> str:
    return f"{n:+,.0f}" if n else "0"


def _device_section(out: Path, frames: np.ndarray) -> list[str]:
    hz, clock_text = _clock()
    manifests = {t: json.loads((out / f"fw-{t}" / "firmware.json").read_text()) for t in PRECISIONS}
    dev = manifests["int8"]["device"]
    ram_b, flash_b = dev["ram_B"], dev["flash_B"]
    from edge_shm.firmware_sim.c.runner import run_m4

    perf, mem, diff = [], [], {}
    for t in PRECISIONS:
        res = run_m4(out / f"fw-{t}", frames)  # a tree that does not fit fails the section
        ins = np.concatenate([r["instructions"] for r in res]).astype(np.float64)
        ops = np.concatenate([r["synaptic_ops"] for r in res]).astype(np.float64)
        s = res[0]["sizes"]
        perf.append(
            f"| {t} | {ins.mean():,.0f} / {ins.min():,.0f} / {ins.max():,.0f} | "
            f"{1e3 * ins.mean() / hz:.1f} / {1e3 * ins.min() / hz:.1f} / "
            f"{1e3 * ins.max() / hz:.1f} | {ops.mean():,.0f} | {ins.sum() / ops.sum():.1f} |"
        )
        budget = json.loads((out / f"profile-{t}" / "profile.json").read_text())["memory_budget"]
        p_ram, p_flash = budget["need_B"]["RAM"], budget["need_B"]["flash"]
        est = manifests[t]["static_bytes"]
        est_ram = sum(est.get(k, 0) for k in RAM_KEYS)
        est_flash = sum(est.get(k, 0) for k in FLASH_KEYS)
        fits = s["ram"] <= ram_b and s["flash"] <= flash_b
        fits = "fits" if fits else f"does not fit: RAM over by {s['ram'] - ram_b:,} B"
        mem.append(
            f"| {t} | {s['text']:,} / {s['data']:,} / {s['bss']:,} / {s['stack']:,} | "
            f"{s['flash']:,} / {s['ram']:,} | {100 * s['flash'] / flash_b:.1f} % / "
            f"{100 * s['ram'] / ram_b:.1f} % ({fits}) | {est_flash:,} / {est_ram:,} | "
            f"{p_flash:,} / {p_ram:,} | {_bytes(s['flash'] - p_flash)} "
            f"({100 * (s['flash'] - p_flash) / p_flash:+.0f} %) / {_bytes(s['ram'] - p_ram)} "
            f"({100 * (s['ram'] - p_ram) / p_ram:+.1f} %) |"
        )
        diff[t] = _difference(s, budget)
    lines = [
        "",
        f"### Forecasting SNN on a Cortex-M4 (QEMU mps2-an386, `-icount shift=0`; {DEVICE})",
        "",
        f"All {frames.shape[0]} held-out sequences x {frames.shape[1]} frames; instructions per "
        "forecast = one step (frame in, forecast out: `esf_step` + `esf_forecast`), from the "
        "firmware's SysTick ticks x instructions per tick (calibrated at start-up). Time per "
        f"forecast at {clock_text}, one instruction per cycle (no wait states, no cache "
        "effects).",
        "",
        "| precision | instructions per forecast mean / min / max | ms per forecast mean / min "
        "/ max | synaptic ops per forecast (mean) | instructions per synaptic op |",
        "|---|---|---|---|---|",
        *perf,
    ]
    lines += [
        "",
        "Memory (bytes): the ELF's sections (`arm-none-eabi-size`; flash = .text + .data, RAM "
        "= .data + .bss + stack reserve), the generator's own estimate (`firmware.json` "
        "`static_bytes`) and the profiler's deployed estimate (`edge-shm profile "
        f"--device {DEVICE} --calibration`, profile.json `memory_budget.need_B`).",
        "",
        "| precision | ELF .text / .data / .bss / stack | ELF flash / RAM | of the budget "
        f"flash {flash_b:,} / RAM {ram_b:,} | generator estimate flash / RAM | profiler flash "
        "/ RAM | ELF - profiler flash / RAM |",
        "|---|---|---|---|---|---|---|",
        *mem,
        "",
        "The profiler's account line by line (bytes; `firmware_sim/c/layout.py`, the buffer "
        "list the generator declares), against the ELF:",
        "",
        f"| item | {' | '.join(PRECISIONS)} |",
        f"|---|{'---|' * len(PRECISIONS)}",
    ]
    for item in diff[PRECISIONS[0]]:
        lines.append(f"| {item} | {' | '.join(diff[t].get(item, '-') for t in PRECISIONS)} |")
    return lines


def _difference(sizes: dict, budget: dict) -> dict[str, str]:
    """The profiler's account line by line (its buffer groups, the stack reserve, the link's
    padding), its totals and the ELF's: RAM equal when the layout is the whole story; flash
    differs by the code, which only a build measures."""
    rows: dict[str, float] = {}
    for where in ("RAM", "flash"):
        for x in budget["lines"]:
            if x["where"] == where:
                rows[f"{where}: {x['line'].split(' (')[0]}"] = x["bytes"]
        rows[f"**{where}: profiler**"] = budget["need_B"][where]
        if where == "flash":
            rows["flash: code, vector table (ELF only: measured by a build)"] = (
                sizes["flash"] - budget["need_B"]["flash"]
            )
        rows[f"**{where}: ELF**"] = sizes[where.lower()]
        rows[f"**{where}: ELF - profiler**"] = sizes[where.lower()] - budget["need_B"][where]
    return {k: f"{v:,}" if "ELF -" not in k else _bytes(v) for k, v in rows.items()}


def _base_refusals(out: Path, frames: np.ndarray) -> list[str]:
    from edge_shm.errors import UserError
    from edge_shm.firmware_sim.c.runner import run_m4

    lines = []
    for t in PRECISIONS:
        est = json.loads((out / f"fw-{t}" / "firmware.json").read_text())["static_bytes"]
        need = sum(est.get(k, 0) for k in RAM_KEYS)
        try:
            res = run_m4(out / f"fw-{t}", frames[:1, :1])
            text = f"built and ran (unexpected): RAM {res[0]['sizes']['ram']:,} B"
        except UserError as e:
            text = f"`{e}`"
        lines.append(f"- {t} (generator's RAM estimate {need:,} B): {text}")
    return lines


def run(ctx) -> str:
    t_start = time.perf_counter()
    from edge_shm.data.library import read_library

    work = ctx.work / "firmware"
    work.mkdir(exist_ok=True)
    cached = (work / "run-snn-gains" / "weights.safetensors").is_file()
    lib = work / f"fcg-{LIB_SAMPLES}-s{LIB_SEED}.h5"
    if not lib.is_file():
        from edge_shm.data.generators import build_fcg

        build_fcg(lib, LIB_SAMPLES, LIB_SEED)
    frames = read_library(lib, load_physics=False).split_frames("test")
    runs = {"forecast": FORECAST, "snn": _base_snn(work, lib)}
    host = []
    for key, run_dir in runs.items():
        _artefacts(run_dir, lib, work / key, profile=key == "forecast")
        host += _host_rows(key, work / key, frames)
    n, t = frames.shape[:2]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"## C firmware: host step time and Cortex-M4 ({stamp()})",
        "",
        f"`edge-shm export RUN --target c --fixed-point CALIB` of the forecasting SNN "
        f"(examples/runs/forecast-snn) and of a base SNN with conv gains (trained 3 epochs on "
        f"64 windows, then conv1, conv2, deconv1 x {GAINS['conv1']:g}, {GAINS['conv2']:g}, "
        f"{GAINS['deconv1']:g}, as tests/conftest.py `spiking_snn_run`), both at "
        f"{frames.shape[2]} x {frames.shape[3]} frames, calibrated (16 train sequences) on a "
        f"library of {LIB_SAMPLES} samples (seed {LIB_SEED}); export verified each C tree "
        f"bit-exact against the integer engine. Held out: its test split, {n} sequences x {t} "
        f"frames ({n * t} frames). Load average when the section ran: {load} "
        f"({os.cpu_count()} cores; other jobs share the machine, so times are indicative).",
        "",
        "Step times per frame (ms): C = `run_host`'s `step_ns` (`esf_step` + `esf_forecast`, "
        "timed inside the C harness, gcc -O3, one thread), median over "
        f"{REPEATS} runs of the mean over frames; C whole call = the `run_host` call (process, "
        "files, decoding) per frame; Python = `IntEngine(fixed).step`, mean over frames; ONNX "
        "= `OnnxStepper.step` of `edge-shm export RUN --target onnx` (dense float), default "
        f"threads / 1 thread, median over {REPEATS} runs. Goal: C >= 10x the Python engine and "
        "faster than ONNX Runtime (the faster of its two thread settings; C uses one thread).",
        "",
        "| model | precision | C step (ms) | C whole call (ms per frame) | Python integer "
        "engine (ms) | ONNX Runtime default / 1 thread (ms) | Python / C | faster ONNX / C "
        "| synaptic ops per step / spike rate (C) | goal |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *host,
        *_device_section(work / "forecast", frames),
        "",
        f"### Base SNN with gains for the Cortex-M4 ({DEVICE})",
        "",
        "`run_m4` refuses in one line (`toolchain.build_m4`, the linker's overflow):",
        "",
        *_base_refusals(work / "snn", frames),
        "",
        f"Section run time: {time.perf_counter() - t_start:.0f} s (library and base SNN "
        f"{'reused from an earlier run' if cached else 'built and trained in this run'}).",
    ]
    return "\n".join(lines) + "\n"
