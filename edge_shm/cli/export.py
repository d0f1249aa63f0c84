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
    target: str = typer.Option(..., "--target", "-t", help="onnx, nir, lava or c."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder."),
    verify: bool = typer.Option(True, help="Run the artefact on held-out frames vs torch."),
    frames: Path = typer.Option(None, help="Held-out frames when the run's library is missing: "
                                ".npy, image folder, or a library .h5 (its test split)."),
    fixed_point: Path = typer.Option(None, "--fixed-point", help="Calibration folder (edge-shm "
                                     "calibrate): lava: a Lava fixed_pt bundle (loihi); c: the "
                                     "C firmware's network (loihi or int8)."),
    device: str = typer.Option(None, "--device", help="c: the device profile whose RAM and "
                               "flash the Cortex-M4 linker script gets (default mcu-512k)."),
    int8: Path = typer.Option(
        None, "--int8", help="onnx: also model.int8.onnx (QDQ), calibrated on this library."
    ),
    consumer: str = typer.Option("generic", "--for", help="nir: the framework that will load "
                                 "the file (norse, snntorch, sinabs, generic); its parameters "
                                 "are written so that it computes this model's steps, or refused."),
) -> None:  # fmt: skip
    """Export a trained run: ONNX step graph, NIR graph, Lava bundle or C firmware; verified
    by default."""
    from edge_shm.app.export import ExportRequest, export_run

    request = ExportRequest(
        run, target, output, verify, frames, consumer, int8, fixed_point, device
    )
    result = export_run(request, note=_log)
    ver = "" if result.verified else " (not verified: --no-verify)"
    _log(f"exported {result.model} -> {output}: {result.artefact}{ver}")


def simulate(
    artefact: Path = typer.Argument(
        ..., help="A .onnx file, a .nir file, a Lava bundle, a calibration or a C firmware "
        "folder."
    ),
    frames: Path = typer.Option(..., help="Frames: .npy (N,T,H,W) or (T,H,W), an image folder, "
                                "or a library (its test split)."),
    backend: str = typer.Option(
        None, help="onnx, lava, nir; int or lava-fixed for a calibration; c (this machine), "
        "cortex-m4 (QEMU) or int for a C firmware (default: by artefact)."
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
    for line in _measured_lines(r.measured):
        stdout.print(line, soft_wrap=True)


def _measured_lines(m: dict) -> list[str]:
    """What the C firmware's run measured, one line each, with units."""
    lines = []
    if "host_step_ms" in m:
        lines.append(f"C engine step on this machine: {m['host_step_ms']['mean']:.3f} ms (mean)")
    if "instructions_per_forecast" in m:
        n, b = m["instructions_per_forecast"], m["elf_bytes"]
        budget = m["device"]
        lines.append(
            f"Cortex-M4: {n['mean']:,.0f} instructions per step, one frame in and one "
            f"forecast out (min {n['min']:,}, max {n['max']:,})"
            + (
                f"; {m['ms_per_forecast_at_clock']:.2f} ms per step at {m['clock_hz'] / 1e6:g} MHz "
                "(one instruction per cycle)"
                if "clock_hz" in m
                else ""
            )
        )
        lines.append(
            f"ELF: RAM {b['ram']:,} B (.data {b['data']:,} + .bss {b['bss']:,} + stack "
            f"{b['stack']:,}) of {budget['ram_B']:,} B; flash {b['flash']:,} B (.text "
            f"{b['text']:,} + .data {b['data']:,}) of {budget['flash_B']:,} B ({budget['name']})"
        )
    return lines
