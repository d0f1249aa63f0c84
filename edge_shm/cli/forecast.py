"""``edge-shm forecast``: the on-site loop (frames in, forecasts and remaining life out)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import typer

from edge_shm.console import console, out, progress_bar
from edge_shm.errors import UserError
from edge_shm.reports.escape import terminal

BACKENDS = ("torch", "onnx", "nir", "lava", "int")
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
    if not (math.isfinite(a_offset) and 0 <= a_offset <= MAX_A_OFFSET_MM):
        raise UserError(
            f"--a-offset-mm must be between 0 and {MAX_A_OFFSET_MM:g} mm, got {a_offset}"
        )
    inputs = [model, *(p for p in (frames, watch, profile, cycles_file) if p is not None)]
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
    intake = Intake(None if meta["shape"] is None else tuple(meta["shape"]), roi, binarize, crack)
    source = _source(frames, watch, sample, intake, max_frames) if frames is not None else None
    physics = source.physics if source is not None else {}
    if source is not None and len(source.arrivals) < n_in:
        raise UserError(
            f"{n_in} frames per forecast (--window) but the source has {len(source.arrivals)}"
        )
    cycles_at = _cycles_file(cycles_file)
    if cycles_at is not None and source is not None and len(cycles_at) < len(source.arrivals):
        raise UserError(
            f"{cycles_file}: {len(cycles_at)} cycle counts for {len(source.arrivals)} frames; "
            "give one per frame"
        )
    px = pixel_mm or meta.get("pixel_mm") or physics.get("pixel_mm")
    if px is None:
        raise UserError("the pixel size is unknown; give --pixel-mm")
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
    _run(loop, source, watch, intake, max_frames, output, serve, host)


def _cycles_file(path: Path | None) -> list[float] | None:
    if path is None:
        return None
    from edge_shm.jsonio import read_json

    data = read_json(path)
    cycles = data.get("cycles") if isinstance(data, dict) else data
    try:
        values = [float(c) for c in cycles]
    except (TypeError, ValueError):
        values = []
    if not values or not all(math.isfinite(c) and c >= 0 for c in values):
        raise UserError(f'{path}: expected {{"cycles": [non-negative numbers, one per frame]}}')
    if any(b < a for a, b in zip(values, values[1:], strict=False)):
        raise UserError(f"{path}: the cycle counter decreases")
    return values


def _at_most(**values) -> None:
    for name, (v, most) in values.items():
        if v is not None and v > most:
            raise UserError(f"--{name} must be at most {most}, got {v}")


def _positive(**values) -> None:
    for name, v in values.items():
        if v is not None and not (math.isfinite(v) and v > 0):
            raise UserError(f"--{name.replace('_', '-')} must be positive, got {v}")


def _open_model(path: Path, backend: str | None):
    """(meta, forecaster_for(n_in, horizon, binary)) for a run or an exported artefact."""
    from edge_shm.training.checkpoint import is_run

    if backend is not None and backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if is_run(path):
        if backend not in (None, "torch"):
            raise UserError(
                f"{path} is a run: the {backend} backend runs an exported artefact; "
                f"export it first (edge-shm export {path} --target ...)"
            )
        from edge_shm.evaluation.forecast import TorchStepper
        from edge_shm.training.checkpoint import load_run

        model, config = load_run(path, "cpu")
        stepper = TorchStepper(model)
        meta = _run_meta(config) | {"name": config["model"], "backend": "torch"}
        meta["band"] = _band(path)
        return _streaming(meta, stepper, model.codec)
    if backend == "torch":
        raise UserError(f"{path}: the torch backend needs a run folder")
    from edge_shm.firmware_sim.artefacts import (
        artefact_codec,
        artefact_kind,
        choose_backend,
        open_stepper,
    )

    kind, art = artefact_kind(path)
    backend = choose_backend(kind, backend)
    meta = _artefact_meta(path, art) | {"backend": backend}
    codec = artefact_codec(kind, art)
    if codec is not None:
        meta["n_in"] = codec.n_in
    if backend == "lava":
        from edge_shm.firmware_sim.bundle import read_bundle
        from edge_shm.firmware_sim.lava.host import run_bundle
        from edge_shm.onsite.streaming import WindowRerunForecaster

        shape = tuple(read_bundle(art).manifest.frame_shape)
        meta["shape"] = None if codec is not None else shape
        meta["forecaster"] = "window re-run (Lava runs whole sequences)"
        meta["codec"] = codec

        def rerun(windows):
            return np.stack([r.prediction[-1] for r in run_bundle(art, windows)])

        return meta, lambda n, h, b: WindowRerunForecaster(rerun, n, h, b, meta["shape"], codec)
    if kind == "calibration":
        from edge_shm.calibration.fixed import FixedGraph
        from edge_shm.firmware_sim.int_engine import EngineStepper, IntEngine

        if backend != "int":
            raise UserError("forecast runs a calibration on the int backend (lava-fixed: export)")
        stepper = EngineStepper(IntEngine(FixedGraph.load(art)))
    else:
        stepper = open_stepper(kind, art, backend)
    return _streaming(meta, stepper, codec)


def _streaming(meta: dict, stepper, codec=None):
    from edge_shm.firmware_sim.codec import CodecStepper
    from edge_shm.onsite.streaming import StreamingForecaster

    if codec is not None:
        stepper = CodecStepper(stepper, codec)
    shape = None if stepper.frame_shape is None else tuple(stepper.frame_shape)
    meta = meta | {"shape": shape, "forecaster": "streaming, state carried", "codec": codec}
    return meta, lambda n, h, b: StreamingForecaster(stepper, n, h, b)


def _band(run: Path) -> dict | None:
    """The run's forecast band: band.json (motion), else its evaluation's 90th percentiles."""
    from edge_shm.onsite.band import evaluation_band, read_band

    return read_band(run) or evaluation_band(run)


def _run_meta(config: dict) -> dict:
    window = config.get("window") or [None]
    return {
        "n_in": window[0],
        "pixel_mm": config.get("pixel_mm"),
        "binary": config.get("library_kind", "fcg") != "turing",
    }


def _artefact_meta(path: Path, art: Path) -> dict:
    """What the export folder says of its run (window, pixel size), when it can be read."""
    from edge_shm.jsonio import read_json

    meta = {"name": art.name}
    for folder in (path if path.is_dir() else path.parent, art.parent):
        exp = folder / "export.json"
        if exp.is_file():
            try:
                report = read_json(exp)
            except UserError:
                continue
            meta["name"] = report.get("model", meta["name"])
            cfg = Path(str(report.get("run", ""))) / "config.json"
            if cfg.is_file():
                try:
                    meta |= _run_meta(read_json(cfg))
                    meta["band"] = _band(cfg.parent)
                except UserError:
                    pass
            break
    return meta


def _source(frames: Path, watch, sample, intake, max_frames):
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
        src = S.folder_source(frames, intake)
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


def _run(loop, source, watch, intake, max_frames, output, serve, host) -> None:
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

            def take(arrival) -> dict:
                rec = loop.push(arrival)
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
