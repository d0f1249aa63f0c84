"""Benchmark: the int8 ONNX graphs on ARM (aarch64) beside float, and beside this host's CPU.

No ARM board is attached to this machine, so the ARM side runs ONNX Runtime's aarch64 build in
a Debian arm64 root under qemu-user (``scripts/arm64_env.sh``): its kernels are the real ARM
ones (their forecasts are what an ARM CPU computes), its timings are the emulator's. The
section reports both and says so. Needs root and apt (skips with the reason otherwise).

``benchmarks/arm_child.py`` is the part that runs inside the ARM root (numpy, ONNX Runtime and
the toolkit's torch-free packages only).
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from pathlib import Path

import numpy as np

from benchmarks.arm_child import child
from benchmarks.calibration import NAMES, ONNX
from benchmarks.run import ROOT, stamp

HELD_SEQUENCES = 2
FRAMES = 8


def _arm_root() -> tuple[Path | None, str]:
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "arm64_env.sh")], capture_output=True, text=True
    )
    if proc.returncode != 0:
        return None, (proc.stderr.strip().splitlines() or ["arm64_env.sh failed"])[-1]
    return (ROOT / proc.stdout.strip().splitlines()[-1]).resolve(), ""


def _prepare(ctx, folder: Path) -> list[str]:
    """Float + int8 graphs of each bench model and the held-out frames, into ``folder``."""
    from edge_shm.data.library import read_library
    from edge_shm.data.splits import calibration_samples
    from edge_shm.export.int8_onnx import CALIBRATION_SEQUENCES, quantize_step_graph

    lib = read_library(ctx.crack_library(), load_physics=False)
    calib = lib.frames[calibration_samples(lib, CALIBRATION_SEQUENCES)]
    np.save(folder / "held.npy", lib.split_frames("test")[:HELD_SEQUENCES, :FRAMES])
    keys = []
    for key, sub in ONNX.items():
        src = ctx.work / sub / "model.onnx"
        if src.is_file():
            shutil.copy(src, folder / f"{key}.float.onnx")
            quantize_step_graph(src, folder / f"{key}.int8.onnx", calib)
            keys.append(key)
    return keys


def run(ctx) -> str:
    lines = [f"## int8 ONNX on ARM (aarch64) ({stamp()})", ""]
    root, why = _arm_root()
    if root is None:
        return "\n".join(lines + [f"Skipped: {why}."]) + "\n"
    work = root / "tmp" / "edge-shm-bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    keys = _prepare(ctx, work)
    host = work / "host"
    host.mkdir()
    for f in [*work.glob("*.onnx"), work / "held.npy"]:
        shutil.copy(f, host / f.name)
    child(host)
    cmd = [
        "chroot",
        str(root),
        "/opt/venv/bin/python",
        "-c",
        "import sys; from pathlib import Path; sys.path.insert(0, '/tmp/edge-shm-bench'); "
        "import arm_child; arm_child.child(Path('/tmp/edge-shm-bench'))",
    ]
    shutil.copy(Path(__file__).with_name("arm_child.py"), work / "arm_child.py")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return "\n".join(lines + [f"Skipped: ARM run failed: {proc.stderr.strip()[-300:]}"]) + "\n"
    arm = json.loads((work / "times.json").read_text())
    x86 = json.loads((host / "times.json").read_text())
    lines += _table(keys, work, host, arm, x86)
    shutil.rmtree(work, ignore_errors=True)
    return "\n".join(lines) + "\n"


def _table(keys, work, host, arm, x86) -> list[str]:
    from edge_shm.export.int8_onnx import CALIBRATION_SEQUENCES

    def pred(folder, stem):
        return np.clip(np.load(folder / f"{stem}.pred.npy"), 0, 1)

    rows = []
    for key in keys:
        fa, qa = pred(work, f"{key}.float"), pred(work, f"{key}.int8")
        fx, qx = pred(host, f"{key}.float"), pred(host, f"{key}.int8")
        ta, tx = arm["ms_per_step"], x86["ms_per_step"]
        rows.append(
            f"| {NAMES[key]} | {np.abs(qa - fa).mean():.4f} / {np.abs(qa - fa).max():.3f} | "
            f"{np.abs(fa - fx).max():.1e} | {np.abs(qa - qx).max():.1e} | "
            f"{ta[f'{key}.float']:.1f} / {ta[f'{key}.int8']:.1f} "
            f"({ta[f'{key}.float'] / ta[f'{key}.int8']:.2f}x) | "
            f"{tx[f'{key}.float']:.2f} / {tx[f'{key}.int8']:.2f} "
            f"({tx[f'{key}.float'] / tx[f'{key}.int8']:.2f}x) |"
        )
    return [
        f"ONNX Runtime {_ort_version()} aarch64 build in a Debian arm64 root under qemu-user "
        f"({arm['machine']}, emulated on this {platform.machine()} host), beside the same "
        f"version on the host CPU, in the same run. {HELD_SEQUENCES} held-out test sequences x "
        f"{FRAMES} frames; int8 graphs quantised (QDQ) on {CALIBRATION_SEQUENCES} train "
        "sequences as `edge-shm export --target onnx --int8` does; forecasts clipped to "
        "[0, 1]. ARM step times are the emulator's (qemu-user translates every "
        "instruction), so only their ratio int8 : float says something about an ARM CPU, "
        "and even that loosely; the forecasts are what ARM's kernels compute. ONNX Runtime "
        "warns in the ARM root that cpuinfo cannot read the (emulated) CPU's topology, so its "
        "kernel choice may differ from a real ARM core's. Float forecasts agree across the "
        "two CPUs to float rounding; int8 ones need not: the two builds' int8 kernels round "
        "differently, and a spike flipped by one rounding step moves the forecast by whole "
        "weights, so an int8 graph is verified on the CPU family it ships to.",
        "",
        "| model | ARM int8 vs float forecast, mean / max abs | max abs ARM - x86, float "
        "| max abs ARM - x86, int8 | ARM (emulated) step float / int8 (ms) "
        "| x86 step float / int8 (ms) |",
        "|---|---|---|---|---|---|",
        *rows,
    ]


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__
