"""The ``c`` target (``export RUN --target c --fixed-point CALIB -o FW``): the calibrated graph
as a C99 firmware tree (:mod:`edge_shm.firmware_sim.c.generate`), verified bit-exact on the
host. The hooks of its row in :mod:`edge_shm.export.targets`.

    FW/  esf.h engine.c model.h model.c harness.c io*.c startup.c cortex_m4.ld README.md
         firmware.json                              the tree and its manifest
         calibration.json, tensors.npz, calibration.md   the calibration it was made from
         export.json                                run, calibration, verification

The verification compiles the tree with the host's C compiler and requires the integer
engine's spikes in every layer at every step, its readouts and its integer forecasts, on
held-out sequences (Loihi fixed point and int8 calibrations alike).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from edge_shm.export.fixed_point import FILES

DEFAULT_DEVICE = "mcu-512k"


def prepare(job):
    """The calibrated graph of ``--fixed-point`` (:func:`fixed_point.calibrated_graph`),
    refused in one line when the C generator cannot express one of its layers."""
    from edge_shm.export.fixed_point import calibrated_graph
    from edge_shm.firmware_sim.c.generate import check_supported

    fixed = calibrated_graph(job, "--target c")
    check_supported(fixed)
    return fixed


def write(job, folder: Path) -> dict:
    from edge_shm.firmware_sim.c.generate import write_firmware

    name, ram, flash = job.options.device or (DEFAULT_DEVICE, 512 * 1024, 2 * 1024**2)
    calib_dir = Path(job.options.variant_input)
    for file in FILES:
        if (calib_dir / file).is_file():
            shutil.copy(calib_dir / file, folder / file)
    manifest = write_firmware(job.prepared, folder, ram, flash, name)
    sizes = manifest["static_bytes"]
    need = sum(sizes[k] for k in ("membranes", "spike_bits", "scratch", "readout"))
    if need > ram:
        job.note(
            f"the network's state alone needs {need:,} B of RAM, {name} has {ram:,} B: "
            "building it for the Cortex-M4 will fail at link time"
        )
    return {
        "precision": manifest["precision"],
        "device": manifest["device"],
        "static_bytes": sizes,
        "files": sorted(manifest["files"]),
    }


def describe(facts: dict) -> str:
    d = facts["device"]
    return f"C99 firmware tree ({facts['precision']}; linker script for {d['name']})"


def verify(job, folder: Path, seqs: np.ndarray) -> dict:
    """The tree on the host vs the integer engine on ``seqs`` (N, T, H, W): identical spikes,
    readouts and integer forecasts required; not ok either when nothing was compared."""
    from edge_shm.firmware_sim.c.runner import run_host
    from edge_shm.firmware_sim.int_engine import IntEngine

    t0 = time.perf_counter()
    fixed = job.prepared
    got = run_host(folder, seqs)
    res = {"sequences": int(len(seqs)), "frames_per_sequence": int(seqs.shape[1])}
    compared = differ = readout_differ = forecast_differ = 0
    rates = []
    for seq, c in zip(seqs, got, strict=True):
        mine = IntEngine(fixed).run(seq)
        for name, s in mine["spikes"].items():
            compared += s.size
            differ += int((c["spikes"][name] != s).sum())
            rates.append(float(s.mean()))
        readout_differ += int((c["readout"] != mine["readout"]).sum())
        forecast_differ += int((c["prediction"] != mine["prediction"]).sum())
    problems = [] if compared else ["no spikes compared"]
    step_ms = float(np.mean([c["step_ns"] for c in got])) / 1e6
    res.update(
        spikes_compared=compared,
        spikes_differ=differ,
        readout_values_differ=readout_differ,
        forecast_values_differ=forecast_differ,
        spike_rate=float(np.mean(rates)) if rates else 0.0,
        host_step_ms=step_ms,
        problems=problems,
        ok=not (differ or readout_differ or forecast_differ or problems),
        seconds=time.perf_counter() - t0,
    )
    return res


def describe_c(res: dict) -> str:
    text = (
        f"C on the host vs integer engine: {res['spikes_differ']} of "
        f"{res['spikes_compared']:,} spikes, {res['readout_values_differ']} readout and "
        f"{res['forecast_values_differ']} forecast values differ over {res['sequences']} x "
        f"{res['frames_per_sequence']} frames (spike rate {res['spike_rate']:.3%}; "
        f"{res['host_step_ms']:.3f} ms per step on this machine)"
    )
    if res.get("problems"):
        text += f"; not verified: {', '.join(res['problems'])}"
    return text


def failed(res: dict) -> str:
    return f"the C firmware differs from the integer engine ({describe_c(res)})"
