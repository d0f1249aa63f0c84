"""Running a C firmware tree on frames: compiled for the host (``run_host``) or for a
Cortex-M4 under ``qemu-system-arm`` (``run_m4``), read back as the integer engine's trace.

Each returns, per sequence, a dict with ``prediction`` (T, C', H', W' squeezed to T, H', W'
for one channel) float64, ``readout`` (T, C, H, W) int64, ``forecast_int`` (T, C', H', W')
int64 (what ``esf_forecast`` wrote), ``spikes`` {LIF: (T, C, H, W) bool}, ``synaptic_ops``
(T,) and per step (frame in, forecast out) ``step_ns`` (T,) on the host (wall clock) or
``instructions`` (T,) on the Cortex-M4.

The emulator runs with ``-icount shift=0`` (virtual time advances with instructions); the
firmware times each step with SysTick and, at start, a loop of known instruction count, so a
step's instructions are its ticks times instructions per tick, without assuming a clock.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.firmware_sim.c import generate, toolchain

QEMU = "qemu-system-arm"
QEMU_ARGS = (
    "-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none",
    "-serial", "none", "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
)  # fmt: skip
TIMEOUT_S = 1800


def read_tree(folder: Path):
    """(manifest, C texts, FixedGraph) of a firmware folder; one line when it is not one or a
    file differs from what the manifest recorded."""
    from edge_shm.firmware_sim.fixed_graph import FixedGraph
    from edge_shm.jsonio import read_json

    folder = Path(folder)
    manifest = read_json(folder / "firmware.json", "firmware manifest")
    if manifest.get("format") != generate.FORMAT_NAME:
        raise UserError(f"{folder / 'firmware.json'}: not an edge-shm C firmware manifest")
    if manifest.get("format_version") != generate.FORMAT_VERSION:
        raise UserError(f"{folder}: firmware format {manifest.get('format_version')!r} unknown")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise UserError(f"{folder / 'firmware.json'}: no file list")
    texts = {}
    for name, sha in files.items():
        path = folder / str(name)
        if Path(str(name)).name != name or not path.is_file():
            raise UserError(f"{folder}: missing file {name}")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            raise UserError(f"{path}: differs from firmware.json (edited? export again)")
        texts[name] = data.decode("utf-8")
    return manifest, texts, FixedGraph.load(folder)


def _pixels(fixed, frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames, np.float64)
    if frames.ndim != 4 or tuple(frames.shape[2:]) != tuple(fixed.frame_shape):
        raise UserError(f"frames {frames.shape} do not fit the firmware's {fixed.frame_shape}")
    q = np.rint(np.clip(frames, 0, 1) * fixed.input_scale)
    return q.astype(np.uint8)


def _write_input(path: Path, pixels: np.ndarray) -> None:
    n, t, h, w = pixels.shape
    head = np.array([n, t, h, w], "<u4").tobytes()
    path.write_bytes(b"ESFI" + head + np.ascontiguousarray(pixels).tobytes())


def _read_output(path: Path, fixed, pixels: np.ndarray) -> list[dict]:
    data = path.read_bytes()
    if data[:4] != b"ESFO":
        raise UserError(f"the firmware wrote no results ({path.name})")
    lifs = [la for la in fixed.layers if la.lif]
    readout = fixed.layers[-1].out_shape
    out_shape = generate.post_shape(fixed)
    n_out = int(np.prod(out_shape))
    pos, results = 4, []

    def take(count: int, dtype: str) -> np.ndarray:
        nonlocal pos
        size = count * np.dtype(dtype).itemsize
        if pos + size > len(data):
            raise UserError("the firmware's results are truncated")
        arr = np.frombuffer(data, dtype, count, pos)
        pos += size
        return arr

    for seq in pixels:
        steps = []
        for frame in seq:
            spikes = {}
            for la in lifs:
                c, h, w = la.out_shape
                bits = np.unpackbits(take((c * h * w + 7) // 8, "u1"), bitorder="little")
                spikes[la.lif] = bits[: c * h * w].reshape(h, w, c).transpose(2, 0, 1) > 0
            c, h, w = readout
            r = take(c * h * w, "<i4").astype(np.int64).reshape(h, w, c).transpose(2, 0, 1)
            z = take(n_out, "<i8").astype(np.int64).reshape(out_shape)
            ops, ticks = take(2, "<u4")
            p = frame.astype(np.int64)[None]
            steps.append((spikes, r, z, fixed.decode(z, p), int(ops), int(ticks)))
        results.append(
            {
                "prediction": np.stack([s[3][0] for s in steps]),
                "readout": np.stack([s[1] for s in steps]),
                "forecast_int": np.stack([s[2] for s in steps]),
                "spikes": {la.lif: np.stack([s[0][la.lif] for s in steps]) for la in lifs},
                "synaptic_ops": np.array([s[4] for s in steps], np.int64),
                "ticks": np.array([s[5] for s in steps], np.int64),
            }
        )
    if pos != len(data):
        raise UserError("the firmware wrote more results than frames were given")
    return results


def run_host(folder: Path, frames: np.ndarray) -> list[dict]:
    """Sequences (N, T, H, W) in [0, 1] through the tree compiled for this machine."""
    _, texts, fixed = read_tree(folder)
    exe = toolchain.build_host(texts)
    pixels = _pixels(fixed, frames)
    with tempfile.TemporaryDirectory(prefix="edge-shm-c.") as tmp:
        src, dst = Path(tmp) / "esf_in.bin", Path(tmp) / "esf_out.bin"
        _write_input(src, pixels)
        res = subprocess.run(
            [str(exe), str(src), str(dst)], capture_output=True, text=True, timeout=TIMEOUT_S
        )
        if res.returncode != 0:
            raise UserError(f"the host firmware failed: {res.stderr.strip()[:300]}")
        out = _read_output(dst, fixed, pixels)
    for r in out:
        r["step_ns"] = r.pop("ticks")
    return out


def run_m4(folder: Path, frames: np.ndarray) -> list[dict]:
    """Sequences (N, T, H, W) in [0, 1] through the tree built for a Cortex-M4 and run in
    QEMU's MPS2 AN386 board; adds ``instructions`` per step and the ELF's ``sizes``."""
    manifest, texts, fixed = read_tree(folder)
    elf = toolchain.build_m4(texts, manifest["device"]["name"])
    if shutil.which(QEMU) is None:
        raise UserError(f"{QEMU} is not installed (Debian: apt-get install qemu-system-arm)")
    pixels = _pixels(fixed, frames)
    with tempfile.TemporaryDirectory(prefix="edge-shm-m4.") as tmp:
        _write_input(Path(tmp) / "esf_in.bin", pixels)
        cmd = [QEMU, *QEMU_ARGS, "-kernel", str(elf)]
        try:
            res = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise UserError(f"the Cortex-M4 run did not end within {TIMEOUT_S} s") from None
        if res.returncode != 0:
            why = (res.stdout + res.stderr).strip().splitlines()
            raise UserError(f"the Cortex-M4 run failed: {why[-1] if why else 'no output'}")
        clock = np.frombuffer((Path(tmp) / "esf_clock.bin").read_bytes(), "<u4")
        out = _read_output(Path(tmp) / "esf_out.bin", fixed, pixels)
    per_tick = float(clock[0]) / max(int(clock[1]), 1)
    sizes = toolchain.elf_sizes(elf)
    for r in out:
        r["instructions"] = np.rint(r.pop("ticks") * per_tick).astype(np.int64)
        r["instructions_per_tick"] = per_tick
        r["sizes"] = sizes
        r["device"] = manifest["device"]
    return out


def measured(results: list[dict]) -> dict:
    """What a run measured, for reports: per step (frame in, forecast out) the host's wall
    clock (ms) or the Cortex-M4's instructions, with the ELF's section sizes (bytes)."""
    if not results:
        return {}
    if "instructions" in results[0]:
        n = np.concatenate([r["instructions"] for r in results])
        return {
            "device": results[0]["device"],
            "instructions_per_forecast": {
                "mean": float(n.mean()), "min": int(n.min()), "max": int(n.max())
            },
            "instructions_per_tick": results[0]["instructions_per_tick"],
            "elf_bytes": results[0]["sizes"],
            "how": "QEMU mps2-an386 -icount shift=0; SysTick ticks of each esf_step + "
            "esf_forecast, times the instructions per tick of a loop of known length",
        }  # fmt: skip
    ns = np.concatenate([r["step_ns"] for r in results])
    return {"host_step_ms": {"mean": float(ns.mean()) / 1e6, "max": float(ns.max()) / 1e6}}
