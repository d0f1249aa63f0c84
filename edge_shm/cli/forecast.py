"""``edge-shm forecast``: the on-site loop (frames in, forecasts and remaining life out)."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from edge_shm.console import console, out, progress_bar
from edge_shm.errors import UserError
from edge_shm.onsite.cycles import read_cycles_file
from edge_shm.onsite.forecasters import open_model as _open_model
from edge_shm.reports.escape import terminal

MAX_HORIZON = 64  # frames ahead; the bands are calibrated to a few
MAX_WINDOW = 1024  # frames per forecast
MAX_A_OFFSET_MM = 10_000.0  # crack length outside the view


def register(app: typer.Typer) -> None:
    app.command()(forecast)


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
    from edge_shm.onsite.intake import Intake
    from edge_shm.onsite.loop import ForecastLoop, LoopConfig
    from edge_shm.outputs import Output, owned, plan_outputs

    if (frames is None) == (watch is None):
        raise UserError("give exactly one of --frames SRC and --watch DIR")
    if watch is not None and not watch.is_dir():
        raise UserError(f"--watch {watch}: not a folder")
    _positive(horizon=horizon, critical_length=critical, max_frames=max_frames, window=window)
    _positive(pixel_mm=pixel_mm, cycles_per_frame=cycles_per_frame)
    _positive(stress_range_mpa=stress_range, plate_width_mm=plate_width)
    _at_most(horizon=(horizon, MAX_HORIZON), window=(window, MAX_WINDOW))
    if not (math.isfinite(a_offset) and abs(a_offset) <= MAX_A_OFFSET_MM):
        raise UserError(
            f"--a-offset-mm must be a length within +-{MAX_A_OFFSET_MM:g} mm, got {a_offset}"
        )
    inputs = [model, *(p for p in (frames, watch, profile, cycles_file, mask) if p is not None)]
    (output,) = plan_outputs([Output(output, KIND, True, owned(KIND))], inputs)
    for folder in (f for f in (frames, watch) if f is not None and f.is_dir()):
        if folder.resolve() in output.resolve().parents:
            raise UserError(f"{output}: inside the image folder {folder}; choose another output")
    meta, forecaster_for = _open_model(model, backend)
    n_in = window or meta.get("n_in")
    if n_in is None:
        raise UserError(f"{model}: its window is unknown; give --window N")
    if meta.get("codec") is not None and n_in != meta["codec"].n_in:
        raise UserError(f"--window {n_in}: this motion network reads {meta['codec'].n_in} frames")
    images = watch is not None or frames.is_dir()
    view = _camera_view(images and binarize == "auto", mouth, channel, crack, register, mask)
    shape = None if meta["shape"] is None else tuple(meta["shape"])
    intake = Intake(shape, roi, binarize, crack, camera=view)
    cycles_file = read_cycles_file(cycles_file) if cycles_file is not None else None
    named = (
        {}
        if cycles_file is None or cycles_file.names is None
        else dict(zip(cycles_file.names, cycles_file.cycles, strict=True))
    )
    order = cycles_file.order if named else None
    source = _source(frames, watch, sample, intake, max_frames, order) if frames else None
    if ruler:
        if pixel_mm is not None:
            raise UserError("give --pixel-mm or --ruler, not both")
        pixel_mm = _ruler_scale(frames, watch, intake)
    physics = source.physics if source is not None else {}
    if source is not None and len(source.arrivals) < n_in:
        raise UserError(
            f"{n_in} frames per forecast (--window) but the source has {len(source.arrivals)}"
        )
    cycles_at = None if cycles_file is None or named else list(cycles_file.cycles)
    if cycles_at is not None and source is not None:
        cycles_file.cycles_for([a.name for a in source.arrivals])  # one count per frame
    for arrival in source.arrivals if source is not None and named else []:
        arrival.cycles = named[arrival.name]
    px = pixel_mm or meta.get("pixel_mm") or physics.get("pixel_mm")
    if px is None:
        raise UserError("the pixel size is unknown; give --pixel-mm")
    if source is not None and source.arrivals and source.arrivals[0].frame is not None:
        view_mm = source.arrivals[0].frame.shape[1] * px  # a negative offset: a margin
        if a_offset < -view_mm:
            raise UserError(
                f"--a-offset-mm {a_offset:g}: more than the {view_mm:.3g} mm wide view; a "
                "negative offset only takes off a margin before the mouth"
            )
    cfg = LoopConfig(
        n_in=n_in,
        horizon=horizon,
        pixel_mm=px,
        critical_mm=critical,
        cycles_per_frame=cycles_per_frame,
        cycles_at=cycles_at or physics.get("cycles"),
        stress_range_mpa=stress_range or physics.get("stress_range_mpa"),
        width_mm=plate_width or physics.get("width_mm"),
        a_offset_mm=a_offset,
        binary=meta.get("binary", True),
        band=meta.get("band"),
    )
    info = {
        "model": meta["name"],
        "model_path": str(model),
        "backend": meta["backend"],
        "source": source.description if source is not None else f"watching {watch}/",
        "physics_source": physics.get("source"),
        "forecaster": meta["forecaster"],
    }
    loop = ForecastLoop(forecaster_for(n_in, horizon, cfg.binary), cfg, _energy(profile), info)
    loop.camera = intake.camera
    _run(loop, source, watch, intake, max_frames, output, serve, host, named)


def _camera_view(images: bool, mouth, channel, crack, register, mask):
    """The camera intake for image folders (the classic one for stacks, libraries and the
    explicit ``--binarize`` choices); None when not used."""
    from edge_shm.onsite.camera import CameraView

    if not images:
        if mouth != "left" or channel != "luminance" or mask is not None:
            raise UserError("--mouth, --channel and --mask apply to image folders (with "
                            "--binarize auto)")  # fmt: skip
        return None
    m = None
    if mask is not None:
        from edge_shm.data.frames import read_image

        img = read_image(mask)
        m = (img if img.ndim == 2 else img[0]) > 0.5
    return CameraView(mouth, channel, crack, register, m)


def _ruler_scale(frames, watch, intake) -> float:
    """Model-frame pixel size, mm, from a ruler in the first image; said on the console and
    in the report."""
    from edge_shm.data.frames import IMAGE_SUFFIXES, image_files, natural_key, read_image
    from edge_shm.onsite.ruler import read_ruler

    if frames is not None:
        first = image_files(frames, sidecars=True)[0]
    else:
        images = [f for f in watch.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES]
        first = min(images, key=lambda f: natural_key(f.name), default=None)
    if first is None:
        raise UserError(f"--ruler: no image in {watch} yet to read the ruler from")
    img = read_image(first)
    img = img if img.ndim == 2 else img[0]
    scale = read_ruler(img)
    note = (f"ruler: {len(scale.ticks)} ticks of 1 mm, {scale.tick_px:.2f} px apart in "
            f"{first.name}: {scale.pixel_mm:.5f} mm per image pixel")  # fmt: skip
    console.print(terminal(note))
    if intake.camera is not None:
        intake.camera.said.append(note)
    return scale.pixel_mm * intake.scale(img.shape)


def _at_most(**values) -> None:
    for name, (v, most) in values.items():
        if v is not None and v > most:
            raise UserError(f"--{name} must be at most {most}, got {v}")


def _positive(**values) -> None:
    for name, v in values.items():
        if v is not None and not (math.isfinite(v) and v > 0):
            raise UserError(f"--{name.replace('_', '-')} must be positive, got {v}")


def _source(frames: Path, watch, sample, intake, max_frames, order=None):
    from edge_shm.data.frames import load_npy
    from edge_shm.data.library import is_library
    from edge_shm.onsite import sources as S

    if not frames.exists():
        raise UserError(f"{frames}: no such file or folder")
    if sample is not None and not is_library(frames):
        raise UserError(f"--sample is for a library (.h5), not {frames}")
    if is_library(frames):
        if sample is None:
            from edge_shm.data.library import read_library

            test = read_library(frames, load_physics=False).indices("test")
            sample = int(test[0]) if len(test) else 0
        src = S.library_source(frames, sample, intake)
    elif frames.is_dir():
        src = S.folder_source(frames, intake, order)
    elif frames.suffix == ".npy":
        src = S.stack_source(load_npy(frames), intake, frames.name)
    else:
        raise UserError(f"{frames}: not an image folder, a .npy stack or a library")
    if max_frames is not None:
        src.arrivals = src.arrivals[:max_frames]
    return src


def _energy(profile: Path | None) -> dict | None:
    if profile is None:
        return None
    from edge_shm.jsonio import read_json

    path = profile / "profile.json" if profile.is_dir() else profile
    if not path.is_file():
        raise UserError(f"--profile {profile}: no profile.json (edge-shm profile ... -o DIR)")
    energy = read_json(path).get("energy") or {}
    if not energy.get("available"):
        raise UserError(f"--profile {profile}: the profile has no energy figures for its device")
    return {"device": energy["device"], "per_forecast_uJ": energy["total_pJ"] * 1e-6}


FIGURES_EVERY = 10  # frames between refreshes of forecast.png and forecast.gif while running


def _run(loop, source, watch, intake, max_frames, output, serve, host, named=None) -> None:
    """Frames through the loop, the outputs written where the user looks as they go: each
    record appended and flushed, summary.json and REPORT.md replaced after every frame and the
    figures every :data:`FIGURES_EVERY` frames, all of them once more at the end, whatever ends
    the run (the frames, --max-frames, a signal, the watched folder gone)."""
    from edge_shm import signals
    from edge_shm.onsite import outputs as O
    from edge_shm.onsite.sources import WatchEnded
    from edge_shm.onsite.sources import watch as watch_folder

    dashboard = None
    if serve is not None:
        from edge_shm.onsite.dashboard import Dashboard

        dashboard = Dashboard(loop, serve, host)
        console.print(f"dashboard: {dashboard.url} (read-only)")
    stopped, interrupt = "end of the frames", None
    folder = _live_folder(output)
    try:
        with (folder / O.JSONL).open("a", encoding="utf-8") as jl:
            said = intake.camera.said if intake.camera is not None else []
            told = len(said)

            def take(arrival) -> dict:
                nonlocal told
                rec = loop.push(arrival)
                for line in said[told:]:  # what the camera intake decided (mouth, channel)
                    console.print(terminal(line))
                told = len(said)
                loop.info["intake"] = list(said)
                jl.write(O.record_line(rec) + "\n")
                jl.flush()
                n = len(loop.records)
                O.write_all(loop, folder, "still running", figures=n % FIGURES_EVERY == 0)
                return rec

            try:
                if source is not None:
                    with progress_bar("forecast", len(source.arrivals)) as advance:
                        for arrival in source:
                            advance(1, _line(take(arrival)))
                else:
                    stopped = "--max-frames"
                    for arrival in watch_folder(watch, intake, max_frames):
                        if named:  # a cycles file that names its frames: by name
                            arrival.cycles = named.get(arrival.name)
                        rec = take(arrival)
                        console.print(terminal(f"frame {rec['frame']} {rec['name']}: {_line(rec)}"))
            except KeyboardInterrupt as e:
                interrupt = e
                stopped = signals.NAMES.get(signals.stop_signal(e), "a signal")
            except WatchEnded as e:
                stopped = str(e)
    finally:
        if dashboard is not None:
            dashboard.close()
        summ = O.write_all(loop, folder, stopped)
    out.print(
        f"forecast: {summ['frames']} frames, {len(summ['skipped'])} skipped, stopped by "
        f"{stopped}; warning level {(summ['last'] or {}).get('warning', 'unknown')}; "
        f"report {output / 'REPORT.md'}"
    )
    if interrupt is not None:
        raise interrupt  # one line and 128 + the signal, as every command (outputs written)


def _live_folder(output: Path) -> Path:
    """The forecast folder, made now (an earlier forecast folder there is replaced: the
    output check allowed only one that edge-shm wrote), with its record."""
    import shutil

    from edge_shm.outputs import fix_mode, record_written

    if output.exists():
        shutil.rmtree(output)
    output.mkdir()
    fix_mode(output, folder=True)
    record_written(output, ["forecast.jsonl"], KIND)
    return output


KIND = "forecast folder"


def _line(rec: dict) -> str:
    if rec["status"] != "ok":
        return f"skipped ({rec['error']})"
    obs, ftc = rec["observed"], rec["frames_to_critical"]
    if not obs.get("crack"):
        return "no crack"
    g = rec["growth_mm_per_frame"]
    trend = ftc["trend"]
    return (
        f"a {obs['a_mm']:.2f} mm"
        + ("" if g is None else f", {g:+.2f} mm/frame")
        + ("" if trend is None else f", critical in {trend:.1f} frames")
        + f" ({rec['warning']})"
    )
