"""Calibrate a trained spiking run to integers (Loihi 2 fixed point or int8) and write the
calibration folder with its report (the ``calibrate`` command)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_shm.errors import UserError
from edge_shm.firmware_sim.fixed_graph import FixedGraph

KIND = "calibration folder"
TARGETS = ("loihi", "int8")

Status = Callable[[str], AbstractContextManager]
"""``status(text)``: a context shown while one long step runs (the CLI's spinner)."""


@dataclass(frozen=True)
class CalibrationRequest:
    """A calibration to make.

    Attributes
    ----------
    run : run folder of a spiking model.
    library : library (.h5) whose train split gives the calibration sequences.
    target : ``loihi`` (Lava fixed_pt) or ``int8`` (a microcontroller).
    output : calibration folder to write.
    sequences : calibration sequences (whole samples), at least ``MIN_SEQUENCES``.
    """

    run: Path
    library: Path
    target: str
    output: Path
    sequences: int = 16


@dataclass(frozen=True)
class CalibrationResult:
    """What was written.

    Attributes
    ----------
    output : the calibration folder (calibration.json, tensors.npz, calibration.md, .png).
    model : the run's model name.
    fixed : the integer graph, with its report.
    samples : library indices of the calibration sequences.
    worst_flipped : the largest fraction (0..1) of spikes flipped against float in one layer.
    """

    output: Path
    model: str
    fixed: FixedGraph
    samples: tuple[int, ...]
    worst_flipped: float


def calibrate_run(
    request: CalibrationRequest, status: Status = contextlib.nullcontext
) -> CalibrationResult:
    """Choose per-layer integer scales from calibration sequences of the library's train
    split (never its test split), record the run's window and pixel size, write the folder."""
    from edge_shm.calibration.calibrate import MIN_SEQUENCES, calibrate
    from edge_shm.data.library import read_library
    from edge_shm.data.splits import calibration_samples, library_cycles
    from edge_shm.firmware_sim.codec import graph_inputs
    from edge_shm.outputs import Output, atomic_dir, owned, plan_outputs
    from edge_shm.runs import load_run, run_window

    r = request
    if r.target not in TARGETS:
        raise UserError(f"unknown calibration target {r.target!r}; choose loihi or int8")
    if r.sequences < MIN_SEQUENCES:
        raise UserError(f"--sequences must be at least {MIN_SEQUENCES}, got {r.sequences}")
    plan_outputs([Output(r.output, KIND, True, owned(KIND))], [r.run, r.library])
    model, config = load_run(r.run, "cpu")
    if not model.capabilities.spiking:
        raise UserError(
            f"model {model.name!r} is not a spiking network: calibration maps LIF layers to "
            "Loihi fixed point or int8 (use an int8 ONNX export for it)"
        )
    graph = model.lower()
    lib = read_library(r.library)
    train = lib.indices("train")
    if len(train) < MIN_SEQUENCES:
        raise UserError(
            f"{r.library}: {len(train)} train samples, calibration needs at least {MIN_SEQUENCES}"
        )
    if model.codec is None and tuple(lib.frames.shape[2:]) != (model.height, model.width):
        raise UserError(
            f"{r.library}: frames of {lib.frames.shape[2]}x{lib.frames.shape[3]} px, the model "
            f"takes {model.height}x{model.width} px"
        )
    pick = calibration_samples(lib, r.sequences)
    with status(f"calibrating {model.name} for {r.target} on {len(pick)} sequences"):
        cycles = library_cycles(lib)
        inputs = graph_inputs(
            model.codec, lib.frames[pick], None if cycles is None else cycles[pick]
        )
        fixed = calibrate(
            graph,
            inputs,
            r.target,
            run_sha=config.get("weights_sha256", ""),
            window=run_window(config, model.codec),
            pixel_mm=config.get("pixel_mm") or lib.pixel_mm,
        )
    fixed.report["library"] = str(Path(r.library).resolve())
    fixed.report["samples"] = [int(i) for i in pick]
    with atomic_dir(r.output, KIND) as tmp:
        fixed.save(tmp)
        (tmp / "calibration.md").write_text(calibration_markdown(fixed))
        calibration_plot(fixed, tmp / "calibration.png")
    worst = max((x.get("flipped_fraction", 0.0) for x in fixed.report["layers"]), default=0.0)
    return CalibrationResult(r.output, model.name, fixed, tuple(fixed.report["samples"]), worst)


def calibration_markdown(fixed: FixedGraph) -> str:
    """calibration.md: the per-layer table of scales, errors and spike flips (percent)."""
    lines = [
        f"# Calibration of `{fixed.model}` for `{fixed.target}`",
        "",
        f"{fixed.report['sequences']} calibration sequences from the train split of "
        f"`{fixed.report.get('library', '?')}`; input pixels x {fixed.input_scale}.",
        "",
        "| layer | LIF | scale (int / float) | weight exp | weight step (float) | clipped (%) "
        "| weight error max (float) | weight error rms (%) | spikes flipped vs float (%) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in fixed.report["layers"]:
        flips = "readout" if r["lif"] is None else f"{100 * r['flipped_fraction']:.3f}"
        lines.append(
            f"| {r['layer']} | {r['lif'] or '-'} | {r['scale']:.6g} | {r['weight_exp']} | "
            f"{r['weight_step']:.3g} | {100 * r['clipped_fraction']:.3f} | "
            f"{r['weight_max_abs_error']:.3g} | {100 * r['weight_rms_error_relative']:.2f} | "
            f"{flips} |"
        )
    lines += [
        "",
        "Flipped spikes: the integer engine against the float64 reference on the calibration "
        "sequences, every step, from a zero state; one early flip propagates downstream, so "
        "deeper layers flip more. Conventions: docs/calibration.md.",
    ]
    return "\n".join(lines) + "\n"


def calibration_plot(fixed: FixedGraph, path: Path) -> None:
    """calibration.png: weight rms error and spikes flipped (percent) per LIF layer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in fixed.report["layers"] if r["lif"] is not None]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [100 * r["weight_rms_error_relative"] for r in rows], 0.4, label="weight rms")
    ax.bar(x + 0.2, [100 * r["flipped_fraction"] for r in rows], 0.4, label="spikes flipped")
    ax.set_xticks(x, [r["layer"] for r in rows])
    ax.set_ylabel("% (vs float)")
    ax.set_title(f"{fixed.model} -> {fixed.target}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
