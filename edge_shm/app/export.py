"""Export a trained run to a deployment artefact, verified (``export``), and run an artefact on
frame sequences (``simulate``).

:func:`export_run` chooses the target row (``--int8`` and ``--fixed-point`` map onto the
``onnx-int8`` and ``lava-fixed`` variants of :mod:`edge_shm.export.targets`) and runs the export
pipeline (:func:`edge_shm.export.api.export_artefact`); :func:`simulate_run` writes an
artefact's forecasts. Neither prints: progress lines go to ``note``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from edge_shm.app.progress import Note, no_note
from edge_shm.errors import UserError


@dataclass(frozen=True)
class ExportRequest:
    """An export to make.

    Attributes
    ----------
    run : run folder (weights.safetensors + config.json).
    target : ``onnx``, ``nir``, ``lava`` or ``c`` (or a variant row by name: ``onnx-int8``,
        ``lava-fixed``).
    output : export folder to write.
    verify : run the artefact on held-out frames against torch (or the integer engine).
    frames : held-out frames when the run's library is missing: .npy (N, T, H, W) or
        (T, H, W), an image folder, or a library (its test split).
    consumer : for ``nir``, the framework that will load the file (norse, snntorch, sinabs,
        generic).
    int8 : a library (.h5) whose train split calibrates ``model.int8.onnx`` (onnx only).
    fixed_point : a calibration folder: a Lava fixed_pt bundle (lava; ``calibrate --target
        loihi``) or the C firmware's network (c; Loihi or int8 calibration).
    device : c only: the device profile whose RAM and flash the Cortex-M4 linker script gets
        (default ``mcu-512k``).
    """

    run: Path
    target: str
    output: Path
    verify: bool = True
    frames: Path | None = None
    consumer: str = "generic"
    int8: Path | None = None
    fixed_point: Path | None = None
    device: str | None = None


@dataclass(frozen=True)
class ExportResult:
    """What was written.

    Attributes
    ----------
    output : the export folder.
    model : the run's model name.
    target : the target row used (``onnx``, ``nir``, ``lava``, ``onnx-int8``, ``lava-fixed``).
    artefact : one line saying what the folder holds.
    verified : whether the artefact was verified (and passed: a failure is a UserError).
    report : the folder's export.json.
    notes : the progress lines, in order (also given to ``note`` as they came).
    """

    output: Path
    model: str
    target: str
    artefact: str
    verified: bool
    report: dict
    notes: tuple[str, ...]


def export_run(request: ExportRequest, note: Note = no_note) -> ExportResult:
    """Export ``request.run`` to ``request.output``; one-line UserError on bad input, a model
    the target cannot express or a verification beyond tolerance (nothing is then written)."""
    from edge_shm.export.api import export_artefact
    from edge_shm.export.targets import choose_target

    inputs = {"--fixed-point": request.fixed_point, "--int8": request.int8}
    target, options = choose_target(request.target, request.consumer, inputs)
    if request.device is not None and target.name != "c":
        raise UserError(f"--device is for --target c, not {request.target}")
    if target.name == "c":
        options = replace(options, device=_memory_budget(request.device or "mcu-512k"))
    notes: list[str] = []

    def told(line: str) -> None:
        notes.append(line)
        note(line)

    report = export_artefact(
        request.run,
        target,
        request.output,
        verify=request.verify,
        frames=request.frames,
        options=options,
        note=told,
    )
    return ExportResult(
        output=Path(request.output),
        model=report["model"],
        target=target.name,
        artefact=target.describe(report["artefact"]),
        verified=report["verification"] is not None,
        report=report,
        notes=tuple(notes),
    )


def _memory_budget(name: str) -> tuple[str, int, int]:
    """(name, RAM B, flash B) of a device profile with both in its budget."""
    from edge_shm.profile.devices import get_device

    device = get_device(name)
    ram, flash = device.budget_bytes("ram"), device.budget_bytes("flash")
    if ram is None or flash is None:
        raise UserError(f"device {name!r} has no RAM and flash budget for a linker script")
    return name, int(ram), int(flash)


SIMULATION = "simulation folder"


@dataclass(frozen=True)
class SimulateRequest:
    """An artefact to run: ``artefact`` (a .onnx or .nir file, a Lava bundle, a calibration
    or export folder), ``frames`` (.npy (N, T, H, W) or (T, H, W), an image folder, or a
    library: its test split), ``output`` (the simulation folder), ``backend`` (None: by
    artefact)."""

    artefact: Path
    frames: Path
    output: Path
    backend: str | None = None


@dataclass(frozen=True)
class SimulateResult:
    """What was run: on ``backend``, ``sequences`` x ``frames`` frames in ``seconds`` (s);
    ``output`` holds predictions.npy ((N, T, H, W) raw forecasts), predictions.png and
    simulate.json; ``measured``: what the backend measured (the C firmware: step time on the
    host, or instructions per forecast, ELF section sizes and time at the device's clock on
    the Cortex-M4), {} for others."""

    output: Path
    backend: str
    sequences: int
    frames: int
    seconds: float
    measured: dict = field(default_factory=dict)


def simulate_run(request: SimulateRequest) -> SimulateResult:
    """Run an exported artefact on frame sequences, each from a zero state; write forecasts."""
    from edge_shm.data.stack import load_stack
    from edge_shm.firmware_sim.artefacts import artefact_kind, choose_backend, run_measured
    from edge_shm.jsonio import write_json
    from edge_shm.outputs import Output, atomic_dir, owned, plan_outputs

    kind, path = artefact_kind(request.artefact)
    backend = choose_backend(kind, request.backend)
    output = request.output
    plan_outputs(
        [Output(output, SIMULATION, True, owned(SIMULATION))], [request.artefact, request.frames]
    )
    seqs = load_stack(request.frames)
    t0 = time.perf_counter()
    pred, measured = run_measured(kind, path, backend, seqs)
    seconds = time.perf_counter() - t0
    measured = _at_clock(measured)
    with atomic_dir(output, SIMULATION) as tmp:
        np.save(tmp / "predictions.npy", pred)
        _png(tmp / "predictions.png", seqs, pred)
        write_json(
            tmp / "simulate.json",
            {
                "artefact": str(request.artefact),
                "backend": backend,
                "frames": str(request.frames),
                "shape": list(pred.shape),
                "prediction": "the forecast after each input frame (raw, not clipped)",
                "seconds": seconds,
                "ms_per_frame": 1e3 * seconds / (pred.shape[0] * pred.shape[1]),
                **({"measured": measured} if measured else {}),
            },
        )
    return SimulateResult(
        Path(output), backend, int(pred.shape[0]), int(pred.shape[1]), seconds, measured
    )


def _at_clock(measured: dict) -> dict:
    """Adds the time per forecast at the device profile's clock (one instruction per cycle:
    a lower bound for a single-issue Cortex-M4, which takes more cycles for loads, branches and
    multiplies; an estimate for a dual-issue Cortex-M7 such as mcu-512k's STM32F767)."""
    if "instructions_per_forecast" not in measured:
        return measured
    from edge_shm.profile.devices import get_device

    device = get_device(measured["device"]["name"])
    if device.clock_hz is None:
        return measured
    mean = measured["instructions_per_forecast"]["mean"]
    return {
        **measured,
        "clock_hz": device.clock_hz,
        "ms_per_forecast_at_clock": 1e3 * mean / device.clock_hz,
        "clock_assumption": "one instruction per cycle (a lower bound on time for a "
        "single-issue Cortex-M4; an estimate for a dual-issue Cortex-M7)",
    }


def _png(path: Path, seqs: np.ndarray, pred: np.ndarray, max_rows: int = 4) -> None:
    """Rows: input frame then forecast for up to ``max_rows`` sequences; one column per step
    (frames clipped to [0, 1], one grey pixel between frames)."""
    from PIL import Image

    rows = []
    for i in range(min(pred.shape[0], max_rows)):
        for arr in (seqs[i], pred[i]):
            row = np.concatenate([np.pad(np.clip(f, 0, 1), 1, constant_values=0.5) for f in arr], 1)
            rows.append(row)
    img = np.concatenate(rows, 0)
    Image.fromarray((img * 255).round().astype(np.uint8)).save(path, format="PNG")
