"""``edge-shm calibrate``: a trained spiking run -> integer (Loihi fixed point or int8) graph."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_shm.console import stdout


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
    from edge_shm.app.calibrate import CalibrationRequest, calibrate_run

    res = calibrate_run(CalibrationRequest(run, library, target, output, sequences), stdout.status)
    stdout.print(
        f"calibrated {res.model} for {target}: {len(res.fixed.layers)} layers, worst "
        f"layer {res.worst_flipped:.3%} of spikes flipped against float -> "
        f"{output}/calibration.md"
    )
