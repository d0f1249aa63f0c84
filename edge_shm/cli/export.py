"""``edge-shm export`` (ONNX, NIR, Lava bundle; verified against torch), ``edge-shm simulate``."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_shm.console import stdout


def register(app: typer.Typer) -> None:
    app.command(name="export")(export_cmd)
    app.command()(simulate)


def _log(text: str) -> None:
    stdout.print(text, soft_wrap=True)


def export_cmd(
    run: Path = typer.Argument(..., help="Run directory (weights.safetensors + config.json)."),
    target: str = typer.Option(..., "--target", "-t", help="onnx, nir or lava."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder."),
    verify: bool = typer.Option(True, help="Run the artefact on held-out frames vs torch."),
    frames: Path = typer.Option(None, help="Held-out frames when the run's library is missing: "
                                ".npy, image folder, or a library .h5 (its test split)."),
    fixed_point: Path = typer.Option(None, "--fixed-point", help="Calibration folder (edge-shm "
                                     "calibrate --target loihi): a Lava fixed_pt bundle."),
    int8: Path = typer.Option(
        None, "--int8", help="onnx: also model.int8.onnx (QDQ), calibrated on this library."
    ),
    consumer: str = typer.Option("generic", "--for", help="nir: the framework that will load "
                                 "the file (norse, snntorch, sinabs, generic); its parameters "
                                 "are written so that it computes this model's steps, or refused."),
) -> None:  # fmt: skip
    """Export a trained run: ONNX step graph, NIR graph or Lava bundle; verified by default."""
    from edge_shm.app.export import ExportRequest, export_run

    request = ExportRequest(run, target, output, verify, frames, consumer, int8, fixed_point)
    result = export_run(request, note=_log)
    ver = "" if result.verified else " (not verified: --no-verify)"
    _log(f"exported {result.model} -> {output}: {result.artefact}{ver}")


def simulate(
    artefact: Path = typer.Argument(
        ..., help="A .onnx file, a .nir file, a Lava bundle or a calibration folder."
    ),
    frames: Path = typer.Option(..., help="Frames: .npy (N,T,H,W) or (T,H,W), an image folder, "
                                "or a library (its test split)."),
    backend: str = typer.Option(
        None, help="onnx, lava, nir; int or lava-fixed for a calibration (default: by artefact)."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder."),
) -> None:  # fmt: skip
    """Run an exported artefact on a frame sequence; write forecasts (.npy and PNG)."""
    from edge_shm.app.export import SimulateRequest, simulate_run

    r = simulate_run(SimulateRequest(artefact, frames, output, backend))
    stdout.print(
        f"{r.backend}: {r.sequences} sequence(s) x {r.frames} frames in {r.seconds:.2f} s "
        f"-> {output}/predictions.npy, predictions.png"
    )
