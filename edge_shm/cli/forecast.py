"""``edge-shm forecast``: the on-site loop (frames in, forecasts and remaining life out)."""

from __future__ import annotations

from pathlib import Path

import typer

from edge_shm.console import progress_bar, stderr, stdout
from edge_shm.reports.escape import terminal


def register(app: typer.Typer) -> None:
    app.command()(forecast)


def say(line: str) -> None:
    """A line of news on stderr: names inert, one line however narrow the terminal."""
    stderr.print(terminal(line), soft_wrap=True)


def forecast(
    model: Path = typer.Argument(..., help="A run folder or an exported artefact."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder."),
    frames: Path = typer.Option(
        None, "--frames", help="An image folder, a .npy (T, H, W) stack or a library .h5."
    ),
    sample: int = typer.Option(None, help="Library sample (default: its first test sample)."),
    watch: Path = typer.Option(None, "--watch", help="Process images as they are written here."),
    max_frames: int = typer.Option(None, "--max-frames", help="Stop after this many frames."),
    horizon: int = typer.Option(4, help="Forecasts per frame: 1..N frames ahead."),
    critical: float = typer.Option(8.0, "--critical-length", help="Critical crack length a, mm."),
    backend: str = typer.Option(None, help="torch (runs), onnx, nir, lava, int (artefacts)."),
    window: int = typer.Option(None, help="Frames per forecast (default: the run's window)."),
    roi: str = typer.Option("none", help="none, center, crop:ROW,COL or resize."),
    binarize: str = typer.Option("auto", help="auto, otsu, a threshold in (0, 1), or none."),
    crack: str = typer.Option("bright", help="bright (as the libraries) or dark."),
    pixel_mm: float = typer.Option(None, "--pixel-mm", help="Model-frame pixel size, mm."),
    cycles_per_frame: float = typer.Option(None, "--cycles-per-frame", help="Load cycles."),
    frame_interval: float = typer.Option(
        None, "--frame-interval", help="Seconds between frames: time to critical in hours."
    ),
    cycles_file: Path = typer.Option(
        None, "--cycles-file", help='JSON {"cycles": [...]}: the counter at each frame.'
    ),
    stress_range: float = typer.Option(None, "--stress-range-mpa", help="Paris fit, MPa."),
    plate_width: float = typer.Option(None, "--plate-width-mm", help="SENT width W, mm."),
    a_offset: float = typer.Option(0.0, "--a-offset-mm", help="Crack length left of the view."),
    profile: Path = typer.Option(None, "--profile", help="A profile folder: energy/forecast."),
    serve: int = typer.Option(None, "--serve", help="Serve the live dashboard on this port."),
    host: str = typer.Option("127.0.0.1", help="Dashboard address (localhost by default)."),
    mouth: str = typer.Option(
        "left",
        help="Image side the crack grows from: left, right, "
        "top, bottom or auto (the side it touches; said).",
    ),
    channel: str = typer.Option("luminance", help="Colour frames: luminance, r, g, b or auto."),
    register: bool = typer.Option(
        True, "--register/--no-register", help="Align each image to the first (camera knocks)."
    ),
    mask: Path = typer.Option(
        None, "--mask", help="Image, white where the view is never the crack (notch, ruler, holes)."
    ),
    ruler: bool = typer.Option(
        False,
        "--ruler",
        help="Read the pixel size from a ruler of 1 mm "
        "ticks in the first image (said in the output).",
    ),
) -> None:
    """Forecast a crack frame by frame, with remaining life; optional live dashboard."""
    from edge_shm.app.forecast import ForecastRequest, forecast_run

    request = ForecastRequest(
        model=model,
        output=output,
        frames=frames,
        sample=sample,
        watch=watch,
        max_frames=max_frames,
        horizon=horizon,
        critical=critical,
        backend=backend,
        window=window,
        roi=roi,
        binarize=binarize,
        crack=crack,
        pixel_mm=pixel_mm,
        cycles_per_frame=cycles_per_frame,
        cycles_file=cycles_file,
        frame_interval_s=frame_interval,
        stress_range=stress_range,
        plate_width=plate_width,
        a_offset=a_offset,
        profile=profile,
        serve=serve,
        host=host,
        mouth=mouth,
        channel=channel,
        register=register,
        mask=mask,
        ruler=ruler,
    )
    res = forecast_run(request, progress_bar, say)
    stdout.print(
        f"forecast: {res.frames} frames, {res.skipped} skipped, stopped by {res.stopped_by}; "
        f"warning level {res.warning}; report {output / 'REPORT.md'}"
    )
    if res.interrupt is not None:
        raise res.interrupt  # one line and 128 + the signal, as every command (outputs written)
