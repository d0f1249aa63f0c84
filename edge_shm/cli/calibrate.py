"""``edge-shm calibrate``: a trained spiking run -> integer (Loihi fixed point or int8) graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from edge_shm.console import out
from edge_shm.errors import UserError


def register(app: typer.Typer) -> None:
    app.command()(calibrate)


def calibrate(
    run: Path = typer.Argument(..., help="Run directory of a spiking model."),
    library: Path = typer.Option(..., "--library", "-l", help="Library (.h5); its train split."),
    target: str = typer.Option(..., "--target", "-t", help="loihi (Lava fixed_pt) or int8."),
    output: Path = typer.Option(..., "-o", "--output", help="Calibration folder."),
    sequences: int = typer.Option(16, help="Calibration sequences from the train split."),
) -> None:
    """Choose per-layer integer scales from calibration sequences (never the test split)."""
    from edge_shm.calibration.calibrate import MIN_SEQUENCES
    from edge_shm.calibration.calibrate import calibrate as run_calibration
    from edge_shm.data.library import read_library
    from edge_shm.data.splits import library_cycles
    from edge_shm.firmware_sim.codec import graph_inputs
    from edge_shm.outputs import Output, atomic_dir, owned, plan_outputs
    from edge_shm.runs import load_run

    if target not in ("loihi", "int8"):
        raise UserError(f"unknown calibration target {target!r}; choose loihi or int8")
    if sequences < MIN_SEQUENCES:
        raise UserError(f"--sequences must be at least {MIN_SEQUENCES}, got {sequences}")
    kind = "calibration folder"
    plan_outputs([Output(output, kind, True, owned(kind))], [run, library])
    model, config = load_run(run, "cpu")
    if not model.capabilities.spiking:
        raise UserError(
            f"model {model.name!r} is not a spiking network: calibration maps LIF layers to "
            "Loihi fixed point or int8 (use an int8 ONNX export for it)"
        )
    graph = model.lower()
    lib = read_library(library)
    train = lib.indices("train")
    if len(train) < MIN_SEQUENCES:
        raise UserError(
            f"{library}: {len(train)} train samples, calibration needs at least {MIN_SEQUENCES}"
        )
    if model.codec is None and tuple(lib.frames.shape[2:]) != (model.height, model.width):
        raise UserError(
            f"{library}: frames of {lib.frames.shape[2]}x{lib.frames.shape[3]} px, the model "
            f"takes {model.height}x{model.width} px"
        )
    pick = train[np.linspace(0, len(train) - 1, min(sequences, len(train))).round().astype(int)]
    with out.status(f"calibrating {model.name} for {target} on {len(pick)} sequences"):
        cycles = library_cycles(lib)
        inputs = graph_inputs(
            model.codec, lib.frames[pick], None if cycles is None else cycles[pick]
        )
        fixed = run_calibration(graph, inputs, target, run_sha=config.get("weights_sha256", ""))
    fixed.report["library"] = str(Path(library).resolve())
    fixed.report["samples"] = [int(i) for i in pick]
    with atomic_dir(output, kind) as tmp:
        fixed.save(tmp)
        (tmp / "calibration.md").write_text(calibration_markdown(fixed))
        _plot(fixed, tmp / "calibration.png")
    worst = max((r.get("flipped_fraction", 0.0) for r in fixed.report["layers"]), default=0.0)
    out.print(
        f"calibrated {model.name} for {target}: {len(fixed.layers)} layers, worst layer "
        f"{worst:.3%} of spikes flipped against float -> {output}/calibration.md"
    )


def calibration_markdown(fixed) -> str:
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


def _plot(fixed, path: Path) -> None:
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
